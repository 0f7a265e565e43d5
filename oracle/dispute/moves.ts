/**
 * The dispute player's pure half: given one's own (honest) trace and what the other side has
 * committed or revealed, compute the next move of contracts/dispute/DisputeGame.sol. No chain
 * access here: the daemon's watcher and defender roles read the game and send these moves.
 * The reduction phase's moves live in reduction.ts and are re-exported here, so a caller has
 * one module to import.
 */
import { getBytes, hexlify } from "ethers";
import { chunkAt, merkleTree } from "../model/vqm/commitments.ts";
import type { MerkleTree } from "../model/vqm/commitments.ts";
import { toLittleEndianBytes } from "../model/tensor.ts";
import type { Tensor } from "../model/tensor.ts";
import { collector, encodeProofs, Source, type ChunkProof, type StepSource } from "./chunk-proofs.ts";
import { poolWindow } from "./layer-geometry.ts";
import type { LayerSpec } from "./layout.ts";
import { encodeLayerSpec, LayerKind, layoutProof } from "./layout.ts";
import { needFinish, needRange, sumLayout } from "./reduction.ts";

export { EMPTY_PROOF, encodeProofs, stepSource, type ChunkProof, type StepSource } from "./chunk-proofs.ts";
export {
  agreesWithSum,
  finishState,
  hasReduction,
  needsReduction,
  prefixStates,
  prefixSums,
  sumLayout,
  sumMidpoint,
  sumParamsProof,
  sumStepProof,
} from "./reduction.ts";

/** A party's view of its trace: every layer's element bytes and Merkle tree. */
export type TraceTrees = { bytes: Uint8Array[]; trees: MerkleTree[]; roots: string[] };

/** Builds the trees of a trace (one per layer output). */
export function traceTrees(trace: readonly Tensor[]): TraceTrees {
  const bytes = trace.map((t) => toLittleEndianBytes(t.data));
  const trees = bytes.map((b) => merkleTree(b));
  const roots = trees.map((t) => hexlify(t.levels[t.levels.length - 1]![0]!));
  return { bytes, trees, roots };
}

/** The first layer whose roots differ, or undefined if the traces agree. */
export function firstDifferingLayer(mine: readonly string[], theirs: readonly string[]): number | undefined {
  for (let i = 0; i < mine.length; i++) if (mine[i]!.toLowerCase() !== theirs[i]?.toLowerCase()) return i;
  return undefined;
}

/**
 * What a challenger names of the layer it disputes: the first layer whose root in `roots` differs
 * from `defenderRoots` (layer 0 when none does, which the game refuses), its encoded spec and
 * its proof against the layout root (`challenge`, or `revealChallengerLayers` in a generation).
 */
export function disputedLayer(
  specs: readonly LayerSpec[],
  defenderRoots: readonly string[],
  roots: readonly string[],
): { layer: number; layerSpec: string; layoutProof: string[] } {
  const layer = firstDifferingLayer(defenderRoots, roots) ?? 0;
  return { layer, layerSpec: encodeLayerSpec(specs[layer]!), layoutProof: layoutProof(specs, layer) };
}

/** The first byte where two outputs differ (or the shorter length), or undefined if they are equal. */
export function firstDifferingByte(mine: Uint8Array, theirs: Uint8Array): number | undefined {
  const length = Math.min(mine.length, theirs.length);
  for (let i = 0; i < length; i++) if (mine[i] !== theirs[i]) return i;
  return mine.length === theirs.length ? undefined : length;
}

/** The children (left, right) of node `position` at `height` of layer `layer`'s tree. */
export function nodeChildren(own: TraceTrees, layer: number, height: number, position: number): [string, string] {
  const level = own.trees[layer]!.levels[height - 1]!;
  return [hexlify(level[2 * position]!), hexlify(level[2 * position + 1]!)];
}

/** The bytes of chunk `position` of layer `layer` (the defender's `revealChunk`). */
export function chunkBytes(own: TraceTrees, layer: number, position: number): Uint8Array {
  return chunkAt(own.bytes[layer]!, position);
}

/** The first element of `theirs` (a revealed chunk) that differs from ours, or undefined. */
export function differingElement(
  own: TraceTrees,
  layer: number,
  position: number,
  theirs: Uint8Array,
  elementSize: number,
): number | undefined {
  const mine = chunkBytes(own, layer, position);
  for (let e = 0; e * elementSize < theirs.length; e++) {
    for (let b = 0; b < elementSize; b++) if (mine[e * elementSize + b] !== theirs[e * elementSize + b]) return e;
  }
  return undefined;
}

/**
 * The chunks of the whole-element step of output element `element` of the layer `spec`: those
 * of the weights blob and of the inputs the element reads (LayerStepProver.computeElement's
 * needs), with their proofs. Maxpool2d windows are read one window row at a time, so a window
 * over a wide input never needs the chunks between its rows.
 */
export function stepChunks(
  spec: LayerSpec,
  element: number,
  weights: StepSource,
  inputA: StepSource,
  inputB?: StepSource,
): ChunkProof[] {
  const { need, proofs } = collector();
  switch (spec.kind) {
    case LayerKind.dense:
    case LayerKind.conv2d: {
      const { fanIn } = sumLayout(spec);
      needRange(need, spec, element, 0, fanIn, weights, inputA);
      needFinish(need, spec, element, weights);
      break;
    }
    case LayerKind.relu:
    case LayerKind.reshape:
      need(Source.inputA, inputA, element, 1);
      break;
    case LayerKind.add:
      need(Source.inputA, inputA, element, 1);
      if (inputB) need(Source.inputB, inputB, element, 1);
      need(Source.weights, weights, spec.weightsOffset, 9);
      break;
    case LayerKind.maxpool2d: {
      const { first, width, kh, kw } = poolWindow(spec, element);
      for (let u = 0; u < kh; u++) need(Source.inputA, inputA, first + u * width, kw);
      break;
    }
    case LayerKind.argmax: {
      const f = spec.params[0]!;
      need(Source.inputA, inputA, element * f, f);
      break;
    }
    default:
      throw new Error(`No one-step proof for layer kind ${spec.kind}.`);
  }
  return proofs;
}

/** The `stepProof` of `proveStep` for output element `element` of the layer `spec` (see `stepChunks`). */
export function stepProof(
  spec: LayerSpec,
  element: number,
  weights: StepSource,
  inputA: StepSource,
  inputB?: StepSource,
): string {
  return encodeProofs(stepChunks(spec, element, weights, inputA, inputB));
}

/** Element bytes of a tensor (for step sources): the model input or a layer output. */
export function elementBytes(tensor: Tensor): Uint8Array {
  return toLittleEndianBytes(tensor.data);
}

/** Hex of bytes, for contract calls. */
export function hex(bytes: Uint8Array): string {
  return hexlify(bytes);
}

export { getBytes };
