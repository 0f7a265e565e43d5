/**
 * Step proofs as LayerStepProver decodes them: `abi.encode(ChunkProof[])`, each chunk of the
 * weights blob (source 0) or of an input tensor's element bytes (sources 1 and 2) with its
 * Merkle siblings. A collector gathers the chunks covering byte ranges, each chunk once.
 */
import { AbiCoder, hexlify } from "ethers";
import { CHUNK_SIZE, merkleTree, proofFromTree, type MerkleTree } from "../model/vqm/commitments.ts";

/** `LayerStepProver.ChunkProof`. */
export type ChunkProof = { source: number; index: number; data: string; siblings: string[] };

/** Chunk sources of a step proof. */
export const Source = { weights: 0, inputA: 1, inputB: 2 } as const;

/** Bytes committed by a step source: the weights blob or an input tensor's element bytes. */
export type StepSource = { bytes: Uint8Array; tree: MerkleTree };

export function stepSource(bytes: Uint8Array): StepSource {
  return { bytes, tree: merkleTree(bytes) };
}

/** Adds the chunks of `src` that hold bytes `[offset, offset + length)` (nothing for `length <= 0`). */
export type Need = (source: number, src: StepSource, offset: number, length: number) => void;

/** A `need` function collecting the chunks (with their proofs) that cover byte ranges. */
export function collector(): { need: Need; proofs: ChunkProof[] } {
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

const chunkProofType = "tuple(uint8 source, uint32 index, bytes data, bytes32[] siblings)[]";

export function encodeProofs(proofs: readonly ChunkProof[]): string {
  return AbiCoder.defaultAbiCoder().encode([chunkProofType], [proofs]);
}

/** The empty proof (`abi.encode(new ChunkProof[](0))`), for steps that read nothing. */
export const EMPTY_PROOF = encodeProofs([]);
