import assert from "node:assert/strict";
import { createPrng } from "../../oracle/model/train/prng.ts";
import { isqrt, roundDiv, roundDivNumber } from "../../oracle/model/vqm/reference-executor.ts";

describe("Sequence primitives", () => {
  it("isqrt is the exact floor square root, at the edges and around perfect squares", () => {
    const table: [bigint, bigint][] = [
      [0n, 0n],
      [1n, 1n],
      [2n, 1n],
      [3n, 1n],
      [4n, 2n],
      [8n, 2n],
      [9n, 3n],
      // The largest Σc² + ε the spec allows below 2^62, and 2^62 itself.
      [2n ** 62n - 1n, 2n ** 31n - 1n],
      [2n ** 62n, 2n ** 31n],
      // ⌊√(2^63 − 1)⌋, past what a double's sqrt rounds exactly.
      [2n ** 63n - 1n, 3037000499n],
    ];
    for (const k of [2n, 15n, 65535n, 2n ** 31n - 1n, 3037000499n, 10n ** 20n]) {
      table.push([k * k - 1n, k - 1n], [k * k, k], [k * k + 1n, k]);
    }
    for (const [n, root] of table) assert.equal(isqrt(n), root, `isqrt(${n})`);
    assert.throws(() => isqrt(-1n), RangeError);
  });

  it("roundDiv rounds to nearest with ties toward +infinity, also for negatives", () => {
    const table: [bigint, bigint, bigint][] = [
      [5n, 2n, 3n], // 2.5 → 3
      [-5n, 2n, -2n], // -2.5 → -2
      [7n, 2n, 4n], // 3.5 → 4
      [-7n, 2n, -3n], // -3.5 → -3
      [1n, 3n, 0n], // 0.33 → 0
      [2n, 3n, 1n], // 0.67 → 1
      [-1n, 3n, 0n], // -0.33 → 0
      [-2n, 3n, -1n], // -0.67 → -1
      [0n, 5n, 0n],
      [6n, 3n, 2n], // exact
      [-6n, 3n, -2n],
      [127n * 65536n, 2n * 65536n, 64n], // softmax of a two-entry equal row: 63.5 → 64
      [-(2n ** 39n), 15n, -36650387593n], // -36650387592.53 → -36650387593
    ];
    for (const [a, b, q] of table) assert.equal(roundDiv(a, b), q, `roundDiv(${a}, ${b})`);
    assert.throws(() => roundDiv(1n, 0n), RangeError);
    assert.throws(() => roundDiv(1n, -2n), RangeError);
  });

  it("roundDivNumber agrees with roundDiv wherever the executor uses it", () => {
    const prng = createPrng(11);
    for (let k = 0; k < 5000; k++) {
      const b = 1 + prng.int(k % 2 === 0 ? 2 ** 32 : 40);
      // Near multiples of b (ties and off-by-one floors) as well as anywhere in ±2^39.
      const a =
        k % 3 === 0
          ? (prng.int(64) - 32) * b + [-1, 0, 1, Math.floor(b / 2)][prng.int(4)]!
          : prng.int(2 ** 40) - 2 ** 39;
      assert.equal(BigInt(roundDivNumber(a, b)), roundDiv(BigInt(a), BigInt(b)), `roundDiv(${a}, ${b})`);
    }
  });
});
