/**
 * The off-chain half of contracts/dispute/GenerationProver.sol: a decoder's committed generation
 * (every pass's layer trees, the pass roots, the generation root over them), the openings of a
 * layer's trace root against the defender's generation root, and the `stepProof` a game over a
 * generation takes: the openings of the roots the step reads (in the prover's order), the chunk
 * holding tok(k) for a token embedding, and LayerStepProver's own proof (sequence-proofs.ts).
 * Pure: no chain access.
 */
import { AbiCoder, hexlify } from "ethers";
import type { Tensor } from "../model/tensor.ts";
import { CHUNK_SIZE, proofFromTree, rootOfRoots, rootsProof } from "../model/vqm/commitments.ts";
import type { StepSource } from "./chunk-proofs.ts";
import { LayerKind, type LayerSpec } from "./layout.ts";
import { traceTrees, type TraceTrees } from "./moves.ts";

/** A committed generation: each pass's layer trees, and the pass roots the provider submits. */
export type GenerationTrees = { passes: TraceTrees[]; passRoots: string[] };

/** The trees of a generation's passes (`passes[t][layer]`, as generateVqm returns them). */
export function generationTrees(passes: readonly (readonly Tensor[])[]): GenerationTrees {
  const trees = passes.map((pass) => traceTrees(pass));
  return { passes: trees, passRoots: trees.map((t) => rootOfRoots(t.roots)) };
}

/** `GenerationProver.Opening`: a layer's trace root and its path to the generation root. */
export type Opening = { root: string; siblings: string[] };

/**
 * The opening of layer `layer` at pass `pass` in `committed` (the defender's generation): the
 * path through the pass's tree of layer roots, then through the tree of pass roots.
 */
export function layerOpening(committed: GenerationTrees, pass: number, layer: number): Opening {
  const roots = committed.passes[pass]!.roots;
  return {
    root: roots[layer]!,
    siblings: [...rootsProof(roots, layer), ...rootsProof(committed.passRoots, pass)],
  };
}

/** `GenerationProver.StepProof`. */
export type GenerationStepProof = {
  reads: Opening[];
  token: string;
  tokenSiblings: string[];
  /** LayerStepProver's proof of the step (`abi.encode(ChunkProof[])`). */
  proof: string;
};

const stepProofType =
  "tuple(tuple(bytes32 root, bytes32[] siblings)[] reads, bytes token, bytes32[] tokenSiblings, bytes proof)";

export function encodeGenerationStep(step: GenerationStepProof): string {
  return AbiCoder.defaultAbiCoder().encode([stepProofType], [step]);
}

/** Where a step over layer `spec` at pass `pass` stands: the defender's generation, the prompt, P. */
export type GenerationStepContext = {
  committed: GenerationTrees;
  /** The element bytes of the request's input (int32 prompt ids). */
  prompt: StepSource;
  promptLength: number;
  pass: number;
};

/**
 * The openings a step of `spec` at the context's pass reads, in GenerationProver's order. `what`:
 * the whole element or a finish read like the step (qk and av finishes read none), or the range
 * `[from, to)` of a reduction (av reads the values of those passes only).
 */
export function stepReads(
  c: GenerationStepContext,
  spec: LayerSpec,
  element: number,
  what: { from: number; to: number } | "whole" | "finish",
): Opening[] {
  const k = c.pass;
  const open = (u: number, ref: number) => layerOpening(c.committed, u, ref);
  switch (spec.kind) {
    case LayerKind.embed:
      return spec.params[2] === 0 && k >= c.promptLength
        ? [open(k - 1, c.committed.passes[k - 1]!.roots.length - 1)]
        : [];
    case LayerKind.qk: {
      if (what === "finish") return [];
      const u = element % spec.params[2]!;
      return u <= k ? [open(k, spec.inputA), open(u, spec.inputB)] : [open(k, spec.inputA)];
    }
    case LayerKind.av: {
      if (what === "finish") return [];
      const [from, to] = what === "whole" ? [0, k + 1] : [what.from, what.to];
      return [
        open(k, spec.inputA),
        ...Array.from({ length: Math.max(to - from, 0) }, (_, j) => open(from + j, spec.inputB)),
      ];
    }
    default: {
      // The one-pass kinds (dense, add, argmax, …): finishes read only the weights, ranges only inputA.
      const onePass = spec.kind < LayerKind.embed;
      if (onePass && what === "finish") return [];
      const both = spec.inputB >= 0 && !(onePass && what !== "whole");
      return both ? [open(k, spec.inputA), open(k, spec.inputB)] : [open(k, spec.inputA)];
    }
  }
}

/**
 * The chunk holding tok(k) for a token embedding at pass `k` and its siblings: the prompt's chunk
 * (k < P) or the 4 bytes of the argmax of pass `k − 1` (no siblings: one chunk). Empty otherwise.
 */
export function tokenChunk(c: GenerationStepContext, spec: LayerSpec): { token: string; tokenSiblings: string[] } {
  const k = c.pass;
  if (spec.kind !== LayerKind.embed || spec.params[2] !== 0) return { token: "0x", tokenSiblings: [] };
  if (k < c.promptLength) {
    const proof = proofFromTree(c.prompt.tree, c.prompt.bytes, Math.floor((4 * k) / CHUNK_SIZE));
    return { token: hexlify(proof.chunk), tokenSiblings: proof.siblings };
  }
  const argmax = c.committed.passes[k - 1]!;
  return { token: hexlify(argmax.bytes.at(-1)!), tokenSiblings: [] };
}

/** tok(k) as the game reads it: the prompt id (bos for an empty prompt) or the argmax of pass `k − 1`. */
export function tokenAt(c: GenerationStepContext, spec: LayerSpec): number {
  const k = c.pass;
  const bytes = k < c.promptLength ? c.prompt.bytes : c.committed.passes[k - 1]!.bytes.at(-1)!;
  const id = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getInt32(
    k < c.promptLength ? 4 * k : 0,
    true,
  );
  return id < 0 ? spec.params[3]! : id;
}
