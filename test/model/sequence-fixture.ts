/**
 * A tiny decoder whose every layer output the sequence tests compute by hand: V = 3, C = 4,
 * D = 2, one head of width 2. Layer 2 (token + position) is the query, key and value.
 */
import type { Tensor } from "../../oracle/model/tensor.ts";
import type { VqmLayer, VqmModel } from "../../oracle/model/vqm/vqm-model.ts";

/** exp[k] = max(0, 2^16 − 1024·(255 − k)): linear, so hand computation stays easy. */
export const linearExp = Uint32Array.from({ length: 256 }, (_, k) => Math.max(0, 65536 - 1024 * (255 - k)));

/** lut: y = floor(x / 2). */
export const halfTable = Int8Array.from({ length: 256 }, (_, i) => Math.floor((i - 128) / 2));

export function tinyLayers(): VqmLayer[] {
  return [
    { kind: "embed", source: "token", rows: 3, width: 2, table: Int8Array.of(10, 20, -30, 5, 7, 7) },
    { kind: "embed", source: "position", rows: 4, width: 2, table: Int8Array.of(1, 2, 3, 4, 5, 6, 0, 0) },
    { kind: "add", inputs: [0, 1], multipliers: [1, 1], shift: 0, activation: "none" },
    { kind: "centre", input: 2 },
    {
      kind: "normalize",
      input: 3,
      gamma: Int8Array.of(1, -2),
      beta: Int32Array.of(0, 1000),
      epsilon: 5n,
      requant: { multiplier: Int32Array.of(1, 1), shift: Uint8Array.of(10, 10), activation: "none" },
    },
    { kind: "qk", query: 2, key: 2, heads: 1, headDim: 2, multiplier: 1, shift: 4 },
    { kind: "rowmax", input: 5 },
    { kind: "softmax", input: 5, rowmax: 6, exp: linearExp },
    { kind: "av", probs: 7, value: 2, heads: 1, headDim: 2, multiplier: 1, shift: 7 },
    { kind: "lut", input: 8, table: halfTable },
    {
      kind: "dense",
      input: 9,
      inFeatures: 2,
      outFeatures: 3,
      weights: Int8Array.of(1, 0, 0, 1, -1, -1),
      bias: new Int32Array(3),
      requant: { multiplier: Int32Array.of(1, 1, 1), shift: new Uint8Array(3), activation: "none" },
    },
    { kind: "argmax", input: 10 },
  ];
}

export function tinyDecoder(layers: VqmLayer[] = tinyLayers()): VqmModel {
  return {
    format: "vqm/1",
    name: "tiny-decoder",
    input: { shape: [1, 1], scale: 1 },
    layers,
    sequence: { contextLength: 4, vocabSize: 3, promptLength: 2, newTokens: 3, bos: 0 },
  };
}

export function prompt(...ids: number[]): Tensor {
  return { dtype: "int32", shape: [1, ids.length], data: Int32Array.from(ids) };
}

/** A tensor's elements as numbers. */
export function values(tensor: Tensor): number[] {
  return Array.from(tensor.data as ArrayLike<number>);
}
