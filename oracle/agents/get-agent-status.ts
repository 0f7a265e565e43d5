import { Contract, ZeroAddress } from "ethers";
import type { InferenceMarket, ModelRegistry } from "../chain/connect.ts";
import type { IAgentAccount, IAgentRegistry } from "./agent-contracts.ts";
import { getDecisionTrail, type TrailEntry } from "./decision-trail.ts";
import { policyFromChain, type Action, type Policy } from "./policy.ts";
import { DROP_REASONS } from "./wake-agent.ts";

export type GetAgentStatusParameters = {
  /** First block of the event search (the deployment's start block). Default 0. */
  fromBlock?: number | undefined;
};

/** A balance of the agent in one token (address(0): ETH). */
export type AgentBalance = {
  token: string;
  /** Held by the account: its budget. */
  budget: bigint;
  /** Credited to it in the market (refunds), reclaimed into the budget by `reclaim`. */
  inMarket: bigint;
};

export type AgentStatus = {
  agentId: bigint;
  account: string;
  owner: string;
  agentURI: string | undefined;
  policy: Policy;
  actions: { decision: bigint; action: Action }[];
  keeperTip: bigint;
  paused: boolean;
  due: boolean;
  /** When the next scheduled wake is due (unix seconds; 0: no schedule). */
  nextWakeAt: bigint;
  /** The model's fee token (address(0): ETH); tips are always ETH. */
  feeToken: string;
  balances: AgentBalance[];
  record: {
    wakes: bigint;
    requests: bigint;
    results: bigint;
    actions: bigint;
    actionFailures: bigint;
    skipped: bigint;
    spent: bigint;
    tips: bigint;
  };
  /** Tasks posted and not yet taken by a wake. */
  pendingTasks: bigint;
  /** Requests whose result the account still awaits. */
  pendingRequests: bigint[];
  trail: TrailEntry[];
  /** Tasks wakes consumed without a request (their input could not be had), with why. */
  droppedTasks: {
    taskId: bigint;
    keeper: string;
    tip: bigint;
    reason: number;
    description: string;
    transactionHash: string;
  }[];
};

const erc20Abi = ["function balanceOf(address owner) view returns (uint256)"];
const tokenUriAbi = ["function tokenURI(uint256 agentId) view returns (string)"];

/**
 * Everything about one agent: its policy and action table, keeper tip, whether it is paused or
 * due, its budget (ETH and its model's fee token, and refunds waiting in the market), its record
 * (wakes, requests, results, actions, spend), what is pending (tasks, requests) and its decision
 * trail from events (oracle/agents/decision-trail.ts).
 */
export async function getAgentStatus(
  registry: IAgentRegistry,
  models: ModelRegistry,
  market: InferenceMarket,
  { agentId, account }: { agentId: bigint; account: IAgentAccount },
  { fromBlock = 0 }: GetAgentStatusParameters = {},
): Promise<AgentStatus> {
  const address = await account.getAddress();
  const provider = account.runner!.provider!;
  const [policyOutput, keeperTip, paused, [due, nextWakeAt], record, [taskHead, taskCount], owner] = await Promise.all([
    account.policy(),
    account.keeperTip(),
    account.paused(),
    account.isDue(),
    account.record(),
    account.tasks(),
    registry.ownerOf(agentId),
  ]);
  const policy = policyFromChain(policyOutput);
  const agentURI = await new Contract(await registry.getAddress(), tokenUriAbi, provider)
    .getFunction("tokenURI")(agentId)
    .then(
      (uri: string) => uri,
      () => undefined,
    );
  const feeToken = await models.getModel(policy.modelId).then(
    (model) => model.feeToken,
    () => ZeroAddress,
  );
  const tokens = feeToken === ZeroAddress ? [ZeroAddress] : [ZeroAddress, feeToken];
  const balances = await Promise.all(
    tokens.map(async (token) => ({
      token,
      budget:
        token === ZeroAddress
          ? await provider.getBalance(address)
          : ((await new Contract(token, erc20Abi, provider).getFunction("balanceOf")(address)) as bigint),
      inMarket: await market.balanceOf(address, token),
    })),
  );
  // The action table is a mapping: its keys are the decisions its ActionSet events named.
  const set = await account.queryFilter(account.filters.ActionSet(), fromBlock);
  const decisions = [...new Set(set.map((log) => log.args.decision))].sort((a, b) => (a < b ? -1 : 1));
  const actions: AgentStatus["actions"] = [];
  for (const decision of decisions) {
    const action = await account.actionOf(decision);
    if (action.target !== ZeroAddress)
      actions.push({ decision, action: { target: action.target, selector: action.selector, arg: Number(action.arg) } });
  }
  const trail = await getDecisionTrail(account, market, { fromBlock });
  const droppedTasks = (await account.queryFilter(account.filters.TaskDropped(), fromBlock)).map((log) => ({
    taskId: log.args.taskId,
    keeper: log.args.keeper,
    tip: log.args.tip,
    reason: Number(log.args.reason),
    description: DROP_REASONS[Number(log.args.reason)] ?? `reason ${log.args.reason}`,
    transactionHash: log.transactionHash,
  }));
  const pendingRequests: bigint[] = [];
  for (const entry of trail)
    if ((await account.requestOf(entry.requestId)).pending) pendingRequests.push(entry.requestId);
  return {
    agentId,
    account: address,
    owner,
    agentURI,
    policy,
    actions,
    keeperTip,
    paused,
    due,
    nextWakeAt,
    feeToken,
    balances,
    record: {
      wakes: record.wakes,
      requests: record.requests,
      results: record.results,
      actions: record.actions,
      actionFailures: record.actionFailures,
      skipped: record.skipped,
      spent: record.spent,
      tips: record.tips,
    },
    pendingTasks: taskCount - taskHead,
    pendingRequests,
    trail,
    droppedTasks,
  };
}
