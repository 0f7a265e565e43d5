/**
 * Shared by the issue-8 regression tests (Attacks.test.ts, GasCeiling.test.ts): the contracts'
 * enums, small tensors and models built by hand (and the feature map layers that other dispute
 * tests pool). The in-process game itself (registration, challenge, both sides' moves, gas) is
 * oracle/devnet's, shared with the gas benchmarks. No side effects on import.
 */
import { hexlify } from "ethers";
import { encodeInlineInput } from "../../oracle/model/input-envelope.ts";
import type { Tensor } from "../../oracle/model/tensor.ts";
import type { DenseLayer, ReshapeLayer } from "../../oracle/model/vqm/vqm-model.ts";
import { elementBytes } from "../../oracle/dispute/moves.ts";

export const Status = {
  None: 0n,
  Pending: 1n,
  Claimed: 2n,
  Submitted: 3n,
  Challenged: 4n,
  Finalized: 5n,
  Refunded: 6n,
  Failed: 7n,
} as const;
export const Phase = {
  None: 0n,
  Bisecting: 1n,
  AwaitChunk: 2n,
  AwaitStep: 3n,
  Resolved: 4n,
  SumClaim: 5n,
  SumBisecting: 6n,
  AwaitSumStep: 7n,
  RevealLayers: 8n,
} as const;
export const Side = { None: 0n, Defender: 1n, Challenger: 2n } as const;
/** Dtype codes of the model registry. */
export const Dtype = { int8: 1, int32: 2, float32: 3, int64: 4, uint8: 5 } as const;

// ------------------------------------------------------------------------------------------------
// Models and tensors

/** An int8 tensor of `shape` from `values` (repeated or truncated to the element count). */
export function int8Tensor(shape: number[], values: (i: number) => number): Tensor {
  const count = shape.reduce((n, d) => n * d, 1);
  return { dtype: "int8", shape, data: Int8Array.from({ length: count }, (_, i) => values(i)) };
}

/** The model input as a request carries it: the inline envelope of its canonical tensor. */
export function inlineInput(tensor: Tensor): string {
  return hexlify(encodeInlineInput(tensor));
}

/** A deterministic pseudo-random int8 in [-128, 127] for index `i` and `seed`. */
export function noise(i: number, seed = 1): number {
  let x = (i + 1) * 0x9e3779b1 + seed * 0x85ebca6b;
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return ((x ^ (x >>> 16)) & 0xff) - 128;
}

/**
 * Layers 0 and 1 of a model whose later layer (a pool, an argmax) reads an internal int8 feature
 * map of `shape` rather than the model input, as real models do: the chain bounds the input
 * (ModelRegistry.MAX_INPUT_BYTES, 32,768 bytes), not internal layers. Layer 0 is a dense layer
 * from the int8 input [1, inFeatures] to the map's element count, layer 1 reshapes it to `shape`.
 * With `values`, every dense weight is 0 and the bias is the map (multiplier 1, shift 0, so
 * element i is exactly `values(i)` whatever the input): for tests that need a value pattern.
 * Without, seeded random weights and biases (the map follows the input, spread over int8).
 */
export function featureMapLayers({
  shape,
  inFeatures = 16,
  values,
  seed = 1,
}: {
  shape: number[];
  inFeatures?: number | undefined;
  values?: ((i: number) => number) | undefined;
  seed?: number | undefined;
}): [DenseLayer, ReshapeLayer] {
  const outFeatures = shape.reduce((n, d) => n * d, 1);
  const dense: DenseLayer = {
    kind: "dense",
    input: -1,
    inFeatures,
    outFeatures,
    weights: values
      ? new Int8Array(inFeatures * outFeatures)
      : Int8Array.from({ length: inFeatures * outFeatures }, (_, i) => Math.max(-127, noise(i, seed))),
    bias: Int32Array.from({ length: outFeatures }, (_, j) => (values ? values(j) : noise(j, seed + 1) * 64)),
    requant: {
      // |acc| is around 4 · 74 · 74 for 16 random inputs and weights: 2^-9 maps it to about ±45.
      multiplier: new Int32Array(outFeatures).fill(values ? 1 : 2 ** 15),
      shift: new Uint8Array(outFeatures).fill(values ? 0 : 24),
      activation: "none",
    },
  };
  return [dense, { kind: "reshape", input: 0, shape: [...shape] }];
}

/** Element bytes of a trace (one entry per layer). */
export function traceBytes(trace: readonly Tensor[]): Uint8Array[] {
  return trace.map((t) => elementBytes(t));
}
