/**
 * Hand-built decoders for the onnxruntime sequence tests: a GPT-shaped pass (token + position
 * embeddings, pre-norm attention and MLP blocks, final norm, LM head, argmax) with seeded random
 * parameters inside the validated bounds, and knobs to force the edge cases the ORT graph could
 * get wrong (huge layer-norm sums, flat or saturated attention rows).
 */
import type { Prng } from "../../oracle/model/train/prng.ts";
import { createPrng } from "../../oracle/model/train/prng.ts";
import type { DenseLayer, NormalizeLayer, VqmLayer, VqmModel } from "../../oracle/model/vqm/vqm-model.ts";

export type TinyDecoderShape = {
  contextLength: number;
  vocabSize: number;
  width: number;
  heads: number;
  headDim: number;
  blocks: number;
  promptLength: number;
  newTokens: number;
  /** Multiplies the qk requantisation ratio: large values saturate the scores (rows of ±127 / −128). */
  scoreGain?: number;
  /** Embedding magnitude: 127 makes |c| and Σc² as large as int8 inputs allow. */
  embedMagnitude?: number;
  /** Layer-norm epsilon; defaults to 1. */
  epsilon?: bigint;
  /**
   * Constant queries and keys whose scores saturate: "low" gives rows of −128 only (row maximum
   * −128, uniform probabilities), "high" rows of 127.
   */
  saturatedScores?: "low" | "high" | undefined;
  /**
   * A lut between qk and softmax that maps the mask's −128 to 127 and every other score to −128,
   * with an exp table whose entry 0 is 0: while t < C − 1 the row's maximum is masked and S = 0.
   */
  maskedMaximum?: boolean | undefined;
};

/** m / 2^s ≈ ratio with m in [2^29, 2^30). */
function fixedPoint(ratio: number): { multiplier: number; shift: number } {
  const shift = Math.min(61, Math.max(0, Math.ceil(29 - Math.log2(ratio))));
  return { multiplier: Math.min(2 ** 31 - 1, Math.max(1, Math.round(ratio * 2 ** shift))), shift };
}

function int8s(prng: Prng, length: number, magnitude: number): Int8Array {
  return Int8Array.from({ length }, () => prng.int(2 * magnitude + 1) - magnitude);
}

function dense(prng: Prng, input: number, inFeatures: number, outFeatures: number, relu = false): DenseLayer {
  const { multiplier, shift } = fixedPoint(1 / (Math.sqrt(inFeatures) * 100));
  return {
    kind: "dense",
    input,
    inFeatures,
    outFeatures,
    weights: int8s(prng, inFeatures * outFeatures, 127),
    bias: Int32Array.from({ length: outFeatures }, () => prng.int(2001) - 1000),
    requant: {
      multiplier: Int32Array.from({ length: outFeatures }, () => multiplier + prng.int(1 << 20)),
      shift: new Uint8Array(outFeatures).fill(shift),
      activation: relu ? "relu" : "none",
    },
  };
}

/** A dense layer with zero weights whose output is `value` everywhere (bias `value`, m = 1, s = 0). */
function constantDense(input: number, inFeatures: number, outFeatures: number, value: number): DenseLayer {
  return {
    kind: "dense",
    input,
    inFeatures,
    outFeatures,
    weights: new Int8Array(inFeatures * outFeatures),
    bias: new Int32Array(outFeatures).fill(value),
    requant: {
      multiplier: new Int32Array(outFeatures).fill(1),
      shift: new Uint8Array(outFeatures),
      activation: "none",
    },
  };
}

function normalize(prng: Prng, input: number, width: number, epsilon: bigint): NormalizeLayer {
  // gamma·z ~ 64 · 2^16 / √D: aim at outputs of about ±60.
  const { multiplier, shift } = fixedPoint((60 * Math.sqrt(width)) / (64 * 2 ** 16));
  return {
    kind: "normalize",
    input,
    gamma: int8s(prng, width, 127),
    beta: Int32Array.from({ length: width }, () => prng.int(400_001) - 200_000),
    epsilon,
    requant: {
      multiplier: Int32Array.from({ length: width }, () => multiplier + prng.int(1 << 16)),
      shift: new Uint8Array(width).fill(shift),
      activation: "none",
    },
  };
}

/** exp[k] = round(2^16 · e^((k − 255)·scale)): exp[255] = 2^16, non-decreasing. */
export function expTable(scale: number): Uint32Array {
  return Uint32Array.from({ length: 256 }, (_, k) => Math.round(2 ** 16 * Math.exp((k - 255) * scale)));
}

/** A tanh-like int8 table. */
function lutTable(): Int8Array {
  return Int8Array.from({ length: 256 }, (_, k) => Math.round(127 * Math.tanh((k - 128) / 40)));
}

export function tinyDecoder(seed: number, shape: TinyDecoderShape): VqmModel {
  const prng = createPrng(seed);
  const { contextLength: c, vocabSize: v, width: d, heads, headDim, blocks } = shape;
  const magnitude = shape.embedMagnitude ?? 60;
  const epsilon = shape.epsilon ?? 1n;
  const attention = heads * headDim;
  const layers: VqmLayer[] = [];
  const push = (layer: VqmLayer) => layers.push(layer) - 1;
  const half = fixedPoint(0.5);
  const add = (a: number, b: number) =>
    push({
      kind: "add",
      inputs: [a, b],
      multipliers: [half.multiplier, half.multiplier],
      shift: half.shift,
      activation: "none",
    });
  const layerNorm = (input: number) => push(normalize(prng, push({ kind: "centre", input }), d, epsilon));

  const token = push({ kind: "embed", source: "token", rows: v, width: d, table: int8s(prng, v * d, magnitude) });
  const position = push({ kind: "embed", source: "position", rows: c, width: d, table: int8s(prng, c * d, magnitude) });
  let residual = add(token, position);
  for (let block = 0; block < blocks; block++) {
    const normed = layerNorm(residual);
    const saturated = shape.saturatedScores;
    const query = push(saturated ? constantDense(normed, d, attention, 100) : dense(prng, normed, d, attention));
    const keyLayer = saturated ? constantDense(normed, d, attention, saturated === "low" ? -100 : 100) : undefined;
    const key = push(keyLayer ?? dense(prng, normed, d, attention));
    const value = push(dense(prng, normed, d, attention));
    const scores = saturated
      ? { multiplier: 1, shift: 0 }
      : fixedPoint(((shape.scoreGain ?? 1) * 4) / (Math.sqrt(headDim) * 60 * 60));
    const qk = push({ kind: "qk", query, key, heads, headDim, ...scores });
    const table = Int8Array.from({ length: 256 }, (_, k) => (k === 0 ? 127 : -128));
    const scored = shape.maskedMaximum ? push({ kind: "lut", input: qk, table }) : qk;
    const rowmax = push({ kind: "rowmax", input: scored });
    const probs = push({ kind: "softmax", input: scored, rowmax, exp: expTable(0.05 + prng.next() * 0.1) });
    const mixed = push({ kind: "av", probs, value, heads, headDim, ...fixedPoint(1 / 127) });
    residual = add(residual, push(dense(prng, mixed, attention, d)));
    const up = push(dense(prng, layerNorm(residual), d, 2 * d));
    const activated = push({ kind: "lut", input: up, table: lutTable() });
    residual = add(residual, push(dense(prng, activated, 2 * d, d)));
  }
  const logits = push(dense(prng, layerNorm(residual), d, v));
  push({ kind: "argmax", input: logits });
  return {
    format: "vqm/1",
    name: `tiny-decoder-${seed}`,
    input: { shape: [1, 1], scale: 1 },
    layers,
    sequence: {
      contextLength: c,
      vocabSize: v,
      promptLength: shape.promptLength,
      newTokens: shape.newTokens,
      bos: 0,
    },
  };
}
