/**
 * A dense layer with seeded random weights and biases, for models built by hand in tests and
 * benchmarks (feature maps, heads): weights uniform in [-127, 127], then biases uniform in
 * [-biasSpan, biasSpan], drawn from `prng` in that order so the same seed gives the same model,
 * and one multiplier and shift for every output (no activation).
 */
import type { Prng } from "../train/prng.ts";
import type { DenseLayer } from "./vqm-model.ts";

export type SeededDenseParameters = {
  /** The layer it reads (-1: the model input). */
  input: number;
  inFeatures: number;
  outFeatures: number;
  /** Default 1000. */
  biasSpan?: number | undefined;
  multiplier: number;
  shift: number;
};

export function seededDense(
  prng: Prng,
  { input, inFeatures, outFeatures, biasSpan = 1000, multiplier, shift }: SeededDenseParameters,
): DenseLayer {
  return {
    kind: "dense",
    input,
    inFeatures,
    outFeatures,
    weights: Int8Array.from({ length: inFeatures * outFeatures }, () => prng.int(255) - 127),
    bias: Int32Array.from({ length: outFeatures }, () => prng.int(2 * biasSpan + 1) - biasSpan),
    requant: {
      multiplier: new Int32Array(outFeatures).fill(multiplier),
      shift: new Uint8Array(outFeatures).fill(shift),
      activation: "none",
    },
  };
}
