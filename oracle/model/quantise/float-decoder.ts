/**
 * A float decoder-only transformer ONNX graph (the full-sequence graph exporters write: input ids
 * `[1, T]`, logits `[1, T, V]`) lowered to a float **per-pass** decoder: the layer list of the
 * VQM sequence layers (docs/numeric-semantics.md, "Sequence models"), one float layer per VQM
 * layer, so the quantiser maps layer `i` to layer `i`.
 *
 * The graph is read symbolically: every tensor is one per-position vector (`seq`), an elementwise
 * function of one (`elementwise`, becomes a `lut`), a head view of one, attention scores or
 * probabilities, or a step of a decomposed layer norm. Patterns outside that (a KV-cache input,
 * sampling, a non-causal attention, an op we do not know) are refused with `UnsupportedOpError`
 * naming the op and the node, never approximated.
 */
import type { OnnxModel, OnnxNode } from "../onnx/onnx-model.ts";
import type { Tensor } from "../tensor.ts";
import type { LayerRef } from "../vqm/vqm-model.ts";
import { FloatGraphError, UnsupportedOpError } from "./float-network.ts";

type Named = { node: string };

/** `f` of one element: what a `lut` layer tabulates (GELU, tanh, …). */
export type ElementwiseFunction = (x: number) => number;

export type FloatDecoderLayer = Named &
  (
    | { kind: "embed"; source: "token" | "position"; rows: number; width: number; table: Float64Array }
    | {
        kind: "dense";
        input: LayerRef;
        inFeatures: number;
        outFeatures: number;
        /** [out][in]. */
        weights: Float64Array;
        bias: Float64Array;
      }
    | { kind: "add"; inputs: [LayerRef, LayerRef] }
    | { kind: "lut"; input: LayerRef; f: ElementwiseFunction }
    | { kind: "centre"; input: LayerRef }
    | { kind: "normalize"; input: LayerRef; gamma: Float64Array; beta: Float64Array; epsilon: number }
    | { kind: "qk"; query: LayerRef; key: LayerRef; heads: number; headDim: number; factor: number }
    | { kind: "rowmax"; input: LayerRef }
    | { kind: "softmax"; input: LayerRef; rowmax: LayerRef }
    | { kind: "av"; probs: LayerRef; value: LayerRef; heads: number; headDim: number }
    | { kind: "argmax"; input: LayerRef }
  );

export type FloatDecoder = {
  /** C: the graph's sequence length (its input is `[1, C]` ids). */
  contextLength: number;
  /** V: rows of the token embedding, width of the logits. */
  vocabSize: number;
  layers: FloatDecoderLayer[];
  /** Per-pass output shape of each layer (`[1, D]`, `[1, H, C]`, `[1, H]`, `[1]`). */
  shapes: number[][];
  /** The dense layer whose output is the logits (the one before the argmax). */
  logitsLayer: number;
};

/** True when the graph reads integer token ids `[1, T]` into a Gather: a decoder, not a classifier. */
export function isDecoderGraph(model: OnnxModel): boolean {
  const constants = new Set(model.graph.initializers.map(({ name }) => name));
  const inputs = model.graph.inputs.filter(({ name }) => !constants.has(name));
  const ids = inputs.find(({ dtype, shape }) => (dtype === "int64" || dtype === "int32") && shape.length === 2);
  return ids !== undefined && model.graph.nodes.some((node) => node.opType === "Gather" && node.inputs[1] === ids.name);
}

/** Ops that draw random numbers or pick a top-k: generation is argmax only. */
const samplingOps = new Set([
  "Multinomial",
  "RandomUniform",
  "RandomUniformLike",
  "RandomNormal",
  "RandomNormalLike",
  "TopK",
]);

type Value =
  | { kind: "ids" }
  | { kind: "seq"; layer: LayerRef; width: number; fromMatMul?: boolean }
  | { kind: "elementwise"; base: LayerRef; width: number; f: ElementwiseFunction; node: string }
  | { kind: "split-heads"; layer: LayerRef; heads: number; headDim: number }
  | { kind: "heads"; layer: LayerRef; heads: number; headDim: number; keysTransposed: boolean }
  | { kind: "scores"; query: LayerRef; key: LayerRef; heads: number; headDim: number; factor: number; masked: boolean }
  | { kind: "probs"; layer: LayerRef; heads: number }
  | { kind: "context"; layer: LayerRef; heads: number; headDim: number; merged: boolean }
  // A decomposed layer norm, step by step (ReduceMean, Sub, Pow, ReduceMean, Add ε, Sqrt, Div, Mul γ).
  | { kind: "mean" | "centred" | "centred-square" | "variance"; base: LayerRef; width: number }
  | { kind: "variance-eps" | "std"; base: LayerRef; width: number; epsilon: number }
  | { kind: "normalised"; base: LayerRef; width: number; epsilon: number; gamma?: Float64Array };

export function lowerDecoder(model: OnnxModel): FloatDecoder {
  const { graph } = model;
  const constants = new Map(graph.initializers.map(({ name, tensor }) => [name, tensor]));
  const inputs = graph.inputs.filter((input) => !constants.has(input.name));
  refuseCacheInputs(
    graph.nodes,
    inputs.slice(1).map(({ name }) => name),
  );
  if (inputs.length !== 1)
    throw new FloatGraphError(`A decoder graph must have one input (token ids), it has ${inputs.length}.`);
  if (graph.outputs.length !== 1)
    throw new FloatGraphError(`A decoder graph must have one output (logits), it has ${graph.outputs.length}.`);
  const input = inputs[0]!;
  const [batch, length] = input.shape;
  if (
    input.shape.length !== 2 ||
    typeof length !== "number" ||
    length < 1 ||
    (batch !== 1 && typeof batch !== "string")
  )
    throw new FloatGraphError(
      `Input "${input.name}" has shape [${input.shape}]; a decoder takes ids [1, T] with T fixed.`,
      {
        details: [
          "Export with a fixed sequence length equal to the context length (shorter prompts padded on the right).",
        ],
      },
    );
  const contextLength = length;
  const outputName = graph.outputs[0]!.name;
  const consumers = new Map<string, number>([[outputName, 1]]);
  for (const node of graph.nodes) for (const name of node.inputs) consumers.set(name, (consumers.get(name) ?? 0) + 1);

  const values = new Map<string, Value>([[input.name, { kind: "ids" }]]);
  const layers: FloatDecoderLayer[] = [];
  const shapes: number[][] = [];
  const push = (layer: FloatDecoderLayer, shape: number[]): LayerRef => {
    layers.push(layer);
    shapes.push(shape);
    return layers.length - 1;
  };
  let vocabSize: number | undefined;
  const materialised = new WeakMap<Value, { layer: LayerRef; width: number }>();

  for (const node of graph.nodes) {
    const { opType, name } = node;
    const fail = (why?: string) => new UnsupportedOpError(opType, name, why, [supported]);
    if (node.domain && node.domain !== "ai.onnx") throw fail(`domain "${node.domain}"`);
    if (samplingOps.has(opType)) throw fail("sampling is not supported: a decoder generates by argmax");
    const value = (index: number): Value => {
      const found = values.get(node.inputs[index] ?? "");
      if (!found) throw fail(`input ${index} ("${node.inputs[index]}") is not produced by a supported pattern`);
      return found;
    };
    const constant = (index: number): Tensor | undefined => constants.get(node.inputs[index] ?? "");
    const scalar = (index: number): number | undefined => {
      const tensor = constant(index);
      return tensor?.dtype === "float32" && tensor.data.length === 1 ? (tensor.data as Float32Array)[0]! : undefined;
    };
    const attribute = (key: string) => node.attributes?.[key]?.value;
    // A per-position vector as a layer: an elementwise function becomes a `lut`, a normalised
    // value its `centre` + `normalize` (γ = 1, β = 0 when the graph has none).
    const asSeq = (v: Value): { layer: LayerRef; width: number } => {
      if (v.kind === "seq") return v;
      const done = materialised.get(v);
      if (done) return done;
      let made: { layer: LayerRef; width: number };
      if (v.kind === "elementwise")
        made = { layer: push({ kind: "lut", node: v.node, input: v.base, f: v.f }, [1, v.width]), width: v.width };
      else if (v.kind === "normalised") made = layerNorm(v.base, v.width, v.gamma, undefined, v.epsilon);
      else throw fail(`a ${v.kind} value where a per-position vector is needed`);
      // Read twice (e.g. by a residual and a projection), it is still one layer.
      materialised.set(v, made);
      return made;
    };
    const layerNorm = (
      base: LayerRef,
      width: number,
      gamma: ArrayLike<number> | undefined,
      beta: ArrayLike<number> | undefined,
      epsilon: number,
    ) => {
      const centre = push({ kind: "centre", node: name, input: base }, [1, width]);
      const layer = push(
        {
          kind: "normalize",
          node: name,
          input: centre,
          gamma: gamma ? Float64Array.from(gamma) : new Float64Array(width).fill(1),
          beta: beta ? Float64Array.from(beta) : new Float64Array(width),
          epsilon,
        },
        [1, width],
      );
      return { layer, width };
    };
    const vector = (index: number, width: number, what: string): Float32Array => {
      const tensor = constant(index);
      if (tensor?.dtype !== "float32" || tensor.data.length !== width || tensor.shape.at(-1) !== width)
        throw fail(`${what} (input ${index}) must be a float32 constant of ${width} elements`);
      return tensor.data as Float32Array;
    };
    const set = (v: Value, output = node.outputs[0]!) => values.set(output, v);
    const elementwise = (v: Value, f: ElementwiseFunction): Value => {
      if (v.kind === "seq") return { kind: "elementwise", base: v.layer, width: v.width, f, node: name };
      if (v.kind === "elementwise") return { ...v, f: (x) => f(v.f(x)), node: `${v.node}+${name}` };
      throw fail(`an elementwise op on a ${v.kind} value`);
    };
    /** The base layer and function of a seq or elementwise value (for products of two of them). */
    const asFunction = (v: Value): { base: LayerRef; width: number; f: ElementwiseFunction } | undefined =>
      v.kind === "seq" ? { base: v.layer, width: v.width, f: (x) => x } : v.kind === "elementwise" ? v : undefined;

    switch (opType) {
      case "Gather": {
        const table = constant(0);
        if (table?.dtype !== "float32" || table.shape.length !== 2)
          throw fail("data must be a float32 [rows, D] table");
        if ((attribute("axis") ?? 0) !== 0) throw fail("axis must be 0");
        const [rows, width] = table.shape as [number, number];
        const indices = node.inputs[1] ?? "";
        if (values.get(indices)?.kind === "ids") {
          vocabSize = rows;
          set({ kind: "seq", layer: embed("token", rows, width, table.data as Float32Array), width });
        } else if (isArange(constants.get(indices), contextLength)) {
          if (rows < contextLength) throw fail(`${rows} position rows for a context of ${contextLength}`);
          const data = (table.data as Float32Array).subarray(0, contextLength * width);
          set({ kind: "seq", layer: embed("position", contextLength, width, data), width });
        } else throw fail("indices must be the token ids or the constant positions 0 … T − 1");
        break;
      }
      case "Cast": {
        if (value(0).kind !== "ids") throw fail("only a cast of the token ids");
        set({ kind: "ids" });
        break;
      }
      case "MatMul": {
        const weights = constant(1);
        if (weights) {
          const x = asSeq(value(0));
          if (weights.dtype !== "float32" || weights.shape.length !== 2 || weights.shape[0] !== x.width)
            throw fail(`B is [${weights.shape}] for ${x.width} inputs`);
          const out = weights.shape[1]!;
          const w = new Float64Array(out * x.width);
          const b = weights.data as Float32Array;
          for (let o = 0; o < out; o++) for (let i = 0; i < x.width; i++) w[o * x.width + i] = b[i * out + o]!;
          const layer = push(
            {
              kind: "dense",
              node: name,
              input: x.layer,
              inFeatures: x.width,
              outFeatures: out,
              weights: w,
              bias: new Float64Array(out),
            },
            [1, out],
          );
          set({ kind: "seq", layer, width: out, fromMatMul: true });
          break;
        }
        const [a, b] = [value(0), value(1)];
        if (a.kind === "heads" && !a.keysTransposed && b.kind === "heads" && b.keysTransposed) {
          if (a.heads !== b.heads || a.headDim !== b.headDim) throw fail("query and key heads differ");
          set({
            kind: "scores",
            query: a.layer,
            key: b.layer,
            heads: a.heads,
            headDim: a.headDim,
            factor: 1,
            masked: false,
          });
        } else if (a.kind === "probs" && b.kind === "heads" && !b.keysTransposed && a.heads === b.heads) {
          const { heads, headDim } = b;
          const layer = push({ kind: "av", node: name, probs: a.layer, value: b.layer, heads, headDim }, [
            1,
            heads * headDim,
          ]);
          set({ kind: "context", layer, heads, headDim, merged: false });
        } else throw fail(`a product of ${a.kind} and ${b.kind} values (only Q·Kᵀ, probabilities·V or x·W)`);
        break;
      }
      case "Add": {
        const c = constants.has(node.inputs[0] ?? "") ? 0 : constants.has(node.inputs[1] ?? "") ? 1 : -1;
        if (c < 0) {
          const [a, b] = [value(0), value(1)];
          if (a.kind === "variance" || b.kind === "variance") throw fail("ε of a layer norm must be a constant");
          const [x, y] = [asSeq(a), asSeq(b)];
          if (x.width !== y.width) throw fail(`operand widths ${x.width} and ${y.width} differ`);
          set({
            kind: "seq",
            layer: push({ kind: "add", node: name, inputs: [x.layer, y.layer] }, [1, x.width]),
            width: x.width,
          });
          break;
        }
        const x = value(1 - c);
        const s = scalar(c);
        if (x.kind === "scores") {
          checkCausalMask(constant(c), contextLength, fail);
          set({ ...x, masked: true });
        } else if (x.kind === "seq" && x.fromMatMul && consumers.get(node.inputs[1 - c]!) === 1) {
          // The bias of the MatMul right before it.
          const layer = layers[x.layer]!;
          if (layer.kind !== "dense") throw fail("bias of a non-dense layer");
          const bias = s !== undefined ? new Float32Array(x.width).fill(s) : vector(c, x.width, "the bias");
          for (let o = 0; o < x.width; o++) layer.bias[o]! += bias[o]!;
          layer.node = `${layer.node}+${name}`;
          set({ kind: "seq", layer: x.layer, width: x.width });
        } else if (x.kind === "variance" && s !== undefined) set({ ...x, kind: "variance-eps", epsilon: s });
        else if (x.kind === "normalised" && x.gamma) {
          const { layer, width } = layerNorm(x.base, x.width, x.gamma, vector(c, x.width, "β"), x.epsilon);
          set({ kind: "seq", layer, width });
        } else if (s !== undefined) set(elementwise(x, (v) => v + s));
        else throw fail("a constant operand must be a bias, a causal mask or a scalar");
        break;
      }
      case "Sub": {
        const [a, b] = [values.get(node.inputs[0]!), values.get(node.inputs[1]!)];
        if (a?.kind === "seq" && b?.kind === "mean" && b.base === a.layer)
          set({ kind: "centred", base: a.layer, width: a.width });
        else if (a && scalar(1) !== undefined) set(elementwise(a, (v) => v - scalar(1)!));
        else if (b && scalar(0) !== undefined) set(elementwise(b, (v) => scalar(0)! - v));
        else throw fail("only x − mean(x) or a scalar difference");
        break;
      }
      case "Mul":
      case "Div": {
        const divide = opType === "Div";
        const c = constants.has(node.inputs[1] ?? "") ? 1 : !divide && constants.has(node.inputs[0] ?? "") ? 0 : -1;
        if (c >= 0) {
          const x = value(1 - c);
          const s = scalar(c);
          if (x.kind === "scores" && s !== undefined) set({ ...x, factor: divide ? x.factor / s : x.factor * s });
          else if (x.kind === "normalised" && !divide && !x.gamma)
            set({ ...x, gamma: Float64Array.from(vector(c, x.width, "γ")) });
          else if (s !== undefined) set(elementwise(x, divide ? (v) => v / s : (v) => v * s));
          else throw fail("a constant factor must be a scalar (or a layer norm's γ)");
          break;
        }
        const [a, b] = [value(0), value(1)];
        if (!divide && a.kind === "centred" && b.kind === "centred" && a.base === b.base)
          set({ ...a, kind: "centred-square" });
        else if (divide && a.kind === "centred" && b.kind === "std" && a.base === b.base)
          set({ kind: "normalised", base: a.base, width: a.width, epsilon: b.epsilon });
        else {
          const [f, g] = [asFunction(a), asFunction(b)];
          if (!f || !g || f.base !== g.base) throw fail("a product of two tensors that are not functions of one layer");
          set({
            kind: "elementwise",
            base: f.base,
            width: f.width,
            f: divide ? (v) => f.f(v) / g.f(v) : (v) => f.f(v) * g.f(v),
            node: name,
          });
        }
        break;
      }
      case "Pow": {
        const x = value(0);
        const p = scalar(1);
        if (p === undefined) throw fail("the exponent must be a scalar constant");
        if (x.kind === "centred" && p === 2) set({ ...x, kind: "centred-square" });
        else set(elementwise(x, (v) => v ** p));
        break;
      }
      case "ReduceMean": {
        const x = value(0);
        const axes =
          (attribute("axes") as number[] | undefined) ??
          (constant(1) ? Array.from(constant(1)!.data as BigInt64Array, Number) : undefined);
        if (!axes || axes.length !== 1 || (axes[0] !== -1 && axes[0] !== 2) || (attribute("keepdims") ?? 1) !== 1)
          throw fail("only a mean over the last axis, keepdims = 1 (a layer norm)");
        if (x.kind === "seq") set({ kind: "mean", base: x.layer, width: x.width });
        else if (x.kind === "centred-square") set({ ...x, kind: "variance" });
        else throw fail(`a mean of a ${x.kind} value (only inside a layer norm)`);
        break;
      }
      case "Sqrt": {
        const x = value(0);
        if (x.kind === "variance-eps") set({ ...x, kind: "std" });
        else set(elementwise(x, Math.sqrt));
        break;
      }
      case "LayerNormalization": {
        const x = asSeq(value(0));
        const axis = (attribute("axis") as number | undefined) ?? -1;
        if (axis !== -1 && axis !== 2) throw fail(`axis = ${axis} (only the last axis)`);
        if (node.outputs.slice(1).some((output) => output && consumers.has(output)))
          throw fail("mean/inverse-std outputs are read");
        const epsilon = (attribute("epsilon") as number | undefined) ?? 1e-5;
        const beta = node.inputs[2] ? vector(2, x.width, "B") : undefined;
        set({ kind: "seq", ...layerNorm(x.layer, x.width, vector(1, x.width, "Scale"), beta, epsilon) });
        break;
      }
      case "Erf":
      case "Tanh":
      case "Sigmoid":
      case "Relu":
      case "Neg":
      case "Gelu": {
        const approximate = attribute("approximate") ?? "none";
        set(elementwise(value(0), unary(opType, approximate === "tanh")));
        break;
      }
      case "Split": {
        const x = value(0);
        const axis = (attribute("axis") as number | undefined) ?? 0;
        const sizes =
          (attribute("split") as number[] | undefined) ??
          (constant(1) ? Array.from(constant(1)!.data as BigInt64Array, Number) : undefined);
        if (axis !== -1 && axis !== 2) throw fail(`axis = ${axis} (only the last axis)`);
        const layer = x.kind === "seq" ? layers[x.layer] : undefined;
        // A fused projection (GPT-2's c_attn) split into Q, K, V: three dense layers instead.
        if (
          x.kind !== "seq" ||
          layer?.kind !== "dense" ||
          x.layer !== layers.length - 1 ||
          consumers.get(node.inputs[0]!) !== 1
        )
          throw fail("only a split of the projection right before it (a fused QKV)");
        const parts = sizes ?? Array.from(node.outputs, () => x.width / node.outputs.length);
        if (
          parts.length !== node.outputs.length ||
          parts.reduce((a, b) => a + b, 0) !== x.width ||
          !parts.every(Number.isInteger)
        )
          throw fail(`split sizes [${parts}] do not cover width ${x.width}`);
        layers.pop();
        shapes.pop();
        let start = 0;
        parts.forEach((size, k) => {
          const { inFeatures } = layer;
          const part = push(
            {
              ...layer,
              node: `${layer.node}[${start}:${start + size}]`,
              outFeatures: size,
              weights: layer.weights.slice(start * inFeatures, (start + size) * inFeatures),
              bias: layer.bias.slice(start, start + size),
            },
            [1, size],
          );
          set({ kind: "seq", layer: part, width: size }, node.outputs[k]!);
          start += size;
        });
        break;
      }
      case "Reshape": {
        const x = value(0);
        const target = constant(1);
        if (target?.dtype !== "int64") throw fail("the shape must be an int64 constant");
        const dims = Array.from(target.data as BigInt64Array, Number);
        if (x.kind === "seq" && dims.length === 4) {
          const heads = dims[2]! > 0 ? dims[2]! : x.width / dims[3]!;
          const headDim = dims[3]! > 0 ? dims[3]! : x.width / heads;
          if (heads * headDim !== x.width || !Number.isInteger(heads))
            throw fail(`cannot split width ${x.width} as [${dims}]`);
          set({ kind: "split-heads", layer: x.layer, heads, headDim });
        } else if (x.kind === "context" && x.merged && dims.length === 3) {
          set({ kind: "seq", layer: x.layer, width: x.heads * x.headDim });
        } else throw fail(`a reshape of a ${x.kind} value to [${dims}]`);
        break;
      }
      case "Transpose": {
        const x = value(0);
        const perm = ((attribute("perm") as number[] | undefined) ?? []).join();
        if (x.kind === "split-heads" && (perm === "0,2,1,3" || perm === "0,2,3,1"))
          set({
            kind: "heads",
            layer: x.layer,
            heads: x.heads,
            headDim: x.headDim,
            keysTransposed: perm === "0,2,3,1",
          });
        else if (x.kind === "heads" && !x.keysTransposed && perm === "0,1,3,2") set({ ...x, keysTransposed: true });
        else if (x.kind === "context" && !x.merged && perm === "0,2,1,3") set({ ...x, merged: true });
        else throw fail(`a transpose [${perm}] of a ${x.kind} value`);
        break;
      }
      case "Softmax": {
        const x = value(0);
        const axis = (attribute("axis") as number | undefined) ?? -1;
        if (x.kind !== "scores" || (axis !== -1 && axis !== 3)) throw fail("only over attention scores' last axis");
        if (!x.masked) throw fail("attention without a causal mask (non-causal attention) cannot be a decoder");
        const { heads, headDim } = x;
        const scores = push({ kind: "qk", node: name, query: x.query, key: x.key, heads, headDim, factor: x.factor }, [
          1,
          heads,
          contextLength,
        ]);
        const maxima = push({ kind: "rowmax", node: name, input: scores }, [1, heads]);
        const layer = push({ kind: "softmax", node: name, input: scores, rowmax: maxima }, [1, heads, contextLength]);
        set({ kind: "probs", layer, heads });
        break;
      }
      case "ArgMax": {
        if (node.outputs[0] !== outputName) throw fail("ArgMax must be the last node");
        const x = asSeq(value(0));
        if ((attribute("axis") ?? 0) !== -1 && attribute("axis") !== 2) throw fail("only over the logits' last axis");
        set({ kind: "seq", layer: x.layer, width: x.width });
        break;
      }
      case "Concat":
        throw fail(
          "concatenation (of a KV cache?) is not supported: export the full-sequence graph without past keys/values",
        );
      case "Where":
        throw fail("a Where-based mask is not supported: export the causal mask as an additive constant");
      default:
        throw fail();
    }
  }
  const logits = values.get(outputName);
  if (
    logits?.kind !== "seq" ||
    layers[logits.layer]?.kind !== "dense" ||
    vocabSize === undefined ||
    logits.width !== vocabSize
  )
    throw new FloatGraphError(
      `Output "${outputName}" is not the logits of a dense layer over the ${vocabSize ?? "?"} token ids.`,
    );
  if (logits.layer !== layers.length - 1)
    throw new FloatGraphError(
      `Output "${outputName}" is not the result of the last layer: side branches are not supported.`,
    );
  push({ kind: "argmax", node: "next token", input: logits.layer }, [1]);
  return { contextLength, vocabSize, layers, shapes, logitsLayer: logits.layer };

  function embed(source: "token" | "position", rows: number, width: number, table: Float32Array): LayerRef {
    return push(
      {
        kind: "embed",
        node: source === "token" ? "token embedding" : "position embedding",
        source,
        rows,
        width,
        table: Float64Array.from(table),
      },
      [1, width],
    );
  }
}

const supported =
  "Supported for decoders: Gather (token ids, constant positions), MatMul (+ bias Add), Split of a fused QKV, Reshape/Transpose of heads, Q·Kᵀ with Div/Mul by a scalar, an additive causal mask, Softmax, probabilities·V, LayerNormalization or its ReduceMean/Sub/Pow/Sqrt/Div/Mul/Add pattern, Gelu/Erf/Tanh/Sigmoid/Relu patterns of one tensor, residual Add.";

function unary(opType: string, tanhGelu: boolean): ElementwiseFunction {
  switch (opType) {
    case "Erf":
      return erf;
    case "Tanh":
      return Math.tanh;
    case "Sigmoid":
      return (x) => 1 / (1 + Math.exp(-x));
    case "Relu":
      return (x) => Math.max(x, 0);
    case "Neg":
      return (x) => -x;
    default:
      return tanhGelu
        ? (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)))
        : (x) => 0.5 * x * (1 + erf(x / Math.SQRT2));
  }
}

/**
 * erf to about 1e-16 relative (Numerical Recipes' erfc via its Chebyshev fit is only ~1e-7; this
 * series/continued-fraction pair keeps the float reference as exact as float64 allows).
 */
export function erf(x: number): number {
  const a = Math.abs(x);
  if (a < 2.5) {
    // Maclaurin series: erf(x) = 2/√π Σ (−1)^n x^(2n+1) / (n! (2n+1)).
    let term = a;
    let sum = a;
    for (let n = 1; n < 200 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
      term *= (-a * a) / n;
      sum += term / (2 * n + 1);
    }
    return Math.sign(x) * Math.min(1, (2 / Math.sqrt(Math.PI)) * sum);
  }
  // erfc by its continued fraction (Lentz), accurate for a >= 2.5.
  let f = a;
  let c = a;
  let d = 0;
  for (let n = 1; n < 300; n++) {
    const an = n / 2;
    d = a + an * d;
    d = d === 0 ? 1e-300 : 1 / d;
    c = a + an / c;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-a * a) / (Math.sqrt(Math.PI) * f);
  return Math.sign(x) * (1 - erfc);
}

/** The positions constant: int64 0 … T − 1 (any leading 1 dims). */
function isArange(tensor: Tensor | undefined, length: number): boolean {
  if (!tensor || (tensor.dtype !== "int64" && tensor.dtype !== "int32") || tensor.data.length !== length) return false;
  return Array.from(tensor.data as BigInt64Array | Int32Array, Number).every((v, i) => v === i);
}

/**
 * An additive mask `[.., T, T]` is causal when query i sees every key j ≤ i unchanged (0) and no
 * key j > i (≤ −1e4, so e^(score + mask) is 0 against any score's e^score); anything else is not
 * the attention of a decoder and is refused.
 */
function checkCausalMask(mask: Tensor | undefined, length: number, fail: (why: string) => Error): void {
  if (mask?.dtype !== "float32" || mask.data.length !== length * length || mask.shape.at(-1) !== length)
    throw fail(`the mask must be a float32 [${length}, ${length}] constant`);
  const data = mask.data as Float32Array;
  for (let i = 0; i < length; i++)
    for (let j = 0; j < length; j++) {
      const v = data[i * length + j]!;
      if (j <= i ? v !== 0 : !(v <= -1e4))
        throw fail(`the mask is not causal (query ${i}, key ${j}: ${v}): non-causal attention cannot be a decoder`);
    }
}

/**
 * An input besides the ids (past keys/values, an attention mask) is refused at the first node that
 * reads it, by name, so the user learns which export option added it.
 */
function refuseCacheInputs(nodes: readonly OnnxNode[], extra: readonly string[]): void {
  for (const name of extra) {
    const reader = nodes.find((node) => node.inputs.includes(name));
    if (!reader) continue;
    const mask = /mask/i.test(name);
    throw new UnsupportedOpError(
      reader.opType,
      reader.name,
      mask
        ? `reads graph input "${name}": an attention-mask input is not supported (the causal mask is part of the semantics)`
        : `reads graph input "${name}": KV-cache (past key/value) inputs are not supported`,
      [
        mask
          ? "Export with the token ids as the only input (a wrapper calling the model with input_ids alone)."
          : "Export the full-sequence graph (ids [1, C] → logits [1, C, V]) without use_cache / past_key_values.",
      ],
    );
  }
}
