/**
 * Decoders in the dispute game, first increment: LayerSpec codes 7 … 14 from layout.ts, and
 * LayerStepProver's pass-local steps (computePassElement, passSumLayout, stepPassSum,
 * finishPassSum) against the reference executor. For seeded random transformers and a prompt,
 * the reference generates the per-pass traces; sampled elements of every lut, centre, normalize,
 * rowmax and softmax layer at the first, a middle and the last pass (masked softmax elements
 * included) are recomputed on-chain from chunk proofs (oracle/dispute/sequence-proofs.ts) against
 * the layers' trace roots (commitments.ts traceRoot) and the weights root, whole and through their
 * reductions cut into random ranges (TypeScript prefix states of sequence-reduction.ts fed to
 * stepPassSum, the last one finished by finishPassSum). Tampered chunks, roots of another pass,
 * missing chunks, kinds that read other passes and ranges beyond a step are refused. The largest
 * gas of each kind's step is printed.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { AbiCoder, getBytes, hexlify } from "ethers";
import type { LayerStepProver } from "../../types/ethers-contracts/index.ts";
import { elementCount, toLittleEndianBytes } from "../../oracle/model/tensor.ts";
import type { Tensor } from "../../oracle/model/tensor.ts";
import { createPrng } from "../../oracle/model/train/prng.ts";
import type { Prng } from "../../oracle/model/train/prng.ts";
import {
  traceRoot,
  treeRoot,
  weightsBlob,
  weightsLayout,
  weightsRoot,
  ZERO_HASH,
} from "../../oracle/model/vqm/commitments.ts";
import { randomPrompt, randomTransformer } from "../../oracle/model/vqm/random-transformer.ts";
import type { RandomTransformerParameters } from "../../oracle/model/vqm/random-transformer.ts";
import { generateVqm } from "../../oracle/model/vqm/sequence-executor.ts";
import type { VqmModel } from "../../oracle/model/vqm/vqm-model.ts";
import { encodeLayerSpec, LayerKind, layerSpecs, layoutRoot, type LayerSpec } from "../../oracle/dispute/layout.ts";
import { encodeProofs, stepSource, type ChunkProof, type StepSource } from "../../oracle/dispute/chunk-proofs.ts";
import {
  passElementProof,
  passFinishProof,
  passRangeProof,
  passSources,
  passSumLayout,
  type PassSources,
} from "../../oracle/dispute/sequence-proofs.ts";
import { sequencePrefixStates } from "../../oracle/dispute/sequence-reduction.ts";
import type { PassTraces, SequenceReductionLayer } from "../../oracle/dispute/sequence-reduction.ts";

const { ethers } = await network.create();
const prover = (await ethers.deployContract("LayerStepProver")) as unknown as LayerStepProver;

/** layoutRoot of random transformer 1 (seed 1): a change to the spec encoding or layout.ts shows here. */
const PINNED_LAYOUT_ROOT = "0x92af05fa25cd919f5b53c0a06155cbebcc4168085b5c645363f6866e8e6e223b";

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
    width: 40,
    heads: 3,
    headDim: 8,
    context: 24,
    vocab: 30,
    mlpWidth: 300,
    promptLength: 8,
    newTokens: 17,
  },
];

/** The pass-local kinds this increment steps. */
const passLocal = new Set<number>([
  LayerKind.lut,
  LayerKind.centre,
  LayerKind.normalize,
  LayerKind.rowmax,
  LayerKind.softmax,
]);
const kindName = Object.fromEntries(Object.entries(LayerKind).map(([name, code]) => [code, name])) as Record<
  number,
  string
>;

type Generation = { model: VqmModel; specs: LayerSpec[]; passes: Tensor[][]; weights: StepSource; root: string };

function generation(parameters: RandomTransformerParameters): Generation {
  const model = randomTransformer(parameters);
  const { passes } = generateVqm(model, randomPrompt(model, createPrng(100 + parameters.seed)));
  return { model, specs: layerSpecs(model), passes, weights: stepSource(weightsBlob(model)), root: weightsRoot(model) };
}

/** The agreed roots of layer `index`'s step at pass `t`: its inputs' trace roots and the weights root. */
function rootsOf(g: Generation, index: number, t: number) {
  const spec = g.specs[index]!;
  const at = (ref: number) => (ref >= 0 ? traceRoot(g.passes[t]![ref]!) : ZERO_HASH);
  return { rootA: at(spec.inputA), rootB: at(spec.inputB), weightsRoot: g.root };
}

/** Element `element`'s bytes of layer `index` at pass `t` (the reference's). */
function elementHex(g: Generation, index: number, t: number, element: number): string {
  const size = g.specs[index]!.elementSize;
  return hexlify(toLittleEndianBytes(g.passes[t]![index]!.data).slice(element * size, (element + 1) * size));
}

/** Up to `count` distinct indices below `n`, with the first, the last and `extra`. */
function sample(n: number, count: number, prng: Prng, extra: number[] = []): number[] {
  const picked = new Set([0, n - 1, ...extra.filter((k) => k >= 0 && k < n)]);
  while (picked.size < Math.min(n, count)) picked.add(prng.int(n));
  return [...picked].sort((a, b) => a - b);
}

/** Cut points `0 = c_0 ≤ … ≤ c_k = n`, every piece at most `limit`, sometimes an empty range. */
function cuts(n: number, limit: number, prng: Prng): number[] {
  const points = new Set([0, n]);
  const pieces = 1 + prng.int(Math.min(n, 4) + 1);
  for (let k = 1; k < pieces; k++) points.add(prng.int(n + 1));
  for (let at = limit; at < n; at += limit) points.add(at);
  const sorted = [...points].sort((a, b) => a - b);
  if (prng.next() < 0.3) sorted.splice(1, 0, sorted[0]!);
  return sorted;
}

const gas = new Map<string, bigint>();
function record(label: string, used: bigint): void {
  if (used > (gas.get(label) ?? 0n)) gas.set(label, used);
}

const encode = (proofs: readonly ChunkProof[]) => encodeProofs(proofs);

/** Checks sampled elements of layer `index` at pass `t`, whole and by ranges; returns how many. */
async function checkLayer(g: Generation, index: number, t: number, prng: Prng): Promise<number> {
  const spec = g.specs[index]!;
  const encoded = encodeLayerSpec(spec);
  const sources: PassSources = passSources(spec, g.passes, t, g.weights);
  const roots = rootsOf(g, index, t);
  const context = g.model.sequence!.contextLength;
  // Softmax: also a masked element (u > t) when the pass leaves one.
  const extra = spec.kind === LayerKind.softmax && t + 1 < context ? [t + 1 + prng.int(context - t - 1)] : [];
  const picked = sample(spec.outElements, 3, prng, extra);
  const traces: PassTraces = { t, context, output: (ref, u) => g.passes[u]![ref]! };
  const name = kindName[spec.kind]!;
  for (const element of picked) {
    const where = `layer ${index} (${name}) pass ${t} element ${element}`;
    const want = elementHex(g, index, t, element);
    const proof = encode(passElementProof(spec, sources, t, element));
    expect(await prover.computePassElement(encoded, t, roots, element, proof), `${where}: whole`).to.equal(want);
    record(`${name} whole element`, await prover.computePassElement.estimateGas(encoded, t, roots, element, proof));
    if (spec.kind === LayerKind.lut) continue;

    const layer = g.model.layers[index] as SequenceReductionLayer;
    const states = sequencePrefixStates(layer, traces, element);
    const { terms, maxRange } = passSumLayout(spec, t, element);
    expect(terms, `${where}: terms`).to.equal(states.length - 1);
    expect(await prover.passSumLayout(encoded, t, element), `${where}: passSumLayout`).to.deep.equal([
      BigInt(terms),
      BigInt(maxRange),
    ]);
    const points = terms === 0 ? [0] : cuts(terms, maxRange, prng);
    for (let k = 1; k < points.length; k++) {
      const [from, to] = [points[k - 1]!, points[k]!];
      const step = { t, element, from, to, sumFrom: states[from]! };
      const rangeProof = encode(passRangeProof(spec, sources, element, from, to));
      expect(await prover.stepPassSum(encoded, roots, step, rangeProof), `${where}: [${from}, ${to})`).to.equal(
        states[to]!,
      );
      record(`${name} range`, await prover.stepPassSum.estimateGas(encoded, roots, step, rangeProof));
    }
    const finishProof = encode(passFinishProof(spec, sources, t, element));
    const final = states[states.length - 1]!;
    expect(await prover.finishPassSum(encoded, roots, t, element, final, finishProof), `${where}: finish`).to.equal(
      want,
    );
    record(`${name} finish`, await prover.finishPassSum.estimateGas(encoded, roots, t, element, final, finishProof));
  }
  return picked.length;
}

describe("Decoders in the dispute game: layout specs and pass-local steps", () => {
  const generations = models.map(generation);

  it("layout: every layer of a random transformer has a spec that decodes to its geometry; the root is stable", () => {
    const specType = [
      "tuple(uint8 kind, int32 inputA, int32 inputB, uint32 outElements, uint8 elementSize, uint8 activation, uint32 weightsOffset, uint32[] params)",
    ];
    for (const [n, g] of generations.entries()) {
      const { model, passes } = g;
      const context = model.sequence!.contextLength;
      const blob = weightsLayout(model).sequenceByLayer;
      const seen = new Set<string>();
      for (const [index, layer] of model.layers.entries()) {
        const [decoded] = AbiCoder.defaultAbiCoder().decode(specType, encodeLayerSpec(g.specs[index]!));
        const spec = decoded as unknown as {
          kind: bigint;
          inputA: bigint;
          inputB: bigint;
          outElements: bigint;
          elementSize: bigint;
          activation: bigint;
          weightsOffset: bigint;
          params: bigint[];
        };
        const output = passes[0]![index]!;
        const size = output.data instanceof Int32Array ? 4 : 1;
        const where = `model ${n} layer ${index} (${layer.kind})`;
        expect(Number(spec.kind), where).to.equal(LayerKind[layer.kind]);
        expect(Number(spec.outElements), where).to.equal(elementCount(output.shape));
        expect(Number(spec.elementSize), where).to.equal(size);
        const params = spec.params.map(Number);
        const entry = blob[index];
        const offset =
          entry === undefined
            ? undefined
            : "gamma" in entry
              ? entry.gamma.offset
              : "table" in entry
                ? entry.table.offset
                : entry.multiplier.offset;
        const inputs = [Number(spec.inputA), Number(spec.inputB)];
        const lengthOf = (ref: number) => passes[0]![ref]!.data.length;
        switch (layer.kind) {
          case "embed":
            expect(params, where).to.deep.equal(
              layer.source === "token"
                ? [layer.rows, layer.width, 0, model.sequence!.bos]
                : [layer.rows, layer.width, 1],
            );
            expect(inputs, where).to.deep.equal([-1, -1]);
            break;
          case "lut":
            expect(params, where).to.deep.equal([lengthOf(layer.input)]);
            expect(inputs, where).to.deep.equal([layer.input, -1]);
            break;
          case "centre":
            expect(params, where).to.deep.equal([lengthOf(layer.input)]);
            expect(inputs, where).to.deep.equal([layer.input, -1]);
            break;
          case "normalize":
            expect(params, where).to.deep.equal([layer.gamma.length]);
            expect(inputs, where).to.deep.equal([layer.input, -1]);
            expect(Number(spec.activation), where).to.equal(layer.requant.activation === "relu" ? 1 : 0);
            break;
          case "qk":
            expect(params, where).to.deep.equal([layer.heads, layer.headDim, context]);
            expect(inputs, where).to.deep.equal([layer.query, layer.key]);
            break;
          case "rowmax":
            expect(params, where).to.deep.equal([output.data.length, lengthOf(layer.input) / output.data.length]);
            expect(params[1], where).to.equal(context);
            expect(inputs, where).to.deep.equal([layer.input, -1]);
            break;
          case "softmax":
            expect(params, where).to.deep.equal([lengthOf(layer.rowmax), context]);
            expect(inputs, where).to.deep.equal([layer.input, layer.rowmax]);
            break;
          case "av":
            expect(params, where).to.deep.equal([layer.heads, layer.headDim, context]);
            expect(inputs, where).to.deep.equal([layer.probs, layer.value]);
            break;
          default:
            break;
        }
        if (offset !== undefined) expect(Number(spec.weightsOffset), where).to.equal(offset);
        seen.add(layer.kind);
      }
      expect([...seen].sort(), `model ${n}`).to.deep.equal(
        ["add", "argmax", "av", "centre", "dense", "embed", "lut", "normalize", "qk", "rowmax", "softmax"].sort(),
      );
      // Stable: the same parameters give the same root, and another model another root.
      expect(layoutRoot(layerSpecs(randomTransformer(models[n]!))), `model ${n}`).to.equal(layoutRoot(g.specs));
    }
    expect(layoutRoot(generations[0]!.specs)).to.not.equal(layoutRoot(generations[1]!.specs));
    expect(layoutRoot(generations[0]!.specs)).to.equal(PINNED_LAYOUT_ROOT);
  });

  for (const [n, parameters] of models.entries()) {
    it(`random transformer ${parameters.seed}: lut, centre, normalize, rowmax, softmax at the first, a middle and the last pass, whole and by ranges`, async () => {
      const g = generations[n]!;
      const prng = createPrng(200 + parameters.seed);
      const last = g.passes.length - 1;
      const checked = new Map<string, number>();
      for (const t of [...new Set([0, Math.floor(last / 2), last])])
        for (const [index, spec] of g.specs.entries()) {
          if (!passLocal.has(spec.kind)) continue;
          const count = await checkLayer(g, index, t, prng);
          checked.set(kindName[spec.kind]!, (checked.get(kindName[spec.kind]!) ?? 0) + count);
        }
      expect([...checked.keys()].sort()).to.deep.equal(["centre", "lut", "normalize", "rowmax", "softmax"]);
    });
  }

  describe("refusals", () => {
    const g = generations[1]!;
    const t = Math.floor(g.passes.length / 2);
    const indexOf = (kind: number) => g.specs.findIndex((spec) => spec.kind === kind);
    const setup = (kind: number, element: number) => {
      const index = indexOf(kind);
      const spec = g.specs[index]!;
      return {
        index,
        spec,
        encoded: encodeLayerSpec(spec),
        sources: passSources(spec, g.passes, t, g.weights),
        roots: rootsOf(g, index, t),
        element,
      };
    };

    it("a tampered input chunk, a root of another pass, a missing chunk", async () => {
      const { spec, encoded, sources, roots, element } = setup(LayerKind.normalize, 3);
      const proofs = passElementProof(spec, sources, t, element);
      const input = proofs.findIndex((p) => p.source === 1);
      const tampered = proofs.map((p, k) =>
        k === input
          ? {
              ...p,
              data: hexlify(Uint8Array.from(getBytes(p.data), (b, i) => (i === 12 ? b ^ 1 : b))),
            }
          : p,
      );
      await expect(prover.computePassElement(encoded, t, roots, element, encode(tampered)))
        .to.be.revertedWithCustomError(prover, "StepChunkInvalid")
        .withArgs(1, proofs[input]!.index);
      // The centre output of another pass is another (agreed) root: this pass's chunks do not verify against it.
      const other = { ...roots, rootA: traceRoot(g.passes[t - 1]![spec.inputA]!) };
      await expect(prover.computePassElement(encoded, t, other, element, encode(proofs))).to.be.revertedWithCustomError(
        prover,
        "StepChunkInvalid",
      );
      const weightsChunk = proofs.find((p) => p.source === 0)!;
      await expect(
        prover.computePassElement(encoded, t, roots, element, encode(proofs.filter((p) => p !== weightsChunk))),
      )
        .to.be.revertedWithCustomError(prover, "StepChunkMissing")
        .withArgs(0, weightsChunk.index);
      // A softmax whose rowmax chunk is missing.
      const softmax = setup(LayerKind.softmax, 0);
      const softmaxProofs = passElementProof(softmax.spec, softmax.sources, t, 0).filter((p) => p.source !== 2);
      await expect(prover.computePassElement(softmax.encoded, t, softmax.roots, 0, encode(softmaxProofs)))
        .to.be.revertedWithCustomError(prover, "StepChunkMissing")
        .withArgs(2, 0);
    });

    it("kinds that read the token or other passes, and non-decoder kinds, are not pass-local steps", async () => {
      const roots = { rootA: ZERO_HASH, rootB: ZERO_HASH, weightsRoot: g.root };
      for (const kind of [LayerKind.embed, LayerKind.qk, LayerKind.av]) {
        const encoded = encodeLayerSpec(g.specs[indexOf(kind)]!);
        await expect(prover.computePassElement(encoded, t, roots, 0, encode([])))
          .to.be.revertedWithCustomError(prover, "StepReadsOtherPasses")
          .withArgs(kind);
        await expect(prover.passSumLayout(encoded, t, 0))
          .to.be.revertedWithCustomError(prover, "StepReadsOtherPasses")
          .withArgs(kind);
      }
      const dense = encodeLayerSpec(g.specs[indexOf(LayerKind.dense)]!);
      await expect(prover.computePassElement(dense, t, roots, 0, encode([])))
        .to.be.revertedWithCustomError(prover, "StepUnsupported")
        .withArgs(LayerKind.dense, 0);
      const lut = encodeLayerSpec(g.specs[indexOf(LayerKind.lut)]!);
      await expect(prover.passSumLayout(lut, t, 0))
        .to.be.revertedWithCustomError(prover, "StepUnsupported")
        .withArgs(LayerKind.lut, 0);
    });

    it("ranges beyond the terms or one step, rows too wide for one step, malformed final states", async () => {
      const centre = setup(LayerKind.centre, 1);
      const width = centre.spec.params[0]!;
      const empty = encode([]);
      const range = (from: number, to: number) => ({ t, element: 1, from, to, sumFrom: 0n });
      await expect(prover.stepPassSum(centre.encoded, centre.roots, range(0, width + 1), empty))
        .to.be.revertedWithCustomError(prover, "StepRangeInvalid")
        .withArgs(0, width + 1, width);
      await expect(prover.stepPassSum(centre.encoded, centre.roots, range(3, 2), empty))
        .to.be.revertedWithCustomError(prover, "StepRangeInvalid")
        .withArgs(3, 2, width);
      // A centre of 9000 elements: longer than one step (8192) as a whole and as one range.
      const wide = encodeLayerSpec({ ...centre.spec, outElements: 9000, params: [9000] });
      await expect(prover.computePassElement(wide, t, centre.roots, 0, empty))
        .to.be.revertedWithCustomError(prover, "StepUnsupported")
        .withArgs(LayerKind.centre, 9000);
      await expect(prover.stepPassSum(wide, centre.roots, range(0, 8193), empty))
        .to.be.revertedWithCustomError(prover, "StepRangeInvalid")
        .withArgs(0, 8193, 9000);
      // Softmax at pass t: a masked element has no terms; a range beyond t + 1 is refused.
      const softmax = setup(LayerKind.softmax, 0);
      const context = softmax.spec.params[1]!;
      await expect(prover.stepPassSum(softmax.encoded, softmax.roots, { ...range(0, t + 2), element: 0 }, empty))
        .to.be.revertedWithCustomError(prover, "StepRangeInvalid")
        .withArgs(0, t + 2, t + 1);
      expect(await prover.passSumLayout(softmax.encoded, t, context - 1)).to.deep.equal([0n, 4096n]);
      // A rowmax state is best + 128 ∈ [0, 255]; a centre state |S| ≤ 128·D.
      const rowmax = setup(LayerKind.rowmax, 0);
      await expect(prover.finishPassSum(rowmax.encoded, rowmax.roots, t, 0, 256n, empty)).to.be.revertedWithCustomError(
        prover,
        "SequenceStateOutOfRange",
      );
      const finish = encode(passFinishProof(centre.spec, centre.sources, t, 1));
      await expect(prover.finishPassSum(centre.encoded, centre.roots, t, 1, BigInt(128 * width + 1), finish))
        .to.be.revertedWithCustomError(prover, "SequenceStateOutOfRange")
        .withArgs(BigInt(128 * width + 1));
    });
  });

  it("gas: the longest whole-element step of each reduction kind at SequenceStep's limits (printed; far below the 5M step ceiling)", async () => {
    const prng = createPrng(9);
    const bytes = (n: number) => Uint8Array.from({ length: n }, () => prng.int(256));
    const base = { inputA: 0, inputB: -1, elementSize: 1, activation: 0, weightsOffset: 0 };
    const measure = async (label: string, spec: LayerSpec, sources: PassSources, t: number, element: number) => {
      const encoded = encodeLayerSpec(spec);
      const root = (src: StepSource | undefined) => (src === undefined ? ZERO_HASH : treeRoot(src.tree));
      const roots = { rootA: root(sources.a), rootB: root(sources.b), weightsRoot: root(sources.weights) };
      const proofs = passElementProof(spec, sources, t, element);
      const proof = encode(proofs);
      const value = await prover.computePassElement(encoded, t, roots, element, proof);
      const used = await prover.computePassElement.estimateGas(encoded, t, roots, element, proof);
      record(`${label} (${proofs.length} chunks)`, used);
      expect(used, label).to.be.lessThan(5_000_000n);
      return value;
    };
    // centre, D = 8192: c = D·x[i] − Σx.
    const row = bytes(8192);
    const centre = { ...base, kind: LayerKind.centre, outElements: 8192, elementSize: 4, params: [8192] };
    const x = Int8Array.from(row, (b) => (b >= 128 ? b - 256 : b));
    const sum = x.reduce((a, v) => a + v, 0);
    const value = await measure(
      "limit: centre of 8192",
      centre,
      { weights: stepSource(bytes(1)), a: stepSource(row) },
      0,
      77,
    );
    const c = new DataView(getBytes(value).buffer).getInt32(0, true);
    expect(c).to.equal(8192 * x[77]! - sum);
    // normalize, D = 2048: c int32 in ±2^23, parameters spread over the blob (last channel).
    const width = 2048;
    const blob = new Uint8Array(10 * width + 8);
    const view = new DataView(blob.buffer);
    for (let i = 0; i < width; i++) {
      blob[i] = prng.int(256);
      view.setInt32(width + 4 * i, prng.int(2 ** 20) - 2 ** 19, true);
      view.setInt32(5 * width + 8 + 4 * i, 2 ** 20 + prng.int(2 ** 20), true);
      blob[9 * width + 8 + i] = 40;
    }
    view.setBigUint64(5 * width, 12345n, true);
    const centred = new Uint8Array(4 * width);
    for (let i = 0; i < width; i++) new DataView(centred.buffer).setInt32(4 * i, prng.int(2 ** 24) - 2 ** 23, true);
    const normalize = { ...base, kind: LayerKind.normalize, outElements: width, params: [width] };
    await measure(
      "limit: normalize of 2048",
      normalize,
      { weights: stepSource(blob), a: stepSource(centred) },
      0,
      width - 1,
    );
    // rowmax, C = 8192 (one head).
    const rowmax = { ...base, kind: LayerKind.rowmax, outElements: 1, params: [1, 8192] };
    await measure("limit: rowmax of 8192", rowmax, { weights: stepSource(bytes(1)), a: stepSource(bytes(8192)) }, 0, 0);
    // softmax at pass t = 4095 of C = 4096: 4096 terms.
    const exp = new Uint8Array(1024);
    for (let k = 0; k < 256; k++)
      new DataView(exp.buffer).setUint32(4 * k, Math.round(65536 * Math.exp((k - 255) / 20)), true);
    const softmax = { ...base, kind: LayerKind.softmax, inputB: 1, outElements: 4096, params: [1, 4096] };
    const scores = { weights: stepSource(exp), a: stepSource(bytes(4096)), b: stepSource(Uint8Array.of(127)) };
    await measure("limit: softmax of 4096", softmax, scores, 4095, 4095);
  });

  after(() => {
    const lines = [...gas.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}: ${v} gas`);
    console.log(
      `      largest step of each kind (estimateGas; "limit:" at SequenceStep's longest ranges):\n        ${lines.join("\n        ")}`,
    );
  });
});
