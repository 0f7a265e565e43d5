/**
 * One step of a dispute game for one side, from the chain's view of the game and our own trace:
 * our move when it is our turn (defender: reveal, revealChunk, claimSum, postSum; challenger:
 * bisect, proveStep or openSum, pickSum, proveSumStep), a timeout claim when the other side's
 * clock has run out, nothing otherwise. Every step starts from `getGame` (and `getSum` in the
 * reduction phase), so a restarted process simply carries on, and one process can play any
 * number of games (each game is its own state on chain).
 *
 * The reduction phase: a dense, conv2d, argmax or maxpool2d element whose whole-element step the
 * prover would refuse (a reduction longer than one step, or a proof of too many chunks) is
 * opened with `openSum` instead of `proveStep`. Both sides compute the element's prefix states
 * from their own trace of the (agreed) layer it reads: the defender claims `S_n` and posts
 * midpoints, the challenger agrees with a posted state exactly when it equals its own, and
 * finally proves `S_hi` from the agreed `S_lo` on-chain.
 */
import { getBytes, type TransactionReceipt } from "ethers";
import { GamePhase, GameSide, gamePhaseName, type DisputeGame } from "../chain/dispute-game.ts";
import type { TxSender } from "../chain/tx-sender.ts";
import { encodeLayerSpec, LayerKind, type LayerSpec } from "../dispute/layout.ts";
import {
  agreesWithSum,
  chunkBytes,
  differingElement,
  elementBytes,
  encodeProofs,
  needsReduction,
  nodeChildren,
  prefixStates,
  stepChunks,
  stepSource,
  sumLayout,
  sumMidpoint,
  sumParamsProof,
  sumStepProof,
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

type Transaction = Parameters<TxSender["send"]>[0]["transaction"];
type Send = (move: string, transaction: Transaction) => Promise<GameStepReturnType>;

const waiting: GameStepReturnType = { resolved: false, winner: GameSide.None };

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

  const send: Send = async (move, transaction) => {
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
    return waiting;
  }
  const spec = model.specs[layer]!;
  const inputBytes = (ref: number) => (ref === -1 ? elementBytes(input) : own.bytes[ref]!);
  const source = (ref: number) => stepSource(inputBytes(ref));

  if (phase === GamePhase.SumClaim || phase === GamePhase.SumBisecting || phase === GamePhase.AwaitSumStep)
    return playReductionStep(ctx, {
      gameId,
      role,
      phase,
      layer,
      spec,
      model,
      inputA: inputBytes(spec.inputA),
      log,
      send,
    });

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
  // AwaitStep: name the first element of the defender's chunk that differs from ours and prove it
  // (or open the reduction phase when the prover would refuse its whole-element step).
  const revealed = await ctx.game.queryFilter(ctx.game.filters.ChunkRevealed(gameId), ctx.fromBlock);
  const last = revealed[revealed.length - 1];
  if (!last) return waiting;
  const chunk = getBytes(last.args.chunk);
  const size = Number(g.elementSize);
  const offset = differingElement(own, layer, position, chunk, size) ?? 0;
  const element = (position * CHUNK_SIZE) / size + offset;
  const specBytes = encodeLayerSpec(spec);
  let built: ReturnType<typeof stepChunks> | undefined;
  const oneStep = () =>
    (built ??= stepChunks(
      spec,
      element,
      model.weights(),
      source(spec.inputA),
      spec.kind === LayerKind.add ? source(spec.inputB) : undefined,
    ));
  if (needsReduction(spec, oneStep)) {
    log.info("opening the reduction phase", { layer, element, fanIn: sumLayout(spec).fanIn });
    return send("openSum", ctx.game.openSum.populateTransaction(gameId, chunk, offset, specBytes));
  }
  const proof = encodeProofs(oneStep());
  log.info("proving one step", { layer, element });
  return send("proveStep", ctx.game.proveStep.populateTransaction(gameId, chunk, offset, specBytes, proof));
}

type ReductionStepParameters = {
  gameId: bigint;
  role: DisputeRole;
  phase: number;
  layer: number;
  spec: LayerSpec;
  model: OptimisticModel;
  /** Our element bytes of the (agreed) layer the disputed layer reads. */
  inputA: Uint8Array;
  log: Logger;
  send: Send;
};

/** Our move in the reduction phase (our turn): claimSum, postSum, pickSum or proveSumStep. */
async function playReductionStep(
  ctx: GameStepContext,
  { gameId, role, phase, layer, spec, model, inputA, log, send }: ReductionStepParameters,
): Promise<GameStepReturnType> {
  const s = await ctx.game.getSum(gameId);
  const element = Number(s.element);
  const [lo, hi] = [Number(s.lo), Number(s.hi)];
  const specBytes = encodeLayerSpec(spec);
  // Our prefix states of the element's reduction, from our own trace of the layer it reads.
  const states = () => prefixStates(spec, element, model.weights().bytes, inputA);
  const sendSum: Send = async (move, transaction) => {
    log.info("reduction move", { move, layer, element, lo, hi });
    return send(move, transaction);
  };
  if (role === "defender") {
    if (phase === GamePhase.SumClaim) {
      const total = states()[Number(s.fanIn)]!;
      const proof = sumParamsProof(spec, element, model.weights());
      return sendSum("claimSum", ctx.game.claimSum.populateTransaction(gameId, total, specBytes, proof));
    }
    return sendSum("postSum", ctx.game.postSum.populateTransaction(gameId, states()[sumMidpoint(lo, hi)]!));
  }
  if (phase === GamePhase.SumBisecting) {
    const agree = agreesWithSum(states(), Number(s.mid), s.sumMid);
    return sendSum("pickSum", ctx.game.pickSum.populateTransaction(gameId, agree));
  }
  if (phase !== GamePhase.AwaitSumStep) return waiting;
  // Proves S_hi from the agreed S_lo over the last range.
  const proof = sumStepProof(spec, element, lo, hi, model.weights(), stepSource(inputA));
  return sendSum("proveSumStep", ctx.game.proveSumStep.populateTransaction(gameId, specBytes, proof));
}
