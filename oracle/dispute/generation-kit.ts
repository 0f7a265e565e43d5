/**
 * The kit of a game over a decoder's generation once it has narrowed to layer `layer` of pass
 * `pass` (layer-kit.ts's counterpart): the encoded spec, whether the prover takes the whole
 * element, each `stepProof` (generation-proofs.ts: the openings against the defender's
 * generation root, tok(k), and the LayerStepProver proof of sequence-proofs.ts) and the honest
 * prefix states (sequence-reduction.ts). Agreed data (earlier passes, earlier layers of the pass)
 * is read from the honest generation; the openings' paths from the defender's committed one.
 * Layers of the one-pass kinds (dense, add, argmax, …) reuse layer-kit.ts over pass k's layers.
 */
import { encodeLayerSpec, LayerKind } from "./layout.ts";
import { encodeProofs, stepSource } from "./chunk-proofs.ts";
import { elementBytes } from "./moves.ts";
import {
  encodeGenerationStep,
  stepReads,
  tokenAt,
  tokenChunk,
  type GenerationStepContext,
  type GenerationTrees,
} from "./generation-proofs.ts";
import {
  attentionElementProof,
  attentionFinishProof,
  attentionRangeProof,
  attentionSources,
  attentionSumLayout,
  embedElementProof,
  passElementProof,
  passFinishProof,
  passRangeProof,
  passSources,
  passSumLayout,
} from "./sequence-proofs.ts";
import { sequencePrefixStates, type SequenceReductionLayer } from "./sequence-reduction.ts";
import type { ChunkProof } from "./chunk-proofs.ts";
import type { Tensor } from "../model/tensor.ts";
import { layerKit, type KitModel, type LayerKit } from "./layer-kit.ts";

/** A LayerKit whose prefix states may exceed 2^53 (a decoder's normalize sums). */
export type StepKit = Omit<LayerKit, "states"> & { states: (element: number) => readonly (number | bigint)[] };

export type GenerationKitParameters = {
  model: KitModel;
  pass: number;
  layer: number;
  /** The honest generation (`passes[t][layer]`): the agreed data every step reads. */
  passes: readonly (readonly Tensor[])[];
  /** The defender's committed generation, whose root the openings verify against. */
  committed: GenerationTrees;
  /** The element bytes of the request's input (the int32 prompt ids). */
  prompt: Uint8Array;
  promptLength: number;
};

/** The kit of layer `layer` at pass `pass` of a decoder's generation. */
export function generationKit(p: GenerationKitParameters): StepKit {
  const { model, pass, layer, passes } = p;
  const spec = model.specs[layer]!;
  const weights = model.blob;
  const c: GenerationStepContext = {
    committed: p.committed,
    prompt: stepSource(p.prompt),
    promptLength: p.promptLength,
    pass,
  };
  const attention = spec.kind === LayerKind.qk || spec.kind === LayerKind.av;
  const encode = (element: number, what: Parameters<typeof stepReads>[3], proof: string | ChunkProof[]) =>
    encodeGenerationStep({
      reads: stepReads(c, spec, element, what),
      ...tokenChunk(c, spec),
      proof: typeof proof === "string" ? proof : encodeProofs(proof),
    });
  // The one-pass kinds (dense, add, argmax, …) step as in a game over one pass, from pass k's layers.
  if (spec.kind < LayerKind.embed) {
    const kit = layerKit(model, layer, new Uint8Array(), passes[pass]!.map(elementBytes));
    return {
      ...kit,
      whole: (e) => encode(e, "whole", kit.whole(e)),
      range: (e, lo, hi) => encode(e, { from: lo, to: hi }, kit.range(e, lo, hi)),
      params: (e) => encode(e, "finish", kit.params(e)),
    };
  }
  const layout = (e: number) => (attention ? attentionSumLayout(spec, pass, e) : passSumLayout(spec, pass, e));
  const whole = (e: number): ChunkProof[] => {
    if (spec.kind === LayerKind.embed) return embedElementProof(spec, weights, pass, tokenAt(c, spec), e);
    if (attention) return attentionElementProof(spec, attentionSources(spec, passes, pass, e, weights), pass, e);
    return passElementProof(spec, passSources(spec, passes, pass, weights), pass, e);
  };
  return {
    spec,
    encoded: encodeLayerSpec(spec),
    needsReduction: (e) => {
      if (spec.kind === LayerKind.embed || spec.kind === LayerKind.lut) return false;
      const { terms, maxRange } = layout(e);
      return terms > maxRange;
    },
    whole: (e) => encode(e, "whole", whole(e)),
    range: (e, lo, hi) =>
      encode(
        e,
        { from: lo, to: hi },
        attention
          ? attentionRangeProof(spec, attentionSources(spec, passes, pass, e, weights, lo, hi), e, lo, hi)
          : passRangeProof(spec, passSources(spec, passes, pass, weights), e, lo, hi),
      ),
    params: (e) =>
      encode(
        e,
        "finish",
        attention
          ? attentionFinishProof(spec, attentionSources(spec, passes, pass, e, weights, 0, 0), pass, e)
          : passFinishProof(spec, passSources(spec, passes, pass, weights), pass, e),
      ),
    states: (e) =>
      sequencePrefixStates(
        model.model.layers[layer] as SequenceReductionLayer,
        { t: pass, context: model.model.sequence!.contextLength, output: (ref, u) => passes[u]![ref]! },
        e,
      ),
  };
}
