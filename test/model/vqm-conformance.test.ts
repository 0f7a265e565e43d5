/**
 * The conformance suite: the same VQM models and inputs through the reference executor and
 * onnxruntime (the emitted integer ONNX with trace outputs), demanding identical output bytes,
 * identical bytes for every layer's output and identical trace roots. Covers seeded random
 * networks, hand-built edge cases and every built model folder under models/ (found by its
 * manifest.json of format "vqm/1").
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { encodeTensor } from "../../oracle/model/tensor-codec.ts";
import type { Tensor } from "../../oracle/model/tensor.ts";
import { createPrng } from "../../oracle/model/train/prng.ts";
import { traceRoots } from "../../oracle/model/vqm/commitments.ts";
import { executeVqmOrt, openVqmOrt } from "../../oracle/model/vqm/ort-executor.ts";
import { randomInput, randomVqm } from "../../oracle/model/vqm/random-vqm.ts";
import { executeVqm } from "../../oracle/model/vqm/reference-executor.ts";
import { readVqm } from "../../oracle/model/vqm/vqm-files.ts";
import type { DenseLayer, VqmLayer, VqmModel } from "../../oracle/model/vqm/vqm-model.ts";

const randomModels = 500;
const root = join(dirname(fileURLToPath(import.meta.url)), "../..");

async function conform(model: VqmModel, inputs: Tensor[], onnx?: Uint8Array): Promise<void> {
  const vqm = await openVqmOrt({ model, trace: true });
  const plain = onnx ? await openVqmOrt({ model, onnx }) : undefined;
  try {
    for (const [k, input] of inputs.entries()) {
      const reference = executeVqm(model, input);
      const fast = await executeVqmOrt(vqm, input);
      const where = `${model.name}, input ${k}`;
      assert.deepEqual(encodeTensor(fast.output), encodeTensor(reference.output), `${where}: output`);
      assert.equal(fast.trace.length, reference.trace.length);
      reference.trace.forEach((tensor, i) =>
        assert.deepEqual(
          encodeTensor(fast.trace[i]!),
          encodeTensor(tensor),
          `${where}: layer ${i} (${model.layers[i]!.kind})`,
        ),
      );
      assert.deepEqual(traceRoots(fast.trace), traceRoots(reference.trace), `${where}: trace roots`);
      if (plain)
        assert.deepEqual(encodeTensor((await executeVqmOrt(plain, input)).output), encodeTensor(reference.output));
    }
  } finally {
    await vqm.release();
    await plain?.release();
  }
}

function dense(
  input: number,
  weights: number[][],
  bias: number[],
  multiplier: number[],
  shift: number[],
  activation: "none" | "relu" = "none",
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

function vector(name: string, features: number, layers: VqmLayer[]): VqmModel {
  return { format: "vqm/1", name, input: { shape: [1, features], scale: 1 }, layers };
}

const int8 = (shape: number[], values: number[]): Tensor => ({ dtype: "int8", shape, data: Int8Array.from(values) });

/** Edge cases named in the spec, each with inputs that reach them. */
const edgeCases: { model: VqmModel; inputs: Tensor[] }[] = [
  {
    // Identity-like dense with s = 0 and m = 1: saturation at both ends.
    model: vector("saturate-s0", 2, [
      dense(
        -1,
        [
          [127, 127],
          [-128, -128],
        ],
        [0, 0],
        [1, 1],
        [0, 0],
      ),
    ]),
    inputs: [int8([1, 2], [127, 127]), int8([1, 2], [-128, -128]), int8([1, 2], [0, 1]), int8([1, 2], [-128, 127])],
  },
  {
    // s = 1, m = 1: every odd accumulator is a tie (rounds toward +inf), relu floors at 0.
    model: vector("ties", 3, [
      dense(
        -1,
        [
          [1, 0, 0],
          [0, 1, 0],
          [1, 1, 1],
          [-1, -1, -1],
        ],
        [0, 0, 1, -1],
        [1, 1, 1, 1],
        [1, 1, 1, 1],
      ),
      dense(-1, [[1, 0, 0]], [0], [3], [2], "relu"),
    ]),
    inputs: [-5, -3, -1, 1, 3, 5, 127, -128].map((v) => int8([1, 3], [v, v === 127 ? -128 : v, -v === 128 ? 127 : -v])),
  },
  {
    // m = 0 (everything 0) and m = 2^31 - 1 with the largest accumulator bound 2 allows.
    model: vector("multiplier-extremes", 4, [
      dense(
        -1,
        [
          [-128, -128, -128, -128],
          [127, -128, 127, -128],
        ],
        [2 ** 31 - 1 - 65536, -(2 ** 31 - 1 - 65536)],
        [0, 2 ** 31 - 1],
        [5, 32],
      ),
      dense(
        -1,
        [
          [1, 1, 1, 1],
          [-1, -1, -1, -1],
        ],
        [2 ** 31 - 1 - 512, -(2 ** 31 - 1 - 512)],
        [2 ** 31 - 1, 2 ** 31 - 1],
        [32, 32],
      ),
      dense(-1, [[1, 2, 3, 4]], [0], [2 ** 31 - 1], [62]),
    ]),
    inputs: [
      int8([1, 4], [-128, -128, -128, -128]),
      int8([1, 4], [127, 127, 127, 127]),
      int8([1, 4], [127, -128, 127, -128]),
      int8([1, 4], [0, 0, 0, 0]),
    ],
  },
  {
    // Residual add with the largest multipliers, s = 0 and s = 62, plus argmax ties (first index wins).
    model: vector("add-extremes", 4, [
      { kind: "add", inputs: [-1, -1], multipliers: [2 ** 31 - 1, 2 ** 31 - 1], shift: 62, activation: "none" },
      { kind: "add", inputs: [-1, 0], multipliers: [1, 0], shift: 0, activation: "relu" },
      { kind: "add", inputs: [1, -1], multipliers: [3, 5], shift: 3, activation: "none" },
      { kind: "argmax", input: 2 },
    ]),
    inputs: [
      int8([1, 4], [7, 7, 7, 7]),
      int8([1, 4], [-128, 127, 127, -128]),
      int8([1, 4], [-3, -5, -7, 1]),
      int8([1, 4], [0, 0, 0, 0]),
    ],
  },
  {
    // Conv with padding reading zeros, a negative max pool and a flatten into a dense.
    model: {
      format: "vqm/1",
      name: "conv-pad-pool",
      input: { shape: [1, 1, 3, 3], scale: 1 },
      layers: [
        {
          kind: "conv2d",
          input: -1,
          inChannels: 1,
          outChannels: 2,
          kernel: [3, 3],
          stride: [1, 1],
          padding: [1, 1, 1, 1],
          weights: Int8Array.from([...Array(9).fill(-128), ...Array(9).fill(127)]),
          bias: Int32Array.of(0, -1),
          requant: { multiplier: Int32Array.of(1, 1), shift: Uint8Array.of(8, 9), activation: "none" },
        },
        { kind: "maxpool2d", input: 0, kernel: [2, 2], stride: [1, 1] },
        { kind: "reshape", input: 1, shape: [1, 8] },
        dense(2, [[1, -1, 1, -1, 1, -1, 1, -1]], [0], [1], [0]),
      ],
    },
    inputs: [
      int8([1, 1, 3, 3], Array(9).fill(-128)),
      int8([1, 1, 3, 3], Array(9).fill(127)),
      int8([1, 1, 3, 3], [1, -2, 3, -4, 5, -6, 7, -8, 9]),
    ],
  },
];

/** Built model folders under models/ (any depth up to 3) whose manifest.json is a VQM manifest. */
function builtModelFolders(): string[] {
  const found: string[] = [];
  const visit = (dir: string, depth: number) => {
    if (!existsSync(dir) || depth > 3) return;
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (name === "node_modules" || !statSync(path).isDirectory()) continue;
      const manifest = join(path, "manifest.json");
      if (existsSync(manifest) && existsSync(join(path, "model.onnx"))) {
        try {
          if ((JSON.parse(readFileSync(manifest, "utf8")) as { format?: string }).format === "vqm/1") found.push(path);
        } catch {
          // not a manifest of ours
        }
      }
      visit(path, depth + 1);
    }
  };
  visit(join(root, "models"), 1);
  return found.sort();
}

describe("VQM conformance: reference executor = onnxruntime, bit for bit, every layer", function () {
  this.timeout(120_000);

  it(`${randomModels} seeded random networks`, async () => {
    const kinds = new Map<string, number>();
    for (let seed = 0; seed < randomModels; seed++) {
      const { model, inputs } = randomVqm({ seed });
      for (const layer of model.layers) kinds.set(layer.kind, (kinds.get(layer.kind) ?? 0) + 1);
      await conform(model, inputs);
    }
    for (const kind of ["dense", "conv2d", "relu", "add", "maxpool2d", "reshape", "argmax"])
      assert.ok((kinds.get(kind) ?? 0) >= 10, `random networks exercise ${kind} (${kinds.get(kind) ?? 0} times)`);
  });

  for (const { model, inputs } of edgeCases) it(`edge case ${model.name}`, () => conform(model, inputs));

  for (const folder of builtModelFolders())
    it(`built model ${folder.slice(root.length + 1)}`, async () => {
      const { model, onnx } = await readVqm(folder);
      const prng = createPrng(1);
      await conform(
        model,
        Array.from({ length: 20 }, () => randomInput(model.input.shape, prng)),
        onnx,
      );
    });
});
