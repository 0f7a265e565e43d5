import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { network } from "hardhat";
import type { ModelRegistry } from "../../oracle/chain/connect.ts";
import type { TensorFormat } from "../../oracle/model/tensor-format.ts";
import {
  MAX_ELEMENTS,
  MAX_INPUT_BYTES,
  MAX_LAYERS,
  MAX_OUTPUT_BYTES,
  MAX_RANK,
} from "../../oracle/model/chain-limits.ts";
import {
  verifiedModelLimitViolation,
  type VerifiedModelLimitsParameters,
} from "../../oracle/model/chain-limit-violation.ts";
import { writeOnnx } from "../../oracle/model/onnx/write-onnx.ts";
import { compileVqm } from "../../oracle/model/quantise/compile-vqm.ts";
import { createTensor, dtypes, type Tensor } from "../../oracle/model/tensor.ts";
import { syntheticMlp } from "../../oracle/model/vqm/synthetic-vqm.ts";
import { validateVqm, VqmValidationError } from "../../oracle/model/vqm/validate-vqm.ts";
import type { VqmLayer, VqmModel } from "../../oracle/model/vqm/vqm-model.ts";
import { tempDir } from "../node/helpers.ts";

const { ethers } = await network.create();
const deployRegistry = async () =>
  (await ethers.deployContract("ModelRegistry", [60, 86_400])) as unknown as ModelRegistry;
const exec = promisify(execFile);
const root = path.resolve(import.meta.dirname, "../..");

/** Asserts that `f` throws the VQM chain-limit error with exactly `message`, at `layer`. */
function refuses(f: () => unknown, message: string, layer = -1): void {
  expect(f)
    .to.throw(VqmValidationError)
    .that.satisfies((error: VqmValidationError) => {
      expect(error.rule).to.equal("chain-limit");
      expect(error.layer).to.equal(layer);
      expect(error.shortMessage).to.equal(`${layer < 0 ? "VQM model" : `VQM layer ${layer}`}: ${message}.`);
      return true;
    });
}

/** A 1×1 conv whose bottom and right padding grow [1, 1, 1, 1] to [1, 1, 1 + bottom, 1 + right], pooled back to a few elements. */
function paddedConv(bottom: number, right: number): VqmModel {
  const layers: VqmLayer[] = [
    {
      kind: "conv2d",
      input: -1,
      inChannels: 1,
      outChannels: 1,
      kernel: [1, 1],
      stride: [1, 1],
      padding: [0, 0, bottom, right],
      weights: Int8Array.of(1),
      bias: Int32Array.of(0),
      requant: { multiplier: Int32Array.of(1), shift: Uint8Array.of(0), activation: "none" },
    },
    { kind: "maxpool2d", input: 0, kernel: [4096, 4096], stride: [1, 1] },
  ];
  return { format: "vqm/1", name: "padded", input: { shape: [1, 1, 1, 1], scale: 1 }, layers, outputScale: 1 };
}

/** An argmax over the last axis of an int8 [1, rows, 2] input: an int32 [1, rows] output. */
function argmaxRows(rows: number): VqmModel {
  return {
    format: "vqm/1",
    name: "rows",
    input: { shape: [1, rows, 2], scale: 1 },
    layers: [{ kind: "argmax", input: -1 }],
  };
}

const mlp =
  (sizes: number[], argmax = false) =>
  () =>
    syntheticMlp({ seed: 3, sizes, argmax });
const twos = (count: number) => new Array<number>(count).fill(2);

describe("chain limits: the compiler refuses what ModelRegistry refuses", function () {
  this.timeout(20_000);

  it("each limit equals ModelRegistry's public constant", async () => {
    const registry = await deployRegistry();
    expect(await registry.MAX_RANK()).to.equal(BigInt(MAX_RANK));
    expect(await registry.MAX_ELEMENTS()).to.equal(BigInt(MAX_ELEMENTS));
    expect(await registry.MAX_LAYERS()).to.equal(BigInt(MAX_LAYERS));
    expect(await registry.MAX_INPUT_BYTES()).to.equal(BigInt(MAX_INPUT_BYTES));
    expect(await registry.MAX_OUTPUT_BYTES()).to.equal(BigInt(MAX_OUTPUT_BYTES));
  });

  it("MAX_INPUT_BYTES: refuses an input of 32,769 bytes inline, accepts 32,768", () => {
    // int8 [1, n]: 11 header bytes + n elements.
    expect(validateVqm(mlp([32_757, 2], true)())).to.deep.equal([[1, 2], [1]]);
    refuses(
      mlp([32_758, 2], true),
      "input int8 [1, 32758] takes 32769 bytes inline, more than the chain's 32768 (ModelRegistry.MAX_INPUT_BYTES)",
    );
  });

  it("MAX_OUTPUT_BYTES: refuses an int8 or int32 output of more than 4,096 bytes, accepts 4,096", () => {
    validateVqm(mlp([2, 4085])());
    refuses(
      mlp([2, 4086]),
      "output int8 [1, 4086] takes 4097 bytes, more than the chain's 4096 (ModelRegistry.MAX_OUTPUT_BYTES)",
    );
    // argmax: int32 [1, rows], 11 + 4 · rows bytes.
    validateVqm(argmaxRows(1021));
    refuses(
      () => validateVqm(argmaxRows(1022)),
      "output int32 [1, 1022] takes 4099 bytes, more than the chain's 4096 (ModelRegistry.MAX_OUTPUT_BYTES)",
    );
  });

  it("MAX_ELEMENTS: refuses a layer of 2^24 + 1 elements or more, accepts 2^24", () => {
    expect(validateVqm(paddedConv(4095, 4095))[0]).to.deep.equal([1, 1, 4096, 4096]);
    refuses(
      () => validateVqm(paddedConv(4095, 4096)),
      "output [1, 1, 4096, 4097] has 16781312 elements, more than the chain's 16777216 (ModelRegistry.MAX_ELEMENTS)",
      0,
    );
  });

  it("MAX_LAYERS: refuses 1,025 layers, accepts 1,024", () => {
    expect(validateVqm(mlp(twos(1025))())).to.have.length(1024);
    refuses(
      mlp(twos(1025), true),
      "1025 layers, more than the chain's 1024 for an Optimistic model (ModelRegistry.MAX_LAYERS)",
    );
  });

  it("float32 and MAX_RANK: refuses a float32 or rank-9 tensor, accepts int8 of rank 8", () => {
    const int8 = { dtype: "int8", shape: [1, 4] } as const;
    expect(
      verifiedModelLimitViolation({ input: int8, output: { dtype: "int8", shape: [1, 1, 1, 1, 1, 1, 1, 3] } }),
    ).to.equal(undefined);
    expect(verifiedModelLimitViolation({ input: int8, output: { dtype: "float32", shape: [1, 3] } })).to.equal(
      "output float32 [1, 3] is a float tensor; the chain takes only integer ones (int8, int32, int64, uint8) for Zk and Optimistic models (ModelRegistry: ModelDtypeInvalid)",
    );
    expect(verifiedModelLimitViolation({ input: { dtype: "int8", shape: twos(9) }, output: int8 })).to.equal(
      "input int8 [2, 2, 2, 2, 2, 2, 2, 2, 2] has 9 dims, more than the chain's 8 (ModelRegistry.MAX_RANK)",
    );
  });

  it("agrees with ModelRegistry.register on each case, for Zk and Optimistic", async () => {
    const registry = await deployRegistry();
    const cases: VerifiedModelLimitsParameters[] = [
      { input: { dtype: "int8", shape: [1, 32_757] }, output: { dtype: "int32", shape: [1] } },
      { input: { dtype: "int8", shape: [1, 32_758] }, output: { dtype: "int32", shape: [1] } },
      { input: { dtype: "int8", shape: [1, 2] }, output: { dtype: "int8", shape: [1, 4085] } },
      { input: { dtype: "int8", shape: [1, 2] }, output: { dtype: "int8", shape: [1, 4086] } },
      { input: { dtype: "int8", shape: [1, 2] }, output: { dtype: "int32", shape: [1, 1021] } },
      { input: { dtype: "int8", shape: [1, 2] }, output: { dtype: "int32", shape: [1, 1022] } },
      { input: { dtype: "int8", shape: [1, 2] }, output: { dtype: "int8", shape: [4097, 4096] } },
      { input: { dtype: "float32", shape: [1, 2] }, output: { dtype: "int8", shape: [1, 2] } },
      { input: { dtype: "int8", shape: twos(9) }, output: { dtype: "int8", shape: [1, 2] } },
      { input: { dtype: "int8", shape: [1, 2] }, output: { dtype: "int8", shape: [1, 2] }, layerCount: 1024 },
      { input: { dtype: "int8", shape: [1, 2] }, output: { dtype: "int8", shape: [1, 2] }, layerCount: 1025 },
    ];
    for (const limits of cases) {
      const refused = verifiedModelLimitViolation(limits) !== undefined;
      const modes = limits.layerCount === undefined ? (["zk", "optimistic"] as const) : (["optimistic"] as const);
      for (const mode of modes) {
        const reverted = await registryRefuses(registry, mode, limits);
        expect(reverted, `${mode} ${JSON.stringify(limits)}`).to.equal(refused);
      }
    }
  });

  it("verity model compile refuses a model beyond a limit in two lines, and compiles one just under", async () => {
    const temp = tempDir("chain-limits-");
    try {
      const compile = async (features: number) => {
        const onnx = path.join(temp.dir, `fc-${features}.onnx`);
        const calibration = path.join(temp.dir, `fc-${features}.json`);
        writeFileSync(onnx, denseOnnx(features, 2));
        writeFileSync(
          calibration,
          JSON.stringify({ inputs: [Array.from({ length: features }, (_, i) => (i % 7) - 3)] }),
        );
        const args = [path.join(root, "bin/verity.js"), "model", "compile", onnx, "--calibration", calibration];
        try {
          const { stdout, stderr } = await exec(
            process.execPath,
            [...args, "--out", path.join(temp.dir, `vqm-${features}`)],
            {
              cwd: root,
              env: { ...process.env, VERITY_DEBUG: "" },
            },
          );
          return { stdout, stderr, code: 0 };
        } catch (error) {
          return error as { stdout: string; stderr: string; code: number };
        }
      };
      const [over, under] = await Promise.all([compile(32_758), compile(32_757)]);
      expect(over.code).to.equal(1);
      expect(over.stderr.trimEnd().split("\n")).to.deep.equal([
        "error: VQM model: input int8 [1, 32758] takes 32769 bytes inline, more than the chain's 32768 (ModelRegistry.MAX_INPUT_BYTES).",
        "  Rule: chain-limit.",
      ]);
      expect(under.code, under.stderr).to.equal(0);
      expect(under.stdout).to.include(
        "chain limits (Zk, Optimistic): input 32768 of 32768 bytes, output 13 of 4096 bytes, 1 of 1024 layers",
      );
      // The function the command wraps refuses before calibrating.
      refuses(
        () => compileVqm({ onnx: denseOnnx(2, 4086), calibration: [[Number.NaN]] }),
        "output int8 [1, 4086] takes 4097 bytes, more than the chain's 4096 (ModelRegistry.MAX_OUTPUT_BYTES)",
      );
    } finally {
      temp.remove();
    }
  });
});

/** A float ONNX model: one Gemm from [1, inFeatures] to [1, outFeatures]. */
function denseOnnx(inFeatures: number, outFeatures: number): Uint8Array {
  const weights = Array.from({ length: inFeatures * outFeatures }, (_, i) => ((i * 37) % 11) / 10 - 0.5);
  const w: Tensor = createTensor("float32", [inFeatures, outFeatures], weights);
  return writeOnnx({
    graph: {
      name: `fc-${inFeatures}-${outFeatures}`,
      inputs: [{ name: "x", dtype: "float32", shape: [1, inFeatures] }],
      outputs: [{ name: "y", dtype: "float32", shape: [1, outFeatures] }],
      initializers: [{ name: "w", tensor: w }],
      nodes: [{ name: "fc", opType: "Gemm", inputs: ["x", "w"], outputs: ["y"] }],
    },
  });
}

/** True if `ModelRegistry.register` reverts for a model of these formats in `mode`. */
async function registryRefuses(
  registry: ModelRegistry,
  mode: "zk" | "optimistic",
  { input, output, layerCount }: VerifiedModelLimitsParameters,
): Promise<boolean> {
  const commitment = `0x${"aa".repeat(32)}`;
  const zero = `0x${"00".repeat(32)}`;
  const code = (format: TensorFormat) => dtypes[format.dtype].code;
  try {
    await registry.register.staticCall({
      modelHash: commitment,
      contentId: "bafy-model",
      mode: mode === "zk" ? 1 : 2,
      feeToken: ethers.ZeroAddress,
      price: 1n,
      royaltyBps: 0,
      inputShape: [...input.shape],
      outputShape: [...output.shape],
      inputDtype: code(input),
      outputDtype: code(output),
      verifier: mode === "zk" ? await registry.getAddress() : ethers.ZeroAddress,
      weightsRoot: mode === "zk" ? zero : commitment,
      layoutRoot: mode === "zk" ? zero : commitment,
      layerCount: mode === "zk" ? 0 : (layerCount ?? 1),
      challengeWindow: mode === "zk" ? 0 : 3600,
    });
    return false;
  } catch (error) {
    const data = (error as { data?: string }).data;
    if (data === undefined) throw error;
    expect(registry.interface.parseError(data), data).to.not.equal(null); // a ModelRegistry error, nothing else
    return true;
  }
}
