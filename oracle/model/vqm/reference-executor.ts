/**
 * The reference executor: runs a VQM model on an int8 input exactly as docs/numeric-semantics.md
 * defines it and returns every layer's output (the trace). It is the executable form of the
 * spec that the other engines are compared with, and fast enough for 10M-parameter models.
 *
 * Where Number arithmetic is used it is exact, and the reason is stated:
 * - accumulators: every partial sum of a dense/conv dot product is bounded by
 *   B_j = |b| + 128·Σ|W| < 2^31 (bound 1), so it is an exact small integer in a double;
 * - requantisation: acc·m is computed in a double only when |acc|·m < 2^52 and s <= 52, so
 *   acc·m + 2^(s-1) < 2^53 is exact and the division by 2^s and floor are exact too; anything
 *   larger goes through BigInt;
 * - residual add: |a·ma + b·mb| <= 128·2·2^31 = 2^39, exact; the same s <= 52 rule applies.
 *
 * A decoder (a model with a `sequence` section) runs pass by pass: `generateVqm` and
 * `executePass` in `sequence-executor.ts`, which reuse `layerOutput` below for the classic kinds.
 */
import { BaseError } from "../../errors.ts";
import { assertTensor, shapeToString } from "../tensor.ts";
import type { Tensor } from "../tensor.ts";
import type { Activation, AddLayer, Conv2dLayer, DenseLayer, MaxPool2dLayer, VqmLayer, VqmModel } from "./vqm-model.ts";
import { validateVqm } from "./validate-vqm.ts";

export type ExecuteVqmReturnType = {
  /** The last layer's output (trace[trace.length - 1]). */
  output: Tensor;
  /** trace[i] is layer i's output: int8, or int32 for argmax. */
  trace: Tensor[];
};

/** The input is not an int8 tensor of the model's input shape. */
export class VqmInputError extends BaseError {
  override name = "VqmInputError";
}

/** roundShift(v, s): v / 2^s rounded to nearest, ties toward +∞ (v itself when s = 0). */
export function roundShift(v: bigint, s: number): bigint {
  if (s === 0) return v;
  const shift = BigInt(s);
  return (v + (1n << (shift - 1n))) >> shift; // >> on BigInt is floor division by 2^s
}

/** clamp(roundShift(acc·m, s), lo, 127) with lo = 0 for relu, else -128. */
export function requant(acc: bigint, m: number, s: number, act: Activation): number {
  return clamp(roundShift(acc * BigInt(m), s), act === "relu" ? 0 : -128);
}

/** isqrt(n) = ⌊√n⌋ for an integer n >= 0, exact. */
export function isqrt(n: bigint): bigint {
  if (n < 0n) throw new RangeError(`isqrt of a negative number: ${n}.`);
  if (n < 2n) return n;
  // Newton's iteration from above (x0 = 2^⌈bits/2⌉ > √n) decreases strictly to ⌊√n⌋, then stops
  // decreasing: the first y >= x marks x = ⌊√n⌋ (integer Newton for the square root).
  let x = 1n << BigInt(Math.ceil(n.toString(2).length / 2));
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

/** roundDiv(a, b) = ⌊(2a + b) / (2b)⌋ for b > 0: a / b rounded to nearest, ties toward +∞. */
export function roundDiv(a: bigint, b: bigint): bigint {
  if (b <= 0n) throw new RangeError(`roundDiv by ${b}: the divisor must be > 0.`);
  return floorDiv(2n * a + b, 2n * b);
}

/** ⌊n / d⌋ for d > 0 (BigInt `/` truncates toward 0, so negative non-multiples go one down). */
function floorDiv(n: bigint, d: bigint): bigint {
  const q = n / d;
  return n < 0n && q * d !== n ? q - 1n : q;
}

/**
 * roundDiv on Numbers, exact when |2a + b| and 2b are below 2^52: the double quotient is within
 * 2^-13 of the true one for such operands, so its floor is off by at most one, and the
 * correction below (exact products, as |q·d| <= |n| + d < 2^53) removes that.
 */
export function roundDivNumber(a: number, b: number): number {
  const n = 2 * a + b;
  const d = 2 * b;
  let q = Math.floor(n / d);
  if (q * d > n) q--;
  else if ((q + 1) * d <= n) q++;
  return q;
}

function clamp(v: bigint, lo: number): number {
  return v < BigInt(lo) ? lo : v > 127n ? 127 : Number(v);
}

const exactLimit = 2 ** 52;

/** requant for a Number accumulator (|acc| < 2^53), exact: see the module comment. */
export function requantNumber(acc: number, m: number, s: number, lo: number): number {
  if (Math.abs(acc) * m < exactLimit && s <= 52) return clampNumber(Math.floor((acc * m + half(s)) / 2 ** s), lo);
  return clamp(roundShift(BigInt(acc) * BigInt(m), s), lo);
}

function half(s: number): number {
  return s === 0 ? 0 : 2 ** (s - 1);
}

function clampNumber(v: number, lo: number): number {
  return v < lo ? lo : v > 127 ? 127 : v;
}

export type ExecuteVqmOptions = {
  /**
   * Called with each layer's output before later layers read it; what it returns replaces that
   * output. For fault injection in tests only: a deliberately wrong but self-consistent trace.
   */
  onLayer?: ((index: number, output: Tensor) => Tensor) | undefined;
};

export function executeVqm(model: VqmModel, input: Tensor, { onLayer }: ExecuteVqmOptions = {}): ExecuteVqmReturnType {
  const shapes = validateVqm(model);
  if (model.sequence !== undefined)
    throw new VqmInputError(`VQM model "${model.name}" is a decoder: it runs pass by pass.`, {
      details: ["Use generateVqm (oracle/model/vqm/sequence-executor.ts) with an int32 prompt."],
    });
  checkInput(model, input);
  const computed: Tensor[] = [];
  const read = (ref: number): Int8Array => (ref === -1 ? input.data : computed[ref]!.data) as Int8Array;
  const shapeOf = (ref: number): readonly number[] => (ref === -1 ? model.input.shape : shapes[ref]!);
  model.layers.forEach((layer, index) => {
    // validateVqm refuses sequence layers outside a decoder, so every layer here is classic.
    const output = layerOutput(layer as ClassicLayer, shapes[index]!, read, shapeOf);
    computed.push(onLayer ? onLayer(index, output) : output);
  });
  return { output: computed[computed.length - 1]!, trace: computed };
}

/** The layer kinds that read only their own pass's inputs and parameters (the classic ones). */
export type ClassicLayer = Extract<
  VqmLayer,
  { kind: "dense" | "conv2d" | "relu" | "add" | "maxpool2d" | "reshape" | "argmax" }
>;

/**
 * The output of a classic layer of a validated model, whose output shape is `shape`, reading
 * earlier outputs (int8) through `read` and their shapes through `shapeOf`.
 */
export function layerOutput(
  layer: ClassicLayer,
  shape: number[],
  read: (ref: number) => Int8Array,
  shapeOf: (ref: number) => readonly number[],
): Tensor {
  switch (layer.kind) {
    case "dense":
      return int8(shape, dense(layer, read(layer.input)));
    case "conv2d":
      return int8(shape, conv2d(layer, read(layer.input), shapeOf(layer.input), shape));
    case "relu":
      return int8(
        shape,
        read(layer.input).map((v) => (v < 0 ? 0 : v)),
      );
    case "add":
      return int8(shape, add(layer, read(layer.inputs[0]), read(layer.inputs[1])));
    case "maxpool2d":
      return int8(shape, maxpool(layer, read(layer.input), shapeOf(layer.input), shape));
    case "reshape":
      return int8(shape, read(layer.input).slice());
    case "argmax":
      return { dtype: "int32", shape, data: argmax(read(layer.input), shapeOf(layer.input)) };
  }
}

function checkInput(model: VqmModel, input: Tensor): void {
  try {
    assertTensor(input);
  } catch (error) {
    throw new VqmInputError("VQM input is not a valid tensor.", {
      details: [error instanceof BaseError ? error.shortMessage : String(error)],
      cause: error,
    });
  }
  if (input.dtype !== "int8")
    throw new VqmInputError(`VQM input must be int8, got ${input.dtype}.`, {
      details: ["Quantise float inputs with the model's input scale first."],
    });
  if (shapeToString(input.shape) !== shapeToString(model.input.shape))
    throw new VqmInputError("VQM input shape does not match the model.", {
      details: [`Expected ${shapeToString(model.input.shape)}, got ${shapeToString(input.shape)}.`],
    });
}

export function int8(shape: number[], data: Int8Array): Tensor {
  return { dtype: "int8", shape, data };
}

function dense(layer: DenseLayer, x: Int8Array): Int8Array {
  const { inFeatures: n, outFeatures, weights, bias, requant } = layer;
  const lo = requant.activation === "relu" ? 0 : -128;
  const y = new Int8Array(outFeatures);
  for (let j = 0; j < outFeatures; j++) {
    let acc = bias[j]!;
    for (let i = 0, w = j * n; i < n; i++, w++) acc += x[i]! * weights[w]!;
    y[j] = requantNumber(acc, requant.multiplier[j]!, requant.shift[j]!, lo);
  }
  return y;
}

function conv2d(layer: Conv2dLayer, x: Int8Array, inShape: readonly number[], outShape: number[]): Int8Array {
  const { inChannels, outChannels, weights, bias, requant } = layer;
  const [kh, kw] = layer.kernel;
  const [sh, sw] = layer.stride;
  const [top, left] = layer.padding;
  const [height, width] = [inShape[2]!, inShape[3]!];
  const [outHeight, outWidth] = [outShape[2]!, outShape[3]!];
  const lo = requant.activation === "relu" ? 0 : -128;
  const y = new Int8Array(outChannels * outHeight * outWidth);
  let out = 0;
  for (let o = 0; o < outChannels; o++) {
    const m = requant.multiplier[o]!;
    const s = requant.shift[o]!;
    for (let r = 0; r < outHeight; r++)
      for (let c = 0; c < outWidth; c++) {
        let acc = bias[o]!;
        for (let i = 0; i < inChannels; i++)
          for (let u = 0; u < kh; u++) {
            const row = r * sh + u - top;
            if (row < 0 || row >= height) continue; // padding reads 0
            const wBase = ((o * inChannels + i) * kh + u) * kw;
            const xBase = (i * height + row) * width;
            for (let v = 0; v < kw; v++) {
              const col = c * sw + v - left;
              if (col >= 0 && col < width) acc += x[xBase + col]! * weights[wBase + v]!;
            }
          }
        y[out++] = requantNumber(acc, m, s, lo);
      }
  }
  return y;
}

function add(layer: AddLayer, a: Int8Array, b: Int8Array): Int8Array {
  const [ma, mb] = layer.multipliers;
  const s = layer.shift;
  const lo = layer.activation === "relu" ? 0 : -128;
  const y = new Int8Array(a.length);
  for (let k = 0; k < a.length; k++) {
    const v = a[k]! * ma + b[k]! * mb; // |v| <= 2^39: exact
    y[k] =
      s <= 52
        ? clampNumber(Math.floor((v + half(s)) / 2 ** s), lo)
        : clamp(roundShift(BigInt(a[k]!) * BigInt(ma) + BigInt(b[k]!) * BigInt(mb), s), lo);
  }
  return y;
}

function maxpool(layer: MaxPool2dLayer, x: Int8Array, inShape: readonly number[], outShape: number[]): Int8Array {
  const [kh, kw] = layer.kernel;
  const [sh, sw] = layer.stride;
  const [channels, height, width] = [inShape[1]!, inShape[2]!, inShape[3]!];
  const [outHeight, outWidth] = [outShape[2]!, outShape[3]!];
  const y = new Int8Array(channels * outHeight * outWidth);
  let out = 0;
  for (let ch = 0; ch < channels; ch++)
    for (let r = 0; r < outHeight; r++)
      for (let c = 0; c < outWidth; c++) {
        let best = -128;
        for (let u = 0; u < kh; u++)
          for (let v = 0; v < kw; v++) {
            const value = x[(ch * height + r * sh + u) * width + c * sw + v]!;
            if (value > best) best = value;
          }
        y[out++] = best;
      }
  return y;
}

function argmax(x: Int8Array, inShape: readonly number[]): Int32Array {
  const last = inShape[inShape.length - 1]!;
  const y = new Int32Array(x.length / last);
  for (let row = 0; row < y.length; row++) {
    let best = 0;
    for (let k = 1; k < last; k++) if (x[row * last + k]! > x[row * last + best]!) best = k; // first index on ties
    y[row] = best;
  }
  return y;
}
