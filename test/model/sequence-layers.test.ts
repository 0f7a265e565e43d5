import assert from "node:assert/strict";
import type { Tensor } from "../../oracle/model/tensor.ts";
import { executePass } from "../../oracle/model/vqm/sequence-executor.ts";
import type { VqmModel } from "../../oracle/model/vqm/vqm-model.ts";
import { tinyDecoder, tinyLayers, values } from "./sequence-fixture.ts";

/** Passes 0 … tokens.length − 1 of `model`, each reading the earlier ones. */
function run(model: VqmModel, tokens: number[]): Tensor[][] {
  const passes: Tensor[][] = [];
  tokens.forEach((token, t) => passes.push(executePass(model, passes, t, token)));
  return passes;
}

describe("Sequence layers (tiny decoder, by hand)", () => {
  // x = token row + position row: pass 0 (token 0) [11, 22], pass 1 (token 1) [-27, 9],
  // pass 2 (token 2) [12, 13], pass 3 (token 2, position row [0, 0]) [7, 7].
  const passes = run(tinyDecoder(), [0, 1, 2, 2]);
  const at = (t: number, layer: number) => values(passes[t]![layer]!);

  it("embed reads the token's and the position's rows; add sums them", () => {
    assert.deepEqual(at(0, 0), [10, 20]);
    assert.deepEqual(at(1, 0), [-30, 5]);
    assert.deepEqual(at(1, 1), [3, 4]);
    assert.deepEqual(at(0, 2), [11, 22]);
    assert.deepEqual(at(1, 2), [-27, 9]);
    assert.deepEqual(at(3, 2), [7, 7]);
  });

  it("centre is D·x − Σx, int32", () => {
    assert.equal(passes[0]![3]!.dtype, "int32");
    assert.deepEqual(at(0, 3), [2 * 11 - 33, 2 * 22 - 33]); // [-11, 11]
    assert.deepEqual(at(1, 3), [2 * -27 + 18, 2 * 9 + 18]); // [-36, 36]
  });

  it("normalize: r = isqrt(Σc² + ε), z = roundDiv(c·2^16, r), then gamma, beta and requant", () => {
    // Pass 0: Σc² + ε = 242 + 5 = 247, r = 15; z = roundDiv(∓720896, 15) = ∓48060 (48059.73 rounds up).
    // y0 = roundShift(1·-48060, 10) = floor(-47548 / 1024) = -47;
    // y1 = roundShift(-2·48060 + 1000, 10) = floor(-94608 / 1024) = -93.
    assert.deepEqual(at(0, 4), [-47, -93]);
    // Pass 1: Σc² + ε = 2592 + 5 = 2597, r = 50 (50² = 2500 <= 2597 < 2601);
    // z = roundDiv(∓36·65536, 50) = ∓47185.92 → ∓47186;
    // y0 = floor((-47186 + 512) / 1024) = -46; y1 = floor((-94372 + 1000 + 512) / 1024) = -91.
    assert.deepEqual(at(1, 4), [-46, -91]);
  });

  it("centre/normalize of a constant row: c = 0, r = isqrt(ε), the output is beta requantised", () => {
    assert.deepEqual(at(3, 3), [0, 0]);
    // z = 0: y = [roundShift(0, 10), roundShift(1000, 10)] = [0, floor(1512 / 1024)] = [0, 1].
    assert.deepEqual(at(3, 4), [0, 1]);
  });

  it("qk scores the keys of passes 0 … t and masks u > t with -128", () => {
    // Pass 0: 11·11 + 22·22 = 605, roundShift(605, 4) = floor(613 / 16) = 38.
    assert.deepEqual(at(0, 5), [38, -128, -128, -128]);
    // Pass 1: q = [-27, 9]; K_0: -297 + 198 = -99 → floor(-91 / 16) = -6; K_1: 729 + 81 = 810 → 51.
    assert.deepEqual(at(1, 5), [-6, 51, -128, -128]);
    assert.equal(passes[1]![5]!.shape.join(), "1,1,4");
  });

  it("rowmax is each row's maximum (masked entries never win)", () => {
    assert.deepEqual(at(0, 6), [38]);
    assert.deepEqual(at(1, 6), [51]);
  });

  it("softmax: e[u] = exp[x[u] − M + 255] for u <= t, y = roundDiv(127·e, Σe), 0 beyond t", () => {
    assert.deepEqual(at(0, 7), [127, 0, 0, 0]);
    // Pass 1: e = [exp[198], exp[255]] = [65536 − 1024·57, 65536] = [7168, 65536], S = 72704;
    // y = [roundDiv(910336, 72704), roundDiv(8323072, 72704)] = [12.52 → 13, 114.48 → 114].
    assert.deepEqual(at(1, 7), [13, 114, 0, 0]);
  });

  it("softmax of an all-equal row splits 127 evenly, ties rounding up", () => {
    const layers = tinyLayers();
    layers[5] = { kind: "qk", query: 2, key: 2, heads: 1, headDim: 2, multiplier: 0, shift: 0 };
    const equal = run(tinyDecoder(layers), [0, 1, 2]);
    assert.deepEqual(values(equal[0]![7]!), [127, 0, 0, 0]);
    assert.deepEqual(values(equal[1]![7]!), [64, 64, 0, 0]); // 63.5 → 64
    assert.deepEqual(values(equal[2]![7]!), [42, 42, 42, 0]); // 42.33 → 42
  });

  it("av weighs the values of passes 0 … t", () => {
    // Pass 0: 127·[11, 22] = [1397, 2794] → roundShift(·, 7) = [floor(1461/128), floor(2858/128)] = [11, 22].
    assert.deepEqual(at(0, 8), [11, 22]);
    // Pass 1: [13·11 + 114·-27, 13·22 + 114·9] = [-2935, 1312] → [floor(-2871/128), floor(1376/128)] = [-23, 10].
    assert.deepEqual(at(1, 8), [-23, 10]);
  });

  it("lut maps each element through its table; dense and argmax give the next token", () => {
    assert.deepEqual(at(0, 9), [5, 11]); // floor(x / 2)
    assert.deepEqual(at(1, 9), [-12, 5]);
    assert.deepEqual(at(0, 10), [5, 11, -16]);
    assert.deepEqual(at(1, 10), [-12, 5, 7]);
    assert.deepEqual(at(0, 11), [1]);
    assert.deepEqual(at(1, 11), [2]);
  });

  it("executePass refuses a pass beyond the context, a token outside the vocabulary, missing earlier passes", () => {
    const model = tinyDecoder();
    assert.throws(() => executePass(model, passes, 4, 0), /Pass 4 is outside the context/);
    assert.throws(() => executePass(model, [], 0, 3), /Token 3 is outside the vocabulary/);
    assert.throws(() => executePass(model, [], 2, 0), /reads the traces of passes 0 … 1, got 0/);
  });
});
