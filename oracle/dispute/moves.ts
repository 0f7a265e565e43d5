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
  const proofs: ChunkProof[] = [];
  const seen = new Set<string>();
  const need = (source: number, src: StepSource, offset: number, length: number) => {
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
  switch (spec.kind) {
    case LayerKind.dense: {
      const [fanIn, rows] = spec.params as [number, number];
      const params = spec.weightsOffset + rows * fanIn;
      need(1, inputA, 0, fanIn);
      need(0, weights, spec.weightsOffset + element * fanIn, fanIn);
      need(0, weights, params + 4 * element, 4);
      need(0, weights, params + 4 * rows + 4 * element, 4);
      need(0, weights, params + 8 * rows + element, 1);
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
    case LayerKind.argmax: {
      const f = spec.params[0]!;
      need(1, inputA, element * f, f);
      break;
    }
    default:
      throw new Error(`No one-step proof for layer kind ${spec.kind} yet.`);
  }
  return AbiCoder.defaultAbiCoder().encode([chunkProofType], [proofs]);
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
