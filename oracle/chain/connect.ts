import { Contract, Wallet, type ContractRunner, type JsonRpcProvider } from "ethers";
// One typechain file per contract, not the barrel: the SDK package (packages/sdk) compiles
// what this imports, and the barrel would pull in every contract's factory and bytecode.
import type { ExampleClassifierConsumer } from "../../types/ethers-contracts/examples/ExampleClassifierConsumer.ts";
import type { InferenceMarket } from "../../types/ethers-contracts/InferenceMarket.ts";
import type { ModelRegistry } from "../../types/ethers-contracts/ModelRegistry.ts";
import type { ProviderRegistry } from "../../types/ethers-contracts/ProviderRegistry.ts";
import { loadArtifact, type ContractName } from "./artifacts.ts";
import { FailoverJsonRpcProvider, type FailoverProviderOptions } from "./failover-provider.ts";
import type { Deployment } from "./deployment.ts";
import { DEFAULT_RPC_TIMEOUT_MS } from "./rpc-timeout.ts";

export type Suite = {
  modelRegistry: ModelRegistry;
  providerRegistry: ProviderRegistry;
  inferenceMarket: InferenceMarket;
};

export type { ExampleClassifierConsumer, InferenceMarket, ModelRegistry, ProviderRegistry };

export type RpcProviderOptions = {
  /** The longest one call to one URL may take before it fails (or moves to the next URL); ms. */
  timeoutMs?: number | undefined;
  /** How often a URL that failed is probed to see whether it is back; ms. Default 5 000. */
  recheckMs?: number | undefined;
  onSwitch?: FailoverProviderOptions["onSwitch"];
};

/**
 * A JSON-RPC provider for nodes we do not control: one URL, or several of one chain that take
 * over from each other ({@link FailoverJsonRpcProvider}), every call bounded by `timeoutMs`.
 */
export function createRpcProvider(
  rpcUrls: string | readonly string[],
  pollingIntervalMs = 1000,
  { timeoutMs = DEFAULT_RPC_TIMEOUT_MS, recheckMs = 5_000, onSwitch }: RpcProviderOptions = {},
): FailoverJsonRpcProvider {
  const urls = typeof rpcUrls === "string" ? [rpcUrls] : rpcUrls;
  return new FailoverJsonRpcProvider(urls, { pollingIntervalMs, timeoutMs, recheckMs, onSwitch });
}

export function createWallet(privateKey: string, provider: JsonRpcProvider): Wallet {
  return new Wallet(privateKey, provider);
}

export function attach<T>(name: ContractName, address: string, runner: ContractRunner): T {
  return new Contract(address, loadArtifact(name).abi as never[], runner) as unknown as T;
}

export function connectSuite(deployment: Deployment, runner: ContractRunner): Suite {
  const { contracts } = deployment;
  return {
    modelRegistry: attach<ModelRegistry>("ModelRegistry", contracts.modelRegistry, runner),
    providerRegistry: attach<ProviderRegistry>("ProviderRegistry", contracts.providerRegistry, runner),
    inferenceMarket: attach<InferenceMarket>("InferenceMarket", contracts.inferenceMarket, runner),
  };
}
