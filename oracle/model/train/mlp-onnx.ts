/**
 * An MLP as float32 weights and as an ONNX graph: Gemm (transB=1) → Relu → … → Gemm. The float32
 * forward pass here mirrors the graph's semantics (float32 rounding after every operation) and
 * serves as the pure reference the onnxruntime output is checked against.
 */
import type { OnnxGraph } from "../onnx/onnx-model.ts";
import type { Mlp } from "./mlp.ts";

export type Float32Layer = { inputs: number; outputs: number; weights: Float32Array; bias: Float32Array };

export function toFloat32Layers(mlp: Mlp): Float32Layer[] {
  return mlp.layers.map(({ inputs, outputs, weights, bias }) => ({
    inputs,
    outputs,
    weights: Float32Array.from(weights),
    bias: Float32Array.from(bias),
  }));
}

/** Float32 forward pass of one sample, rounding to float32 after each multiply and add. */
export function forwardFloat32(layers: readonly Float32Layer[], x: ArrayLike<number>): Float32Array {
  let activation = Float32Array.from(x as ArrayLike<number>);
  layers.forEach((layer, index) => {
    const out = new Float32Array(layer.outputs);
    for (let o = 0; o < layer.outputs; o++) {
      let sum = 0;
      for (let i = 0; i < layer.inputs; i++)
        sum = Math.fround(sum + Math.fround(layer.weights[o * layer.inputs + i]! * activation[i]!));
      out[o] = Math.fround(sum + layer.bias[o]!);
    }
    activation = index < layers.length - 1 ? out.map((v) => (v > 0 ? v : 0)) : out;
  });
  return activation;
}

export type MlpGraphParameters = {
  layers: readonly Float32Layer[];
  name?: string;
  /** Defaults to "input". */
  inputName?: string;
  /** Defaults to "logits". */
  outputName?: string;
  /** Defaults to 1: the graph takes one sample, [1, inputs]. */
  batch?: number | string;
};

export function mlpOnnxGraph({
  layers,
  name = "mlp",
  inputName = "input",
  outputName = "logits",
  batch = 1,
}: MlpGraphParameters): OnnxGraph {
  const graph: OnnxGraph = {
    name,
    inputs: [{ name: inputName, dtype: "float32", shape: [batch, layers[0]!.inputs] }],
    outputs: [{ name: outputName, dtype: "float32", shape: [batch, layers.at(-1)!.outputs] }],
    initializers: [],
    nodes: [],
  };
  let current = inputName;
  layers.forEach((layer, index) => {
    const last = index === layers.length - 1;
    const weight = `fc${index + 1}.weight`;
    const bias = `fc${index + 1}.bias`;
    graph.initializers.push(
      { name: weight, tensor: { dtype: "float32", shape: [layer.outputs, layer.inputs], data: layer.weights } },
      { name: bias, tensor: { dtype: "float32", shape: [layer.outputs], data: layer.bias } },
    );
    const gemmOut = last ? outputName : `fc${index + 1}.out`;
    graph.nodes.push({
      name: `fc${index + 1}`,
      opType: "Gemm",
      inputs: [current, weight, bias],
      outputs: [gemmOut],
      attributes: { transB: { type: "int", value: 1 } },
    });
    current = gemmOut;
    if (!last) {
      const reluOut = `relu${index + 1}.out`;
      graph.nodes.push({ name: `relu${index + 1}`, opType: "Relu", inputs: [current], outputs: [reluOut] });
      current = reluOut;
    }
  });
  return graph;
}
