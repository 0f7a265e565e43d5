import { Contract, JsonRpcProvider, Wallet, type ContractRunner } from "ethers";
// One typechain file per contract, not the barrel: the SDK package (packages/sdk) compiles
// what this imports, and the barrel would pull in every contract's factory and bytecode.
import type { ExampleClassifierConsumer } from "../../types/ethers-contracts/examples/ExampleClassifierConsumer.ts";
import type { InferenceMarket } from "../../types/ethers-contracts/InferenceMarket.ts";
import type { ModelRegistry } from "../../types/ethers-contracts/ModelRegistry.ts";
import type { ProviderRegistry } from "../../types/ethers-contracts/ProviderRegistry.ts";
import { loadArtifact, type ContractName } from "./artifacts.ts";
import type { Deployment } from "./deployment.ts";

export type Suite = {
  modelRegistry: ModelRegistry;
  providerRegistry: ProviderRegistry;
  inferenceMarket: InferenceMarket;
};

export type { ExampleClassifierConsumer, InferenceMarket, ModelRegistry, ProviderRegistry };

/**
 * A JSON-RPC provider for a node we do not control. `cacheTimeout: -1` stops ethers from
 * reusing a cached pending nonce, which otherwise breaks back-to-back transactions.
 */
export function createRpcProvider(rpcUrl: string, pollingIntervalMs = 1000): JsonRpcProvider {
  const provider = new JsonRpcProvider(rpcUrl, undefined, { cacheTimeout: -1, pollingInterval: pollingIntervalMs });
  provider.pollingInterval = pollingIntervalMs;
  return provider;
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
