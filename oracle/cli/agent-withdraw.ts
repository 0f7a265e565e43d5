import { ZeroAddress } from "ethers";
import { withdrawFromAgent } from "../agents/withdraw-from-agent.ts";
import { agentArgument, agentContext } from "./agent-context.ts";
import { chainOptions, chainUsage, type ChainFlags } from "./chain-context.ts";
import type { Command } from "./command.ts";
import { formatAmount, formatTokenAmount } from "./money.ts";
import { parseAddress, parseEth, parseInteger, requireOption } from "./parse-options.ts";

export const agentWithdrawCommand: Command = {
  summary: [
    "Take budget out of an agent (owner only): --amount ETH or all, or with --token ADDR that token's base units.",
    "Refunds waiting in the market are reclaimed into the budget first. --to ADDR sends it elsewhere than your account.",
  ].join("\n"),
  usage: `AGENT --amount ETH|all [--token ADDR] [--to ADDR] ${chainUsage}`,
  options: { ...chainOptions, amount: { type: "string" }, token: { type: "string" }, to: { type: "string" } },
  maxPositionals: 1,
  async run(values, positionals) {
    const usage = `verity agent withdraw ${this.usage}`;
    const ref = agentArgument(positionals, usage);
    const token = values.token === undefined ? ZeroAddress : parseAddress("--token", values.token as string);
    const text = requireOption(values, "amount", usage);
    const amount =
      text.trim() === "all"
        ? "all"
        : token === ZeroAddress
          ? parseEth("--amount", text)
          : parseInteger("--amount", text);
    const to = values.to === undefined ? undefined : parseAddress("--to", values.to as string);
    const context = await agentContext(values as ChainFlags, ref);
    try {
      const done = await withdrawFromAgent(context.agent.account, context.suite.inferenceMarket, { token, amount, to });
      const shown = token === ZeroAddress ? formatAmount : (value: bigint) => formatTokenAmount(value, token);
      if (done.reclaimed > 0n) console.log(`reclaimed ${shown(done.reclaimed)} of refunds from the market first`);
      console.log(
        `withdrew ${shown(done.amount)} from agent ${context.agent.agentId} to ${done.to} (tx ${done.receipt.hash})`,
      );
      console.log(`budget ${shown(done.balance)}`);
    } finally {
      context.provider.destroy();
    }
  },
};
