/**
 * A verifiable quantised model (VQM): the integer network whose semantics
 * docs/numeric-semantics.md defines. Every engine (onnxruntime via the emitted ONNX, the
 * reference executor, the Solidity one-step, the circuit) takes this description.
 */

/** Index of the layer whose output a layer reads; -1 is the model input. */
export type LayerRef = number;

export type Activation = "none" | "relu";

/** Per-output-channel fixed-point requantisation: clamp(roundShift(acc * m, s), lo, 127). */
export type Requant = {
  /** int32 in [0, 2^31), one per output channel. */
  multiplier: Int32Array;
  /** In [0, 62], one per output channel. */
  shift: Uint8Array;
  activation: Activation;
};

export type DenseLayer = {
  kind: "dense";
  input: LayerRef;
  inFeatures: number;
  outFeatures: number;
  /** int8 [out][in], row-major: one output's weights are contiguous. */
  weights: Int8Array;
  /** int32 [out]. */
  bias: Int32Array;
  requant: Requant;
};

export type Conv2dLayer = {
  kind: "conv2d";
  input: LayerRef;
  inChannels: number;
  outChannels: number;
  kernel: [number, number];
  stride: [number, number];
  /** top, left, bottom, right. */
  padding: [number, number, number, number];
  /** int8 [oc][ic][kh][kw]. */
  weights: Int8Array;
  /** int32 [oc]. */
  bias: Int32Array;
  requant: Requant;
};

export type ReluLayer = { kind: "relu"; input: LayerRef };

export type AddLayer = {
  kind: "add";
  inputs: [LayerRef, LayerRef];
  /** int32 in [0, 2^31) for each input. */
  multipliers: [number, number];
  shift: number;
  activation: Activation;
};

export type MaxPool2dLayer = {
  kind: "maxpool2d";
  input: LayerRef;
  kernel: [number, number];
  stride: [number, number];
};

export type ReshapeLayer = { kind: "reshape"; input: LayerRef; shape: number[] };

export type ArgMaxLayer = { kind: "argmax"; input: LayerRef };

// Sequence-model layers (docs/numeric-semantics.md, "Sequence models"): a decoder's layers are
// one forward pass for one position; `qk` and `av` also read another layer's outputs at every
// earlier pass (its keys and values: the KV cache is the trace itself).

/** A row of an int8 table: the pass's token (`token`, `V` rows) or its position (`position`, `C` rows). */
export type EmbedLayer = {
  kind: "embed";
  source: "token" | "position";
  rows: number;
  width: number;
  /** int8 [rows][width], row-major. */
  table: Int8Array;
};

/** An elementwise function of int8 as a table: `y = table[x + 128]` (GELU, tanh, …). */
export type LutLayer = { kind: "lut"; input: LayerRef; table: Int8Array };

/** First half of a layer normalisation: `c[i] = D·x[i] − Σx` over the row, int32 `[1, D]`. */
export type CentreLayer = { kind: "centre"; input: LayerRef };

/**
 * Second half: reads a `centre` output `c` (int32 `[1, D]`):
 * `y[i] = requant(gamma[i]·roundDiv(c[i]·2^16, isqrt(Σc² + epsilon)) + beta[i], m[i], s[i], act)`.
 */
export type NormalizeLayer = {
  kind: "normalize";
  input: LayerRef;
  /** int8 [D]. */
  gamma: Int8Array;
  /** int32 [D]. */
  beta: Int32Array;
  /** ≥ 1 and < 2^62: the float epsilon in the integer units of Σc² (`round(eps·D³ / s_x²)`). */
  epsilon: bigint;
  requant: Requant;
};

/**
 * Attention scores of one pass `t`: `y[h][u] = requant(Σ_d q[h·dh + d]·K_u[h·dh + d], m, s, none)`
 * for `u ≤ t`, where `K_u` is layer `key`'s output at pass `u`; `y[h][u] = −128` for `u > t`.
 * Output int8 `[1, heads, C]`.
 */
export type QkLayer = {
  kind: "qk";
  query: LayerRef;
  key: LayerRef;
  heads: number;
  headDim: number;
  /** One multiplier and shift for the whole layer (its `activation` is always "none"). */
  multiplier: number;
  shift: number;
};

/** The maximum of each row of a `[1, H, C]` tensor: int8 `[1, H]`. */
export type RowMaxLayer = { kind: "rowmax"; input: LayerRef };

/**
 * Causal softmax of the scores `x` (`[1, H, C]`) with their row maxima `rowmax` (`[1, H]`), at
 * pass `t`: `e[u] = exp[x[u] − M + 255]` for `u ≤ t`, else 0; `S = Σ e`;
 * `y[u] = roundDiv(127·e[u], S)`: int8 in `[0, 127]`, probability `y / 127`.
 */
export type SoftmaxLayer = {
  kind: "softmax";
  input: LayerRef;
  rowmax: LayerRef;
  /** uint32 [256], `exp[255] = 2^16`, non-decreasing, each ≤ 2^16: `round(2^16 · e^((k − 255)·s_x))`. */
  exp: Uint32Array;
};

/**
 * Attention-weighted values at pass `t`:
 * `y[h·dh + d] = requant(Σ_{u ≤ t} p[h][u]·V_u[h·dh + d], m, s, none)`, `p` the `probs` output
 * (`[1, H, C]`) and `V_u` layer `value`'s output at pass `u`. Output int8 `[1, H·dh]`.
 */
export type AvLayer = {
  kind: "av";
  probs: LayerRef;
  value: LayerRef;
  heads: number;
  headDim: number;
  multiplier: number;
  shift: number;
};

export type VqmLayer =
  | DenseLayer
  | Conv2dLayer
  | ReluLayer
  | AddLayer
  | MaxPool2dLayer
  | ReshapeLayer
  | ArgMaxLayer
  | EmbedLayer
  | LutLayer
  | CentreLayer
  | NormalizeLayer
  | QkLayer
  | RowMaxLayer
  | SoftmaxLayer
  | AvLayer;

/**
 * What makes a model a decoder: its layers are one forward pass for one position, and a request
 * generates `newTokens` tokens after a prompt (docs/numeric-semantics.md, "Generation").
 */
export type SequenceSpec = {
  /** C: positions a generation may use (prompt + generated − 1 ≤ C passes). */
  contextLength: number;
  /** V: token ids are 0 … V − 1. */
  vocabSize: number;
  /** The request input is int32 `[1, promptLength]`: the prompt, ended early by a negative id. */
  promptLength: number;
  /** The output is int32 `[1, newTokens]`: the generated ids. */
  newTokens: number;
  /** The prompt of an empty request: `[bos]`. */
  bos: number;
};

export type VqmModel = {
  format: "vqm/1";
  name: string;
  input: {
    /** Includes the batch dimension, always 1. */
    shape: number[];
    /** Float value of one int8 step: a client quantises x as clamp(round(x / scale), -128, 127). */
    scale: number;
  };
  layers: VqmLayer[];
  /** Float value of one step of the last layer's int8 output (absent after argmax). */
  outputScale?: number | undefined;
  /** Class names when the model classifies. */
  labels?: string[] | undefined;
  /** Present for a decoder (sequence model): `input` is then unused (`shape` `[1, 1]`, scale 1). */
  sequence?: SequenceSpec | undefined;
};
