/**
 * One load per model id, shared by every caller that asks while it runs (a model is fetched,
 * checked and opened once, however many jobs need it); a failed load is forgotten, so the next
 * call tries again. `release` frees what `close` finds loaded.
 */
export type LoadOnce<T, A extends unknown[]> = {
  get(modelId: bigint, ...args: A): Promise<T>;
  close(): Promise<void>;
};

export function loadOnce<T, A extends unknown[] = []>(
  load: (modelId: bigint, ...args: A) => Promise<T>,
  release: (value: T) => Promise<void> | void = () => {},
): LoadOnce<T, A> {
  const loading = new Map<bigint, Promise<T>>();
  return {
    get(modelId, ...args) {
      let entry = loading.get(modelId);
      if (!entry) {
        entry = load(modelId, ...args);
        loading.set(modelId, entry);
        entry.catch(() => loading.delete(modelId));
      }
      return entry;
    },
    async close() {
      const settled = await Promise.allSettled(loading.values());
      for (const result of settled) if (result.status === "fulfilled") await release(result.value);
      loading.clear();
    },
  };
}
