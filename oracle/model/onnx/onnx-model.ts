/**
 * A plain description of an ONNX model: what `writeOnnx` takes and `readOnnx` gives back.
 * Covers the subset our models use (one graph, tensor inputs and outputs, initializers in the
 * canonical dtypes, scalar and list attributes), so that read(write(x)) equals x.
 */
import { BaseError } from "../../errors.ts";
import type { DType, Tensor } from "../tensor.ts";

export type OnnxAttribute =
  | { type: "int"; value: number }
  | { type: "float"; value: number }
  | { type: "string"; value: string }
  | { type: "ints"; value: number[] }
  | { type: "floats"; value: number[] };

export type OnnxNode = {
  name: string;
  opType: string;
  /** Operator domain; "" (the default ONNX domain) when absent. */
  domain?: string;
  inputs: string[];
  outputs: string[];
  attributes?: Record<string, OnnxAttribute>;
};

/** A graph input or output; a string dim is symbolic (dim_param), e.g. "batch". */
export type OnnxValueInfo = {
  name: string;
  dtype: DType;
  shape: (number | string)[];
};

export type OnnxInitializer = { name: string; tensor: Tensor };

export type OnnxGraph = {
  name: string;
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  initializers: OnnxInitializer[];
  nodes: OnnxNode[];
};

export type OnnxModel = {
  irVersion: number;
  opsetVersion: number;
  producerName: string;
  producerVersion: string;
  docString: string;
  /** metadata_props, written sorted by key. */
  metadata: Record<string, string>;
  graph: OnnxGraph;
};

/** ONNX TensorProto.DataType numbers of the canonical dtypes. */
export const onnxDataTypeOf: Readonly<Record<DType, number>> = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
};

export function dtypeOfOnnxDataType(code: number): DType | undefined {
  return (Object.keys(onnxDataTypeOf) as DType[]).find((dtype) => onnxDataTypeOf[dtype] === code);
}

export class OnnxWriteError extends BaseError {
  override name = "OnnxWriteError";
}
