/**
 * Plays an open dispute game to its end on an in-process chain, sending the moves of both sides
 * in turn, for gas benchmarks and tests: the defender's reveals, chunk, sum claim and midpoints,
 * the challenger's bisections, step or reduction opening, picks and range step. Which move is
 * right comes from the pure half (oracle/dispute/moves.ts, bound to the disputed layer by
 * layer-kit.ts); this module only sequences the moves, with what each side does as options: its
 * trace, the reduction states it posts or checks (a cheating defender's are given), and its
 * pace. A side that stops lets its clock run out, and the keeper claims the timeout. Every
 * transaction is noted in a gas log. The daemons play one side each, from the chain's view and
 * in their own processes (oracle/node/game-moves.ts); this plays both, one transaction at a time.
 *
 * A game over a decoder's generation (`generation` given; the players' trees are then their
 * generations) starts in RevealLayers at the first differing pass: the defender reveals its
 * layer roots of that pass, the challenger its own with the first differing layer's spec, and
 * the game goes on over that layer of that pass, its steps built by generation-kit.ts.
 */
import type { Signer } from "ethers";
import type { Tensor } from "../model/tensor.ts";
import { GamePhase, GameSide, type DisputeGame } from "../chain/dispute-game.ts";
import {
  agreesWithSum,
  chunkBytes,
  differingElement,
  disputedLayer,
  nodeChildren,
  type TraceTrees,
} from "../dispute/moves.ts";
import { CHUNK_SIZE } from "../model/vqm/commitments.ts";
import type { GenerationTrees } from "../dispute/generation-proofs.ts";
import type { GasLog } from "./gas-log.ts";
import { generationKit, type StepKit } from "../dispute/generation-kit.ts";
import { layerKit } from "../dispute/layer-kit.ts";
import type { RegisteredModel } from "./register-optimistic.ts";

/**
 * How a side moves when its turn comes (default: at once, to the end). `stopAfter`: it makes
 * that many moves and then none (0: it never moves), so its clock runs out; `late`: it waits
 * that many seconds before each move.
 */
export type Pace = { stopAfter: number } | { late: number };

export type Player = {
  signer: Signer;
  /** The trace it committed to (defender) or holds (challenger). */
  trees: TraceTrees;
  /** The reduction states it posts (defender) or compares posted ones with (challenger); default the honest ones. */
  states?: ((element: number) => readonly (number | bigint)[]) | undefined;
  pace?: Pace | undefined;
};

/** A player of a game over a decoder's generation: its trees are those of every pass. */
export type GenerationPlayer = Omit<Player, "trees"> & { trees: GenerationTrees };

export type PlayGameParameters = {
  gameId: bigint;
  /** The disputed model, with the element bytes of its input and of the honest trace: the agreed step sources. */
  model: Pick<RegisteredModel, "specs" | "blob" | "model">;
  input: Uint8Array;
  trace: readonly Uint8Array[];
  /** For a decoder: the honest generation (`passes[t][layer]`) and the prompt length P; `trace` is then unused. */
  generation?: { passes: readonly (readonly Tensor[])[]; promptLength: number } | undefined;
  defender: Player | GenerationPlayer;
  challenger: Player | GenerationPlayer;
  /** At the step, prove the whole element or open the reduction phase; default whichever the prover takes. */
  step?: "whole" | "sum" | undefined;
  /** Sends `claimTimeout` when a side stops (anyone may); default the other side. */
  keeper?: Signer | undefined;
  /** Advances the chain's clock by `seconds` (networkHelpers.time.increase). */
  increaseTime: (seconds: number) => Promise<unknown>;
  /** Notes every move by name, sent by `defender`, `challenger`, or `keeper` when one is given. */
  gas: GasLog;
  /** Gas limit of the challenger's step transactions, for a step too large to estimate; default estimated. */
  stepGasLimit?: number | undefined;
};

export type GameView = Awaited<ReturnType<DisputeGame["getGame"]>>;

export type PlayGameReturnType = {
  /** The resolved game. */
  view: GameView;
  /** Levels of the tree bisected, and reduction midpoints posted. */
  rounds: number;
  sumRounds: number;
};

type Role = "defender" | "challenger";

/** More turns than any game has: 2 per tree level (at most 24), 2 per reduction round (at most 32), and a few. */
const MAX_TURNS = 256;

/** Plays game `gameId` of `game` from its current phase to its resolution. */
export async function playGame(game: DisputeGame, p: PlayGameParameters): Promise<PlayGameReturnType> {
  const { gameId, gas, increaseTime } = p;
  const made: Record<Role, number> = { defender: 0, challenger: 0 };
  const counts = { rounds: 0, sumRounds: 0 };
  let context: MoveContext | undefined;
  for (let turn = 0; turn < MAX_TURNS; turn++) {
    const view = await game.getGame(gameId);
    if (Number(view.phase) === GamePhase.Resolved) return { view, ...counts };
    const role: Role = Number(view.turn) === GameSide.Defender ? "defender" : "challenger";
    const other: Role = role === "defender" ? "challenger" : "defender";
    const pace = p[role].pace;
    if (pace && "stopAfter" in pace && made[role] >= pace.stopAfter) {
      await increaseTime(Number(await game.remainingTime(gameId)));
      const claimer = p.keeper ?? p[other].signer;
      await gas.record("claimTimeout", game.connect(claimer).claimTimeout(gameId), p.keeper ? "keeper" : other);
      continue;
    }
    if (pace && "late" in pace) await increaseTime(pace.late);
    made[role]++;
    if (Number(view.phase) === GamePhase.RevealLayers) {
      await revealLayers(game, p, view, role);
      continue;
    }
    context ??= moveContext(p, Number(view.pass), Number(view.layer), counts);
    await move(game, p, view, role, context);
  }
  throw new Error(`Game ${gameId} did not end in ${MAX_TURNS} turns.`);
}

type MoveContext = {
  layer: number;
  /** Each side's trees of the disputed pass (of the trace, for a game over one pass). */
  trees: Record<Role, TraceTrees>;
  /** The disputed layer's kit, built when first needed (a game settled in the tree never needs it). */
  kit: () => StepKit;
  /** A side's reduction states: a game opens one reduction, of one element, so each is computed once. */
  states: (role: Role, element: number) => readonly (number | bigint)[];
  counts: { rounds: number; sumRounds: number };
};

/** A player's trees of pass `pass` (its trace's, in a game over one pass). */
function treesOf(player: Player | GenerationPlayer, pass: number): TraceTrees {
  return "passRoots" in player.trees ? player.trees.passes[pass]! : player.trees;
}

/** What every move of a game over layer `layer` (of pass `pass`) shares (both fixed once the layer is). */
function moveContext(p: PlayGameParameters, pass: number, layer: number, counts: MoveContext["counts"]): MoveContext {
  let kit: StepKit | undefined;
  const committed = p.defender.trees;
  const kitOf = (): StepKit =>
    (kit ??=
      p.generation && "passRoots" in committed
        ? generationKit({
            model: p.model,
            pass,
            layer,
            passes: p.generation.passes,
            committed,
            prompt: p.input,
            promptLength: p.generation.promptLength,
          })
        : layerKit(p.model, layer, p.input, p.trace));
  const states: Partial<Record<Role, readonly (number | bigint)[]>> = {};
  return {
    layer,
    trees: { defender: treesOf(p.defender, pass), challenger: treesOf(p.challenger, pass) },
    kit: kitOf,
    states: (role, element) => (states[role] ??= (p[role].states ?? kitOf().states)(element)),
    counts,
  };
}

/** `role`'s move in RevealLayers: its layer roots of the disputed pass (the challenger's with the first differing layer's spec). */
async function revealLayers(game: DisputeGame, p: PlayGameParameters, view: GameView, role: Role) {
  const pass = Number(view.pass);
  const [mine, theirs] = [treesOf(p.defender, pass).roots, treesOf(p.challenger, pass).roots];
  if (role === "defender") {
    await p.gas.record("revealLayers", game.connect(p.defender.signer).revealLayers(p.gameId, mine), role);
    return;
  }
  const { layerSpec, layoutProof } = disputedLayer(p.model.specs, mine, theirs);
  const params = { defenderRoots: mine, roots: theirs, layerSpec, layoutProof };
  const tx = game.connect(p.challenger.signer).revealChallengerLayers(p.gameId, params);
  await p.gas.record("revealChallengerLayers", tx, role);
}

/** Sends `role`'s move in the game's current phase. */
async function move(game: DisputeGame, p: PlayGameParameters, view: GameView, role: Role, c: MoveContext) {
  const { gameId, gas } = p;
  const { layer } = c;
  const [height, position, size] = [Number(view.height), Number(view.position), Number(view.elementSize)];
  const as = game.connect(p[role].signer);
  const steps = p.stepGasLimit === undefined ? {} : { gasLimit: p.stepGasLimit };
  const sum = () => game.getSum(gameId);
  switch (Number(view.phase)) {
    case GamePhase.Bisecting: {
      const [left, right] = nodeChildren(c.trees[role], layer, height, position);
      if (role === "defender") await gas.record("reveal", as.reveal(gameId, left, right), role);
      else {
        await gas.record("bisect", as.bisect(gameId, left, right), role);
        c.counts.rounds++;
      }
      return;
    }
    case GamePhase.AwaitChunk:
      await gas.record("revealChunk", as.revealChunk(gameId, chunkBytes(c.trees.defender, layer, position)), role);
      return;
    case GamePhase.AwaitStep: {
      const kit = c.kit();
      const chunk = chunkBytes(c.trees.defender, layer, position);
      const offset = differingElement(c.trees.challenger, layer, position, chunk, size) ?? 0;
      const element = (position * CHUNK_SIZE) / size + offset;
      const step = p.step ?? (kit.needsReduction(element) ? "sum" : "whole");
      const tx =
        step === "whole"
          ? as.proveStep(gameId, chunk, offset, kit.encoded, kit.whole(element), steps)
          : as.openSum(gameId, chunk, offset, kit.encoded);
      await gas.record(step === "whole" ? "proveStep" : "openSum", tx, role);
      return;
    }
    case GamePhase.SumClaim: {
      const element = Number((await sum()).element);
      const total = c.states("defender", element).at(-1)!;
      await gas.record("claimSum", as.claimSum(gameId, total, c.kit().encoded, c.kit().params(element)), role);
      return;
    }
    case GamePhase.SumBisecting: {
      const s = await sum();
      const own = c.states(role, Number(s.element));
      if (role === "defender") {
        await gas.record("postSum", as.postSum(gameId, own[Number(s.mid)]!), role);
        c.counts.sumRounds++;
      } else await gas.record("pickSum", as.pickSum(gameId, agreesWithSum(own, Number(s.mid), s.sumMid)), role);
      return;
    }
    case GamePhase.AwaitSumStep: {
      const s = await sum();
      const proof = c.kit().range(Number(s.element), Number(s.lo), Number(s.hi));
      await gas.record("proveSumStep", as.proveSumStep(gameId, c.kit().encoded, proof, steps), role);
      return;
    }
    default:
      throw new Error(`Game ${gameId} is in phase ${view.phase}, which has no move.`);
  }
}
