/**
 * Opens a dispute game on an in-process chain: the challenge's parameters from both sides'
 * roots (the first layer where they differ, with its spec and layout proof), the challenge
 * itself with its gas logged, and the game's id read from the receipt's `GameStarted` event
 * rather than from `gameCount`, which another challenge in the same block would move.
 */
import type { BytesLike, ContractTransactionReceipt, Signer } from "ethers";
import type { DisputeGame } from "../chain/dispute-game.ts";
import type { RequestParams } from "../chain/request-params.ts";
import { disputedLayer } from "../dispute/moves.ts";
import type { GasLog } from "./gas-log.ts";
import type { RegisteredModel } from "./register-optimistic.ts";

export type ChallengeParams = {
  /** The request's own params (the market checks them against its commitment). */
  request: RequestParams;
  input: BytesLike;
  defenderRoots: string[];
  challengerRoots: string[];
  layerSpec: string;
  layoutProof: string[];
};

/**
 * The `ChallengeParams` of a challenge by `challengerRoots` against `defenderRoots` over the
 * request made with `request` and `input` (the request's input as it carries it). Roots that
 * agree everywhere dispute layer 0, which the game refuses: for tests of that refusal.
 */
export function challengeParams(
  model: Pick<RegisteredModel, "specs">,
  request: RequestParams,
  input: BytesLike,
  defenderRoots: readonly string[],
  challengerRoots: readonly string[],
): ChallengeParams {
  const { layerSpec, layoutProof } = disputedLayer(model.specs, defenderRoots, challengerRoots);
  return {
    request,
    input,
    defenderRoots: [...defenderRoots],
    challengerRoots: [...challengerRoots],
    layerSpec,
    layoutProof,
  };
}

/** The id of the game a `challenge` receipt started (from its `GameStarted` event). */
export function startedGame(game: DisputeGame, receipt: ContractTransactionReceipt): bigint {
  for (const log of receipt.logs) {
    const parsed = game.interface.parseLog(log);
    if (parsed?.name === "GameStarted") return parsed.args[0] as bigint;
  }
  throw new Error("No GameStarted event in the challenge's receipt.");
}

export type OpenGameParameters = {
  challenger: Signer;
  requestId: bigint;
  params: ChallengeParams;
  bond: bigint;
  /** Notes the challenge as `challenge`, sent by the challenger. */
  gas: GasLog;
};

/** Challenges request `requestId` with `params` and returns the new game's id. */
export async function openGame(
  game: DisputeGame,
  { challenger, requestId, params, bond, gas }: OpenGameParameters,
): Promise<bigint> {
  const tx = game.connect(challenger).challenge(requestId, params, { value: bond });
  return startedGame(game, await gas.record("challenge", tx, "challenger"));
}
