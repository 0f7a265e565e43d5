/**
 * Post-training quantisation of a decoder: a float decoder-only transformer ONNX graph plus
 * calibration prompts (token-id sequences) → a VQM decoder (`sequence` section), layer `i` of
 * the float per-pass decoder (`float-decoder.ts`) becoming layer `i` of the integer one.
 * docs/numeric-semantics.md#quantiser states each rule; in short:
 *
 * - lopsided activations (a GELU's output, the residual stream, the logits) are first centred by
 *   offsets their readers take out exactly (`decoder-offsets.ts`);
 * - activation scales `max |x| / 127` over every pass of every prompt (scores over the unmasked
 *   positions only); embeddings one scale per table; dense layers per channel as for classifiers;
 * - `qk` folds the graph's 1/√dh (any scalar on the scores) into its multiplier; the softmax
 *   table is `round(2^16·e^((k − 255)·s_scores))`; probabilities have scale 1/127;
 * - GELU and other elementwise chains are a `lut` over the input's int8 grid;
 * - a layer norm is `centre` + `normalize`: γ int8 at one scale per channel `s_g[i]`, `z` carries `2^16/√D`.
 */
import type { OnnxModel } from "../onnx/onnx-model.ts";
import { expTable } from "../vqm/random-transformer.ts";
import { validateVqm } from "../vqm/validate-vqm.ts";
import type { Requant, VqmLayer, VqmModel } from "../vqm/vqm-model.ts";
import {
  accumulatorBounds,
  chooseAddFixedPoint,
  chooseFixedPoint,
  QuantiseError,
  quantiseBias,
  quantisePerChannel,
  quantiseValue,
  symmetricScale,
} from "./fixed-point.ts";
import { chooseOffsets, shiftDecoder } from "./decoder-offsets.ts";
import type { LayerBounds } from "./decoder-offsets.ts";
import { lowerDecoder } from "./float-decoder.ts";
import type { FloatDecoder, FloatDecoderLayer } from "./float-decoder.ts";
import { runFloatDecoder } from "./run-float-decoder.ts";

export type QuantiseDecoderParameters = {
  /** The float full-sequence graph, as `readOnnx` gives it. */
  onnx: OnnxModel;
  /** Token-id sequences (their first C ids are used); every pass over them calibrates. */
  prompts: readonly (readonly number[])[];
  /** Defaults to the graph's name. */
  name?: string | undefined;
  /** The request's prompt length P; defaults to ⌈C / 2⌉. */
  promptLength?: number | undefined;
  /** Tokens a request generates; defaults to C − P + 1 (the most the context allows). */
  newTokens?: number | undefined;
  /** The prompt of an empty request; defaults to 0 (a char vocabulary's boundary). */
  bos?: number | undefined;
};

export type QuantiseDecoderReturnType = {
  model: VqmModel;
  /**
   * The lowered float decoder, for comparing against. What was quantised is the same function
   * with each layer's output moved by its offset.
   */
  decoder: FloatDecoder;
  /** The constant added to each layer's output before quantising (`chooseOffsets`). */
  offsets: number[];
  /** Largest finite |x + offset| of each layer's output over the calibration passes. */
  ranges: number[];
  /** Float value of one step of each layer's output (for `centre`, of one step of its int32 c; none for argmax). */
  scales: (number | undefined)[];
};

export function quantiseDecoder({
  onnx,
  prompts,
  name,
  promptLength,
  newTokens,
  bos = 0,
}: QuantiseDecoderParameters): QuantiseDecoderReturnType {
  const decoder = lowerDecoder(onnx);
  const { contextLength, vocabSize } = decoder;
  const bounds = calibrateDecoder(decoder, prompts);
  const offsets = chooseOffsets(decoder, bounds);
  const shifted = shiftDecoder(decoder, offsets);
  // The shifted layer's output is the float one plus its offset, so its bounds move with it.
  const ranges = offsets.map((o, i) =>
    Number.isFinite(bounds.lo[i]!) ? Math.max(Math.abs(bounds.lo[i]! + o), Math.abs(bounds.hi[i]! + o)) : 0,
  );
  const scales: (number | undefined)[] = [];
  const scaleOf = (ref: number): number => scales[ref]!;
  const offsetOf = (ref: number): number => offsets[ref]!;
  const layers = shifted.layers.map((layer, index): VqmLayer => {
    const where = `layer ${index} (${layer.kind}, node "${layer.node}")`;
    const calibrated = () => symmetricScale(ranges[index]!);
    const { scale, layer: quantised } = withContext(where, () => quantiseLayer(layer, scaleOf, offsetOf, calibrated));
    scales.push(scale);
    return quantised;
  });
  const prompt = promptLength ?? Math.ceil(contextLength / 2);
  const model: VqmModel = {
    format: "vqm/1",
    name: name ?? (onnx.graph.name || "decoder"),
    input: { shape: [1, 1], scale: 1 },
    layers,
    sequence: {
      contextLength,
      vocabSize,
      promptLength: prompt,
      newTokens: newTokens ?? contextLength - prompt + 1,
      bos,
    },
  };
  validateVqm(model);
  return { model, decoder, offsets, ranges, scales };
}

/**
 * Smallest and largest finite value of every layer's output over every pass of every prompt
 * (±∞ for a layer that has none, and for the argmax, which is not quantised).
 */
export function calibrateDecoder(decoder: FloatDecoder, prompts: readonly (readonly number[])[]): LayerBounds {
  if (prompts.length === 0) throw new QuantiseError("Calibration needs at least one prompt.");
  const lo = new Array<number>(decoder.layers.length).fill(Infinity);
  const hi = new Array<number>(decoder.layers.length).fill(-Infinity);
  prompts.forEach((prompt, k) => {
    if (prompt.length === 0 || !prompt.every((id) => Number.isInteger(id) && id >= 0 && id < decoder.vocabSize))
      throw new QuantiseError(
        `Calibration prompt ${k} is not a non-empty list of token ids in [0, ${decoder.vocabSize}).`,
      );
    for (const pass of runFloatDecoder(decoder, prompt.slice(0, decoder.contextLength)))
      pass.forEach((output, index) => {
        if (decoder.layers[index]!.kind === "argmax") return;
        for (const v of output)
          if (Number.isFinite(v)) {
            if (v < lo[index]!) lo[index] = v;
            if (v > hi[index]!) hi[index] = v;
          }
      });
  });
  return { lo, hi };
}

/** One float layer as its VQM layer and its output scale. */
function quantiseLayer(
  layer: FloatDecoderLayer,
  scaleOf: (ref: number) => number,
  offsetOf: (ref: number) => number,
  calibrated: () => number,
): { scale: number | undefined; layer: VqmLayer } {
  switch (layer.kind) {
    case "embed": {
      // One scale per table: each row is read as is, so the table's own range is the right one.
      const scale = symmetricScale(layer.table.reduce((max, v) => Math.max(max, Math.abs(v)), 0));
      const table = Int8Array.from(layer.table, (v) => quantiseValue(v, scale, -127, 127));
      return { scale, layer: { kind: "embed", source: layer.source, rows: layer.rows, width: layer.width, table } };
    }
    case "dense": {
      const scale = calibrated();
      const { inFeatures, outFeatures } = layer;
      return {
        scale,
        layer: {
          kind: "dense",
          input: layer.input,
          inFeatures,
          outFeatures,
          ...quantiseDense(layer, scaleOf(layer.input), offsetOf(layer.input), scale),
        },
      };
    }
    case "add": {
      const scale = calibrated();
      const [a, b] = layer.inputs;
      const { multipliers, shift } = chooseAddFixedPoint(scaleOf(a) / scale, scaleOf(b) / scale);
      return { scale, layer: { kind: "add", inputs: [a, b], multipliers, shift, activation: "none" } };
    }
    case "lut": {
      // Exact for every int8 input: the float function of the grid point, rounded once.
      const scale = calibrated();
      const inScale = scaleOf(layer.input);
      const table = Int8Array.from({ length: 256 }, (_, k) => quantiseValue(layer.f((k - 128) * inScale), scale));
      return { scale, layer: { kind: "lut", input: layer.input, table } };
    }
    case "centre":
      // c = D·x − Σx on the int8 x: one step of c is one step of x.
      return { scale: scaleOf(layer.input), layer: { kind: "centre", input: layer.input } };
    case "normalize":
      return normalizeLayer(layer, scaleOf(layer.input), calibrated());
    case "qk": {
      const scale = calibrated();
      const ratio = (layer.factor * scaleOf(layer.query) * scaleOf(layer.key)) / scale;
      const { multiplier, shift } = chooseFixedPoint(ratio, 2 ** 31);
      const { query, key, heads, headDim } = layer;
      return { scale, layer: { kind: "qk", query, key, heads, headDim, multiplier, shift } };
    }
    case "rowmax":
      return { scale: scaleOf(layer.input), layer: { kind: "rowmax", input: layer.input } };
    case "softmax":
      return {
        scale: 1 / 127,
        layer: { kind: "softmax", input: layer.input, rowmax: layer.rowmax, exp: expTable(scaleOf(layer.input)) },
      };
    case "av": {
      const scale = calibrated();
      const { multiplier, shift } = chooseFixedPoint(scaleOf(layer.value) / 127 / scale, 2 ** 31);
      const { probs, value, heads, headDim } = layer;
      return { scale, layer: { kind: "av", probs, value, heads, headDim, multiplier, shift } };
    }
    case "argmax":
      return { scale: undefined, layer: { kind: "argmax", input: layer.input } };
  }
}

/**
 * Per-channel weights, int32 bias at `s_in·s_w[j]`, `m[j]/2^s[j] ≈ s_in·s_w[j]/s_out`. The float
 * bias took the input's offset `o` out with the float weights (`shiftDecoder`); the integer layer
 * multiplies by the rounded ones, so the bias gets `o·Σ_i (W[j][i] − s_w[j]·W_q[j][i])` back and
 * the offset cancels exactly against the weights actually used.
 */
function quantiseDense(
  layer: Extract<FloatDecoderLayer, { kind: "dense" }>,
  inScale: number,
  inOffset: number,
  outScale: number,
): { weights: Int8Array; bias: Int32Array; requant: Requant } {
  const { inFeatures } = layer;
  const { values: weights, scales } = quantisePerChannel(layer.weights, layer.outFeatures);
  const corrected = layer.bias.map((b, j) => {
    let rounding = 0;
    for (let i = 0; i < inFeatures; i++)
      rounding += layer.weights[j * inFeatures + i]! - scales[j]! * weights[j * inFeatures + i]!;
    return b + inOffset * rounding;
  });
  const bias = quantiseBias(corrected, inScale, scales);
  const bounds = accumulatorBounds(weights, bias);
  const points = bounds.map((bound, j) => {
    if (!(bound < 2 ** 31)) throw new QuantiseError(`Accumulator bound of channel ${j} is ${bound}, not below 2^31.`);
    return chooseFixedPoint((inScale * scales[j]!) / outScale, bound);
  });
  return { weights, bias, requant: requantOf(points) };
}

/**
 * γ int8 at a symmetric scale per channel `s_g[i] = |γ[i]|/127`; `z = roundDiv(c·2^16, r)` is
 * `x̂·2^16/√D`, so the accumulator `γ_q·z + β_q` of channel i has scale `s_g[i]·√D/2^16`,
 * `β_q = round(β·2^16/(s_g[i]·√D))`, and
 * `ε = max(1, round(eps·D³/s_x²))` puts the float ε in the units of Σc² (c = D·(x − μ)/s_x).
 */
function normalizeLayer(
  layer: Extract<FloatDecoderLayer, { kind: "normalize" }>,
  inScale: number,
  outScale: number,
): { scale: number; layer: VqmLayer } {
  const width = layer.gamma.length;
  // One scale per channel: each γ[i] is ±127 (or 0), and its scale moves into m[i], which is per
  // channel anyway. One scale for the whole γ left small channels a few levels.
  const gammaScales = Array.from(layer.gamma, (v) => symmetricScale(Math.abs(v)));
  const gamma = Int8Array.from(layer.gamma, (v, i) => quantiseValue(v, gammaScales[i]!, -127, 127));
  const accScales = gammaScales.map((scale) => (scale * Math.sqrt(width)) / 2 ** 16);
  const beta = Int32Array.from(layer.beta, (v, i) => {
    const q = Math.round(v / accScales[i]!);
    if (!(Math.abs(q) + 2 ** 23 < 2 ** 31))
      throw new QuantiseError(`β of channel ${i} is ${q} accumulator steps, too large.`);
    return q;
  });
  const epsilonValue = Math.max(1, Math.round((layer.epsilon * width ** 3) / inScale ** 2));
  if (!(epsilonValue < 2 ** 62)) throw new QuantiseError(`ε is ${epsilonValue} in Σc² units, not below 2^62.`);
  const points = Array.from(beta, (b, i) => chooseFixedPoint(accScales[i]! / outScale, Math.abs(b) + 2 ** 23));
  return {
    scale: outScale,
    layer: {
      kind: "normalize",
      input: layer.input,
      gamma,
      beta,
      epsilon: BigInt(epsilonValue),
      requant: requantOf(points),
    },
  };
}

function requantOf(points: readonly { multiplier: number; shift: number }[]): Requant {
  return {
    multiplier: Int32Array.from(points, (p) => p.multiplier),
    shift: Uint8Array.from(points, (p) => p.shift),
    activation: "none",
  };
}

function withContext<T>(where: string, f: () => T): T {
  try {
    return f();
  } catch (error) {
    if (!(error instanceof QuantiseError)) throw error;
    throw new QuantiseError(`Cannot quantise ${where}: ${error.shortMessage}`, {
      details: error.details,
      cause: error,
    });
  }
}
