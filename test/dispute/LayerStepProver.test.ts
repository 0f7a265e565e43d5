/**
 * LayerStepProver against the reference executor and oracle/dispute/moves.ts: for seeded random
 * networks (every layer kind) and hand-built models whose conv2d and maxpool2d windows span
 * several chunks, rows far apart or more than one step, sampled elements of every layer are
 * recomputed on-chain (eth_call) from the chunk proofs moves.ts builds and must equal the trace's
 * bytes. Elements of the four kinds with a reduction (dense, conv2d, argmax, maxpool2d) are also
 * checked through the reduction entry points: sumLayout as moves.ts mirrors it, finishSum of the
 * final prefix state, and stepSum over every range a bisection can end on (and a random one),
 * from the TS state S_lo to the TS state S_hi. The prover's limits are compared with the TS copy.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { hexlify } from "ethers";
import type { LayerStepProver } from "../../types/ethers-contracts/index.ts";
import type { Tensor } from "../../oracle/model/tensor.ts";
import { createPrng } from "../../oracle/model/train/prng.ts";
import type { Prng } from "../../oracle/model/train/prng.ts";
import { merkleRoot, weightsBlob } from "../../oracle/model/vqm/commitments.ts";
import { randomVqm } from "../../oracle/model/vqm/random-vqm.ts";
import { executeVqm } from "../../oracle/model/vqm/reference-executor.ts";
import { validateVqm } from "../../oracle/model/vqm/validate-vqm.ts";
import { seededDense } from "../../oracle/model/vqm/seeded-dense.ts";
import type { Conv2dLayer, VqmModel } from "../../oracle/model/vqm/vqm-model.ts";
import { encodeLayerSpec, LayerKind, layerSpecs, type LayerSpec } from "../../oracle/dispute/layout.ts";
import {
  EMPTY_PROOF,
  elementBytes,
  finishState,
  hasReduction,
  needsReduction,
  prefixStates,
  stepChunks,
  stepProof,
  stepSource,
  sumLayout,
  sumMidpoint,
  sumParamsProof,
  sumStepProof,
} from "../../oracle/dispute/moves.ts";
import * as limits from "../../oracle/dispute/step-limits.ts";
import { collector, encodeProofs } from "../../oracle/dispute/chunk-proofs.ts";
import { featureMapLayers } from "./attack-helpers.ts";

const { ethers } = await network.create();
const prover = (await ethers.deployContract("LayerStepProver")) as unknown as LayerStepProver;

const samplesPerLayer = 4;

function conv(prng: Prng, input: number, ic: number, oc: number, k: number, pad: number): Conv2dLayer {
  return {
    kind: "conv2d",
    input,
    inChannels: ic,
    outChannels: oc,
    kernel: [k, k],
    stride: [1, 1],
    padding: [pad, pad, pad, pad],
    weights: Int8Array.from({ length: oc * ic * k * k }, () => prng.int(255) - 127),
    bias: Int32Array.from({ length: oc }, () => prng.int(2001) - 1000),
    requant: {
      multiplier: Int32Array.from({ length: oc }, () => 2 ** 18 + prng.int(2 ** 18)),
      shift: new Uint8Array(oc).fill(26),
      activation: "none",
    },
  };
}

function image(prng: Prng, shape: number[]): Tensor {
  const count = shape.reduce((n, d) => n * d, 1);
  return { dtype: "int8", shape, data: Int8Array.from({ length: count }, () => prng.int(256) - 128) };
}

function model(name: string, shape: number[], layers: VqmModel["layers"]): VqmModel {
  const last = layers[layers.length - 1]!;
  const m: VqmModel = {
    format: "vqm/1",
    name,
    input: { shape, scale: 0.05 },
    layers,
    ...(last.kind === "argmax" ? {} : { outputScale: 0.1 }),
  };
  validateVqm(m);
  return m;
}

/** Image models whose windows cross chunk boundaries, and one conv2d with fan-in 128·3·3. */
function imageModels(): { model: VqmModel; input: Tensor }[] {
  const prng = createPrng(99);
  const wide = model(
    "wide-image",
    [1, 4, 30, 30],
    [
      conv(prng, -1, 4, 2, 3, 1),
      { kind: "maxpool2d", input: 0, kernel: [3, 3], stride: [2, 2] },
      { kind: "relu", input: 1 },
    ],
  );
  const deep = model("deep-channels", [1, 128, 8, 8], [conv(prng, -1, 128, 3, 3, 1)]);
  return [
    { model: wide, input: image(prng, [1, 4, 30, 30]) },
    { model: deep, input: image(prng, [1, 128, 8, 8]) },
  ];
}

/**
 * Models past one whole-element step, each reading an internal layer (the chain bounds the model
 * input, MAX_INPUT_BYTES, not internal layers: a dense layer from a small input, reshaped, makes
 * the feature map): argmax rows of 20000 (one random, one all −128, one whose maximum 127
 * first appears late and repeats), a 208×208 global maxpool (fan-in 43264), a 48×48 pool whose
 * 48 window rows lie in 48 chunks (StepTooManyChunks) and a 2×2 pool over rows 50000 bytes apart
 * (a whole step only when each window row is read on its own).
 */
function reductionModels(): { model: VqmModel; input: Tensor; label: string }[] {
  const prng = createPrng(5);
  const rows = image(prng, [1, 3, 20000]).data as Int8Array;
  rows.fill(-128, 20000, 40000);
  for (let k = 40000; k < 57000; k++) rows[k] = Math.min(rows[k]!, 126);
  for (const at of [57000, 57001, 59999]) rows[at] = 127;
  return [
    {
      // The rows need exact values (a row all −128, a late repeated maximum): the dense layer's
      // weights are 0 and its bias is the rows.
      label: "argmax 3×20000",
      model: model(
        "argmax-rows",
        [1, 16],
        [...featureMapLayers({ shape: [1, 3, 20000], values: (i) => rows[i]! }), { kind: "argmax", input: 1 }],
      ),
      input: image(prng, [1, 16]),
    },
    {
      label: "maxpool 208×208 global",
      model: model(
        "global-pool",
        [1, 16],
        [
          ...featureMapLayers({ shape: [1, 1, 208, 208], seed: 208 }),
          { kind: "maxpool2d", input: 1, kernel: [208, 208], stride: [1, 1] },
        ],
      ),
      input: image(prng, [1, 16]),
    },
    {
      label: "maxpool 48×48 over 48 chunks",
      model: model(
        "tall-pool",
        [1, 16],
        [
          ...featureMapLayers({ shape: [1, 1, 48, 1024], seed: 48 }),
          { kind: "maxpool2d", input: 1, kernel: [48, 48], stride: [48, 48] },
        ],
      ),
      input: image(prng, [1, 16]),
    },
    {
      // The input is bounded (MAX_INPUT_BYTES); a dense layer widens it to rows 50000 apart.
      label: "maxpool 2×2 on rows 50000 apart",
      model: model(
        "wide-rows",
        [1, 8],
        [
          seededDense(prng, { input: -1, inFeatures: 8, outFeatures: 100000, multiplier: 2 ** 20, shift: 16 }),
          { kind: "reshape", input: 0, shape: [1, 1, 2, 50000] },
          { kind: "maxpool2d", input: 1, kernel: [2, 2], stride: [2, 2] },
          // Down to an output within MAX_OUTPUT_BYTES, rows 5000 apart.
          { kind: "reshape", input: 2, shape: [1, 1, 5, 5000] },
          { kind: "maxpool2d", input: 3, kernel: [5, 10], stride: [5, 10] },
        ],
      ),
      input: image(prng, [1, 8]),
    },
  ];
}

/** The layer of each `reductionModels()` model with the long reduction or the far-apart rows. */
const reducedLayer = [2, 2, 2, 2];

function sample(n: number, prng: Prng, count = samplesPerLayer): number[] {
  if (n <= count) return Array.from({ length: n }, (_, k) => k);
  const picked = new Set([0, n - 1]);
  while (picked.size < count) picked.add(prng.int(n));
  return [...picked];
}

/** Every range `[lo, hi)` a game's bisection of `[0, n)` can end on (DisputeGame's midpoints). */
function bisectionLeaves(n: number, maxRange: number): [number, number][] {
  const leaves: [number, number][] = [];
  const walk = (lo: number, hi: number) => {
    if (hi - lo <= maxRange) leaves.push([lo, hi]);
    else {
      const mid = sumMidpoint(lo, hi);
      walk(lo, mid);
      walk(mid, hi);
    }
  };
  walk(0, n);
  return leaves;
}

type Counts = {
  steps: number;
  refused: number;
  ranges: number;
  kinds: Set<number>;
  reduced: Set<number>;
  /** Whole-element steps and refusals of each layer. */
  layers: { steps: number; refused: number }[];
};

/** Checks sampled elements of every layer of `model` on `input`; returns what was checked. */
async function checkModel(m: VqmModel, input: Tensor, prng: Prng, samples?: number): Promise<Counts> {
  const trace = executeVqm(m, input).trace;
  const specs = layerSpecs(m);
  const blob = weightsBlob(m);
  const weights = stepSource(blob);
  const wRoot = merkleRoot(blob);
  const bytesOf = (ref: number) => (ref === -1 ? elementBytes(input) : elementBytes(trace[ref]!));
  const counts: Counts = { steps: 0, refused: 0, ranges: 0, kinds: new Set(), reduced: new Set(), layers: [] };
  for (const [layer, spec] of specs.entries()) {
    const own = (counts.layers[layer] = { steps: 0, refused: 0 });
    const a = stepSource(bytesOf(spec.inputA));
    const b = spec.kind === LayerKind.add ? stepSource(bytesOf(spec.inputB)) : undefined;
    const [rootA, rootB] = [merkleRoot(a.bytes), b ? merkleRoot(b.bytes) : ethers.ZeroHash];
    const out = elementBytes(trace[layer]!);
    const encoded = encodeLayerSpec(spec);
    for (const e of sample(spec.outElements, prng, samples)) {
      const expected = hexlify(out.subarray(e * spec.elementSize, (e + 1) * spec.elementSize));
      const label = `${m.name} layer ${layer} (kind ${spec.kind}) element ${e}`;
      const chunks = () => stepChunks(spec, e, weights, a, b);
      if (!needsReduction(spec, chunks)) {
        const proof = stepProof(spec, e, weights, a, b);
        expect(await prover.computeElement(encoded, rootA, rootB, wRoot, e, proof), label).to.equal(expected);
        counts.steps++;
        own.steps++;
        counts.kinds.add(spec.kind);
      } else {
        await expectRefused(spec, encoded, [rootA, rootB, wRoot], e, () => stepProof(spec, e, weights, a, b));
        counts.refused++;
        own.refused++;
      }
      if (!hasReduction(spec.kind)) continue;
      counts.ranges += await checkReduction(spec, e, expected, { weights, a, rootA, wRoot, blob, label, prng });
      counts.reduced.add(spec.kind);
    }
  }
  return counts;
}

/** The prover refuses a whole-element step that moves.ts sends through the reduction phase. */
async function expectRefused(
  spec: LayerSpec,
  encoded: string,
  [rootA, rootB, wRoot]: string[],
  e: number,
  proof: () => string,
): Promise<void> {
  const { fanIn } = sumLayout(spec);
  const call = (p: string) => prover.computeElement(encoded, rootA!, rootB!, wRoot!, e, p);
  if (fanIn > (spec.kind === LayerKind.conv2d ? limits.MAX_CONV_STEP : limits.MAX_FAN_IN))
    await expect(call(EMPTY_PROOF)).to.be.revertedWithCustomError(prover, "StepUnsupported").withArgs(spec.kind, fanIn);
  else await expect(call(proof())).to.be.revertedWithCustomError(prover, "StepTooManyChunks");
}

type ReductionContext = {
  weights: ReturnType<typeof stepSource>;
  a: ReturnType<typeof stepSource>;
  rootA: string;
  wRoot: string;
  blob: Uint8Array;
  label: string;
  prng: Prng;
};

/** sumLayout, finishSum(S_n) and stepSum over every bisection leaf and one random range. */
async function checkReduction(spec: LayerSpec, e: number, expected: string, c: ReductionContext): Promise<number> {
  const encoded = encodeLayerSpec(spec);
  const { fanIn, maxRange } = sumLayout(spec);
  const onChain = await prover.sumLayout(encoded, e);
  expect([Number(onChain[0]), Number(onChain[1])], `${c.label}: sumLayout`).to.deep.equal([fanIn, maxRange]);
  const states = prefixStates(spec, e, c.blob, c.a.bytes);
  expect(states).to.have.length(fanIn + 1);
  expect(hexlify(finishState(spec, e, states[fanIn]!, c.blob)), `${c.label}: finishState`).to.equal(expected);
  const params = sumParamsProof(spec, e, c.weights);
  if (spec.kind === LayerKind.argmax || spec.kind === LayerKind.maxpool2d) expect(params).to.equal(EMPTY_PROOF);
  const finished = await prover.finishSum(encoded, c.wRoot, e, states[fanIn]!, params);
  expect(finished, `${c.label}: finishSum`).to.equal(expected);
  const length = 1 + c.prng.int(Math.min(maxRange, fanIn));
  const lo = c.prng.int(fanIn - length + 1);
  const ranges = [...bisectionLeaves(fanIn, maxRange), [lo, lo + length] as [number, number]];
  for (const [from, to] of ranges) {
    const proof = sumStepProof(spec, e, from, to, c.weights, c.a);
    const next = await prover.stepSum(encoded, c.rootA, c.wRoot, e, from, to, states[from]!, proof);
    expect(next, `${c.label}: S[${from} → ${to})`).to.equal(BigInt(states[to]!));
  }
  return ranges.length;
}

describe("LayerStepProver: every kind against the reference executor", () => {
  it("the TS copy of the prover's limits equals the deployed prover's", async () => {
    expect(Number(await prover.MAX_FAN_IN())).to.equal(limits.MAX_FAN_IN);
    expect(Number(await prover.MAX_CHUNKS())).to.equal(limits.MAX_CHUNKS);
    expect(Number(await prover.INPUT_CHUNKS())).to.equal(limits.INPUT_CHUNKS);
    expect(Number(await prover.MAX_MAX_STEP())).to.equal(limits.MAX_MAX_STEP);
    expect(Number(await prover.MAX_STEP_ROWS())).to.equal(limits.MAX_STEP_ROWS);
    // The executor's internal bounds, as sumLayout shows them: a dense range, a capped conv2d range.
    const spec = (kind: number, params: number[]): string =>
      encodeLayerSpec({
        kind,
        inputA: -1,
        inputB: -1,
        outElements: 1,
        elementSize: 1,
        activation: 0,
        weightsOffset: 0,
        params,
      });
    expect((await prover.sumLayout(spec(LayerKind.dense, [100000, 1]), 0))[1]).to.equal(BigInt(limits.MAX_STEP));
    const conv13 = [1, 13, 13, 1, 1, 1, 13, 13, 1, 1, 0, 0];
    expect((await prover.sumLayout(spec(LayerKind.conv2d, conv13), 0))[1]).to.equal(BigInt(limits.MAX_CONV_STEP));
    await expect(
      prover.computeElement(
        spec(LayerKind.conv2d, [7, 13, 13, 1, 1, 1, 13, 13, 1, 1, 0, 0]),
        ethers.ZeroHash,
        ethers.ZeroHash,
        ethers.ZeroHash,
        0,
        EMPTY_PROOF,
      ),
    )
      .to.be.revertedWithCustomError(prover, "StepUnsupported")
      .withArgs(LayerKind.conv2d, 7 * 169);
  });

  it("random networks: whole-element steps and reduction ranges agree with the trace", async () => {
    const prng = createPrng(2024);
    const kinds = new Set<number>();
    const reduced = new Set<number>();
    for (let seed = 1; seed <= 40; seed++) {
      const { model: m, inputs } = randomVqm({ seed, inputCount: 1 });
      const counts = await checkModel(m, inputs[0]!, prng);
      counts.kinds.forEach((k) => kinds.add(k));
      counts.reduced.forEach((k) => reduced.add(k));
    }
    expect([...kinds].sort()).to.deep.equal([0, 1, 2, 3, 4, 5, 6]);
    expect([...reduced].sort()).to.deep.equal([
      LayerKind.dense,
      LayerKind.conv2d,
      LayerKind.maxpool2d,
      LayerKind.argmax,
    ]);
  });

  it("conv2d and maxpool2d windows spanning several chunks, and a conv2d fan-in beyond one step", async () => {
    const prng = createPrng(7);
    for (const { model: m, input } of imageModels()) {
      const counts = await checkModel(m, input, prng, 48);
      expect(counts.steps + counts.ranges, m.name).to.be.greaterThan(0);
    }
    const deep = layerSpecs(imageModels()[1]!.model)[0]!;
    expect(sumLayout(deep)).to.deep.equal({ fanIn: 1152, maxRange: 63 });
  });

  it("argmax rows and maxpool2d windows beyond one step: refused whole, settled by their reduction", async () => {
    const prng = createPrng(11);
    const seen: Record<string, Counts> = {};
    for (const { model: m, input, label } of reductionModels()) seen[label] = await checkModel(m, input, prng, 6);
    // 3 rows of 20000 > MAX_FAN_IN; 43264 > MAX_FAN_IN; 48 chunks > MAX_CHUNKS: every sample of
    // the reduced layer refused whole (the dense and reshape layers before it take whole steps).
    const reduced = (label: string, i: number) => seen[label]!.layers[reducedLayer[i]!];
    expect(reduced("argmax 3×20000", 0)).to.deep.equal({ steps: 0, refused: 3 });
    expect(reduced("maxpool 208×208 global", 1)).to.deep.equal({ steps: 0, refused: 1 });
    expect(reduced("maxpool 48×48 over 48 chunks", 2)).to.deep.equal({ steps: 0, refused: 6 });
    // Rows 50000 bytes apart: each window row read on its own, a whole step of a few chunks.
    expect(reduced("maxpool 2×2 on rows 50000 apart", 3)).to.deep.equal({ steps: 6, refused: 0 });
    expect(seen["maxpool 2×2 on rows 50000 apart"]).to.include({ refused: 0 });
    const [argmax, global, tall, wide] = reductionModels().map(({ model: m }, i) =>
      sumLayout(layerSpecs(m)[reducedLayer[i]!]!),
    );
    expect(argmax).to.deep.equal({ fanIn: 20000, maxRange: 8192 });
    expect(global).to.deep.equal({ fanIn: 43264, maxRange: 7 * 208 });
    expect(tall).to.deep.equal({ fanIn: 2304, maxRange: 7 * 48 });
    expect(wide).to.deep.equal({ fanIn: 4, maxRange: 14 });
  });

  it("a maxpool2d element over rows far apart reads only its rows' chunks", async () => {
    const { model: m, input } = reductionModels()[3]!;
    const trace = executeVqm(m, input).trace;
    const spec = layerSpecs(m)[2]!;
    const a = stepSource(elementBytes(trace[1]!));
    const rootA = merkleRoot(a.bytes);
    const none = stepSource(new Uint8Array());
    // Element 512 reads bytes 1024..1025 and 51024..51025: chunks 1 and 49, and none between.
    const chunks = stepChunks(spec, 512, none, a);
    expect(chunks.map((c) => c.index)).to.deep.equal([1, 49]);
    const value = await prover.computeElement(
      encodeLayerSpec(spec),
      rootA,
      ethers.ZeroHash,
      ethers.ZeroHash,
      512,
      encodeProofs(chunks),
    );
    expect(value).to.equal(hexlify(elementBytes(trace[2]!).subarray(512, 513)));
    // Every chunk of the span from the first row to the second would be 49, beyond MAX_CHUNKS.
    const { need, proofs } = collector();
    need(1, a, 1024, 50002);
    expect(proofs).to.have.length(49);
    await expect(
      prover.computeElement(encodeLayerSpec(spec), rootA, ethers.ZeroHash, ethers.ZeroHash, 512, encodeProofs(proofs)),
    ).to.be.revertedWithCustomError(prover, "StepTooManyChunks");
  });

  it("refuses a whole conv2d step beyond MAX_CONV_STEP and a range longer than maxRange", async () => {
    const spec = encodeLayerSpec(layerSpecs(imageModels()[1]!.model)[0]!);
    await expect(prover.computeElement(spec, ethers.ZeroHash, ethers.ZeroHash, ethers.ZeroHash, 0, "0x"))
      .to.be.revertedWithCustomError(prover, "StepUnsupported")
      .withArgs(LayerKind.conv2d, 1152);
    await expect(prover.stepSum(spec, ethers.ZeroHash, ethers.ZeroHash, 0, 0, 64, 0, EMPTY_PROOF))
      .to.be.revertedWithCustomError(prover, "StepRangeInvalid")
      .withArgs(0, 64, 1152);
    const argmax = encodeLayerSpec(layerSpecs(reductionModels()[0]!.model)[reducedLayer[0]!]!);
    await expect(prover.stepSum(argmax, ethers.ZeroHash, ethers.ZeroHash, 0, 100, 100 + 8193, 0, EMPTY_PROOF))
      .to.be.revertedWithCustomError(prover, "StepRangeInvalid")
      .withArgs(100, 8293, 20000);
  });

  it("gas of a reduction step at its longest range (argmax, maxpool2d)", async () => {
    const prng = createPrng(3);
    const rows: Record<string, number | string>[] = [];
    // Ranges start mid-row and mid-chunk, so every row piece spans as many chunks as it can.
    const argmax = reductionModels()[0]!;
    // The agreed input of each case's layer: the model input, or the argmax's feature map.
    const cases: { label: string; m: VqmModel; layer: number; source: Uint8Array; element: number; lo: number }[] = [
      {
        label: "argmax row 20000",
        m: argmax.model,
        layer: reducedLayer[0]!,
        source: elementBytes(executeVqm(argmax.model, argmax.input).trace[reducedLayer[0]! - 1]!),
        element: 0,
        lo: 5000,
      },
      ...[64, 208, 1024, 2048, 8192].map((kw) => {
        // Enough rows for a longest range (the input stays within MAX_INPUT_BYTES).
        const kh = Math.min(8, Math.ceil(8192 / kw) + 1);
        const shape = [1, 1, kh, kw + 600];
        return {
          label: `maxpool ${kh}×${kw}`,
          m: model(`pool-${kw}`, shape, [{ kind: "maxpool2d", input: -1, kernel: [kh, kw], stride: [1, 1] }]),
          layer: 0,
          source: elementBytes(image(prng, shape)),
          element: 300,
          lo: Math.floor(kw / 2),
        };
      }),
    ];
    const noWeights = stepSource(new Uint8Array());
    for (const { label, m, layer, source, element, lo } of cases) {
      const spec = layerSpecs(m)[layer]!;
      const a = stepSource(source);
      const { fanIn, maxRange } = sumLayout(spec);
      const hi = Math.min(lo + maxRange, fanIn);
      const states = prefixStates(spec, element, new Uint8Array(), a.bytes);
      const proof = sumStepProof(spec, element, lo, hi, noWeights, a);
      const args = [
        encodeLayerSpec(spec),
        merkleRoot(a.bytes),
        ethers.ZeroHash,
        element,
        lo,
        hi,
        states[lo]!,
        proof,
      ] as const;
      expect(await prover.stepSum(...args), label).to.equal(BigInt(states[hi]!));
      const gas = await prover.stepSum.estimateGas(...args);
      expect(gas, label).to.be.lessThan(5_000_000n);
      const [chunks] = ethers.AbiCoder.defaultAbiCoder().decode(["tuple(uint8,uint32,bytes,bytes32[])[]"], proof);
      rows.push({ layer: label, maxRange, range: hi - lo, chunks: (chunks as unknown[]).length, gas: Number(gas) });
    }
    console.table(rows);
  });
});
