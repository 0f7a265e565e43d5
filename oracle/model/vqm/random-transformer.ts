/**
 * Seeded random decoder-only transformers (docs/numeric-semantics.md, "Sequence models") for
 * the conformance suite and benchmarks: GPT-2's layer pattern with random int8 weights.
 *
 * Not trained, but scaled like a quantiser would scale a real model, so that activations spread
 * over the int8 range instead of saturating or rounding to 0: every layer's output aims at a
 * standard deviation of `target` int8 steps, and each requantisation ratio is that target over
 * the accumulator's expected standard deviation (for a dot product of independent terms,
 * `σ_x · ‖W_j‖₂`). Multipliers and shifts come from the quantiser's `chooseFixedPoint`, which
 * also enforces the overflow bounds, and the model is validated before it is returned.
 */
import { chooseAddFixedPoint, chooseFixedPoint } from "../quantise/fixed-point.ts";
import { createPrng } from "../train/prng.ts";
import type { Prng } from "../train/prng.ts";
import type { Tensor } from "../tensor.ts";
import { accumulatorBounds, validateVqm } from "./validate-vqm.ts";
import type { LayerRef, VqmLayer, VqmModel } from "./vqm-model.ts";

export type RandomTransformerParameters = {
  seed: number;
  /** Transformer blocks. */
  layers: number;
  /** Residual width D. */
  width: number;
  heads: number;
  headDim: number;
  /** Context length C. */
  context: number;
  /** Vocabulary size V. */
  vocab: number;
  /** Hidden width of each block's MLP. */
  mlpWidth: number;
  promptLength: number;
  newTokens: number;
};

/** The int8 standard deviation every layer aims at: wide spread, rare saturation (127 ≈ 4σ). */
const target = 32;

/** A layer output and its expected int8 standard deviation. */
type Activation = { ref: LayerRef; std: number };

export function randomTransformer(parameters: RandomTransformerParameters): VqmModel {
  const { seed, layers: blocks, width, heads, headDim, context, vocab, mlpWidth } = parameters;
  const prng = createPrng(seed);
  const gauss = gaussian(prng);
  const layers: VqmLayer[] = [];
  const push = (layer: VqmLayer, std: number): Activation => ({ ref: layers.push(layer) - 1, std });

  const table = (rows: number, std: number) => Int8Array.from({ length: rows * width }, () => int8(gauss() * std));
  const dense = (x: Activation, inFeatures: number, outFeatures: number): Activation => {
    const weights = Int8Array.from({ length: inFeatures * outFeatures }, () => int8(gauss() * 40));
    const norms = Array.from({ length: outFeatures }, (_, j) => rowNorm(weights, j, inFeatures));
    const bias = Int32Array.from(norms, (norm) => Math.round(gauss() * 0.1 * x.std * norm));
    const bounds = accumulatorBounds(weights, bias, inFeatures);
    const points = norms.map((norm, j) => chooseFixedPoint(target / (x.std * Math.max(norm, 1)), Number(bounds[j]!)));
    const requant = {
      multiplier: Int32Array.from(points, (p) => p.multiplier),
      shift: Uint8Array.from(points, (p) => p.shift),
      activation: "none" as const,
    };
    return push({ kind: "dense", input: x.ref, inFeatures, outFeatures, weights, bias, requant }, target);
  };
  const add = (a: Activation, b: Activation): Activation => {
    const ratio = target / Math.hypot(a.std, b.std);
    const { multipliers, shift } = chooseAddFixedPoint(ratio, ratio);
    return push({ kind: "add", inputs: [a.ref, b.ref], multipliers, shift, activation: "none" }, target);
  };
  const layerNorm = (x: Activation): Activation => {
    const centre = push({ kind: "centre", input: x.ref }, width * x.std);
    const gamma = Int8Array.from({ length: width }, () => 48 + prng.int(80));
    // z = c·2^16 / √(Σc²) has a standard deviation of 2^16 / √D; gamma·z that times |gamma|.
    const zStd = 2 ** 16 / Math.sqrt(width);
    const gammaRms = Math.sqrt(gamma.reduce((sum, g) => sum + g * g, 0) / width);
    const beta = Int32Array.from({ length: width }, () => Math.round(gauss() * 0.1 * gammaRms * zStd));
    const points = Array.from(beta, (b) => chooseFixedPoint(target / (gammaRms * zStd), Math.abs(b) + 2 ** 23));
    // ε in Σc² units: the float ε·D³/s_x², here up to D³ against Σc² ≈ D³·σ².
    const epsilon = 1n + BigInt(prng.int(width ** 3));
    const requant = {
      multiplier: Int32Array.from(points, (p) => p.multiplier),
      shift: Uint8Array.from(points, (p) => p.shift),
      activation: "none" as const,
    };
    return push({ kind: "normalize", input: centre.ref, gamma, beta, epsilon, requant }, target);
  };
  const attention = (x: Activation): Activation => {
    const inner = heads * headDim;
    const [q, k, v] = [dense(x, width, inner), dense(x, width, inner), dense(x, width, inner)];
    // Scores: dh products of two ~target values; aim at a spread of ~target/2 steps.
    const qkPoint = chooseFixedPoint(target / 2 / (Math.sqrt(headDim) * q.std * k.std), 2 ** 31);
    const scores = push(
      { kind: "qk", query: q.ref, key: k.ref, heads, headDim, multiplier: qkPoint.multiplier, shift: qkPoint.shift },
      target / 2,
    );
    const maxima = push({ kind: "rowmax", input: scores.ref }, 0);
    const probs = push(
      { kind: "softmax", input: scores.ref, rowmax: maxima.ref, exp: expTable(prng.uniform(0.02, 0.12)) },
      0,
    );
    // Probabilities sum to ~127: the weighted mean of the values, times 127.
    const avPoint = chooseFixedPoint(target / (127 * v.std), 2 ** 31);
    const mixed = push(
      {
        kind: "av",
        probs: probs.ref,
        value: v.ref,
        heads,
        headDim,
        multiplier: avPoint.multiplier,
        shift: avPoint.shift,
      },
      target,
    );
    return dense(mixed, inner, width);
  };
  const mlp = (x: Activation): Activation => {
    const up = dense(x, width, mlpWidth);
    const gelu = geluTable(up.std);
    const activated = push({ kind: "lut", input: up.ref, table: gelu.table }, gelu.std);
    return dense(activated, mlpWidth, width);
  };

  const tokens = push({ kind: "embed", source: "token", rows: vocab, width, table: table(vocab, target) }, target);
  const positions = push(
    { kind: "embed", source: "position", rows: context, width, table: table(context, target / 2) },
    target / 2,
  );
  let residual = add(tokens, positions);
  for (let block = 0; block < blocks; block++) {
    residual = add(residual, attention(layerNorm(residual)));
    residual = add(residual, mlp(layerNorm(residual)));
  }
  const logits = dense(layerNorm(residual), width, vocab);
  layers.push({ kind: "argmax", input: logits.ref });

  const model: VqmModel = {
    format: "vqm/1",
    name: `random-transformer-${seed}`,
    input: { shape: [1, 1], scale: 1 },
    layers,
    sequence: {
      contextLength: context,
      vocabSize: vocab,
      promptLength: parameters.promptLength,
      newTokens: parameters.newTokens,
      bos: prng.int(vocab),
    },
  };
  validateVqm(model);
  return model;
}

/**
 * An int32 `[1, promptLength]` request for `model`: random ids, sometimes ended early by a
 * negative id (possibly at once: an empty prompt, read as `[bos]`), sometimes ids >= V (read as V − 1).
 */
export function randomPrompt(model: VqmModel, prng: Prng): Tensor {
  const { promptLength, vocabSize } = model.sequence!;
  const data = Int32Array.from({ length: promptLength }, () =>
    prng.next() < 0.1 ? vocabSize + prng.int(1000) : prng.int(vocabSize),
  );
  if (prng.next() < 0.4) data[prng.int(promptLength)] = -1 - prng.int(2 ** 31 - 1);
  return { dtype: "int32", shape: [1, promptLength], data };
}

/** `exp[k] = round(2^16 · e^((k − 255)·s))`: non-decreasing, `exp[255] = 2^16`. */
export function expTable(scale: number): Uint32Array {
  return Uint32Array.from({ length: 256 }, (_, k) => Math.round(2 ** 16 * Math.exp((k - 255) * scale)));
}

/**
 * GELU as an int8 table for inputs of standard deviation `std` steps (taken as the float unit),
 * its output scaled so the largest magnitude is 127; `std` out is the output's standard
 * deviation for a Gaussian input, summed over the table.
 */
export function geluTable(std: number): { table: Int8Array; std: number } {
  const gelu = (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
  const values = Array.from({ length: 256 }, (_, i) => gelu((i - 128) / std));
  const scale = Math.max(...values.map(Math.abs)) / 127;
  const table = Int8Array.from(values, (v) => int8(v / scale));
  let weight = 0;
  let moment = 0;
  table.forEach((y, i) => {
    const density = Math.exp(-(((i - 128) / std) ** 2) / 2);
    weight += density;
    moment += density * y * y;
  });
  return { table, std: Math.max(1, Math.sqrt(moment / weight)) };
}

/** Standard normal samples (Box–Muller) from the seeded generator. */
function gaussian(prng: Prng): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - prng.next())) * Math.cos(2 * Math.PI * prng.next());
}

function int8(value: number): number {
  return Math.max(-127, Math.min(127, Math.round(value)));
}

function rowNorm(weights: Int8Array, row: number, length: number): number {
  let sum = 0;
  for (let i = row * length, end = i + length; i < end; i++) sum += weights[i]! * weights[i]!;
  return Math.sqrt(sum);
}
