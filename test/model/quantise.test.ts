import { expect } from "chai";
import { readOnnx } from "../../oracle/model/onnx/read-onnx.ts";
import { writeOnnx } from "../../oracle/model/onnx/write-onnx.ts";
import type { OnnxGraph, OnnxNode } from "../../oracle/model/onnx/onnx-model.ts";
import { compileVqm, parseCalibration } from "../../oracle/model/quantise/compile-vqm.ts";
import {
  accumulatorBounds,
  chooseAddFixedPoint,
  chooseFixedPoint,
  QuantiseError,
  quantiseBias,
  quantiseInput,
  quantisePerChannel,
  quantiseValue,
  symmetricScale,
} from "../../oracle/model/quantise/fixed-point.ts";
import { lowerOnnx, UnsupportedOpError } from "../../oracle/model/quantise/float-network.ts";
import { quantiseModel } from "../../oracle/model/quantise/quantise-model.ts";
import { createTensor } from "../../oracle/model/tensor.ts";
import type { Tensor } from "../../oracle/model/tensor.ts";
import { createPrng } from "../../oracle/model/train/prng.ts";
import { executeVqm } from "../../oracle/model/vqm/reference-executor.ts";
import { validateVqm } from "../../oracle/model/vqm/validate-vqm.ts";
import { assertClose } from "../util/assert-close.ts";

const prng = createPrng(11);
const randoms = (n: number, scale = 1) => Array.from({ length: n }, () => prng.uniform(-scale, scale));
const floats = (name: string, shape: number[], values = randoms(shape.reduce((a, b) => a * b, 1))) => ({
  name,
  tensor: createTensor("float32", shape, values) as Tensor,
});

function graph(
  nodes: OnnxNode[],
  initializers: OnnxGraph["initializers"],
  input: number[],
  output: string,
  outputShape: number[],
): Uint8Array {
  return writeOnnx({
    graph: {
      name: "g",
      inputs: [{ name: "x", dtype: "float32", shape: input }],
      outputs: [{ name: output, dtype: output === "cls" ? "int64" : "float32", shape: outputShape }],
      initializers,
      nodes,
    },
  });
}

function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (error) {
    return error as Error;
  }
  expect.fail("expected an error");
}

describe("quantiser: float → integer helpers", () => {
  it("symmetric scales and int8 values round to nearest and saturate", () => {
    expect(symmetricScale(12.7)).to.equal(12.7 / 127);
    expect(symmetricScale(0)).to.equal(1);
    expect(() => symmetricScale(Number.NaN)).to.throw(QuantiseError);
    expect(quantiseValue(0.25, 0.1)).to.equal(3); // 2.5 → 3 (ties toward +∞)
    expect(quantiseValue(-0.25, 0.1)).to.equal(-2);
    expect(quantiseValue(100, 0.1)).to.equal(127);
    expect(quantiseValue(-100, 0.1)).to.equal(-128);
    expect(Array.from(quantiseInput([1, -1, 0.04], 0.1))).to.deep.equal([10, -10, 0]);
  });

  it("weights get one scale per output channel, in [-127, 127]", () => {
    // Row 0 is large, row 1 small: per-channel keeps row 1's precision.
    const { values, scales } = quantisePerChannel([12.7, -6.4, 0.0127, -0.0254, 0, 0], 3);
    expect(Array.from(values)).to.deep.equal([127, -64, 64, -127, 0, 0]);
    assertClose(scales[0]!, 0.1, 1e-15);
    assertClose(scales[1]!, 0.0002, 1e-18);
    expect(scales[2]).to.equal(1); // an all-zero channel
    expect(Math.min(...quantisePerChannel(randoms(64), 4).values)).to.be.at.least(-127);
  });

  it("biases go to int32 at s_in · s_w[j], and refuse what does not fit", () => {
    expect(Array.from(quantiseBias([0.5, -0.3], 0.1, [0.01, 0.02]))).to.deep.equal([500, -150]);
    expect(() => quantiseBias([1e6], 1e-3, [1e-3])).to.throw(QuantiseError, /does not fit int32/);
    expect(accumulatorBounds(Int8Array.from([1, -2, 3, 4]), Int32Array.from([-10, 5]))).to.deep.equal([
      10 + 128 * 3,
      5 + 128 * 7,
    ]);
  });

  it("m / 2^s approximates the ratio with m in [2^30, 2^31)", () => {
    for (const ratio of [1, 0.5, 0.3, 1e-3, 7.25e-6, 123.456, 2 ** 30 + 0.5]) {
      const { multiplier, shift } = chooseFixedPoint(ratio);
      expect(multiplier)
        .to.be.at.least(2 ** 30)
        .and.below(2 ** 31);
      expect(shift).to.be.within(0, 62);
      expect(Math.abs(multiplier / 2 ** shift - ratio) / ratio).to.be.at.most(2 ** -30);
    }
    expect(chooseFixedPoint(0.5)).to.deep.equal({ multiplier: 2 ** 30, shift: 31 });
  });

  it("gives up precision until the requantisation bound holds, and refuses the impossible", () => {
    const bound = 2 ** 31 - 1;
    const { multiplier, shift } = chooseFixedPoint(0.75, bound);
    expect(BigInt(bound) * BigInt(multiplier) + (1n << BigInt(shift - 1))).to.be.below(2n ** 62n);
    expect(multiplier).to.be.below(2 ** 31);
    expect(Math.abs(multiplier / 2 ** shift - 0.75)).to.be.below(1e-8);
    expect(chooseFixedPoint(1e-17).shift).to.equal(62); // capped shift, smaller m
    expect(() => chooseFixedPoint(2 ** 31)).to.throw(QuantiseError, /2\^31 or more/);
    expect(() => chooseFixedPoint(1e-20)).to.throw(QuantiseError, /below the smallest/);
    expect(() => chooseFixedPoint(0)).to.throw(QuantiseError);
  });

  it("residual add multipliers share one shift", () => {
    const { multipliers, shift } = chooseAddFixedPoint(0.5, 0.25);
    expect(multipliers).to.deep.equal([2 ** 30, 2 ** 29]);
    expect(shift).to.equal(31);
  });
});

describe("quantiser: float graphs", () => {
  it("refuses an unsupported op, naming the op and the node", () => {
    const bytes = graph(
      [
        {
          name: "fc_1",
          opType: "Gemm",
          inputs: ["x", "w", "b"],
          outputs: ["h"],
          attributes: { transB: { type: "int", value: 1 } },
        },
        { name: "act_2", opType: "Sigmoid", inputs: ["h"], outputs: ["y"] },
      ],
      [floats("w", [2, 3]), floats("b", [2])],
      [1, 3],
      "y",
      [1, 2],
    );
    const error = thrown(() => quantiseModel({ onnx: readOnnx(bytes), calibration: [[1, 2, 3]] }));
    expect(error).to.be.instanceOf(UnsupportedOpError);
    expect((error as UnsupportedOpError).shortMessage).to.equal('Unsupported op Sigmoid at node "act_2"');
    expect(error).to.include({ opType: "Sigmoid", node: "act_2" });
  });

  it("refuses an unsupported attribute, naming the op, the node and the attribute", () => {
    const bytes = graph(
      [
        {
          name: "conv_a",
          opType: "Conv",
          inputs: ["x", "w"],
          outputs: ["y"],
          attributes: { group: { type: "int", value: 2 } },
        },
      ],
      [floats("w", [2, 1, 1, 1])],
      [1, 2, 3, 3],
      "y",
      [1, 2, 3, 3],
    );
    expect(() => lowerOnnx(readOnnx(bytes))).to.throw(
      UnsupportedOpError,
      'Unsupported op Conv at node "conv_a": group = 2',
    );
  });

  it("fuses MatMul + constant Add + Relu into one dense layer, with Gemm transB both ways", () => {
    const w = floats("w", [3, 4]);
    const w2 = floats("w2", [4, 3]);
    const bytes = graph(
      [
        { name: "mm", opType: "MatMul", inputs: ["x", "w"], outputs: ["h0"] },
        { name: "bias", opType: "Add", inputs: ["h0", "b"], outputs: ["h1"] },
        { name: "act", opType: "Relu", inputs: ["h1"], outputs: ["h2"] },
        {
          name: "fc",
          opType: "Gemm",
          inputs: ["h2", "w2", "c"],
          outputs: ["y"],
          attributes: { transB: { type: "int", value: 0 } },
        },
      ],
      [w, floats("b", [4]), w2, floats("c", [1, 3])],
      ["batch", 3] as unknown as number[],
      "y",
      [1, 3],
    );
    const network = lowerOnnx(readOnnx(bytes));
    expect(network.layers.map((l) => [l.kind, l.node, "activation" in l ? l.activation : "-"])).to.deep.equal([
      ["dense", "mm+bias+act", "relu"],
      ["dense", "fc", "none"],
    ]);
    // Both store B as [in][out]; the dense layers hold [out][in].
    const transpose = (t: Tensor, rows: number, cols: number) =>
      Array.from(
        { length: rows * cols },
        (_, k) => (t.data as Float32Array)[(k % rows) * cols + Math.floor(k / rows)]!,
      );
    expect(Array.from((network.layers[0] as { weights: Float64Array }).weights)).to.deep.equal(
      transpose(w.tensor, 3, 4),
    );
    expect(Array.from((network.layers[1] as { weights: Float64Array }).weights)).to.deep.equal(
      transpose(w2.tensor, 4, 3),
    );
    const calibration = Array.from({ length: 50 }, () => randoms(3, 2));
    const compiled = compileVqm({ onnx: bytes, calibration });
    expect(compiled.parameterCount).to.equal(3 * 4 + 4 + 4 * 3 + 3);
    expect(compiled.agreement.maxAbsError! / compiled.agreement.floatOutputRange!).to.be.below(0.05);
  });

  it("compiles a small CNN with residual add, pooling, flatten and argmax; integer classes follow the float ones", () => {
    const bytes = graph(
      [
        {
          name: "c1",
          opType: "Conv",
          inputs: ["x", "k1", "kb1"],
          outputs: ["a"],
          attributes: { pads: { type: "ints", value: [1, 1, 1, 1] } },
        },
        { name: "r1", opType: "Relu", inputs: ["a"], outputs: ["ar"] },
        {
          name: "c2",
          opType: "Conv",
          inputs: ["ar", "k2"],
          outputs: ["b"],
          attributes: { pads: { type: "ints", value: [1, 1, 1, 1] } },
        },
        { name: "res", opType: "Add", inputs: ["ar", "b"], outputs: ["s"] },
        { name: "r2", opType: "Relu", inputs: ["s"], outputs: ["sr"] },
        {
          name: "pool",
          opType: "MaxPool",
          inputs: ["sr"],
          outputs: ["p"],
          attributes: { kernel_shape: { type: "ints", value: [2, 2] }, strides: { type: "ints", value: [2, 2] } },
        },
        { name: "flat", opType: "Flatten", inputs: ["p"], outputs: ["f"] },
        {
          name: "fc",
          opType: "Gemm",
          inputs: ["f", "w", "c"],
          outputs: ["logits"],
          attributes: { transB: { type: "int", value: 1 } },
        },
        {
          name: "top",
          opType: "ArgMax",
          inputs: ["logits"],
          outputs: ["cls"],
          attributes: { axis: { type: "int", value: 1 }, keepdims: { type: "int", value: 0 } },
        },
      ],
      [
        floats("k1", [4, 1, 3, 3]),
        floats("kb1", [4], randoms(4, 0.1)),
        floats("k2", [4, 4, 3, 3], randoms(144, 0.3)),
        floats("w", [3, 16]),
        floats("c", [3]),
      ],
      [1, 1, 4, 4],
      "cls",
      [1],
    );
    const calibration = Array.from({ length: 60 }, () => randoms(16));
    const { model, layers, agreement } = compileVqm({ onnx: bytes, calibration });
    expect(layers.map((l) => `${l.kind}:${l.node}`)).to.deep.equal([
      "conv2d:c1+r1",
      "conv2d:c2",
      "add:res+r2",
      "maxpool2d:pool",
      "reshape:flat",
      "dense:fc",
      "argmax:top",
    ]);
    expect(model.outputScale).to.equal(undefined);
    expect(validateVqm(model).at(-1)).to.have.length.greaterThan(0);
    expect(agreement.top1Agreement).to.be.at.least(0.9);
    const { output } = executeVqm(model, {
      dtype: "int8",
      shape: [1, 1, 4, 4],
      data: quantiseInput(calibration[0]!, model.input.scale),
    });
    expect(output.dtype).to.equal("int32");
  });

  it("refuses bad calibration inputs and files", () => {
    const bytes = graph(
      [{ name: "fc", opType: "Gemm", inputs: ["x", "w"], outputs: ["y"] }],
      [floats("w", [2, 2])],
      [1, 2],
      "y",
      [1, 2],
    );
    expect(() => quantiseModel({ onnx: readOnnx(bytes), calibration: [[1, 2, 3]] })).to.throw(
      QuantiseError,
      /not 2 finite numbers/,
    );
    expect(() => quantiseModel({ onnx: readOnnx(bytes), calibration: [] })).to.throw(QuantiseError);
    expect(parseCalibration('{"inputs":[[1,2]]}').inputs).to.deep.equal([[1, 2]]);
    expect(() => parseCalibration('{"inputs":[]}')).to.throw(/inputs/);
    expect(() => parseCalibration("nope")).to.throw(/not JSON/);
  });
});
