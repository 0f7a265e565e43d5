import type { Provider } from "ethers";
import type { CursorBlock, CursorBlocks } from "../store/cursor-blocks.ts";
import type { TxSender } from "./tx-sender.ts";

/** Blocks dropped from the chain since they were kept. */
export type Reorg = {
  /** The newest kept block still on the chain: everything above it may have changed. */
  forkBlock: bigint;
  /**
   * Milliseconds since the epoch: the last time the chain's head was at or below the fork
   * block. A transaction mined above the fork was seen after it, so only local changes since
   * then can rest on a dropped block.
   */
  changedSince: number;
  /** No kept block is on the chain: the reorg is deeper than the kept window (best effort). */
  deep: boolean;
};

/**
 * Compares the kept heads (newest first) with the chain: undefined when the newest is still
 * there, else the fork point. A kept block above the current head counts as dropped (the
 * chain got shorter, as `evm_revert` makes it). One `hashAt` call when nothing changed.
 */
export async function findFork(
  kept: readonly CursorBlock[],
  head: { number: bigint; hash: string },
  hashAt: (number: bigint) => Promise<string | undefined>,
): Promise<Reorg | undefined> {
  for (const [i, block] of kept.entries()) {
    const actual =
      block.number > head.number ? undefined : block.number === head.number ? head.hash : await hashAt(block.number);
    if (actual !== block.hash) continue;
    if (i === 0) return undefined;
    return { forkBlock: block.number, changedSince: latestHeadTime(kept.slice(i)) ?? 0, deep: false };
  }
  if (kept.length === 0) return undefined;
  const oldest = kept[kept.length - 1]!;
  return { forkBlock: oldest.number - 1n, changedSince: earliestHeadTime(kept) ?? 0, deep: true };
}

function latestHeadTime(blocks: readonly CursorBlock[]): number | undefined {
  const times = blocks.flatMap((block) => (block.headSeenAt === undefined ? [] : [block.headSeenAt]));
  return times.length === 0 ? undefined : Math.max(...times);
}

function earliestHeadTime(blocks: readonly CursorBlock[]): number | undefined {
  const times = blocks.flatMap((block) => (block.headSeenAt === undefined ? [] : [block.headSeenAt]));
  return times.length === 0 ? undefined : Math.min(...times);
}

export type ReadHeadParameters = {
  provider: Provider;
  blocks: CursorBlocks;
  key: string;
};

export type HeadReading = {
  head: { number: bigint; hash: string; timestamp: bigint };
  /** Taken before the head was asked for (see Reorg.changedSince). */
  seenAt: number;
  reorg: Reorg | undefined;
};

/**
 * Reads the chain's head and compares the kept heads with the chain. The caller rewinds what
 * rests on dropped blocks, then keeps this head with {@link keepHead}.
 */
export async function readHead({ provider, blocks, key }: ReadHeadParameters): Promise<HeadReading> {
  const seenAt = Date.now();
  const block = await provider.getBlock("latest");
  if (!block?.hash) throw new Error("The node returned no latest block.");
  const head = { number: BigInt(block.number), hash: block.hash, timestamp: BigInt(block.timestamp) };
  const reorg = await findFork(blocks.list(key), head, async (number) => {
    const at = await provider.getBlock(number);
    return at?.hash ?? undefined;
  });
  return { head, seenAt, reorg };
}

/** Blocks of heads kept beyond the confirmations: reorgs deeper than this are handled best effort. */
export const KEPT_HEAD_BLOCKS = 128;

/** Keeps the head just read, and forgets heads too old to matter. */
export function keepHead(blocks: CursorBlocks, key: string, reading: HeadReading, confirmations: number): void {
  blocks.record(key, reading.head, reading.seenAt);
  blocks.dropBelow(key, reading.head.number - BigInt(confirmations + KEPT_HEAD_BLOCKS));
}

/**
 * The sender, keeping the block of every receipt it hands out: a job moves on from a receipt
 * whose block the poll may never have read as its head, and a reorg that drops that block must
 * still be found.
 */
export function keepingReceiptBlocks(sender: TxSender, blocks: CursorBlocks, key: string): TxSender {
  return {
    address: sender.address,
    async send(parameters) {
      const receipt = await sender.send(parameters);
      blocks.record(key, { number: BigInt(receipt.blockNumber), hash: receipt.blockHash });
      return receipt;
    },
  };
}
