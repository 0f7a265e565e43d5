import { readFileSync } from "node:fs";
import { expect } from "chai";
import { argmax, argmaxRows } from "../../oracle/model/argmax.ts";
import { FailureReason, failureReasonOf } from "../../oracle/model/failure-reason.ts";
import { writeOnnx } from "../../oracle/model/onnx/write-onnx.ts";
import { createTensor } from "../../oracle/model/tensor.ts";
import { createSession, ModelLoadError, SessionParameterError } from "../../oracle/runtime/create-session.ts";
import type { ModelSession } from "../../oracle/runtime/create-session.ts";
import { InputShapeError, runInference, UnsupportedModelError } from "../../oracle/runtime/run-inference.ts";
import { integerGraphPinnedReason, isIntegerGraph } from "../../oracle/runtime/integer-graph.ts";

const irisOnnx = new Uint8Array(readFileSync(new URL("../../models/iris/iris.onnx", import.meta.url)));

async function shapeError(run: Promise<unknown>): Promise<InputShapeError> {
  try {
    await run;
  } catch (error) {
    expect(error).to.be.instanceOf(InputShapeError);
    expect(failureReasonOf(error)).to.equal(FailureReason.InputShapeMismatch);
    return error as InputShapeError;
  }
  expect.fail("runInference accepted a mismatched input");
}

describe("runtime", () => {
  let session: ModelSession;
  before(async () => {
    session = await createSession({ model: irisOnnx, threads: 1 });
  });
  after(async () => {
    await session.release();
  });

  it("exposes the model's declared input and output", () => {
    expect(session.provider).to.equal("cpu");
    expect(session.inputs).to.deep.equal([{ name: "input", dtype: "float32", shape: [1, 4] }]);
    expect(session.outputs).to.deep.equal([{ name: "logits", dtype: "float32", shape: [1, 3] }]);
  });

  it("runs a canonical tensor and returns one", async () => {
    const logits = await runInference(session, createTensor("float32", [1, 4], [5.1, 3.5, 1.4, 0.2]), {
      expectedShape: [1, 4],
      expectedDType: "float32",
    });
    expect(logits.dtype).to.equal("float32");
    expect(logits.shape).to.deep.equal([1, 3]);
    expect(logits.data).to.be.instanceOf(Float32Array);
    expect(argmax(logits)).to.equal(0); // setosa
  });

  it("rejects a wrong shape, naming expected and got", async () => {
    const error = await shapeError(runInference(session, createTensor("float32", [1, 3], [1, 2, 3])));
    expect(error.message).to.match(/shape does not match the model input[\s\S]*Expected \[1, 4\], got \[1, 3\]/);
    await shapeError(runInference(session, createTensor("float32", [4], [1, 2, 3, 4])));
    await shapeError(runInference(session, createTensor("float32", [2, 4], new Array(8).fill(1))));
  });

  it("rejects a wrong dtype", async () => {
    const error = await shapeError(runInference(session, createTensor("int32", [1, 4], [5, 3, 1, 0])));
    expect(error.message).to.match(/dtype does not match the model input[\s\S]*Expected float32, got int32/);
  });

  it("checks the registered shape and dtype too", async () => {
    const input = createTensor("float32", [1, 4], [5.1, 3.5, 1.4, 0.2]);
    const shape = await shapeError(runInference(session, input, { expectedShape: [4] }));
    expect(shape.message).to.match(/registered input[\s\S]*Expected \[4\], got \[1, 4\]/);
    const dtype = await shapeError(runInference(session, input, { expectedDType: "int8" }));
    expect(dtype.message).to.match(/registered input[\s\S]*Expected int8, got float32/);
  });

  it("accepts any size for a symbolic dim", async () => {
    const graph = {
      name: "id",
      inputs: [{ name: "x", dtype: "int64" as const, shape: ["n", 2] }],
      outputs: [{ name: "y", dtype: "int64" as const, shape: ["n", 2] }],
      initializers: [],
      nodes: [{ name: "neg", opType: "Neg", inputs: ["x"], outputs: ["y"] }],
    };
    const negate = await createSession({ model: writeOnnx({ graph }) });
    try {
      const y = await runInference(negate, createTensor("int64", [3, 2], [1n, -2n, 3n, 4n, 2n ** 62n, 0n]));
      expect(y.shape).to.deep.equal([3, 2]);
      expect(y.data).to.deep.equal(new BigInt64Array([-1n, 2n, -3n, -4n, -(2n ** 62n), 0n]));
      expect(argmaxRows(y)).to.deep.equal([1, 0, 1]);
      await shapeError(runInference(negate, createTensor("int64", [3], [1n, 2n, 3n])));
    } finally {
      await negate.release();
    }
  });

  it("falls back from cuda to cpu and says why", async () => {
    const reasons: string[] = [];
    const fallback = await createSession({
      model: irisOnnx,
      executionProvider: "cuda",
      onFallback: (reason) => reasons.push(reason),
    });
    try {
      expect(fallback.provider).to.equal("cpu");
      expect(reasons).to.have.length(1);
      expect(reasons[0]).to.match(/CUDA provider unavailable/);
      const logits = await runInference(fallback, createTensor("float32", [1, 4], [6.7, 3.0, 5.2, 2.3]));
      expect(argmax(logits)).to.equal(2); // virginica
    } finally {
      await fallback.release();
    }
  });

  it("keeps an integer (VQM) graph on the CPU when CUDA is asked for, and says why", async () => {
    const vqmOnnx = new Uint8Array(readFileSync(new URL("../../models/iris/vqm/model.onnx", import.meta.url)));
    expect(isIntegerGraph(vqmOnnx)).to.equal(true);
    expect(isIntegerGraph(irisOnnx)).to.equal(false);
    expect(isIntegerGraph(new Uint8Array([0xff, 0xff, 0xff]))).to.equal(false); // not ONNX: not pinned, and not thrown
    const reasons: string[] = [];
    const pinned = await createSession({
      model: vqmOnnx,
      executionProvider: "cuda",
      onFallback: (reason) => reasons.push(reason),
    });
    try {
      expect(pinned.provider).to.equal("cpu");
      // The pin, not a failed CUDA load: the CUDA provider is never tried for an integer graph.
      expect(reasons).to.deep.equal([integerGraphPinnedReason]);
    } finally {
      await pinned.release();
    }
  });

  it("reports model bytes that do not load as ModelContentInvalid", async () => {
    try {
      await createSession({ model: new Uint8Array([1, 2, 3]) });
      expect.fail("loaded garbage");
    } catch (error) {
      expect(error).to.be.instanceOf(ModelLoadError);
      expect(failureReasonOf(error)).to.equal(FailureReason.ModelContentInvalid);
    }
  });

  it("refuses bad session parameters", async () => {
    for (const parameters of [
      { model: new Uint8Array() },
      { model: irisOnnx, threads: 0 },
      { model: irisOnnx, executionProvider: "tpu" as never },
    ]) {
      let caught: unknown;
      await createSession(parameters).catch((error: unknown) => (caught = error));
      expect(caught).to.be.instanceOf(SessionParameterError);
    }
  });

  it("refuses models with more than one input", async () => {
    const graph = {
      name: "add",
      inputs: [
        { name: "a", dtype: "int32" as const, shape: [1] },
        { name: "b", dtype: "int32" as const, shape: [1] },
      ],
      outputs: [{ name: "c", dtype: "int32" as const, shape: [1] }],
      initializers: [],
      nodes: [{ name: "add", opType: "Add", inputs: ["a", "b"], outputs: ["c"] }],
    };
    const add = await createSession({ model: writeOnnx({ graph }) });
    try {
      let caught: unknown;
      await runInference(add, createTensor("int32", [1], [1])).catch((error: unknown) => (caught = error));
      expect(caught).to.be.instanceOf(UnsupportedModelError);
    } finally {
      await add.release();
    }
  });

  it("argmax breaks ties toward the lowest index", () => {
    expect(argmax(createTensor("int8", [4], [3, 7, 7, -1]))).to.equal(1);
    expect(argmax(createTensor("int64", [2], [5n, 5n]))).to.equal(0);
  });
});
