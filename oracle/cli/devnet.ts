import path from "node:path";
import type { Command } from "../cli.ts";
import { createRpcProvider, createWallet } from "../chain/connect.ts";
import { deployProfile } from "../chain/deploy-profiles.ts";
import { deployWithProfile } from "../chain/deploy-with-profile.ts";
import { writeDeployment } from "../chain/deployment.ts";
import { DEV_PRIVATE_KEYS, setBlockTime, startDevnet } from "../devnet/start-devnet.ts";
import { BaseError } from "../errors.ts";
import { stopSignal } from "./stop-signal.ts";

export const devnetCommand: Command = {
  summary:
    "Start a local chain on 127.0.0.1, deploy the suite to it with the devnet profile and keep serving until Ctrl-C (or SIGTERM).",
  usage:
    "[--port 8545] [--block-time SECONDS] [--out deployments/localhost.json]   (without --block-time, a block per transaction)",
  options: {
    port: { type: "string", default: "8545" },
    "block-time": { type: "string" },
    out: { type: "string", default: "deployments/localhost.json" },
  },
  maxPositionals: 0,
  async run(values) {
    const port = parsePort(values.port as string);
    const blockTimeSec =
      values["block-time"] === undefined ? undefined : parseBlockTime(values["block-time"] as string);
    const signal = stopSignal();
    // Deployed with a block per transaction (seconds, not minutes); interval mining from then on.
    const devnet = await startDevnet({ port });
    const provider = createRpcProvider(devnet.url, 250);
    const deployer = createWallet(DEV_PRIVATE_KEYS[0], provider);
    // Short windows and clocks, so that a local result settles in seconds (oracle/chain/deploy-profiles.ts).
    const { deployment, game } = await deployWithProfile(deployer, { profile: deployProfile("devnet") });
    const out = path.resolve(values.out as string);
    writeDeployment(out, deployment);
    if (blockTimeSec !== undefined) await setBlockTime(devnet.url, blockTimeSec);
    const mining = blockTimeSec === undefined ? "a block per transaction" : `a block every ${blockTimeSec} s`;
    console.log(`chain      ${devnet.url} (chain id ${deployment.chainId}, deploy profile devnet, ${mining})`);
    console.log(`deployment ${out}`);
    for (const [name, address] of Object.entries(deployment.contracts)) console.log(`  ${name.padEnd(17)} ${address}`);
    console.log(`  ${"disputeGame".padEnd(17)} ${game}`);
    console.log("development keys (public, never use them elsewhere):");
    DEV_PRIVATE_KEYS.forEach((key, i) => console.log(`  #${i} ${createWallet(key, provider).address} ${key}`));
    provider.destroy();
    if (!signal.aborted) await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
    await devnet.close();
    console.log("devnet stopped");
  },
};

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text.trim()) || port > 65_535)
    throw new BaseError(`--port must be a port number (0 to 65535), got "${text}".`, {
      details: ["0 picks a free port."],
    });
  return port;
}

function parseBlockTime(text: string): number {
  const seconds = Number(text);
  if (text.trim() === "" || !Number.isFinite(seconds) || seconds < 0.1 || seconds > 3600)
    throw new BaseError(`--block-time must be a number of seconds from 0.1 to 3600, got "${text}".`, {
      details: ["For example --block-time 2 mines a block every 2 seconds, as a public chain would."],
    });
  return seconds;
}
