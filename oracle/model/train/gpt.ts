/**
 * A GPT-2-shaped decoder-only transformer as plain float32 parameters: the shapes, the names
 * (those of Hugging Face's GPT-2, so an export of ours reads like one of theirs) and a seeded
 * initialisation. Training (`train-gpt.ts`) and the ONNX export (`transformer-onnx.ts`) both
 * work on this one description.
 *
 * Every weight matrix is stored as [in, out] (`y = x W + b`, GPT-2's Conv1D layout), which is
 * also the layout of the exported MatMul initializers, so no transpose sits between them.
 */
import { createPrng } from "./prng.ts";
import type { Prng } from "./prng.ts";

export type GptConfig = {
  /** Number of token ids (the LM head's width). */
  vocabSize: number;
  /** Positions the model has embeddings for; the longest input. */
  contextLength: number;
  /** Residual stream width (d_model). */
  width: number;
  /** Attention heads; `width` must be a multiple of it. */
  heads: number;
  /** Transformer blocks. */
  layers: number;
  /** MLP hidden width = mlpRatio × width (4 in GPT-2). */
  mlpRatio: number;
  /** LayerNorm epsilon (GPT-2: 1e-5). */
  layerNormEpsilon: number;
};

/**
 * What the causal mask adds to every score of a later key: exp(−1e9 − max) is exactly 0 in
 * float32, and unlike −inf it never turns a sum into NaN.
 */
export const causalMaskValue = -1e9;

export type GptParameter = { name: string; shape: readonly number[]; data: Float32Array };

/** Parameters in `gptParameterShapes` order. */
export type GptWeights = readonly GptParameter[];

type Init = "embedding" | "linear" | "residual-out" | "zeros" | "ones";
type ParameterShape = { name: string; shape: readonly number[]; init: Init };

export function assertGptConfig(config: GptConfig): void {
  const { vocabSize, contextLength, width, heads, layers, mlpRatio, layerNormEpsilon } = config;
  const positive = { vocabSize, contextLength, width, heads, layers, mlpRatio };
  for (const [key, value] of Object.entries(positive))
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`GPT ${key} must be a positive integer.`);
  if (width % heads !== 0) throw new RangeError(`GPT width ${width} is not a multiple of ${heads} heads.`);
  if (!(layerNormEpsilon > 0)) throw new RangeError("GPT layerNormEpsilon must be positive.");
}

export const blockPrefix = (layer: number) => `transformer.h.${layer}`;

/** Every parameter's name, shape and initialisation, in a fixed order (embeddings, blocks, head). */
export function gptParameterShapes(config: GptConfig): ParameterShape[] {
  assertGptConfig(config);
  const { vocabSize, contextLength, width: d, layers, mlpRatio } = config;
  const hidden = mlpRatio * d;
  const shapes: ParameterShape[] = [
    { name: "transformer.wte.weight", shape: [vocabSize, d], init: "embedding" },
    { name: "transformer.wpe.weight", shape: [contextLength, d], init: "embedding" },
  ];
  for (let layer = 0; layer < layers; layer++) {
    const p = blockPrefix(layer);
    shapes.push(
      { name: `${p}.ln_1.weight`, shape: [d], init: "ones" },
      { name: `${p}.ln_1.bias`, shape: [d], init: "zeros" },
      { name: `${p}.attn.c_attn.weight`, shape: [d, 3 * d], init: "linear" },
      { name: `${p}.attn.c_attn.bias`, shape: [3 * d], init: "zeros" },
      { name: `${p}.attn.c_proj.weight`, shape: [d, d], init: "residual-out" },
      { name: `${p}.attn.c_proj.bias`, shape: [d], init: "zeros" },
      { name: `${p}.ln_2.weight`, shape: [d], init: "ones" },
      { name: `${p}.ln_2.bias`, shape: [d], init: "zeros" },
      { name: `${p}.mlp.c_fc.weight`, shape: [d, hidden], init: "linear" },
      { name: `${p}.mlp.c_fc.bias`, shape: [hidden], init: "zeros" },
      { name: `${p}.mlp.c_proj.weight`, shape: [hidden, d], init: "residual-out" },
      { name: `${p}.mlp.c_proj.bias`, shape: [d], init: "zeros" },
    );
  }
  shapes.push(
    { name: "transformer.ln_f.weight", shape: [d], init: "ones" },
    { name: "transformer.ln_f.bias", shape: [d], init: "zeros" },
    // GPT-2 ties this to wte; ours is its own matrix, stored [d, vocab] as the head's MatMul reads it.
    { name: "lm_head.weight", shape: [d, vocabSize], init: "linear" },
  );
  return shapes;
}

export function gptParameterCount(config: GptConfig): number {
  return gptParameterShapes(config).reduce((sum, { shape }) => sum + shape.reduce((a, b) => a * b, 1), 0);
}

/**
 * GPT-2's initialisation: normal(0, 0.02) for embeddings and matrices, 0.02 / √(2·layers) for
 * the two projections that write into the residual stream (so the stream's variance does not
 * grow with depth), zero biases, LayerNorm gain 1. Seeded, so a seed fixes every bit.
 */
export function initGptWeights(config: GptConfig, seed: number): GptWeights {
  const prng = createPrng(seed);
  const residualStd = 0.02 / Math.sqrt(2 * config.layers);
  return gptParameterShapes(config).map(({ name, shape, init }) => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    if (init === "ones") data.fill(1);
    else if (init !== "zeros") {
      const std = init === "residual-out" ? residualStd : 0.02;
      for (let i = 0; i < data.length; i++) data[i] = std * standardNormal(prng);
    }
    return { name, shape, data };
  });
}

/** The parameter called `name`; throws when the weights lack it or it has another shape. */
export function gptParameter(weights: GptWeights, name: string, shape?: readonly number[]): GptParameter {
  const parameter = weights.find((p) => p.name === name);
  if (!parameter) throw new RangeError(`GPT weights have no parameter "${name}".`);
  if (shape && (shape.length !== parameter.shape.length || shape.some((n, i) => n !== parameter.shape[i])))
    throw new RangeError(`GPT parameter "${name}" is [${parameter.shape.join(", ")}], expected [${shape.join(", ")}].`);
  return parameter;
}

/** Box–Muller from two uniforms of the seeded PRNG (1 − u keeps the logarithm finite). */
function standardNormal(prng: Prng): number {
  const u = 1 - prng.next();
  const v = prng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}
