import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { getAddress } from "ethers";
import { BaseError } from "../errors.ts";

/** Where the suite lives on one chain: what `verity deploy` writes and the daemon reads. */
export type Deployment = {
  chainId: number;
  /** Block of the first deployment transaction: event scans start here. */
  startBlock: number;
  contracts: {
    modelRegistry: string;
    providerRegistry: string;
    inferenceMarket: string;
  };
};

export function readDeployment(file: string): Deployment {
  let raw: string;
  try {
    raw = readFileSync(file, "utf8");
  } catch (cause) {
    throw new BaseError(`Cannot read the deployment file ${file}.`, {
      details: ["Deploy the suite first (`npx verity deploy`) or set `contracts` in the config."],
      cause,
    });
  }
  const parsed = JSON.parse(raw) as Deployment;
  for (const key of ["modelRegistry", "providerRegistry", "inferenceMarket"] as const) {
    const address = parsed.contracts?.[key];
    if (typeof address !== "string")
      throw new BaseError(`The deployment file ${file} has no contracts.${key} address.`);
    parsed.contracts[key] = getAddress(address);
  }
  return parsed;
}

export function writeDeployment(file: string, deployment: Deployment): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(deployment, null, 2) + "\n");
}
