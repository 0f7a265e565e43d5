import { expect } from "chai";
import { readOnnx, OnnxReadError } from "../../oracle/model/onnx/read-onnx.ts";
import { onnxModelOf, writeOnnx } from "../../oracle/model/onnx/write-onnx.ts";
import type { WriteOnnxParameters } from "../../oracle/model/onnx/write-onnx.ts";
import { OnnxWriteError } from "../../oracle/model/onnx/onnx-model.ts";
import type { OnnxGraph } from "../../oracle/model/onnx/onnx-model.ts";
import { ModelProto } from "../../oracle/model/onnx/onnx-schema.ts";
import { createTensor } from "../../oracle/model/tensor.ts";
import { createSession } from "../../oracle/runtime/create-session.ts";
import { runInference } from "../../oracle/runtime/run-inference.ts";
import { initMlp } from "../../oracle/model/train/mlp.ts";
import { forwardFloat32, mlpOnnxGraph, toFloat32Layers } from "../../oracle/model/train/mlp-onnx.ts";
import { createPrng } from "../../oracle/model/train/prng.ts";
import { FailureReason, failureReasonOf } from "../../oracle/model/failure-reason.ts";
import { assertClose } from "../util/assert-close.ts";

/** A graph touching every dtype and attribute kind the description supports. */
const everything: WriteOnnxParameters = {
  producerVersion: "1.2.3",
  docString: "test model",
  metadata: { zeta: "last", alpha: "first" },
  graph: {
    name: "everything",
    inputs: [{ name: "x", dtype: "int8", shape: ["batch", 4] }],
    outputs: [{ name: "y", dtype: "int32", shape: ["batch", 2] }],
    initializers: [
      { name: "w", tensor: createTensor("int8", [2, 4], [1, -2, 3, -4, 5, -6, 7, -128]) },
      { name: "zero", tensor: createTensor("int8", [1], [0]) },
      { name: "f", tensor: createTensor("float32", [2], [0.5, -1.25]) },
      { name: "l", tensor: createTensor("int64", [2], [-(2n ** 40n), 7n]) },
      { name: "u", tensor: createTensor("uint8", [1], [255]) },
      { name: "i", tensor: createTensor("int32", [1], [-5]) },
    ],
    nodes: [
      {
        name: "mm",
        opType: "MatMulInteger",
        inputs: ["x", "wt", "zero", "zero"],
        outputs: ["y"],
        attributes: {
          z: { type: "string", value: "µ" },
          a: { type: "int", value: -3 },
          m: { type: "floats", value: [0.5, 2] },
          b: { type: "float", value: 0.25 },
          k: { type: "ints", value: [1, 0, -1] },
        },
      },
    ],
  },
};
// MatMulInteger needs [4, 2]: transpose w first with a node that has no attributes.
everything.graph.nodes.unshift({ name: "t", opType: "Transpose", domain: "", inputs: ["w"], outputs: ["wt"] });

describe("onnx write/read", () => {
  it("round-trips a description exactly", () => {
    const model = readOnnx(writeOnnx(everything));
    const expected = onnxModelOf(everything);
    // A node written without attributes or with the default domain reads back without them.
    expected.graph = { ...expected.graph, nodes: expected.graph.nodes.map(({ domain: _domain, ...node }) => node) };
    // Attributes come back sorted by name.
    expect(Object.keys(model.graph.nodes[1]!.attributes!)).to.deep.equal(["a", "b", "k", "m", "z"]);
    expect(model).to.deep.equal(expected);
  });

  it("writes opset 17 and IR version 8 by default, and the same bytes every time", () => {
    const bytes = writeOnnx(everything);
    const proto = ModelProto.decode(bytes);
    expect(Number(proto.irVersion)).to.equal(8);
    expect(proto.opsetImport.map((o) => [o.domain, Number(o.version)])).to.deep.equal([["", 17]]);
    expect(proto.metadataProps.map((p) => p.key)).to.deep.equal(["alpha", "zeta"]);
    expect(Buffer.from(writeOnnx(structuredClone(everything))).equals(Buffer.from(bytes))).to.equal(true);
  });

  it("writes a graph onnxruntime runs (integer ops, exact)", async () => {
    const graph = structuredClone(everything.graph);
    delete graph.nodes[1]!.attributes; // onnxruntime checks attributes against the operator
    const session = await createSession({ model: writeOnnx({ graph }) });
    try {
      const x = createTensor("int8", [2, 4], [1, 1, 1, 1, 1, 2, 3, 4]);
      const y = await runInference(session, x);
      expect(y.dtype).to.equal("int32");
      expect(y.shape).to.deep.equal([2, 2]);
      // w rows: [1,-2,3,-4] and [5,-6,7,-128]
      expect(y.data).to.deep.equal(new Int32Array([-2, -122, -10, -498]));
    } finally {
      await session.release();
    }
  });

  it("gives onnxruntime logits equal to the pure float32 forward pass", async () => {
    const layers = toFloat32Layers(initMlp([4, 8, 3], createPrng(7)));
    // Non-zero biases, so the bias path is checked too.
    layers.forEach((layer) => layer.bias.forEach((_, i) => (layer.bias[i] = (i - 2) / 7)));
    const session = await createSession({ model: writeOnnx({ graph: mlpOnnxGraph({ layers }) }) });
    try {
      const prng = createPrng(11);
      for (let trial = 0; trial < 20; trial++) {
        const x = Array.from({ length: 4 }, () => prng.uniform(-8, 8));
        const expected = forwardFloat32(layers, x);
        const got = await runInference(session, createTensor("float32", [1, 4], x));
        expect(got.shape).to.deep.equal([1, 3]);
        Array.from(got.data as Float32Array).forEach((value, k) => assertClose(value, expected[k]!, 1e-5));
      }
    } finally {
      await session.release();
    }
  });

  describe("refuses invalid graphs", () => {
    const base = (): OnnxGraph => structuredClone(everything.graph);
    const cases: [string, (g: OnnxGraph) => void, RegExp][] = [
      ["an undefined node input", (g) => (g.nodes[1]!.inputs[1] = "nope"), /reads "nope", which is not defined/],
      ["nodes out of order", (g) => g.nodes.reverse(), /reads "wt"/],
      [
        "a duplicate name",
        (g) => g.initializers.push({ name: "x", tensor: createTensor("int8", [1], [0]) }),
        /"x" is defined twice/,
      ],
      ["an output nobody produces", (g) => (g.outputs[0]!.name = "ghost"), /"ghost" is not produced/],
      [
        "a malformed initializer",
        (g) => (g.initializers[0]!.tensor = { dtype: "int8", shape: [3], data: new Int8Array(2) }),
        /Initializer "w" is not a valid tensor/,
      ],
      ["an unknown dtype", (g) => (g.inputs[0]!.dtype = "bool" as never), /unknown dtype "bool"/],
      [
        "a fractional int attribute",
        (g) => (g.nodes[1]!.attributes!["a"] = { type: "int", value: 1.5 }),
        /Invalid attribute "a"/,
      ],
    ];
    for (const [name, mutate, message] of cases) {
      it(name, () => {
        const graph = base();
        mutate(graph);
        expect(() => writeOnnx({ graph })).to.throw(OnnxWriteError, message);
      });
    }
  });

  it("reports unreadable model bytes as ModelContentInvalid", () => {
    const read = () => readOnnx(new Uint8Array([0xff, 0xff, 0xff, 0xff]));
    expect(read).to.throw(OnnxReadError, /not a valid ONNX protobuf/);
    try {
      read();
    } catch (error) {
      expect(failureReasonOf(error)).to.equal(FailureReason.ModelContentInvalid);
    }
    expect(() => readOnnx(new Uint8Array())).to.throw(OnnxReadError, /no graph/);
  });

  it("reads initializers stored in typed fields, as other exporters write them", () => {
    const proto = ModelProto.decode(writeOnnx(everything));
    const initializers = proto.graph!.initializer!;
    const w = initializers.find((t) => t.name === "w")!;
    w.int32Data = [1, -2, 3, -4, 5, -6, 7, -128];
    w.rawData = new Uint8Array();
    const f = initializers.find((t) => t.name === "f")!;
    f.floatData = [0.5, -1.25];
    f.rawData = new Uint8Array();
    const l = initializers.find((t) => t.name === "l")!;
    l.int64Data = [-(2 ** 40), 7];
    l.rawData = new Uint8Array();
    const back = readOnnx(ModelProto.encode(proto).finish());
    const byName = new Map(back.graph.initializers.map(({ name, tensor }) => [name, tensor.data]));
    expect(byName.get("w")).to.deep.equal(new Int8Array([1, -2, 3, -4, 5, -6, 7, -128]));
    expect(byName.get("f")).to.deep.equal(new Float32Array([0.5, -1.25]));
    expect(byName.get("l")).to.deep.equal(new BigInt64Array([-(2n ** 40n), 7n]));
  });
});
