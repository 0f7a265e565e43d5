/**
 * The keccak commitments of docs/numeric-semantics.md#commitments: the chunked Merkle tree that
 * commits the weights blob (`weightsRoot`) and every layer output (trace roots), its proofs, and
 * the weights blob with its layout (where each layer's parameters sit, so the dispute one-step
 * can ask for the chunk holding one output's weights row).
 *
 * `contracts/libraries/ChunkMerkle.sol` verifies the same proofs on-chain; the shared vectors in
 * `test/vectors/chunk-merkle.json` (written by `scripts/gen-merkle-vectors.ts`) pin both.
 */
import { getBytes, hexlify, keccak256, zeroPadValue } from "ethers";
import { BaseError } from "../../errors.ts";
import { toLittleEndianBytes } from "../tensor.ts";
import type { Tensor } from "../tensor.ts";
import type { Requant, VqmLayer, VqmModel } from "./vqm-model.ts";

/** Bytes per chunk (leaf); the last chunk of a byte string may be shorter. */
export const CHUNK_SIZE = 1024;

/** The root of the empty byte string, and the padding leaf. */
export const ZERO_HASH = zeroPadValue("0x", 32);

const LEAF_PREFIX = 0x00;
const NODE_PREFIX = 0x01;
/** Leaf indices are encoded as uint32: no tree has more leaves. */
const MAX_LEAVES = 2 ** 32;

export class CommitmentError extends BaseError {
  override name = "CommitmentError";
}

// ---------------------------------------------------------------------------------------------
// Chunked Merkle tree

/** Raw 32-byte keccak256 (ethers returns hex; the tree keeps bytes to avoid re-parsing). */
function keccakBytes(data: Uint8Array): Uint8Array {
  return getBytes(keccak256(data));
}

function leafBytes(index: number, chunk: Uint8Array, scratch?: Uint8Array): Uint8Array {
  const preimage = scratch && scratch.length === 5 + chunk.length ? scratch : new Uint8Array(5 + chunk.length);
  preimage[0] = LEAF_PREFIX;
  new DataView(preimage.buffer, preimage.byteOffset, 5).setUint32(1, index, false);
  preimage.set(chunk, 5);
  return keccakBytes(preimage);
}

/** Reused for every node: 0x01 ‖ left ‖ right (65 bytes). */
const nodePreimage = new Uint8Array(65);

function nodeBytes(left: Uint8Array, right: Uint8Array): Uint8Array {
  nodePreimage[0] = NODE_PREFIX;
  nodePreimage.set(left, 1);
  nodePreimage.set(right, 33);
  return keccakBytes(nodePreimage);
}

function assertIndex(index: number, what: string): void {
  if (!Number.isInteger(index) || index < 0 || index >= MAX_LEAVES)
    throw new CommitmentError(`${what} must be an integer in [0, 2^32).`, {
      details: [`Got ${index}.`],
    });
}

/** `keccak256(0x00 ‖ uint32be(index) ‖ chunk)`. */
export function chunkLeaf(index: number, chunk: Uint8Array): string {
  assertIndex(index, "Chunk index");
  return hexlify(leafBytes(index, chunk));
}

/** `keccak256(0x01 ‖ left ‖ right)`. */
export function nodeHash(left: string, right: string): string {
  return hexlify(nodeBytes(getBytes(left), getBytes(right)));
}

/** Number of chunks of a byte string of `length` bytes (0 for the empty string). */
export function chunkCount(length: number): number {
  return Math.ceil(length / CHUNK_SIZE);
}

/** Chunk `index` of `bytes` (a view, not a copy). */
export function chunkAt(bytes: Uint8Array, index: number): Uint8Array {
  return bytes.subarray(index * CHUNK_SIZE, Math.min((index + 1) * CHUNK_SIZE, bytes.length));
}

/**
 * Every level of the tree, bottom-up: `levels[0]` holds the leaves padded with zero leaves to a
 * power of two, the last level holds the root alone. Empty bytes give one level `[ZERO_HASH]`.
 */
export type MerkleTree = { levels: Uint8Array[][]; leafCount: number; chunkCount: number };

export function merkleTree(bytes: Uint8Array): MerkleTree {
  const chunks = chunkCount(bytes.length);
  if (chunks > MAX_LEAVES)
    throw new CommitmentError("Too many chunks for a uint32 leaf index.", {
      details: [`${bytes.length} bytes make ${chunks} chunks.`],
    });
  if (chunks === 0) return { levels: [[getBytes(ZERO_HASH)]], leafCount: 0, chunkCount: 0 };
  let leafCount = 1;
  while (leafCount < chunks) leafCount *= 2;
  const zero = new Uint8Array(32);
  const leaves: Uint8Array[] = new Array<Uint8Array>(leafCount);
  const scratch = new Uint8Array(5 + CHUNK_SIZE);
  for (let i = 0; i < leafCount; i++) leaves[i] = i < chunks ? leafBytes(i, chunkAt(bytes, i), scratch) : zero;
  const levels = [leaves];
  let level = leaves;
  while (level.length > 1) {
    const next = new Array<Uint8Array>(level.length / 2);
    for (let i = 0; i < next.length; i++) next[i] = nodeBytes(level[2 * i]!, level[2 * i + 1]!);
    levels.push(next);
    level = next;
  }
  return { levels, leafCount, chunkCount: chunks };
}

/** The root of a tree built by `merkleTree`. */
export function treeRoot(tree: MerkleTree): string {
  return hexlify(tree.levels[tree.levels.length - 1]![0]!);
}

/**
 * Root of the chunked Merkle tree over `bytes`: `bytes32(0)` for no bytes, the leaf itself for a
 * single chunk.
 */
export function merkleRoot(bytes: Uint8Array): string {
  return treeRoot(merkleTree(bytes));
}

export type MerkleProof = {
  /** The chunk's bytes (a view of the input). */
  chunk: Uint8Array;
  /** `chunkLeaf(chunkIndex, chunk)`. */
  leaf: string;
  /** Bottom-up: `siblings[k]` is the sibling at height k; bit k of the index says its side. */
  siblings: string[];
  /** Leaves after padding: `2 ** siblings.length`. */
  leafCount: number;
};

/** The proof of chunk `chunkIndex` from a tree built by `merkleTree` over `bytes`. */
export function proofFromTree(tree: MerkleTree, bytes: Uint8Array, chunkIndex: number): MerkleProof {
  if (!Number.isInteger(chunkIndex) || chunkIndex < 0 || chunkIndex >= tree.chunkCount)
    throw new CommitmentError(`No chunk ${chunkIndex} to prove.`, {
      details: [`The bytes have ${tree.chunkCount} chunk(s) of ${CHUNK_SIZE} bytes.`],
    });
  const siblings: string[] = [];
  let position = chunkIndex;
  for (let height = 0; height < tree.levels.length - 1; height++) {
    siblings.push(hexlify(tree.levels[height]![position ^ 1]!));
    position >>>= 1;
  }
  return {
    chunk: chunkAt(bytes, chunkIndex),
    leaf: hexlify(tree.levels[0]![chunkIndex]!),
    siblings,
    leafCount: tree.leafCount,
  };
}

/** The proof of chunk `chunkIndex` of `bytes` (builds the tree; reuse `merkleTree` for many). */
export function merkleProof(bytes: Uint8Array, chunkIndex: number): MerkleProof {
  return proofFromTree(merkleTree(bytes), bytes, chunkIndex);
}

/**
 * Root from a leaf and its bottom-up siblings: at height k the node is the left child when bit k
 * of `index` is 0. Returns undefined when `index >= 2 ** siblings.length` (the contract reverts
 * with `ChunkMerkleIndexOutOfRange` there).
 */
export function computeRoot(index: number, leaf: string, siblings: readonly string[]): string | undefined {
  if (!Number.isInteger(index) || index < 0 || index >= 2 ** siblings.length) return undefined;
  let node = getBytes(leaf);
  let position = index;
  for (const sibling of siblings) {
    node = position % 2 === 0 ? nodeBytes(node, getBytes(sibling)) : nodeBytes(getBytes(sibling), node);
    position = Math.floor(position / 2);
  }
  return hexlify(node);
}

/**
 * Whether `chunk` is chunk `chunkIndex` of the bytes committed by `root`, as
 * `ChunkMerkle.verify` decides (false where the contract reverts on an out-of-range index).
 * The chunk's length is not checked: a chunk of the wrong length has a different leaf.
 */
export function verifyChunk(root: string, chunkIndex: number, chunk: Uint8Array, siblings: readonly string[]): boolean {
  if (!Number.isInteger(chunkIndex) || chunkIndex < 0 || chunkIndex >= MAX_LEAVES) return false;
  const computed = computeRoot(chunkIndex, hexlify(leafBytes(chunkIndex, chunk)), siblings);
  return computed !== undefined && computed === hexlify(getBytes(root));
}

// ---------------------------------------------------------------------------------------------
// Weights blob

/** A byte range of the weights blob. */
export type BlobRange = { offset: number; length: number };

/** Where a dense or conv2d layer's parameters sit in the weights blob. */
export type WeightedLayerLayout = {
  layer: number;
  kind: "dense" | "conv2d";
  /** The whole layer: weights, bias, multiplier, shift, in that order and contiguous. */
  range: BlobRange;
  /** int8 `[rows][rowLength]`: output channel j's weights start at `weights.offset + j * rowLength`. */
  weights: BlobRange;
  /** Output channels (dense `outFeatures`, conv2d `outChannels`). */
  rows: number;
  /** Weights per output channel (dense `inFeatures`, conv2d `inChannels * kh * kw`). */
  rowLength: number;
  /** int32 LE, 4 bytes per output channel. */
  bias: BlobRange;
  /** int32 LE, 4 bytes per output channel. */
  multiplier: BlobRange;
  /** One byte per output channel. */
  shift: BlobRange;
};

/** Where an add layer's parameters sit in the weights blob. */
export type AddLayerLayout = {
  layer: number;
  kind: "add";
  /** 9 bytes: ma, mb, shift. */
  range: BlobRange;
  /** int32 LE. */
  multiplierA: BlobRange;
  /** int32 LE. */
  multiplierB: BlobRange;
  /** One byte. */
  shift: BlobRange;
};

export type LayerWeightsLayout = WeightedLayerLayout | AddLayerLayout;

/** Where an embed layer's table sits: row `k` starts at `table.offset + k * rowLength`. */
export type EmbedLayerLayout = {
  layer: number;
  kind: "embed";
  range: BlobRange;
  /** int8 `[rows][rowLength]`. */
  table: BlobRange;
  rows: number;
  rowLength: number;
};

/** A lut's 256 int8 entries, or a softmax's 256 uint32 LE exp entries. */
export type TableLayerLayout = { layer: number; kind: "lut" | "softmax"; range: BlobRange; table: BlobRange };

/** A normalize layer's parameters, in this order. */
export type NormalizeLayerLayout = {
  layer: number;
  kind: "normalize";
  range: BlobRange;
  /** int8, one per channel. */
  gamma: BlobRange;
  /** int32 LE, one per channel. */
  beta: BlobRange;
  /** uint64 LE, 8 bytes. */
  epsilon: BlobRange;
  /** int32 LE, one per channel. */
  multiplier: BlobRange;
  /** One byte per channel. */
  shift: BlobRange;
};

/** A qk or av layer's one multiplier (int32 LE) and shift (one byte): 5 bytes. */
export type AttentionLayerLayout = {
  layer: number;
  kind: "qk" | "av";
  range: BlobRange;
  multiplier: BlobRange;
  shift: BlobRange;
};

/** The parameters of a decoder's sequence layers (docs/numeric-semantics.md, "Sequence models"). */
export type SequenceLayerLayout = EmbedLayerLayout | TableLayerLayout | NormalizeLayerLayout | AttentionLayerLayout;

export type WeightsLayout = {
  /** Total bytes of the blob. */
  length: number;
  /** Parameterised layers only, in model order. */
  layers: (LayerWeightsLayout | SequenceLayerLayout)[];
  /**
   * Entry `i` is the layout of model layer `i` when it is a dense, conv2d or add layer (the kinds
   * the dispute one-step reads today), else undefined.
   */
  byLayer: (LayerWeightsLayout | undefined)[];
  /** Entry `i` is the layout of model layer `i` when it is a parameterised sequence layer, else undefined. */
  sequenceByLayer: (SequenceLayerLayout | undefined)[];
};

function rowShape(layer: VqmLayer & { kind: "dense" | "conv2d" }): { rows: number; rowLength: number } {
  return layer.kind === "dense"
    ? { rows: layer.outFeatures, rowLength: layer.inFeatures }
    : { rows: layer.outChannels, rowLength: layer.inChannels * layer.kernel[0] * layer.kernel[1] };
}

function assertLength(index: number, part: string, actual: number, expected: number): void {
  if (actual !== expected)
    throw new CommitmentError(`Layer ${index}: ${part} has ${actual} entries, expected ${expected}.`, {
      details: ["The weights blob is laid out from the layer's dimensions."],
    });
}

function assertRequant(index: number, requant: Requant, rows: number): void {
  assertLength(index, "requant multiplier", requant.multiplier.length, rows);
  assertLength(index, "requant shift", requant.shift.length, rows);
}

function assertInt32(index: number, part: string, value: number): void {
  if (!Number.isInteger(value) || value < -(2 ** 31) || value >= 2 ** 31)
    throw new CommitmentError(`Layer ${index}: ${part} is not an int32.`, { details: [`Got ${value}.`] });
}

function assertShift(index: number, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 255)
    throw new CommitmentError(`Layer ${index}: shift does not fit one byte.`, { details: [`Got ${value}.`] });
}

/**
 * Where each parameterised layer's parameters sit in `weightsBlob(model)`. Throws
 * `CommitmentError` when a parameter array's length disagrees with the layer's dimensions.
 */
export function weightsLayout(model: VqmModel): WeightsLayout {
  let offset = 0;
  const take = (length: number): BlobRange => {
    const range = { offset, length };
    offset += length;
    return range;
  };
  const layers: (LayerWeightsLayout | SequenceLayerLayout)[] = [];
  const byLayer: (LayerWeightsLayout | undefined)[] = [];
  const sequenceByLayer: (SequenceLayerLayout | undefined)[] = [];
  model.layers.forEach((layer, index) => {
    const sequenceEntry = sequenceLayout(layer, index, take);
    sequenceByLayer.push(sequenceEntry);
    if (sequenceEntry !== undefined) {
      layers.push(sequenceEntry);
      byLayer.push(undefined);
      return;
    }
    if (layer.kind === "dense" || layer.kind === "conv2d") {
      const { rows, rowLength } = rowShape(layer);
      assertLength(index, "weights", layer.weights.length, rows * rowLength);
      assertLength(index, "bias", layer.bias.length, rows);
      assertRequant(index, layer.requant, rows);
      const start = offset;
      const weights = take(rows * rowLength);
      const bias = take(4 * rows);
      const multiplier = take(4 * rows);
      const shift = take(rows);
      const entry: WeightedLayerLayout = {
        layer: index,
        kind: layer.kind,
        range: { offset: start, length: offset - start },
        weights,
        rows,
        rowLength,
        bias,
        multiplier,
        shift,
      };
      layers.push(entry);
      byLayer.push(entry);
    } else if (layer.kind === "add") {
      const start = offset;
      const entry: AddLayerLayout = {
        layer: index,
        kind: "add",
        range: { offset: start, length: 9 },
        multiplierA: take(4),
        multiplierB: take(4),
        shift: take(1),
      };
      layers.push(entry);
      byLayer.push(entry);
    } else byLayer.push(undefined);
  });
  return { length: offset, layers, byLayer, sequenceByLayer };
}

/**
 * The layout of a sequence layer's parameters, taking its bytes in blob order (undefined, taking
 * none, for the other kinds and for centre and rowmax, which have no parameters).
 */
function sequenceLayout(
  layer: VqmLayer,
  index: number,
  take: (length: number) => BlobRange,
): SequenceLayerLayout | undefined {
  const whole = (first: BlobRange, last: BlobRange): BlobRange => ({
    offset: first.offset,
    length: last.offset + last.length - first.offset,
  });
  switch (layer.kind) {
    case "embed": {
      assertLength(index, "embed table", layer.table.length, layer.rows * layer.width);
      const table = take(layer.rows * layer.width);
      return { layer: index, kind: "embed", range: table, table, rows: layer.rows, rowLength: layer.width };
    }
    case "lut":
    case "softmax": {
      const table = layer.kind === "lut" ? layer.table : layer.exp;
      assertLength(index, `${layer.kind} table`, table.length, 256);
      const range = take(layer.kind === "lut" ? 256 : 4 * 256);
      return { layer: index, kind: layer.kind, range, table: range };
    }
    case "normalize": {
      const width = layer.gamma.length;
      assertLength(index, "beta", layer.beta.length, width);
      assertRequant(index, layer.requant, width);
      const gamma = take(width);
      const beta = take(4 * width);
      const epsilon = take(8);
      const multiplier = take(4 * width);
      const shift = take(width);
      return { layer: index, kind: "normalize", range: whole(gamma, shift), gamma, beta, epsilon, multiplier, shift };
    }
    case "qk":
    case "av": {
      const multiplier = take(4);
      const shift = take(1);
      return { layer: index, kind: layer.kind, range: whole(multiplier, shift), multiplier, shift };
    }
    default:
      return undefined;
  }
}

/**
 * The weights blob of docs/numeric-semantics.md#commitments: for each parameterised layer in
 * order, `W` (int8), `b` (int32 LE), `m` (int32 LE), `s` (one byte each); for `add`, `ma`, `mb`
 * (int32 LE), `s` (one byte); for a decoder's layers, as "Sequence models" lays them out.
 */
export function weightsBlob(model: VqmModel): Uint8Array {
  const layout = weightsLayout(model);
  const blob = new Uint8Array(layout.length);
  const view = new DataView(blob.buffer);
  const putInt32s = (range: BlobRange, values: Int32Array): void => {
    for (let i = 0; i < values.length; i++) view.setInt32(range.offset + 4 * i, values[i]!, true);
  };
  for (const entry of layout.layers) {
    const layer = model.layers[entry.layer]!;
    if (isSequenceLayout(entry)) putSequenceLayer(blob, view, entry, layer);
    else if (entry.kind === "add" && layer.kind === "add") {
      const [ma, mb] = layer.multipliers;
      assertInt32(entry.layer, "multiplier a", ma);
      assertInt32(entry.layer, "multiplier b", mb);
      assertShift(entry.layer, layer.shift);
      view.setInt32(entry.multiplierA.offset, ma, true);
      view.setInt32(entry.multiplierB.offset, mb, true);
      blob[entry.shift.offset] = layer.shift;
    } else if (entry.kind !== "add" && (layer.kind === "dense" || layer.kind === "conv2d")) {
      blob.set(toLittleEndianBytes(layer.weights), entry.weights.offset);
      putInt32s(entry.bias, layer.bias);
      putInt32s(entry.multiplier, layer.requant.multiplier);
      blob.set(layer.requant.shift, entry.shift.offset);
    }
  }
  return blob;
}

function isSequenceLayout(entry: LayerWeightsLayout | SequenceLayerLayout): entry is SequenceLayerLayout {
  return entry.kind !== "dense" && entry.kind !== "conv2d" && entry.kind !== "add";
}

/** Writes a sequence layer's parameters where `entry` says (little-endian, as the layout types say). */
function putSequenceLayer(blob: Uint8Array, view: DataView, entry: SequenceLayerLayout, layer: VqmLayer): void {
  if (entry.kind === "embed" && layer.kind === "embed") blob.set(toLittleEndianBytes(layer.table), entry.table.offset);
  else if (entry.kind === "lut" && layer.kind === "lut") blob.set(toLittleEndianBytes(layer.table), entry.table.offset);
  else if (entry.kind === "softmax" && layer.kind === "softmax")
    layer.exp.forEach((value, k) => view.setUint32(entry.table.offset + 4 * k, value, true));
  else if (entry.kind === "normalize" && layer.kind === "normalize") {
    blob.set(toLittleEndianBytes(layer.gamma), entry.gamma.offset);
    layer.beta.forEach((value, k) => view.setInt32(entry.beta.offset + 4 * k, value, true));
    if (typeof layer.epsilon !== "bigint" || layer.epsilon < 0n || layer.epsilon >= 2n ** 64n)
      throw new CommitmentError(`Layer ${entry.layer}: epsilon is not a uint64.`, {
        details: [`Got ${String(layer.epsilon)}.`],
      });
    view.setBigUint64(entry.epsilon.offset, layer.epsilon, true);
    layer.requant.multiplier.forEach((value, k) => view.setInt32(entry.multiplier.offset + 4 * k, value, true));
    blob.set(layer.requant.shift, entry.shift.offset);
  } else if ((entry.kind === "qk" || entry.kind === "av") && (layer.kind === "qk" || layer.kind === "av")) {
    assertInt32(entry.layer, "multiplier", layer.multiplier);
    assertShift(entry.layer, layer.shift);
    view.setInt32(entry.multiplier.offset, layer.multiplier, true);
    blob[entry.shift.offset] = layer.shift;
  }
}

/** `merkleRoot(weightsBlob(model))`. */
export function weightsRoot(model: VqmModel): string {
  return merkleRoot(weightsBlob(model));
}

/** The chunks `[first, last]` that hold `range` (a range of length 0 holds none: undefined). */
export function chunksOf(range: BlobRange): { first: number; last: number } | undefined {
  if (range.length <= 0) return undefined;
  return {
    first: Math.floor(range.offset / CHUNK_SIZE),
    last: Math.floor((range.offset + range.length - 1) / CHUNK_SIZE),
  };
}

// ---------------------------------------------------------------------------------------------
// Trace

/** A layer's trace root: the root of its output's element bytes (little-endian, no header). */
export function traceRoot(tensor: Tensor): string {
  return merkleRoot(toLittleEndianBytes(tensor.data));
}

/** The trace roots of every layer output, in layer order. */
export function traceRoots(trace: readonly Tensor[]): string[] {
  return trace.map(traceRoot);
}

// ---------------------------------------------------------------------------------------------
// Generation (decoders)

/**
 * The Merkle root of a list of 32-byte roots by the chunked tree's node rule: the roots are the
 * leaves as they are (not hashed again), padded with `bytes32(0)` to a power of two, combined by
 * `keccak256(0x01 ‖ left ‖ right)`; one root is its own root, none gives `bytes32(0)`.
 */
export function rootOfRoots(roots: readonly string[]): string {
  if (roots.length === 0) return ZERO_HASH;
  return hexlify(rootsLevels(roots).at(-1)![0]!);
}

/** The bottom-up siblings of leaf `index` of `rootOfRoots(roots)` (the path the dispute game verifies). */
export function rootsProof(roots: readonly string[], index: number): string[] {
  if (!Number.isInteger(index) || index < 0 || index >= roots.length)
    throw new CommitmentError(`No root ${index} to prove among ${roots.length}.`);
  const levels = rootsLevels(roots);
  return levels.slice(0, -1).map((level, height) => hexlify(level[(index >>> height) ^ 1]!));
}

/** The levels of `rootOfRoots`'s tree, leaves (padded with zeros) first. */
function rootsLevels(roots: readonly string[]): Uint8Array[][] {
  let width = 1;
  while (width < roots.length) width *= 2;
  const levels = [Array.from({ length: width }, (_, i) => getBytes(i < roots.length ? roots[i]! : ZERO_HASH))];
  for (let level = levels[0]!; level.length > 1; levels.push(level))
    level = Array.from({ length: level.length / 2 }, (_, i) => nodeBytes(level[2 * i]!, level[2 * i + 1]!));
  return levels;
}

/** A pass's root: `rootOfRoots` over its layers' trace roots, in layer order. */
export function passRoot(pass: readonly Tensor[]): string {
  return rootOfRoots(traceRoots(pass));
}

/**
 * The trace root of a generation (docs/numeric-semantics.md, "Generation"): `rootOfRoots` over
 * the pass roots, so a dispute bisects passes, then layers, then chunks.
 */
export function traceRootOfGeneration(passes: readonly (readonly Tensor[])[]): string {
  return rootOfRoots(passes.map(passRoot));
}
