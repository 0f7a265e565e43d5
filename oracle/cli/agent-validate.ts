import { validateAgentRequest } from "../agents/validate-agent-request.ts";
import { agentArgument, agentContext } from "./agent-context.ts";
import { chainOptions, chainUsage, type ChainFlags } from "./chain-context.ts";
import type { Command } from "./command.ts";
import { parseId, requireOption } from "./parse-options.ts";

export const agentValidateCommand: Command = {
  summary: [
    "Ask Verity's ERC-8004 validator about one of an agent's requests (--request ID, from `verity agent status`) and",
    "print its answer: 100 when the inference behind it was proven (Zk) or survived its window (Optimistic), 0 when",
    "a dispute game proved it wrong. The owner files the validation request; the validator answers from the market.",
  ].join("\n"),
  usage: `AGENT --request ID ${chainUsage}`,
  options: { ...chainOptions, request: { type: "string" } },
  maxPositionals: 1,
  async run(values, positionals) {
    const usage = `verity agent validate ${this.usage}`;
    const ref = agentArgument(positionals, usage);
    const requestId = parseId("--request", requireOption(values, "request", usage), "request");
    const context = await agentContext(values as ChainFlags, ref);
    try {
      const answer = await validateAgentRequest(context.deployment, context.wallet, {
        agentId: context.agent.agentId,
        requestId,
      });
      console.log(
        `validation of request ${requestId} (agent ${context.agent.agentId}): ${answer.response} "${answer.tag}" from ${answer.validator}`,
      );
      console.log(`requestHash  ${answer.requestHash}`);
      console.log(`responseHash ${answer.responseHash}`);
    } finally {
      context.provider.destroy();
    }
  },
};
