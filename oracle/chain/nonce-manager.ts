import { isError } from "ethers";

export type NonceManager = {
  /**
   * Runs `use` with the account's next nonce, one caller at a time, and moves the counter on only
   * when `use` succeeds: a broadcast that failed leaves no gap. When the node says the nonce is
   * wrong (too low: used by a transaction we did not count, e.g. one sent before a restart;
   * too high: an earlier one was dropped) the counter is read again from the node and `use` is
   * tried once more.
   */
  withNext<T>(use: (nonce: number) => Promise<T>): Promise<T>;
  /** Forget the counter: the next `withNext` reads the node's pending count first. */
  resync(): void;
};

export type CreateNonceManagerParameters = {
  /** The node's count of the account's transactions, pending included. */
  pendingCount: () => Promise<number>;
  /** Tries of `use` for one nonce when the node refuses it as wrong. Default 3. */
  attempts?: number | undefined;
};

/** The node's words for a nonce it will not take, across geth, Hardhat/EDR, anvil and Erigon. */
export function isNonceError(error: unknown): boolean {
  if (isError(error, "NONCE_EXPIRED")) return true;
  const message = error instanceof Error ? error.message : String(error);
  return /nonce too (low|high)|nonce has already been used|invalid nonce|nonce .*expected|already known|same hash was already imported/i.test(
    message,
  );
}

/** A local nonce counter: no `eth_getTransactionCount` per transaction, so sends can overlap. */
export function createNonceManager({ pendingCount, attempts = 3 }: CreateNonceManagerParameters): NonceManager {
  let next: number | undefined;
  let queue: Promise<unknown> = Promise.resolve();

  async function run<T>(use: (nonce: number) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      next ??= await pendingCount();
      const nonce = next;
      try {
        const result = await use(nonce);
        // Only the counter this call read moves on: a resync meanwhile already reset it.
        if (next === nonce) next = nonce + 1;
        return result;
      } catch (error) {
        // Whatever failed, the node's count is the truth now (a broadcast that timed out may
        // still have reached it).
        next = undefined;
        if (!isNonceError(error) || attempt >= attempts) throw error;
      }
    }
  }

  return {
    withNext(use) {
      const result = queue.then(() => run(use));
      queue = result.catch(() => undefined);
      return result;
    },
    resync() {
      next = undefined;
    },
  };
}
