/**
 * The reduction phase of the dispute game (DisputeGame.openSum … proveSumStep), the pure half:
 * an element whose reduction is too long for one step (a dense or conv2d dot product, an argmax
 * row, a maxpool2d window) is settled by a bisection over its prefix states `S_0 = 0 … S_n`,
 * defined as LayerStepProver defines them (IOneStepProver's NatSpec):
 *
 * - dense, conv2d: `S_f` is the sum of the first `f` products, finished by `requant(b + S_n)`;
 * - argmax: `S_f = (best + 128) · 2^32 + index` of the first maximum of the row's first `f`
 *   elements, finished to `index` as an int32;
 * - maxpool2d: `S_f = best + 128` over the window's first `f` elements in row-major order,
 *   finished to `best` as an int8.
 *
 * Every state is an integer below 2^40 in absolute value, exact as a JS number. Both sides
 * compute the states from their own trace of the agreed input layer: the defender claims and
 * posts them, the challenger compares and proves the last range.
 */
import type { LayerSpec } from "./layout.ts";
import { LayerKind } from "./layout.ts";
import {
  collector,
  EMPTY_PROOF,
  encodeProofs,
  Source,
  type ChunkProof,
  type Need,
  type StepSource,
} from "./chunk-proofs.ts";
import {
  channelParamOffsets,
  convInputIndex,
  convParams,
  poolParams,
  poolPieces,
  weightsRow,
} from "./layer-geometry.ts";
import {
  INPUT_CHUNKS,
  MAX_CHUNKS,
  MAX_CONV_STEP,
  MAX_FAN_IN,
  MAX_MAX_STEP,
  MAX_STEP,
  MAX_STEP_ROWS,
} from "./step-limits.ts";
import { CHUNK_SIZE } from "../model/vqm/commitments.ts";
import { requant } from "../model/vqm/reference-executor.ts";

/** The kinds with a reduction phase. */
export function hasReduction(kind: number): boolean {
  return (
    kind === LayerKind.dense || kind === LayerKind.conv2d || kind === LayerKind.argmax || kind === LayerKind.maxpool2d
  );
}

/**
 * The length `fanIn` of an element's reduction and the longest range one step checks
 * (LayerStepProver._sumLayout, which explains the bounds): each range reads at most
 * INPUT_CHUNKS input chunks and stays under the game's gas ceiling.
 */
export function sumLayout(spec: LayerSpec): { fanIn: number; maxRange: number } {
  switch (spec.kind) {
    case LayerKind.dense:
      return { fanIn: spec.params[0]!, maxRange: MAX_STEP };
    case LayerKind.argmax:
      return { fanIn: spec.params[0]!, maxRange: MAX_MAX_STEP };
    case LayerKind.maxpool2d: {
      const { kh, kw } = poolParams(spec);
      if (kh === 0 || kw === 0) throw new Error("A maxpool2d kernel has no zero side.");
      const poolRow = Math.ceil(kw / CHUNK_SIZE) + 1;
      const maxRange =
        2 * poolRow <= INPUT_CHUNKS
          ? (Math.floor(INPUT_CHUNKS / poolRow) - 1) * kw
          : (INPUT_CHUNKS / 2 - 1) * CHUNK_SIZE;
      return { fanIn: kh * kw, maxRange: Math.min(maxRange, MAX_MAX_STEP) };
    }
    case LayerKind.conv2d: {
      const { ic, w, kh, kw } = convParams(spec);
      if (kh === 0 || kw === 0) throw new Error("A conv2d kernel has no zero side.");
      const perChannel = Math.ceil((kh * w) / CHUNK_SIZE) + 1;
      const perRow = Math.ceil(kw / CHUNK_SIZE) + 1;
      let maxRange = 1;
      if (2 * perChannel <= INPUT_CHUNKS) maxRange = (Math.floor(INPUT_CHUNKS / perChannel) - 1) * kh * kw;
      else if (2 * perRow <= INPUT_CHUNKS) maxRange = (Math.floor(INPUT_CHUNKS / perRow) - 1) * kw;
      // A range of (r − 1)·kw elements meets at most r kernel row pieces, each read on its own.
      return { fanIn: ic * kh * kw, maxRange: Math.min(maxRange, MAX_CONV_STEP, (MAX_STEP_ROWS - 1) * kw) };
    }
    default:
      throw new Error(`Layer kind ${spec.kind} has no reduction phase.`);
  }
}

/**
 * Whether the prover refuses element `element`'s whole-element step, so the challenger must
 * open the reduction phase instead: its reduction is longer than one step (`StepUnsupported`)
 * or its proof would hold more than MAX_CHUNKS chunks (`StepTooManyChunks`). `oneStep` builds
 * the proof's chunks; it is called only when the length allows a whole step.
 */
export function needsReduction(spec: LayerSpec, oneStep: () => readonly ChunkProof[]): boolean {
  if (!hasReduction(spec.kind)) return false;
  const { fanIn } = sumLayout(spec);
  if (fanIn > (spec.kind === LayerKind.conv2d ? MAX_CONV_STEP : MAX_FAN_IN)) return true;
  if (wholeStepRows(spec) > MAX_STEP_ROWS) return true;
  return oneStep().length > MAX_CHUNKS;
}

/** The kernel or window rows a whole-element step reads one at a time (LayerStepProver._rowsOfWholeStep). */
function wholeStepRows(spec: LayerSpec): number {
  if (spec.kind === LayerKind.conv2d) return convParams(spec).ic * convParams(spec).kh;
  if (spec.kind === LayerKind.maxpool2d) return poolParams(spec).kh;
  return 0;
}

const int8 = (byte: number) => (byte << 24) >> 24;
const TWO_32 = 2 ** 32;

/** The prefix states `S_0 = 0, …, S_n` of element `element`'s reduction (all four kinds). */
export function prefixStates(spec: LayerSpec, element: number, weights: Uint8Array, inputA: Uint8Array): number[] {
  const { fanIn } = sumLayout(spec);
  const states = new Array<number>(fanIn + 1);
  states[0] = 0;
  if (spec.kind === LayerKind.argmax) {
    const start = element * fanIn;
    let [best, index] = [-128, 0];
    for (let f = 0; f < fanIn; f++) {
      const x = int8(inputA[start + f]!);
      // The first maximum: only a strictly greater element moves the index.
      if (x > best) [best, index] = [x, f];
      states[f + 1] = (best + 128) * TWO_32 + index;
    }
    return states;
  }
  if (spec.kind === LayerKind.maxpool2d) {
    let [best, f] = [-128, 0];
    for (const { offset, length } of poolPieces(spec, element, 0, fanIn))
      for (let k = 0; k < length; k++) {
        best = Math.max(best, int8(inputA[offset + k]!));
        states[++f] = best + 128;
      }
    return states;
  }
  const { row } = weightsRow(spec, element);
  const dense = spec.kind === LayerKind.dense;
  for (let f = 0; f < fanIn; f++) {
    const at = dense ? f : convInputIndex(spec, element, f);
    const x = at === undefined ? 0 : int8(inputA[at]!);
    states[f + 1] = states[f]! + x * int8(weights[row + f]!);
  }
  return states;
}

/** The dense/conv2d name of `prefixStates` (prefix sums of the dot product). */
export const prefixSums = prefixStates;

/** The element bytes a final state finishes to (LayerStepProver.finishSum): 1 byte, or 4 for argmax. */
export function finishState(spec: LayerSpec, element: number, state: number, weights: Uint8Array): Uint8Array {
  if (spec.kind === LayerKind.argmax) {
    const out = new Uint8Array(4);
    new DataView(out.buffer).setUint32(0, ((state % TWO_32) + TWO_32) % TWO_32, true);
    return out;
  }
  if (spec.kind === LayerKind.maxpool2d) return Uint8Array.of((state + 128) & 0xff); // int8 (S & 0xff) − 128
  sumLayout(spec); // a kind with a reduction
  const at = channelParamOffsets(spec, element);
  const view = new DataView(weights.buffer, weights.byteOffset, weights.byteLength);
  const bias = view.getInt32(at.bias, true);
  const multiplier = view.getInt32(at.multiplier, true);
  const value = requant(
    BigInt(bias) + BigInt(state),
    multiplier,
    weights[at.shift]!,
    spec.activation === 1 ? "relu" : "none",
  );
  return Uint8Array.of(value & 0xff);
}

/** The index whose prefix state the defender posts for the range `[lo, hi)` (DisputeGame's `_mid`). */
export function sumMidpoint(lo: number, hi: number): number {
  return lo + Math.floor((hi - lo) / 2);
}

/** The challenger's `pickSum`: whether the posted `S_index` is exactly its own. */
export function agreesWithSum(own: readonly (number | bigint)[], index: number, posted: bigint | number): boolean {
  const mine = own[index];
  return mine !== undefined && BigInt(mine) === BigInt(posted);
}

function needParams(need: Need, spec: LayerSpec, element: number, weights: StepSource) {
  const at = channelParamOffsets(spec, element);
  need(Source.weights, weights, at.bias, 4);
  need(Source.weights, weights, at.multiplier, 4);
  need(Source.weights, weights, at.shift, 1);
}

/** Adds the chunks that range `[lo, hi)` of element `element`'s reduction reads. */
export function needRange(
  need: Need,
  spec: LayerSpec,
  element: number,
  lo: number,
  hi: number,
  weights: StepSource,
  inputA: StepSource,
): void {
  if (spec.kind === LayerKind.argmax) {
    need(Source.inputA, inputA, element * spec.params[0]! + lo, hi - lo);
    return;
  }
  if (spec.kind === LayerKind.maxpool2d) {
    // One window row piece at a time, as the prover reads them: never the bytes between rows.
    for (const { offset, length } of poolPieces(spec, element, lo, hi)) need(Source.inputA, inputA, offset, length);
    return;
  }
  const { row } = weightsRow(spec, element);
  need(Source.weights, weights, row + lo, hi - lo);
  if (spec.kind === LayerKind.dense) {
    need(Source.inputA, inputA, lo, hi - lo);
    return;
  }
  for (let f = lo; f < hi; f++) {
    const at = convInputIndex(spec, element, f);
    if (at !== undefined) need(Source.inputA, inputA, at, 1);
  }
}

/** Adds the chunks that finishing a dense or conv2d element reads (its channel's parameters). */
export function needFinish(need: Need, spec: LayerSpec, element: number, weights: StepSource): void {
  if (spec.kind === LayerKind.dense || spec.kind === LayerKind.conv2d) needParams(need, spec, element, weights);
}

/** The `paramsProof` of `claimSum`: a dense or conv2d channel's parameters; empty for argmax and maxpool2d. */
export function sumParamsProof(spec: LayerSpec, element: number, weights: StepSource): string {
  if (spec.kind === LayerKind.argmax || spec.kind === LayerKind.maxpool2d) return EMPTY_PROOF;
  const { need, proofs } = collector();
  needFinish(need, spec, element, weights);
  return encodeProofs(proofs);
}

/** The `stepProof` of `proveSumStep` for the range `[lo, hi)`: the chunks it reads. */
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
