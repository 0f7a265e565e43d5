import path from "node:path";
import { formatEther, isAddress, parseEther } from "ethers";
import type { Command } from "../cli.ts";
import { createRpcProvider, createWallet } from "../chain/connect.ts";
import {
  defaultDeployProfile,
  deployProfile,
  deployProfileNames,
  type DeployProfile,
} from "../chain/deploy-profiles.ts";
import { deployWithProfile } from "../chain/deploy-with-profile.ts";
import { writeDeployment } from "../chain/deployment.ts";
import { BaseError } from "../errors.ts";

export const deployCommand: Command = {
  summary: [
    "Deploy ModelRegistry, ProviderRegistry, InferenceMarket and the DisputeGame with the key in VERITY_PRIVATE_KEY.",
    "",
    `--profile picks every parameter (${deployProfileNames.join(", ")}; default ${defaultDeployProfile}: short`,
    "windows and clocks for a local chain; testnet: days, for a public network). The other flags override one value.",
  ].join("\n"),
  usage:
    "--rpc URL [--profile devnet|testnet] [--out deployments/NAME.json] [--treasury ADDR] [--protocol-fee-bps BPS] [--min-stake ETH] [--claim-penalty ETH] [--unbonding-delay SEC]",
  options: {
    rpc: { type: "string" },
    profile: { type: "string", default: defaultDeployProfile },
    out: { type: "string", default: "deployments/localhost.json" },
    treasury: { type: "string" },
    "protocol-fee-bps": { type: "string" },
    "min-stake": { type: "string" },
    "claim-penalty": { type: "string" },
    "unbonding-delay": { type: "string" },
  },
  async run(values) {
    const { name, ...base } = deployProfile(values.profile as string);
    const profile = withOverrides(base, values);
    const treasury = values.treasury as string | undefined;
    if (treasury !== undefined && !isAddress(treasury))
      throw new BaseError(`--treasury ${JSON.stringify(treasury)} is not an address.`);
    const rpcUrl = (values.rpc as string | undefined) ?? process.env.VERITY_RPC_URL;
    const key = process.env.VERITY_PRIVATE_KEY;
    if (!rpcUrl || !key) throw new BaseError("deploy needs --rpc (or VERITY_RPC_URL) and VERITY_PRIVATE_KEY.");
    const provider = createRpcProvider(rpcUrl, 1000);
    try {
      const signer = createWallet(key, provider);
      console.log(
        `profile ${name}: min stake ${formatEther(profile.minStake)} ETH, unbonding ${profile.unbondingDelaySec} s, ` +
          `challenge windows ${profile.minChallengeWindowSec}-${profile.maxChallengeWindowSec} s, clock ${profile.disputeClockSec} s, ` +
          `slash ${formatEther(profile.slashAmount)} ETH`,
      );
      const { deployment, game } = await deployWithProfile(signer, { profile, treasury });
      // The optimistic mode's game; the market names it once and the daemons find it there.
      console.log(`dispute game ${game}`);
      const out = path.resolve(values.out as string);
      writeDeployment(out, deployment);
      console.log(JSON.stringify(deployment, null, 2));
      console.log(`written to ${out}`);
    } finally {
      provider.destroy();
    }
  },
};

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
