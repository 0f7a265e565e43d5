/**
 * `verity withdraw [--token ADDR|eth ...]`: pays out everything the account can withdraw: its
 * credits in the market (refunds, failed requests' fees, claim penalties, provider fees,
 * royalties; ETH and each ERC-20), its credit in the dispute game and unbonded provider stake
 * past its release time. With --token, only the market's credits in those tokens.
 */
import { ZeroAddress } from "ethers";
import { withdraw, type Payout } from "../sdk/withdraw.ts";
import { describeBalances } from "./balance.ts";
import { chainContext, chainOptions, chainUsage, type ChainFlags } from "./chain-context.ts";
import type { Command } from "./command.ts";
import { formatAmount } from "./money.ts";
import { parseAddress } from "./parse-options.ts";

export const withdrawCommand: Command = {
  summary: [
    "Withdraw everything the account can: market credits (ETH and ERC-20), the dispute game's credit, unbonded stake.",
    "",
    "Refunds of expired and failed requests, claim penalties, provider fees and royalties are credited in the",
    "market, bonds in the dispute game; nothing is sent to an account until it withdraws. --token ADDR (or eth)",
    "withdraws only the market's credit in that token. `verity balance` shows what there is.",
  ].join("\n"),
  usage: `[--token ADDR|eth ...] ${chainUsage}`,
  options: { ...chainOptions, token: { type: "string", multiple: true } },
  maxPositionals: 0,
  async run(values) {
    const flags = values as ChainFlags;
    const tokens = (flags.token as string[] | undefined)?.map((token) =>
      token.toLowerCase() === "eth" ? ZeroAddress : parseAddress("--token", token),
    );
    const { suite, provider, deployment } = await chainContext(flags);
    try {
      const { payouts, before } = await withdraw(suite, { tokens, fromBlock: deployment.startBlock });
      if (payouts.length === 0) {
        console.log(`nothing to withdraw for ${before.account}`);
        for (const line of describeBalances(before).slice(1, -1)) console.log(line);
        return;
      }
      for (const payout of payouts) console.log(describePayout(payout));
    } finally {
      provider.destroy();
    }
  },
};

function describePayout(payout: Payout): string {
  const amount = formatAmount(payout.amount, payout);
  const from = {
    market: `from the market${payout.token === ZeroAddress ? "" : ` (token ${payout.token})`}`,
    disputeGame: "from the dispute game",
    unbondedStake: "of unbonded stake",
  }[payout.source];
  return `withdrew ${amount} ${from} (tx ${payout.transactionHash})`;
}
