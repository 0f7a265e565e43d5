import path from "node:path";
import { parseEther } from "ethers";
import type { Command } from "../cli.ts";
import { createRpcProvider, createWallet } from "../chain/connect.ts";
import { deployDisputeGame } from "../chain/deploy-dispute-game.ts";
import { deploySuite } from "../chain/deploy-suite.ts";
import { writeDeployment } from "../chain/deployment.ts";
import { BaseError } from "../errors.ts";

export const deployCommand: Command = {
  summary: "Deploy ModelRegistry, ProviderRegistry and InferenceMarket with the key in VERITY_PRIVATE_KEY.",
  usage:
    "--rpc URL [--out deployments/NAME.json] [--treasury ADDR] [--protocol-fee-bps 250] [--min-stake 1] [--claim-penalty 0.1] [--unbonding-delay 2678400]",
  options: {
    rpc: { type: "string" },
    out: { type: "string", default: "deployments/localhost.json" },
    treasury: { type: "string" },
    "protocol-fee-bps": { type: "string" },
    "min-stake": { type: "string" },
    "claim-penalty": { type: "string" },
    "unbonding-delay": { type: "string" },
  },
  async run(values) {
    const rpcUrl = (values.rpc as string | undefined) ?? process.env.VERITY_RPC_URL;
    const key = process.env.VERITY_PRIVATE_KEY;
    if (!rpcUrl || !key) throw new BaseError("deploy needs --rpc (or VERITY_RPC_URL) and VERITY_PRIVATE_KEY.");
    const provider = createRpcProvider(rpcUrl, 1000);
    const optional = (name: string) => values[name] as string | undefined;
    const signer = createWallet(key, provider);
    const deployment = await deploySuite(signer, {
      treasury: optional("treasury"),
      protocolFeeBps: optional("protocol-fee-bps") === undefined ? undefined : Number(optional("protocol-fee-bps")),
      minStake: optional("min-stake") === undefined ? undefined : parseEther(optional("min-stake")!),
      claimPenalty: optional("claim-penalty") === undefined ? undefined : parseEther(optional("claim-penalty")!),
      unbondingDelaySec: optional("unbonding-delay") === undefined ? undefined : BigInt(optional("unbonding-delay")!),
    });
    // The optimistic mode's game; the market names it once and the daemons find it there.
    const { game } = await deployDisputeGame(signer, deployment);
    console.log(`dispute game ${game}`);
    const out = path.resolve(values.out as string);
    writeDeployment(out, deployment);
    console.log(JSON.stringify(deployment, null, 2));
    console.log(`written to ${out}`);
    provider.destroy();
  },
};
