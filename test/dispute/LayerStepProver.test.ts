/**
 * LayerStepProver against the reference executor: for seeded random networks (every layer kind)
 * and hand-built image models whose conv2d and maxpool2d receptive fields span several chunks of
 * the previous layer, sampled elements of every layer are recomputed on-chain (eth_call) from the
 * chunk proofs that oracle/dispute/moves.ts builds, and must equal the trace's bytes. Dense and
 * conv2d elements are also checked through the partial-sum entry points: finishSum of the whole
 * prefix sum and partialSum of a random range no longer than sumLayout's maxRange, including a
 * conv2d layer whose fan-in (1152) exceeds one whole-element step.
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
import type { Conv2dLayer, VqmModel } from "../../oracle/model/vqm/vqm-model.ts";
import { encodeLayerSpec, LayerKind, layerSpecs } from "../../oracle/dispute/layout.ts";
import {
  elementBytes,
  prefixSums,
  stepProof,
  stepSource,
  sumLayout,
  sumParamsProof,
  sumStepProof,
} from "../../oracle/dispute/moves.ts";

const { ethers } = await network.create();

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

/** Image models whose windows cross chunk boundaries, and one conv2d with fan-in 128·3·3. */
function imageModels(): { model: VqmModel; input: Tensor }[] {
  const prng = createPrng(99);
  const image = (shape: number[]): Tensor => ({
    dtype: "int8",
    shape,
    data: Int8Array.from({ length: shape.reduce((n, d) => n * d, 1) }, () => prng.int(256) - 128),
  });
  const wide: VqmModel = {
    format: "vqm/1",
    name: "wide-image",
    input: { shape: [1, 4, 30, 30], scale: 0.05 },
    layers: [
      conv(prng, -1, 4, 2, 3, 1),
      { kind: "maxpool2d", input: 0, kernel: [3, 3], stride: [2, 2] },
      { kind: "relu", input: 1 },
    ],
    outputScale: 0.1,
  };
  const deep: VqmModel = {
    format: "vqm/1",
    name: "deep-channels",
    input: { shape: [1, 128, 8, 8], scale: 0.05 },
    layers: [conv(prng, -1, 128, 3, 3, 1)],
    outputScale: 0.1,
  };
  for (const model of [wide, deep]) validateVqm(model);
  return [
    { model: wide, input: image([1, 4, 30, 30]) },
    { model: deep, input: image([1, 128, 8, 8]) },
  ];
}

function sample(n: number, prng: Prng, count = samplesPerLayer): number[] {
  if (n <= count) return Array.from({ length: n }, (_, k) => k);
  const picked = new Set([0, n - 1]);
  while (picked.size < count) picked.add(prng.int(n));
  return [...picked];
}

const whole = (kind: number, fanIn: number) =>
  kind === LayerKind.conv2d ? fanIn <= 1024 : kind === LayerKind.dense ? fanIn <= 16384 : true;

/** Checks sampled elements of every layer of `model` on `input`; returns what was checked. */
async function checkModel(prover: LayerStepProver, model: VqmModel, input: Tensor, prng: Prng, samples?: number) {
  const trace = executeVqm(model, input).trace;
  const specs = layerSpecs(model);
  const blob = weightsBlob(model);
  const weights = stepSource(blob);
  const wRoot = merkleRoot(blob);
  const bytesOf = (ref: number) => (ref === -1 ? elementBytes(input) : elementBytes(trace[ref]!));
  const counts = { steps: 0, sums: 0, kinds: new Set<number>() };
  for (const [layer, spec] of specs.entries()) {
    const a = stepSource(bytesOf(spec.inputA));
    const b = spec.kind === LayerKind.add ? stepSource(bytesOf(spec.inputB)) : undefined;
    const [rootA, rootB] = [merkleRoot(a.bytes), b ? merkleRoot(b.bytes) : ethers.ZeroHash];
    const out = elementBytes(trace[layer]!);
    const encoded = encodeLayerSpec(spec);
    const weighted = spec.kind === LayerKind.dense || spec.kind === LayerKind.conv2d;
    for (const e of sample(spec.outElements, prng, samples)) {
      const expected = hexlify(out.subarray(e * spec.elementSize, (e + 1) * spec.elementSize));
      const label = `${model.name} layer ${layer} (kind ${spec.kind}) element ${e}`;
      const fanIn = weighted ? sumLayout(spec).fanIn : 0;
      if (whole(spec.kind, fanIn)) {
        const proof = stepProof(spec, e, weights, a, b);
        expect(await prover.computeElement(encoded, rootA, rootB, wRoot, e, proof), label).to.equal(expected);
        counts.steps++;
        counts.kinds.add(spec.kind);
      }
      if (!weighted) continue;
      const { maxRange } = sumLayout(spec);
      const onChain = await prover.sumLayout(encoded, e);
      expect([Number(onChain[0]), Number(onChain[1])], label).to.deep.equal([fanIn, maxRange]);
      const sums = prefixSums(spec, e, blob, a.bytes);
      const finished = await prover.finishSum(encoded, wRoot, e, sums[fanIn]!, sumParamsProof(spec, e, weights));
      expect(finished, `${label}: finishSum`).to.equal(expected);
      const length = 1 + prng.int(Math.min(maxRange, fanIn));
      const lo = prng.int(fanIn - length + 1);
      const range = sumStepProof(spec, e, lo, lo + length, weights, a);
      const partial = await prover.partialSum(encoded, rootA, wRoot, e, lo, lo + length, range);
      expect(Number(partial), `${label}: S[${lo}, ${lo + length})`).to.equal(sums[lo + length]! - sums[lo]!);
      counts.sums++;
    }
  }
  return counts;
}

describe("LayerStepProver: every kind against the reference executor", () => {
  it("random networks: whole-element steps and prefix-sum ranges agree with the trace", async () => {
    const prover = (await ethers.deployContract("LayerStepProver")) as unknown as LayerStepProver;
    const prng = createPrng(2024);
    const kinds = new Set<number>();
    for (let seed = 1; seed <= 40; seed++) {
      const { model, inputs } = randomVqm({ seed, inputCount: 1 });
      const counts = await checkModel(prover, model, inputs[0]!, prng);
      counts.kinds.forEach((k) => kinds.add(k));
    }
    expect([...kinds].sort()).to.deep.equal([0, 1, 2, 3, 4, 5, 6]);
  });

  it("conv2d and maxpool2d windows spanning several chunks, and a conv2d fan-in beyond one step", async () => {
    const prover = (await ethers.deployContract("LayerStepProver")) as unknown as LayerStepProver;
    const prng = createPrng(7);
    for (const { model, input } of imageModels()) {
      const counts = await checkModel(prover, model, input, prng, 48);
      expect(counts.steps + counts.sums, model.name).to.be.greaterThan(0);
    }
    const deep = layerSpecs(imageModels()[1]!.model)[0]!;
    expect(sumLayout(deep)).to.deep.equal({ fanIn: 1152, maxRange: 63 });
  });

  it("refuses a whole conv2d step beyond MAX_CONV_STEP and a range longer than maxRange", async () => {
    const prover = (await ethers.deployContract("LayerStepProver")) as unknown as LayerStepProver;
    const spec = encodeLayerSpec(layerSpecs(imageModels()[1]!.model)[0]!);
    await expect(prover.computeElement(spec, ethers.ZeroHash, ethers.ZeroHash, ethers.ZeroHash, 0, "0x"))
      .to.be.revertedWithCustomError(prover, "StepUnsupported")
      .withArgs(LayerKind.conv2d, 1152);
    const empty = ethers.AbiCoder.defaultAbiCoder().encode(
      ["tuple(uint8 source, uint32 index, bytes data, bytes32[] siblings)[]"],
      [[]],
    );
    await expect(prover.partialSum(spec, ethers.ZeroHash, ethers.ZeroHash, 0, 0, 64, empty))
      .to.be.revertedWithCustomError(prover, "StepRangeInvalid")
      .withArgs(0, 64, 1152);
  });
});
