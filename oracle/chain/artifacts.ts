import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { BaseError } from "../errors.ts";

/** The contracts the oracle talks to, by artifact name. */
export type ContractName =
  | "ModelRegistry"
  | "ProviderRegistry"
  | "InferenceMarket"
  | "ExampleClassifierConsumer"
  | "TestToken"
  | "GasBurnerConsumer"
  | "DisputeGame"
  | "LayerStepProver"
  | "GenerationProver"
  | "Groth16TensorVerifier"
  | "VerityConsumer"
  | "CallbackGasProbe"
  | "AgentAccount"
  | "AgentRegistry"
  | "ValidationRegistry"
  | "VerityValidator"
  | "IAgentAccount"
  | "IAgentRegistry"
  | "IValidationRegistry"
  | "Guestbook";

export type Artifact = {
  contractName: string;
  abi: readonly unknown[];
  bytecode: string;
  /** Runtime code (what a state override installs). */
  deployedBytecode?: string;
};

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

const sourceOf: Record<ContractName, string> = {
  ModelRegistry: "contracts/ModelRegistry.sol",
  ProviderRegistry: "contracts/ProviderRegistry.sol",
  InferenceMarket: "contracts/InferenceMarket.sol",
  ExampleClassifierConsumer: "contracts/examples/ExampleClassifierConsumer.sol",
  TestToken: "contracts/test/TestToken.sol",
  GasBurnerConsumer: "contracts/test/GasBurnerConsumer.sol",
  DisputeGame: "contracts/dispute/DisputeGame.sol",
  LayerStepProver: "contracts/dispute/LayerStepProver.sol",
  GenerationProver: "contracts/dispute/GenerationProver.sol",
  Groth16TensorVerifier: "contracts/verify/Groth16TensorVerifier.sol",
  VerityConsumer: "contracts/consumer/VerityConsumer.sol",
  CallbackGasProbe: "contracts/consumer/CallbackGasProbe.sol",
  AgentAccount: "contracts/agents/AgentAccount.sol",
  AgentRegistry: "contracts/agents/AgentRegistry.sol",
  ValidationRegistry: "contracts/agents/ValidationRegistry.sol",
  VerityValidator: "contracts/agents/VerityValidator.sol",
  IAgentAccount: "contracts/agents/IAgentAccount.sol",
  IAgentRegistry: "contracts/agents/IAgentRegistry.sol",
  IValidationRegistry: "contracts/agents/IValidationRegistry.sol",
  Guestbook: "contracts/examples/Guestbook.sol",
};

/** `contracts/X.sol:X`, the name a block explorer's verification takes. */
export function qualifiedName(name: ContractName): string {
  return `${sourceOf[name]}:${name}`;
}

const cache = new Map<ContractName, Artifact>();

/** Reads a compiled artifact from Hardhat's `artifacts/` folder (made by `npx hardhat build`). */
export function loadArtifact(name: ContractName): Artifact {
  const cached = cache.get(name);
  if (cached) return cached;
  const file = path.join(repoRoot, "artifacts", sourceOf[name], `${name}.json`);
  if (!existsSync(file))
    throw new BaseError(`No compiled artifact for ${name}.`, {
      details: [`Looked for ${file}.`, "Run `npx hardhat build` first."],
    });
  const artifact = JSON.parse(readFileSync(file, "utf8")) as Artifact;
  cache.set(name, artifact);
  return artifact;
}
