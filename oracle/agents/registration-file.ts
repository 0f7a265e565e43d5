/**
 * The agent registration file of ERC-8004 (its `agentURI` resolves to it): name, description,
 * services, the on-chain registrations that bind it to the identity, and the trust models the
 * agent supports. Stored in the content store; the agent's URI is `ipfs://<CID>`.
 */
import { VerificationMode } from "../chain/enums.ts";

/** ERC-8004's registration file type (registration-v1). */
export const REGISTRATION_TYPE = "https://eips.ethereum.org/EIPS/eip-8004#registration-v1";

export type AgentService = { name: string; endpoint: string; version?: string | undefined };

export type RegistrationFile = {
  type: typeof REGISTRATION_TYPE;
  name: string;
  description: string;
  image?: string | undefined;
  services: AgentService[];
  active: boolean;
  /** `agentRegistry` is `eip155:<chainId>:<registry address>`. */
  registrations: { agentId: number | string; agentRegistry: string }[];
  supportedTrust: string[];
};

export type BuildRegistrationFileParameters = {
  name: string;
  description: string;
  image?: string | undefined;
  services?: AgentService[] | undefined;
  supportedTrust?: string[] | undefined;
  chainId: bigint | number;
  registry: string;
  agentId: bigint;
  /** The agent's account: advertised as its `agentWallet` service. */
  account: string;
};

/**
 * The registration file of an agent. Besides the given services it advertises the agent's
 * account (`agentWallet`, `eip155:<chainId>:<address>`), where its budget lives.
 */
export function buildRegistrationFile({
  name,
  description,
  image,
  services = [],
  supportedTrust = [],
  chainId,
  registry,
  agentId,
  account,
}: BuildRegistrationFileParameters): RegistrationFile {
  const id = agentId <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(agentId) : agentId.toString();
  return {
    type: REGISTRATION_TYPE,
    name,
    description,
    ...(image === undefined ? {} : { image }),
    services: [...services, { name: "agentWallet", endpoint: `eip155:${chainId}:${account}` }],
    active: true,
    registrations: [{ agentId: id, agentRegistry: `eip155:${chainId}:${registry}` }],
    supportedTrust,
  };
}

/**
 * The trust models an agent that accepts results of `modes` (the policy's bit set) supports:
 * `crypto-economic` (staked providers, slashed when a game proves a result wrong) always, and
 * `zkml` when it accepts Zk results (each proven with a SNARK checked on-chain).
 */
export function trustModelsOf(modes: number): string[] {
  return ["crypto-economic", ...((modes & (1 << VerificationMode.Zk)) !== 0 ? ["zkml"] : [])];
}

/**
 * Where a registration file is stored: any content store (`oracle/storage`'s embedded store or
 * kubo, an IPFS pinning client) that adds bytes and returns their CID v1 string.
 */
export type RegistrationStore = { add(bytes: Uint8Array): Promise<string> };

/** Stores `file` and returns its content id and the agent URI that names it. */
export async function storeRegistrationFile(
  content: RegistrationStore,
  file: RegistrationFile,
): Promise<{ cid: string; agentURI: string }> {
  const cid = await content.add(new TextEncoder().encode(`${JSON.stringify(file, null, 2)}\n`));
  return { cid, agentURI: `ipfs://${cid}` };
}

/** The content id an `ipfs://<CID>` agent URI names, or undefined for another kind of URI. */
export function cidOfAgentURI(agentURI: string): string | undefined {
  return /^ipfs:\/\/([A-Za-z0-9]+)\/?$/.exec(agentURI)?.[1];
}
