import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { getAddress } from "ethers";
import { BaseError } from "../errors.ts";
import type { ContractName } from "./artifacts.ts";

/** One contract `verity deploy` created, with what a block explorer's verification needs. */
export type DeployedContract = {
  name: ContractName;
  /** Fully qualified: `contracts/ModelRegistry.sol:ModelRegistry`. */
  contract: string;
  address: string;
  /** As strings (`hardhat verify` takes them so); numbers in decimal. */
  constructorArgs: string[];
  transactionHash?: string | undefined;
};

/** Where the suite lives on one chain: what `verity deploy` writes and the daemon reads. */
export type Deployment = {
  chainId: number;
  /** Block of the first deployment transaction: event scans start here. */
  startBlock: number;
  /** The network's name (`--network`), when `verity deploy` was given one. */
  network?: string | undefined;
  /** The deploy profile, when written by `verity deploy`. */
  profile?: string | undefined;
  contracts: {
    modelRegistry: string;
    providerRegistry: string;
    inferenceMarket: string;
    /**
     * The agent contracts (docs/agents.md): ERC-8004 identities and their accounts, the ERC-8004
     * validation registry and Verity's validator. Absent from files written before agents existed.
     */
    agentRegistry?: string | undefined;
    validationRegistry?: string | undefined;
    verityValidator?: string | undefined;
  };
  /** Every contract deployed (the dispute game and its prover too), for `deploy/verify-deployment.ts`. */
  deployed?: DeployedContract[] | undefined;
};

const SUITE_KEYS = ["modelRegistry", "providerRegistry", "inferenceMarket"] as const;
/** Optional: a deployment made before the agent contracts has none of them. */
const AGENT_KEYS = ["agentRegistry", "validationRegistry", "verityValidator"] as const;

export function readDeployment(file: string): Deployment {
  let raw: string;
  try {
    raw = readFileSync(file, "utf8");
  } catch (cause) {
    throw new BaseError(`Cannot read the deployment file ${file}.`, {
      details: [
        "Deploy the suite first (`npx verity deploy --network NAME`, or `npx verity devnet` locally), name the",
        "network it was deployed on (--network NAME reads deployments/NAME.json), or set `contracts` in the config.",
      ],
      cause,
    });
  }
  let parsed: Deployment;
  try {
    parsed = JSON.parse(raw) as Deployment;
  } catch (cause) {
    throw new BaseError(`The deployment file ${file} is not valid JSON.`, {
      details: [(cause as Error).message],
      cause,
    });
  }
  if (parsed === null || typeof parsed !== "object" || !Number.isInteger(parsed.chainId))
    throw new BaseError(`The deployment file ${file} has no chainId.`, {
      details: ["It is the file `npx verity deploy` writes: { chainId, startBlock, contracts: { … } }."],
    });
  for (const key of [...SUITE_KEYS, ...AGENT_KEYS]) {
    const address = parsed.contracts?.[key];
    if (address === undefined && (AGENT_KEYS as readonly string[]).includes(key)) continue;
    if (typeof address !== "string")
      throw new BaseError(`The deployment file ${file} has no contracts.${key} address.`);
    try {
      parsed.contracts[key] = getAddress(address);
    } catch (cause) {
      throw new BaseError(
        `The deployment file ${file} has contracts.${key} = ${JSON.stringify(address)}, not an address.`,
        {
          cause,
        },
      );
    }
  }
  if (!Number.isInteger(parsed.startBlock)) parsed.startBlock = 0;
  return parsed;
}

export function writeDeployment(file: string, deployment: Deployment): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(deployment, null, 2) + "\n");
}
