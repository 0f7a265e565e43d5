/**
 * The reductions of a decoder's layer kinds (docs/numeric-semantics.md, "Reductions and their
 * prefix states"; contracts/dispute/SequenceStep.sol): for each kind that reads a row or a dot
 * product, its terms in order, the prefix states `S_0 = 0 … S_n` and the element finished from
 * `S_n`. The same role moves.ts/reduction.ts play for dense, conv2d, argmax and maxpool2d; the
 * dispute game bisects them in games over a generation (oracle/dispute/generation-kit.ts).
 *
 * - centre, element `i`: terms `x[k]`, `k < D`; `S_f = Σ_{k<f} x[k]`; `c[i] = D·x[i] − S_D`.
 * - normalize, element `i`: terms `c[k]²`; `S_f = Σ_{k<f} c[k]²`;
 *   `requant(gamma[i]·roundDiv(c[i]·2^16, isqrt(S_D + ε)) + beta[i], m[i], s[i], act)`.
 * - qk, element `h·C + u` of pass `t`: no terms when `u > t` (the element is −128); else
 *   `q[h·dh+d]·K_u[h·dh+d]`, `d < dh`, finished by `requant(S, m, s, none)`.
 * - rowmax, element `h`: terms the row's `C` elements; `S_f = best + 128` of the first `f`
 *   (`S_0 = 0`); the element `(S_C mod 2^8) − 128`.
 * - softmax, element `h·C + u` of pass `t`: no terms when `u > t` (the element is 0); else
 *   `e[v] = exp[clamp(x[h·C+v] − M + 255, 0, 255)]`, `v = 0 … t`; `S_f = Σ_{v<f} e[v]`;
 *   the element `S == 0 ? 0 : roundDiv(127·e[u], S)`.
 * - av, element `h·dh + d` of pass `t`: terms `p[h·C+u]·V_u[h·dh+d]`, `u = 0 … t`;
 *   `requant(S, m, s, none)`.
 *
 * States are BigInts: a normalize state reaches `D·2^62` for an arbitrary int32 centre output.
 * A state outside its kind's bound (`sequenceStateBound`) is malformed: the finish throws, as the
 * contract reverts.
 */
import { BaseError } from "../errors.ts";
import type { Tensor } from "../model/tensor.ts";
import { isqrt, requant, roundDiv } from "../model/vqm/reference-executor.ts";
import type { EmbedLayer, LutLayer, VqmLayer } from "../model/vqm/vqm-model.ts";

/** `SequenceStep.MAX_CENTRE_STEP` … `MAX_AV_STEP`: the most terms of one range of each kind. */
export const SEQUENCE_STEP_LIMITS = {
  centre: 8192,
  normalize: 2048,
  qk: 8192,
  rowmax: 8192,
  softmax: 4096,
  av: 16,
} as const;

/** The decoder kinds whose elements are reductions. */
export type SequenceReductionKind = keyof typeof SEQUENCE_STEP_LIMITS;

/** A layer of one of those kinds. */
export type SequenceReductionLayer = Extract<VqmLayer, { kind: SequenceReductionKind }>;

/** The traces an element of pass `t` reads: layer outputs at passes `0 … t`. */
export type PassTraces = {
  /** The pass. */
  t: number;
  /** The context length C. */
  context: number;
  /** Layer `ref`'s output at pass `u ≤ t`. */
  output: (ref: number, u: number) => Tensor;
};

/** A malformed reduction state or element index. */
export class SequenceReductionError extends BaseError {
  override name = "SequenceReductionError";
}

/** Whether a layer's elements are reductions (with prefix states). */
export function isSequenceReduction(layer: VqmLayer): layer is SequenceReductionLayer {
  return layer.kind in SEQUENCE_STEP_LIMITS;
}

/** `embed` element `i` of table row `row` (the pass's token, or its position). */
export function embedElement(layer: EmbedLayer, row: number, i: number): number {
  if (row < 0 || row >= layer.rows || i < 0 || i >= layer.width)
    throw new SequenceReductionError(`embed element ${i} of row ${row} is outside the table.`);
  return layer.table[row * layer.width + i]!;
}

/** `lut`: `table[x + 128]`. */
export function lutElement(layer: LutLayer, x: number): number {
  return layer.table[x + 128]!;
}

const valueAt = (tensor: Tensor, k: number): number => {
  const value = tensor.data[k];
  if (value === undefined)
    throw new SequenceReductionError(`Element ${k} is outside a tensor of ${tensor.data.length}.`);
  return Number(value);
};

/** A tensor's elements as numbers (int8 or int32 here). */
const numbers = (tensor: Tensor): number[] => Array.from(tensor.data as ArrayLike<number>);

/** Head `h` and key position `u` of element `h·C + u` of a `[1, H, C]` output. */
function cell(traces: PassTraces, heads: number, element: number): { h: number; u: number } {
  if (!Number.isSafeInteger(element) || element < 0 || element >= heads * traces.context)
    throw new SequenceReductionError(`Element ${element} is outside [1, ${heads}, ${traces.context}].`);
  return { h: Math.floor(element / traces.context), u: element % traces.context };
}

/** The terms of element `element` of `layer` at pass `traces.t`, in order (rowmax: the row's int8 elements). */
export function reductionTerms(layer: SequenceReductionLayer, traces: PassTraces, element: number): bigint[] {
  const { t } = traces;
  const now = (ref: number) => traces.output(ref, t);
  switch (layer.kind) {
    case "centre":
      return numbers(now(layer.input)).map((x) => BigInt(x));
    case "normalize":
      return numbers(now(layer.input)).map((c) => BigInt(c) * BigInt(c));
    case "qk": {
      const { h, u } = cell(traces, layer.heads, element);
      if (u > t) return [];
      const [q, key] = [now(layer.query), traces.output(layer.key, u)];
      return Array.from({ length: layer.headDim }, (_, d) => {
        const at = h * layer.headDim + d;
        return BigInt(valueAt(q, at) * valueAt(key, at));
      });
    }
    case "rowmax": {
      const x = now(layer.input);
      const row = x.shape[x.shape.length - 1]!;
      if (!Number.isSafeInteger(element) || element < 0 || (element + 1) * row > x.data.length)
        throw new SequenceReductionError(`Row ${element} is outside a tensor of ${x.data.length} elements.`);
      return numbers(x)
        .slice(element * row, (element + 1) * row)
        .map((v) => BigInt(v));
    }
    case "softmax": {
      const { h, u } = cell(traces, now(layer.rowmax).data.length, element);
      if (u > t) return [];
      const [x, max] = [now(layer.input), valueAt(now(layer.rowmax), h)];
      return Array.from({ length: t + 1 }, (_, v) => expTerm(layer.exp, valueAt(x, h * traces.context + v), max));
    }
    case "av": {
      const inner = layer.heads * layer.headDim;
      if (!Number.isSafeInteger(element) || element < 0 || element >= inner)
        throw new SequenceReductionError(`Element ${element} is outside [1, ${inner}].`);
      const p = now(layer.probs);
      const h = Math.floor(element / layer.headDim);
      return Array.from({ length: t + 1 }, (_, u) =>
        BigInt(valueAt(p, h * traces.context + u) * valueAt(traces.output(layer.value, u), element)),
      );
    }
  }
}

/** `exp[clamp(x − max + 255, 0, 255)]`. */
function expTerm(exp: Uint32Array, x: number, max: number): bigint {
  return BigInt(exp[Math.min(Math.max(x - max + 255, 0), 255)]!);
}

/** The prefix states `S_0 = 0 … S_n` of terms of `kind`: running sums, or rowmax's `best + 128`. */
export function statesOfTerms(kind: SequenceReductionKind, terms: readonly bigint[]): bigint[] {
  const states = [0n];
  for (const term of terms) {
    const last = states[states.length - 1]!;
    states.push(kind === "rowmax" ? (term + 128n > last ? term + 128n : last) : last + term);
  }
  return states;
}

/** The prefix states `S_0 = 0 … S_n` of element `element` of `layer` at pass `traces.t`. */
export function sequencePrefixStates(layer: SequenceReductionLayer, traces: PassTraces, element: number): bigint[] {
  return statesOfTerms(layer.kind, reductionTerms(layer, traces, element));
}

/** The inclusive bounds `[lo, hi]` of every honest state of `layer`'s reductions at pass `t` (SequenceStep's `xBound`). */
export function sequenceStateBound(layer: SequenceReductionLayer, traces: PassTraces): { lo: bigint; hi: bigint } {
  const n = BigInt(traces.t + 1);
  switch (layer.kind) {
    case "centre": {
      const width = BigInt(traces.output(layer.input, traces.t).data.length);
      return { lo: -128n * width, hi: 128n * width };
    }
    case "normalize":
      return { lo: 0n, hi: BigInt(traces.output(layer.input, traces.t).data.length) << 62n };
    case "qk":
      return { lo: -BigInt(layer.headDim) << 14n, hi: BigInt(layer.headDim) << 14n };
    case "rowmax":
      return { lo: 0n, hi: 255n };
    case "softmax":
      return { lo: 0n, hi: n * 0xffffffffn };
    case "av":
      return { lo: -n << 14n, hi: n << 14n };
  }
}

/**
 * The element that the final state `state = S_n` of element `element` finishes to
 * (SequenceStep's `xFinish`): an int8, or the int32 of a centre. Throws `SequenceReductionError`
 * for a state outside its bound (or, for softmax, below the element's own term).
 */
export function finishSequenceElement(
  layer: SequenceReductionLayer,
  traces: PassTraces,
  element: number,
  state: bigint,
): number {
  const { t } = traces;
  const now = (ref: number) => traces.output(ref, t);
  // Masked attention elements have no terms and read nothing.
  if (layer.kind === "qk" && cell(traces, layer.heads, element).u > t) return -128;
  if (layer.kind === "softmax" && cell(traces, now(layer.rowmax).data.length, element).u > t) return 0;
  const { lo, hi } = sequenceStateBound(layer, traces);
  if (state < lo || state > hi)
    throw new SequenceReductionError(`${layer.kind} state ${state} is outside [${lo}, ${hi}].`);
  switch (layer.kind) {
    case "centre": {
      const x = now(layer.input);
      return Number(BigInt(x.data.length) * BigInt(valueAt(x, element)) - state);
    }
    case "normalize": {
      const c = BigInt(valueAt(now(layer.input), element));
      const { gamma, beta, epsilon, requant: rq } = layer;
      if (epsilon < 1n || epsilon >= 2n ** 62n)
        throw new SequenceReductionError(`normalize epsilon ${epsilon} is out of range.`);
      const z = roundDiv(c * 65536n, isqrt(state + epsilon));
      return requant(
        BigInt(gamma[element]!) * z + BigInt(beta[element]!),
        rq.multiplier[element]!,
        rq.shift[element]!,
        rq.activation,
      );
    }
    case "qk":
    case "av":
      return requant(state, layer.multiplier, layer.shift, "none");
    case "rowmax":
      return Number(state) - 128;
    case "softmax": {
      const h = Math.floor(element / traces.context);
      const e = expTerm(layer.exp, valueAt(now(layer.input), element), valueAt(now(layer.rowmax), h));
      if (e > state) throw new SequenceReductionError(`softmax state ${state} is below the element's term ${e}.`);
      return state === 0n ? 0 : Number(roundDiv(127n * e, state));
    }
  }
}
