/**
 * `verity provider unbond --amount ETH|all`: starts taking free stake back. It leaves the stake
 * at once (no longer backs claims) and can be withdrawn after the registry's unbonding delay with
 * `verity withdraw`. A second request adds to the first and restarts the delay.
 */
import { decodeRevert } from "../chain/revert-error.ts";
import { chainContext, chainOptions, chainUsage, type ChainFlags } from "./chain-context.ts";
import type { Command } from "./command.ts";
import { formatAmount } from "./money.ts";
import { CliInputError, parseEth, requireOption } from "./parse-options.ts";

export const providerUnbondCommand: Command = {
  summary: [
    "Start unbonding free stake (--amount ETH, or all of the free stake); `verity withdraw` pays it out after the",
    "registry's unbonding delay. Stake reserved by open jobs cannot unbond until they end; unbonding stake no",
    "longer counts toward the minimum stake, and a second request restarts the delay.",
  ].join("\n"),
  usage: `--amount ETH|all ${chainUsage}`,
  options: { ...chainOptions, amount: { type: "string" } },
  maxPositionals: 0,
  async run(values) {
    const text = requireOption(values, "amount", `verity provider unbond ${this.usage}`);
    const amount = text === "all" ? undefined : parseEth("--amount", text);
    if (amount === 0n) throw new CliInputError("--amount 0 unbonds nothing.", { details: ["Give more than 0 ETH."] });
    const { suite, wallet, provider } = await chainContext(values as ChainFlags);
    try {
      const registry = suite.providerRegistry;
      const free = await registry.freeStakeOf(wallet.address);
      const unbond = amount ?? free;
      if (unbond === 0n)
        throw new CliInputError(`${wallet.address} has no free stake to unbond.`, {
          details: ["`npx verity balance` shows the stake, what open jobs reserve and what is unbonding."],
        });
      let receipt;
      try {
        receipt = await (await registry.requestUnbond(unbond)).wait();
      } catch (error) {
        throw decodeRevert(`unbond ${formatAmount(unbond)}`, error, {
          ProviderInsufficientFreeStake: "Only free stake unbonds: wait for open jobs to end, or unbond less.",
        });
      }
      const [unbonding, releaseTime] = await registry.unbondingOf(wallet.address);
      console.log(`unbonding ${formatAmount(unbonding)} (tx ${receipt!.hash})`);
      console.log(
        `withdrawable from ${new Date(Number(releaseTime) * 1000).toISOString()} with \`npx verity withdraw\``,
      );
    } finally {
      provider.destroy();
    }
  },
};
