import type { JsonRpcProvider } from "ethers";
import { withRpcTimeout } from "./rpc-timeout.ts";

export type Fees = { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint };

export type FeeCache = {
  /** EIP-1559 fees for the next block: fetched once per block seen, shared by every send in it. */
  get(): Promise<Fees>;
};

export type CreateFeeCacheParameters = {
  provider: JsonRpcProvider;
  /**
   * The newest block the receipt watcher saw and when, if it is watching: fees read at that
   * block are reused until it sees another. Without a recent head, fees are read again.
   */
  head: () => { number: number; seenAt: number } | undefined;
  /** How old a head may be and still count as current (the watcher polls more often). */
  freshMs: number;
  rpcTimeoutMs: number;
};

/** Used when the node has no `eth_maxPriorityFeePerGas` (1 gwei, what most nodes suggest). */
const DEFAULT_PRIORITY_FEE = 1_000_000_000n;

/**
 * Fee data cached per block. ethers' `getFeeData` makes three calls per transaction (latest
 * block, gas price, priority fee); here two calls serve every transaction of a block. The max
 * fee is twice the base fee plus the tip, as ethers sets it: room for six full blocks of rising
 * base fee before a transaction stops being includable.
 */
export function createFeeCache({ provider, head, freshMs, rpcTimeoutMs }: CreateFeeCacheParameters): FeeCache {
  let cached: { block: number; pending: boolean; fees: Promise<Fees> } | undefined;

  async function fetchFees(): Promise<{ block: number; fees: Fees }> {
    const [block, tip] = await Promise.all([
      withRpcTimeout(
        provider.send("eth_getBlockByNumber", ["latest", false]) as Promise<{ number: string; baseFeePerGas?: string }>,
        rpcTimeoutMs,
        "reading the latest block for fees",
      ),
      withRpcTimeout(
        provider.send("eth_maxPriorityFeePerGas", []) as Promise<string>,
        rpcTimeoutMs,
        "reading the priority fee",
      ).then(BigInt, () => DEFAULT_PRIORITY_FEE),
    ]);
    const baseFee = BigInt(block.baseFeePerGas ?? 0);
    return { block: Number(block.number), fees: { maxFeePerGas: baseFee * 2n + tip, maxPriorityFeePerGas: tip } };
  }

  return {
    async get() {
      const seen = head();
      const current = seen !== undefined && Date.now() - seen.seenAt <= freshMs ? seen.number : undefined;
      // A read under way serves everyone who asks meanwhile.
      if (cached && (cached.pending || (current !== undefined && cached.block >= current))) return cached.fees;
      const fetching = fetchFees();
      const entry = { block: -1, pending: true, fees: fetching.then(({ fees }) => fees) };
      // Those who share the read see its failure; unshared, a failure must not end the process as
      // an unhandled rejection (a node refusing connections once crashed the daemon so).
      entry.fees.catch(() => undefined);
      cached = entry;
      try {
        const { block } = await fetching;
        entry.block = block;
        entry.pending = false;
      } catch (error) {
        if (cached === entry) cached = undefined;
        throw error;
      }
      return entry.fees;
    },
  };
}
