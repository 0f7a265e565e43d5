import { connectAgentRegistry } from "../agents/agent-contracts.ts";
import { createAgent } from "../agents/create-agent.ts";
import { fundAgent } from "../agents/fund-agent.ts";
import { parsePolicyFile } from "../agents/policy-file.ts";
import type { AgentService } from "../agents/registration-file.ts";
import { openContentStore } from "../storage/open-content-store.ts";
import { describeAgentPolicy } from "./agent-describe.ts";
import { chainContext, chainOptions, chainUsage, type ChainFlags } from "./chain-context.ts";
import type { Command } from "./command.ts";
import { storeConfig, storeOptions } from "./content-commands.ts";
import { formatAmount } from "./money.ts";
import { CliInputError, parseEth, readTextFile, requireOption } from "./parse-options.ts";

export const agentCreateCommand: Command = {
  summary: [
    "Create an agent owned by your account: an ERC-8004 identity (an ERC-721 token of the AgentRegistry) and its own",
    "account (a clone) with the policy of --policy FILE (docs/agents.md#policy-reference), its action table and keeper tip.",
    "",
    "Its registration file (name, description, services, supported trust models) goes to the content store (--dir or",
    "--kubo, as `content add`) and its content id becomes the agent's URI (ipfs://CID). --fund ETH sends a first budget.",
  ].join("\n"),
  usage: `--policy FILE --name NAME [--description TEXT] [--service NAME=ENDPOINT ...] [--trust MODEL ...] [--fund ETH] [--dir DIR | --kubo URL] ${chainUsage}`,
  options: {
    ...chainOptions,
    ...storeOptions,
    policy: { type: "string" },
    name: { type: "string" },
    description: { type: "string" },
    image: { type: "string" },
    service: { type: "string", multiple: true },
    trust: { type: "string", multiple: true },
    fund: { type: "string" },
  },
  maxPositionals: 0,
  async run(values) {
    const usage = `verity agent create ${this.usage}`;
    const file = requireOption(values, "policy", usage);
    const name = requireOption(values, "name", usage);
    // Every flag and the file are checked before the chain is touched.
    const policy = parsePolicyFile(readTextFile(file, "the --policy file"), `The --policy file ${file}`);
    const services = ((values.service as unknown as string[] | undefined) ?? []).map(parseService);
    const trust = values.trust as unknown as string[] | undefined;
    const fund = values.fund === undefined ? undefined : parseEth("--fund", values.fund as string);
    const store = storeConfig(values);

    const context = await chainContext(values as ChainFlags);
    const content = await openContentStore(store);
    try {
      const registry = connectAgentRegistry(context.deployment, context.wallet);
      const created = await createAgent(registry, content, {
        name,
        description: (values.description as string | undefined) ?? "",
        image: values.image as string | undefined,
        services,
        supportedTrust: trust,
        policy,
      });
      console.log(`agent ${created.agentId} created, owned by ${context.wallet.address}`);
      console.log(`account    ${created.account}`);
      console.log(`agentURI   ${created.agentURI} (registration file in the ${content.kind} store)`);
      console.log(`gas        ${created.receipt.gasUsed} (createAgent, tx ${created.receipt.hash})`);
      for (const { what, receipt } of created.setup) console.log(`set        ${what} (gas ${receipt.gasUsed})`);
      for (const line of describeAgentPolicy(policy.policy, policy.actions, policy.keeperTip)) console.log(line);
      if (fund !== undefined) {
        const funded = await fundAgent(context.wallet, { account: created.account, amount: fund });
        console.log(`funded     ${formatAmount(fund)} (budget ${formatAmount(funded.balance)})`);
      }
      console.log(`next: npx verity agent status ${created.agentId}`);
    } finally {
      await content.close();
      context.provider.destroy();
    }
  },
};

/** `--service NAME=ENDPOINT` (e.g. `web=https://example.org`, `MCP=https://mcp.example/`). */
function parseService(text: string): AgentService {
  const match = /^([^=\s]+)=(\S+)$/.exec(text.trim());
  if (!match)
    throw new CliInputError(`--service ${JSON.stringify(text)} is not NAME=ENDPOINT.`, {
      details: ["For example --service web=https://example.org or --service MCP=https://mcp.example/"],
    });
  return { name: match[1]!, endpoint: match[2]! };
}
