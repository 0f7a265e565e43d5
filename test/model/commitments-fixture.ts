// A hand-built VQM model whose weights blob spans two chunks (no side effects: mocha loads every
// .ts under test/). Shared by the TypeScript and on-chain commitment tests.
import type { VqmModel } from "../../oracle/model/vqm/vqm-model.ts";

function int8s(length: number, seed: number): Int8Array {
  return Int8Array.from({ length }, (_, i) => ((i * 37 + seed * 11) % 255) - 127);
}

function int32s(length: number, seed: number, span: number): Int32Array {
  return Int32Array.from({ length }, (_, i) => ((i * 7919 + seed * 104729) % span) - (seed % 2) * (span >> 1));
}

/**
 * dense 40→30 (1470 blob bytes: dense row 25 straddles chunks 0 and 1), relu, add (9 bytes),
 * reshape to [1, 2, 3, 5], conv2d 2→3 with a 3×3 kernel and padding 1 (81 bytes): 1560 bytes.
 */
export function tinyModel(): VqmModel {
  return {
    format: "vqm/1",
    name: "commitments-fixture",
    input: { shape: [1, 40], scale: 0.05 },
    layers: [
      {
        kind: "dense",
        input: -1,
        inFeatures: 40,
        outFeatures: 30,
        weights: int8s(1200, 1),
        bias: int32s(30, 1, 20000),
        requant: {
          multiplier: int32s(30, 2, 1 << 30),
          shift: Uint8Array.from({ length: 30 }, (_, i) => 20 + (i % 10)),
          activation: "relu",
        },
      },
      { kind: "relu", input: 0 },
      { kind: "add", inputs: [0, 1], multipliers: [1 << 20, (1 << 21) + 5], shift: 21, activation: "none" },
      { kind: "reshape", input: 2, shape: [1, 2, 3, 5] },
      {
        kind: "conv2d",
        input: 3,
        inChannels: 2,
        outChannels: 3,
        kernel: [3, 3],
        stride: [1, 1],
        padding: [1, 1, 1, 1],
        weights: int8s(54, 3),
        bias: int32s(3, 3, 5000),
        requant: { multiplier: int32s(3, 4, 1 << 24), shift: Uint8Array.from([18, 19, 20]), activation: "none" },
      },
    ],
  };
}
