/**
 * What `verity model register` reads from an ONNX file (onnx-signature.ts) and how it settles
 * the formats it registers (registered-formats.ts): files that are not ONNX named for what they
 * are, dynamic dims fixed by --dim or a manifest or refused, manifests that contradict the file
 * refused. The CLI and the chain are in model-folder.test.ts.
 */
import { readFileSync } from "node:fs";
import { expect } from "chai";
import { keccak256 } from "ethers";
import { writeOnnx } from "../../oracle/model/onnx/write-onnx.ts";
import { onnx } from "../../oracle/model/onnx/onnx-schema.ts";
import { OnnxSignatureError, readOnnxSignature, type OnnxSignature } from "../../oracle/model/onnx/onnx-signature.ts";
import {
  parseDimFlags,
  RegisteredFormatsError,
  resolveRegisteredFormats,
  type OnnxModelManifest,
} from "../../oracle/model/registered-formats.ts";
import { createTensor } from "../../oracle/model/tensor.ts";

const iris = new Uint8Array(readFileSync("models/iris/iris.onnx"));
const irisManifest = JSON.parse(readFileSync("models/iris/iris.json", "utf8")) as OnnxModelManifest;

/** x [N, 4] float32 → MatMul → y [N, 3]. */
const dynamic = writeOnnx({
  graph: {
    name: "dynamic",
    inputs: [{ name: "x", dtype: "float32", shape: ["N", 4] }],
    outputs: [{ name: "y", dtype: "float32", shape: ["N", 3] }],
    initializers: [{ name: "w", tensor: createTensor("float32", [4, 3], new Array(12).fill(0.5)) }],
    nodes: [{ name: "mm", opType: "MatMul", inputs: ["x", "w"], outputs: ["y"] }],
  },
});

/** A raw ModelProto (for what our writer refuses to write: other dtypes, external data, ...). */
function rawModel(graph: Record<string, unknown>): Uint8Array {
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: "", version: 17 }], graph }),
  ).finish();
}

const tensorInfo = (name: string, elemType: number, dims: number[]) => ({
  name,
  type: { tensorType: { elemType, shape: { dim: dims.map((dimValue) => ({ dimValue })) } } },
});

function refusal(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    expect(error instanceof OnnxSignatureError || error instanceof RegisteredFormatsError, String(error)).to.equal(
      true,
    );
    return error as Error;
  }
  throw new Error("expected a refusal");
}

const shortOf = (run: () => unknown) => (refusal(run) as OnnxSignatureError).shortMessage;

describe("model register: the formats come from the ONNX file", () => {
  it("reads iris.onnx's one input and one output; iris.json agrees and adds its labels", () => {
    const signature = readOnnxSignature(iris, "iris.onnx");
    expect(signature.input).to.deep.equal({ name: "input", dtype: "float32", shape: [1, 4] });
    expect(signature.output).to.deep.equal({ name: "logits", dtype: "float32", shape: [1, 3] });
    const formats = resolveRegisteredFormats({
      file: "iris.onnx",
      bytes: iris,
      signature,
      manifest: { file: "iris.json", content: irisManifest },
    });
    expect(formats).to.deep.equal({
      input: { dtype: "float32", shape: [1, 4] },
      output: { dtype: "float32", shape: [1, 3] },
      labels: ["setosa", "versicolor", "virginica"],
    });
    // Without a manifest: the same formats.
    expect(resolveRegisteredFormats({ file: "iris.onnx", bytes: iris, signature })).to.deep.equal({
      input: formats.input,
      output: formats.output,
    });
  });

  it("refuses a file that is not ONNX in one line naming the file and what it found", () => {
    const text = (s: string) => new TextEncoder().encode(s);
    const cases: [Uint8Array, string][] = [
      [text('{ "input": {} }'), "m.onnx is not an ONNX model: it holds JSON text."],
      [text("hello, I am a README\n"), "m.onnx is not an ONNX model: it holds text."],
      [new Uint8Array(), "m.onnx is not an ONNX model: the file is empty."],
      [
        Uint8Array.from([0x50, 0x4b, 0x03, 0x04, 1, 2, 3]),
        "m.onnx is not an ONNX model: it is a zip archive (a PyTorch .pt/.pth checkpoint or a Keras .keras file?).",
      ],
      [
        Uint8Array.from([0x80, 0x04, 0x95, 0, 1]),
        "m.onnx is not an ONNX model: it is a Python pickle (a PyTorch or scikit-learn model?).",
      ],
      [
        Uint8Array.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a]),
        "m.onnx is not an ONNX model: it is an HDF5 file (a Keras .h5 model?).",
      ],
      [
        Uint8Array.from([0x08, 0x07]),
        "m.onnx is not an ONNX model: it decodes as a protobuf message but holds no ONNX graph with outputs.",
      ],
    ];
    for (const [bytes, message] of cases) expect(shortOf(() => readOnnxSignature(bytes, "m.onnx"))).to.equal(message);
    expect(shortOf(() => readOnnxSignature(Uint8Array.from([0x0f, 0xff, 0x00, 0x12]), "m.onnx"))).to.match(
      /^m\.onnx is not an ONNX model: its bytes do not decode as an ONNX protobuf \(.+\)\.$/,
    );
  });

  it("refuses what no provider could serve: two inputs, an element type without a code, external weights", () => {
    const two = rawModel({
      name: "g",
      input: [tensorInfo("a", 1, [1, 2]), tensorInfo("b", 1, [1, 2]), tensorInfo("w", 1, [2, 2])],
      output: [tensorInfo("y", 1, [1, 2])],
      initializer: [{ name: "w", dataType: 1, dims: [2, 2], floatData: [1, 2, 3, 4] }],
    });
    // "w", an initializer listed among the inputs (older exporters), is not counted.
    expect(shortOf(() => readOnnxSignature(two, "m.onnx"))).to.equal(
      'm.onnx has 2 inputs ("a", "b"); a model takes one input and gives one output.',
    );
    const float64 = rawModel({ name: "g", input: [tensorInfo("x", 11, [1, 2])], output: [tensorInfo("y", 1, [1, 2])] });
    expect(shortOf(() => readOnnxSignature(float64, "m.onnx"))).to.equal(
      `m.onnx's input "x" is float64, which the chain has no code for.`,
    );
    const external = rawModel({
      name: "g",
      input: [tensorInfo("x", 1, [1, 2])],
      output: [tensorInfo("y", 1, [1, 2])],
      initializer: [{ name: "w", dataType: 1, dims: [2, 2], dataLocation: 1 }],
    });
    expect(shortOf(() => readOnnxSignature(external, "m.onnx"))).to.equal(
      'm.onnx keeps its weights in external files ("w").',
    );
  });

  it("refuses an unresolved dynamic dim, naming it and the flag that fixes it", () => {
    const signature = readOnnxSignature(dynamic, "dyn.onnx");
    expect(signature.input.shape).to.deep.equal(["N", 4]);
    const error = refusal(() =>
      resolveRegisteredFormats({ file: "dyn.onnx", bytes: dynamic, signature }),
    ) as RegisteredFormatsError;
    expect(error.shortMessage).to.equal(
      `dyn.onnx's input "x" [N, 4] has a dynamic dim 0 ("N"); the chain registers fixed sizes.`,
    );
    expect(error.details).to.deep.equal([
      "Fix it with --dim N=SIZE (e.g. --dim N=1: one row per request), or give the input shape in --manifest.",
    ]);
    // An unnamed dim is named by position.
    const unnamed: OnnxSignature = { ...signature, input: { ...signature.input, shape: [null, 4] } };
    expect(
      (
        refusal(() =>
          resolveRegisteredFormats({ file: "u.onnx", bytes: dynamic, signature: unnamed }),
        ) as RegisteredFormatsError
      ).details[0],
    ).to.match(/--dim input:0=SIZE/);
  });

  it("fixes a dynamic dim with --dim (one name, both sides) or with the manifest, and refuses them disagreeing", () => {
    const signature = readOnnxSignature(dynamic, "dyn.onnx");
    const resolve = (dims?: Record<string, number>, content?: OnnxModelManifest) =>
      resolveRegisteredFormats({
        file: "dyn.onnx",
        bytes: dynamic,
        signature,
        dims,
        manifest: content && { file: "m.json", content },
      });
    expect(resolve(parseDimFlags(["N=2"]))).to.deep.equal({
      input: { dtype: "float32", shape: [2, 4] },
      output: { dtype: "float32", shape: [2, 3] },
    });
    expect(resolve({}, { input: { shape: [1, 4] }, output: { shape: [1, 3] } }).output.shape).to.deep.equal([1, 3]);
    expect(resolve({ "input:0": 1, "output:0": 1 }).input.shape).to.deep.equal([1, 4]);
    expect(shortOf(() => resolve({ N: 2 }, { input: { shape: [1, 4] } }))).to.equal(
      `The manifest's input shape [1, 4] sets dim 0 ("N") to 1, --dim to 2.`,
    );
    expect(shortOf(() => resolve({}, { input: { shape: [1, 4] }, output: { shape: [2, 3] } }))).to.equal(
      `The dynamic dim "N" gets two sizes: 1 (input dim 0) and 2 (output dim 0).`,
    );
    expect(shortOf(() => resolve({ M: 1 }))).to.equal("--dim M: dyn.onnx has no dynamic dim of that name.");
    expect(shortOf(() => resolve({ "input:1": 5, N: 1 }))).to.equal(
      "--dim input:1=5: dyn.onnx's input dim 1 is fixed at 4.",
    );
    expect(shortOf(() => parseDimFlags(["N=0"]))).to.equal("--dim N=0: expected NAME=SIZE with SIZE an integer >= 1.");
    expect(shortOf(() => parseDimFlags(["N"]))).to.equal("--dim N: expected NAME=SIZE with SIZE an integer >= 1.");
  });

  it("refuses a manifest that contradicts the file: dtype, shape, name, modelHash, label count", () => {
    const signature = readOnnxSignature(iris, "iris.onnx");
    const resolve = (content: OnnxModelManifest) =>
      shortOf(() =>
        resolveRegisteredFormats({ file: "iris.onnx", bytes: iris, signature, manifest: { file: "m.json", content } }),
      );
    expect(resolve({ input: { dtype: "int8" } })).to.equal(
      `The manifest's input dtype "int8" is not the ONNX file's float32.`,
    );
    expect(resolve({ output: { shape: [1, 4] } })).to.equal(
      "The manifest's output shape [1, 4] is not the ONNX file's.",
    );
    expect(resolve({ output: { shape: [3] } })).to.equal("The manifest's output shape [3] is not the ONNX file's.");
    expect(resolve({ input: { name: "features" } })).to.equal(
      `The manifest's input name "features" is not the ONNX file's "input".`,
    );
    expect(resolve({ modelHash: keccak256("0x01") })).to.equal(
      "The manifest's modelHash is not iris.onnx's keccak256.",
    );
    expect(resolve({ labels: ["a", "b"] })).to.equal(
      "The manifest has 2 labels; the ONNX file's output [1, 3] has 3 classes.",
    );
    expect(resolve({ input: { dtype: "float16" } })).to.equal(`The manifest's input dtype "float16" is not a dtype.`);
  });
});
