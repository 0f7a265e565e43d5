import { ZeroAddress, type ContractRunner } from "ethers";
import type { DisputeGame } from "../../types/ethers-contracts/dispute/DisputeGame.ts";
import { BaseError } from "../errors.ts";
import { attach, type InferenceMarket } from "./connect.ts";
import { enumName, GamePhase, GameSide } from "./enums.ts";

export type { DisputeGame };

export { GamePhase, GameSide };

export function gamePhaseName(phase: number | bigint): string {
  return enumName(GamePhase, phase);
}

export function gameSideName(side: number | bigint): string {
  return enumName(GameSide, side);
}

/** The dispute game the market names (`InferenceMarket.disputeGame()`), as seen by `runner`. */
export async function connectDisputeGame(market: InferenceMarket, runner: ContractRunner): Promise<DisputeGame> {
  const address = await market.disputeGame();
  if (address === ZeroAddress)
    throw new BaseError("The market has no dispute game.", {
      details: ["Optimistic results cannot be challenged or defended until the owner calls setDisputeGame."],
    });
  return attach<DisputeGame>("DisputeGame", address, runner);
}

/** A game as `GameStarted` announced it. */
export type StartedGame = { gameId: bigint; requestId: bigint; challenger: string; layer: number; bond: bigint };

/**
 * The games opened over request `requestId` (any number, each its own challenger), optionally
 * only `challenger`'s, in the order they started. There is no on-chain index of them: the
 * `GameStarted` event, indexed by request and challenger, is it.
 */
export async function gamesOf(
  game: DisputeGame,
  requestId: bigint,
  { fromBlock, challenger }: { fromBlock: number; challenger?: string | undefined },
): Promise<StartedGame[]> {
  const logs = await game.queryFilter(game.filters.GameStarted(undefined, requestId, challenger), fromBlock);
  return logs.map(({ args }) => ({
    gameId: args.gameId,
    requestId: args.requestId,
    challenger: args.challenger,
    layer: Number(args.layer),
    bond: args.bond,
  }));
}

/** How a game ended (`GameResolved`); `moot`: the request was already refunded, the bond went back to the challenger. */
export type GameResolution = { winner: number; slashed: bigint; moot: boolean };

/** The resolution of game `gameId`, or undefined while it is open. */
export async function gameResolution(
  game: DisputeGame,
  gameId: bigint,
  fromBlock: number,
): Promise<GameResolution | undefined> {
  const [log] = await game.queryFilter(game.filters.GameResolved(gameId), fromBlock);
  if (!log) return undefined;
  return { winner: Number(log.args.winner), slashed: log.args.slashed, moot: log.args.moot };
}
