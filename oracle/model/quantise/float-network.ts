/**
 * A float ONNX graph lowered to the layer list of a VQM model, still in float: the same layer
 * kinds (dense, conv2d, relu, add, maxpool2d, reshape, argmax), float weights, and every layer's
 * output shape. Lowering fuses what the integer model fuses (MatMul + constant Add → dense with
 * bias; Relu right after dense, conv2d or add → that layer's activation) and refuses every op or
 * attribute outside that set with `UnsupportedOpError`, naming the op and the node.
 */
import { BaseError } from "../../errors.ts";
import type { OnnxAttribute, OnnxModel, OnnxNode } from "../onnx/onnx-model.ts";
import type { Tensor } from "../tensor.ts";
import type { Activation, LayerRef } from "../vqm/vqm-model.ts";

export class UnsupportedOpError extends BaseError {
  override name = "UnsupportedOpError";
  readonly opType: string;
  readonly node: string;

  constructor(opType: string, node: string, why?: string, details: string[] = []) {
    super(`Unsupported op ${opType} at node "${node}"${why ? `: ${why}` : ""}`, {
      details: [
        ...details,
        "Supported: Gemm, MatMul (+ constant Add), Relu, Conv (2D, group 1, dilation 1), Flatten, Reshape, Add, MaxPool (no padding), ArgMax (last).",
      ],
    });
    this.opType = opType;
    this.node = node;
  }
}

/** A float graph whose structure (inputs, outputs, shapes) we cannot take. */
export class FloatGraphError extends BaseError {
  override name = "FloatGraphError";
}

type Named = { node: string };

export type FloatDense = Named & {
  kind: "dense";
  input: LayerRef;
  inFeatures: number;
  outFeatures: number;
  /** [out][in]. */
  weights: Float64Array;
  bias: Float64Array;
  activation: Activation;
};

export type FloatConv2d = Named & {
  kind: "conv2d";
  input: LayerRef;
  inChannels: number;
  outChannels: number;
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number, number, number];
  /** [oc][ic][kh][kw]. */
  weights: Float64Array;
  bias: Float64Array;
  activation: Activation;
};

export type FloatLayer =
  | FloatDense
  | FloatConv2d
  | (Named & { kind: "relu"; input: LayerRef })
  | (Named & { kind: "add"; inputs: [LayerRef, LayerRef]; activation: Activation })
  | (Named & { kind: "maxpool2d"; input: LayerRef; kernel: [number, number]; stride: [number, number] })
  | (Named & { kind: "reshape"; input: LayerRef; shape: number[] })
  | (Named & { kind: "argmax"; input: LayerRef });

export type FloatNetwork = {
  inputName: string;
  /** Batch 1 included. */
  inputShape: number[];
  layers: FloatLayer[];
  /** Output shape of each layer. */
  shapes: number[][];
  outputName: string;
};

type Value = { layer: LayerRef; shape: number[]; fromMatMul?: boolean };

export function lowerOnnx(model: OnnxModel): FloatNetwork {
  const { graph } = model;
  const constants = new Map(graph.initializers.map(({ name, tensor }) => [name, tensor]));
  const inputs = graph.inputs.filter((input) => !constants.has(input.name));
  if (inputs.length !== 1)
    throw new FloatGraphError(`The float model must have exactly one input, it has ${inputs.length}.`);
  if (graph.outputs.length !== 1)
    throw new FloatGraphError(`The float model must have exactly one output, it has ${graph.outputs.length}.`);
  const input = inputs[0]!;
  if (input.dtype !== "float32")
    throw new FloatGraphError(`Model input "${input.name}" is ${input.dtype}; the quantiser takes float32.`);
  const inputShape = input.shape.map((dim, axis) => {
    if (axis === 0 && (typeof dim === "string" || dim === 1)) return 1;
    if (typeof dim === "number" && dim >= 1) return dim;
    throw new FloatGraphError(`Model input "${input.name}" has dim ${axis} = ${dim}; need batch 1 and fixed sizes.`);
  });
  if (inputShape.length !== 2 && inputShape.length !== 4)
    throw new FloatGraphError(
      `Model input "${input.name}" has rank ${inputShape.length}; need [1, F] or [1, C, H, W].`,
    );

  const outputName = graph.outputs[0]!.name;
  const consumers = new Map<string, number>([[outputName, 1]]);
  for (const node of graph.nodes) for (const name of node.inputs) consumers.set(name, (consumers.get(name) ?? 0) + 1);

  const values = new Map<string, Value>([[input.name, { layer: -1, shape: inputShape }]]);
  const layers: FloatLayer[] = [];
  const shapes: number[][] = [];
  const push = (layer: FloatLayer, shape: number[], output: string, extra: Partial<Value> = {}) => {
    layers.push(layer);
    shapes.push(shape);
    values.set(output, { layer: layers.length - 1, shape, ...extra });
  };

  for (const node of graph.nodes) {
    const { opType, name } = node;
    const fail = (why?: string) => new UnsupportedOpError(opType, name, why);
    if (node.domain && node.domain !== "ai.onnx") throw fail(`domain "${node.domain}"`);
    const activation = (index: number): Value => {
      const value = values.get(node.inputs[index] ?? "");
      if (!value)
        throw fail(
          constants.has(node.inputs[index] ?? "")
            ? `input ${index} is a constant where an activation is needed`
            : `input ${index} ("${node.inputs[index]}") is not produced by a supported node`,
        );
      return value;
    };
    const constant = (index: number, what: string): Tensor => {
      const tensor = constants.get(node.inputs[index] ?? "");
      if (!tensor) throw fail(`${what} (input ${index}) must be an initializer`);
      return tensor;
    };
    const attrs = attributeReader(node, fail);
    const output = node.outputs[0]!;
    if (node.outputs.length !== 1) throw fail(`${node.outputs.length} outputs (only one is supported)`);

    switch (opType) {
      case "Gemm": {
        attrs.only(["alpha", "beta", "transA", "transB"]);
        if (attrs.int("transA", 0) !== 0) throw fail("transA = 1");
        const transB = attrs.int("transB", 0);
        const alpha = attrs.float("alpha", 1);
        const beta = attrs.float("beta", 1);
        const x = activation(0);
        const inFeatures = vectorWidth(x, fail);
        const b = floatConstant(constant(1, "B"), fail);
        if (b.shape.length !== 2) throw fail(`B has rank ${b.shape.length}`);
        const [rows, cols] = b.shape as [number, number];
        const outFeatures = transB ? rows : cols;
        if ((transB ? cols : rows) !== inFeatures) throw fail(`B is [${b.shape}] for ${inFeatures} inputs`);
        const weights = new Float64Array(outFeatures * inFeatures);
        for (let o = 0; o < outFeatures; o++)
          for (let i = 0; i < inFeatures; i++)
            weights[o * inFeatures + i] = alpha * b.data[transB ? o * inFeatures + i : i * outFeatures + o]!;
        const bias = new Float64Array(outFeatures);
        if (node.inputs[2]) {
          const c = floatConstant(constant(2, "C"), fail);
          const broadcast = broadcastVector(c, outFeatures, fail);
          for (let o = 0; o < outFeatures; o++) bias[o] = beta * broadcast[o]!;
        }
        push(
          { kind: "dense", node: name, input: x.layer, inFeatures, outFeatures, weights, bias, activation: "none" },
          [1, outFeatures],
          output,
        );
        break;
      }
      case "MatMul": {
        attrs.only([]);
        const x = activation(0);
        const inFeatures = vectorWidth(x, fail);
        const b = floatConstant(constant(1, "B"), fail);
        if (b.shape.length !== 2 || b.shape[0] !== inFeatures) throw fail(`B is [${b.shape}] for ${inFeatures} inputs`);
        const outFeatures = b.shape[1]!;
        const weights = new Float64Array(outFeatures * inFeatures);
        for (let o = 0; o < outFeatures; o++)
          for (let i = 0; i < inFeatures; i++) weights[o * inFeatures + i] = b.data[i * outFeatures + o]!;
        push(
          {
            kind: "dense",
            node: name,
            input: x.layer,
            inFeatures,
            outFeatures,
            weights,
            bias: new Float64Array(outFeatures),
            activation: "none",
          },
          [1, outFeatures],
          output,
          { fromMatMul: true },
        );
        break;
      }
      case "Add": {
        attrs.only([]);
        const constIndex = node.inputs.findIndex((input) => constants.has(input));
        if (constIndex >= 0) {
          // Only as the bias of the MatMul right before it.
          const x = values.get(node.inputs[1 - constIndex] ?? "");
          const layer = x ? layers[x.layer] : undefined;
          if (!x || !x.fromMatMul || layer?.kind !== "dense" || consumers.get(node.inputs[1 - constIndex]!) !== 1)
            throw fail("a constant operand is supported only as the bias of the MatMul it follows");
          const c = broadcastVector(floatConstant(constant(constIndex, "bias"), fail), layer.outFeatures, fail);
          for (let o = 0; o < layer.outFeatures; o++) layer.bias[o]! += c[o]!;
          layer.node = `${layer.node}+${name}`;
          values.set(output, { layer: x.layer, shape: x.shape });
          break;
        }
        const a = activation(0);
        const b = activation(1);
        if (a.shape.join() !== b.shape.join()) throw fail(`operand shapes [${a.shape}] and [${b.shape}] differ`);
        push({ kind: "add", node: name, inputs: [a.layer, b.layer], activation: "none" }, a.shape, output);
        break;
      }
      case "Relu": {
        attrs.only([]);
        const x = activation(0);
        const producer = x.layer >= 0 ? layers[x.layer]! : undefined;
        const fusable =
          producer &&
          x.layer === layers.length - 1 &&
          (producer.kind === "dense" || producer.kind === "conv2d" || producer.kind === "add") &&
          producer.activation === "none" &&
          consumers.get(node.inputs[0]!) === 1;
        if (fusable) {
          producer.activation = "relu";
          producer.node = `${producer.node}+${name}`;
          values.set(output, { layer: x.layer, shape: x.shape });
        } else push({ kind: "relu", node: name, input: x.layer }, x.shape, output);
        break;
      }
      case "Conv": {
        attrs.only(["auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"]);
        const x = activation(0);
        if (x.shape.length !== 4) throw fail(`input has shape [${x.shape}], need [1, C, H, W]`);
        if (attrs.string("auto_pad", "NOTSET") !== "NOTSET") throw fail(`auto_pad = ${attrs.string("auto_pad", "")}`);
        if (attrs.int("group", 1) !== 1) throw fail(`group = ${attrs.int("group", 1)} (only 1)`);
        const dilations = attrs.ints("dilations", [1, 1]);
        if (dilations.some((d) => d !== 1)) throw fail(`dilations = [${dilations}] (only 1)`);
        const w = floatConstant(constant(1, "W"), fail);
        if (w.shape.length !== 4) throw fail(`W has rank ${w.shape.length} (only 2D convolution)`);
        const [outChannels, inChannels, kh, kw] = w.shape as [number, number, number, number];
        if (inChannels !== x.shape[1]) throw fail(`W takes ${inChannels} channels, input has ${x.shape[1]}`);
        const kernelShape = attrs.ints("kernel_shape", [kh, kw]);
        if (kernelShape.join() !== [kh, kw].join()) throw fail(`kernel_shape [${kernelShape}] ≠ W's [${kh},${kw}]`);
        const stride = pair(attrs.ints("strides", [1, 1]), "strides", fail);
        const pads = attrs.ints("pads", [0, 0, 0, 0]);
        if (pads.length !== 4 || pads.some((p) => !(p >= 0))) throw fail(`pads = [${pads}]`);
        const padding = pads as [number, number, number, number];
        const height = Math.floor((x.shape[2]! + padding[0] + padding[2] - kh) / stride[0]) + 1;
        const width = Math.floor((x.shape[3]! + padding[1] + padding[3] - kw) / stride[1]) + 1;
        if (height < 1 || width < 1) throw fail("the kernel is larger than the padded input");
        const bias = node.inputs[2]
          ? Float64Array.from(broadcastVector(floatConstant(constant(2, "B"), fail), outChannels, fail))
          : new Float64Array(outChannels);
        push(
          {
            kind: "conv2d",
            node: name,
            input: x.layer,
            inChannels,
            outChannels,
            kernel: [kh, kw],
            stride,
            padding,
            weights: Float64Array.from(w.data),
            bias,
            activation: "none",
          },
          [1, outChannels, height, width],
          output,
        );
        break;
      }
      case "MaxPool": {
        attrs.only(["auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides"]);
        const x = activation(0);
        if (x.shape.length !== 4) throw fail(`input has shape [${x.shape}], need [1, C, H, W]`);
        if (attrs.string("auto_pad", "NOTSET") !== "NOTSET") throw fail(`auto_pad = ${attrs.string("auto_pad", "")}`);
        if (attrs.int("ceil_mode", 0) !== 0) throw fail("ceil_mode = 1");
        if (attrs.int("storage_order", 0) !== 0) throw fail("storage_order = 1");
        if (attrs.ints("dilations", [1, 1]).some((d) => d !== 1)) throw fail("dilations other than 1");
        if (attrs.ints("pads", [0, 0, 0, 0]).some((p) => p !== 0)) throw fail("padding (only unpadded pooling)");
        const kernel = pair(attrs.ints("kernel_shape", []), "kernel_shape", fail);
        const stride = pair(attrs.ints("strides", [1, 1]), "strides", fail);
        const height = Math.floor((x.shape[2]! - kernel[0]) / stride[0]) + 1;
        const width = Math.floor((x.shape[3]! - kernel[1]) / stride[1]) + 1;
        if (height < 1 || width < 1) throw fail("the kernel is larger than the input");
        push(
          { kind: "maxpool2d", node: name, input: x.layer, kernel, stride },
          [1, x.shape[1]!, height, width],
          output,
        );
        break;
      }
      case "Flatten": {
        attrs.only(["axis"]);
        const x = activation(0);
        const axis = attrs.int("axis", 1);
        if (axis !== 1 && axis !== 0 && axis !== 1 - x.shape.length) throw fail(`axis = ${axis} (only 1)`);
        push({ kind: "reshape", node: name, input: x.layer, shape: [1, count(x.shape)] }, [1, count(x.shape)], output);
        break;
      }
      case "Reshape": {
        attrs.only(["allowzero"]);
        if (attrs.int("allowzero", 0) !== 0) throw fail("allowzero = 1");
        const x = activation(0);
        const target = constant(1, "shape");
        if (target.dtype !== "int64") throw fail(`shape is ${target.dtype}, need int64`);
        const shape = resolveShape(
          Array.from(target.data as BigInt64Array, (d) => Number(d)),
          x.shape,
          fail,
        );
        push({ kind: "reshape", node: name, input: x.layer, shape }, shape, output);
        break;
      }
      case "ArgMax": {
        attrs.only(["axis", "keepdims", "select_last_index"]);
        const x = activation(0);
        const axis = attrs.int("axis", 0);
        if (axis !== -1 && axis !== x.shape.length - 1) throw fail(`axis = ${axis} (only the last axis)`);
        if (attrs.int("select_last_index", 0) !== 0) throw fail("select_last_index = 1 (ties take the first index)");
        if (output !== outputName) throw fail("ArgMax must be the model's last node");
        const keep = attrs.int("keepdims", 1) !== 0;
        push(
          { kind: "argmax", node: name, input: x.layer },
          keep ? [...x.shape.slice(0, -1), 1] : x.shape.slice(0, -1),
          output,
        );
        break;
      }
      default:
        throw fail();
    }
  }
  const final = values.get(outputName);
  if (!final || final.layer < 0 || final.layer !== layers.length - 1)
    throw new FloatGraphError(`Model output "${outputName}" is not the result of the last layer.`, {
      details: ["Every node must lead to the single output; side branches are not supported."],
    });
  return { inputName: input.name, inputShape, layers, shapes, outputName };
}

function count(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function vectorWidth(x: Value, fail: (why: string) => Error): number {
  if (x.shape.length !== 2 || x.shape[0] !== 1) throw fail(`input has shape [${x.shape}], need [1, F]`);
  return x.shape[1]!;
}

function floatConstant(tensor: Tensor, fail: (why: string) => Error): { shape: readonly number[]; data: Float32Array } {
  if (tensor.dtype !== "float32") throw fail(`a ${tensor.dtype} initializer where float32 is needed`);
  return { shape: tensor.shape, data: tensor.data as Float32Array };
}

/** A constant of n elements, or one element repeated; any leading 1 dims allowed. */
function broadcastVector(
  tensor: { shape: readonly number[]; data: Float32Array },
  n: number,
  fail: (why: string) => Error,
): Float64Array {
  const size = tensor.data.length;
  const lastDim = tensor.shape.at(-1) ?? 1;
  if (size === n && lastDim === n) return Float64Array.from(tensor.data);
  if (size === 1) return new Float64Array(n).fill(tensor.data[0]!);
  throw fail(`bias of shape [${tensor.shape}] does not broadcast to [${n}]`);
}

function pair(values: number[], what: string, fail: (why: string) => Error): [number, number] {
  if (values.length !== 2 || !values.every((v) => Number.isInteger(v) && v >= 1))
    throw fail(`${what} = [${values}] (need two positive integers)`);
  return [values[0]!, values[1]!];
}

function resolveShape(target: number[], from: number[], fail: (why: string) => Error): number[] {
  const shape = target.map((d, i) => (d === 0 ? from[i]! : d));
  const unknown = shape.indexOf(-1);
  if (unknown >= 0) {
    const known = shape.reduce((a, d, i) => (i === unknown ? a : a * d), 1);
    shape[unknown] = count(from) / known;
  }
  if (!shape.every((d) => Number.isInteger(d) && d >= 1) || count(shape) !== count(from))
    throw fail(`cannot reshape [${from}] to [${target}]`);
  if (shape[0] !== 1) throw fail(`target shape [${shape}] does not keep batch 1 in front`);
  return shape;
}

type AttributeReader = {
  only(names: string[]): void;
  int(name: string, fallback: number): number;
  float(name: string, fallback: number): number;
  string(name: string, fallback: string): string;
  ints(name: string, fallback: number[]): number[];
};

function attributeReader(node: OnnxNode, fail: (why: string) => Error): AttributeReader {
  const attributes = node.attributes ?? {};
  const get = <T extends OnnxAttribute["type"]>(name: string, type: T) => {
    const attribute = attributes[name];
    if (attribute === undefined) return undefined;
    if (attribute.type !== type) throw fail(`attribute ${name} is a ${attribute.type}, expected ${type}`);
    return attribute.value as Extract<OnnxAttribute, { type: T }>["value"];
  };
  return {
    only(names) {
      const extra = Object.keys(attributes).filter((name) => !names.includes(name));
      if (extra.length > 0) throw fail(`attribute ${extra.join(", ")}`);
    },
    int: (name, fallback) => get(name, "int") ?? fallback,
    float: (name, fallback) => get(name, "float") ?? fallback,
    string: (name, fallback) => get(name, "string") ?? fallback,
    ints: (name, fallback) => get(name, "ints") ?? fallback,
  };
}
