import { ContractFactory, parseEther, type Signer } from "ethers";
import { loadArtifact, type ContractName } from "./artifacts.ts";
import type { Deployment } from "./deployment.ts";
import { attach, type ProviderRegistry } from "./connect.ts";

export type DeploySuiteParameters = {
  /** Receives the protocol fee. Defaults to the deployer, who is admin of every contract. */
  treasury?: string | undefined;
  protocolFeeBps?: number | undefined;
  minStake?: bigint | undefined;
  unbondingDelaySec?: bigint | undefined;
  /** Slashed from a provider that claims a request and does not deliver before its deadline. */
  claimPenalty?: bigint | undefined;
};

export const DEFAULT_SUITE_PARAMETERS = {
  protocolFeeBps: 250,
  minStake: parseEther("1"),
  // Longer than the longest request deadline (30 days): see deploy/modules/Verity.ts.
  unbondingDelaySec: 31n * 24n * 3600n,
  claimPenalty: parseEther("0.1"),
} as const;

export async function deployContract(signer: Signer, name: ContractName, args: unknown[] = []) {
  const { abi, bytecode } = loadArtifact(name);
  const contract = await new ContractFactory(abi as never[], bytecode, signer).deploy(...args);
  await contract.waitForDeployment();
  return contract;
}

/**
 * Deploys ModelRegistry, ProviderRegistry and InferenceMarket and lets the market slash and
 * record jobs in the provider registry. For public chains prefer the Ignition module in
 * `deploy/modules/Verity.ts`, which resumes a deployment that stopped half-way.
 */
export async function deploySuite(signer: Signer, parameters: DeploySuiteParameters = {}): Promise<Deployment> {
  const provider = signer.provider!;
  const admin = await signer.getAddress();
  const treasury = parameters.treasury ?? admin;
  const { protocolFeeBps, minStake, unbondingDelaySec, claimPenalty } = {
    ...DEFAULT_SUITE_PARAMETERS,
    ...defined(parameters),
  };
  const startBlock = await provider.getBlockNumber();
  const modelRegistry = await deployContract(signer, "ModelRegistry");
  const providerRegistry = await deployContract(signer, "ProviderRegistry", [admin, minStake, unbondingDelaySec]);
  const market = await deployContract(signer, "InferenceMarket", [
    admin,
    await modelRegistry.getAddress(),
    await providerRegistry.getAddress(),
    treasury,
    protocolFeeBps,
    claimPenalty,
  ]);
  const registry = attach<ProviderRegistry>("ProviderRegistry", await providerRegistry.getAddress(), signer);
  const marketAddress = await market.getAddress();
  await (await registry.grantRole(await registry.SLASHER_ROLE(), marketAddress)).wait();
  await (await registry.grantRole(await registry.RECORDER_ROLE(), marketAddress)).wait();
  return {
    chainId: Number((await provider.getNetwork()).chainId),
    startBlock: startBlock + 1,
    contracts: {
      modelRegistry: await modelRegistry.getAddress(),
      providerRegistry: await providerRegistry.getAddress(),
      inferenceMarket: marketAddress,
    },
  };
}

function defined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
