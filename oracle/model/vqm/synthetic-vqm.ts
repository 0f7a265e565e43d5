/**
 * Deterministic synthetic dense VQM models from a seed, of any size (10M+ parameters for
 * benchmarks): generated in memory, never stored. Hidden layers use relu; multipliers and
 * shifts are chosen so activations spread over the int8 range rather than all saturating, and
 * weights are capped so every layer satisfies the overflow bounds.
 */
import { createPrng } from "../train/prng.ts";
import type { Tensor } from "../tensor.ts";
import { validateVqm } from "./validate-vqm.ts";
import type { DenseLayer, VqmLayer, VqmModel } from "./vqm-model.ts";

export type SyntheticMlpParameters = {
  seed: number;
  /** Feature counts from input to output, e.g. [2048, 2048, 2048, 1024, 10]; at least two. */
  sizes: number[];
  /** End with an argmax layer; defaults to false. */
  argmax?: boolean | undefined;
};

const shift = 24;

export function syntheticMlp({ seed, sizes, argmax = false }: SyntheticMlpParameters): VqmModel {
  if (sizes.length < 2 || !sizes.every((n) => Number.isSafeInteger(n) && n >= 1))
    throw new RangeError(`syntheticMlp needs at least two positive sizes, got ${JSON.stringify(sizes)}.`);
  const bytes = byteStream(seed);
  const layers: VqmLayer[] = [];
  for (let k = 0; k + 1 < sizes.length; k++) {
    const inFeatures = sizes[k]!;
    const outFeatures = sizes[k + 1]!;
    // Bound 1 with room for the bias: 128 · in · maxWeight + 2^16 < 2^31.
    const maxWeight = Math.min(128, Math.floor((2 ** 31 - 2 ** 17) / (128 * inFeatures)));
    const weights = new Int8Array(inFeatures * outFeatures);
    for (let i = 0; i < weights.length; i++)
      weights[i] = Math.max(-127, ((bytes() * maxWeight) >> 8) - (maxWeight >> 1));
    const bias = Int32Array.from({ length: outFeatures }, () => (bytes() << 8) - 2 ** 15);
    // |acc| is around sqrt(in) · 40 · maxWeight / 3: map it to about ±64.
    const ratio = 64 / (Math.sqrt(inFeatures) * 40 * Math.max(1, maxWeight / 3));
    const multiplier = Int32Array.from({ length: outFeatures }, () =>
      Math.max(1, Math.round(ratio * 2 ** shift * (0.75 + bytes() / 512))),
    );
    const last = k + 2 === sizes.length;
    const layer: DenseLayer = {
      kind: "dense",
      input: k - 1,
      inFeatures,
      outFeatures,
      weights,
      bias,
      requant: { multiplier, shift: new Uint8Array(outFeatures).fill(shift), activation: last ? "none" : "relu" },
    };
    layers.push(layer);
  }
  if (argmax) layers.push({ kind: "argmax", input: layers.length - 1 });
  const model: VqmModel = {
    format: "vqm/1",
    name: `synthetic-mlp-${sizes.join("-")}-${seed}`,
    input: { shape: [1, sizes[0]!], scale: 1 / 32 },
    layers,
    ...(argmax ? {} : { outputScale: 1 / 16 }),
  };
  validateVqm(model);
  return model;
}

/** A deterministic int8 input for `model` (a dense one: [1, F]). */
export function syntheticInput(model: VqmModel, seed: number): Tensor {
  const bytes = byteStream(seed ^ 0x5bd1e995);
  const count = model.input.shape.reduce((n, d) => n * d, 1);
  return { dtype: "int8", shape: [...model.input.shape], data: Int8Array.from({ length: count }, () => bytes() - 128) };
}

/** Uniform bytes 0..255, four per PRNG draw (fast enough for 10M weights). */
function byteStream(seed: number): () => number {
  const prng = createPrng(seed);
  let word = 0;
  let left = 0;
  return () => {
    if (left === 0) {
      word = Math.floor(prng.next() * 2 ** 32);
      left = 4;
    }
    left--;
    const byte = word & 0xff;
    word >>>= 8;
    return byte;
  };
}
