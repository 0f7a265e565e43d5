import assert from "node:assert/strict";
import { createPrng } from "../../oracle/model/train/prng.ts";
import { executeVqm, requant, roundShift } from "../../oracle/model/vqm/reference-executor.ts";
import type { VqmModel } from "../../oracle/model/vqm/vqm-model.ts";

const two31 = 2 ** 31;

describe("VQM arithmetic primitives", () => {
  it("roundShift rounds to nearest with ties toward +infinity", () => {
    const table: [bigint, number, bigint][] = [
      // The spec's examples.
      [5n, 1, 3n],
      [-5n, 1, -2n],
      [-6n, 2, -1n],
      // s = 0 is the identity.
      [7n, 0, 7n],
      [-7n, 0, -7n],
      [0n, 0, 0n],
      [0n, 62, 0n],
      // Ties (x.5) go up, also for negatives.
      [1n, 1, 1n],
      [-1n, 1, 0n],
      [3n, 1, 2n],
      [-3n, 1, -1n],
      [2n, 2, 1n],
      [-2n, 2, 0n],
      [6n, 2, 2n],
      [-10n, 2, -2n],
      // Not ties: nearest.
      [5n, 2, 1n],
      [-5n, 2, -1n],
      [7n, 2, 2n],
      [-7n, 2, -2n],
      // Large shifts.
      [2n ** 62n, 62, 1n],
      [-(2n ** 62n), 62, -1n],
      [2n ** 61n, 62, 1n],
      [-(2n ** 61n), 62, 0n],
      [2n ** 61n - 1n, 62, 0n],
      [-(2n ** 61n) - 1n, 62, -1n],
    ];
    for (const [v, s, expected] of table) assert.equal(roundShift(v, s), expected, `roundShift(${v}, ${s})`);
  });

  it("requant saturates at both ends and floors relu at 0", () => {
    const table: [bigint, number, number, "none" | "relu", number][] = [
      [100n, 1, 0, "none", 100],
      [127n, 1, 0, "none", 127],
      [128n, 1, 0, "none", 127],
      [-128n, 1, 0, "none", -128],
      [-129n, 1, 0, "none", -128],
      [-5n, 1, 0, "relu", 0],
      [5n, 1, 0, "relu", 5],
      [2n ** 31n - 1n, two31 - 1, 30, "none", 127],
      [-(2n ** 31n), two31 - 1, 30, "none", -128],
      [-(2n ** 31n), two31 - 1, 30, "relu", 0],
      // m = 0 maps everything to 0.
      [2n ** 31n - 1n, 0, 0, "none", 0],
      [-(2n ** 31n), 0, 5, "none", 0],
      // Ties after the multiply: 3 * 1 / 2 = 1.5 -> 2, -3 / 2 = -1.5 -> -1.
      [3n, 1, 1, "none", 2],
      [-3n, 1, 1, "none", -1],
      [-3n, 1, 1, "relu", 0],
      // 255.5 -> 256 saturates; -256.5 -> -256 saturates.
      [511n, 1, 1, "none", 127],
      [-513n, 1, 1, "none", -128],
      // 2^30 * (2^31 - 1) / 2^54 = 128 - 2^-24 -> 128 -> 127.
      [2n ** 30n, two31 - 1, 54, "none", 127],
      [-(2n ** 30n), two31 - 1, 54, "none", -128],
      // A scale of 1/2^20: 3 * 2^19 / 2^20 = 1.5 -> 2.
      [3n * 2n ** 19n, 1, 20, "none", 2],
      [-3n * 2n ** 19n, 1, 20, "none", -1],
    ];
    for (const [acc, m, s, act, expected] of table)
      assert.equal(requant(acc, m, s, act), expected, `requant(${acc}, ${m}, ${s}, ${act})`);
  });

  it("the executor's fast Number path equals the BigInt requant for accumulators within the bounds", () => {
    const prng = createPrng(7);
    for (let k = 0; k < 3000; k++) {
      const s = [0, 1, 2, 31, 52, 53, 61, 62][prng.int(8)]!;
      const accLimit = prng.next() < 0.5 ? 2 ** 31 - 129 : 2 ** prng.int(20);
      const acc = Math.floor(prng.uniform(-accLimit, accLimit));
      const bound = BigInt(Math.abs(acc) + 128);
      const rounding = s === 0 ? 0n : 1n << BigInt(s - 1);
      const mMax = (2n ** 62n - rounding - 1n) / bound;
      const cap = Number(mMax < BigInt(two31 - 1) ? mMax : BigInt(two31 - 1));
      const m = [0, 1, cap, Math.floor(prng.next() * cap)][prng.int(4)]!;
      const activation = prng.next() < 0.5 ? "relu" : "none";
      // One dense layer with W = [1] and input 0: the accumulator is the bias.
      const model: VqmModel = {
        format: "vqm/1",
        name: "one",
        input: { shape: [1, 1], scale: 1 },
        layers: [
          {
            kind: "dense",
            input: -1,
            inFeatures: 1,
            outFeatures: 1,
            weights: Int8Array.of(1),
            bias: Int32Array.of(acc),
            requant: { multiplier: Int32Array.of(m), shift: Uint8Array.of(s), activation },
          },
        ],
      };
      const { output } = executeVqm(model, { dtype: "int8", shape: [1, 1], data: Int8Array.of(0) });
      assert.equal(output.data[0], requant(BigInt(acc), m, s, activation), `acc ${acc}, m ${m}, s ${s}`);
    }
  });
});
