/**
 * The agent contracts as typed handles (their interfaces' ABIs; a revert of the implementation
 * is decoded from every compiled artifact: oracle/chain/revert-error.ts), and the one way every
 * agent command names an agent: its id in the AgentRegistry, or its account's address.
 */
import { getAddress, isAddress, ZeroAddress, type ContractRunner } from "ethers";
import type { IAgentAccount } from "../../types/ethers-contracts/agents/IAgentAccount.ts";
import type { IAgentRegistry } from "../../types/ethers-contracts/agents/IAgentRegistry.ts";
import type { IValidationRegistry } from "../../types/ethers-contracts/agents/IValidationRegistry.ts";
import { attach } from "../chain/connect.ts";
import type { Deployment } from "../chain/deployment.ts";
import { BaseError } from "../errors.ts";

export type { IAgentAccount, IAgentRegistry, IValidationRegistry };

/** The deployment has no agent contracts (a file written before they existed). */
export class NoAgentContractsError extends BaseError {
  override name = "NoAgentContractsError";
  constructor(which: string) {
    super(`The deployment has no ${which} address.`, {
      details: [
        "It was written before the agent contracts existed: deploy the suite again (`npx verity deploy`,",
        "`npx verity devnet`), or add contracts." + which + " to the deployment file.",
      ],
    });
  }
}

export function connectAgentRegistry(deployment: Deployment, runner: ContractRunner): IAgentRegistry {
  const address = deployment.contracts.agentRegistry;
  if (address === undefined) throw new NoAgentContractsError("agentRegistry");
  return attach<IAgentRegistry>("IAgentRegistry", address, runner);
}

export function connectValidationRegistry(deployment: Deployment, runner: ContractRunner): IValidationRegistry {
  const address = deployment.contracts.validationRegistry;
  if (address === undefined) throw new NoAgentContractsError("validationRegistry");
  return attach<IValidationRegistry>("IValidationRegistry", address, runner);
}

export function connectAgentAccount(address: string, runner: ContractRunner): IAgentAccount {
  return attach<IAgentAccount>("IAgentAccount", address, runner);
}

/** An agent, however it was named: its id, its account and the account's handle. */
export type ResolvedAgent = { agentId: bigint; account: IAgentAccount; address: string };

/**
 * An agent named by its id (digits) or its account's address: both are checked against the
 * registry (an unknown id, an id without an account, an address that is no agent account of
 * this registry are errors that say so).
 */
export async function resolveAgent(
  registry: IAgentRegistry,
  ref: bigint | string,
  runner: ContractRunner = registry.runner!,
): Promise<ResolvedAgent> {
  const text = String(ref).trim();
  if (typeof ref === "bigint" || /^\d+$/.test(text)) {
    const agentId = BigInt(text);
    const address = await registry.accountOf(agentId).catch(() => ZeroAddress);
    if (address === ZeroAddress) {
      const exists = await registry.ownerOf(agentId).then(
        () => true,
        () => false,
      );
      throw new BaseError(
        exists
          ? `Agent ${agentId} has no account yet.`
          : `No agent ${agentId} in the registry ${await registry.getAddress()}.`,
        {
          details: exists
            ? ["Its owner creates one with the registry's createAccount(agentId, policy)."]
            : ["Agent ids are the registry's ERC-721 token ids: `verity agent create` prints the new one."],
        },
      );
    }
    return { agentId, address, account: connectAgentAccount(address, runner) };
  }
  if (!isAddress(text))
    throw new BaseError(`${JSON.stringify(text)} is neither an agent id nor an account address.`, {
      details: ["Name an agent by its id (digits) or its account's address (0x + 40 hex digits)."],
    });
  const address = getAddress(text);
  const account = connectAgentAccount(address, runner);
  const identity = await account.identity().catch(() => undefined);
  const registryAddress = await registry.getAddress();
  if (identity === undefined || getAddress(identity[0]) !== registryAddress)
    throw new BaseError(`${address} is not an agent account of the registry ${registryAddress}.`, {
      details: ["Name the agent by its id, or check the address (and the deployment: --deployment, --network)."],
    });
  const agentId = identity[1];
  if ((await registry.accountOf(agentId)) !== address)
    throw new BaseError(`${address} claims agent ${agentId}, whose account in the registry is another.`);
  return { agentId, address, account };
}
