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
 */
import type { Signer } from "ethers";
import { GamePhase, GameSide, type DisputeGame } from "../chain/dispute-game.ts";
import { agreesWithSum, chunkBytes, differingElement, nodeChildren, type TraceTrees } from "../dispute/moves.ts";
import { CHUNK_SIZE } from "../model/vqm/commitments.ts";
import type { GasLog } from "./gas-log.ts";
import { layerKit, type LayerKit } from "./layer-kit.ts";
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
  states?: ((element: number) => readonly number[]) | undefined;
  pace?: Pace | undefined;
};

export type PlayGameParameters = {
  gameId: bigint;
  /** The disputed model, with the element bytes of its input and of the honest trace: the agreed step sources. */
  model: Pick<RegisteredModel, "specs" | "blob">;
  input: Uint8Array;
  trace: readonly Uint8Array[];
  defender: Player;
  challenger: Player;
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
    context ??= moveContext(p, Number(view.layer), counts);
    await move(game, p, view, role, context);
  }
  throw new Error(`Game ${gameId} did not end in ${MAX_TURNS} turns.`);
}

type MoveContext = {
  layer: number;
  /** The disputed layer's kit, built when first needed (a game settled in the tree never needs it). */
  kit: () => LayerKit;
  /** A side's reduction states: a game opens one reduction, of one element, so each is computed once. */
  states: (role: Role, element: number) => readonly number[];
  counts: { rounds: number; sumRounds: number };
};

/** What every move of a game over layer `layer` shares (the layer is fixed by the challenge). */
function moveContext(p: PlayGameParameters, layer: number, counts: MoveContext["counts"]): MoveContext {
  let kit: LayerKit | undefined;
  const kitOf = () => (kit ??= layerKit(p.model, layer, p.input, p.trace));
  const states: Partial<Record<Role, readonly number[]>> = {};
  return {
    layer,
    kit: kitOf,
    states: (role, element) => (states[role] ??= (p[role].states ?? kitOf().states)(element)),
    counts,
  };
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
      const [left, right] = nodeChildren(p[role].trees, layer, height, position);
      if (role === "defender") await gas.record("reveal", as.reveal(gameId, left, right), role);
      else {
        await gas.record("bisect", as.bisect(gameId, left, right), role);
        c.counts.rounds++;
      }
      return;
    }
    case GamePhase.AwaitChunk:
      await gas.record("revealChunk", as.revealChunk(gameId, chunkBytes(p.defender.trees, layer, position)), role);
      return;
    case GamePhase.AwaitStep: {
      const kit = c.kit();
      const chunk = chunkBytes(p.defender.trees, layer, position);
      const offset = differingElement(p.challenger.trees, layer, position, chunk, size) ?? 0;
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
