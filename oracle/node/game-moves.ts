/**
 * One step of a dispute game for one side, from the chain's view of the game and our own trace:
 * our move when it is our turn (defender: reveal, revealChunk, claimSum, postSum; challenger:
 * bisect, proveStep or openSum, pickSum, proveSumStep), a timeout claim when the other side's
 * clock has run out, nothing otherwise. Every step starts from `getGame` (and `getSum` in the
 * partial-sum phase), so a restarted process simply carries on.
 *
 * The partial-sum phase: a dense or conv2d element whose dot product is too long for one step
 * (LayerStepProver's bounds) is opened with `openSum` instead of `proveStep`. Both sides compute
 * the prefix sums of the element's dot product from their own trace of the (agreed) input layer:
 * the defender claims `S_n` and posts midpoints, the challenger agrees with a posted sum when it
 * equals its own and finally recomputes the last range on-chain.
 */
import { AbiCoder, getBytes, type TransactionReceipt } from "ethers";
import { GamePhase, GameSide, gamePhaseName, type DisputeGame } from "../chain/dispute-game.ts";
import type { TxSender } from "../chain/tx-sender.ts";
import { encodeLayerSpec, LayerKind, type LayerSpec } from "../dispute/layout.ts";
import {
  agreesWithSum,
  chunkBytes,
  differingElement,
  elementBytes,
  nodeChildren,
  prefixSums,
  stepProof,
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

/** LayerStepProver's one-step bounds: dense fan-in (MAX_FAN_IN), conv2d fan-in, chunks per proof. */
const ONE_STEP_MAX_FAN_IN = 16384;
const ONE_STEP_MAX_CONV_FAN_IN = 1024;
const ONE_STEP_MAX_CHUNKS = 40;

/**
 * Whether element `element` of layer `spec` goes through the partial-sum phase: a dense or
 * conv2d element whose one-step proof the prover would refuse (fan-in or chunk count too large).
 */
export function needsPartialSums(spec: LayerSpec, element: number, oneStep: () => string): boolean {
  if (spec.kind !== LayerKind.dense && spec.kind !== LayerKind.conv2d) return false;
  const { fanIn } = sumLayout(spec);
  if (fanIn > (spec.kind === LayerKind.dense ? ONE_STEP_MAX_FAN_IN : ONE_STEP_MAX_CONV_FAN_IN)) return true;
  if (spec.kind === LayerKind.dense) return false;
  const [chunks] = AbiCoder.defaultAbiCoder().decode(["tuple(uint8,uint32,bytes,bytes32[])[]"], oneStep());
  return (chunks as unknown[]).length > ONE_STEP_MAX_CHUNKS;
}

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
  const spec = model.specs[layer]!;
  const inputBytes = (ref: number) => (ref === -1 ? elementBytes(input) : own.bytes[ref]!);
  const source = (ref: number) => stepSource(inputBytes(ref));

  if (phase === GamePhase.SumClaim || phase === GamePhase.SumBisecting || phase === GamePhase.AwaitSumStep) {
    const s = await ctx.game.getSum(gameId);
    const element = Number(s.element);
    const [lo, hi] = [Number(s.lo), Number(s.hi)];
    // Our prefix sums of the element's dot product, from our own trace of the layer it reads.
    const sums = () => prefixSums(spec, element, model.weights().bytes, inputBytes(spec.inputA));
    const sendSum = async (move: string, transaction: Parameters<TxSender["send"]>[0]["transaction"]) => {
      log.info("partial-sum move", { move, layer, element, lo, hi });
      return send(move, transaction);
    };
    if (role === "defender") {
      if (phase === GamePhase.SumClaim) {
        const total = sums()[Number(s.fanIn)]!;
        const proof = sumParamsProof(spec, element, model.weights());
        return sendSum("claimSum", ctx.game.claimSum.populateTransaction(gameId, total, encodeLayerSpec(spec), proof));
      }
      const mid = sumMidpoint(lo, hi);
      return sendSum("postSum", ctx.game.postSum.populateTransaction(gameId, sums()[mid]!));
    }
    if (phase === GamePhase.SumBisecting) {
      const agree = agreesWithSum(sums(), Number(s.mid), s.sumMid);
      return sendSum("pickSum", ctx.game.pickSum.populateTransaction(gameId, agree));
    }
    if (phase !== GamePhase.AwaitSumStep) return { resolved: false, winner: GameSide.None };
    const proof = sumStepProof(spec, element, lo, hi, model.weights(), source(spec.inputA));
    return sendSum("proveSumStep", ctx.game.proveSumStep.populateTransaction(gameId, encodeLayerSpec(spec), proof));
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
  // AwaitStep: name the first element of the defender's chunk that differs from ours and prove it
  // (or open the partial-sum phase when its dot product is too long for one step).
  const revealed = await ctx.game.queryFilter(ctx.game.filters.ChunkRevealed(gameId), ctx.fromBlock);
  const last = revealed[revealed.length - 1];
  if (!last) return { resolved: false, winner: GameSide.None };
  const chunk = getBytes(last.args.chunk);
  const size = Number(g.elementSize);
  const offset = differingElement(own, layer, position, chunk, size) ?? 0;
  const element = (position * CHUNK_SIZE) / size + offset;
  let built: string | undefined;
  const oneStep = () =>
    (built ??= stepProof(
      spec,
      element,
      model.weights(),
      source(spec.inputA),
      spec.kind === LayerKind.add ? source(spec.inputB) : undefined,
    ));
  if (needsPartialSums(spec, element, oneStep)) {
    log.info("opening partial sums", { layer, element, fanIn: sumLayout(spec).fanIn });
    return send("openSum", ctx.game.openSum.populateTransaction(gameId, chunk, offset, encodeLayerSpec(spec)));
  }
  const proof = oneStep();
  log.info("proving one step", { layer, element });
  return send("proveStep", ctx.game.proveStep.populateTransaction(gameId, chunk, offset, encodeLayerSpec(spec), proof));
}
