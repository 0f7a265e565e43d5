/**
 * Conformance of the decoder one-steps (contracts/dispute/SequenceStep.sol) with the reference
 * executor (oracle/model/vqm/sequence-executor.ts) and the TypeScript reductions
 * (oracle/dispute/sequence-reduction.ts): for seeded random transformers and prompts, sampled
 * elements of every embed, lut, centre, normalize, qk, rowmax, softmax and av layer at the first,
 * a middle and the last pass are computed on-chain from the trace and the weights blob, whole and
 * through their reductions cut at random points (TypeScript prefix states fed to the Solidity
 * range step, the last state finished on-chain and in TypeScript), and must equal the reference
 * trace. Also: isqrt/roundDiv against the TypeScript primitives, fault-injected edge cases
 * (softmax S = 0, rows at −128, normalize with c = 0 and huge Σc²), reverts, and the gas of the
 * largest step of each kind.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { hexlify } from "ethers";
import type { SequenceStepHarness } from "../../types/ethers-contracts/index.ts";
import { toLittleEndianBytes } from "../../oracle/model/tensor.ts";
import type { Tensor } from "../../oracle/model/tensor.ts";
import { createPrng } from "../../oracle/model/train/prng.ts";
import type { Prng } from "../../oracle/model/train/prng.ts";
import { weightsBlob, weightsLayout } from "../../oracle/model/vqm/commitments.ts";
import type { SequenceLayerLayout } from "../../oracle/model/vqm/commitments.ts";
import { randomPrompt, randomTransformer } from "../../oracle/model/vqm/random-transformer.ts";
import type { RandomTransformerParameters } from "../../oracle/model/vqm/random-transformer.ts";
import { isqrt, roundDiv } from "../../oracle/model/vqm/reference-executor.ts";
import { generateVqm } from "../../oracle/model/vqm/sequence-executor.ts";
import type { VqmModel } from "../../oracle/model/vqm/vqm-model.ts";
import {
  embedElement,
  finishSequenceElement,
  isSequenceReduction,
  lutElement,
  SEQUENCE_STEP_LIMITS,
  sequencePrefixStates,
} from "../../oracle/dispute/sequence-reduction.ts";
import type { PassTraces, SequenceReductionLayer } from "../../oracle/dispute/sequence-reduction.ts";
import { prompt, tinyDecoder } from "../model/sequence-fixture.ts";

const { ethers } = await network.create();

const none = 0;
const relu = 1;
const hexOf = (tensor: Tensor): string => hexlify(toLittleEndianBytes(tensor.data));
const hexBytes = (bytes: Uint8Array | Int8Array): string =>
  hexlify(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
const numbers = (values: readonly bigint[]): number[] => values.map(Number);
const valuesOf = (tensor: Tensor): number[] => Array.from(tensor.data as ArrayLike<number>);

type Range = { element: number; from: number; to: number; sumFrom: bigint };

/** Up to `count` distinct indices below `n`, with the first, the last and `extra`. */
function sample(n: number, count: number, prng: Prng, extra: number[] = []): number[] {
  const picked = new Set([0, n - 1, ...extra.filter((k) => k >= 0 && k < n)]);
  while (picked.size < Math.min(n, count)) picked.add(prng.int(n));
  return [...picked].sort((a, b) => a - b);
}

/** Cut points `0 = c_0 < … < c_k = n` at random, every piece at most `limit` (one empty range sometimes). */
function cuts(n: number, limit: number, prng: Prng): number[] {
  const points = new Set([0, n]);
  const pieces = 1 + prng.int(Math.min(n, 5) + 1);
  for (let k = 1; k < pieces; k++) points.add(prng.int(n + 1));
  for (let at = limit; at < n; at += limit) points.add(at);
  const sorted = [...points].sort((a, b) => a - b);
  if (prng.next() < 0.3) sorted.splice(1, 0, sorted[0]!); // an empty range [0, 0)
  return sorted;
}

/** The ranges of element `element`'s reduction between consecutive cuts, from the TypeScript states. */
function rangesOf(element: number, states: readonly bigint[], limit: number, prng: Prng): Range[] {
  const points = cuts(states.length - 1, limit, prng);
  return points.slice(1).map((to, k) => ({ element, from: points[k]!, to, sumFrom: states[points[k]!]! }));
}

type Generation = { model: VqmModel; passes: Tensor[][]; tokens: number[] };

function tracesAt(generation: Generation, t: number): PassTraces {
  return {
    t,
    context: generation.model.sequence!.contextLength,
    output: (ref, u) => generation.passes[u]![ref]!,
  };
}

/** Checks sampled elements of layer `index` at pass `t` on-chain; returns how many were checked. */
async function checkLayer(harness: SequenceStepHarness, generation: Generation, index: number, t: number, prng: Prng) {
  const { model, passes, tokens } = generation;
  const layer = model.layers[index]!;
  const blob = weightsBlob(model);
  const entry = weightsLayout(model).sequenceByLayer[index];
  const expected = valuesOf(passes[t]![index]!);
  const context = model.sequence!.contextLength;
  const where = `${model.name}: pass ${t}, layer ${index} (${layer.kind})`;
  const traces = tracesAt(generation, t);
  const now = (ref: number) => passes[t]![ref]!;
  const offsetOf = (layout: SequenceLayerLayout | undefined): number => {
    if (layout === undefined) throw new Error(`${where}: no weights layout`);
    if (layout.kind === "normalize") return layout.gamma.offset;
    return "multiplier" in layout ? layout.multiplier.offset : layout.table.offset;
  };
  // Attention rows: masked (u > t) and unmasked elements, and the last row.
  const rows = layer.kind === "qk" ? layer.heads : layer.kind === "softmax" ? now(layer.rowmax).data.length : 0;
  const extra = rows > 0 ? [t, t + 1, rows * context - 1 - prng.int(context)] : [];
  const picked = sample(expected.length, 10, prng, extra);
  const want = picked.map((k) => expected[k]!);

  if (layer.kind === "embed") {
    const row = layer.source === "token" ? tokens[t]! : t;
    const got = await harness.embedElements(hexBytes(blob), offsetOf(entry), layer.rows, layer.width, row, picked);
    expect(got.map(Number), where).to.deep.equal(want);
    expect(
      picked.map((i) => embedElement(layer, row, i)),
      where,
    ).to.deep.equal(want);
    return picked.length;
  }
  if (layer.kind === "lut") {
    const x = now(layer.input);
    const got = await harness.lutElements(hexBytes(blob), offsetOf(entry), hexOf(x), picked);
    expect(got.map(Number), where).to.deep.equal(want);
    expect(
      picked.map((i) => lutElement(layer, valuesOf(x)[i]!)),
      where,
    ).to.deep.equal(want);
    return picked.length;
  }
  if (!isSequenceReduction(layer)) return 0;

  // The reduction: TypeScript states, each range stepped on-chain, the last state finished twice.
  const limit = SEQUENCE_STEP_LIMITS[layer.kind];
  const states = picked.map((k) => sequencePrefixStates(layer, traces, k));
  const finals = states.map((s) => s[s.length - 1]!);
  expect(
    picked.map((k, n) => finishSequenceElement(layer, traces, k, finals[n]!)),
    `${where}: TypeScript finish`,
  ).to.deep.equal(want);
  const ranges = picked.flatMap((k, n) => rangesOf(k, states[n]!, limit, prng));
  const wantStates = ranges.map((r) => states[picked.indexOf(r.element)]![r.to]!);
  const attention = (l: SequenceReductionLayer & { heads: number; headDim: number }) => ({
    heads: l.heads,
    headDim: l.headDim,
    context,
  });
  const act = (l: SequenceReductionLayer) => (l.kind === "normalize" && l.requant.activation === "relu" ? relu : none);
  let whole: bigint[];
  let stepped: bigint[];
  let finished: bigint[];
  switch (layer.kind) {
    case "centre": {
      const x = hexOf(now(layer.input));
      whole = await harness.centreElements(x, picked);
      stepped = await harness.centreRanges(x, ranges);
      finished = await Promise.all(picked.map((k, n) => harness.centreFinishes(x, [k], finals[n]!))).then((r) =>
        r.map((v) => v[0]!),
      );
      break;
    }
    case "normalize": {
      const c = hexOf(now(layer.input));
      const b = hexBytes(blob);
      const at = offsetOf(entry);
      whole =
        now(layer.input).data.length <= limit ? await harness.normalizeElements(c, b, at, act(layer), picked) : [];
      stepped = await harness.normalizeRanges(c, ranges);
      finished = await harness.normalizeFinishes(c, b, at, act(layer), picked, finals[0]!);
      break;
    }
    case "qk": {
      const keys = hexlify(Buffer.concat(passes.slice(0, t + 1).map((p) => toLittleEndianBytes(p[layer.key]!.data))));
      const pass = { g: attention(layer), t, x: hexOf(now(layer.query)), y: keys };
      whole = await harness.qkElements(pass, hexBytes(blob), offsetOf(entry), picked);
      stepped = await harness.qkRanges(pass, ranges);
      finished = await harness.qkFinishes(pass.g, t, hexBytes(blob), offsetOf(entry), picked, finals);
      break;
    }
    case "rowmax": {
      const x = hexOf(now(layer.input));
      whole = await harness.rowmaxElements(x, context, picked);
      stepped = await harness.rowmaxRanges(x, context, ranges);
      finished = await Promise.all(finals.map((s) => harness.rowmaxFinish(s)));
      break;
    }
    case "softmax": {
      const maxima = now(layer.rowmax);
      const pass = {
        g: { heads: maxima.data.length, headDim: 1, context },
        t,
        x: hexOf(now(layer.input)),
        y: hexOf(maxima),
      };
      whole = await harness.softmaxElements(pass, hexBytes(blob), offsetOf(entry), picked);
      stepped = await harness.softmaxRanges(pass, hexBytes(blob), offsetOf(entry), ranges);
      finished = await harness.softmaxFinishes(pass, hexBytes(blob), offsetOf(entry), picked, finals);
      break;
    }
    case "av": {
      const values = hexlify(
        Buffer.concat(passes.slice(0, t + 1).map((p) => toLittleEndianBytes(p[layer.value]!.data))),
      );
      const pass = { g: attention(layer), t, x: hexOf(now(layer.probs)), y: values };
      if (t + 1 <= limit) whole = await harness.avElements(pass, hexBytes(blob), offsetOf(entry), picked);
      else {
        await expect(harness.avElements(pass, hexBytes(blob), offsetOf(entry), picked))
          .to.be.revertedWithCustomError(harness, "SequenceRangeTooLong")
          .withArgs(t + 1, limit);
        whole = [];
      }
      stepped = await harness.avRanges(pass, ranges);
      finished = await harness.avFinishes(t, hexBytes(blob), offsetOf(entry), finals);
      break;
    }
  }
  if (layer.kind === "normalize") {
    // normalizeFinishes takes one sum: every element of a row shares it.
    expect(new Set(finals).size, where).to.equal(1);
  }
  if (whole.length > 0) expect(numbers(whole), `${where}: whole`).to.deep.equal(want);
  expect(stepped, `${where}: ranges`).to.deep.equal(wantStates);
  expect(numbers(finished), `${where}: finish`).to.deep.equal(want);
  return picked.length;
}

const models: RandomTransformerParameters[] = [
  {
    seed: 1,
    layers: 1,
    width: 16,
    heads: 2,
    headDim: 8,
    context: 12,
    vocab: 20,
    mlpWidth: 32,
    promptLength: 5,
    newTokens: 8,
  },
  {
    seed: 2,
    layers: 2,
    width: 24,
    heads: 3,
    headDim: 8,
    context: 24,
    vocab: 30,
    mlpWidth: 48,
    promptLength: 8,
    newTokens: 17,
  },
  {
    seed: 3,
    layers: 1,
    width: 48,
    heads: 4,
    headDim: 12,
    context: 20,
    vocab: 16,
    mlpWidth: 96,
    promptLength: 4,
    newTokens: 12,
  },
];

describe("SequenceStep (decoder one-steps) vs the reference executor", () => {
  let harness: SequenceStepHarness;

  before(async () => {
    harness = (await ethers.deployContract("SequenceStepHarness")) as unknown as SequenceStepHarness;
  });

  it("step limits: the TypeScript mirror equals the contract's constants", async () => {
    const limits = numbers(await harness.limits());
    const { centre, normalize, qk, rowmax, softmax, av } = SEQUENCE_STEP_LIMITS;
    expect(limits).to.deep.equal([centre, normalize, qk, rowmax, softmax, av]);
  });

  for (const parameters of models) {
    it(`random transformer ${parameters.seed}: every new kind at the first, a middle and the last pass, whole and by ranges`, async () => {
      const prng = createPrng(100 + parameters.seed);
      const model = randomTransformer(parameters);
      const { passes, tokens } = generateVqm(model, randomPrompt(model, prng));
      const generation = { model, passes, tokens };
      const last = passes.length - 1;
      const kinds = new Map<string, number>();
      for (const t of [...new Set([0, Math.floor(last / 2), last])])
        for (const [index, layer] of model.layers.entries()) {
          const checked = await checkLayer(harness, generation, index, t, prng);
          if (checked > 0) kinds.set(layer.kind, (kinds.get(layer.kind) ?? 0) + checked);
        }
      expect([...kinds.keys()].sort()).to.deep.equal(
        ["av", "centre", "embed", "lut", "normalize", "qk", "rowmax", "softmax"].sort(),
      );
    });
  }

  it("isqrt: OpenZeppelin's sqrt is the exact floor near perfect squares, up to 2^256 − 1", async () => {
    const prng = createPrng(5);
    const values: bigint[] = [0n, 1n, 2n, 3n, 4n, 5n, 8n, 9n, 10n, 2n ** 256n - 1n, 2n ** 255n, 2n ** 62n - 1n];
    for (let k = 0; k < 60; k++) {
      const bits = BigInt(1 + prng.int(128));
      const root = (BigInt(Math.floor(prng.next() * 2 ** 52)) << (bits > 52n ? bits - 52n : 0n)) % 2n ** bits || 1n;
      for (const n of [root * root - 1n, root * root, root * root + 1n, (root + 1n) * (root + 1n) - 1n])
        if (n >= 0n && n < 2n ** 256n) values.push(n);
    }
    const roots = await harness.isqrts(values);
    expect(roots).to.deep.equal(values.map(isqrt));
  });

  it("roundDiv: ties toward +∞ for either sign, as the TypeScript primitive", async () => {
    const prng = createPrng(6);
    const cases: [bigint, bigint][] = [
      [5n, 2n],
      [-5n, 2n],
      [-6n, 4n],
      [0n, 7n],
      [2n ** 47n, 3n],
      [-(2n ** 47n), 2n ** 39n - 1n],
    ];
    for (let k = 0; k < 30; k++)
      cases.push([BigInt(prng.int(2 ** 31)) * (prng.next() < 0.5 ? -1n : 1n), BigInt(1 + prng.int(1000))]);
    for (const [a, b] of cases) expect(await harness.roundDiv(a, b), `roundDiv(${a}, ${b})`).to.equal(roundDiv(a, b));
    await expect(harness.roundDiv(1n, 0n)).to.be.revertedWithCustomError(harness, "SequenceStateOutOfRange");
  });

  describe("edge cases (fault-injected tiny decoder: D = 2, one head, C = 4)", () => {
    const model = tinyDecoder();
    const blob = weightsBlob(model);
    const layout = weightsLayout(model);
    const input = prompt(1, 2);
    /** The passes of a generation with layer `index`'s output at every pass replaced by `data`. */
    const inject = (index: number, data: (t: number) => Tensor["data"]) =>
      generateVqm(model, input, {
        onLayer: (t, i, output) => (i === index ? { ...output, data: data(t) } : output),
      }).passes;

    it("normalize: rows of c = 0 and huge Σc² (int32 extremes) agree with the reference", async () => {
      const rows = [
        [0, 0],
        [2 ** 31 - 1, -(2 ** 31)],
        [-(2 ** 31), -(2 ** 31)],
        [1, -1],
        [2 ** 23, -(2 ** 23)],
      ];
      const entry = layout.sequenceByLayer[4]!;
      if (entry.kind !== "normalize") throw new Error("layer 4 is a normalize");
      for (const row of rows) {
        const passes = inject(3, () => Int32Array.from(row));
        const t = passes.length - 1;
        const traces: PassTraces = { t, context: 4, output: (ref, u) => passes[u]![ref]! };
        const layer = model.layers[4] as SequenceReductionLayer;
        const want = valuesOf(passes[t]![4]!);
        const states = sequencePrefixStates(layer, traces, 0);
        const c = hexOf(passes[t]![3]!);
        const whole = await harness.normalizeElements(c, hexBytes(blob), entry.gamma.offset, none, [0, 1]);
        const finished = await harness.normalizeFinishes(
          c,
          hexBytes(blob),
          entry.gamma.offset,
          none,
          [0, 1],
          states[2]!,
        );
        expect(numbers(whole), `c = ${row}`).to.deep.equal(want);
        expect(numbers(finished), `c = ${row}`).to.deep.equal(want);
        expect([0, 1].map((i) => finishSequenceElement(layer, traces, i, states[2]!))).to.deep.equal(want);
      }
    });

    it("softmax: a row at −128 and a wrong rowmax whose row sums to S = 0 agree with the reference", async () => {
      const entry = layout.sequenceByLayer[7]!;
      if (entry.kind !== "softmax") throw new Error("layer 7 is a softmax");
      const cases: [string, Tensor["data"] | undefined, Tensor["data"] | undefined][] = [
        ["scores all −128", new Int8Array(4).fill(-128), undefined],
        ["rowmax 127 over low scores: S = 0", Int8Array.of(-100, -90, -128, -128), Int8Array.of(127)],
        ["rowmax below the scores: clamped index", Int8Array.of(50, 60, 70, 80), Int8Array.of(-128)],
      ];
      for (const [name, scores, maxima] of cases) {
        const passes = generateVqm(model, input, {
          onLayer: (_t, i, output) =>
            i === 5 && scores ? { ...output, data: scores } : i === 6 && maxima ? { ...output, data: maxima } : output,
        }).passes;
        for (let t = 0; t < passes.length; t++) {
          const traces: PassTraces = { t, context: 4, output: (ref, u) => passes[u]![ref]! };
          const layer = model.layers[7] as SequenceReductionLayer;
          const want = valuesOf(passes[t]![7]!);
          const elements = [0, 1, 2, 3];
          const finals = elements.map((k) => sequencePrefixStates(layer, traces, k).at(-1)!);
          const pass = {
            g: { heads: 1, headDim: 1, context: 4 },
            t,
            x: hexOf(passes[t]![5]!),
            y: hexOf(passes[t]![6]!),
          };
          const whole = await harness.softmaxElements(pass, hexBytes(blob), entry.table.offset, elements);
          const finished = await harness.softmaxFinishes(pass, hexBytes(blob), entry.table.offset, elements, finals);
          expect(numbers(whole), `${name}, pass ${t}`).to.deep.equal(want);
          expect(numbers(finished), `${name}, pass ${t}`).to.deep.equal(want);
          expect(elements.map((k, n) => finishSequenceElement(layer, traces, k, finals[n]!))).to.deep.equal(want);
          if (name.includes("S = 0")) expect(finals[0]).to.equal(0n);
        }
      }
    });

    it("reverts: masked reads, ranges beyond the terms or too long, malformed states and parameters", async () => {
      const { passes } = generateVqm(model, input);
      const t = 1;
      const x = hexOf(passes[t]![2]!);
      const keys = hexlify(Buffer.concat(passes.slice(0, t + 1).map((p) => toLittleEndianBytes(p[2]!.data))));
      const pass = { g: { heads: 1, headDim: 2, context: 4 }, t, x, y: keys };
      // qk element u = 3 > t: no terms, so any non-empty range is out of bounds.
      await expect(harness.qkRanges(pass, [{ element: 3, from: 0, to: 1, sumFrom: 0n }]))
        .to.be.revertedWithCustomError(harness, "SequenceRangeOutOfBounds")
        .withArgs(0, 1, 0);
      await expect(harness.qkRanges(pass, [{ element: 0, from: 1, to: 3, sumFrom: 0n }]))
        .to.be.revertedWithCustomError(harness, "SequenceRangeOutOfBounds")
        .withArgs(1, 3, 2);
      await expect(harness.qkRanges(pass, [{ element: 4, from: 0, to: 0, sumFrom: 0n }]))
        .to.be.revertedWithCustomError(harness, "SequenceElementOutOfRange")
        .withArgs(4, 4);
      await expect(harness.qkRanges(pass, [{ element: 0, from: 0, to: 1, sumFrom: 2n ** 15n + 1n }]))
        .to.be.revertedWithCustomError(harness, "SequenceStateOutOfRange")
        .withArgs(2n ** 15n + 1n);
      await expect(
        harness.qkRanges({ ...pass, t: 4 }, [{ element: 0, from: 0, to: 0, sumFrom: 0n }]),
      ).to.be.revertedWithCustomError(harness, "SequenceInvalidShape");
      await expect(harness.centreRanges("0x" + "01".repeat(9000), [{ element: 0, from: 0, to: 8193, sumFrom: 0n }]))
        .to.be.revertedWithCustomError(harness, "SequenceRangeTooLong")
        .withArgs(8193, 8192);
      await expect(harness.centreFinishes("0x0102", [0], 257n))
        .to.be.revertedWithCustomError(harness, "SequenceStateOutOfRange")
        .withArgs(257n);
      await expect(harness.rowmaxFinish(256n)).to.be.revertedWithCustomError(harness, "SequenceStateOutOfRange");
      await expect(harness.rowmaxFinish(-1n)).to.be.revertedWithCustomError(harness, "SequenceStateOutOfRange");
      // A softmax sum below the element's own term cannot include it.
      const softmax = layout.sequenceByLayer[7]!;
      const scores = { g: { heads: 1, headDim: 1, context: 4 }, t, x: hexOf(passes[t]![5]!), y: hexOf(passes[t]![6]!) };
      await expect(
        harness.softmaxFinishes(scores, hexBytes(blob), softmax.range.offset, [0], [1n]),
      ).to.be.revertedWithCustomError(harness, "SequenceStateOutOfRange");
      // embed row beyond the table, lut/params reads beyond the blob, epsilon 0.
      const embed = layout.sequenceByLayer[0]!;
      await expect(harness.embedElements(hexBytes(blob), embed.range.offset, 3, 2, 3, [0]))
        .to.be.revertedWithCustomError(harness, "SequenceRowOutOfRange")
        .withArgs(3, 3);
      await expect(harness.embedElements(hexBytes(blob), embed.range.offset, 3, 2, 0, [2]))
        .to.be.revertedWithCustomError(harness, "SequenceElementOutOfRange")
        .withArgs(2, 2);
      const normalize = layout.sequenceByLayer[4]!;
      if (normalize.kind !== "normalize") throw new Error("layer 4 is a normalize");
      const zeroEpsilon = blob.slice();
      zeroEpsilon.fill(0, normalize.epsilon.offset, normalize.epsilon.offset + 8);
      await expect(
        harness.normalizeElements(hexOf(passes[t]![3]!), hexBytes(zeroEpsilon), normalize.gamma.offset, none, [0]),
      )
        .to.be.revertedWithCustomError(harness, "SequenceInvalidEpsilon")
        .withArgs(0);
      await expect(
        harness.normalizeElements(hexOf(passes[t]![3]!), "0x00", 0, none, [0]),
      ).to.be.revertedWithCustomError(harness, "OneStepSliceOutOfRange");
      // av: gathered values of the wrong count are refused by the library (the harness gathers right).
      await expect(harness.avFinishes(t, hexBytes(blob), layout.sequenceByLayer[8]!.range.offset, [2n ** 15n + 1n]))
        .to.be.revertedWithCustomError(harness, "SequenceStateOutOfRange")
        .withArgs(2n ** 15n + 1n);
    });
  });

  it("gas: the largest step of each kind (printed; every one far below the 5M step ceiling)", async () => {
    const prng = createPrng(9);
    const int8s = (n: number) => Int8Array.from({ length: n }, () => prng.int(256) - 128);
    const lines: string[] = [];
    /** Execution gas of one range `[from, from + n)`, less that of the empty range `[from, from)`. */
    const measure = async (name: string, call: (to: number) => Promise<{ data: string }>, from: number, n: number) => {
      const gasOf = async (to: number) => harness.gasOf((await call(to)).data);
      const [full, empty] = [await gasOf(from + n), await gasOf(from)];
      lines.push(`${name}: ${full} gas executed (${full - empty} for the range, the rest decoding and copying)`);
      expect(full).to.be.lessThan(5_000_000n);
    };
    const range = (from: number, to: number) => [{ element: 0, from, to, sumFrom: 0n }];
    const { centre, normalize, qk, rowmax, softmax, av } = SEQUENCE_STEP_LIMITS;
    const row = hexBytes(int8s(centre));
    await measure(
      `centre range of ${centre}`,
      (to) => harness.centreRanges.populateTransaction(row, range(0, to)),
      0,
      centre,
    );
    const c = hexlify(toLittleEndianBytes(Int32Array.from({ length: normalize }, () => prng.int(2 ** 24) - 2 ** 23)));
    await measure(
      `normalize range of ${normalize}`,
      (to) => harness.normalizeRanges.populateTransaction(c, range(0, to)),
      0,
      normalize,
    );
    const qkPass = { g: { heads: 1, headDim: qk, context: 4 }, t: 0, x: hexBytes(int8s(qk)), y: hexBytes(int8s(qk)) };
    await measure(`qk range of ${qk}`, (to) => harness.qkRanges.populateTransaction(qkPass, range(0, to)), 0, qk);
    const scores = hexBytes(int8s(rowmax));
    await measure(
      `rowmax range of ${rowmax}`,
      (to) => harness.rowmaxRanges.populateTransaction(scores, rowmax, range(0, to)),
      0,
      rowmax,
    );
    const table = new Uint8Array(1024);
    const view = new DataView(table.buffer);
    for (let k = 0; k < 256; k++) view.setUint32(4 * k, Math.round(65536 * Math.exp((k - 255) / 20)), true);
    const softmaxPass = {
      g: { heads: 1, headDim: 1, context: softmax },
      t: softmax - 1,
      x: hexBytes(int8s(softmax)),
      y: "0x7f",
    };
    await measure(
      `softmax range of ${softmax}`,
      (to) => harness.softmaxRanges.populateTransaction(softmaxPass, hexBytes(table), 0, range(0, to)),
      0,
      softmax,
    );
    const avPass = {
      g: { heads: 1, headDim: 64, context: 64 },
      t: 63,
      x: hexBytes(int8s(64)),
      y: hexBytes(int8s(4096)),
    };
    await measure(`av range of ${av}`, (to) => harness.avRanges.populateTransaction(avPass, range(7, to)), 7, av);
    console.log(`      ${lines.join("\n      ")}`);
  });
});
