import { existsSync } from "node:fs";
import path from "node:path";
import { formatEther, isAddress, parseEther, type JsonRpcProvider } from "ethers";
import type { Command } from "../cli.ts";
import { createRpcProvider, createWallet } from "../chain/connect.ts";
import {
  defaultDeployProfile,
  deployProfile,
  deployProfileNames,
  type DeployProfile,
} from "../chain/deploy-profiles.ts";
import { deployWithProfile } from "../chain/deploy-with-profile.ts";
import { readDeployment, writeDeployment, type Deployment } from "../chain/deployment.ts";
import { readIgnitionDeployment } from "../chain/ignition-deployment.ts";
import { knownNetwork, resolveNetwork, type ResolvedNetwork } from "../chain/networks.ts";
import { BaseError } from "../errors.ts";
import { checkNode, signerKey } from "./chain-context.ts";

export const deployCommand: Command = {
  summary: [
    "Deploy ModelRegistry, ProviderRegistry, InferenceMarket and the DisputeGame, and write deployments/NAME.json,",
    "the file the daemon and every command read (--network NAME picks it; --out overrides).",
    "",
    `--profile picks every parameter (${deployProfileNames.join(", ")}; default ${defaultDeployProfile}: short`,
    "windows and clocks for a local chain; testnet: days, for a public network). The other flags override one value.",
    "The key: --keystore FILE or VERITY_KEYSTORE (password from VERITY_KEYSTORE_PASSWORD or the terminal), or",
    "VERITY_PRIVATE_KEY for development. --network sepolia|holesky|baseSepolia takes its URL from SEPOLIA_RPC_URL,",
    "HOLESKY_RPC_URL or BASE_SEPOLIA_RPC_URL and checks the node's chain id; any other name takes VERITY_RPC_URL.",
    "--from-ignition DIR deploys nothing: it writes the file for a deployment made with the Ignition module",
    "(npx hardhat ignition deploy deploy/modules/Verity.ts …; DIR is deploy/deployments/chain-<id>).",
  ].join("\n"),
  usage:
    "[--network NAME] [--rpc URL] [--keystore FILE] [--profile devnet|testnet] [--out deployments/NAME.json] [--force] [--from-ignition DIR] [--treasury ADDR] [--protocol-fee-bps BPS] [--min-stake ETH] [--claim-penalty ETH] [--unbonding-delay SEC]",
  options: {
    network: { type: "string" },
    rpc: { type: "string" },
    keystore: { type: "string" },
    profile: { type: "string", default: defaultDeployProfile },
    out: { type: "string" },
    force: { type: "boolean" },
    "from-ignition": { type: "string" },
    treasury: { type: "string" },
    "protocol-fee-bps": { type: "string" },
    "min-stake": { type: "string" },
    "claim-penalty": { type: "string" },
    "unbonding-delay": { type: "string" },
  },
  maxPositionals: 0,
  async run(values) {
    const { name, ...base } = deployProfile(values.profile as string);
    const profile = withOverrides(base, values);
    const treasury = values.treasury as string | undefined;
    if (treasury !== undefined && !isAddress(treasury))
      throw new BaseError(`--treasury ${JSON.stringify(treasury)} is not an address.`);
    const network = resolveNetwork({
      network: values.network as string | undefined,
      rpc: values.rpc as string | undefined,
      deployment: values.out as string | undefined,
    });
    const named = values.network !== undefined || process.env.VERITY_NETWORK ? { network: network.name } : {};
    const fromIgnition = values["from-ignition"] as string | undefined;
    if (fromIgnition !== undefined) return adoptIgnitionDeployment(fromIgnition, network, named, values.force === true);
    const provider = createRpcProvider(network.rpcUrl, 1000);
    try {
      const chainId = await checkNode(provider, network);
      const out = path.resolve(network.deploymentFile);
      if (!values.force) await refuseLiveDeployment(out, chainId, provider);
      const key = await signerKey(values);
      const signer = createWallet(key, provider);
      console.log(
        `network ${network.name} (chain ${chainId}), deployer ${signer.address}, ` +
          `balance ${formatEther(await provider.getBalance(signer.address))} ETH`,
      );
      console.log(
        `profile ${name}: min stake ${formatEther(profile.minStake)} ETH, unbonding ${profile.unbondingDelaySec} s, ` +
          `challenge windows ${profile.minChallengeWindowSec}-${profile.maxChallengeWindowSec} s, clock ${profile.disputeClockSec} s, ` +
          `slash ${formatEther(profile.slashAmount)} ETH`,
      );
      const { deployment, game } = await deployWithProfile(signer, { profile, treasury });
      // The optimistic mode's game; the market names it once and the daemons find it there.
      console.log(`dispute game ${game}`);
      const { deployed, ...rest } = deployment;
      writeDeployment(out, { ...rest, ...named, profile: name, deployed });
      printWritten(rest, out, network.name);
    } finally {
      provider.destroy();
    }
  },
};

/**
 * `--from-ignition DIR`: the deployment an Ignition run made (deploy/modules/Verity.ts), checked
 * against the node (chain id, code at the market), written where every command reads it.
 */
async function adoptIgnitionDeployment(
  dir: string,
  network: ResolvedNetwork,
  named: { network?: string },
  force: boolean,
): Promise<void> {
  const deployment = readIgnitionDeployment(dir);
  const provider = createRpcProvider(network.rpcUrl, 1000);
  try {
    const chainId = await checkNode(provider, network);
    if (deployment.chainId !== chainId)
      throw new BaseError(`${dir} is a deployment on chain ${deployment.chainId}, but the node is chain ${chainId}.`);
    const market = deployment.contracts.inferenceMarket;
    if ((await provider.getCode(market)) === "0x")
      throw new BaseError(`The node has no code at the market ${market} of ${dir}.`, {
        details: ["Is the node synced, and the folder the one Ignition wrote for this chain?"],
      });
    const out = path.resolve(network.deploymentFile);
    if (!force) await refuseLiveDeployment(out, chainId, provider, market);
    const { deployed, ...rest } = deployment;
    writeDeployment(out, { ...rest, ...named, profile: "ignition", deployed });
    printWritten(rest, out, network.name);
  } finally {
    provider.destroy();
  }
}

function printWritten(deployment: Omit<Deployment, "deployed">, out: string, networkName: string): void {
  console.log(JSON.stringify(deployment, null, 2));
  console.log(`written to ${out}`);
  if (knownNetwork(networkName))
    console.log(
      `verify the sources: ETHERSCAN_API_KEY=… npx hardhat run deploy/verify-deployment.ts --network ${networkName}`,
    );
}

/**
 * Refuses to overwrite a deployment file whose contracts are live on this chain: on a public
 * network it is the only record of the addresses every provider and dApp uses.
 */
async function refuseLiveDeployment(
  file: string,
  chainId: number,
  provider: JsonRpcProvider,
  replacement?: string,
): Promise<void> {
  if (!existsSync(file)) return;
  let existing: Deployment;
  try {
    existing = readDeployment(file);
  } catch {
    return; // not a deployment: overwritten
  }
  if (existing.chainId !== chainId || existing.contracts.inferenceMarket === replacement) return;
  if ((await provider.getCode(existing.contracts.inferenceMarket)) === "0x") return;
  throw new BaseError(`${path.relative(process.cwd(), file) || file} holds a live deployment on chain ${chainId}.`, {
    details: [
      `Its market ${existing.contracts.inferenceMarket} has code. Keep it, or deploy anew with --force (or another --out FILE).`,
    ],
  });
}

/** The profile with the single-value flags applied, each checked. */
function withOverrides(profile: DeployProfile, values: Record<string, string | boolean | undefined>): DeployProfile {
  const flag = (name: string) => values[name] as string | undefined;
  const integer = (name: string, max: bigint): bigint | undefined => {
    const text = flag(name);
    if (text === undefined) return undefined;
    if (!/^\d+$/.test(text) || BigInt(text) > max)
      throw new BaseError(`--${name} ${JSON.stringify(text)} is not a whole number from 0 to ${max}.`);
    return BigInt(text);
  };
  const ether = (name: string): bigint | undefined => {
    const text = flag(name);
    if (text === undefined) return undefined;
    try {
      const wei = parseEther(text);
      if (wei >= 0n) return wei;
    } catch {
      // reported below
    }
    throw new BaseError(`--${name} ${JSON.stringify(text)} is not an amount of ETH (e.g. 0.1).`);
  };
  const feeBps = integer("protocol-fee-bps", 1000n);
  return {
    ...profile,
    ...(feeBps === undefined ? {} : { protocolFeeBps: Number(feeBps) }),
    minStake: ether("min-stake") ?? profile.minStake,
    claimPenalty: ether("claim-penalty") ?? profile.claimPenalty,
    unbondingDelaySec: integer("unbonding-delay", 2n ** 64n - 1n) ?? profile.unbondingDelaySec,
  };
}
