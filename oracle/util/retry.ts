/** Waits `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export type WithRetryParameters = {
  /** Total tries, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  signal?: AbortSignal | undefined;
  /** Whether this error is worth another try. Default: every error but an abort. */
  shouldRetry?: ((error: unknown) => boolean) | undefined;
  onRetry?: ((error: unknown, attempt: number, delayMs: number) => void) | undefined;
  /** A number in [0, 1), injectable so tests are deterministic. Default Math.random. */
  random?: (() => number) | undefined;
};

/**
 * The delay before retry number `attempt` (1 = after the first failure): exponential backoff
 * with full jitter, a uniform draw in [0, min(max, base * 2^(attempt-1))), so that many clients
 * failing together do not retry together.
 */
export function backoffDelay(
  attempt: number,
  { baseDelayMs, maxDelayMs, random = Math.random }: Pick<WithRetryParameters, "baseDelayMs" | "maxDelayMs" | "random">,
): number {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}

/** Calls `fn` until it succeeds, `attempts` run out, `shouldRetry` says no, or `signal` aborts. */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  {
    attempts,
    baseDelayMs,
    maxDelayMs,
    signal,
    shouldRetry = (error) => !isAbort(error),
    onRetry,
    random = Math.random,
  }: WithRetryParameters,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    try {
      return await fn(attempt);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (attempt >= attempts || !shouldRetry(error)) throw error;
      const delayMs = backoffDelay(attempt, { baseDelayMs, maxDelayMs, random });
      onRetry?.(error, attempt, delayMs);
      await sleep(delayMs, signal);
    }
  }
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && error.name === "AbortError";
}
