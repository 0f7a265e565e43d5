/**
 * Step proofs of a decoder's pass-local layers (lut, centre, normalize, rowmax, softmax) as
 * LayerStepProver's `computePassElement`, `stepPassSum` and `finishPassSum` read them: the chunks
 * of the weights blob and of the layers `inputA`, `inputB` of the same pass that the step reads,
 * each once. The reads mirror the contract's; `passSumLayout` mirrors its namesake. Below: qk and
 * av (`computeAttentionElement`, `stepAttentionSum`, `finishAttentionSum`), whose key or value
 * layers are those of other passes, and embed (`computeEmbedElement`), whose row is tok(t) or t.
 */
import { BaseError } from "../errors.ts";
import { toLittleEndianBytes, type Tensor } from "../model/tensor.ts";
import { collector, Source, stepSource, type ChunkProof, type Need, type StepSource } from "./chunk-proofs.ts";
import { LayerKind, type LayerSpec } from "./layout.ts";
import { SEQUENCE_STEP_LIMITS } from "./sequence-reduction.ts";

/** A decoder spec the pass-local steps do not cover (embed, qk, av, or not a decoder kind). */
export class PassStepUnsupportedError extends BaseError {
  override name = "PassStepUnsupportedError";
}

/** What a pass-local step may read: the weights blob and the layers `inputA`, `inputB` at the pass. */
export type PassSources = { weights: StepSource; a: StepSource; b?: StepSource | undefined };

/** The sources of layer `spec`'s step at pass `pass` (`passes[t][ref]` is layer `ref`'s output at pass `t`). */
export function passSources(
  spec: LayerSpec,
  passes: readonly (readonly Tensor[])[],
  pass: number,
  weights: StepSource,
): PassSources {
  const of = (ref: number): StepSource => {
    const tensor = passes[pass]?.[ref];
    if (tensor === undefined) throw new PassStepUnsupportedError(`Layer ${ref} has no output at pass ${pass}.`);
    return stepSource(toLittleEndianBytes(tensor.data));
  };
  return { weights, a: of(spec.inputA), b: spec.inputB >= 0 ? of(spec.inputB) : undefined };
}

/** `LayerStepProver.passSumLayout`: the terms of element `element`'s reduction at pass `pass` and one step's longest range. */
export function passSumLayout(spec: LayerSpec, pass: number, element: number): { terms: number; maxRange: number } {
  const [p0 = 0, p1 = 0] = spec.params;
  switch (spec.kind) {
    case LayerKind.centre:
      return { terms: p0, maxRange: SEQUENCE_STEP_LIMITS.centre };
    case LayerKind.normalize:
      return { terms: p0, maxRange: SEQUENCE_STEP_LIMITS.normalize };
    case LayerKind.rowmax:
      return { terms: p1, maxRange: SEQUENCE_STEP_LIMITS.rowmax };
    case LayerKind.softmax:
      return { terms: element % p1 > pass ? 0 : pass + 1, maxRange: SEQUENCE_STEP_LIMITS.softmax };
    default:
      throw new PassStepUnsupportedError(`Kind ${spec.kind} has no pass-local reduction.`);
  }
}

const int8At = (src: StepSource, k: number): number => {
  const byte = src.bytes[k];
  if (byte === undefined) throw new PassStepUnsupportedError(`Element ${k} is outside its layer.`);
  return byte >= 128 ? byte - 256 : byte;
};

function second(sources: PassSources): StepSource {
  if (sources.b === undefined) throw new PassStepUnsupportedError("The step reads a second input, which is missing.");
  return sources.b;
}

/** The chunks `[from, to)` of element `element`'s reduction reads. */
function needRange(need: Need, spec: LayerSpec, sources: PassSources, element: number, from: number, to: number) {
  const count = to - from;
  switch (spec.kind) {
    case LayerKind.centre:
      return need(Source.inputA, sources.a, from, count);
    case LayerKind.normalize:
      return need(Source.inputA, sources.a, 4 * from, 4 * count);
    case LayerKind.rowmax:
      return need(Source.inputA, sources.a, element * spec.params[1]! + from, count);
    case LayerKind.softmax: {
      const context = spec.params[1]!;
      const h = Math.floor(element / context);
      need(Source.inputA, sources.a, h * context + from, count);
      need(Source.inputB, second(sources), h, 1);
      return need(Source.weights, sources.weights, spec.weightsOffset, 1024);
    }
    default:
      throw new PassStepUnsupportedError(`Kind ${spec.kind} has no pass-local reduction.`);
  }
}

/** The chunks the finish of element `element` at pass `pass` reads. */
function needFinish(need: Need, spec: LayerSpec, sources: PassSources, pass: number, element: number) {
  const offset = spec.weightsOffset;
  switch (spec.kind) {
    case LayerKind.centre:
      return need(Source.inputA, sources.a, element, 1);
    case LayerKind.normalize: {
      const width = spec.params[0]!;
      need(Source.inputA, sources.a, 4 * element, 4);
      need(Source.weights, sources.weights, offset + element, 1);
      need(Source.weights, sources.weights, offset + width + 4 * element, 4);
      need(Source.weights, sources.weights, offset + 5 * width, 8);
      need(Source.weights, sources.weights, offset + 5 * width + 8 + 4 * element, 4);
      return need(Source.weights, sources.weights, offset + 9 * width + 8 + element, 1);
    }
    case LayerKind.rowmax:
      return;
    case LayerKind.softmax: {
      if (passSumLayout(spec, pass, element).terms === 0) return;
      need(Source.weights, sources.weights, offset, 1024);
      need(Source.inputA, sources.a, element, 1);
      return need(Source.inputB, second(sources), Math.floor(element / spec.params[1]!), 1);
    }
    default:
      throw new PassStepUnsupportedError(`Kind ${spec.kind} has no pass-local reduction.`);
  }
}

/** The proof of `computePassElement(spec, pass, roots, element, proof)`. */
export function passElementProof(spec: LayerSpec, sources: PassSources, pass: number, element: number): ChunkProof[] {
  const { need, proofs } = collector();
  if (spec.kind === LayerKind.lut) {
    need(Source.inputA, sources.a, element, 1);
    need(Source.weights, sources.weights, spec.weightsOffset + int8At(sources.a, element) + 128, 1);
    return proofs;
  }
  const { terms } = passSumLayout(spec, pass, element);
  if (terms > 0) needRange(need, spec, sources, element, 0, terms);
  needFinish(need, spec, sources, pass, element);
  return proofs;
}

/** The proof of `stepPassSum(spec, roots, {t, element, from, to, sumFrom}, proof)`. */
export function passRangeProof(
  spec: LayerSpec,
  sources: PassSources,
  element: number,
  from: number,
  to: number,
): ChunkProof[] {
  const { need, proofs } = collector();
  needRange(need, spec, sources, element, from, to);
  return proofs;
}

/** The proof of `finishPassSum(spec, roots, pass, element, accumulated, proof)`. */
export function passFinishProof(spec: LayerSpec, sources: PassSources, pass: number, element: number): ChunkProof[] {
  const { need, proofs } = collector();
  needFinish(need, spec, sources, pass, element);
  return proofs;
}

// ---------------------------------------------------------------------------------------------
// Steps that read the pass's token or other passes: qk, av, embed

/** First chunk source of an av step's value layers: the value at the range's `k`-th pass is source `3 + k`. */
export const VALUE_SOURCES = 3;

/**
 * What a qk or av step reads. qk: `a` the query at pass `t`, `b` the key at the pass `u` its
 * element names (absent when masked). av: `a` the probabilities at pass `t`, `values[k]` the
 * value layer at pass `from + k` of the step's range (`[0, t + 1)` for a whole element).
 */
export type AttentionSources = { weights: StepSource; a: StepSource; b?: StepSource | undefined; values: StepSource[] };

/**
 * The sources of qk/av layer `spec`'s step on element `element` at pass `pass`; for av, the
 * value layer at passes `from … to − 1` (default the whole element, `0 … pass`).
 */
export function attentionSources(
  spec: LayerSpec,
  passes: readonly (readonly Tensor[])[],
  pass: number,
  element: number,
  weights: StepSource,
  from = 0,
  to = pass + 1,
): AttentionSources {
  const of = (ref: number, t: number): StepSource => {
    const tensor = passes[t]?.[ref];
    if (tensor === undefined) throw new PassStepUnsupportedError(`Layer ${ref} has no output at pass ${t}.`);
    return stepSource(toLittleEndianBytes(tensor.data));
  };
  const a = of(spec.inputA, pass);
  if (spec.kind === LayerKind.qk) {
    const u = element % spec.params[2]!;
    return { weights, a, b: u > pass ? undefined : of(spec.inputB, u), values: [] };
  }
  if (spec.kind !== LayerKind.av) throw new PassStepUnsupportedError(`Kind ${spec.kind} is not qk or av.`);
  return { weights, a, values: Array.from({ length: Math.max(to - from, 0) }, (_, k) => of(spec.inputB, from + k)) };
}

/** `LayerStepProver.attentionSumLayout`: qk `dh` (0 when masked) by 8192, av `pass + 1` by 16. */
export function attentionSumLayout(
  spec: LayerSpec,
  pass: number,
  element: number,
): { terms: number; maxRange: number } {
  const [, headDim = 0, context = 0] = spec.params;
  switch (spec.kind) {
    case LayerKind.qk:
      return { terms: element % context > pass ? 0 : headDim, maxRange: SEQUENCE_STEP_LIMITS.qk };
    case LayerKind.av:
      return { terms: pass + 1, maxRange: SEQUENCE_STEP_LIMITS.av };
    default:
      throw new PassStepUnsupportedError(`Kind ${spec.kind} is not qk or av.`);
  }
}

/** The chunks of `[from, to)` of a qk or av element's reduction (av: `sources.values` are passes `from …`). */
function needAttentionRange(
  need: Need,
  spec: LayerSpec,
  sources: AttentionSources,
  element: number,
  from: number,
  to: number,
) {
  const [, headDim = 0, context = 0] = spec.params;
  const count = to - from;
  if (spec.kind === LayerKind.qk) {
    const at = Math.floor(element / context) * headDim + from;
    need(Source.inputA, sources.a, at, count);
    if (count > 0) {
      if (sources.b === undefined) throw new PassStepUnsupportedError("A masked qk element reads no key.");
      need(Source.inputB, sources.b, at, count);
    }
    return;
  }
  need(Source.inputA, sources.a, Math.floor(element / headDim) * context + from, count);
  for (let k = 0; k < count; k++) {
    const value = sources.values[k];
    if (value === undefined) throw new PassStepUnsupportedError(`The value layer of the range's pass ${k} is missing.`);
    need(VALUE_SOURCES + k, value, element, 1);
  }
}

/** The chunks a qk or av finish reads: the layer's `m`, `s` (nothing for a masked qk element). */
function needAttentionFinish(need: Need, spec: LayerSpec, sources: AttentionSources, pass: number, element: number) {
  if (attentionSumLayout(spec, pass, element).terms === 0) return;
  need(Source.weights, sources.weights, spec.weightsOffset, 5);
}

/** The proof of `computeAttentionElement(spec, pass, roots, valueRoots, element, proof)`. */
export function attentionElementProof(
  spec: LayerSpec,
  sources: AttentionSources,
  pass: number,
  element: number,
): ChunkProof[] {
  const { need, proofs } = collector();
  const { terms } = attentionSumLayout(spec, pass, element);
  if (terms > 0) needAttentionRange(need, spec, sources, element, 0, terms);
  needAttentionFinish(need, spec, sources, pass, element);
  return proofs;
}

/** The proof of `stepAttentionSum(spec, roots, valueRoots, {t, element, from, to, sumFrom}, proof)`. */
export function attentionRangeProof(
  spec: LayerSpec,
  sources: AttentionSources,
  element: number,
  from: number,
  to: number,
): ChunkProof[] {
  const { need, proofs } = collector();
  needAttentionRange(need, spec, sources, element, from, to);
  return proofs;
}

/** The proof of `finishAttentionSum(spec, weightsRoot, pass, element, accumulated, proof)`. */
export function attentionFinishProof(
  spec: LayerSpec,
  sources: AttentionSources,
  pass: number,
  element: number,
): ChunkProof[] {
  const { need, proofs } = collector();
  needAttentionFinish(need, spec, sources, pass, element);
  return proofs;
}

/**
 * The table row of embed layer `spec` at pass `pass`: `min(max(token, 0), rows − 1)` for a token
 * embedding (`params[2]` 0), `pass` for a position one.
 */
export function embedRow(spec: LayerSpec, pass: number, token: number): number {
  const [rows = 0, , source = 0] = spec.params;
  return source === 0 ? Math.min(Math.max(token, 0), rows - 1) : pass;
}

/** The proof of `computeEmbedElement(spec, pass, token, weightsRoot, element, proof)`: one weights chunk. */
export function embedElementProof(
  spec: LayerSpec,
  weights: StepSource,
  pass: number,
  token: number,
  element: number,
): ChunkProof[] {
  const { need, proofs } = collector();
  const width = spec.params[1]!;
  need(Source.weights, weights, spec.weightsOffset + embedRow(spec, pass, token) * width + element, 1);
  return proofs;
}
