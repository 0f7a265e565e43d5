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
 *
 * A decoder (a model with `sequence`) compiles to ONE forward pass t. Inputs: "token" and
 * "position" (= t), int64 [1], and "cache_<k>" int8 [1, C, H·dh] for every layer k a qk or av
 * reads as key or value (rows u < t: layer k at pass u; rows ≥ t are ignored, whatever they
 * hold). Outputs: "output", "kv_<k>" (layer k at pass t: the caller's next cache row) and, with
 * trace, "trace_<i>". Its layers, all in exact integer arithmetic:
 *
 * - embed: Gather of the int8 table's row `token` or `position`; lut: Gather of the 256-entry
 *   int8 table at Cast(x, int64) + 128;
 * - keys/values of pass t: the cache as uint8 (x + 128), Where(u < t, cache, 128),
 *   Where(u = t, this pass's uint8 output, ·): rows beyond t read int8 0;
 * - qk: MatMulInteger of q as uint8 [H, 1, dh] by K as uint8 [H, dh, C] (Reshape, Transpose),
 *   zero points 128, exact in int32 (dh · 2^14 < 2^31); the requantisation chain above with one
 *   m and s, then Where(u > t, −128, ·) in int64 (onnxruntime has no int8 Where), Cast int8;
 * - av: MatMulInteger of p as uint8 [H, 1, C] by V as uint8 [H, C, dh], exact (C·128·128 ≤ 2^31),
 *   rows beyond t are 0; the same requantisation;
 * - rowmax: ReduceMax over the last axis of int8;
 * - softmax: Gather of the exp table (int64) at x − M + 255, Where(u > t, 0, ·), ReduceSum
 *   (int64, < 2^33), then ⌊(254e + S) / (2S + [S = 0])⌋ by Div (numerator ≥ 0: truncation is
 *   the floor; a row with S = 0 gives zeros, as the spec's totality rule says);
 * - centre: int32 D·x − ReduceSum(x) (|·| ≤ 2^23);
 * - normalize: int64 Σc² + ε (ReduceSum), isqrt (`isqrtNodes`: a float64 estimate corrected by
 *   exact integer steps), roundDiv(c·2^16, r) (`floorDivNodes`), gamma·z + beta, then the
 *   per-channel requantisation chain.
 */
import { writeOnnx } from "../onnx/write-onnx.ts";
import type { OnnxInitializer, OnnxNode, OnnxValueInfo } from "../onnx/onnx-model.ts";
import { onnxDataTypeOf } from "../onnx/onnx-model.ts";
import type { DType, Tensor } from "../tensor.ts";
import { layerDtype } from "./layer-shapes.ts";
import { validateVqm } from "./validate-vqm.ts";
import type {
  Activation,
  AddLayer,
  AvLayer,
  CentreLayer,
  Conv2dLayer,
  DenseLayer,
  NormalizeLayer,
  QkLayer,
  SoftmaxLayer,
  VqmModel,
} from "./vqm-model.ts";

export type EmitOnnxOptions = {
  /** Also output every layer's result as "trace_<i>". Defaults to false. */
  trace?: boolean | undefined;
};

/** Zero point of the uint8 encoding of int8 operands: u = v + 128. */
export const uint8ZeroPoint = 128;

/** Initializer names emitOnnx gives layer i's weights and bias (read back by `vqm-files.ts`). */
export const weightName = (index: number) => `l${index}_weight`;
export const biasName = (index: number) => `l${index}_bias`;
/** Initializer names of the decoder layers' parameters (read back by `vqm-files.ts`). */
export const tableName = (index: number) => `l${index}_table`;
export const gammaName = (index: number) => `l${index}_gamma`;
export const betaName = (index: number) => `l${index}_beta`;
export const expName = (index: number) => `l${index}_exp`;

/** Graph input of a decoder pass: layer `index`'s outputs at the passes before this one. */
export const cacheInputName = (index: number) => `cache_${index}`;
/** Graph output of a decoder pass: layer `index`'s output, which the caller appends to its cache. */
export const cacheOutputName = (index: number) => `kv_${index}`;
/** Graph inputs of a decoder pass: the token it reads and its index t (= its position), int64 [1]. */
export const tokenInputName = "token";
export const positionInputName = "position";

/** ONNX TensorProto code of float64, used only by isqrt's first estimate (corrected exactly). */
const onnxDouble = 11;

const two62 = 2n ** 62n;

export function emitOnnx(model: VqmModel, { trace = false }: EmitOnnxOptions = {}): Uint8Array {
  const shapes = validateVqm(model);
  const last = model.layers.length - 1;
  const graph = graphBuilder();
  const { nodes, initializers, constant, node, cast } = graph;
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
    masked?: string,
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
    // qk's causal mask: −128 where `masked` is true (here, in int64: onnxruntime has no int8 Where).
    const result = masked
      ? node(
          `${prefix}_mask`,
          "Where",
          [masked, constant("lo_none", tensor("int64", [1], [-128n])), clipped],
          `${prefix}_mask`,
        )
      : clipped;
    node(`${prefix}_i8`, "Cast", [result], out, { to: { type: "int", value: onnxDataTypeOf.int8 } });
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

  // -------------------------------------------------------------------------------------------
  // Sequence layers: a decoder's graph is one pass t (see the module comment).
  const sequence = model.sequence;
  const cached = sequence ? cachedLayers(model) : [];
  const contextLength = sequence?.contextLength ?? 0;
  const int64 = (name: string, values: bigint[], shape = [values.length]) =>
    constant(name, tensor("int64", shape, values));
  const scalar64 = (value: bigint) => int64(`c${value < 0n ? `m${-value}` : value}_i64`, [value]);
  const positions = (name: string, shape: number[]) =>
    int64(
      name,
      Array.from({ length: contextLength }, (_, u) => BigInt(u)),
      shape,
    );
  /** Boolean masks of pass t over the C positions u, computed once: u > t ([C]), u = t and u < t ([1, C, 1]). */
  const masks = new Map<string, string>();
  const mask = (op: "Greater" | "Equal" | "Less") => {
    const name = `seq_${op.toLowerCase()}`;
    if (!masks.has(name)) {
      const axis =
        op === "Greater" ? positions("seq_u", [contextLength]) : positions("seq_u_col", [1, contextLength, 1]);
      masks.set(name, node(name, op, [axis, positionInputName], name));
    }
    return masks.get(name)!;
  };
  const reshape = (name: string, input: string, shape: number[]) =>
    node(name, "Reshape", [input, int64(`${name}_shape`, shape.map(BigInt))], name);
  const reduceSum = (name: string, input: string) =>
    node(name, "ReduceSum", [input, int64("axis_last", [-1n])], name, { keepdims: { type: "int", value: 1 } });

  const merged = new Map<number, string>();
  /**
   * Layer `ref`'s outputs at passes 0 … C−1 as seen by pass t, uint8 (x + 128) [1, C, H·dh]:
   * the cache's rows u < t, this pass's output at row t, int8 0 (uint8 128) at rows u > t, so a
   * product over all C rows sums exactly the terms u ≤ t whatever the cache holds beyond t.
   */
  const keysOrValues = (ref: number): string => {
    const cachedValue = merged.get(ref);
    if (cachedValue) return cachedValue;
    const prefix = `kv${ref}`;
    const wide = cast(`${prefix}_cache_i32`, cacheInputName(ref), "int32");
    const shifted = node(
      `${prefix}_cache_p128`,
      "Add",
      [wide, constant("c128_i32", tensor("int32", [1], [128]))],
      `${prefix}_cache_p128`,
    );
    const encoded = cast(`${prefix}_cache_u8`, shifted, "uint8");
    const past = node(`${prefix}_past`, "Where", [mask("Less"), encoded, zeroPoint()], `${prefix}_past`);
    const all = node(`${prefix}_all`, "Where", [mask("Equal"), uint8Of(ref), past], `${prefix}_all`);
    merged.set(ref, all);
    return all;
  };

  /** requant(acc, m, s, none) of an int32 accumulator with one multiplier and shift. */
  const requantScalar = (prefix: string, acc: string, m: number, s: number, out: string, masked?: string) => {
    const wide = cast(`${prefix}_i64`, acc, "int64");
    const product = node(`${prefix}_mul`, "Mul", [wide, int64(`${prefix}_m`, [BigInt(m)])], `${prefix}_mul`);
    roundClamp(prefix, product, [s], [1], "none", out, masked);
  };

  const qkLayer = (index: number, layer: QkLayer) => {
    const prefix = `l${index}`;
    const { heads, headDim } = layer;
    // q as [H, 1, dh] times K as [H, dh, C]: MatMulInteger broadcasts over the head axis; the
    // int32 sums are exact (dh · 2^14 < 2^31, validated).
    const q = reshape(`${prefix}_q`, uint8Of(layer.query), [heads, 1, headDim]);
    const k = reshape(`${prefix}_k`, keysOrValues(layer.key), [contextLength, heads, headDim]);
    const kT = node(`${prefix}_kt`, "Transpose", [k], `${prefix}_kt`, { perm: { type: "ints", value: [1, 2, 0] } });
    const acc = node(`${prefix}_matmul`, "MatMulInteger", [q, kT, zeroPoint(), zeroPoint()], `${prefix}_matmul`);
    const scores = reshape(`${prefix}_acc`, acc, [1, heads, contextLength]);
    requantScalar(prefix, scores, layer.multiplier, layer.shift, valueOf(index), mask("Greater"));
  };

  const avLayer = (index: number, layer: AvLayer) => {
    const prefix = `l${index}`;
    const { heads, headDim } = layer;
    // p as [H, 1, C] times V as [H, C, dh]; rows u > t of V are 0, so only u ≤ t count. The
    // int32 sums are exact (C · 128 · 128 ≤ 2^31 for the validated C).
    const p = reshape(`${prefix}_p`, uint8Of(layer.probs), [heads, 1, contextLength]);
    const v = reshape(`${prefix}_v`, keysOrValues(layer.value), [contextLength, heads, headDim]);
    const vT = node(`${prefix}_vt`, "Transpose", [v], `${prefix}_vt`, { perm: { type: "ints", value: [1, 0, 2] } });
    const acc = node(`${prefix}_matmul`, "MatMulInteger", [p, vT, zeroPoint(), zeroPoint()], `${prefix}_matmul`);
    const flat = reshape(`${prefix}_acc`, acc, [1, heads * headDim]);
    requantScalar(prefix, flat, layer.multiplier, layer.shift, valueOf(index));
  };

  const softmaxLayer = (index: number, layer: SoftmaxLayer, heads: number) => {
    const prefix = `l${index}`;
    const x = cast(`${prefix}_x_i64`, valueOf(layer.input), "int64");
    const max = reshape(`${prefix}_max`, cast(`${prefix}_max_i64`, valueOf(layer.rowmax), "int64"), [1, heads, 1]);
    // x − M + 255 ∈ [0, 255]: M is the maximum of the whole row (validation: the rowmax of this
    // very input, computed in this graph) and both are int8, so the spec's clamp of the index
    // never acts here and is left out.
    const offset = node(`${prefix}_sub`, "Sub", [x, max], `${prefix}_sub`);
    const indices = node(`${prefix}_idx`, "Add", [offset, scalar64(255n)], `${prefix}_idx`);
    const table = constant(expName(index), tensor("int64", [256], Array.from(layer.exp, BigInt)));
    const looked = node(`${prefix}_gather`, "Gather", [table, indices], `${prefix}_gather`, {
      axis: { type: "int", value: 0 },
    });
    const e = node(`${prefix}_e`, "Where", [mask("Greater"), scalar64(0n), looked], `${prefix}_e`);
    // S ≤ C · 2^16 < 2^33 and every term is ≥ 0: int64 sums are exact and order-free.
    const sum = reduceSum(`${prefix}_sum`, e);
    // roundDiv(127·e, S) = ⌊(254·e + S) / (2S)⌋; the numerator is ≥ 0, so the truncating Div is
    // the floor, and the result ≤ ⌊255S / 2S⌋ = 127 fits int8. S is 0 only when the row's maximum
    // sits at a masked position u > t (scores that are not a qk's) and the table maps every
    // unmasked entry to 0: then every e is 0 and dividing by 2S + [S = 0] = 1 gives the spec's zeros.
    const scaled = node(`${prefix}_e254`, "Mul", [e, scalar64(254n)], `${prefix}_e254`);
    const numerator = node(`${prefix}_num`, "Add", [scaled, sum], `${prefix}_num`);
    const empty = cast(`${prefix}_empty`, node(`${prefix}_s0`, "Equal", [sum, scalar64(0n)], `${prefix}_s0`), "int64");
    const doubled = node(`${prefix}_s2`, "Mul", [sum, scalar64(2n)], `${prefix}_s2`);
    const denominator = node(`${prefix}_den`, "Add", [doubled, empty], `${prefix}_den`);
    const quotient = node(`${prefix}_div`, "Div", [numerator, denominator], `${prefix}_div`);
    node(`${prefix}_i8`, "Cast", [quotient], valueOf(index), { to: { type: "int", value: onnxDataTypeOf.int8 } });
  };

  const centreLayer = (index: number, layer: CentreLayer, width: number) => {
    const prefix = `l${index}`;
    // |D·x| ≤ 2^15 · 128 and |Σx| ≤ 2^15 · 128 (D ≤ 2^15, validated): int32 is exact.
    const x = cast(`${prefix}_x_i32`, valueOf(layer.input), "int32");
    const sum = reduceSum(`${prefix}_sum`, x);
    const scaled = node(
      `${prefix}_dx`,
      "Mul",
      [x, constant(`${prefix}_width`, tensor("int32", [1], [width]))],
      `${prefix}_dx`,
    );
    node(`${prefix}_sub`, "Sub", [scaled, sum], valueOf(index));
  };

  const normalizeLayer = (index: number, layer: NormalizeLayer, width: number) => {
    const prefix = `l${index}`;
    const c = cast(`${prefix}_c_i64`, valueOf(layer.input), "int64");
    // Σc² < 2^61 and + ε < 2^62: int64 exact.
    const squares = node(`${prefix}_sq`, "Mul", [c, c], `${prefix}_sq`);
    const n = node(
      `${prefix}_n`,
      "Add",
      [reduceSum(`${prefix}_sumsq`, squares), int64(`${prefix}_eps`, [layer.epsilon])],
      `${prefix}_n`,
    );
    const r = isqrtNodes(graph, `${prefix}_isqrt`, n);
    // roundDiv(c·2^16, r) = ⌊(2·c·2^16 + r) / (2r)⌋, r ≥ 1 (ε ≥ 1); |c| ≤ r, so every term is < 2^50.
    const numerator = node(
      `${prefix}_num`,
      "Add",
      [node(`${prefix}_c2`, "Mul", [c, scalar64(1n << 17n)], `${prefix}_c2`), r],
      `${prefix}_num`,
    );
    const denominator = node(`${prefix}_den`, "Mul", [r, scalar64(2n)], `${prefix}_den`);
    const z = floorDivNodes(graph, `${prefix}_rd`, numerator, denominator);
    const gamma = cast(
      `${prefix}_gamma_i64`,
      constant(gammaName(index), tensor("int8", [width], layer.gamma)),
      "int64",
    );
    const beta = cast(`${prefix}_beta_i64`, constant(betaName(index), tensor("int32", [width], layer.beta)), "int64");
    const scaled = node(`${prefix}_gz`, "Mul", [z, gamma], `${prefix}_gz`);
    const acc = node(`${prefix}_acc`, "Add", [scaled, beta], `${prefix}_acc`);
    const { multiplier, shift, activation } = layer.requant;
    const product = node(
      `${prefix}_mul`,
      "Mul",
      [acc, int64(`${prefix}_m`, Array.from(multiplier, BigInt))],
      `${prefix}_mul`,
    );
    roundClamp(prefix, product, Array.from(shift), [width], activation, valueOf(index));
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
      case "embed": {
        const table = constant(tableName(index), tensor("int8", [layer.rows, layer.width], layer.table));
        const row = layer.source === "token" ? tokenInputName : positionInputName;
        return node(`${prefix}_gather`, "Gather", [table, row], out, { axis: { type: "int", value: 0 } });
      }
      case "lut": {
        // y = table[x + 128]: an int8 x indexes the 256 entries, no clamping needed.
        const wide = cast(`${prefix}_x_i64`, valueOf(layer.input), "int64");
        const indices = node(`${prefix}_idx`, "Add", [wide, scalar64(128n)], `${prefix}_idx`);
        const table = constant(tableName(index), tensor("int8", [256], layer.table));
        return node(`${prefix}_gather`, "Gather", [table, indices], out, { axis: { type: "int", value: 0 } });
      }
      case "centre":
        return centreLayer(index, layer, shapes[index]![1]!);
      case "normalize":
        return normalizeLayer(index, layer, shapes[index]![1]!);
      case "qk":
        return qkLayer(index, layer);
      case "rowmax":
        return node(`${prefix}_reducemax`, "ReduceMax", [valueOf(layer.input)], out, {
          axes: { type: "ints", value: [-1] },
          keepdims: { type: "int", value: 0 },
        });
      case "softmax":
        return softmaxLayer(index, layer, shapes[index]![1]!);
      case "av":
        return avLayer(index, layer);
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

  const dtypeOf = (index: number): DType => layerDtype(model.layers[index]!.kind);
  const outputs: OnnxValueInfo[] = [{ name: "output", dtype: dtypeOf(last), shape: shapes[last]! }];
  for (const index of cached) {
    node(cacheOutputName(index), "Identity", [valueOf(index)], cacheOutputName(index));
    outputs.push({ name: cacheOutputName(index), dtype: "int8", shape: shapes[index]! });
  }
  if (trace)
    shapes.forEach((shape, index) => {
      node(`trace_${index}`, "Identity", [valueOf(index)], `trace_${index}`);
      outputs.push({ name: `trace_${index}`, dtype: dtypeOf(index), shape });
    });
  return writeOnnx({
    graph: {
      name: model.name,
      inputs: sequence
        ? [
            { name: tokenInputName, dtype: "int64", shape: [1] },
            { name: positionInputName, dtype: "int64", shape: [1] },
            ...cached.map((index): OnnxValueInfo => {
              const width = shapes[index]![1]!;
              return { name: cacheInputName(index), dtype: "int8", shape: [1, sequence.contextLength, width] };
            }),
          ]
        : [{ name: "input", dtype: "int8", shape: [...model.input.shape] }],
      outputs,
      initializers,
      nodes,
    },
    metadata: { format: model.format },
  });
}

/**
 * For tests of the decoder's exact arithmetic on chosen values: a graph with int64 [k] inputs
 * "n", "a", "b" and outputs "isqrt" = ⌊√n⌋ and "round_div" = roundDiv(a, b) = ⌊(2a + b) / (2b)⌋
 * (b > 0), built by the same functions as `normalize`'s nodes.
 */
export function emitArithmeticOnnx(): Uint8Array {
  const graph = graphBuilder();
  const { node, constant } = graph;
  const two = constant("c2_i64", tensor("int64", [1], [2n]));
  const root = isqrtNodes(graph, "isqrt", "n");
  const numerator = node("num", "Add", [node("a2", "Mul", ["a", two], "a2"), "b"], "num");
  const quotient = floorDivNodes(graph, "rd", numerator, node("b2", "Mul", ["b", two], "b2"));
  node("out_isqrt", "Identity", [root], "isqrt");
  node("out_round_div", "Identity", [quotient], "round_div");
  const vector = (name: string): OnnxValueInfo => ({ name, dtype: "int64", shape: ["k"] });
  return writeOnnx({
    graph: {
      name: "vqm-arithmetic",
      inputs: ["n", "a", "b"].map(vector),
      outputs: ["isqrt", "round_div"].map(vector),
      initializers: graph.initializers,
      nodes: graph.nodes,
    },
  });
}

/**
 * ⌊N / D⌋ for int64 N and D > 0. onnxruntime's int64 Div truncates toward 0 (C++ `/`), so
 * q = Div(N, D) is the floor when N ≥ 0 and ⌈N / D⌉ when N < 0; in the latter case q·D ≥ N,
 * with equality exactly when D divides N (q is then the floor too), and otherwise the floor
 * is q − 1. Hence ⌊N / D⌋ = q − [q·D > N]. |q·D| ≤ |N| + D, no overflow.
 */
function floorDivNodes({ node, cast }: GraphBuilder, prefix: string, numerator: string, denominator: string): string {
  const q = node(`${prefix}_q`, "Div", [numerator, denominator], `${prefix}_q`);
  const back = node(`${prefix}_qd`, "Mul", [q, denominator], `${prefix}_qd`);
  const over = cast(`${prefix}_over`, node(`${prefix}_gt`, "Greater", [back, numerator], `${prefix}_gt`), "int64");
  return node(`${prefix}_floor`, "Sub", [q, over], `${prefix}_floor`);
}

/**
 * ⌊√n⌋ for int64 1 ≤ n < 2^62 + 2^61 (validated: Σc² < 2^61, ε < 2^62). The float64 estimate
 * ⌊sqrt(double(n))⌋ is within 1 of the answer (double(n) and sqrt are each correctly rounded,
 * so the error is far below 1 near √n < 2^32), and two exact integer steps each way then fix
 * it: r −= [r² > n], twice; r += [(r + 1)² ≤ n], twice. Every square is < 2^63.
 */
function isqrtNodes({ node, cast, constant }: GraphBuilder, prefix: string, n: string): string {
  const f = node(`${prefix}_f64`, "Cast", [n], `${prefix}_f64`, { to: { type: "int", value: onnxDouble } });
  const root = node(`${prefix}_sqrt`, "Sqrt", [f], `${prefix}_sqrt`);
  let r = node(`${prefix}_r0`, "Cast", [root], `${prefix}_r0`, { to: { type: "int", value: onnxDataTypeOf.int64 } });
  const one = constant("c1_i64", tensor("int64", [1], [1n]));
  for (const step of [1, 2]) {
    const square = node(`${prefix}_dn${step}_sq`, "Mul", [r, r], `${prefix}_dn${step}_sq`);
    const over = node(`${prefix}_dn${step}_gt`, "Greater", [square, n], `${prefix}_dn${step}_gt`);
    r = node(`${prefix}_dn${step}`, "Sub", [r, cast(`${prefix}_dn${step}_i64`, over, "int64")], `${prefix}_dn${step}`);
  }
  for (const step of [1, 2]) {
    const next = node(`${prefix}_up${step}_next`, "Add", [r, one], `${prefix}_up${step}_next`);
    const square = node(`${prefix}_up${step}_sq`, "Mul", [next, next], `${prefix}_up${step}_sq`);
    const beyond = node(`${prefix}_up${step}_gt`, "Greater", [square, n], `${prefix}_up${step}_gt`);
    const fits = node(`${prefix}_up${step}_le`, "Not", [beyond], `${prefix}_up${step}_le`);
    r = node(`${prefix}_up${step}`, "Add", [r, cast(`${prefix}_up${step}_i64`, fits, "int64")], `${prefix}_up${step}`);
  }
  return r;
}

type GraphBuilder = {
  nodes: OnnxNode[];
  initializers: OnnxInitializer[];
  /** Adds an initializer once per name; later calls with the same name reuse it. */
  constant(name: string, tensor: Tensor): string;
  /** Adds a one-output node and returns the output's name. */
  node(name: string, opType: string, inputs: string[], output: string, attributes?: OnnxNode["attributes"]): string;
  /** A Cast node whose output is named after it. */
  cast(name: string, input: string, to: DType): string;
};

function graphBuilder(): GraphBuilder {
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
  return { nodes, initializers, constant, node, cast };
}

/**
 * The layers a decoder pass reads at earlier passes too: every `qk`'s key and `av`'s value,
 * ascending. Each is a "cache_<k>" input and a "kv_<k>" output of the emitted pass.
 */
export function cachedLayers(model: VqmModel): number[] {
  const refs = new Set<number>();
  for (const layer of model.layers)
    if (layer.kind === "qk") refs.add(layer.key);
    else if (layer.kind === "av") refs.add(layer.value);
  return [...refs].sort((a, b) => a - b);
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
