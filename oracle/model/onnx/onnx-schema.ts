/**
 * The ONNX protobuf schema (onnx-proto, generated from onnx v1.10.2 for protobufjs 6). One place
 * imports the CommonJS package so the rest of the code sees plain ESM names.
 */
import onnxProto from "onnx-proto";
import type { onnx as OnnxTypes } from "onnx-proto";

export const onnx = onnxProto.onnx;
export const ModelProto = onnx.ModelProto;
export const TensorProtoDataType = onnx.TensorProto.DataType;
export const AttributeType = onnx.AttributeProto.AttributeType;

export type IModelProto = OnnxTypes.IModelProto;
export type IGraphProto = OnnxTypes.IGraphProto;
export type INodeProto = OnnxTypes.INodeProto;
export type ITensorProto = OnnxTypes.ITensorProto;
export type IValueInfoProto = OnnxTypes.IValueInfoProto;
export type IAttributeProto = OnnxTypes.IAttributeProto;
