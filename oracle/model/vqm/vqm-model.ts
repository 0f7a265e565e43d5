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

export type VqmLayer = DenseLayer | Conv2dLayer | ReluLayer | AddLayer | MaxPool2dLayer | ReshapeLayer | ArgMaxLayer;

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
};
