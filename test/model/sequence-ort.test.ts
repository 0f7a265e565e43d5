/**
 * Decoders in onnxruntime: the emitted one-pass graph, run by `generateVqmOrt` with its KV
 * caches, against the reference `generateVqm`: identical generated tokens and identical outputs
 * of every layer at every pass. Random transformers of several shapes, hand-built edge cases
 * (saturated attention rows, the whole context used, a huge layer-norm epsilon), and the exact
 * arithmetic of the graph (isqrt, roundDiv) on chosen values.
 */
import assert from "node:assert/strict";
import * as ort from "onnxruntime-node";
import { encodeTensor } from "../../oracle/model/tensor-codec.ts";
import type { Tensor } from "../../oracle/model/tensor.ts";
import { createPrng } from "../../oracle/model/train/prng.ts";
import { emitArithmeticOnnx } from "../../oracle/model/vqm/emit-onnx.ts";
import { generateVqmOrt, openVqmOrt } from "../../oracle/model/vqm/ort-executor.ts";
import { randomPrompt, randomTransformer } from "../../oracle/model/vqm/random-transformer.ts";
import type { RandomTransformerParameters } from "../../oracle/model/vqm/random-transformer.ts";
import { isqrt, roundDiv } from "../../oracle/model/vqm/reference-executor.ts";
import { generateVqm } from "../../oracle/model/vqm/sequence-executor.ts";
import type { VqmModel } from "../../oracle/model/vqm/vqm-model.ts";
import type { TinyDecoderShape } from "./sequence-ort-fixture.ts";
import { tinyDecoder } from "./sequence-ort-fixture.ts";

function prompt(ids: number[], promptLength: number): Tensor {
  const data = new Int32Array(promptLength).fill(-1);
  data.set(ids.slice(0, promptLength));
  return { dtype: "int32", shape: [1, promptLength], data };
}

/** Generates with both engines; returns the reference's passes for further checks. */
async function conform(model: VqmModel, inputs: Tensor[]): Promise<Tensor[][][]> {
  const vqm = await openVqmOrt({ model, trace: true });
  // Without trace, and on one thread: integer graphs give the same bits on any thread count.
  const plain = await openVqmOrt({ model, threads: 1 });
  const all: Tensor[][][] = [];
  try {
    for (const [k, input] of inputs.entries()) {
      const reference = generateVqm(model, input);
      const fast = await generateVqmOrt(vqm, input);
      const where = `${model.name}, prompt ${k}`;
      assert.deepEqual(fast.tokens, reference.tokens, `${where}: tokens`);
      assert.deepEqual(encodeTensor(fast.output), encodeTensor(reference.output), `${where}: output`);
      assert.equal(fast.passes.length, reference.passes.length, `${where}: passes`);
      reference.passes.forEach((trace, t) =>
        trace.forEach((tensor, i) =>
          assert.deepEqual(
            encodeTensor(fast.passes[t]![i]!),
            encodeTensor(tensor),
            `${where}: pass ${t}, layer ${i} (${model.layers[i]!.kind})`,
          ),
        ),
      );
      // Without trace outputs the graph still returns the caches' rows: same tokens.
      const untraced = await generateVqmOrt(plain, input);
      assert.deepEqual(untraced.tokens, reference.tokens, `${where}: tokens without trace`);
      assert.deepEqual(untraced.passes, []);
      all.push(reference.passes);
    }
  } finally {
    await vqm.release();
    await plain.release();
  }
  return all;
}

const tiny: TinyDecoderShape = {
  contextLength: 8,
  vocabSize: 11,
  width: 8,
  heads: 2,
  headDim: 4,
  blocks: 1,
  promptLength: 4,
  newTokens: 5,
};

describe("decoders in onnxruntime: generateVqmOrt = generateVqm, every pass and layer", () => {
  const shapes: Omit<RandomTransformerParameters, "seed">[] = [
    { layers: 1, width: 8, heads: 1, headDim: 8, context: 6, vocab: 7, mlpWidth: 16, promptLength: 3, newTokens: 4 },
    { layers: 2, width: 16, heads: 2, headDim: 8, context: 12, vocab: 20, mlpWidth: 32, promptLength: 5, newTokens: 6 },
    { layers: 2, width: 24, heads: 3, headDim: 4, context: 16, vocab: 33, mlpWidth: 48, promptLength: 8, newTokens: 9 },
    {
      layers: 3,
      width: 32,
      heads: 4,
      headDim: 8,
      context: 20,
      vocab: 50,
      mlpWidth: 64,
      promptLength: 4,
      newTokens: 12,
    },
  ];
  for (const [k, shape] of shapes.entries())
    it(`random transformer ${k}: ${shape.layers} blocks, D ${shape.width}, ${shape.heads}×${shape.headDim} heads, C ${shape.context}`, async () => {
      for (const seed of [1, 2, 3]) {
        const model = randomTransformer({ seed: 100 * k + seed, ...shape });
        const prng = createPrng(seed);
        await conform(model, [randomPrompt(model, prng), randomPrompt(model, prng), prompt([], shape.promptLength)]);
      }
    });

  it("hand-built decoders: out-of-vocabulary and empty prompts", async () => {
    for (const seed of [1, 2, 3])
      await conform(tinyDecoder(seed, tiny), [prompt([3, 1, 4], 4), prompt([], 4), prompt([10, 99, 2, 7], 4)]);
  });

  it("the whole context: passes t = 0 … C − 1, the last one reading C − 1 cached rows", async () => {
    const model = tinyDecoder(7, { ...tiny, contextLength: 6, promptLength: 3, newTokens: 4 });
    const [passes] = await conform(model, [prompt([1, 2, 3], 3)]);
    assert.equal(passes!.length, 6);
  });

  it("attention rows whose maximum is −128 (and 127): uniform probabilities, ties rounded up", async () => {
    for (const saturatedScores of ["low", "high"] as const) {
      const model = tinyDecoder(3, { ...tiny, saturatedScores });
      const [passes] = await conform(model, [prompt([5, 6, 7, 8], 4)]);
      const softmax = model.layers.findIndex((layer) => layer.kind === "softmax");
      const rowmax = model.layers.findIndex((layer) => layer.kind === "rowmax");
      passes!.forEach((trace, t) => {
        assert.ok((trace[rowmax]!.data as Int8Array).every((v) => v === (saturatedScores === "low" ? -128 : 127)));
        // roundDiv(127·2^16, (t + 1)·2^16) = ⌊(254 + t + 1) / (2(t + 1))⌋: t = 1 is the tie 63.5 → 64.
        const expected = Math.floor((254 + t + 1) / (2 * (t + 1)));
        const row = Array.from((trace[softmax]!.data as Int8Array).slice(0, tiny.contextLength));
        assert.deepEqual(row, [
          ...Array<number>(t + 1).fill(expected),
          ...Array<number>(tiny.contextLength - t - 1).fill(0),
        ]);
      });
    }
  });

  it("a softmax whose row maximum is masked and whose sum S is 0: zeros, no division by zero", async () => {
    const model = tinyDecoder(6, { ...tiny, maskedMaximum: true });
    const [passes] = await conform(model, [prompt([5, 6, 7, 8], 4)]);
    const softmax = model.layers.findIndex((layer) => layer.kind === "softmax");
    const zeroRows = passes!.filter((trace) => (trace[softmax]!.data as Int8Array).every((v) => v === 0));
    assert.ok(zeroRows.length > 0);
  });

  it("a layer norm whose Σc² + ε is above 2^61 (isqrt of large sums end to end)", async () => {
    await conform(tinyDecoder(4, { ...tiny, epsilon: 2n ** 61n + 12_345n, embedMagnitude: 127 }), [prompt([1, 9], 4)]);
    await conform(tinyDecoder(5, { ...tiny, epsilon: 2n ** 62n - 1n, embedMagnitude: 127 }), [prompt([2], 4)]);
  });
});

describe("the decoder graph's exact arithmetic in onnxruntime", () => {
  async function run(n: bigint[], a: bigint[], b: bigint[]): Promise<{ root: bigint[]; quotient: bigint[] }> {
    const session = await ort.InferenceSession.create(emitArithmeticOnnx());
    try {
      const tensor = (values: bigint[]) => new ort.Tensor("int64", BigInt64Array.from(values), [values.length]);
      const result = await session.run({ n: tensor(n), a: tensor(a), b: tensor(b) });
      return {
        root: Array.from(result.isqrt!.data as BigInt64Array),
        quotient: Array.from(result.round_div!.data as BigInt64Array),
      };
    } finally {
      await session.release();
    }
  }

  it("isqrt is ⌊√n⌋ near perfect squares, near 2^53 (where doubles stop being exact) and up to 2^62 + 2^61", async () => {
    const roots = [
      1n,
      2n,
      3n,
      1000n,
      2n ** 16n - 1n,
      2n ** 26n,
      94_906_265n,
      94_906_267n,
      2n ** 28n + 3n,
      2n ** 31n,
      3_037_000_499n / 2n,
    ];
    for (const top of [2n ** 53n, 2n ** 56n, 2n ** 60n, 2n ** 62n, 2n ** 62n + 2n ** 61n])
      roots.push(isqrt(top), isqrt(top) - 1n);
    const n = [1n, 2n, 3n, 4n, 2n ** 53n + 1n, 2n ** 56n - 1n, 2n ** 62n + 2n ** 61n - 1n];
    for (const k of roots) for (let delta = -2n; delta <= 2n; delta++) if (k * k + delta >= 1n) n.push(k * k + delta);
    const prng = createPrng(11);
    for (let i = 0; i < 2000; i++)
      n.push(1n + (BigInt(prng.int(2 ** 31)) << BigInt(prng.int(32))) + BigInt(prng.int(2 ** 30)));
    // The float64 estimate alone is wrong for some of these: the integer corrections are exercised.
    const estimateWrong = n.filter((value) => BigInt(Math.floor(Math.sqrt(Number(value)))) !== isqrt(value));
    assert.ok(estimateWrong.length > 0);
    const { root } = await run(
      n,
      n.map(() => 0n),
      n.map(() => 1n),
    );
    n.forEach((value, i) => {
      const r = root[i]!;
      assert.ok(r * r <= value && (r + 1n) * (r + 1n) > value, `isqrt(${value}) = ${r}`);
      assert.equal(r, isqrt(value));
    });
  });

  it("roundDiv rounds to nearest with ties toward +∞, for negative numerators and exact multiples", async () => {
    const a: bigint[] = [];
    const b: bigint[] = [];
    for (const [x, y] of [
      [5n, 2n],
      [-5n, 2n],
      [-3n, 2n],
      [-6n, 4n],
      [-1n, 2n],
      [1n, 2n],
      [-6n, 3n],
      [6n, 3n],
      [0n, 7n],
      [-7n, 1n],
      [-(2n ** 39n), 3n],
      [2n ** 39n, 2n ** 31n],
      [-(2n ** 39n), 2n ** 31n + 1n],
      [-(2n ** 39n) - 1n, 2n ** 32n],
    ] as const) {
      a.push(x);
      b.push(y);
    }
    const prng = createPrng(12);
    for (let i = 0; i < 2000; i++) {
      const divisor = BigInt(1 + prng.int(i % 2 ? 2 ** 31 : 50));
      // Ties: a = (2q + 1)·b / 2 for even b; otherwise any a with |a| ≤ 2^16·b.
      const q = BigInt(prng.int(2 ** 17) - 2 ** 16);
      a.push(
        i % 3 === 0 && divisor % 2n === 0n
          ? ((2n * q + 1n) * divisor) / 2n
          : q * divisor + BigInt(prng.int(Number(divisor))),
      );
      b.push(divisor);
    }
    const { quotient } = await run(
      a.map(() => 1n),
      a,
      b,
    );
    a.forEach((x, i) => assert.equal(quotient[i], roundDiv(x, b[i]!), `roundDiv(${x}, ${b[i]})`));
    assert.deepEqual(quotient.slice(0, 9), [3n, -2n, -1n, -1n, 0n, 1n, -2n, 2n, 0n]);
  });
});
