/**
 * The dispute player's pure half: given one's own (honest) trace and what the other side has
 * committed or revealed, compute the next move of contracts/dispute/DisputeGame.sol. No chain
 * access here: the daemon's watcher and defender roles read the game and send these moves.
 */
import { AbiCoder, getBytes, hexlify } from "ethers";
import { chunkAt, CHUNK_SIZE, merkleTree, proofFromTree } from "../model/vqm/commitments.ts";
import type { MerkleTree } from "../model/vqm/commitments.ts";
import { toLittleEndianBytes } from "../model/tensor.ts";
import type { Tensor } from "../model/tensor.ts";
import type { LayerSpec } from "./layout.ts";
import { LayerKind } from "./layout.ts";

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

type ChunkProof = { source: number; index: number; data: string; siblings: string[] };

const chunkProofType = "tuple(uint8 source, uint32 index, bytes data, bytes32[] siblings)[]";

/** Bytes committed by a step source: the weights blob or an input tensor's element bytes. */
export type StepSource = { bytes: Uint8Array; tree: MerkleTree };

export function stepSource(bytes: Uint8Array): StepSource {
  return { bytes, tree: merkleTree(bytes) };
}

/**
 * The `stepProof` for output element `element` of the layer `spec`: the chunks of the weights
 * blob and of the inputs the element reads (LayerStepProver's needs), with their proofs.
 */
export function stepProof(
  spec: LayerSpec,
  element: number,
  weights: StepSource,
  inputA: StepSource,
  inputB?: StepSource,
): string {
  const { need, proofs } = collector();
  switch (spec.kind) {
    case LayerKind.dense:
    case LayerKind.conv2d: {
      const { fanIn } = sumLayout(spec);
      needRange(need, spec, element, 0, fanIn, weights, inputA);
      needParams(need, spec, element, weights);
      break;
    }
    case LayerKind.relu:
    case LayerKind.reshape:
      need(1, inputA, element, 1);
      break;
    case LayerKind.add:
      need(1, inputA, element, 1);
      if (inputB) need(2, inputB, element, 1);
      need(0, weights, spec.weightsOffset, 9);
      break;
    case LayerKind.maxpool2d: {
      const [, , w, oh, ow, kh, kw, sh, sw] = spec.params as number[] as Nine;
      const [ch, r, c] = [Math.floor(element / (oh * ow)), Math.floor(element / ow) % oh, element % ow];
      const h = spec.params[1]!;
      need(1, inputA, (ch * h + r * sh) * w + c * sw, (kh - 1) * w + kw);
      break;
    }
    case LayerKind.argmax: {
      const f = spec.params[0]!;
      need(1, inputA, element * f, f);
      break;
    }
    default:
      throw new Error(`No one-step proof for layer kind ${spec.kind}.`);
  }
  return encodeProofs(proofs);
}

type Nine = [number, number, number, number, number, number, number, number, number];
type Need = (source: number, src: StepSource, offset: number, length: number) => void;

/** A `need` function collecting the chunks (with their proofs) that cover byte ranges. */
function collector(): { need: Need; proofs: ChunkProof[] } {
  const proofs: ChunkProof[] = [];
  const seen = new Set<string>();
  const need: Need = (source, src, offset, length) => {
    if (length <= 0) return;
    const first = Math.floor(offset / CHUNK_SIZE);
    const last = Math.floor((offset + length - 1) / CHUNK_SIZE);
    for (let index = first; index <= last; index++) {
      const key = `${source}:${index}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const proof = proofFromTree(src.tree, src.bytes, index);
      proofs.push({ source, index, data: hexlify(proof.chunk), siblings: proof.siblings });
    }
  };
  return { need, proofs };
}

function encodeProofs(proofs: ChunkProof[]): string {
  return AbiCoder.defaultAbiCoder().encode([chunkProofType], [proofs]);
}

// ------------------------------------------------------------------------------------------------
// The partial-sum phase (DisputeGame.openSum … proveSumStep)

/** Conv2d params as named numbers (LayerSpec.sol's order). */
function convParams(spec: LayerSpec) {
  const [ic, h, w, oc, oh, ow, kh, kw, sh, sw, top, left] = spec.params as number[];
  return {
    ic: ic!,
    h: h!,
    w: w!,
    oc: oc!,
    oh: oh!,
    ow: ow!,
    kh: kh!,
    kw: kw!,
    sh: sh!,
    sw: sw!,
    top: top!,
    left: left!,
  };
}

const CONV_INPUT_CHUNKS = 16;
const MAX_STEP = 16384;
const MAX_CONV_STEP = 1024;

/**
 * The fan-in of a dense or conv2d element's dot product and the longest prefix-sum range one
 * step checks (LayerStepProver.sumLayout).
 */
export function sumLayout(spec: LayerSpec): { fanIn: number; maxRange: number } {
  if (spec.kind === LayerKind.dense) return { fanIn: spec.params[0]!, maxRange: MAX_STEP };
  if (spec.kind !== LayerKind.conv2d) throw new Error(`Layer kind ${spec.kind} has no prefix sums.`);
  const { ic, w, kh, kw } = convParams(spec);
  const perChannel = Math.ceil((kh * w) / CHUNK_SIZE) + 1;
  const perRow = Math.ceil(kw / CHUNK_SIZE) + 1;
  let maxRange = 1;
  if (2 * perChannel <= CONV_INPUT_CHUNKS) maxRange = (Math.floor(CONV_INPUT_CHUNKS / perChannel) - 1) * kh * kw;
  else if (2 * perRow <= CONV_INPUT_CHUNKS) maxRange = (Math.floor(CONV_INPUT_CHUNKS / perRow) - 1) * kw;
  return { fanIn: ic * kh * kw, maxRange: Math.min(maxRange, MAX_CONV_STEP) };
}

/** Where fan-in element `f` of conv2d output element `element` reads the input, or undefined in the padding. */
function convInputIndex(spec: LayerSpec, element: number, f: number): number | undefined {
  const { h, w, oh, ow, kh, kw, sh, sw, top, left } = convParams(spec);
  const [r, c] = [Math.floor(element / ow) % oh, element % ow];
  const i = Math.floor(f / (kh * kw));
  const u = Math.floor((f % (kh * kw)) / kw);
  const v = f % kw;
  const row = r * sh + u - top;
  const col = c * sw + v - left;
  if (row < 0 || col < 0 || row >= h || col >= w) return undefined;
  return (i * h + row) * w + col;
}

/** Offset in the weights blob of element `element`'s weights row, and its output channel. */
function weightsRow(spec: LayerSpec, element: number): { row: number; channel: number; rows: number } {
  const { fanIn } = sumLayout(spec);
  if (spec.kind === LayerKind.dense) {
    return { row: spec.weightsOffset + element * fanIn, channel: element, rows: spec.params[1]! };
  }
  const { oc, oh, ow } = convParams(spec);
  const channel = Math.floor(element / (oh * ow));
  return { row: spec.weightsOffset + channel * fanIn, channel, rows: oc };
}

/** The prefix sums `S_0 = 0, …, S_n` of element `element`'s dot product (dense or conv2d). */
export function prefixSums(spec: LayerSpec, element: number, weights: Uint8Array, inputA: Uint8Array): number[] {
  const { fanIn } = sumLayout(spec);
  const { row } = weightsRow(spec, element);
  const sums = new Array<number>(fanIn + 1);
  sums[0] = 0;
  const dense = spec.kind === LayerKind.dense;
  for (let f = 0; f < fanIn; f++) {
    const at = dense ? f : convInputIndex(spec, element, f);
    const x = at === undefined ? 0 : (inputA[at]! << 24) >> 24;
    const wv = (weights[row + f]! << 24) >> 24;
    sums[f + 1] = sums[f]! + x * wv;
  }
  return sums;
}

/** The index whose prefix sum the defender posts for the range `[lo, hi)` (DisputeGame's `_mid`). */
export function sumMidpoint(lo: number, hi: number): number {
  return lo + Math.floor((hi - lo) / 2);
}

/** The challenger's `pickSum`: whether the posted `S_index` agrees with its own prefix sums. */
export function agreesWithSum(own: readonly number[], index: number, posted: bigint | number): boolean {
  return own[index] === Number(posted);
}

function needParams(need: Need, spec: LayerSpec, element: number, weights: StepSource) {
  const { fanIn } = sumLayout(spec);
  const { channel, rows } = weightsRow(spec, element);
  const params = spec.weightsOffset + rows * fanIn;
  need(0, weights, params + 4 * channel, 4);
  need(0, weights, params + 4 * rows + 4 * channel, 4);
  need(0, weights, params + 8 * rows + channel, 1);
}

function needRange(
  need: Need,
  spec: LayerSpec,
  element: number,
  lo: number,
  hi: number,
  weights: StepSource,
  inputA: StepSource,
) {
  const { row } = weightsRow(spec, element);
  need(0, weights, row + lo, hi - lo);
  if (spec.kind === LayerKind.dense) {
    need(1, inputA, lo, hi - lo);
    return;
  }
  for (let f = lo; f < hi; f++) {
    const at = convInputIndex(spec, element, f);
    if (at !== undefined) need(1, inputA, at, 1);
  }
}

/** The `paramsProof` of `claimSum`: the chunks holding the element's bias, multiplier and shift. */
export function sumParamsProof(spec: LayerSpec, element: number, weights: StepSource): string {
  const { need, proofs } = collector();
  needParams(need, spec, element, weights);
  return encodeProofs(proofs);
}

/** The `stepProof` of `proveSumStep` for the range `[lo, hi)`: its input and weights chunks. */
export function sumStepProof(
  spec: LayerSpec,
  element: number,
  lo: number,
  hi: number,
  weights: StepSource,
  inputA: StepSource,
): string {
  const { need, proofs } = collector();
  needRange(need, spec, element, lo, hi, weights, inputA);
  return encodeProofs(proofs);
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
