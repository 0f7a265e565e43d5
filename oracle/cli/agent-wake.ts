import { wakeAgent } from "../agents/wake-agent.ts";
import { agentArgument, agentContext } from "./agent-context.ts";
import { chainOptions, chainUsage, type ChainFlags } from "./chain-context.ts";
import type { Command } from "./command.ts";
import { formatAmount, formatTokenAmount } from "./money.ts";

export const agentWakeCommand: Command = {
  summary: [
    "Wake a due agent (anyone may): it takes its oldest waiting task, else its scheduled wake, requests its model",
    "from its budget and pays you its keeper tip. An agent that is not due is refused before anything is sent.",
  ].join("\n"),
  usage: `AGENT ${chainUsage}`,
  options: chainOptions,
  maxPositionals: 1,
  async run(values, positionals) {
    const ref = agentArgument(positionals, `verity agent wake ${this.usage}`);
    const context = await agentContext(values as ChainFlags, ref);
    try {
      const model = await context.agent.account
        .policy()
        .then((policy) => context.suite.modelRegistry.getModel(policy.modelId));
      const woken = await wakeAgent(context.agent.account);
      const source = woken.taskId === undefined ? "its scheduled wake" : `task ${woken.taskId}`;
      if (woken.dropped)
        console.log(
          `agent ${context.agent.agentId} woken for ${source}, which it dropped without a request: ${woken.dropped.description}; ` +
            `tip ${formatAmount(woken.tip)} to ${context.wallet.address} (gas ${woken.receipt.gasUsed}, tx ${woken.receipt.hash})`,
        );
      else
        console.log(
          `agent ${context.agent.agentId} woken for ${source}: request ${woken.requestId}, fee ${formatTokenAmount(woken.fee, model.feeToken)}, ` +
            `tip ${formatAmount(woken.tip)} to ${context.wallet.address} (gas ${woken.receipt.gasUsed}, tx ${woken.receipt.hash})`,
        );
      if (woken.budgetExhausted)
        console.log("the agent paused itself: its budget no longer covers the next wake (verity agent fund)");
    } finally {
      context.provider.destroy();
    }
  },
};
