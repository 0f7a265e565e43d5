/**
 * Shared by the issue-8 regression tests (Attacks.test.ts, GasCeiling.test.ts): small Optimistic
 * models built by hand and registered from their layout (and the feature map layers that other
 * dispute tests pool); each layer's step proofs and reduction
 * states from the dispute player's pure half (oracle/dispute/moves.ts); and a player that drives
 * one game to its end from both sides' traces, with stalling or slow sides, recording each move's
 * gas. No side effects on import.
 */
import { hexlify, keccak256, toUtf8Bytes } from "ethers";
import type { ContractTransactionReceipt, ContractTransactionResponse } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type * as Contracts from "../../types/ethers-contracts/index.ts";
import { encodeInlineInput } from "../../oracle/model/input-envelope.ts";
import type { Tensor } from "../../oracle/model/tensor.ts";
import { CHUNK_SIZE, weightsBlob, weightsRoot } from "../../oracle/model/vqm/commitments.ts";
import { layerShapes } from "../../oracle/model/vqm/layer-shapes.ts";
import type { DenseLayer, ReshapeLayer, VqmModel } from "../../oracle/model/vqm/vqm-model.ts";
import { encodeLayerSpec, LayerKind, layerSpecs, layoutProof, layoutRoot } from "../../oracle/dispute/layout.ts";
import type { LayerSpec } from "../../oracle/dispute/layout.ts";
import {
  chunkBytes,
  differingElement,
  elementBytes,
  nodeChildren,
  prefixStates,
  stepProof,
  stepSource,
  sumParamsProof,
  sumStepProof,
} from "../../oracle/dispute/moves.ts";
import type { StepSource, TraceTrees } from "../../oracle/dispute/moves.ts";

export const Status = {
  None: 0n,
  Pending: 1n,
  Claimed: 2n,
  Submitted: 3n,
  Challenged: 4n,
  Finalized: 5n,
  Refunded: 6n,
  Failed: 7n,
} as const;
export const Phase = {
  None: 0n,
  Bisecting: 1n,
  AwaitChunk: 2n,
  AwaitStep: 3n,
  Resolved: 4n,
  SumClaim: 5n,
  SumBisecting: 6n,
  AwaitSumStep: 7n,
} as const;
export const Side = { None: 0n, Defender: 1n, Challenger: 2n } as const;
/** Dtype codes of the model registry. */
export const Dtype = { int8: 1, int32: 2, float32: 3, int64: 4, uint8: 5 } as const;

// ------------------------------------------------------------------------------------------------
// Gas

/** The gas of every transaction sent through it, by move name and by side. */
export class GasLog {
  readonly max = new Map<string, bigint>();
  readonly all: { name: string; side: string; gas: bigint }[] = [];

  async record(
    name: string,
    tx: Promise<ContractTransactionResponse>,
    side = "other",
  ): Promise<ContractTransactionReceipt> {
    const receipt = (await (await tx).wait())!;
    this.note(name, receipt.gasUsed, side);
    return receipt;
  }

  note(name: string, gas: bigint, side = "other"): void {
    this.all.push({ name, side, gas });
    if ((this.max.get(name) ?? 0n) < gas) this.max.set(name, gas);
  }

  /** Total gas sent by `side`. */
  total(side: string): bigint {
    return this.all.filter((e) => e.side === side).reduce((sum, e) => sum + e.gas, 0n);
  }

  largest(): { name: string; gas: bigint } {
    let best = { name: "", gas: 0n };
    for (const e of this.all) if (e.gas > best.gas) best = { name: e.name, gas: e.gas };
    return best;
  }
}

// ------------------------------------------------------------------------------------------------
// Models and tensors

/** An int8 tensor of `shape` from `values` (repeated or truncated to the element count). */
export function int8Tensor(shape: number[], values: (i: number) => number): Tensor {
  const count = shape.reduce((n, d) => n * d, 1);
  return { dtype: "int8", shape, data: Int8Array.from({ length: count }, (_, i) => values(i)) };
}

/** The model input as a request carries it: the inline envelope of its canonical tensor. */
export function inlineInput(tensor: Tensor): string {
  return hexlify(encodeInlineInput(tensor));
}

/** A deterministic pseudo-random int8 in [-128, 127] for index `i` and `seed`. */
export function noise(i: number, seed = 1): number {
  let x = (i + 1) * 0x9e3779b1 + seed * 0x85ebca6b;
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return ((x ^ (x >>> 16)) & 0xff) - 128;
}

/**
 * Layers 0 and 1 of a model whose later layer (a pool, an argmax) reads an internal int8 feature
 * map of `shape` rather than the model input, as real models do: the chain bounds the input
 * (ModelRegistry.MAX_INPUT_BYTES, 32,768 bytes), not internal layers. Layer 0 is a dense layer
 * from the int8 input [1, inFeatures] to the map's element count, layer 1 reshapes it to `shape`.
 * With `values`, every dense weight is 0 and the bias is the map (multiplier 1, shift 0, so
 * element i is exactly `values(i)` whatever the input): for tests that need a value pattern.
 * Without, seeded random weights and biases (the map follows the input, spread over int8).
 */
export function featureMapLayers({
  shape,
  inFeatures = 16,
  values,
  seed = 1,
}: {
  shape: number[];
  inFeatures?: number | undefined;
  values?: ((i: number) => number) | undefined;
  seed?: number | undefined;
}): [DenseLayer, ReshapeLayer] {
  const outFeatures = shape.reduce((n, d) => n * d, 1);
  const dense: DenseLayer = {
    kind: "dense",
    input: -1,
    inFeatures,
    outFeatures,
    weights: values
      ? new Int8Array(inFeatures * outFeatures)
      : Int8Array.from({ length: inFeatures * outFeatures }, (_, i) => Math.max(-127, noise(i, seed))),
    bias: Int32Array.from({ length: outFeatures }, (_, j) => (values ? values(j) : noise(j, seed + 1) * 64)),
    requant: {
      // |acc| is around 4 · 74 · 74 for 16 random inputs and weights: 2^-9 maps it to about ±45.
      multiplier: new Int32Array(outFeatures).fill(values ? 1 : 2 ** 15),
      shift: new Uint8Array(outFeatures).fill(values ? 0 : 24),
      activation: "none",
    },
  };
  return [dense, { kind: "reshape", input: 0, shape: [...shape] }];
}

export type RegisteredModel = {
  modelId: bigint;
  model: VqmModel;
  specs: LayerSpec[];
  blob: StepSource;
};

/** Registers `model` as an Optimistic model (int8 input; int8 output, or int32 after argmax). */
export async function registerOptimistic(
  models: Contracts.ModelRegistry,
  owner: HardhatEthersSigner,
  model: VqmModel,
  { price, window }: { price: bigint; window: number },
): Promise<RegisteredModel> {
  const specs = layerSpecs(model);
  const shapes = layerShapes(model);
  const blob = weightsBlob(model);
  const last = model.layers[model.layers.length - 1]!;
  await (
    await models.connect(owner).register({
      modelHash: keccak256(toUtf8Bytes(model.name)),
      contentId: `bafy-${model.name}`,
      mode: 2,
      feeToken: "0x0000000000000000000000000000000000000000",
      price,
      royaltyBps: 1000,
      inputShape: model.input.shape,
      outputShape: shapes[shapes.length - 1]!,
      inputDtype: Dtype.int8,
      outputDtype: last.kind === "argmax" ? Dtype.int32 : Dtype.int8,
      verifier: "0x0000000000000000000000000000000000000000",
      weightsRoot: blob.length > 0 ? weightsRoot(model) : keccak256(toUtf8Bytes("no weights")),
      layoutRoot: layoutRoot(specs),
      layerCount: specs.length,
      challengeWindow: window,
    })
  ).wait();
  return { modelId: await models.modelCount(), model, specs, blob: stepSource(blob) };
}

// ------------------------------------------------------------------------------------------------
// Steps

/**
 * What a challenger needs to prove steps of one layer from the agreed sources: the whole
 * element (`proveStep`), a reduction range (`proveSumStep`), the finishing parameters
 * (`claimSum`) and the honest prefix states of an element's reduction.
 */
export type LayerKit = {
  spec: LayerSpec;
  encoded: string;
  whole: (element: number) => string;
  range: (element: number, lo: number, hi: number) => string;
  params: (element: number) => string;
  states: (element: number) => bigint[];
};

/** The kit of layer `layer` of `reg`, whose agreed inputs are the model input and the trace `bytes` of earlier layers. */
export function layerKit(
  reg: RegisteredModel,
  layer: number,
  inputBytes: Uint8Array,
  trace: readonly Uint8Array[],
): LayerKit {
  const spec = reg.specs[layer]!;
  const bytesOf = (ref: number) => (ref === -1 ? inputBytes : trace[ref]!);
  const a = stepSource(bytesOf(spec.inputA));
  const b = spec.kind === LayerKind.add ? stepSource(bytesOf(spec.inputB)) : undefined;
  const blob = reg.blob;
  return {
    spec,
    encoded: encodeLayerSpec(spec),
    whole: (e) => stepProof(spec, e, blob, a, b),
    range: (e, lo, hi) => sumStepProof(spec, e, lo, hi, blob, a),
    params: (e) => sumParamsProof(spec, e, blob),
    states: (e) => prefixStates(spec, e, blob.bytes, a.bytes).map(BigInt),
  };
}

/** Element bytes of a trace (one entry per layer). */
export function traceBytes(trace: readonly Tensor[]): Uint8Array[] {
  return trace.map((t) => elementBytes(t));
}

// ------------------------------------------------------------------------------------------------
// Games

/** The `ChallengeParams` of a challenge by roots `challengerRoots` against `defenderRoots`. */
export function challengeParams(
  reg: RegisteredModel,
  input: string,
  defenderRoots: readonly string[],
  challengerRoots: readonly string[],
) {
  let k = 0;
  while (k < defenderRoots.length && defenderRoots[k]!.toLowerCase() === challengerRoots[k]!.toLowerCase()) k++;
  if (k === defenderRoots.length) k = 0; // no disagreement: the game refuses it
  return {
    input,
    defenderRoots: [...defenderRoots],
    challengerRoots: [...challengerRoots],
    layerSpec: encodeLayerSpec(reg.specs[k]!),
    layoutProof: layoutProof(reg.specs, k),
  };
}

/** A side of a game: its signer and trace, and what it does. */
export type Player = {
  signer: HardhatEthersSigner;
  trees: TraceTrees;
  /** Prefix states it posts or checks against, by element (default: the kit's honest ones). */
  states?: ((element: number) => readonly bigint[]) | undefined;
  /** Never moves: loses on time. */
  stall?: boolean | undefined;
  /** Waits this many seconds before each move (default 0). */
  delay?: number | undefined;
};

export type PlayParameters = {
  game: Contracts.DisputeGame;
  gameId: bigint;
  defender: Player;
  challenger: Player;
  /** The kit of the disputed layer. */
  kit: (layer: number) => LayerKit;
  /** At the step: prove the whole element, or open the reduction phase. */
  step: "whole" | "sum";
  /** Sends `claimTimeout` when a side stalls (anyone may). */
  keeper: HardhatEthersSigner;
  /** Advances the chain's clock by `seconds`. */
  increaseTime: (seconds: number) => Promise<unknown>;
  gas: GasLog;
  /** Gas limit of the challenger's step transactions (default: estimated). */
  stepGasLimit?: number | undefined;
};

/** Plays game `gameId` to its end; returns its final view and the number of reduction midpoints posted. */
export async function playGame(p: PlayParameters) {
  const { game, gameId, gas } = p;
  let rounds = 0;
  let sumRounds = 0;
  for (let i = 0; i < 256; i++) {
    const g = await game.getGame(gameId);
    if (g.phase === Phase.Resolved) return { g, rounds, sumRounds };
    const [layer, height, position, size] = [
      Number(g.layer),
      Number(g.height),
      Number(g.position),
      Number(g.elementSize),
    ];
    const defenderTurn = g.turn === Side.Defender;
    const player = defenderTurn ? p.defender : p.challenger;
    const side = defenderTurn ? "defender" : "challenger";
    if (player.stall) {
      await p.increaseTime(Number(await game.remainingTime(gameId)));
      await gas.record("claimTimeout", game.connect(p.keeper).claimTimeout(gameId), "keeper");
      continue;
    }
    if (player.delay) await p.increaseTime(player.delay);
    const as = game.connect(player.signer);
    const kit = () => p.kit(layer);
    const chunk = () => chunkBytes(p.defender.trees, layer, position);
    const sum = () => game.getSum(gameId);
    const statesOf = (pl: Player, element: number) => (pl.states ?? kit().states)(element);
    const stepOverrides = p.stepGasLimit === undefined ? {} : { gasLimit: p.stepGasLimit };
    switch (g.phase) {
      case Phase.Bisecting: {
        const [l, r] = nodeChildren(player.trees, layer, height, position);
        if (defenderTurn) await gas.record("reveal", as.reveal(gameId, l, r), side);
        else {
          await gas.record("bisect", as.bisect(gameId, l, r), side);
          rounds++;
        }
        break;
      }
      case Phase.AwaitChunk:
        await gas.record("revealChunk", as.revealChunk(gameId, chunk()), side);
        break;
      case Phase.AwaitStep: {
        const c = chunk();
        const offset = differingElement(p.challenger.trees, layer, position, c, size) ?? 0;
        const element = (position * CHUNK_SIZE) / size + offset;
        if (p.step === "whole")
          await gas.record(
            "proveStep",
            as.proveStep(gameId, c, offset, kit().encoded, kit().whole(element), stepOverrides),
            side,
          );
        else await gas.record("openSum", as.openSum(gameId, c, offset, kit().encoded), side);
        break;
      }
      case Phase.SumClaim: {
        const element = Number((await sum()).element);
        const states = statesOf(p.defender, element);
        const total = states[states.length - 1]!;
        await gas.record("claimSum", as.claimSum(gameId, total, kit().encoded, kit().params(element)), side);
        break;
      }
      case Phase.SumBisecting: {
        const s = await sum();
        const mid = Number(s.mid);
        if (defenderTurn) {
          await gas.record("postSum", as.postSum(gameId, statesOf(p.defender, Number(s.element))[mid]!), side);
          sumRounds++;
        } else {
          const agree = statesOf(p.challenger, Number(s.element))[mid] === s.sumMid;
          await gas.record("pickSum", as.pickSum(gameId, agree), side);
        }
        break;
      }
      case Phase.AwaitSumStep: {
        const s = await sum();
        const proof = kit().range(Number(s.element), Number(s.lo), Number(s.hi));
        await gas.record("proveSumStep", as.proveSumStep(gameId, kit().encoded, proof, stepOverrides), side);
        break;
      }
      default:
        throw new Error(`unexpected phase ${g.phase}`);
    }
  }
  throw new Error("the game did not end");
}

/** The id of the game a `challenge` receipt started (from its GameStarted event). */
export function startedGame(game: Contracts.DisputeGame, receipt: ContractTransactionReceipt): bigint {
  for (const log of receipt.logs) {
    const parsed = game.interface.parseLog(log);
    if (parsed?.name === "GameStarted") return parsed.args[0] as bigint;
  }
  throw new Error("no GameStarted event");
}
