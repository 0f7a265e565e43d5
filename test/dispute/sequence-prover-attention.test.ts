/**
 * Decoders in the dispute game, second increment: LayerStepProver's steps that read the pass's
 * token or other passes (computeEmbedElement; computeAttentionElement, attentionSumLayout,
 * stepAttentionSum, finishAttentionSum for qk and av) against the reference executor. For seeded
 * random transformers and a prompt, sampled qk elements (masked `u > t` and unmasked `u ≤ t`, the
 * key read at pass `u` against its own root), av elements (each value read at pass `u` against
 * its own root) and embed elements (row tok(t) or t) at the first, a middle and the last pass are
 * recomputed from chunk proofs (oracle/dispute/sequence-proofs.ts), whole and by random ranges
 * (prefix states of sequence-reduction.ts). Roots of the wrong pass, tampered chunks and av ranges
 * with a wrong number of roots are refused. The largest gas of each kind is printed.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { getBytes, hexlify } from "ethers";
import type { LayerStepProver } from "../../types/ethers-contracts/index.ts";
import { toLittleEndianBytes } from "../../oracle/model/tensor.ts";
import type { Tensor } from "../../oracle/model/tensor.ts";
import { createPrng } from "../../oracle/model/train/prng.ts";
import type { Prng } from "../../oracle/model/train/prng.ts";
import { traceRoot, treeRoot, weightsBlob, weightsRoot, ZERO_HASH } from "../../oracle/model/vqm/commitments.ts";
import { randomPrompt, randomTransformer } from "../../oracle/model/vqm/random-transformer.ts";
import type { RandomTransformerParameters } from "../../oracle/model/vqm/random-transformer.ts";
import { generateVqm } from "../../oracle/model/vqm/sequence-executor.ts";
import type { VqmModel } from "../../oracle/model/vqm/vqm-model.ts";
import { encodeLayerSpec, LayerKind, layerSpecs, type LayerSpec } from "../../oracle/dispute/layout.ts";
import { encodeProofs, stepSource, type ChunkProof, type StepSource } from "../../oracle/dispute/chunk-proofs.ts";
import {
  attentionElementProof,
  attentionFinishProof,
  attentionRangeProof,
  attentionSources,
  attentionSumLayout,
  embedElementProof,
  embedRow,
  VALUE_SOURCES,
} from "../../oracle/dispute/sequence-proofs.ts";
import { sequencePrefixStates } from "../../oracle/dispute/sequence-reduction.ts";
import type { PassTraces, SequenceReductionLayer } from "../../oracle/dispute/sequence-reduction.ts";

const { ethers } = await network.create();
const prover = (await ethers.deployContract("LayerStepProver")) as unknown as LayerStepProver;

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

type Generation = {
  model: VqmModel;
  specs: LayerSpec[];
  passes: Tensor[][];
  tokens: number[];
  weights: StepSource;
  root: string;
};

function generation(parameters: RandomTransformerParameters): Generation {
  const model = randomTransformer(parameters);
  const { passes, tokens } = generateVqm(model, randomPrompt(model, createPrng(100 + parameters.seed)));
  const weights = stepSource(weightsBlob(model));
  return { model, specs: layerSpecs(model), passes, tokens, weights, root: weightsRoot(model) };
}

const rootOf = (g: Generation, ref: number, t: number) => traceRoot(g.passes[t]![ref]!);

/** The roots of a qk/av step at pass `t` (qk: the key at pass `u`; av: the values at passes `[from, to)`). */
function attentionRoots(g: Generation, spec: LayerSpec, t: number, element: number, from = 0, to = t + 1) {
  const rootA = rootOf(g, spec.inputA, t);
  if (spec.kind === LayerKind.qk) {
    const u = element % spec.params[2]!;
    const rootB = u > t ? ZERO_HASH : rootOf(g, spec.inputB, u);
    return { roots: { rootA, rootB, weightsRoot: g.root }, valueRoots: [] as string[] };
  }
  const valueRoots = Array.from({ length: to - from }, (_, k) => rootOf(g, spec.inputB, from + k));
  return { roots: { rootA, rootB: ZERO_HASH, weightsRoot: g.root }, valueRoots };
}

function elementHex(g: Generation, index: number, t: number, element: number): string {
  return hexlify(toLittleEndianBytes(g.passes[t]![index]!.data).slice(element, element + 1));
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

/** Sampled qk elements at pass `t`: per head `u = 0`, `u = t`, a random `u ≤ t` and a masked `u > t` if any. */
function qkElements(spec: LayerSpec, t: number, prng: Prng): number[] {
  const [heads = 0, , context = 0] = spec.params;
  const picked = new Set<number>();
  for (let h = 0; h < heads; h++) {
    for (const u of [0, t, prng.int(t + 1)]) picked.add(h * context + u);
    if (t + 1 < context) picked.add(h * context + t + 1 + prng.int(context - t - 1));
  }
  return [...picked].sort((a, b) => a - b);
}

/** Sampled av elements: the first, the last and two random ones of `H · dh`. */
function avElements(spec: LayerSpec, prng: Prng): number[] {
  const n = spec.params[0]! * spec.params[1]!;
  return [...new Set([0, n - 1, prng.int(n), prng.int(n)])].sort((a, b) => a - b);
}

/** Checks qk/av element `element` of layer `index` at pass `t`, whole (when one step) and by ranges. */
async function checkAttention(g: Generation, index: number, t: number, element: number, prng: Prng): Promise<void> {
  const spec = g.specs[index]!;
  const encoded = encodeLayerSpec(spec);
  const name = spec.kind === LayerKind.qk ? "qk" : "av";
  const where = `layer ${index} (${name}) pass ${t} element ${element}`;
  const want = elementHex(g, index, t, element);
  const { terms, maxRange } = attentionSumLayout(spec, t, element);
  expect(await prover.attentionSumLayout(encoded, t, element), `${where}: layout`).to.deep.equal([
    BigInt(terms),
    BigInt(maxRange),
  ]);
  if (terms <= maxRange) {
    const sources = attentionSources(spec, g.passes, t, element, g.weights);
    const { roots, valueRoots } = attentionRoots(g, spec, t, element);
    const proof = encode(attentionElementProof(spec, sources, t, element));
    expect(
      await prover.computeAttentionElement(encoded, t, roots, valueRoots, element, proof),
      `${where}: whole`,
    ).to.equal(want);
    const masked = terms === 0 ? " (masked)" : "";
    record(
      `${name} whole element${masked}`,
      await prover.computeAttentionElement.estimateGas(encoded, t, roots, valueRoots, element, proof),
    );
  } else {
    const { roots, valueRoots } = attentionRoots(g, spec, t, element);
    await expect(prover.computeAttentionElement(encoded, t, roots, valueRoots, element, encode([])))
      .to.be.revertedWithCustomError(prover, "StepUnsupported")
      .withArgs(spec.kind, terms);
  }
  const context = g.model.sequence!.contextLength;
  const traces: PassTraces = { t, context, output: (ref, u) => g.passes[u]![ref]! };
  const states = sequencePrefixStates(g.model.layers[index] as SequenceReductionLayer, traces, element);
  expect(states.length - 1, `${where}: terms`).to.equal(terms);
  const points = terms === 0 ? [0] : cuts(terms, maxRange, prng);
  for (let k = 1; k < points.length; k++) {
    const [from, to] = [points[k - 1]!, points[k]!];
    const sources = attentionSources(spec, g.passes, t, element, g.weights, from, to);
    const { roots, valueRoots } = attentionRoots(g, spec, t, element, from, to);
    const step = { t, element, from, to, sumFrom: states[from]! };
    const proof = encode(attentionRangeProof(spec, sources, element, from, to));
    expect(
      await prover.stepAttentionSum(encoded, roots, valueRoots, step, proof),
      `${where}: [${from}, ${to})`,
    ).to.equal(states[to]!);
    record(`${name} range`, await prover.stepAttentionSum.estimateGas(encoded, roots, valueRoots, step, proof));
  }
  const sources = attentionSources(spec, g.passes, t, element, g.weights, 0, 0);
  const finish = encode(attentionFinishProof(spec, sources, t, element));
  const final = states[states.length - 1]!;
  expect(await prover.finishAttentionSum(encoded, g.root, t, element, final, finish), `${where}: finish`).to.equal(
    want,
  );
  record(`${name} finish`, await prover.finishAttentionSum.estimateGas(encoded, g.root, t, element, final, finish));
}

describe("Decoders in the dispute game: qk, av and embed with the roots of other passes", () => {
  const generations = models.map(generation);

  for (const [n, parameters] of models.entries()) {
    it(`random transformer ${parameters.seed}: qk (masked and unmasked), av and embed at the first, a middle and the last pass, whole and by ranges`, async () => {
      const g = generations[n]!;
      const prng = createPrng(300 + parameters.seed);
      const last = g.passes.length - 1;
      const checked = new Map<string, number>();
      const count = (kind: string) => checked.set(kind, (checked.get(kind) ?? 0) + 1);
      for (const t of [...new Set([0, Math.floor(last / 2), last])])
        for (const [index, spec] of g.specs.entries()) {
          if (spec.kind === LayerKind.qk)
            for (const element of qkElements(spec, t, prng)) {
              await checkAttention(g, index, t, element, prng);
              count(element % spec.params[2]! > t ? "qk masked" : "qk");
            }
          if (spec.kind === LayerKind.av)
            for (const element of avElements(spec, prng)) {
              await checkAttention(g, index, t, element, prng);
              count("av");
            }
          if (spec.kind === LayerKind.embed) {
            const width = spec.params[1]!;
            const encoded = encodeLayerSpec(spec);
            const token = g.tokens[t]!;
            for (const element of [...new Set([0, width - 1, prng.int(width)])]) {
              const proof = encode(embedElementProof(spec, g.weights, t, token, element));
              const where = `layer ${index} (embed) pass ${t} element ${element}`;
              expect(await prover.computeEmbedElement(encoded, t, token, g.root, element, proof), where).to.equal(
                elementHex(g, index, t, element),
              );
              record("embed", await prover.computeEmbedElement.estimateGas(encoded, t, token, g.root, element, proof));
              count(spec.params[2] === 0 ? "embed token" : "embed position");
            }
          }
        }
      expect([...checked.keys()].sort()).to.deep.equal(["av", "embed position", "embed token", "qk", "qk masked"]);
    });
  }

  describe("refusals", () => {
    const g = generations[1]!;
    const t = Math.floor(g.passes.length / 2);
    const indexOf = (kind: number) => g.specs.findIndex((spec) => spec.kind === kind);

    it("qk: a key root of another pass, a tampered query chunk, value roots given to qk", async () => {
      const index = indexOf(LayerKind.qk);
      const spec = g.specs[index]!;
      const encoded = encodeLayerSpec(spec);
      const element = spec.params[2]! + 2; // head 1, u = 2 ≤ t
      const sources = attentionSources(spec, g.passes, t, element, g.weights);
      const { roots } = attentionRoots(g, spec, t, element);
      const proofs = attentionElementProof(spec, sources, t, element);
      expect(await prover.computeAttentionElement(encoded, t, roots, [], element, encode(proofs))).to.equal(
        elementHex(g, index, t, element),
      );
      // The key of pass t instead of pass u: the chunks of pass u do not verify against it.
      const wrongKey = { ...roots, rootB: rootOf(g, spec.inputB, t) };
      await expect(prover.computeAttentionElement(encoded, t, wrongKey, [], element, encode(proofs)))
        .to.be.revertedWithCustomError(prover, "StepChunkInvalid")
        .withArgs(2, 0);
      const tampered = proofs.map((p) =>
        p.source === 1
          ? { ...p, data: hexlify(Uint8Array.from(getBytes(p.data), (b, i) => (i === 9 ? b ^ 1 : b))) }
          : p,
      );
      await expect(prover.computeAttentionElement(encoded, t, roots, [], element, encode(tampered)))
        .to.be.revertedWithCustomError(prover, "StepChunkInvalid")
        .withArgs(1, 0);
      await expect(prover.computeAttentionElement(encoded, t, roots, [roots.rootB], element, encode(proofs)))
        .to.be.revertedWithCustomError(prover, "StepPassRootsMismatch")
        .withArgs(1, 0);
      // A wrong weights root at the finish.
      const finishProofs = attentionFinishProof(spec, sources, t, element);
      await expect(prover.finishAttentionSum(encoded, ZERO_HASH, t, element, 0n, encode(finishProofs)))
        .to.be.revertedWithCustomError(prover, "StepChunkInvalid")
        .withArgs(0, finishProofs[0]!.index);
    });

    it("av: value roots of the wrong passes or the wrong number, a chunk of another pass's value, a missing value chunk", async () => {
      const index = indexOf(LayerKind.av);
      const spec = g.specs[index]!;
      const encoded = encodeLayerSpec(spec);
      const element = 5;
      const context = g.model.sequence!.contextLength;
      const traces: PassTraces = { t, context, output: (ref, u) => g.passes[u]![ref]! };
      const states = sequencePrefixStates(g.model.layers[index] as SequenceReductionLayer, traces, element);
      const [from, to] = [2, 6];
      const sources = attentionSources(spec, g.passes, t, element, g.weights, from, to);
      const { roots, valueRoots } = attentionRoots(g, spec, t, element, from, to);
      const step = { t, element, from, to, sumFrom: states[from]! };
      const proofs = attentionRangeProof(spec, sources, element, from, to);
      const proof = encode(proofs);
      expect(await prover.stepAttentionSum(encoded, roots, valueRoots, step, proof)).to.equal(states[to]!);
      // One root too few, one too many.
      await expect(prover.stepAttentionSum(encoded, roots, valueRoots.slice(1), step, proof))
        .to.be.revertedWithCustomError(prover, "StepPassRootsMismatch")
        .withArgs(3, 4);
      await expect(prover.stepAttentionSum(encoded, roots, [...valueRoots, ZERO_HASH], step, proof))
        .to.be.revertedWithCustomError(prover, "StepPassRootsMismatch")
        .withArgs(5, 4);
      // The roots of passes 3 … 6 instead of 2 … 5: the first value chunk does not verify.
      const shifted = attentionRoots(g, spec, t, element, from + 1, to + 1).valueRoots;
      await expect(prover.stepAttentionSum(encoded, roots, shifted, step, proof))
        .to.be.revertedWithCustomError(prover, "StepChunkInvalid")
        .withArgs(VALUE_SOURCES, 0);
      // The probabilities of another pass.
      const otherA = { ...roots, rootA: rootOf(g, spec.inputA, t - 1) };
      await expect(prover.stepAttentionSum(encoded, otherA, valueRoots, step, proof))
        .to.be.revertedWithCustomError(prover, "StepChunkInvalid")
        .withArgs(1, 0);
      // A chunk source beyond the range's passes, and a missing value chunk.
      const beyond = proofs.map((p) => (p.source === VALUE_SOURCES + 3 ? { ...p, source: VALUE_SOURCES + 4 } : p));
      await expect(prover.stepAttentionSum(encoded, roots, valueRoots, step, encode(beyond)))
        .to.be.revertedWithCustomError(prover, "StepChunkInvalid")
        .withArgs(VALUE_SOURCES + 4, 0);
      const missing = proofs.filter((p) => p.source !== VALUE_SOURCES + 3);
      await expect(prover.stepAttentionSum(encoded, roots, valueRoots, step, encode(missing)))
        .to.be.revertedWithCustomError(prover, "StepChunkMissing")
        .withArgs(VALUE_SOURCES + 3, 0);
      // A range longer than one step (16 passes) and a whole element of more than 16 terms.
      const long = { ...step, from: 0, to: 17 };
      const seventeen = attentionRoots(g, spec, t, element, 0, 17).valueRoots;
      if (t + 1 >= 17)
        await expect(prover.stepAttentionSum(encoded, roots, seventeen, long, encode([])))
          .to.be.revertedWithCustomError(prover, "StepRangeInvalid")
          .withArgs(0, 17, t + 1);
      const lastPass = g.passes.length - 1;
      await expect(prover.computeAttentionElement(encoded, lastPass, roots, [], element, encode([])))
        .to.be.revertedWithCustomError(prover, "StepUnsupported")
        .withArgs(LayerKind.av, lastPass + 1);
      // Other kinds are not attention steps.
      const centre = encodeLayerSpec(g.specs[indexOf(LayerKind.centre)]!);
      await expect(prover.attentionSumLayout(centre, t, 0))
        .to.be.revertedWithCustomError(prover, "StepUnsupported")
        .withArgs(LayerKind.centre, 0);
    });

    it("embed: a wrong weights root or chunk, an out-of-range token clamped, a position beyond the table, other kinds", async () => {
      const token = g.specs.findIndex((s) => s.kind === LayerKind.embed && s.params[2] === 0);
      const position = g.specs.findIndex((s) => s.kind === LayerKind.embed && s.params[2] === 1);
      const spec = g.specs[token]!;
      const encoded = encodeLayerSpec(spec);
      const [rows = 0, width = 0] = spec.params;
      const element = width - 1;
      const proofs = embedElementProof(spec, g.weights, t, g.tokens[t]!, element);
      await expect(prover.computeEmbedElement(encoded, t, g.tokens[t]!, ZERO_HASH, element, encode(proofs)))
        .to.be.revertedWithCustomError(prover, "StepChunkInvalid")
        .withArgs(0, proofs[0]!.index);
      // The chunk of another token's row (here: another chunk of the blob) is missing the element.
      const otherRow = embedElementProof(spec, g.weights, t, (g.tokens[t]! + 1) % rows, element);
      if (otherRow[0]!.index !== proofs[0]!.index)
        await expect(prover.computeEmbedElement(encoded, t, g.tokens[t]!, g.root, element, encode(otherRow)))
          .to.be.revertedWithCustomError(prover, "StepChunkMissing")
          .withArgs(0, proofs[0]!.index);
      // Ids above V − 1 read row V − 1, negative ones row 0.
      const table = (row: number) =>
        hexlify(
          getBytes(g.weights.bytes).slice(
            spec.weightsOffset + row * width + element,
            spec.weightsOffset + row * width + element + 1,
          ),
        );
      for (const [id, row] of [
        [rows + 1000, rows - 1],
        [-5, 0],
      ] as const) {
        expect(embedRow(spec, t, id)).to.equal(row);
        const proof = encode(embedElementProof(spec, g.weights, t, id, element));
        expect(await prover.computeEmbedElement(encoded, t, id, g.root, element, proof)).to.equal(table(row));
      }
      // A position embedding at a pass beyond its table.
      const positions = g.specs[position]!;
      const beyond = positions.params[0]!;
      await expect(prover.computeEmbedElement(encodeLayerSpec(positions), beyond, 0, g.root, 0, encode([])))
        .to.be.revertedWithCustomError(prover, "SequenceRowOutOfRange")
        .withArgs(beyond, beyond);
      await expect(
        prover.computeEmbedElement(encodeLayerSpec(g.specs[indexOf(LayerKind.lut)]!), t, 0, g.root, 0, encode([])),
      )
        .to.be.revertedWithCustomError(prover, "StepUnsupported")
        .withArgs(LayerKind.lut, 0);
    });
  });

  it("gas: a qk of dh = 8192 and an av range of 16 passes (SequenceStep's limits; printed, far below the 5M step ceiling)", async () => {
    const prng = createPrng(11);
    const bytes = (n: number) => Uint8Array.from({ length: n }, () => prng.int(256));
    const params = Uint8Array.of(0, 0, 0x40, 0, 20); // m = 2^22, s = 20
    const weights = stepSource(params);
    const root = (src: StepSource) => treeRoot(src.tree);
    // qk: one head of dh = 8192, C = 16, element u = 3 at pass 15.
    const qk: LayerSpec = {
      kind: LayerKind.qk,
      inputA: 0,
      inputB: 1,
      outElements: 16,
      elementSize: 1,
      activation: 0,
      weightsOffset: 0,
      params: [1, 8192, 16],
    };
    const q = stepSource(bytes(8192));
    const key = stepSource(bytes(8192));
    const qkSources = { weights, a: q, b: key, values: [] };
    const qkRoots = { rootA: root(q), rootB: root(key), weightsRoot: root(weights) };
    const qkProofs = attentionElementProof(qk, qkSources, 15, 3);
    const qkUsed = await prover.computeAttentionElement.estimateGas(
      encodeLayerSpec(qk),
      15,
      qkRoots,
      [],
      3,
      encode(qkProofs),
    );
    record(`limit: qk whole element of dh 8192 (${qkProofs.length} chunks)`, qkUsed);
    expect(qkUsed).to.be.lessThan(5_000_000n);
    // av: 4 heads of dh = 256 (values of 1024 bytes), C = 64, pass 40, range [20, 36).
    const av: LayerSpec = { ...qk, kind: LayerKind.av, outElements: 1024, params: [4, 256, 64] };
    const p = stepSource(bytes(4 * 64));
    const values = Array.from({ length: 16 }, () => stepSource(bytes(1024)));
    const avSources = { weights, a: p, values };
    const avRoots = { rootA: root(p), rootB: ZERO_HASH, weightsRoot: root(weights) };
    const element = 3 * 256 + 255;
    const avProofs = attentionRangeProof(av, avSources, element, 20, 36);
    const step = { t: 40, element, from: 20, to: 36, sumFrom: 0n };
    const encodedAv = encodeLayerSpec(av);
    const sum = await prover.stepAttentionSum(encodedAv, avRoots, values.map(root), step, encode(avProofs));
    let want = 0n;
    const int8 = (b: number) => BigInt(b >= 128 ? b - 256 : b);
    for (let k = 0; k < 16; k++) want += int8(p.bytes[3 * 64 + 20 + k]!) * int8(values[k]!.bytes[element]!);
    expect(sum).to.equal(want);
    const avUsed = await prover.stepAttentionSum.estimateGas(
      encodedAv,
      avRoots,
      values.map(root),
      step,
      encode(avProofs),
    );
    record(`limit: av range of 16 passes (${avProofs.length} chunks)`, avUsed);
    expect(avUsed).to.be.lessThan(5_000_000n);
  });

  after(() => {
    const lines = [...gas.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}: ${v} gas`);
    console.log(`      largest step of each kind (estimateGas):\n        ${lines.join("\n        ")}`);
  });
});
