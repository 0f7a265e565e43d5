import { formatEther, parseEther } from "ethers";
import type { Command } from "../cli.ts";
import { loadConfig } from "../config/load-config.ts";
import { createLogger } from "../log/logger.ts";
import { runProviderDaemon } from "../node/provider-daemon.ts";
import { stakeShortfall } from "../node/stake-guard.ts";
import { VerificationMode } from "../chain/register-model.ts";
import { chainContext, chainOptions } from "./chain-context.ts";

export const providerStartCommand: Command = {
  summary: "Run the provider daemon: follow requests for your models, run them, submit results.",
  usage: "[--config FILE]   (see config/verity.example.jsonc; environment variables override the file)",
  options: { config: { type: "string" } },
  async run(values) {
    const config = loadConfig({ file: values.config as string | undefined, env: process.env });
    const logger = createLogger({ level: config.log.level, bindings: { service: "provider" } });
    const controller = new AbortController();
    for (const signal of ["SIGINT", "SIGTERM"] as const)
      process.once(signal, () => {
        logger.info("stopping", { signal });
        controller.abort();
      });
    await runProviderDaemon({ config, logger, signal: controller.signal });
  },
};

export const providerStakeCommand: Command = {
  summary: "Stake ETH as a provider and opt in to models.",
  usage: "--amount ETH [--model ID ...] [--rpc URL] [--deployment FILE]",
  options: { ...chainOptions, amount: { type: "string" }, model: { type: "string", multiple: true } },
  async run(values) {
    const { suite, provider } = chainContext(values);
    if (values.amount) {
      const receipt = await (await suite.providerRegistry.stake({ value: parseEther(values.amount as string) })).wait();
      console.log(`staked ${values.amount} ETH (tx ${receipt?.hash})`);
    }
    for (const id of (values.model as unknown as string[] | undefined) ?? []) {
      const receipt = await (await suite.providerRegistry.optIn(BigInt(id))).wait();
      console.log(`opted in to model ${id} (tx ${receipt?.hash})`);
    }
    provider.destroy();
  },
};

export const providerStatusCommand: Command = {
  summary:
    "Show a provider's stake (reserved by open jobs, and free to claim or unbond), unbonding, counters and the models it serves.",
  usage: "[--address ADDR] [--rpc URL] [--deployment FILE]",
  options: { ...chainOptions, address: { type: "string" } },
  async run(values) {
    const { suite, wallet, provider } = chainContext(values);
    const who = (values.address as string | undefined) ?? wallet.address;
    const registry = suite.providerRegistry;
    const market = suite.inferenceMarket;
    const [stake, reserved, [unbonding, releaseTime], [served, failed, slashes], minStake, perClaim, perOptimistic] =
      await Promise.all([
        registry.stakeOf(who),
        registry.reservedOf(who),
        registry.unbondingOf(who),
        registry.statsOf(who),
        registry.minStake(),
        market.reservationOf(VerificationMode.Attested),
        market.reservationOf(VerificationMode.Optimistic),
      ]);
    const free = stake - reserved;
    const models: bigint[] = [];
    const count = await suite.modelRegistry.modelCount();
    for (let id = 1n; id <= count; id++) if (await registry.servesModel(who, id)) models.push(id);
    console.log(`provider   ${who}`);
    console.log(`stake      ${formatEther(stake)} ETH (minimum ${formatEther(minStake)})`);
    console.log(`reserved   ${formatEther(reserved)} ETH (held by open jobs until they end)`);
    const optimistic = perOptimistic === perClaim ? "" : `, ${formatEther(perOptimistic)} ETH for an Optimistic model`;
    console.log(`free       ${formatEther(free)} ETH (a claim reserves ${formatEther(perClaim)} ETH${optimistic})`);
    const shortfall = stakeShortfall({ stake, reserved, free, minStake, needed: perClaim });
    if (shortfall) console.log(`warning    ${shortfall.problem}: ${shortfall.fix}`);
    console.log(
      `unbonding  ${formatEther(unbonding)} ETH${unbonding > 0n ? ` until ${new Date(Number(releaseTime) * 1000).toISOString()}` : ""}`,
    );
    console.log(`jobs       ${served} served, ${failed} failed, ${slashes} slashed`);
    console.log(`models     ${models.length ? models.join(", ") : "none"}`);
    provider.destroy();
  },
};
