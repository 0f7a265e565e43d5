/**
 * Conformance of the Solidity one-step executor (contracts/dispute/OneStepExecutor.sol) with the
 * reference executor: for seeded random networks, hand-built edge cases and the demo models,
 * every layer's output is computed by executeVqm, then sampled elements of each layer are
 * recomputed on-chain (one eth_call per layer, through OneStepExecutorHarness) from the previous
 * layer's output and the layer's parameters decoded from the weights blob, and must be equal.
 * Dense and conv2d dot products are checked both whole and split into prefix-sum ranges of a
 * random length (the dispute scheme). Also: the arithmetic primitives against the TypeScript
 * ones, the spec's edge cases, reverts, and the gas of one dense element.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { hexlify } from "ethers";
import type { OneStepExecutorHarness } from "../../types/ethers-contracts/index.ts";
import type { Tensor } from "../../oracle/model/tensor.ts";
import { createPrng } from "../../oracle/model/train/prng.ts";
import type { Prng } from "../../oracle/model/train/prng.ts";
import { weightsBlob, weightsLayout } from "../../oracle/model/vqm/commitments.ts";
import type { LayerWeightsLayout } from "../../oracle/model/vqm/commitments.ts";
import { layerInputs } from "../../oracle/model/vqm/layer-shapes.ts";
import { randomVqm } from "../../oracle/model/vqm/random-vqm.ts";
import { executeVqm, requant, roundShift } from "../../oracle/model/vqm/reference-executor.ts";
import { validateVqm } from "../../oracle/model/vqm/validate-vqm.ts";
import { readVqm } from "../../oracle/model/vqm/vqm-files.ts";
import type { Activation, DenseLayer, VqmLayer, VqmModel } from "../../oracle/model/vqm/vqm-model.ts";

const { ethers } = await network.create();

const randomModels = 250;
/** Elements checked per layer (all of them when the layer has fewer). */
const samplesPerLayer = 24;
const none = 0;
const relu = 1;
const act = (activation: Activation): number => (activation === "relu" ? relu : none);
const hex = (data: Int8Array | Uint8Array): string =>
  hexlify(new Uint8Array(data.buffer, data.byteOffset, data.length));
const numbers = (values: readonly bigint[]): number[] => values.map(Number);

/** Up to `count` distinct indices below `n`, always with the first and the last. */
function sample(n: number, count: number, prng: Prng): number[] {
  if (n <= count) return Array.from({ length: n }, (_, k) => k);
  const picked = new Set([0, n - 1]);
  while (picked.size < count) picked.add(prng.int(n));
  return [...picked].sort((a, b) => a - b);
}

/**
 * A prefix-sum range length: 0 (whole dot product), short, the fan-in, or random in between;
 * never more than 48 ranges per element (the eth_call has a gas cap).
 */
function stepFor(fanIn: number, prng: Prng): number {
  const mode = prng.int(4);
  const least = Math.ceil(fanIn / 48);
  return mode === 0 ? 0 : mode === 1 ? Math.max(least, 1 + prng.int(3)) : mode === 2 ? fanIn : least + prng.int(fanIn);
}

/** [o, r, c] of flat index `k` in a [1, channels, height, width] tensor. */
function position(k: number, shape: readonly number[]): [number, number, number] {
  const [height, width] = [shape[2]!, shape[3]!];
  return [Math.floor(k / (height * width)), Math.floor(k / width) % height, k % width];
}

/**
 * Runs `model` on `input` with the reference executor, then checks sampled elements of every
 * layer on-chain. Returns the number of elements checked.
 */
async function conformOnChain(harness: OneStepExecutorHarness, model: VqmModel, input: Tensor, seed: number) {
  const prng = createPrng(seed);
  const shapes = validateVqm(model);
  const { trace } = executeVqm(model, input);
  const blob = hex(weightsBlob(model));
  const layout = weightsLayout(model);
  const data = (ref: number) => (ref === -1 ? input.data : trace[ref]!.data) as Int8Array;
  const shapeOf = (ref: number): readonly number[] => (ref === -1 ? model.input.shape : shapes[ref]!);
  let checked = 0;
  for (const [index, layer] of model.layers.entries()) {
    const expected = trace[index]!.data;
    const picked = sample(expected.length, samplesPerLayer, prng);
    const actual = await elements(harness, layer, layout.byLayer[index], {
      blob,
      picked,
      prng,
      data,
      inShape: shapeOf(layerInputs(layer)[0] ?? -1),
      outShape: shapes[index]!,
    });
    const where = `${model.name}: layer ${index} (${layer.kind})`;
    expect(actual, where).to.deep.equal(picked.map((k) => expected[k]!));
    checked += picked.length;
  }
  return checked;
}

type ElementsContext = {
  blob: string;
  picked: number[];
  prng: Prng;
  data: (ref: number) => Int8Array;
  inShape: readonly number[];
  outShape: readonly number[];
};

async function elements(
  harness: OneStepExecutorHarness,
  layer: VqmLayer,
  entry: LayerWeightsLayout | undefined,
  { blob, picked, prng, data, inShape, outShape }: ElementsContext,
): Promise<number[]> {
  switch (layer.kind) {
    case "dense":
    case "conv2d": {
      if (entry === undefined || entry.kind === "add") throw new Error("weighted layer without its layout");
      const rows = { weightsOffset: entry.weights.offset, rows: entry.rows, rowLength: entry.rowLength };
      const step = stepFor(entry.rowLength, prng);
      const x = hex(data(layer.input));
      if (layer.kind === "dense")
        return numbers(await harness.denseElements(x, blob, rows, act(layer.requant.activation), step, picked));
      const geometry = {
        inChannels: layer.inChannels,
        height: inShape[2]!,
        width: inShape[3]!,
        kernelH: layer.kernel[0],
        kernelW: layer.kernel[1],
        strideH: layer.stride[0],
        strideW: layer.stride[1],
        padTop: layer.padding[0],
        padLeft: layer.padding[1],
      };
      const positions = picked.map((k) => position(k, outShape));
      return numbers(
        await harness.conv2dElements(geometry, x, blob, rows, act(layer.requant.activation), step, positions),
      );
    }
    case "relu":
      return numbers(await harness.reluElements(hex(data(layer.input)), picked));
    case "reshape":
      return numbers(await harness.reshapeElements(hex(data(layer.input)), picked));
    case "add": {
      if (entry === undefined || entry.kind !== "add") throw new Error("add layer without its layout");
      const [a, b] = layer.inputs.map((ref) => hex(data(ref)));
      return numbers(await harness.addElements(a!, b!, blob, entry.range.offset, act(layer.activation), picked));
    }
    case "maxpool2d": {
      const geometry = {
        channels: inShape[1]!,
        height: inShape[2]!,
        width: inShape[3]!,
        kernelH: layer.kernel[0],
        kernelW: layer.kernel[1],
        strideH: layer.stride[0],
        strideW: layer.stride[1],
      };
      const positions = picked.map((k) => position(k, outShape));
      return numbers(await harness.maxpool2dElements(geometry, hex(data(layer.input)), positions));
    }
    case "argmax": {
      const last = inShape[inShape.length - 1]!;
      const step = prng.int(2) === 0 ? 0 : 1 + prng.int(last);
      return numbers(await harness.argmaxRows(hex(data(layer.input)), last, step, picked));
    }
    default:
      throw new Error(`no one-step for ${layer.kind} layers yet`);
  }
}

function dense(
  input: number,
  weights: number[][],
  bias: number[],
  multiplier: number[],
  shift: number[],
  activation: Activation = "none",
): DenseLayer {
  return {
    kind: "dense",
    input,
    inFeatures: weights[0]!.length,
    outFeatures: weights.length,
    weights: Int8Array.from(weights.flat()),
    bias: Int32Array.from(bias),
    requant: { multiplier: Int32Array.from(multiplier), shift: Uint8Array.from(shift), activation },
  };
}

const vector = (name: string, features: number, layers: VqmLayer[]): VqmModel => ({
  format: "vqm/1",
  name,
  input: { shape: [1, features], scale: 1 },
  layers,
});
const int8 = (shape: number[], values: number[]): Tensor => ({ dtype: "int8", shape, data: Int8Array.from(values) });

/** Hand-built models whose inputs reach the spec's edge cases. */
const edgeCases: { model: VqmModel; inputs: Tensor[] }[] = [
  {
    // s = 0, m = 1: saturation at both ends, with and without relu.
    model: vector("saturate", 2, [
      dense(
        -1,
        [
          [127, 127],
          [-128, -128],
          [1, 0],
        ],
        [0, 0, -200],
        [1, 1, 1],
        [0, 0, 0],
      ),
      dense(
        0,
        [
          [1, 0, 0],
          [0, 1, 0],
          [0, 0, 1],
        ],
        [0, 0, 0],
        [1, 1, 1],
        [0, 0, 0],
        "relu",
      ),
    ]),
    inputs: [int8([1, 2], [127, 127]), int8([1, 2], [-128, -128]), int8([1, 2], [1, -1])],
  },
  {
    // Rounding ties: acc · m / 2^s lands on .5, positive and negative (ties toward +∞).
    model: vector("ties", 1, [
      dense(-1, [[1], [1], [1], [3], [1]], [0, 0, 0, 0, 0], [1, 1, 3, 1, 2 ** 31 - 1], [1, 2, 2, 3, 62]),
    ]),
    inputs: [-6, -5, -3, -2, -1, 1, 2, 3, 5, 6, 127, -128].map((v) => int8([1, 1], [v])),
  },
  {
    // m = 0 (everything 0), s = 62 with the largest multiplier bound 2 allows, argmax ties.
    model: vector("zero-and-max", 3, [
      dense(
        -1,
        [
          [0, 0, 0],
          [1, 1, 1],
          [127, -128, 5],
        ],
        [7, 0, -3],
        [0, 2 ** 31 - 1, 1],
        [0, 62, 62],
      ),
      { kind: "argmax", input: 0 },
    ]),
    inputs: [int8([1, 3], [0, 0, 0]), int8([1, 3], [127, 127, 127]), int8([1, 3], [-128, 127, 0])],
  },
  {
    // Residual add at the extremes of its multipliers, with relu; argmax over equal values.
    model: vector("add-extremes", 4, [
      { kind: "relu", input: -1 },
      { kind: "add", inputs: [-1, 0], multipliers: [2 ** 31 - 1, 2 ** 31 - 1], shift: 32, activation: "relu" },
      { kind: "add", inputs: [-1, 1], multipliers: [1, 0], shift: 1, activation: "none" },
      { kind: "argmax", input: 2 },
    ]),
    inputs: [int8([1, 4], [-128, 127, -1, 1]), int8([1, 4], [3, 3, 3, 3]), int8([1, 4], [-5, -3, 5, -128])],
  },
  {
    // conv2d with padding on every side and stride 2, then maxpool and a flatten.
    model: {
      format: "vqm/1",
      name: "conv-padding",
      input: { shape: [1, 2, 5, 4], scale: 1 },
      layers: [
        {
          kind: "conv2d",
          input: -1,
          inChannels: 2,
          outChannels: 2,
          kernel: [3, 2],
          stride: [2, 1],
          padding: [1, 1, 1, 1],
          weights: Int8Array.from({ length: 24 }, (_, k) => (k % 5 === 0 ? -128 : k % 3 === 0 ? 127 : k - 12)),
          bias: Int32Array.from([5, -300]),
          requant: { multiplier: Int32Array.from([1, 3]), shift: Uint8Array.from([2, 1]), activation: "none" },
        },
        { kind: "maxpool2d", input: 0, kernel: [2, 2], stride: [1, 2] },
        { kind: "reshape", input: 1, shape: [1, 8] },
      ],
    },
    inputs: [
      int8(
        [1, 2, 5, 4],
        Array.from({ length: 40 }, (_, k) => ((k * 37) % 256) - 128),
      ),
      int8([1, 2, 5, 4], new Array<number>(40).fill(-128)),
    ],
  },
];

describe("OneStepExecutor (Solidity) against the reference executor", function () {
  this.timeout(120_000);
  let harness: OneStepExecutorHarness;
  before(async () => {
    harness = (await ethers.deployContract("OneStepExecutorHarness")) as unknown as OneStepExecutorHarness;
  });

  it(`conformance: ${randomModels} seeded random networks, sampled elements of every layer`, async () => {
    let checked = 0;
    const kinds = new Set<string>();
    for (let seed = 1; seed <= randomModels; seed++) {
      const { model, inputs } = randomVqm({ seed, inputCount: 2 });
      model.layers.forEach((layer) => kinds.add(layer.kind));
      for (const [k, input] of inputs.entries()) checked += await conformOnChain(harness, model, input, seed * 7 + k);
    }
    expect([...kinds].sort()).to.deep.equal(["add", "argmax", "conv2d", "dense", "maxpool2d", "relu", "reshape"]);
    expect(checked).to.be.greaterThan(5_000);
  });

  for (const { model, inputs } of edgeCases)
    it(`conformance: edge case "${model.name}", every element`, async () => {
      for (const [k, input] of inputs.entries()) await conformOnChain(harness, model, input, k);
    });

  for (const name of ["iris", "spam"])
    it(`conformance: demo model models/${name}/vqm`, async () => {
      const { model } = await readVqm(`models/${name}/vqm`);
      const prng = createPrng(name.length);
      const count = model.input.shape.reduce((n, d) => n * d, 1);
      for (let k = 0; k < 4; k++) {
        const values = Array.from({ length: count }, () => (k === 0 ? 127 : k === 1 ? -128 : prng.int(256) - 128));
        await conformOnChain(harness, model, int8([...model.input.shape], values), k);
      }
    });

  it("roundShift and requant: equal to the TypeScript primitives on ties, extremes and random values", async () => {
    const prng = createPrng(42);
    const cases: [bigint, number][] = [
      [5n, 1],
      [-5n, 1],
      [-6n, 2],
      [-7n, 1],
      [7n, 1],
      [-1n, 1],
      [1n, 1],
      [-(2n ** 61n), 62],
      [2n ** 61n, 62],
      [-(2n ** 61n) - 1n, 62],
      [2n ** 200n, 0],
      [-(2n ** 200n), 0],
    ];
    for (let k = 0; k < 40; k++) {
      const s = prng.int(63);
      const magnitude = BigInt(Math.floor(prng.next() * 2 ** 31)) << BigInt(prng.int(32));
      const tie = (2n * magnitude + 1n) << BigInt(Math.max(0, s - 1)); // an odd multiple of 2^(s−1)
      cases.push([prng.next() < 0.5 ? -magnitude : magnitude, s], [prng.next() < 0.5 ? -tie : tie, s]);
    }
    for (const [v, s] of cases)
      expect(await harness.roundShift(v, s), `roundShift(${v}, ${s})`).to.equal(roundShift(v, s));
    expect(await harness.roundShift(5n, 1)).to.equal(3n);
    expect(await harness.roundShift(-5n, 1)).to.equal(-2n);
    expect(await harness.roundShift(-6n, 2)).to.equal(-1n);

    const m31 = 2 ** 31 - 1;
    const requants: [bigint, number, number, Activation][] = [
      [2n ** 31n - 1n, m31, 0, "none"],
      [-(2n ** 31n), m31, 0, "none"],
      [-(2n ** 31n), m31, 0, "relu"],
      [2n ** 31n - 1n, m31, 62, "none"],
      [-(2n ** 31n), m31, 62, "none"],
      [123456n, 0, 5, "none"],
      [-123456n, 0, 0, "relu"],
      [-3n, 1, 1, "none"],
      [-1n, 1, 1, "relu"],
      [255n, 1, 1, "none"],
      [-257n, 1, 1, "none"],
    ];
    for (let k = 0; k < 40; k++)
      requants.push([
        BigInt(prng.int(2 ** 31)) - 2n ** 30n,
        prng.int(2 ** 31),
        prng.int(63),
        prng.next() < 0.5 ? "relu" : "none",
      ]);
    for (const [acc, m, s, a] of requants)
      expect(Number(await harness.requant(acc, m, s, act(a))), `requant(${acc}, ${m}, ${s}, ${a})`).to.equal(
        requant(acc, m, s, a),
      );
  });

  it("prefix sums: S_b − S_a over random ranges of a long dot product equals the TypeScript sums", async () => {
    const prng = createPrng(7);
    const n = 5000;
    const x = Int8Array.from({ length: n }, () => prng.int(256) - 128);
    const w = Int8Array.from({ length: n }, () => (prng.next() < 0.2 ? -128 : prng.int(256) - 128));
    const prefix = [0];
    for (let i = 0; i < n; i++) prefix.push(prefix[i]! + x[i]! * w[i]!);
    const from: number[] = [0, 0, n - 1, 31, 32, 33];
    const to: number[] = [n, 0, n, 64, 64, 97];
    for (let k = 0; k < 40; k++) {
      const a = prng.int(n + 1);
      const b = a + prng.int(n + 1 - a);
      from.push(a);
      to.push(b);
    }
    const sums = await harness.partialDots(hex(x), hex(w), from, to);
    expect(numbers(sums)).to.deep.equal(from.map((a, k) => prefix[to[k]!]! - prefix[a]!));
    expect(await harness.partialDot(hex(x), hex(w))).to.equal(BigInt(prefix[n]!));
  });

  it("conv2d: a range read from only the input rows it touches equals the whole-input result", async () => {
    // [1, 3, 6, 5] input, 3×3 kernel, padding 1 top/left, stride 1: fan-in 27.
    const prng = createPrng(3);
    const g = {
      inChannels: 3,
      height: 6,
      width: 5,
      kernelH: 3,
      kernelW: 3,
      strideH: 1,
      strideW: 1,
      padTop: 1,
      padLeft: 1,
    };
    const x = Int8Array.from({ length: 90 }, () => prng.int(256) - 128);
    const w = Int8Array.from({ length: 27 }, () => prng.int(256) - 128);
    const [r, c] = [2, 0];
    // Reference: the spec's formula.
    let expected = 0;
    for (let f = 9; f < 18; f++) {
      const [i, u, v] = [Math.floor(f / 9), Math.floor(f / 3) % 3, f % 3];
      const [row, col] = [r + u - 1, c + v - 1];
      if (row >= 0 && row < 6 && col >= 0 && col < 5) expected += x[(i * 6 + row) * 5 + col]! * w[f]!;
    }
    const range = hex(w.subarray(9, 18));
    expect(await harness.partialConv2d(g, hex(x), 0, range, [r, c, 9])).to.equal(BigInt(expected));
    // Channel 1, input rows 1..3: flat indices [35, 50).
    expect(await harness.partialConv2d(g, hex(x.subarray(35, 50)), 35, range, [r, c, 9])).to.equal(BigInt(expected));
    await expect(harness.partialConv2d(g, hex(x.subarray(36, 50)), 36, range, [r, c, 9]))
      .to.be.revertedWithCustomError(harness, "OneStepSliceOutOfRange")
      .withArgs(35, 2, 36, 14);
    expect(await harness.conv2dInputIndex(g, r, c, 10)).to.deep.equal([true, 35n]);
    expect(await harness.conv2dInputIndex(g, r, c, 9)).to.deep.equal([false, 0n]);
    expect(await harness.conv2dInputIndex(g, r, c, 0)).to.deep.equal([false, 0n]);
    await expect(harness.partialConv2d(g, hex(x), 0, hex(w), [r, c, 1]))
      .to.be.revertedWithCustomError(harness, "OneStepRangeOutOfBounds")
      .withArgs(1, 28, 27);
  });

  it("argmax: the first index on ties, whole row and chained steps", async () => {
    expect(await harness.argmax(hex(Int8Array.from([3, 7, 7, -1])))).to.equal(1n);
    expect(await harness.argmax(hex(Int8Array.from([-128, -128, -128])))).to.equal(0n);
    expect(await harness.argmax(hex(Int8Array.from([-128, -127, -127])))).to.equal(1n);
    const row = hex(Int8Array.from([5, 1, 9, 2, 9, 9, -3, 9]));
    for (const step of [0, 1, 2, 3, 8]) expect(await harness.argmaxRows(row, 8, step, [0])).to.deep.equal([2n]);
    await expect(harness.argmax("0x")).to.be.revertedWithCustomError(harness, "OneStepEmptyRow");
  });

  it("blob decoding: int32 little-endian across a chunk boundary, and reads outside the slice revert", async () => {
    const slice = "0x00fe" + "78563412" + "ffffff7f" + "00000080" + "ffffffff";
    expect(await harness.readInt32LE(slice, 1022, 1024)).to.equal(0x12345678n);
    expect(await harness.readInt32LE(slice, 1022, 1028)).to.equal(2n ** 31n - 1n);
    expect(await harness.readInt32LE(slice, 1022, 1032)).to.equal(-(2n ** 31n));
    expect(await harness.readInt32LE(slice, 1022, 1036)).to.equal(-1n);
    await expect(harness.readInt32LE(slice, 1022, 1037))
      .to.be.revertedWithCustomError(harness, "OneStepSliceOutOfRange")
      .withArgs(1037, 4, 1022, 18);
    await expect(harness.readInt32LE(slice, 1022, 1021))
      .to.be.revertedWithCustomError(harness, "OneStepSliceOutOfRange")
      .withArgs(1021, 4, 1022, 18);
  });

  it("reverts: parameters outside the spec's ranges, oversized accumulators and steps", async () => {
    await expect(harness.requant(1n, 2n ** 31n, 0, none))
      .to.be.revertedWithCustomError(harness, "OneStepInvalidRequant")
      .withArgs(2n ** 31n, 0);
    await expect(harness.requant(1n, -1n, 0, none))
      .to.be.revertedWithCustomError(harness, "OneStepInvalidRequant")
      .withArgs(-1n, 0);
    await expect(harness.requant(1n, 1n, 63, none))
      .to.be.revertedWithCustomError(harness, "OneStepInvalidRequant")
      .withArgs(1n, 63);
    await expect(harness.requant(2n ** 223n, 1n, 0, none))
      .to.be.revertedWithCustomError(harness, "OneStepAccumulatorOutOfRange")
      .withArgs(2n ** 223n);
    await expect(harness.finishDense(-(2n ** 223n), 0, 1, 0, none))
      .to.be.revertedWithCustomError(harness, "OneStepAccumulatorOutOfRange")
      .withArgs(-(2n ** 223n));
    await expect(harness.add(1, 1, -1, 0, 0, none))
      .to.be.revertedWithCustomError(harness, "OneStepInvalidRequant")
      .withArgs(-1, 0);
    await expect(harness.dense("0x0102", "0x01", 0, 1, 0, none))
      .to.be.revertedWithCustomError(harness, "OneStepSliceOutOfRange")
      .withArgs(0, 2, 0, 1);
    await harness.checkStep(16384, false);
    await harness.checkStep(1024, true);
    await expect(harness.checkStep(16385, false))
      .to.be.revertedWithCustomError(harness, "OneStepRangeTooLong")
      .withArgs(16385, 16384);
    await expect(harness.checkStep(1025, true))
      .to.be.revertedWithCustomError(harness, "OneStepRangeTooLong")
      .withArgs(1025, 1024);
  });

  it("gas: one dense element stays linear in the fan-in and a MAX_STEP range fits a step", async () => {
    const prng = createPrng(11);
    const rows: string[] = [];
    let previous = 0n;
    for (const n of [64, 1024, 4096, 16384]) {
      const x = hex(Int8Array.from({ length: n }, () => prng.int(255) - 127 || 1));
      const w = hex(Int8Array.from({ length: n }, () => prng.int(255) - 127 || 1));
      const gas = await harness.dense.estimateGas(x, w, 1000, 2 ** 30, 40, none);
      const dot = await harness.partialDot.estimateGas(x, w);
      rows.push(`fan-in ${n}: dense element ${gas} gas (tx), partialDot ${dot} gas (tx)`);
      expect(gas).to.be.greaterThan(previous);
      previous = gas;
      // A whole MAX_STEP range, calldata included, well under the 5M ceiling of one step.
      expect(gas).to.be.lessThan(2_000_000n);
    }
    if (process.env.VERITY_GAS_REPORT) console.log(rows.join("\n"));
  });
});
