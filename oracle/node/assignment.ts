/**
 * Deterministic assignment between providers of one model (`jobs.assignmentWindowSec`): every
 * daemon ranks the model's eligible providers by `keccak256(abi.encode(requestId, provider))`,
 * and the provider of rank r serves a request only from `r × window` seconds after the block
 * that carried it. The first in rank serves at once; the others take over, in turn, only if it
 * does not. So providers do not race for the same request, and none is needed for liveness.
 */
import { AbiCoder, keccak256, type JsonRpcProvider } from "ethers";
import type { ProviderRegistry } from "../chain/connect.ts";

/** Rank of `self` (0 = first) among `providers` for `requestId`; `self` counts even if not listed. */
export function assignmentRank(requestId: bigint, providers: readonly string[], self: string): number {
  const me = self.toLowerCase();
  const all = new Set(providers.map((p) => p.toLowerCase()));
  all.add(me);
  const key = (p: string) =>
    BigInt(keccak256(AbiCoder.defaultAbiCoder().encode(["uint256", "address"], [requestId, p])));
  const mine = key(me);
  let rank = 0;
  for (const p of all) if (p !== me && key(p) < mine) rank++;
  return rank;
}

export type Assignment = {
  /** The chain time (seconds) from which this provider serves the request: its block's time plus its rank's wait. */
  turnOf(job: { requestId: bigint; modelId: bigint; blockNumber: bigint }): Promise<bigint>;
};

export type CreateAssignmentParameters = {
  registry: ProviderRegistry;
  rpc: JsonRpcProvider;
  self: string;
  windowSec: number;
  /** Where the registry's opt-in events start (the deployment's block). */
  fromBlock: number;
  /** How long a model's provider set is reused before it is read again. */
  refreshMs?: number | undefined;
};

/** Block times kept at most (requests come in recent blocks; older ones are read again if needed). */
const MAX_BLOCK_TIMES = 4096;

export function createAssignment({
  registry,
  rpc,
  self,
  windowSec,
  fromBlock,
  refreshMs = 30_000,
}: CreateAssignmentParameters): Assignment {
  const providerSets = new Map<bigint, { at: number; providers: Promise<string[]> }>();
  /** Per model, who opted in (OptedIn / OptedOut folded in order) and the next block to read. */
  const optIns = new Map<bigint, { serving: Set<string>; nextBlock: number }>();
  const blockTimes = new Map<bigint, Promise<bigint>>();

  /**
   * The model's providers that are eligible now. Opt-in events are read once: each refresh reads
   * only the blocks after the last one read, so the query does not grow with the chain's history.
   */
  async function readProviders(modelId: bigint): Promise<string[]> {
    const known = optIns.get(modelId) ?? { serving: new Set<string>(), nextBlock: fromBlock };
    const head = await rpc.getBlockNumber();
    if (head >= known.nextBlock) {
      const [ins, outs] = await Promise.all([
        registry.queryFilter(registry.filters.OptedIn(undefined, modelId), known.nextBlock, head),
        registry.queryFilter(registry.filters.OptedOut(undefined, modelId), known.nextBlock, head),
      ]);
      const events = [...ins, ...outs].sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index);
      const serving = new Set(known.serving);
      for (const e of events) {
        const p = (e.args[0] as string).toLowerCase();
        if (e.fragment.name === "OptedIn") serving.add(p);
        else serving.delete(p);
      }
      optIns.set(modelId, { serving, nextBlock: head + 1 });
    }
    const serving = [...(optIns.get(modelId)?.serving ?? known.serving)];
    const eligible = await Promise.all(serving.map((p) => registry.isEligible(p, modelId)));
    return serving.filter((_, i) => eligible[i]);
  }

  function providersOf(modelId: bigint): Promise<string[]> {
    const cached = providerSets.get(modelId);
    if (cached && Date.now() - cached.at < refreshMs) return cached.providers;
    const providers = readProviders(modelId);
    providerSets.set(modelId, { at: Date.now(), providers });
    // A failed read is not kept: the next job reads again.
    providers.catch(() => providerSets.delete(modelId));
    return providers;
  }

  function blockTime(blockNumber: bigint): Promise<bigint> {
    let time = blockTimes.get(blockNumber);
    if (!time) {
      if (blockTimes.size >= MAX_BLOCK_TIMES) blockTimes.clear();
      time = rpc.getBlock(blockNumber).then((b) => {
        if (!b) throw new Error(`block ${blockNumber} not found`);
        return BigInt(b.timestamp);
      });
      blockTimes.set(blockNumber, time);
      time.catch(() => blockTimes.delete(blockNumber));
    }
    return time;
  }

  return {
    async turnOf(job) {
      if (windowSec === 0) return 0n;
      const rank = assignmentRank(job.requestId, await providersOf(job.modelId), self);
      if (rank === 0) return 0n;
      return (await blockTime(job.blockNumber)) + BigInt(rank * windowSec);
    },
  };
}
