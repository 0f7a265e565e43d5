import { readFileSync } from "node:fs";
import path from "node:path";
import { getAddress } from "ethers";
import { BaseError } from "../errors.ts";
import { qualifiedName, type ContractName } from "./artifacts.ts";
import type { DeployedContract, Deployment } from "./deployment.ts";

/** The contracts of the Ignition module `deploy/modules/Verity.ts`, in the order `verity deploy` creates them. */
const MODULE_CONTRACTS: ContractName[] = [
  "ModelRegistry",
  "ProviderRegistry",
  "InferenceMarket",
  "LayerStepProver",
  "DisputeGame",
];

/**
 * The agent contracts, deployed by the module after the suite. A journal of a run of the module
 * before agents existed has none of them: it is read without them (and without their addresses).
 */
const AGENT_CONTRACTS: ContractName[] = ["AgentAccount", "AgentRegistry", "ValidationRegistry", "VerityValidator"];

/** The calls that wire the suite; the deployment is usable only once both succeeded. */
const WIRING_CALLS = ["Verity#ProviderRegistry.setMarket", "Verity#InferenceMarket.setDisputeGame"];

type JournalLine = {
  type?: string;
  chainId?: number;
  futureId?: string;
  contractName?: string;
  constructorArgs?: unknown[];
  hash?: string;
  receipt?: { blockNumber?: number; contractAddress?: string; status?: string };
  result?: { type?: string; address?: string };
};

/**
 * The deployment an Ignition run of `deploy/modules/Verity.ts` made, as `verity deploy` writes
 * it: read from its folder (`deploy/deployments/chain-<id>/journal.jsonl`), with the chain id,
 * the block of its first transaction, the addresses and each contract's constructor arguments
 * and creation transaction. Throws when the run did not finish (Ignition resumes it when run
 * again).
 */
export function readIgnitionDeployment(dir: string): Deployment {
  const file = path.join(dir, "journal.jsonl");
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (cause) {
    throw new BaseError(`Cannot read the Ignition journal ${file}.`, {
      details: ["Name the folder Ignition wrote, e.g. deploy/deployments/chain-11155111."],
      cause,
    });
  }
  const lines = text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line, index) => {
      try {
        return JSON.parse(line) as JournalLine;
      } catch (cause) {
        throw new BaseError(`${file}:${index + 1} is not a journal line.`, { cause });
      }
    });
  const chainId = lines.find((line) => line.type === "DEPLOYMENT_INITIALIZE")?.chainId;
  if (!Number.isInteger(chainId)) throw new BaseError(`${file} is not an Ignition journal: no chain id.`);

  const completed = new Set(
    lines
      .filter((line) => line.type?.endsWith("_EXECUTION_STATE_COMPLETE") && line.result?.type === "SUCCESS")
      .map((line) => line.futureId),
  );
  const confirmed = new Map(
    lines.filter((line) => line.type === "TRANSACTION_CONFIRM").map((line) => [line.futureId, line] as const),
  );
  const withAgents = lines.some((line) =>
    AGENT_CONTRACTS.some((name) => line.futureId === `Verity#${name}` || line.contractName === name),
  );
  const contracts = withAgents ? [...MODULE_CONTRACTS, ...AGENT_CONTRACTS] : MODULE_CONTRACTS;
  const missing = [...contracts.map((name) => `Verity#${name}`), ...WIRING_CALLS].filter((id) => !completed.has(id));
  if (missing.length > 0)
    throw new BaseError(`The Ignition deployment in ${dir} is not finished: ${missing.join(", ")} not done.`, {
      details: ["Run the same `npx hardhat ignition deploy` command again: it resumes where it stopped."],
    });

  const deployed: DeployedContract[] = contracts.map((name) => {
    const futureId = `Verity#${name}`;
    const init = lines.find(
      (line) => line.type === "DEPLOYMENT_EXECUTION_STATE_INITIALIZE" && line.futureId === futureId,
    );
    const confirm = confirmed.get(futureId);
    const address = confirm?.receipt?.contractAddress;
    if (!init || !address) throw new BaseError(`${file} has no creation of ${futureId}.`);
    return {
      name,
      contract: qualifiedName(name),
      address: getAddress(address),
      constructorArgs: (init.constructorArgs ?? []).map(journalValue),
      transactionHash: confirm.hash,
    };
  });
  const blocks = [...confirmed.values()].map((line) => line.receipt?.blockNumber).filter(Number.isInteger) as number[];
  const address = (name: ContractName) => deployed.find((contract) => contract.name === name)!.address;
  return {
    chainId: chainId!,
    startBlock: Math.min(...blocks),
    contracts: {
      modelRegistry: address("ModelRegistry"),
      providerRegistry: address("ProviderRegistry"),
      inferenceMarket: address("InferenceMarket"),
      ...(withAgents && {
        agentRegistry: address("AgentRegistry"),
        validationRegistry: address("ValidationRegistry"),
        verityValidator: address("VerityValidator"),
      }),
    },
    deployed,
  };
}

/** A constructor argument as the journal holds it (bigints as `{ _kind: "bigint", value }`), as a string. */
function journalValue(value: unknown): string {
  if (typeof value === "object" && value !== null && (value as { _kind?: unknown })._kind === "bigint")
    return String((value as { value: unknown }).value);
  return String(value);
}
