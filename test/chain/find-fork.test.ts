import { expect } from "chai";
import { findFork } from "../../oracle/chain/find-fork.ts";
import type { CursorBlock } from "../../oracle/store/cursor-blocks.ts";

/** Kept heads, newest first, from [number, hash, seenAt] triples. */
const kept = (...blocks: [number, string, number?][]): CursorBlock[] =>
  blocks.map(([number, hash, headSeenAt]) => ({ number: BigInt(number), hash, headSeenAt }));

/** A chain as a map from block number to hash, and a counter of lookups. */
function chain(hashes: Record<number, string>) {
  const lookups: bigint[] = [];
  return {
    lookups,
    hashAt: (number: bigint) => {
      lookups.push(number);
      return Promise.resolve(hashes[Number(number)]);
    },
  };
}

describe("chain/find-fork", () => {
  it("no reorg: one lookup of the newest kept head", async () => {
    const c = chain({ 10: "a10", 12: "a12" });
    const head = { number: 14n, hash: "a14" };
    expect(await findFork(kept([12, "a12", 5], [10, "a10", 3]), head, c.hashAt)).to.equal(undefined);
    expect(c.lookups).to.deep.equal([12n]);
  });

  it("finds the newest kept head still on the chain, and when the head was last at or below it", async () => {
    const c = chain({ 10: "a10", 12: "b12", 13: "b13" });
    const head = { number: 14n, hash: "b14" };
    const reorg = await findFork(kept([13, "a13", 9], [12, "a12", 7], [10, "a10", 5], [8, "a8", 4]), head, c.hashAt);
    expect(reorg).to.deep.equal({ forkBlock: 10n, changedSince: 5, deep: false });
  });

  it("a shorter chain (evm_revert): kept heads above the head count as dropped", async () => {
    const c = chain({ 5: "a5" });
    const head = { number: 6n, hash: "b6" };
    const reorg = await findFork(kept([9, "a9", 30], [7, "a7", 20], [6, "a6", 15], [5, "a5", 10]), head, c.hashAt);
    expect(reorg).to.deep.equal({ forkBlock: 5n, changedSince: 10, deep: false });
    expect(c.lookups).to.deep.equal([5n]); // 9 and 7 are above the head, 6 is the head
  });

  it("deeper than every kept head: best effort from below the oldest", async () => {
    const c = chain({});
    const reorg = await findFork(kept([9, "a9", 30], [7, "a7", 20]), { number: 9n, hash: "b9" }, c.hashAt);
    expect(reorg).to.deep.equal({ forkBlock: 6n, changedSince: 20, deep: true });
  });

  it("nothing kept yet: nothing to compare", async () => {
    expect(await findFork([], { number: 3n, hash: "x" }, chain({}).hashAt)).to.equal(undefined);
  });
});
