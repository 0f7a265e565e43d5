import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keccak256 } from "ethers";
import { readOnnx } from "../../oracle/model/onnx/read-onnx.ts";
import { weightsRoot } from "../../oracle/model/vqm/commitments.ts";
import { emitOnnx } from "../../oracle/model/vqm/emit-onnx.ts";
import { randomVqm } from "../../oracle/model/vqm/random-vqm.ts";
import { executeVqm, VqmInputError } from "../../oracle/model/vqm/reference-executor.ts";
import { syntheticMlp } from "../../oracle/model/vqm/synthetic-vqm.ts";
import { readVqm, VqmFilesError, writeVqm } from "../../oracle/model/vqm/vqm-files.ts";
import type { VqmManifest } from "../../oracle/model/vqm/vqm-files.ts";

describe("VQM ONNX emission and model folders", () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "vqm-"))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("emits the same bytes for the same model, and trace outputs only when asked", () => {
    const { model } = randomVqm({ seed: 3 });
    assert.deepEqual(emitOnnx(model), emitOnnx(randomVqm({ seed: 3 }).model));
    const plain = readOnnx(emitOnnx(model)).graph;
    assert.deepEqual(
      plain.inputs.map((io) => [io.name, io.dtype]),
      [["input", "int8"]],
    );
    assert.deepEqual(
      plain.outputs.map((io) => io.name),
      ["output"],
    );
    const traced = readOnnx(emitOnnx(model, { trace: true })).graph;
    assert.deepEqual(
      traced.outputs.map((io) => io.name),
      ["output", ...model.layers.map((_, i) => `trace_${i}`)],
    );
  });

  it("writes a folder that reads back to the same model, hashes and all", async () => {
    for (const seed of [1, 2, 5, 8, 13]) {
      const { model } = randomVqm({ seed });
      const manifest = await writeVqm(dir, model);
      const back = await readVqm(dir);
      assert.deepEqual(back.model, model);
      assert.equal(manifest.modelHash, keccak256(readFileSync(join(dir, "model.onnx"))));
      assert.equal(manifest.weightsRoot, weightsRoot(model));
      assert.equal(back.manifest.layers.length, model.layers.length);
    }
  });

  it("records parameter count, shapes and layout of a dense model", async () => {
    const model = syntheticMlp({ seed: 4, sizes: [6, 5, 3], argmax: true });
    const manifest = await writeVqm(dir, { ...model, labels: ["a", "b", "c"] });
    assert.equal(manifest.parameterCount, 6 * 5 + 5 + 5 * 3 + 3);
    assert.deepEqual(manifest.output, { shape: [1], dtype: "int32" });
    assert.deepEqual(manifest.labels, ["a", "b", "c"]);
    assert.deepEqual(manifest.layers[1]!.parameters?.range, { offset: 30 + 5 * 9, length: 15 + 3 * 9 });
    assert.deepEqual(
      manifest.layers.map((layer) => layer.outputShape),
      [[1, 5], [1, 3], [1]],
    );
  });

  it("refuses a folder whose ONNX or manifest was changed", async () => {
    const { model } = randomVqm({ seed: 21 });
    await writeVqm(dir, model);
    const manifestPath = join(dir, "manifest.json");
    const original = readFileSync(manifestPath, "utf8");
    const edit = (change: (manifest: VqmManifest) => void) => {
      const manifest = JSON.parse(original) as VqmManifest;
      change(manifest);
      writeFileSync(manifestPath, JSON.stringify(manifest));
    };
    edit((manifest) => (manifest.modelHash = keccak256("0x00")));
    await assert.rejects(readVqm(dir), VqmFilesError);
    edit((manifest) => (manifest.weightsRoot = keccak256("0x00")));
    await assert.rejects(readVqm(dir), VqmFilesError);
    edit((manifest) => (manifest.name = "renamed"));
    await assert.rejects(readVqm(dir), /not the canonical ONNX/);
  });

  it("refuses inputs of the wrong dtype or shape with a clear error", () => {
    const model = syntheticMlp({ seed: 1, sizes: [4, 2] });
    assert.throws(() => executeVqm(model, { dtype: "int32", shape: [1, 4], data: new Int32Array(4) }), VqmInputError);
    assert.throws(
      () => executeVqm(model, { dtype: "int8", shape: [1, 5], data: new Int8Array(5) }),
      /shape does not match/,
    );
    assert.throws(() => executeVqm(model, { dtype: "int8", shape: [1, 4], data: new Int8Array(3) }), VqmInputError);
  });
});
