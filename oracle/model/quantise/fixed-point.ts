/**
 * The float → integer arithmetic of the quantiser (docs/numeric-semantics.md#quantiser), as pure
 * functions: symmetric scales, int8 values, per-output-channel weights, int32 biases, and the
 * fixed-point multiplier/shift pairs that meet the spec's overflow bounds.
 */
import { BaseError } from "../../errors.ts";

/** A model the quantiser cannot represent within the spec's types and bounds. */
export class QuantiseError extends BaseError {
  override name = "QuantiseError";
}

const two31 = 2 ** 31;
const two30 = 2 ** 30;
const limit62 = 1n << 62n;
export const maxShift = 62;

/**
 * Float value of one int8 step for a tensor whose magnitude reaches `maxAbs`: `maxAbs / 127`,
 * so ±maxAbs maps to ±127 (symmetric, zero point 0). A tensor that is 0 everywhere gets 1.
 */
export function symmetricScale(maxAbs: number): number {
  if (!(maxAbs >= 0) || !Number.isFinite(maxAbs))
    throw new QuantiseError(`Cannot take a scale of magnitude ${maxAbs}.`, {
      details: ["Calibration values must be finite numbers."],
    });
  return maxAbs > 0 ? maxAbs / 127 : 1;
}

/** `clamp(round(x / scale), lo, hi)`, rounding ties toward +∞ (as `roundShift` does). */
export function quantiseValue(x: number, scale: number, lo = -128, hi = 127): number {
  return Math.min(Math.max(Math.round(x / scale), lo), hi);
}

/** A client's int8 input: each float quantised with the model's input scale. */
export function quantiseInput(values: ArrayLike<number>, scale: number): Int8Array {
  return Int8Array.from(Array.from(values, (x) => quantiseValue(x, scale)));
}

export type PerChannelWeights = {
  /** int8 in [-127, 127], same layout as the input ([channel][...]). */
  values: Int8Array;
  /** One scale per output channel. */
  scales: Float64Array;
};

/**
 * Symmetric per-output-channel quantisation of weights laid out [channel][rest]: channel j's
 * scale is `max |W[j][·]| / 127` and its values `round(W / scale)` in [-127, 127] (−128 is never
 * used, so the weights stay symmetric). An all-zero channel gets scale 1.
 */
export function quantisePerChannel(weights: ArrayLike<number>, channels: number): PerChannelWeights {
  if (!Number.isInteger(channels) || channels < 1 || weights.length % channels !== 0)
    throw new RangeError(`${weights.length} weights do not split into ${channels} channels.`);
  const per = weights.length / channels;
  const values = new Int8Array(weights.length);
  const scales = new Float64Array(channels);
  for (let j = 0; j < channels; j++) {
    let maxAbs = 0;
    for (let k = 0; k < per; k++) maxAbs = Math.max(maxAbs, Math.abs(weights[j * per + k]!));
    const scale = symmetricScale(maxAbs);
    scales[j] = scale;
    for (let k = 0; k < per; k++) values[j * per + k] = quantiseValue(weights[j * per + k]!, scale, -127, 127);
  }
  return { values, scales };
}

/**
 * Bias of channel j as int32 at the accumulator's scale `inputScale * weightScales[j]`. Refuses
 * a bias that does not fit int32.
 */
export function quantiseBias(bias: ArrayLike<number>, inputScale: number, weightScales: ArrayLike<number>): Int32Array {
  const out = new Int32Array(bias.length);
  for (let j = 0; j < bias.length; j++) {
    const value = Math.round(bias[j]! / (inputScale * weightScales[j]!));
    if (!(Math.abs(value) < two31))
      throw new QuantiseError(`Bias ${bias[j]} of channel ${j} does not fit int32 at the accumulator scale.`, {
        details: [`Accumulator scale ${inputScale * weightScales[j]!}; quantised value ${value}.`],
      });
    out[j] = value;
  }
  return out;
}

/** Overflow bound 1 of the spec: `B_j = |b[j]| + 128 · Σ |W[j][·]|` for each channel. */
export function accumulatorBounds(weights: Int8Array, bias: Int32Array): number[] {
  const per = weights.length / bias.length;
  return Array.from(bias, (b, j) => {
    let sum = 0;
    for (let k = 0; k < per; k++) sum += Math.abs(weights[j * per + k]!);
    return Math.abs(b) + 128 * sum;
  });
}

export type FixedPoint = { multiplier: number; shift: number };

/**
 * The multiplier `m` and shift `s` with `m / 2^s ≈ ratio`: `m` is first normalised into
 * [2^30, 2^31) (31 significant bits), with `s` capped at 62; then, while the requantisation
 * product bound `bound · m + 2^(s−1) < 2^62` fails, one bit of precision is given up (`s − 1`,
 * `m` recomputed as `round(ratio · 2^s)`). Refuses a ratio it cannot represent.
 */
export function chooseFixedPoint(ratio: number, bound = 0): FixedPoint {
  if (!(ratio > 0) || !Number.isFinite(ratio))
    throw new QuantiseError(`Cannot represent the scale ratio ${ratio} as a fixed-point multiplier.`);
  let shift = 30 - Math.floor(Math.log2(ratio));
  while (ratio * 2 ** shift >= two31) shift--;
  while (ratio * 2 ** shift < two30) shift++;
  let multiplier = Math.round(ratio * 2 ** shift);
  if (multiplier >= two31) multiplier = Math.round(ratio * 2 ** --shift);
  if (shift > maxShift) {
    shift = maxShift;
    multiplier = Math.round(ratio * 2 ** shift);
  }
  const fits = () => BigInt(bound) * BigInt(multiplier) + (shift > 0 ? 1n << BigInt(shift - 1) : 0n) < limit62;
  while (shift >= 0 && !fits()) multiplier = Math.round(ratio * 2 ** --shift);
  if (shift < 0)
    throw new QuantiseError(`Scale ratio ${ratio} needs a multiplier of 2^31 or more.`, {
      details: ["The output scale is far smaller than the input and weight scales allow."],
    });
  if (multiplier === 0)
    throw new QuantiseError(`Scale ratio ${ratio} is below the smallest fixed-point step 2^-62.`, {
      details: [bound > 0 ? `Accumulator bound ${bound}.` : "The output scale is far larger than its inputs'."],
    });
  return { multiplier, shift };
}

export type AddFixedPoint = { multipliers: [number, number]; shift: number };

/**
 * Multipliers `ma`, `mb` and one shift `s` for a residual add: `ma / 2^s ≈ ratioA`,
 * `mb / 2^s ≈ ratioB`, the larger one normalised into [2^30, 2^31); bound 3 of the spec
 * (`128 · (ma + mb) + 2^(s−1) < 2^62`) then holds for every `s ≤ 62`.
 */
export function chooseAddFixedPoint(ratioA: number, ratioB: number): AddFixedPoint {
  const larger = chooseFixedPoint(Math.max(ratioA, ratioB));
  const { shift } = larger;
  const ma = Math.round(ratioA * 2 ** shift);
  const mb = Math.round(ratioB * 2 ** shift);
  if (ma >= two31 || mb >= two31)
    throw new QuantiseError(`Add ratios ${ratioA}, ${ratioB} need a multiplier of 2^31 or more.`);
  if (128n * BigInt(ma + mb) + (shift > 0 ? 1n << BigInt(shift - 1) : 0n) >= limit62)
    throw new QuantiseError(`Add ratios ${ratioA}, ${ratioB} break the residual-add bound.`);
  return { multipliers: [ma, mb], shift };
}
