/**
 * A decoder's model folder: written, read back to the same model (byte-identical ONNX, same
 * weights root), described by its manifest (sequence, request and result tensors, per-layer
 * attributes and parameter layout), refused when edited, and served from its model.onnx.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keccak256 } from "ethers";
import { readOnnx } from "../../oracle/model/onnx/read-onnx.ts";
import { createPrng } from "../../oracle/model/train/prng.ts";
import { weightsRoot } from "../../oracle/model/vqm/commitments.ts";
import { cachedLayers, emitOnnx } from "../../oracle/model/vqm/emit-onnx.ts";
import { generateVqmOrt, openVqmOrt } from "../../oracle/model/vqm/ort-executor.ts";
import { randomPrompt, randomTransformer } from "../../oracle/model/vqm/random-transformer.ts";
import { generateVqm } from "../../oracle/model/vqm/sequence-executor.ts";
import { readVqm, VqmFilesError, writeVqm } from "../../oracle/model/vqm/vqm-files.ts";
import type { VqmManifest } from "../../oracle/model/vqm/vqm-files.ts";
import type { VqmModel } from "../../oracle/model/vqm/vqm-model.ts";
import { VqmValidationError } from "../../oracle/model/vqm/vqm-validation-error.ts";

const decoder = (seed: number): VqmModel =>
  randomTransformer({
    seed,
    layers: 2,
    width: 16,
    heads: 2,
    headDim: 8,
    context: 10,
    vocab: 13,
    mlpWidth: 32,
    promptLength: 4,
    newTokens: 5,
  });

describe("decoder model folders", () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "vqm-decoder-"))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("emits one pass: token, position and one cache per key/value layer in; output and kv rows out", () => {
    const model = decoder(1);
    const graph = readOnnx(emitOnnx(model)).graph;
    const cached = cachedLayers(model);
    assert.equal(cached.length, 4); // two blocks × (key, value)
    assert.deepEqual(
      graph.inputs.map((io) => [io.name, io.dtype, io.shape]),
      [["token", "int64", [1]], ["position", "int64", [1]], ...cached.map((k) => [`cache_${k}`, "int8", [1, 10, 16]])],
    );
    assert.deepEqual(
      graph.outputs.map((io) => io.name),
      ["output", ...cached.map((k) => `kv_${k}`)],
    );
    // No float anywhere but isqrt's estimate (Cast to double, Sqrt, Cast back).
    const floatOps = graph.nodes.filter((node) => node.opType === "Sqrt" || node.attributes?.to?.value === 11);
    assert.equal(floatOps.length, 2 * 5 * 1); // 5 layer norms (2 per block + final), 2 nodes each
  });

  it("writes a folder that reads back to the same model, byte-identical ONNX and same weights root", async () => {
    for (const seed of [1, 2, 3]) {
      const model = decoder(seed);
      const manifest = await writeVqm(dir, model);
      const back = await readVqm(dir);
      assert.deepEqual(back.model, model);
      assert.ok(Buffer.from(emitOnnx(back.model)).equals(readFileSync(join(dir, "model.onnx"))));
      assert.equal(manifest.modelHash, keccak256(readFileSync(join(dir, "model.onnx"))));
      assert.equal(manifest.weightsRoot, weightsRoot(model));
      assert.deepEqual(manifest.sequence, model.sequence);
      assert.deepEqual(manifest.input, { shape: [1, 4], scale: 1, dtype: "int32" });
      assert.deepEqual(manifest.output, { shape: [1, 5], dtype: "int32" });
    }
  });

  it("describes every sequence layer: attributes, inputs, epsilon as a decimal string, parameter layout", async () => {
    const model = decoder(4);
    const manifest = await writeVqm(dir, model);
    const parsed = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as VqmManifest;
    assert.deepEqual(parsed, manifest);
    const byKind = (kind: string) => manifest.layers.find((layer) => layer.kind === kind)!;
    assert.deepEqual(byKind("embed").attributes, { source: "token", rows: 13, width: 16 });
    assert.deepEqual(byKind("embed").inputs, []);
    const qk = model.layers.find((layer) => layer.kind === "qk")!;
    assert.deepEqual(byKind("qk").attributes, { heads: 2, headDim: 8, multiplier: qk.multiplier, shift: qk.shift });
    const normalize = model.layers.find((layer) => layer.kind === "normalize")!;
    assert.equal(byKind("normalize").attributes.epsilon, normalize.epsilon.toString());
    assert.equal(byKind("normalize").requant?.multiplier.length, 16);
    for (const kind of ["embed", "lut", "normalize", "qk", "softmax", "av"])
      assert.equal(byKind(kind).parameters?.kind, kind, `${kind} parameters`);
    assert.equal(byKind("centre").parameters, undefined);
    assert.ok(manifest.parameterCount > 13 * 16 + 10 * 16);
  });

  it("refuses a folder whose manifest was edited (epsilon, a multiplier, the sequence)", async () => {
    const model = decoder(5);
    await writeVqm(dir, model);
    const original = readFileSync(join(dir, "manifest.json"), "utf8");
    const edit = (change: (manifest: VqmManifest) => void) => {
      const manifest = JSON.parse(original) as VqmManifest;
      change(manifest);
      writeFileSync(join(dir, "manifest.json"), JSON.stringify(manifest));
    };
    const normalize = (manifest: VqmManifest) => manifest.layers.find((layer) => layer.kind === "normalize")!;
    const qk = (manifest: VqmManifest) => manifest.layers.find((layer) => layer.kind === "qk")!;
    for (const change of [
      (m: VqmManifest) =>
        (normalize(m).attributes.epsilon = (BigInt(normalize(m).attributes.epsilon as string) + 1n).toString()),
      (m: VqmManifest) => (normalize(m).attributes.epsilon = 7),
      (m: VqmManifest) => (qk(m).attributes.multiplier = (qk(m).attributes.multiplier as number) + 1),
      (m: VqmManifest) => (m.sequence!.contextLength += 1),
    ]) {
      edit(change);
      // The bytes no longer match (VqmFilesError) or the model is no longer valid (VqmValidationError).
      await assert.rejects(
        readVqm(dir),
        (error) => error instanceof VqmFilesError || error instanceof VqmValidationError,
      );
    }
  });

  it("generates from the folder's model.onnx as from the model", async () => {
    const model = decoder(6);
    await writeVqm(dir, model);
    const { model: back, onnx } = await readVqm(dir);
    const vqm = await openVqmOrt({ model: back, onnx });
    try {
      const prng = createPrng(6);
      for (let k = 0; k < 3; k++) {
        const input = randomPrompt(model, prng);
        assert.deepEqual((await generateVqmOrt(vqm, input)).tokens, generateVqm(model, input).tokens);
      }
    } finally {
      await vqm.release();
    }
  });
});
