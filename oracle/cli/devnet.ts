import path from "node:path";
import type { Command } from "../cli.ts";
import { createRpcProvider, createWallet } from "../chain/connect.ts";
import { deployProfile } from "../chain/deploy-profiles.ts";
import { deployWithProfile } from "../chain/deploy-with-profile.ts";
import { writeDeployment } from "../chain/deployment.ts";
import { DEV_PRIVATE_KEYS, startDevnet } from "../devnet/start-devnet.ts";

export const devnetCommand: Command = {
  summary:
    "Start a local chain on 127.0.0.1, deploy the suite to it with the devnet profile and keep serving until Ctrl-C.",
  usage: "[--port 8545] [--out deployments/localhost.json]",
  options: {
    port: { type: "string", default: "8545" },
    out: { type: "string", default: "deployments/localhost.json" },
  },
  async run(values) {
    const devnet = await startDevnet({ port: Number(values.port) });
    const provider = createRpcProvider(devnet.url, 250);
    const deployer = createWallet(DEV_PRIVATE_KEYS[0], provider);
    // Short windows and clocks, so that a local result settles in seconds (oracle/chain/deploy-profiles.ts).
    const { deployment, game } = await deployWithProfile(deployer, { profile: deployProfile("devnet") });
    const out = path.resolve(values.out as string);
    writeDeployment(out, deployment);
    console.log(`chain      ${devnet.url} (chain id ${deployment.chainId}, deploy profile devnet)`);
    console.log(`deployment ${out}`);
    for (const [name, address] of Object.entries(deployment.contracts)) console.log(`  ${name.padEnd(17)} ${address}`);
    console.log(`  ${"disputeGame".padEnd(17)} ${game}`);
    console.log("development keys (public, never use them elsewhere):");
    DEV_PRIVATE_KEYS.forEach((key, i) => console.log(`  #${i} ${createWallet(key, provider).address} ${key}`));
    provider.destroy();
    await new Promise<void>((resolve) => {
      process.once("SIGINT", resolve);
      process.once("SIGTERM", resolve);
    });
    await devnet.close();
  },
};
