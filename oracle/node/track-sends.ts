import type { TxSender } from "../chain/tx-sender.ts";

/** How many sends are under way and since when the oldest, for `/health`. */
export type SendsInFlight = { count: number; oldestStartedAt: number | undefined };

export type TrackedTxSender = TxSender & { inFlight(): SendsInFlight };

/**
 * `sender`, counting the sends under way (simulated, signed, waiting to be mined): a send that
 * never ends is what a stuck sender looks like from outside, whichever sender it is.
 */
export function trackSends(sender: TxSender, now: () => number = Date.now): TrackedTxSender {
  const started = new Map<symbol, number>();
  return {
    address: sender.address,
    async send(parameters) {
      const key = Symbol(parameters.action);
      started.set(key, now());
      try {
        return await sender.send(parameters);
      } finally {
        started.delete(key);
      }
    },
    inFlight() {
      // Insertion order: the first entry is the oldest send still under way.
      const oldest = started.values().next();
      return { count: started.size, oldestStartedAt: oldest.done ? undefined : oldest.value };
    },
  };
}
