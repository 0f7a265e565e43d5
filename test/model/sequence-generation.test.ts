import assert from "node:assert/strict";
import type { Tensor } from "../../oracle/model/tensor.ts";
import { createPrng } from "../../oracle/model/train/prng.ts";
import {
  nodeHash,
  passRoot,
  rootOfRoots,
  traceRoot,
  traceRootOfGeneration,
  weightsBlob,
  weightsLayout,
  ZERO_HASH,
} from "../../oracle/model/vqm/commitments.ts";
import { randomPrompt, randomTransformer } from "../../oracle/model/vqm/random-transformer.ts";
import type { RandomTransformerParameters } from "../../oracle/model/vqm/random-transformer.ts";
import { executeVqm, VqmInputError } from "../../oracle/model/vqm/reference-executor.ts";
import { executePass, generateVqm, readPrompt } from "../../oracle/model/vqm/sequence-executor.ts";
import { validateVqm } from "../../oracle/model/vqm/validate-vqm.ts";
import { prompt, tinyDecoder, values } from "./sequence-fixture.ts";

const sizes: Omit<RandomTransformerParameters, "seed">[] = [
  { layers: 1, width: 8, heads: 1, headDim: 8, context: 6, vocab: 5, mlpWidth: 16, promptLength: 3, newTokens: 4 },
  { layers: 2, width: 32, heads: 4, headDim: 8, context: 16, vocab: 40, mlpWidth: 64, promptLength: 6, newTokens: 8 },
  { layers: 3, width: 48, heads: 3, headDim: 16, context: 24, vocab: 97, mlpWidth: 96, promptLength: 8, newTokens: 12 },
];

describe("Sequence generation", () => {
  const model = tinyDecoder();

  it("reads the prompt up to the first negative id, clamps ids to V − 1, and an empty prompt is [bos]", () => {
    const spec = model.sequence!;
    assert.deepEqual(readPrompt(spec, [0, 1]), [0, 1]);
    assert.deepEqual(readPrompt(spec, [2, -1]), [2]);
    assert.deepEqual(readPrompt(spec, [7, 2 ** 31 - 1]), [2, 2]);
    assert.deepEqual(readPrompt(spec, [-5, 1]), [0]);
    assert.deepEqual(readPrompt({ ...spec, bos: 2 }, [-1, -1]), [2]);
  });

  it("runs passes 0 … P + N − 2 and reads gen[k] from pass P − 1 + k", () => {
    for (const ids of [
      [0, 1],
      [2, -1],
      [-1, 0],
    ]) {
      const { output, tokens, passes } = generateVqm(model, prompt(...ids));
      const promptIds = readPrompt(model.sequence!, ids);
      const p = promptIds.length;
      assert.equal(passes.length, p + 3 - 1, `passes for ${ids}`);
      assert.deepEqual(output.shape, [1, 3]);
      assert.equal(output.dtype, "int32");
      assert.deepEqual(tokens, [...promptIds, ...values(output)]);
      values(output).forEach((id, k) => assert.deepEqual(values(passes[p - 1 + k]!.at(-1)!), [id]));
      // Pass t reads tok(t): the embed of token t's row.
      tokens.slice(0, passes.length).forEach((token, t) => {
        const row = model.layers[0]!.kind === "embed" ? model.layers[0].table.slice(2 * token, 2 * token + 2) : [];
        assert.deepEqual(values(passes[t]![0]!), Array.from(row));
      });
    }
  });

  it("generates the hand-computed tokens of the tiny decoder", () => {
    // Pass 0 (token 0) gives 1 and pass 1 (token 1) gives 2 (sequence-layers.test.ts).
    const { tokens } = generateVqm(model, prompt(0, -1));
    assert.deepEqual(tokens.slice(0, 3), [0, 1, 2]);
    // The empty prompt is [bos] = [0]: the same generation.
    assert.deepEqual(generateVqm(model, prompt(-3, 1)).tokens, tokens);
    // An id >= V is read as V − 1.
    assert.deepEqual(generateVqm(model, prompt(9, -1)).tokens, generateVqm(model, prompt(2, -1)).tokens);
  });

  it("refuses an input that is not int32 [1, promptLength], and the wrong executor", () => {
    assert.throws(
      () => generateVqm(model, { dtype: "int8", shape: [1, 2], data: new Int8Array(2) }),
      (error: unknown) => error instanceof VqmInputError && /must be int32 token ids, got int8/.test(error.message),
    );
    assert.throws(
      () => generateVqm(model, prompt(0, 1, 2)),
      (error: unknown) => error instanceof VqmInputError && /Expected \[1, 2\], got \[1, 3\]/.test(error.message),
    );
    assert.throws(
      () => executeVqm(model, { dtype: "int8", shape: [1, 1], data: new Int8Array(1) }),
      (error: unknown) => error instanceof VqmInputError && /is a decoder/.test(error.message),
    );
    const dense = model.layers[10]!;
    if (dense.kind !== "dense") assert.fail("fixture changed");
    const classic = {
      ...model,
      input: { shape: [1, 2], scale: 1 },
      sequence: undefined,
      layers: [{ ...dense, input: -1 }],
    };
    assert.throws(
      () => generateVqm(classic, prompt(0, 1)),
      (error: unknown) => error instanceof VqmInputError && /is not a decoder/.test(error.message),
    );
  });

  it("onLayer replaces an output before later layers and passes read it", () => {
    const honest = generateVqm(model, prompt(0, -1));
    // Pass 0's argmax says 0 instead of 1: pass 1 then reads token 0.
    const cheat = generateVqm(model, prompt(0, -1), {
      onLayer: (pass, index, output) => (pass === 0 && index === 11 ? { ...output, data: Int32Array.of(0) } : output),
    });
    assert.equal(cheat.tokens[1], 0);
    assert.deepEqual(values(cheat.passes[1]![0]!), [10, 20]);
    assert.notEqual(traceRootOfGeneration(cheat.passes), traceRootOfGeneration(honest.passes));
  });

  it("commits a generation: pass roots over layer trace roots, the trace root over pass roots", () => {
    const [a, b, c] = [1, 2, 3].map((k) => `0x${k.toString(16).padStart(64, "0")}`) as [string, string, string];
    assert.equal(rootOfRoots([]), ZERO_HASH);
    assert.equal(rootOfRoots([a]), a);
    assert.equal(rootOfRoots([a, b]), nodeHash(a, b));
    assert.equal(rootOfRoots([a, b, c]), nodeHash(nodeHash(a, b), nodeHash(c, ZERO_HASH)));
    const { passes } = generateVqm(model, prompt(0, 1));
    const passRoots = passes.map((pass) => {
      const r = pass.map(traceRoot); // 12 layers: padded to 16
      const level1 = [0, 2, 4, 6, 8, 10, 12, 14].map((i) => nodeHash(r[i] ?? ZERO_HASH, r[i + 1] ?? ZERO_HASH));
      const level2 = [0, 2, 4, 6].map((i) => nodeHash(level1[i]!, level1[i + 1]!));
      return nodeHash(nodeHash(level2[0]!, level2[1]!), nodeHash(level2[2]!, level2[3]!));
    });
    assert.deepEqual(passes.map(passRoot), passRoots);
    assert.equal(passes.length, 4);
    assert.equal(
      traceRootOfGeneration(passes),
      nodeHash(nodeHash(passRoots[0]!, passRoots[1]!), nodeHash(passRoots[2]!, passRoots[3]!)),
    );
  });

  it("lays out the sequence layers' parameters in the weights blob", () => {
    const layout = weightsLayout(model);
    const blob = weightsBlob(model);
    // embed 6 + 8, add 9, normalize 2 + 8 + 8 + 8 + 2, qk 5, softmax 1024, av 5, lut 256, dense 6 + 12 + 12 + 3.
    assert.equal(blob.length, 6 + 8 + 9 + 28 + 5 + 1024 + 5 + 256 + 33);
    assert.equal(layout.length, blob.length);
    assert.deepEqual(
      layout.layers.map((entry) => [entry.layer, entry.kind]),
      [
        [0, "embed"],
        [1, "embed"],
        [2, "add"],
        [4, "normalize"],
        [5, "qk"],
        [7, "softmax"],
        [8, "av"],
        [9, "lut"],
        [10, "dense"],
      ],
    );
    const normalize = layout.sequenceByLayer[4]!;
    if (normalize.kind !== "normalize") assert.fail("normalize layout");
    assert.equal(normalize.range.offset, 23);
    const view = new DataView(blob.buffer);
    assert.deepEqual(Array.from(blob.subarray(23, 25)), [1, 254]); // gamma 1, -2
    assert.equal(view.getInt32(normalize.beta.offset + 4, true), 1000);
    assert.equal(view.getBigUint64(normalize.epsilon.offset, true), 5n);
    assert.equal(blob[normalize.shift.offset], 10);
    const softmax = layout.sequenceByLayer[7]!;
    assert.equal(view.getUint32(softmax.range.offset + 4 * 255, true), 65536);
    assert.equal(layout.byLayer[2]?.kind, "add");
    assert.equal(layout.byLayer[0], undefined);
  });
});

describe("Random transformers", () => {
  it("validate and generate deterministically, at several sizes", () => {
    sizes.forEach((size, k) => {
      const model = randomTransformer({ seed: 100 + k, ...size });
      validateVqm(model);
      assert.equal(model.layers.length, 3 + 17 * size.layers + 4);
      const again = randomTransformer({ seed: 100 + k, ...size });
      assert.deepEqual(weightsBlob(again), weightsBlob(model));
      const input = randomPrompt(model, createPrng(k));
      const first = generateVqm(model, input);
      const second = generateVqm(again, input);
      assert.deepEqual(second.tokens, first.tokens);
      assert.equal(traceRootOfGeneration(second.passes), traceRootOfGeneration(first.passes));
      assert.ok(first.tokens.every((id) => id >= 0 && id < size.vocab));
    });
  });

  it("keep activations spread: no dense, normalize or av output saturates everywhere", () => {
    const size = sizes[1]!;
    const model = randomTransformer({ seed: 7, ...size });
    const { passes } = generateVqm(model, randomPrompt(model, createPrng(7)));
    model.layers.forEach((layer, index) => {
      if (!["dense", "normalize", "av", "add", "lut"].includes(layer.kind)) return;
      const all = passes.flatMap((pass) => values(pass[index]!));
      const saturated = all.filter((v) => v === 127 || v === -128).length / all.length;
      const zero = all.filter((v) => v === 0).length / all.length;
      assert.ok(saturated < 0.2, `layer ${index} (${layer.kind}) saturates ${saturated}`);
      assert.ok(zero < 0.5, `layer ${index} (${layer.kind}) is mostly 0`);
    });
  });

  it("a KV cache changes nothing: pass t with keys and values recomputed from scratch equals the run", () => {
    const model = randomTransformer({ seed: 21, ...sizes[1]! });
    const { tokens, passes } = generateVqm(model, randomPrompt(model, createPrng(21)));
    const kv = new Set(model.layers.flatMap((l) => (l.kind === "qk" ? [l.key] : l.kind === "av" ? [l.value] : [])));
    for (const t of [0, 1, Math.floor(passes.length / 2), passes.length - 1]) {
      // From scratch: every earlier pass recomputed with no cache at all.
      const fresh: Tensor[][] = [];
      for (let u = 0; u < t; u++) fresh.push(executePass(model, fresh, u, tokens[u]!));
      assert.deepEqual(executePass(model, fresh, t, tokens[t]!), passes[t], `pass ${t} from scratch`);
      // A cache holding only the key and value layers' outputs.
      const cache = passes.slice(0, t).map((pass) => pass.map((output, layer) => (kv.has(layer) ? output : undefined)));
      assert.deepEqual(executePass(model, cache as Tensor[][], t, tokens[t]!), passes[t], `pass ${t} from the cache`);
    }
  });
});
