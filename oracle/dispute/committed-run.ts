/**
 * What one side of an Optimistic request holds: for a one-pass model its trace (every layer's
 * output), for a decoder its generation (every layer's output at every forward pass), with the
 * trees its moves are answered from and the roots a provider submits (the layer roots, or the
 * T = P + N − 1 pass roots). The provider commits to it, the watchtower compares with it, and
 * both play their games from it. Pure: no chain access.
 */
import type { Tensor } from "../model/tensor.ts";
import { readPrompt } from "../model/vqm/sequence-executor.ts";
import type { VqmModel } from "../model/vqm/vqm-model.ts";
import { executeWithCheat, generateWithCheat, type Cheat } from "./cheat.ts";
import { generationTrees, type GenerationTrees } from "./generation-proofs.ts";
import { elementBytes, traceTrees, type TraceTrees } from "./moves.ts";

export type PassRun = {
  kind: "pass";
  input: Tensor;
  trace: Tensor[];
  trees: TraceTrees;
  /** The layer roots. */
  roots: string[];
  output: Tensor;
};

export type GenerationRun = {
  kind: "generation";
  /** The int32 prompt ids as requested, and P: the prompt's length as the game reads it. */
  input: Tensor;
  promptLength: number;
  /** `passes[t][layer]`. */
  passes: Tensor[][];
  trees: GenerationTrees;
  /** The pass roots. */
  roots: string[];
  /** int32 `[1, N]`: the generated ids. */
  output: Tensor;
};

export type CommittedRun = PassRun | GenerationRun;

/** Runs `model` on `input` with the reference executor (a decoder generates), `cheat` applied when given (TEST-ONLY). */
export function runCommitted(model: VqmModel, input: Tensor, cheat?: Cheat | undefined): CommittedRun {
  if (model.sequence) {
    const { passes, output } = generateWithCheat(model, input, cheat);
    return generationRun(model, input, passes, output);
  }
  return passRun(input, executeWithCheat(model, input, cheat).trace);
}

/** The layer outputs of a run in trace-file order: the trace, or every pass's layers one pass after the other. */
export function runLayers(run: CommittedRun): Tensor[] {
  return run.kind === "pass" ? run.trace : run.passes.flat();
}

/** The run whose layers (`runLayers`) were kept on disk, rebuilt for `model` and `input`. */
export function runFromLayers(model: VqmModel, input: Tensor, layers: readonly Tensor[]): CommittedRun {
  if (!model.sequence) return passRun(input, [...layers]);
  const count = model.layers.length;
  const passes = Array.from({ length: layers.length / count }, (_, t) => layers.slice(t * count, (t + 1) * count));
  const promptLength = readPrompt(model.sequence, input.data as Int32Array).length;
  // gen[k] is the argmax of pass P − 1 + k.
  const ids = passes.slice(promptLength - 1).map((pass) => (pass.at(-1)!.data as Int32Array)[0]!);
  return generationRun(model, input, passes, { dtype: "int32", shape: [1, ids.length], data: Int32Array.from(ids) });
}

/** The trees of pass `pass` (of the trace, for a one-pass run). */
export function passTrees(run: CommittedRun, pass: number): TraceTrees {
  return run.kind === "pass" ? run.trees : run.trees.passes[pass]!;
}

/** The element bytes of the request's input (the model input, or the prompt ids). */
export function inputBytes(run: CommittedRun): Uint8Array {
  return elementBytes(run.input);
}

function passRun(input: Tensor, trace: Tensor[]): PassRun {
  const trees = traceTrees(trace);
  return { kind: "pass", input, trace, trees, roots: trees.roots, output: trace.at(-1)! };
}

function generationRun(model: VqmModel, input: Tensor, passes: Tensor[][], output: Tensor): GenerationRun {
  const trees = generationTrees(passes);
  const promptLength = readPrompt(model.sequence!, input.data as Int32Array).length;
  return { kind: "generation", input, promptLength, passes, trees, roots: trees.passRoots, output };
}
