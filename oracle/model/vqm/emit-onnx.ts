/**
 * Compiles a VQM model to an integer ONNX graph with exactly the semantics of
 * docs/numeric-semantics.md, using only ops onnxruntime's CPU provider computes exactly:
 *
 * - dense: MatMulInteger on uint8 operands with zero point 128 (x + 128 and W^T + 128), so
 *   Σ (xu − 128)(wu − 128) = Σ x·W. We use uint8 × uint8 on purpose: onnxruntime turns
 *   int8 × int8 into uint8 × int8, whose AVX2 kernel (vpmaddubsw) saturates pairs at int16 on
 *   CPUs without VNNI; the uint8 × uint8 kernels widen to 16 bits first and are exact everywhere;
 * - conv2d: ConvInteger with the same uint8 / zero point 128 encoding; onnxruntime pads with the
 *   input zero point, i.e. with int8 0, as the spec requires;
 * - requantisation (both): + bias (int32), Cast int64, Mul m, Add 2^(s-1) + 2^62, Div 2^s
 *   (truncating, and the dividend is positive by bound 2), Sub 2^(62-s), clamp to [lo, 127]
 *   with Less/Greater and Where (onnxruntime 1.30's int64 Clip, Max and Min are not exact beyond
 *   int32), Cast int8; per-channel constants are int64 vectors ([out] or [oc, 1, 1]);
 * - add: Cast int64, Mul ma / mb, Add, then the same rounding chain (bound 3);
 * - relu: Relu on int8; maxpool2d: MaxPool on int8; reshape: Reshape;
 * - argmax: ArgMax over the last axis, keepdims 0, first index on ties, Cast int32.
 *
 * The input is "input" (int8), the result "output". With `{ trace: true }` every layer's output
 * is also a graph output "trace_<i>". The bytes are a pure function of the model.
 */
import { writeOnnx } from "../onnx/write-onnx.ts";
import type { OnnxInitializer, OnnxNode, OnnxValueInfo } from "../onnx/onnx-model.ts";
import { onnxDataTypeOf } from "../onnx/onnx-model.ts";
import type { DType, Tensor } from "../tensor.ts";
import { validateVqm } from "./validate-vqm.ts";
import type { Activation, AddLayer, Conv2dLayer, DenseLayer, VqmModel } from "./vqm-model.ts";

export type EmitOnnxOptions = {
  /** Also output every layer's result as "trace_<i>". Defaults to false. */
  trace?: boolean | undefined;
};

/** Zero point of the uint8 encoding of int8 operands: u = v + 128. */
export const uint8ZeroPoint = 128;

/** Initializer names emitOnnx gives layer i's weights and bias (read back by `vqm-files.ts`). */
export const weightName = (index: number) => `l${index}_weight`;
export const biasName = (index: number) => `l${index}_bias`;

const two62 = 2n ** 62n;

export function emitOnnx(model: VqmModel, { trace = false }: EmitOnnxOptions = {}): Uint8Array {
  const shapes = validateVqm(model);
  const last = model.layers.length - 1;
  const nodes: OnnxNode[] = [];
  const initializers: OnnxInitializer[] = [];
  const constants = new Set<string>();
  const constant = (name: string, tensor: Tensor): string => {
    if (!constants.has(name)) {
      constants.add(name);
      initializers.push({ name, tensor });
    }
    return name;
  };
  const node = (
    name: string,
    opType: string,
    inputs: string[],
    output: string,
    attributes?: OnnxNode["attributes"],
  ) => {
    nodes.push({ name, opType, inputs, outputs: [output], ...(attributes ? { attributes } : {}) });
    return output;
  };
  const cast = (name: string, input: string, to: DType) =>
    node(name, "Cast", [input], name, { to: { type: "int", value: onnxDataTypeOf[to] } });
  const valueOf = (ref: number) => (ref === -1 ? "input" : ref === last ? "output" : `l${ref}`);
  const zeroPoint = () => constant("zp_u8", tensor("uint8", [1], [uint8ZeroPoint]));

  const asUint8 = new Map<number, string>();
  /** The uint8 encoding x + 128 of an int8 value, computed once per value. */
  const uint8Of = (ref: number): string => {
    const cached = asUint8.get(ref);
    if (cached) return cached;
    const prefix = ref === -1 ? "input" : `l${ref}`;
    const wide = cast(`${prefix}_i32`, valueOf(ref), "int32");
    const shifted = node(
      `${prefix}_p128`,
      "Add",
      [wide, constant("c128_i32", tensor("int32", [1], [128]))],
      `${prefix}_p128`,
    );
    const encoded = cast(`${prefix}_u8`, shifted, "uint8");
    asUint8.set(ref, encoded);
    return encoded;
  };

  /** Rounding chain from an int64 value v to int8: clamp(floor((v + 2^(s-1)) / 2^s), lo, 127). */
  const roundClamp = (
    prefix: string,
    v: string,
    shifts: number[],
    channelShape: number[],
    act: Activation,
    out: string,
  ) => {
    const vector = (suffix: string, f: (s: number) => bigint) =>
      constant(`${prefix}_${suffix}`, tensor("int64", channelShape, shifts.map(f)));
    const biased = node(`${prefix}_bias62`, "Add", [v, vector("c", (s) => two62 + half(s))], `${prefix}_bias62`);
    const divided = node(`${prefix}_div`, "Div", [biased, vector("d", (s) => 1n << BigInt(s))], `${prefix}_div`);
    const floored = node(
      `${prefix}_unbias`,
      "Sub",
      [divided, vector("e", (s) => 1n << BigInt(62 - s))],
      `${prefix}_unbias`,
    );
    const lo =
      act === "relu"
        ? constant("lo_relu", tensor("int64", [1], [0n]))
        : constant("lo_none", tensor("int64", [1], [-128n]));
    // Less/Where and Greater/Where, not Clip or Max/Min: onnxruntime 1.30's int64 Clip, Max and
    // Min are wrong beyond int32 on this CPU (Max(2181038079, 0) = 0), its comparisons are exact.
    const hi = constant("hi", tensor("int64", [1], [127n]));
    const below = node(`${prefix}_lt`, "Less", [floored, lo], `${prefix}_lt`);
    const raised = node(`${prefix}_max`, "Where", [below, lo, floored], `${prefix}_max`);
    const above = node(`${prefix}_gt`, "Greater", [raised, hi], `${prefix}_gt`);
    const clipped = node(`${prefix}_min`, "Where", [above, hi, raised], `${prefix}_min`);
    node(`${prefix}_i8`, "Cast", [clipped], out, { to: { type: "int", value: onnxDataTypeOf.int8 } });
  };

  /** bias add, multiply, round and clamp of an int32 accumulator value. */
  const requantise = (index: number, layer: DenseLayer | Conv2dLayer, acc: string, channelShape: number[]) => {
    const prefix = `l${index}`;
    const { multiplier, shift, activation } = layer.requant;
    const withBias = node(
      `${prefix}_addbias`,
      "Add",
      [acc, constant(biasName(index), tensor("int32", channelShape, layer.bias))],
      `${prefix}_addbias`,
    );
    const wide = cast(`${prefix}_i64`, withBias, "int64");
    const m = constant(`${prefix}_m`, tensor("int64", channelShape, Array.from(multiplier, BigInt)));
    const product = node(`${prefix}_mul`, "Mul", [wide, m], `${prefix}_mul`);
    roundClamp(prefix, product, Array.from(shift), channelShape, activation, valueOf(index));
  };

  const addLayer = (index: number, layer: AddLayer) => {
    const prefix = `l${index}`;
    const scaled = layer.inputs.map((ref, k) => {
      const wide = cast(`${prefix}_in${k}_i64`, valueOf(ref), "int64");
      const m = constant(`${prefix}_m${k}`, tensor("int64", [1], [BigInt(layer.multipliers[k]!)]));
      return node(`${prefix}_mul${k}`, "Mul", [wide, m], `${prefix}_mul${k}`);
    });
    const sum = node(`${prefix}_sum`, "Add", scaled, `${prefix}_sum`);
    roundClamp(prefix, sum, [layer.shift], [1], layer.activation, valueOf(index));
  };

  model.layers.forEach((layer, index) => {
    const prefix = `l${index}`;
    const out = valueOf(index);
    switch (layer.kind) {
      case "dense": {
        const transposed = constant(
          weightName(index),
          tensor("uint8", [layer.inFeatures, layer.outFeatures], transposeShifted(layer)),
        );
        const acc = node(
          `${prefix}_matmul`,
          "MatMulInteger",
          [uint8Of(layer.input), transposed, zeroPoint(), zeroPoint()],
          `${prefix}_matmul`,
        );
        return requantise(index, layer, acc, [layer.outFeatures]);
      }
      case "conv2d": {
        const weights = constant(
          weightName(index),
          tensor(
            "uint8",
            [layer.outChannels, layer.inChannels, ...layer.kernel],
            Uint8Array.from(layer.weights, (w) => w + uint8ZeroPoint),
          ),
        );
        const acc = node(
          `${prefix}_conv`,
          "ConvInteger",
          [uint8Of(layer.input), weights, zeroPoint(), zeroPoint()],
          `${prefix}_conv`,
          {
            kernel_shape: { type: "ints", value: [...layer.kernel] },
            pads: { type: "ints", value: [...layer.padding] },
            strides: { type: "ints", value: [...layer.stride] },
          },
        );
        return requantise(index, layer, acc, [layer.outChannels, 1, 1]);
      }
      case "relu":
        return node(`${prefix}_relu`, "Relu", [valueOf(layer.input)], out);
      case "add":
        return addLayer(index, layer);
      case "maxpool2d":
        return node(`${prefix}_maxpool`, "MaxPool", [valueOf(layer.input)], out, {
          kernel_shape: { type: "ints", value: [...layer.kernel] },
          strides: { type: "ints", value: [...layer.stride] },
        });
      case "reshape": {
        const target = constant(`${prefix}_shape`, tensor("int64", [layer.shape.length], layer.shape.map(BigInt)));
        return node(`${prefix}_reshape`, "Reshape", [valueOf(layer.input), target], out);
      }
      case "argmax": {
        const index64 = node(`${prefix}_argmax`, "ArgMax", [valueOf(layer.input)], `${prefix}_argmax`, {
          axis: { type: "int", value: -1 },
          keepdims: { type: "int", value: 0 },
          select_last_index: { type: "int", value: 0 },
        });
        return node(`${prefix}_i32`, "Cast", [index64], out, { to: { type: "int", value: onnxDataTypeOf.int32 } });
      }
    }
  });

  const dtypeOf = (index: number): DType => (model.layers[index]!.kind === "argmax" ? "int32" : "int8");
  const outputs: OnnxValueInfo[] = [{ name: "output", dtype: dtypeOf(last), shape: shapes[last]! }];
  if (trace)
    shapes.forEach((shape, index) => {
      node(`trace_${index}`, "Identity", [valueOf(index)], `trace_${index}`);
      outputs.push({ name: `trace_${index}`, dtype: dtypeOf(index), shape });
    });
  return writeOnnx({
    graph: {
      name: model.name,
      inputs: [{ name: "input", dtype: "int8", shape: [...model.input.shape] }],
      outputs,
      initializers,
      nodes,
    },
    metadata: { format: model.format },
  });
}

/** W^T + 128 as uint8 [in][out], the MatMulInteger right operand. */
function transposeShifted(layer: DenseLayer): Uint8Array {
  const { inFeatures: n, outFeatures: out, weights } = layer;
  const transposed = new Uint8Array(n * out);
  for (let j = 0; j < out; j++)
    for (let i = 0; i < n; i++) transposed[i * out + j] = weights[j * n + i]! + uint8ZeroPoint;
  return transposed;
}

function half(s: number): bigint {
  return s === 0 ? 0n : 1n << BigInt(s - 1);
}

/** A tensor built without createTensor's per-element checks (the values are in range by construction). */
function tensor(dtype: DType, shape: number[], values: ArrayLike<number> | ArrayLike<bigint>): Tensor {
  const data =
    dtype === "int64"
      ? BigInt64Array.from(values as ArrayLike<bigint>)
      : dtype === "int32"
        ? Int32Array.from(values as ArrayLike<number>)
        : dtype === "uint8"
          ? Uint8Array.from(values as ArrayLike<number>)
          : Int8Array.from(values as ArrayLike<number>);
  return { dtype, shape, data };
}
