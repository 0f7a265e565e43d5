/**
 * An agent's decision trail, from events only: each wake's request → its result in the market →
 * the decision the account took from it → the action it called, with the gas of the wake and of
 * the settlement and what the wake spent (fee and tip). Anyone can rebuild it from the chain.
 */
import type { Log, Provider } from "ethers";
import type { InferenceMarket } from "../chain/connect.ts";
import type { IAgentAccount } from "./agent-contracts.ts";
import { SCHEDULED_WAKE } from "./wake-agent.ts";

/** A transaction of the trail: where and what it cost. */
export type TrailTransaction = { blockNumber: number; transactionHash: string; gasUsed: bigint };

/** Why a Finalized result was not acted on (`DecisionSkipped.reason`). */
export const SKIP_REASONS: Record<number, string> = {
  1: "the provider's slashes exceed the policy's maxProviderSlashes",
  2: "the output could not be decoded",
  3: "no action for the decision",
  4: "too little gas left for the action's whole limit (callbackGasLimit too small for it)",
};

export type TrailEntry = {
  requestId: bigint;
  /** The task the wake served; undefined for a scheduled wake. */
  taskId: bigint | undefined;
  keeper: string;
  fee: bigint;
  tip: bigint;
  wake: TrailTransaction;
  /** The request's end in the market, once it came. */
  result: (TrailTransaction & { status: "Finalized" | "Failed" | "Refunded" }) | undefined;
  /** The decision the Finalized output mapped to. */
  decision: bigint | undefined;
  /** A Finalized result the account did not act on, and why. */
  skipped: { reason: number; description: string } | undefined;
  /** The action the decision called; `success` false: it reverted or ran out of its gas (recorded, not retried). */
  action: { target: string; selector: string; success: boolean } | undefined;
};

export type GetDecisionTrailParameters = {
  /** First block to read events from (the deployment's start block). Default 0. */
  fromBlock?: number | undefined;
  toBlock?: number | "latest" | undefined;
};

/** Every wake of the agent in the block range, oldest first, with what followed it. */
export async function getDecisionTrail(
  account: IAgentAccount,
  market: InferenceMarket,
  { fromBlock = 0, toBlock = "latest" }: GetDecisionTrailParameters = {},
): Promise<TrailEntry[]> {
  const provider = account.runner!.provider!;
  const [woken, decided, skipped, acted] = await Promise.all([
    account.queryFilter(account.filters.Woken(), fromBlock, toBlock),
    account.queryFilter(account.filters.DecisionMade(), fromBlock, toBlock),
    account.queryFilter(account.filters.DecisionSkipped(), fromBlock, toBlock),
    account.queryFilter(account.filters.ActionExecuted(), fromBlock, toBlock),
  ]);
  if (woken.length === 0) return [];
  const ids = new Set(woken.map((log) => log.args.requestId));
  const ends = new Map<bigint, { status: "Finalized" | "Failed" | "Refunded"; log: Log }>();
  const [finalized, failed, refunded] = await Promise.all([
    market.queryFilter(market.filters.RequestFinalized(), woken[0]!.blockNumber, toBlock),
    market.queryFilter(market.filters.RequestFailed(), woken[0]!.blockNumber, toBlock),
    market.queryFilter(market.filters.RequestRefunded(), woken[0]!.blockNumber, toBlock),
  ]);
  for (const [status, logs] of [
    ["Finalized", finalized],
    ["Failed", failed],
    ["Refunded", refunded],
  ] as const)
    for (const log of logs) if (ids.has(log.args.requestId)) ends.set(log.args.requestId, { status, log });

  const gas = receiptGas(provider);
  return Promise.all(
    woken.map(async (log): Promise<TrailEntry> => {
      const { requestId, taskId, keeper, fee, tip } = log.args;
      const end = ends.get(requestId);
      const decision = decided.find((d) => d.args.requestId === requestId);
      const skip = skipped.find((s) => s.args.requestId === requestId);
      const action = acted.find((a) => a.args.requestId === requestId);
      return {
        requestId,
        taskId: taskId === SCHEDULED_WAKE ? undefined : taskId,
        keeper,
        fee,
        tip,
        wake: await gas(log),
        result: end && { status: end.status, ...(await gas(end.log)) },
        decision: decision?.args.decision,
        skipped: skip && {
          reason: Number(skip.args.reason),
          description: SKIP_REASONS[Number(skip.args.reason)] ?? `reason ${skip.args.reason}`,
        },
        action: action && { target: action.args.target, selector: action.args.selector, success: action.args.success },
      };
    }),
  );
}

/** The block, transaction and gas of a log's transaction (receipts read once each). */
function receiptGas(provider: Provider): (log: Log) => Promise<TrailTransaction> {
  const receipts = new Map<string, Promise<bigint>>();
  return async (log) => {
    let gasUsed = receipts.get(log.transactionHash);
    if (!gasUsed) {
      gasUsed = provider.getTransactionReceipt(log.transactionHash).then((receipt) => receipt?.gasUsed ?? 0n);
      receipts.set(log.transactionHash, gasUsed);
    }
    return { blockNumber: log.blockNumber, transactionHash: log.transactionHash, gasUsed: await gasUsed };
  };
}
