import { parsePolicyFile } from "../agents/policy-file.ts";
import { setAgentPolicy } from "../agents/set-agent-policy.ts";
import { agentArgument, agentContext } from "./agent-context.ts";
import { describeAgentPolicy } from "./agent-describe.ts";
import { chainOptions, chainUsage, type ChainFlags } from "./chain-context.ts";
import type { Command } from "./command.ts";
import { readTextFile, requireOption } from "./parse-options.ts";

export const agentPolicyCommand: Command = {
  summary: [
    "Set an agent's policy, action table and keeper tip from --policy FILE (docs/agents.md#policy-reference): only",
    "what differs from the chain is sent (setPolicy, setAction, setKeeperTip), each change an event. Owner only.",
  ].join("\n"),
  usage: `AGENT --policy FILE ${chainUsage}`,
  options: { ...chainOptions, policy: { type: "string" } },
  maxPositionals: 1,
  async run(values, positionals) {
    const usage = `verity agent policy ${this.usage}`;
    const ref = agentArgument(positionals, usage);
    const file = requireOption(values, "policy", usage);
    const policy = parsePolicyFile(readTextFile(file, "the --policy file"), `The --policy file ${file}`);
    const context = await agentContext(values as ChainFlags, ref);
    try {
      const { transactions } = await setAgentPolicy(context.agent.account, policy);
      if (transactions.length === 0)
        console.log(`agent ${context.agent.agentId} already has this policy: nothing sent`);
      for (const { what, receipt } of transactions)
        console.log(`set ${what} (gas ${receipt.gasUsed}, tx ${receipt.hash})`);
      for (const line of describeAgentPolicy(policy.policy, policy.actions, policy.keeperTip)) console.log(line);
    } finally {
      context.provider.destroy();
    }
  },
};
