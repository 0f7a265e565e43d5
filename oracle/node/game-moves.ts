/**
 * One step of a dispute game for one side, from the chain's view of the game and our own run:
 * our move when it is our turn (defender: revealLayers, reveal, revealChunk, claimSum, postSum;
 * challenger: revealChallengerLayers, bisect, proveStep or openSum, pickSum, proveSumStep), a
 * timeout claim when the other side's clock has run out, nothing otherwise. Every step starts
 * from `getGame` (and `getSum` in the reduction phase), so a restarted process simply carries on,
 * and one process can play any number of games (each game is its own state on chain).
 *
 * A game over a decoder's generation starts in RevealLayers at the first differing pass: the
 * defender reveals its layer roots of that pass, the challenger its own (read against the
 * defender's from the `LayersRevealed` event) with the first differing layer's spec, and the
 * game goes on over that layer of that pass like a game over one pass.
 *
 * The step and reduction moves come from a step kit (oracle/dispute/layer-kit.ts, or
 * generation-kit.ts for a generation), the same the in-process driver (oracle/devnet/play-game.ts)
 * plays: a dense, conv2d, argmax, maxpool2d or sequence-layer element whose whole-element step the
 * prover would refuse is opened with `openSum`; both sides compute the element's prefix states
 * from their own run, the defender claims `S_n` and posts midpoints, the challenger agrees with a
 * posted state exactly when it equals its own, and finally proves `S_hi` from the agreed `S_lo`.
 */
import { getBytes, type TransactionReceipt } from "ethers";
import { GamePhase, GameSide, gamePhaseName, type DisputeGame } from "../chain/dispute-game.ts";
import type { TxSender } from "../chain/tx-sender.ts";
import { inputBytes, passTrees, type CommittedRun } from "../dispute/committed-run.ts";
import { generationKit, type StepKit } from "../dispute/generation-kit.ts";
import type { GenerationTrees } from "../dispute/generation-proofs.ts";
import { layerKit } from "../dispute/layer-kit.ts";
import {
  agreesWithSum,
  chunkBytes,
  differingElement,
  disputedLayer,
  nodeChildren,
  sumLayout,
} from "../dispute/moves.ts";
import type { Logger } from "../log/logger.ts";
import { CHUNK_SIZE } from "../model/vqm/commitments.ts";
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
  /** Our run of the request (its trace, or a decoder's generation). */
  own: CommittedRun;
  model: OptimisticModel;
  /** The roots the defender submitted (pass roots of a generation: the challenger's openings verify against them). */
  committedRoots: readonly string[];
};

export type GameStepReturnType = {
  resolved: boolean;
  /** `GameSide` of the winner once resolved. */
  winner: number;
  /** The move sent in this step, if any. */
  move?: string | undefined;
};

type Transaction = Parameters<TxSender["send"]>[0]["transaction"];
/** Sends `move` and logs it, with `fields` over the game's position (a layer named in RevealLayers, say). */
type Send = (move: string, transaction: Transaction, fields?: Record<string, unknown>) => Promise<GameStepReturnType>;

const waiting: GameStepReturnType = { resolved: false, winner: GameSide.None };

export async function playGameStep(ctx: GameStepContext, p: GameStepParameters): Promise<GameStepReturnType> {
  const { gameId, role, own } = p;
  const g = await ctx.game.getGame(gameId);
  const phase = Number(g.phase);
  if (phase === GamePhase.Resolved) return { resolved: true, winner: Number(g.winner) };
  const us = role === "defender" ? GameSide.Defender : GameSide.Challenger;
  const [pass, layer, height, position] = [Number(g.pass), Number(g.layer), Number(g.height), Number(g.position)];
  const log = ctx.logger.child({ gameId, requestId: g.requestId, role });

  const send: Send = async (move, transaction, fields = {}) => {
    const receipt: TransactionReceipt = await ctx.sender.send({ action: `${move} in game ${gameId}`, transaction });
    log.info("game move", {
      move,
      ...(own.kind === "generation" ? { pass } : {}),
      layer,
      height,
      position,
      phase: gamePhaseName(phase),
      gasUsed: receipt.gasUsed,
      tx: receipt.hash,
      ...fields,
    });
    const after = await ctx.game.getGame(gameId);
    return { resolved: Number(after.phase) === GamePhase.Resolved, winner: Number(after.winner), move };
  };

  if (Number(g.turn) !== us) {
    if ((await ctx.game.remainingTime(gameId)) === 0n)
      return send("claimTimeout", ctx.game.claimTimeout.populateTransaction(gameId));
    return waiting;
  }
  if (phase === GamePhase.RevealLayers) return revealLayers(ctx, p, pass, send);
  const trees = passTrees(own, pass);
  let kit: StepKit | undefined;
  const kitOf = async () => (kit ??= await stepKit(ctx, p, pass, layer));

  if (phase === GamePhase.SumClaim || phase === GamePhase.SumBisecting || phase === GamePhase.AwaitSumStep)
    return playReductionStep(ctx, { gameId, role, phase, layer, kit: kitOf, log, send });

  if (role === "defender") {
    if (phase === GamePhase.Bisecting) {
      const [left, right] = nodeChildren(trees, layer, height, position);
      return send("reveal", ctx.game.reveal.populateTransaction(gameId, left, right));
    }
    return send("revealChunk", ctx.game.revealChunk.populateTransaction(gameId, chunkBytes(trees, layer, position)));
  }
  if (phase === GamePhase.Bisecting) {
    const [left, right] = nodeChildren(trees, layer, height, position);
    return send("bisect", ctx.game.bisect.populateTransaction(gameId, left, right));
  }
  // AwaitStep: name the first element of the defender's chunk that differs from ours and prove it
  // (or open the reduction phase when the prover would refuse its whole-element step).
  const revealed = await ctx.game.queryFilter(ctx.game.filters.ChunkRevealed(gameId), ctx.fromBlock);
  const last = revealed[revealed.length - 1];
  if (!last) return waiting;
  const chunk = getBytes(last.args.chunk);
  const size = Number(g.elementSize);
  const offset = differingElement(trees, layer, position, chunk, size) ?? 0;
  const element = (position * CHUNK_SIZE) / size + offset;
  const k = await kitOf();
  if (k.needsReduction(element)) {
    const fanIn = own.kind === "pass" ? { fanIn: sumLayout(k.spec).fanIn } : {};
    log.info("opening the reduction phase", { layer, element, ...fanIn });
    return send("openSum", ctx.game.openSum.populateTransaction(gameId, chunk, offset, k.encoded));
  }
  log.info("proving one step", { layer, element });
  return send("proveStep", ctx.game.proveStep.populateTransaction(gameId, chunk, offset, k.encoded, k.whole(element)));
}

/** Our move in RevealLayers: our layer roots of the disputed pass (the challenger's with the first differing layer's spec). */
async function revealLayers(
  ctx: GameStepContext,
  { gameId, role, own, model }: GameStepParameters,
  pass: number,
  send: Send,
): Promise<GameStepReturnType> {
  const mine = passTrees(own, pass).roots;
  // No layer is disputed before the challenger names one.
  if (role === "defender")
    return send("revealLayers", ctx.game.revealLayers.populateTransaction(gameId, mine), { layer: undefined });
  const theirs = await defenderLayerRoots(ctx, gameId);
  if (!theirs) return waiting;
  const { layer, layerSpec, layoutProof } = disputedLayer(model.specs, theirs, mine);
  const params = { defenderRoots: theirs, roots: mine, layerSpec, layoutProof };
  return send("revealChallengerLayers", ctx.game.revealChallengerLayers.populateTransaction(gameId, params), { layer });
}

/** The layer roots the defender revealed in game `gameId` (`LayersRevealed`), once it has. */
async function defenderLayerRoots(ctx: GameStepContext, gameId: bigint): Promise<string[] | undefined> {
  const logs = await ctx.game.queryFilter(ctx.game.filters.LayersRevealed(gameId), ctx.fromBlock);
  const revealed = logs.filter((entry) => Number(entry.args.side) === GameSide.Defender).at(-1);
  return revealed && [...revealed.args.roots];
}

/**
 * The step kit of layer `layer` (of pass `pass`) from our run. A generation's openings verify
 * against the defender's committed generation: ours for the defender; for the challenger, ours up
 * to the disputed pass (the passes before it agree) with the defender's revealed roots at it and
 * the defender's submitted pass roots.
 */
async function stepKit(ctx: GameStepContext, p: GameStepParameters, pass: number, layer: number): Promise<StepKit> {
  const { own, model } = p;
  const blob = model.weights();
  if (own.kind === "pass") return layerKit({ specs: model.specs, blob }, layer, inputBytes(own), own.trees.bytes);
  let committed: GenerationTrees = own.trees;
  if (p.role === "challenger") {
    const revealed = await defenderLayerRoots(ctx, p.gameId);
    if (!revealed) throw new Error(`Game ${p.gameId}: the defender's layer roots were not revealed.`);
    const passes = own.trees.passes.map((trees, t) => (t === pass ? { ...trees, roots: revealed } : trees));
    committed = { passes, passRoots: [...p.committedRoots] };
  }
  return generationKit({
    model: { specs: model.specs, blob, model: model.model },
    pass,
    layer,
    passes: own.passes,
    committed,
    prompt: inputBytes(own),
    promptLength: own.promptLength,
  });
}

type ReductionStepParameters = {
  gameId: bigint;
  role: DisputeRole;
  phase: number;
  layer: number;
  kit: () => Promise<StepKit>;
  log: Logger;
  send: Send;
};

/** Our move in the reduction phase (our turn): claimSum, postSum, pickSum or proveSumStep. */
async function playReductionStep(
  ctx: GameStepContext,
  { gameId, role, phase, layer, kit, log, send }: ReductionStepParameters,
): Promise<GameStepReturnType> {
  const s = await ctx.game.getSum(gameId);
  const element = Number(s.element);
  const [lo, hi, mid] = [Number(s.lo), Number(s.hi), Number(s.mid)];
  const k = await kit();
  // Our prefix states of the element's reduction, from our own run of the layers it reads.
  const states = () => k.states(element);
  const sendSum: Send = async (move, transaction) => {
    log.info("reduction move", { move, layer, element, lo, hi });
    return send(move, transaction);
  };
  if (role === "defender") {
    if (phase === GamePhase.SumClaim) {
      const total = states().at(-1)!;
      return sendSum("claimSum", ctx.game.claimSum.populateTransaction(gameId, total, k.encoded, k.params(element)));
    }
    return sendSum("postSum", ctx.game.postSum.populateTransaction(gameId, states()[mid]!));
  }
  if (phase === GamePhase.SumBisecting) {
    const agree = agreesWithSum(states(), mid, s.sumMid);
    return sendSum("pickSum", ctx.game.pickSum.populateTransaction(gameId, agree));
  }
  if (phase !== GamePhase.AwaitSumStep) return waiting;
  // Proves S_hi from the agreed S_lo over the last range.
  return sendSum(
    "proveSumStep",
    ctx.game.proveSumStep.populateTransaction(gameId, k.encoded, k.range(element, lo, hi)),
  );
}
