import { Contract, ZeroAddress, getAddress, type ContractRunner } from "ethers";
import type { Suite } from "../chain/connect.ts";
import { connectDisputeGame } from "../chain/dispute-game.ts";

export type GetBalancesParameters = {
  account: string;
  /** ERC-20 tokens to look at besides ETH; those the account was ever credited in are found from the market's events. */
  tokens?: readonly string[] | undefined;
  /** First block of the event search for credited tokens (the deployment's start block). Default 0. */
  fromBlock?: number | undefined;
};

/** A balance the market holds for an account in one token (address(0) is ETH). */
export type TokenCredit = { token: string; symbol: string; decimals: number; amount: bigint };

/** A provider's stake in the ProviderRegistry. */
export type StakeBalance = {
  stake: bigint;
  /** Held by open jobs until they end. */
  reserved: bigint;
  /** Free to back a claim or to unbond. */
  free: bigint;
  unbonding: bigint;
  /** When the unbonding stake can be withdrawn (unix seconds; 0 if none). */
  releaseTime: bigint;
  /** The unbonding stake is past its release time: `withdraw` pays it out. */
  withdrawableNow: boolean;
};

export type GetBalancesReturnType = {
  account: string;
  /** Credits in the InferenceMarket: refunds, failed requests' fees, claim penalties, provider fees, royalties. */
  market: TokenCredit[];
  /** Credits in the DisputeGame (bonds won or returned); undefined if the market has no game. */
  disputeGame: { address: string; amount: bigint } | undefined;
  /** Undefined for an account that never staked. */
  stake: StakeBalance | undefined;
};

const erc20Abi = ["function symbol() view returns (string)", "function decimals() view returns (uint8)"];

/**
 * What `account` has in the suite and can get back: its credits in the market (ETH and every
 * ERC-20 it was credited in), its credit in the dispute game, and its provider stake (reserved,
 * free, unbonding and whether that can be withdrawn now).
 */
export async function getBalances(
  suite: Suite,
  { account, tokens = [], fromBlock = 0 }: GetBalancesParameters,
): Promise<GetBalancesReturnType> {
  const { inferenceMarket: market, providerRegistry: registry } = suite;
  const runner = market.runner as ContractRunner;
  const credited = await market
    .queryFilter(market.filters.Credited(account), fromBlock)
    .then((logs) => logs.map((log) => log.args.token))
    // A node that limits log ranges: the tokens given and ETH are still shown.
    .catch(() => [] as string[]);
  const tokenSet = [...new Set([ZeroAddress, ...tokens, ...credited].map((token) => getAddress(token)))];
  const marketCredits = await Promise.all(
    tokenSet.map(async (token): Promise<TokenCredit> => {
      const amount = await market.balanceOf(account, token);
      if (token === ZeroAddress) return { token, symbol: "ETH", decimals: 18, amount };
      const erc20 = new Contract(token, erc20Abi, runner);
      const [symbol, decimals] = await Promise.all([
        erc20
          .getFunction("symbol")()
          .catch(() => token.slice(0, 10)) as Promise<string>,
        erc20
          .getFunction("decimals")()
          .catch(() => 18n) as Promise<bigint>,
      ]);
      return { token, symbol, decimals: Number(decimals), amount };
    }),
  );

  const gameAddress = await market.disputeGame();
  let disputeGame: GetBalancesReturnType["disputeGame"];
  if (gameAddress !== ZeroAddress) {
    const game = await connectDisputeGame(market, runner);
    disputeGame = { address: gameAddress, amount: await game.balanceOf(account) };
  }

  const [stake, reserved, [unbonding, releaseTime], block] = await Promise.all([
    registry.stakeOf(account),
    registry.reservedOf(account),
    registry.unbondingOf(account),
    runner.provider!.getBlock("latest"),
  ]);
  const staked = stake > 0n || unbonding > 0n;
  return {
    account: getAddress(account),
    market: marketCredits,
    disputeGame,
    stake: staked
      ? {
          stake,
          reserved,
          free: stake - reserved,
          unbonding,
          releaseTime,
          withdrawableNow: unbonding > 0n && BigInt(block!.timestamp) >= releaseTime,
        }
      : undefined,
  };
}
