import { ZeroAddress, type ContractTransactionResponse } from "ethers";
import type { Suite } from "../chain/connect.ts";
import { connectDisputeGame } from "../chain/dispute-game.ts";
import { decodeRevert } from "../chain/revert-error.ts";
import { BaseError } from "../errors.ts";
import { getBalances, type GetBalancesReturnType } from "./get-balances.ts";

export type WithdrawParameters = {
  /**
   * Only the market's credits in these tokens (address(0) for ETH). Default: ETH and every token
   * the account was credited in, and then the dispute game and unbonded stake too.
   */
  tokens?: readonly string[] | undefined;
  /** Also the dispute game's credit (default: true when `tokens` is not given). */
  disputeGame?: boolean | undefined;
  /** Also unbonded provider stake past its release time (default: true when `tokens` is not given). */
  unbondedStake?: boolean | undefined;
  /** First block of the event search for credited tokens. Default 0. */
  fromBlock?: number | undefined;
};

/** One payout: where it came from, the token (address(0) for ETH), how much, and the transaction. */
export type Payout = {
  source: "market" | "disputeGame" | "unbondedStake";
  token: string;
  symbol: string;
  decimals: number;
  amount: bigint;
  transactionHash: string;
};

export type WithdrawReturnType = {
  payouts: Payout[];
  /** The balances before, for reporting what was left (stake still unbonding, reserved stake). */
  before: GetBalancesReturnType;
};

/**
 * Pays out everything the signer of `suite` can withdraw: its credits in the InferenceMarket
 * (refunds, failed requests' fees, penalties, provider fees, royalties; ETH and each ERC-20), its
 * credit in the DisputeGame, and provider stake whose unbonding delay has passed. A source with
 * nothing in it sends no transaction; a refusal is thrown decoded (`ChainRevertError`).
 */
export async function withdraw(
  suite: Suite,
  {
    tokens,
    disputeGame = tokens === undefined,
    unbondedStake = tokens === undefined,
    fromBlock,
  }: WithdrawParameters = {},
): Promise<WithdrawReturnType> {
  const signer = suite.inferenceMarket.runner as { getAddress?: () => Promise<string> } | null;
  if (!signer?.getAddress) throw new BaseError("withdraw needs a suite connected with a signer (a wallet).");
  const account = await signer.getAddress();
  const before = await getBalances(suite, { account, tokens, fromBlock });
  const payouts: Payout[] = [];
  const send = async (action: string, sent: Promise<ContractTransactionResponse>) => {
    try {
      const receipt = await (await sent).wait();
      return receipt!.hash;
    } catch (error) {
      throw decodeRevert(action, error);
    }
  };

  const wanted = tokens === undefined ? undefined : new Set(tokens.map((token) => token.toLowerCase()));
  for (const credit of before.market) {
    if (credit.amount === 0n || (wanted && !wanted.has(credit.token.toLowerCase()))) continue;
    const what = credit.token === ZeroAddress ? "ETH" : `token ${credit.token}`;
    const hash = await send(`withdraw ${what} from the market`, suite.inferenceMarket.withdraw(credit.token));
    payouts.push({ source: "market", ...credit, transactionHash: hash });
  }
  if (disputeGame && before.disputeGame && before.disputeGame.amount > 0n) {
    const game = await connectDisputeGame(suite.inferenceMarket, suite.inferenceMarket.runner!);
    const hash = await send("withdraw from the dispute game", game.withdraw());
    payouts.push({
      source: "disputeGame",
      token: ZeroAddress,
      symbol: "ETH",
      decimals: 18,
      amount: before.disputeGame.amount,
      transactionHash: hash,
    });
  }
  if (unbondedStake && before.stake?.withdrawableNow) {
    const hash = await send("withdraw unbonded stake", suite.providerRegistry.withdrawUnbonded());
    payouts.push({
      source: "unbondedStake",
      token: ZeroAddress,
      symbol: "ETH",
      decimals: 18,
      amount: before.stake.unbonding,
      transactionHash: hash,
    });
  }
  return { payouts, before };
}
