/**
 * One step of a dispute game for one side, from the chain's view of the game and our own trace:
 * our move when it is our turn (defender: reveal, revealChunk; challenger: bisect, proveStep),
 * a timeout claim when the other side's clock has run out, nothing otherwise. Every step starts
 * from `getGame`, so a restarted process simply carries on.
 */
import { getBytes, type TransactionReceipt } from "ethers";
import { GamePhase, GameSide, gamePhaseName, type DisputeGame } from "../chain/dispute-game.ts";
import type { TxSender } from "../chain/tx-sender.ts";
import { encodeLayerSpec, LayerKind } from "../dispute/layout.ts";
import {
  chunkBytes,
  differingElement,
  elementBytes,
  nodeChildren,
  stepProof,
  stepSource,
  type TraceTrees,
} from "../dispute/moves.ts";
import type { Logger } from "../log/logger.ts";
import { CHUNK_SIZE } from "../model/vqm/commitments.ts";
import type { Tensor } from "../model/tensor.ts";
import type { DisputeRole } from "../store/open-dispute-store.ts";
import type { OptimisticModel } from "./optimistic-models.ts";

export type GameStepContext = {
  game: DisputeGame;
  sender: TxSender;
  logger: Logger;
  /** First block to search for game events. */
  fromBlock: number;
};

export type GameStepParameters = {
  gameId: bigint;
  role: DisputeRole;
  own: TraceTrees;
  model: OptimisticModel;
  /** The request's input tensor (a step source when layer k reads the model input). */
  input: Tensor;
};

export type GameStepReturnType = {
  resolved: boolean;
  /** `GameSide` of the winner once resolved. */
  winner: number;
  /** The move sent in this step, if any. */
  move?: string | undefined;
};

export async function playGameStep(
  ctx: GameStepContext,
  { gameId, role, own, model, input }: GameStepParameters,
): Promise<GameStepReturnType> {
  const g = await ctx.game.getGame(gameId);
  const phase = Number(g.phase);
  if (phase === GamePhase.Resolved) return { resolved: true, winner: Number(g.winner) };
  const us = role === "defender" ? GameSide.Defender : GameSide.Challenger;
  const [layer, height, position] = [Number(g.layer), Number(g.height), Number(g.position)];
  const log = ctx.logger.child({ gameId, requestId: g.requestId, role });

  const send = async (move: string, transaction: Parameters<TxSender["send"]>[0]["transaction"]) => {
    const receipt: TransactionReceipt = await ctx.sender.send({ action: `${move} in game ${gameId}`, transaction });
    log.info("game move", {
      move,
      layer,
      height,
      position,
      phase: gamePhaseName(phase),
      gasUsed: receipt.gasUsed,
      tx: receipt.hash,
    });
    const after = await ctx.game.getGame(gameId);
    return { resolved: Number(after.phase) === GamePhase.Resolved, winner: Number(after.winner), move };
  };

  if (Number(g.turn) !== us) {
    if ((await ctx.game.remainingTime(gameId)) === 0n)
      return send("claimTimeout", ctx.game.claimTimeout.populateTransaction(gameId));
    return { resolved: false, winner: GameSide.None };
  }
  if (role === "defender") {
    if (phase === GamePhase.Bisecting) {
      const [left, right] = nodeChildren(own, layer, height, position);
      return send("reveal", ctx.game.reveal.populateTransaction(gameId, left, right));
    }
    return send("revealChunk", ctx.game.revealChunk.populateTransaction(gameId, chunkBytes(own, layer, position)));
  }
  if (phase === GamePhase.Bisecting) {
    const [left, right] = nodeChildren(own, layer, height, position);
    return send("bisect", ctx.game.bisect.populateTransaction(gameId, left, right));
  }
  // AwaitStep: name the first element of the defender's chunk that differs from ours and prove it.
  const revealed = await ctx.game.queryFilter(ctx.game.filters.ChunkRevealed(gameId), ctx.fromBlock);
  const last = revealed[revealed.length - 1];
  if (!last) return { resolved: false, winner: GameSide.None };
  const chunk = getBytes(last.args.chunk);
  const size = Number(g.elementSize);
  const offset = differingElement(own, layer, position, chunk, size) ?? 0;
  const element = (position * CHUNK_SIZE) / size + offset;
  const spec = model.specs[layer]!;
  const source = (ref: number) => stepSource(ref === -1 ? elementBytes(input) : own.bytes[ref]!);
  const proof = stepProof(
    spec,
    element,
    model.weights(),
    source(spec.inputA),
    spec.kind === LayerKind.add ? source(spec.inputB) : undefined,
  );
  log.info("proving one step", { layer, element });
  return send("proveStep", ctx.game.proveStep.populateTransaction(gameId, chunk, offset, encodeLayerSpec(spec), proof));
}
