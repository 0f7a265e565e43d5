import { Contract, ZeroAddress, type TransactionReceipt } from "ethers";
import type { InferenceMarket } from "../chain/connect.ts";
import { BaseError } from "../errors.ts";
import type { IAgentAccount } from "./agent-contracts.ts";
import { sendAgentTransaction } from "./send-agent-transaction.ts";

export type WithdrawFromAgentParameters = {
  /** ETH when absent (or address(0)). */
  token?: string | undefined;
  /** In wei or the token's base units; `"all"`: the whole budget in that token. */
  amount: bigint | "all";
  /** Default: the signer (the owner). */
  to?: string | undefined;
};

export type WithdrawFromAgentReturnType = {
  amount: bigint;
  to: string;
  /** What the account reclaimed from the market first (refunds), if anything. */
  reclaimed: bigint;
  receipt: TransactionReceipt;
  /** The budget left in that token. */
  balance: bigint;
};

const erc20Abi = ["function balanceOf(address owner) view returns (uint256)"];

/**
 * The owner takes budget out of the agent's account. The account's credits in the market
 * (refunds of failed or expired requests) are reclaimed into it first, so `"all"` is all. Only
 * the owner may (`AgentNotOwner` otherwise); more than the budget is refused before sending.
 */
export async function withdrawFromAgent(
  account: IAgentAccount,
  market: InferenceMarket,
  { token = ZeroAddress, amount, to }: WithdrawFromAgentParameters,
): Promise<WithdrawFromAgentReturnType> {
  const signer = account.runner as { getAddress?: () => Promise<string> } | null;
  if (!signer?.getAddress) throw new BaseError("withdrawFromAgent needs an account connected with a signer.");
  const address = await account.getAddress();
  const recipient = to ?? (await signer.getAddress());
  const provider = account.runner!.provider!;
  const balanceOf = async () =>
    token === ZeroAddress
      ? provider.getBalance(address)
      : ((await new Contract(token, erc20Abi, provider).getFunction("balanceOf")(address)) as bigint);

  const credit = await market.balanceOf(address, token);
  if (credit > 0n) await sendAgentTransaction("reclaim the agent's refunds from the market", account.reclaim(token));
  const budget = await balanceOf();
  const value = amount === "all" ? budget : amount;
  if (value === 0n)
    throw new BaseError(
      `Agent ${address} has nothing to withdraw${token === ZeroAddress ? "" : ` in token ${token}`}.`,
    );
  if (value > budget)
    throw new BaseError(
      `Agent ${address} holds ${budget} wei${token === ZeroAddress ? "" : ` of token ${token}`}, less than ${value}.`,
      {
        details: ['Withdraw at most the budget (or "all").'],
      },
    );
  const receipt = await sendAgentTransaction(
    `withdraw from agent ${address}`,
    account.withdraw(token, value, recipient),
  );
  return { amount: value, to: recipient, reclaimed: credit, receipt, balance: await balanceOf() };
}
