/**
 * A GPT (`gpt.ts`) as a float32 ONNX graph in the shape PyTorch's exporter writes for Hugging
 * Face's GPT-2 at opset 17: Gather embeddings, LayerNormalization, MatMul + Add projections, one
 * fused QKV projection Split into three, Reshape/Transpose into heads, MatMul for Q·Kᵀ and
 * attention·V, Div by √head, an additive causal mask, Softmax, GELU as its Erf pattern, residual
 * Adds, and a bias-free MatMul to the logits. Node and tensor names follow the exporter's
 * `/transformer/h.0/attn/c_attn/MatMul` and `…_output_0` style, initializers keep GPT-2's names,
 * so a compiler that takes this graph takes theirs.
 *
 * The sequence length is fixed at the context length: input `input_ids` int64 [1, C], output
 * `logits` float32 [1, C, vocab]. A shorter prompt is padded on the right; causality makes the
 * logits of its real positions independent of the padding.
 */
import { createTensor } from "../tensor.ts";
import type { Tensor } from "../tensor.ts";
import type { OnnxGraph, OnnxModel, OnnxNode } from "../onnx/onnx-model.ts";
import { assertGptConfig, blockPrefix, causalMaskValue, gptParameter, gptParameterShapes } from "./gpt.ts";
import type { GptConfig, GptWeights } from "./gpt.ts";

/** The opset whose LayerNormalization (17+) the graph uses; GELU stays the Erf pattern (Gelu is 20+). */
export const transformerOpset = 17;

export const transformerInputName = "input_ids";
export const transformerOutputName = "logits";

export type TransformerGraphParameters = {
  config: GptConfig;
  weights: GptWeights;
  /** Defaults to "gpt". */
  name?: string;
};

export function transformerOnnxGraph({ config, weights, name = "gpt" }: TransformerGraphParameters): OnnxGraph {
  assertGptConfig(config);
  const { contextLength: T, width: d, heads: H, vocabSize: V } = config;
  const hd = d / H;
  const nodes: OnnxNode[] = [];
  const initializers: OnnxGraph["initializers"] = gptParameterShapes(config).map(({ name, shape }) => {
    const { data } = gptParameter(weights, name, shape);
    return { name, tensor: { dtype: "float32", shape, data } satisfies Tensor };
  });
  const constant = (constantName: string, tensor: Tensor) => {
    initializers.push({ name: constantName, tensor });
    return constantName;
  };
  /** Appends a node and returns its outputs, named `<node>_output_<i>` as the exporter names them. */
  const op = (nodeName: string, opType: string, inputs: string[], attributes?: OnnxNode["attributes"], outputs = 1) => {
    const names = Array.from({ length: outputs }, (_, i) => `${nodeName}_output_${i}`);
    nodes.push({ name: nodeName, opType, inputs, outputs: names, ...(attributes ? { attributes } : {}) });
    return names;
  };
  const one = (nodeName: string, opType: string, inputs: string[], attributes?: OnnxNode["attributes"]) =>
    op(nodeName, opType, inputs, attributes)[0]!;
  const ints = (value: number[]) => ({ type: "ints", value }) as const;
  const int = (value: number) => ({ type: "int", value }) as const;

  // Shared constants. Scalars are [1]-shaped: they broadcast the same and every ONNX reader takes them.
  const positionIds = constant(
    "position_ids",
    createTensor(
      "int64",
      [1, T],
      Array.from({ length: T }, (_, t) => t),
    ),
  );
  const headsShape = constant("attn.heads_shape", createTensor("int64", [4], [1, T, H, hd]));
  const mergedShape = constant("attn.merged_shape", createTensor("int64", [3], [1, T, d]));
  const qkvSplit = constant("attn.qkv_split", createTensor("int64", [3], [d, d, d]));
  const scale = constant("attn.scale", createTensor("float32", [1], [Math.sqrt(hd)]));
  const mask = constant("attn.causal_mask", causalMaskTensor(T));
  const sqrt2 = constant("gelu.sqrt2", createTensor("float32", [1], [Math.SQRT2]));
  const oneF = constant("gelu.one", createTensor("float32", [1], [1]));
  const half = constant("gelu.half", createTensor("float32", [1], [0.5]));

  const layerNorm = (prefix: string, input: string, parameter: string) =>
    one(`/${prefix}/LayerNormalization`, "LayerNormalization", [input, `${parameter}.weight`, `${parameter}.bias`], {
      axis: int(-1),
      epsilon: { type: "float", value: config.layerNormEpsilon },
    });
  const linear = (prefix: string, input: string, parameter: string) =>
    one(`/${prefix}/Add`, "Add", [
      one(`/${prefix}/MatMul`, "MatMul", [input, `${parameter}.weight`]),
      `${parameter}.bias`,
    ]);

  const tokens = one("/transformer/wte/Gather", "Gather", ["transformer.wte.weight", transformerInputName], {
    axis: int(0),
  });
  const positions = one("/transformer/wpe/Gather", "Gather", ["transformer.wpe.weight", positionIds], { axis: int(0) });
  let x = one("/transformer/Add", "Add", [tokens, positions]);

  for (let layer = 0; layer < config.layers; layer++) {
    const p = blockPrefix(layer); // parameter prefix, "transformer.h.0"
    const n = `transformer/h.${layer}`; // node prefix, "/transformer/h.0/…"

    const h1 = layerNorm(`${n}/ln_1`, x, `${p}.ln_1`);
    const qkv = linear(`${n}/attn/c_attn`, h1, `${p}.attn.c_attn`);
    const [q, k, v] = op(`/${n}/attn/Split`, "Split", [qkv, qkvSplit], { axis: int(2) }, 3) as [string, string, string];
    const heads = (tensor: string, which: string, perm: number[]) =>
      one(
        `/${n}/attn/${which}/Transpose`,
        "Transpose",
        [one(`/${n}/attn/${which}/Reshape`, "Reshape", [tensor, headsShape])],
        {
          perm: ints(perm),
        },
      );
    const queries = heads(q, "query", [0, 2, 1, 3]); // [1, H, T, hd]
    const keysT = heads(k, "key", [0, 2, 3, 1]); // [1, H, hd, T]: Kᵀ in one transpose
    const values = heads(v, "value", [0, 2, 1, 3]); // [1, H, T, hd]
    const scores = one(`/${n}/attn/scores/Div`, "Div", [
      one(`/${n}/attn/scores/MatMul`, "MatMul", [queries, keysT]),
      scale,
    ]);
    const masked = one(`/${n}/attn/causal_mask/Add`, "Add", [scores, mask]);
    const weights = one(`/${n}/attn/Softmax`, "Softmax", [masked], { axis: int(-1) });
    const context = one(`/${n}/attn/context/MatMul`, "MatMul", [weights, values]); // [1, H, T, hd]
    const merged = one(`/${n}/attn/context/Reshape`, "Reshape", [
      one(`/${n}/attn/context/Transpose`, "Transpose", [context], { perm: ints([0, 2, 1, 3]) }),
      mergedShape,
    ]);
    x = one(`/${n}/residual_1/Add`, "Add", [x, linear(`${n}/attn/c_proj`, merged, `${p}.attn.c_proj`)]);

    const h2 = layerNorm(`${n}/ln_2`, x, `${p}.ln_2`);
    const hidden = linear(`${n}/mlp/c_fc`, h2, `${p}.mlp.c_fc`);
    // GELU(x) = x · (1 + erf(x / √2)) · 0.5, in the exporter's order of nodes.
    const erf = one(`/${n}/mlp/act/Erf`, "Erf", [one(`/${n}/mlp/act/Div`, "Div", [hidden, sqrt2])]);
    const gated = one(`/${n}/mlp/act/Mul`, "Mul", [hidden, one(`/${n}/mlp/act/Add`, "Add", [erf, oneF])]);
    const activated = one(`/${n}/mlp/act/Mul_1`, "Mul", [gated, half]);
    x = one(`/${n}/residual_2/Add`, "Add", [x, linear(`${n}/mlp/c_proj`, activated, `${p}.mlp.c_proj`)]);
  }

  const final = layerNorm("transformer/ln_f", x, "transformer.ln_f");
  nodes.push({
    name: "/lm_head/MatMul",
    opType: "MatMul",
    inputs: [final, "lm_head.weight"],
    outputs: [transformerOutputName],
  });
  return {
    name,
    inputs: [{ name: transformerInputName, dtype: "int64", shape: [1, T] }],
    outputs: [{ name: transformerOutputName, dtype: "float32", shape: [1, T, V] }],
    initializers,
    nodes,
  };
}

/** The GPT parameters of a graph this module wrote (read back with `readOnnx`). */
export function gptWeightsOfOnnx(model: OnnxModel, config: GptConfig): GptWeights {
  const byName = new Map(model.graph.initializers.map(({ name, tensor }) => [name, tensor]));
  return gptParameterShapes(config).map(({ name, shape }) => {
    const tensor = byName.get(name);
    if (!tensor || tensor.dtype !== "float32") throw new RangeError(`The graph has no float32 initializer "${name}".`);
    return gptParameter([{ name, shape: tensor.shape, data: tensor.data as Float32Array }], name, shape);
  });
}

/** [1, 1, T, T]: 0 where a query position may see a key (key ≤ query), −1e9 elsewhere. */
function causalMaskTensor(T: number): Tensor {
  const data = new Float32Array(T * T);
  for (let query = 0; query < T; query++)
    for (let key = query + 1; key < T; key++) data[query * T + key] = causalMaskValue;
  return { dtype: "float32", shape: [1, 1, T, T], data };
}
