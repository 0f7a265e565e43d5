/**
 * Verifies the sources of every contract `npx verity deploy --network NAME` created, on a block
 * explorer, with Hardhat's verify plugin:
 *
 *   ETHERSCAN_API_KEY=… npx hardhat run deploy/verify-deployment.ts --network sepolia
 *
 * Reads deployments/<network>.json (or VERITY_DEPLOYMENT), checks that the file is for the
 * node's chain and that each contract's creation transaction is this build's bytecode with the
 * recorded constructor arguments (what the explorer will check), then submits each one.
 * VERITY_VERIFY_PROVIDER picks the explorer (etherscan, the default; blockscout; sourcify, which
 * needs no key). VERITY_VERIFY_DRY_RUN=1 stops after the checks, which need no explorer.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { verifyContract } from "@nomicfoundation/hardhat-verify/verify";
import { Interface } from "ethers";
import hre from "hardhat";
import type { Deployment } from "../oracle/chain/deployment.ts";

type Provider = "etherscan" | "blockscout" | "sourcify";

const connection = await hre.network.getOrCreate();
const { networkName } = connection;
const file = path.resolve(process.env.VERITY_DEPLOYMENT || `deployments/${networkName}.json`);
const deployment = JSON.parse(readFileSync(file, "utf8")) as Deployment;
const rpc = connection.provider;
const chainId = Number(await rpc.request({ method: "eth_chainId" }));
if (deployment.chainId !== chainId)
  throw new Error(`${file} is for chain ${deployment.chainId}, but the network ${networkName} is chain ${chainId}.`);
if (!deployment.deployed?.length)
  throw new Error(`${file} lists no deployed contracts: it was not written by \`npx verity deploy\`.`);

const dryRun = process.env.VERITY_VERIFY_DRY_RUN === "1";
const explorer = (process.env.VERITY_VERIFY_PROVIDER || "etherscan") as Provider;
if (!["etherscan", "blockscout", "sourcify"].includes(explorer))
  throw new Error(`VERITY_VERIFY_PROVIDER=${explorer}: use etherscan, blockscout or sourcify.`);

for (const entry of deployment.deployed) {
  const artifact = await hre.artifacts.readArtifact(entry.contract);
  const expected = artifact.bytecode + new Interface(artifact.abi).encodeDeploy(entry.constructorArgs).slice(2);
  if (entry.transactionHash !== undefined) {
    const tx = (await rpc.request({ method: "eth_getTransactionByHash", params: [entry.transactionHash] })) as {
      input: string;
    } | null;
    if (tx?.input.toLowerCase() !== expected.toLowerCase())
      throw new Error(
        `${entry.name} at ${entry.address} was not created from this build with ${JSON.stringify(entry.constructorArgs)}: ` +
          "rebuild from the commit that deployed it (npx hardhat build) before verifying.",
      );
  }
  const args = entry.constructorArgs.join(" ");
  if (dryRun) {
    console.log(`checked ${entry.name} ${entry.address}: creation code matches (${entry.contract} ${args})`);
    continue;
  }
  console.log(`verifying ${entry.name} ${entry.address} on ${explorer}`);
  await verifyContract(
    {
      address: entry.address,
      contract: entry.contract,
      constructorArgs: entry.constructorArgs,
      provider: explorer,
      ...(explorer === "sourcify" && entry.transactionHash ? { creationTxHash: entry.transactionHash } : {}),
    },
    hre,
  );
}
