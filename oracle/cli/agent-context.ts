/**
 * What every `verity agent …` command starts from: the chain context (network, deployment, key:
 * oracle/cli/chain-context.ts), the deployment's AgentRegistry, and the agent named by its id or
 * its account's address (checked against the registry before anything is sent).
 */
import {
  connectAgentRegistry,
  resolveAgent,
  type IAgentRegistry,
  type ResolvedAgent,
} from "../agents/agent-contracts.ts";
import { chainContext, type ChainContext, type ChainFlags } from "./chain-context.ts";
import { CliInputError } from "./parse-options.ts";

export type AgentContext = ChainContext & { registry: IAgentRegistry; agent: ResolvedAgent };

/** The AGENT argument: an id (digits) or an account address; checked for its form before the chain is touched. */
export function agentArgument(positionals: string[], usage: string): string {
  const [ref] = positionals;
  if (ref === undefined)
    throw new CliInputError("Name the agent: its id or its account's address.", { details: [`Usage: ${usage}`] });
  if (!/^\d+$/.test(ref.trim()) && !/^0x[0-9a-fA-F]{40}$/.test(ref.trim()))
    throw new CliInputError(
      `${JSON.stringify(ref.length > 60 ? `${ref.slice(0, 57)}...` : ref)} is not an agent id or address.`,
      {
        details: [
          "An agent is named by its id (digits, as `verity agent create` printed it) or its account (0x + 40 hex digits).",
        ],
      },
    );
  return ref.trim();
}

export async function agentContext(values: ChainFlags, ref: string): Promise<AgentContext> {
  const context = await chainContext(values);
  try {
    const registry = connectAgentRegistry(context.deployment, context.wallet);
    return { ...context, registry, agent: await resolveAgent(registry, ref, context.wallet) };
  } catch (error) {
    context.provider.destroy();
    throw error;
  }
}
