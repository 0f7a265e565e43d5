import { ZeroAddress } from "ethers";
import { getAgentStatus } from "../agents/get-agent-status.ts";
import { agentArgument, agentContext } from "./agent-context.ts";
import { describeAgentPolicy, describeTrail } from "./agent-describe.ts";
import { chainOptions, chainUsage, type ChainFlags } from "./chain-context.ts";
import type { Command } from "./command.ts";
import { formatAmount, formatTokenAmount } from "./money.ts";

export const agentStatusCommand: Command = {
  summary: [
    "Show an agent: owner, account, policy and action table, keeper tip, whether it is paused or due, its budget,",
    "its record (wakes, requests, results, actions, spend), what is pending, and its decision trail from events:",
    "each request → its result → the decision → the action, with gas and spend.",
  ].join("\n"),
  usage: `AGENT ${chainUsage}`,
  options: chainOptions,
  maxPositionals: 1,
  async run(values, positionals) {
    const ref = agentArgument(positionals, `verity agent status ${this.usage}`);
    const context = await agentContext(values as ChainFlags, ref);
    try {
      const status = await getAgentStatus(
        context.registry,
        context.suite.modelRegistry,
        context.suite.inferenceMarket,
        context.agent,
        {
          fromBlock: context.deployment.startBlock,
        },
      );
      const amount = (value: bigint, token: string) =>
        token === ZeroAddress ? formatAmount(value) : formatTokenAmount(value, token);
      console.log(`agent      ${status.agentId} owned by ${status.owner}`);
      console.log(`account    ${status.account}`);
      if (status.agentURI) console.log(`agentURI   ${status.agentURI}`);
      for (const line of describeAgentPolicy(status.policy, status.actions, status.keeperTip, status.feeToken))
        console.log(line);
      const when =
        status.nextWakeAt === 0n
          ? ""
          : `, next scheduled wake ${new Date(Number(status.nextWakeAt) * 1000).toISOString()}`;
      console.log(`state      ${status.paused ? "PAUSED" : "active"}, ${status.due ? "due now" : "not due"}${when}`);
      for (const balance of status.balances)
        console.log(
          `budget     ${amount(balance.budget, balance.token)}${balance.inMarket > 0n ? ` (+ ${amount(balance.inMarket, balance.token)} of refunds in the market)` : ""}`,
        );
      const r = status.record;
      console.log(
        `record     ${r.wakes} wakes, ${r.requests} requests, ${r.results} results, ${r.actions} actions (${r.actionFailures} failed), ${r.skipped} skipped`,
      );
      console.log(`spent      ${amount(r.spent, status.feeToken)} in fees, ${formatAmount(r.tips)} in tips`);
      console.log(
        `pending    ${status.pendingTasks} task(s), ${status.pendingRequests.length} request(s)${status.pendingRequests.length ? `: ${status.pendingRequests.join(", ")}` : ""}`,
      );
      console.log(status.trail.length === 0 ? "trail      no wake yet" : "trail");
      for (const line of describeTrail(status.trail, status.feeToken)) console.log(`  ${line}`);
      for (const dropped of status.droppedTasks)
        console.log(
          `  task ${dropped.taskId} dropped without a request: ${dropped.description} (tip ${formatAmount(dropped.tip)})`,
        );
    } finally {
      context.provider.destroy();
    }
  },
};
