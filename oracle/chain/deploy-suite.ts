import { ContractFactory, type Signer } from "ethers";
import { loadArtifact, qualifiedName, type ContractName } from "./artifacts.ts";
import type { DeployedContract, Deployment } from "./deployment.ts";
import { attach, type ProviderRegistry } from "./connect.ts";
import { DEPLOY_PROFILES } from "./deploy-profiles.ts";
import { deployAgents } from "./deploy-agents.ts";

export type DeploySuiteParameters = {
  /** Receives the protocol fee. Defaults to the deployer, who is admin of every contract. */
  treasury?: string | undefined;
  protocolFeeBps?: number | undefined;
  minStake?: bigint | undefined;
  unbondingDelaySec?: bigint | undefined;
  /** Slashed from a provider that claims a request and does not deliver before its deadline. */
  claimPenalty?: bigint | undefined;
  /** Bounds of an Optimistic model's challenge window, in seconds. */
  minChallengeWindowSec?: number | undefined;
  maxChallengeWindowSec?: number | undefined;
  /** Also deploy the agent contracts (oracle/chain/deploy-agents.ts). Default true. */
  agents?: boolean | undefined;
  /** Told of each contract deployed, with what a block explorer's verification needs. */
  onDeployed?: ((contract: DeployedContract) => void) | undefined;
};

/** The `devnet` profile's suite parameters (oracle/chain/deploy-profiles.ts). */
export const DEFAULT_SUITE_PARAMETERS = {
  protocolFeeBps: DEPLOY_PROFILES.devnet.protocolFeeBps,
  minStake: DEPLOY_PROFILES.devnet.minStake,
  unbondingDelaySec: DEPLOY_PROFILES.devnet.unbondingDelaySec,
  claimPenalty: DEPLOY_PROFILES.devnet.claimPenalty,
  minChallengeWindowSec: DEPLOY_PROFILES.devnet.minChallengeWindowSec,
  maxChallengeWindowSec: DEPLOY_PROFILES.devnet.maxChallengeWindowSec,
} as const;

export async function deployContract(
  signer: Signer,
  name: ContractName,
  args: unknown[] = [],
  onDeployed?: (contract: DeployedContract) => void,
) {
  const { abi, bytecode } = loadArtifact(name);
  const contract = await new ContractFactory(abi as never[], bytecode, signer).deploy(...args);
  await contract.waitForDeployment();
  onDeployed?.({
    name,
    contract: qualifiedName(name),
    address: await contract.getAddress(),
    constructorArgs: args.map(String),
    transactionHash: contract.deploymentTransaction()?.hash,
  });
  return contract;
}

/**
 * Deploys ModelRegistry, ProviderRegistry and InferenceMarket and names the market in the
 * provider registry (the one account that may reserve, release and slash stake), then the agent
 * contracts over the market (AgentAccount, AgentRegistry, ValidationRegistry, VerityValidator;
 * `agents: false` leaves them out). For public
 * chains prefer the Ignition module in `deploy/modules/Verity.ts`, which resumes a deployment
 * that stopped half-way.
 */
export async function deploySuite(signer: Signer, parameters: DeploySuiteParameters = {}): Promise<Deployment> {
  const provider = signer.provider!;
  const admin = await signer.getAddress();
  const treasury = parameters.treasury ?? admin;
  const { protocolFeeBps, minStake, unbondingDelaySec, claimPenalty, minChallengeWindowSec, maxChallengeWindowSec } = {
    ...DEFAULT_SUITE_PARAMETERS,
    ...defined({ ...parameters, onDeployed: undefined, agents: undefined }),
  };
  const { onDeployed, agents = true } = parameters;
  const startBlock = await provider.getBlockNumber();
  const modelRegistry = await deployContract(
    signer,
    "ModelRegistry",
    [minChallengeWindowSec, maxChallengeWindowSec],
    onDeployed,
  );
  const providerRegistry = await deployContract(
    signer,
    "ProviderRegistry",
    [admin, minStake, unbondingDelaySec],
    onDeployed,
  );
  const market = await deployContract(
    signer,
    "InferenceMarket",
    [
      admin,
      await modelRegistry.getAddress(),
      await providerRegistry.getAddress(),
      treasury,
      protocolFeeBps,
      claimPenalty,
    ],
    onDeployed,
  );
  const registry = attach<ProviderRegistry>("ProviderRegistry", await providerRegistry.getAddress(), signer);
  const marketAddress = await market.getAddress();
  await (await registry.setMarket(marketAddress)).wait();
  const agentContracts = agents ? await deployAgents(signer, marketAddress, { onDeployed }) : undefined;
  return {
    chainId: Number((await provider.getNetwork()).chainId),
    startBlock: startBlock + 1,
    contracts: {
      modelRegistry: await modelRegistry.getAddress(),
      providerRegistry: await providerRegistry.getAddress(),
      inferenceMarket: marketAddress,
      ...(agentContracts && {
        agentRegistry: agentContracts.agentRegistry,
        validationRegistry: agentContracts.validationRegistry,
        verityValidator: agentContracts.verityValidator,
      }),
    },
  };
}

function defined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
