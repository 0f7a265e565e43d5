import { ZeroAddress } from "ethers";
import { fundAgent } from "../agents/fund-agent.ts";
import { agentArgument, agentContext } from "./agent-context.ts";
import { chainOptions, chainUsage, type ChainFlags } from "./chain-context.ts";
import type { Command } from "./command.ts";
import { formatAmount, formatTokenAmount } from "./money.ts";
import { CliInputError, parseAddress, parseEth, parseInteger, requireOption } from "./parse-options.ts";

export const agentFundCommand: Command = {
  summary: [
    "Add to an agent's budget: --amount ETH sent to its account, or with --token ADDR that many base units of the",
    "ERC-20 (the fee token of its model). Anyone may fund an agent; only its owner withdraws (verity agent withdraw).",
  ].join("\n"),
  usage: `AGENT --amount ETH [--token ADDR (then --amount in the token's base units)] ${chainUsage}`,
  options: { ...chainOptions, amount: { type: "string" }, token: { type: "string" } },
  maxPositionals: 1,
  async run(values, positionals) {
    const usage = `verity agent fund ${this.usage}`;
    const ref = agentArgument(positionals, usage);
    const token = values.token === undefined ? ZeroAddress : parseAddress("--token", values.token as string);
    const text = requireOption(values, "amount", usage);
    const amount = token === ZeroAddress ? parseEth("--amount", text) : parseInteger("--amount", text);
    if (amount === 0n)
      throw new CliInputError("--amount 0 adds nothing.", { details: ["Give an amount above 0, e.g. --amount 0.1"] });
    const context = await agentContext(values as ChainFlags, ref);
    try {
      const { receipt, balance } = await fundAgent(context.wallet, { account: context.agent.address, amount, token });
      const shown = token === ZeroAddress ? formatAmount : (value: bigint) => formatTokenAmount(value, token);
      console.log(
        `funded agent ${context.agent.agentId} (${context.agent.address}) with ${shown(amount)} (tx ${receipt.hash})`,
      );
      console.log(`budget ${shown(balance)}`);
    } finally {
      context.provider.destroy();
    }
  },
};
