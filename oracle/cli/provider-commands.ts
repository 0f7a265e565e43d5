import { formatEther } from "ethers";
import type { Command } from "../cli.ts";
import { createLogger } from "../log/logger.ts";
import { runProviderDaemon } from "../node/provider-daemon.ts";
import { stakeShortfall } from "../node/stake-guard.ts";
import { optedInModelIds } from "../node/served-models.ts";
import { VerificationMode } from "../chain/register-model.ts";
import { chainContext, chainOptions, daemonOptions, daemonUsage, loadDaemonConfig } from "./chain-context.ts";
import { stopSignal } from "./stop-signal.ts";
import { formatAmount } from "./money.ts";
import { CliInputError, parseAddress, parseEth, parseId } from "./parse-options.ts";

export const providerStartCommand: Command = {
  summary: "Run the provider daemon: follow requests for your models, run them, submit results.",
  usage: `${daemonUsage}   (see config/verity.example.jsonc; environment variables override the file)`,
  options: daemonOptions,
  maxPositionals: 0,
  async run(values) {
    const config = loadDaemonConfig(values);
    const logger = createLogger({ level: config.log.level, bindings: { service: "provider" } });
    const signal = stopSignal((reason) => logger.info("stopping", { signal: reason }));
    await runProviderDaemon({ config, logger, signal });
  },
};

export const providerStakeCommand: Command = {
  summary: "Stake ETH as a provider and opt in to models.",
  usage: "--amount ETH [--model ID ...] [--network NAME] [--rpc URL] [--deployment FILE] [--keystore FILE]",
  options: { ...chainOptions, amount: { type: "string" }, model: { type: "string", multiple: true } },
  maxPositionals: 0,
  async run(values) {
    // Every flag is checked before the chain is touched.
    const amount = values.amount === undefined ? undefined : parseEth("--amount", values.amount as string);
    const modelIds = ((values.model as unknown as string[] | undefined) ?? []).map((id) =>
      parseId("--model", id, "model"),
    );
    if (amount === undefined && modelIds.length === 0)
      throw new CliInputError("provider stake needs --amount ETH, --model ID, or both.", {
        details: [`Usage: verity provider stake ${this.usage}`],
      });
    const { suite, provider } = await chainContext(values);
    if (amount !== undefined) {
      const receipt = await (await suite.providerRegistry.stake({ value: amount })).wait();
      console.log(`staked ${formatAmount(amount)} (tx ${receipt?.hash})`);
    }
    for (const id of modelIds) {
      const receipt = await (await suite.providerRegistry.optIn(id)).wait();
      console.log(`opted in to model ${id} (tx ${receipt?.hash})`);
    }
    provider.destroy();
  },
};

export const providerStatusCommand: Command = {
  summary:
    "Show a provider's stake (reserved by open jobs, and free to claim or unbond), unbonding, counters and the models it serves.",
  usage: "[--address ADDR] [--network NAME] [--rpc URL] [--deployment FILE] [--keystore FILE]",
  options: { ...chainOptions, address: { type: "string" } },
  maxPositionals: 0,
  async run(values) {
    const address = values.address === undefined ? undefined : parseAddress("--address", values.address as string);
    const { suite, wallet, provider } = await chainContext(values);
    const who = address ?? wallet.address;
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
    const models = await optedInModelIds(suite, who);
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
