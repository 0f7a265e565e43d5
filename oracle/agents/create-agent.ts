import type { TransactionReceipt } from "ethers";
import { decodeRevert } from "../chain/revert-error.ts";
import { BaseError } from "../errors.ts";
import { connectAgentAccount, type IAgentRegistry } from "./agent-contracts.ts";
import type { AgentPolicy } from "./policy.ts";
import {
  buildRegistrationFile,
  storeRegistrationFile,
  trustModelsOf,
  type AgentService,
  type RegistrationFile,
  type RegistrationStore,
} from "./registration-file.ts";
import { agentHints, sendAgentTransaction } from "./send-agent-transaction.ts";
import { setAgentPolicy, type PolicyTransaction } from "./set-agent-policy.ts";

export type CreateAgentParameters = {
  /** The registration file's name and description (ERC-8004). */
  name: string;
  description: string;
  image?: string | undefined;
  services?: AgentService[] | undefined;
  /** Default: from the policy's modes (`crypto-economic`, and `zkml` when Zk results are accepted). */
  supportedTrust?: string[] | undefined;
  /** The policy, the action table and the keeper tip (oracle/agents/policy-file.ts). */
  policy: AgentPolicy;
};

export type CreateAgentReturnType = {
  agentId: bigint;
  /** The agent's account (a clone), where its budget lives. */
  account: string;
  agentURI: string;
  registration: RegistrationFile;
  /** `createAgent`'s receipt (its gas is the agent's creation). */
  receipt: TransactionReceipt;
  /** The actions and keeper tip set after creation, each its own transaction. */
  setup: PolicyTransaction[];
};

/**
 * Creates an agent owned by the registry's signer: its registration file (name, description,
 * services, the registration that binds it to its id, supported trust models) stored in the
 * content store, the identity and its account created in one `createAgent` with the policy,
 * then the action table and the keeper tip set on the account.
 *
 * The agent id goes into the file before the transaction: it is read from a simulation of
 * `createAgent`. If another agent was created in between, the URI is set again with the right
 * file (`setAgentURI`).
 */
export async function createAgent(
  registry: IAgentRegistry,
  content: RegistrationStore,
  { name, description, image, services, supportedTrust, policy }: CreateAgentParameters,
): Promise<CreateAgentReturnType> {
  const provider = registry.runner?.provider;
  if (!provider) throw new BaseError("createAgent needs a registry connected with a signer.");
  const chainId = (await provider.getNetwork()).chainId;
  const registryAddress = await registry.getAddress();
  const fileFor = (agentId: bigint, account: string) =>
    buildRegistrationFile({
      name,
      description,
      image,
      services,
      supportedTrust: supportedTrust ?? trustModelsOf(policy.policy.modes),
      chainId,
      registry: registryAddress,
      agentId,
      account,
    });

  let predicted: { agentId: bigint; account: string };
  try {
    const [agentId, account] = await registry.createAgent.staticCall("ipfs://", policy.policy);
    predicted = { agentId, account };
  } catch (error) {
    throw decodeRevert("create the agent", error, agentHints);
  }
  let registration = fileFor(predicted.agentId, predicted.account);
  let { agentURI } = await storeRegistrationFile(content, registration);
  const receipt = await sendAgentTransaction("create the agent", registry.createAgent(agentURI, policy.policy));
  let created: { agentId: bigint; account: string } | undefined;
  for (const log of receipt.logs) {
    const parsed = registry.interface.parseLog(log);
    if (parsed?.name === "AccountCreated")
      created = { agentId: parsed.args.agentId as bigint, account: parsed.args.account as string };
  }
  if (!created) throw new BaseError("createAgent: no AccountCreated event in the receipt.");
  if (created.agentId !== predicted.agentId) {
    registration = fileFor(created.agentId, created.account);
    ({ agentURI } = await storeRegistrationFile(content, registration));
    await sendAgentTransaction("set the agent's URI", registry.setAgentURI(created.agentId, agentURI));
  }
  const account = connectAgentAccount(created.account, registry.runner!);
  const setup = await setAgentPolicy(account, { ...policy, skipPolicy: true });
  return { ...created, agentURI, registration, receipt, setup: setup.transactions };
}
