/**
 * Parses ONNX bytes into the plain description of `onnx-model.ts`. Reads what our writer writes
 * and what common exporters write for the same subset (initializers in raw_data or in the typed
 * *_data fields); anything outside it fails with `OnnxReadError` naming what is unsupported.
 */
import { BaseError } from "../../errors.ts";
import { FailureReason } from "../failure-reason.ts";
import { allocateData, assertTensor, dtypes, fromLittleEndianBytes, InvalidTensorError } from "../tensor.ts";
import type { Tensor, TensorData } from "../tensor.ts";
import { dtypeOfOnnxDataType } from "./onnx-model.ts";
import type { OnnxAttribute, OnnxModel, OnnxValueInfo } from "./onnx-model.ts";
import { AttributeType, ModelProto } from "./onnx-schema.ts";
import type { IAttributeProto, ITensorProto, IValueInfoProto } from "./onnx-schema.ts";

/** Model bytes that do not parse, or use what we do not support. */
export class OnnxReadError extends BaseError {
  override name = "OnnxReadError";
  readonly failureReason = FailureReason.ModelContentInvalid;
}

/** protobufjs yields int64 as a Long (when `long` is installed) or a number. */
type Int64 = number | { toNumber(): number; toString(): string };

export function readOnnx(bytes: Uint8Array): OnnxModel {
  let proto: ReturnType<typeof ModelProto.decode>;
  try {
    proto = ModelProto.decode(bytes);
  } catch (error) {
    throw new OnnxReadError("Model bytes are not a valid ONNX protobuf.", { cause: error });
  }
  const graph = proto.graph;
  if (!graph) throw new OnnxReadError("ONNX model has no graph.");
  const defaultOpset = proto.opsetImport.find((opset) => !opset.domain);
  if (!defaultOpset) throw new OnnxReadError("ONNX model imports no default-domain opset.");
  const metadata: Record<string, string> = {};
  for (const { key, value } of proto.metadataProps) metadata[key ?? ""] = value ?? "";
  return {
    irVersion: toNumber(proto.irVersion as Int64, "ir_version"),
    opsetVersion: toNumber(defaultOpset.version as Int64, "opset version"),
    producerName: proto.producerName,
    producerVersion: proto.producerVersion,
    docString: proto.docString,
    metadata,
    graph: {
      name: graph.name ?? "",
      inputs: (graph.input ?? []).map((info) => valueInfo(info, "input")),
      outputs: (graph.output ?? []).map((info) => valueInfo(info, "output")),
      initializers: (graph.initializer ?? []).map((tensor) => ({
        name: tensor.name ?? "",
        tensor: initializerTensor(tensor),
      })),
      nodes: (graph.node ?? []).map((node) => {
        const attributes: Record<string, OnnxAttribute> = {};
        for (const attribute of node.attribute ?? [])
          attributes[attribute.name ?? ""] = attributeValue(attribute, node.name ?? "");
        return {
          name: node.name ?? "",
          opType: node.opType ?? "",
          ...(node.domain ? { domain: node.domain } : {}),
          inputs: [...(node.input ?? [])],
          outputs: [...(node.output ?? [])],
          ...(Object.keys(attributes).length > 0 ? { attributes } : {}),
        };
      }),
    },
  };
}

function valueInfo(info: IValueInfoProto, role: string): OnnxValueInfo {
  const name = info.name ?? "";
  const tensorType = info.type?.tensorType;
  if (!tensorType) throw new OnnxReadError(`Graph ${role} "${name}" is not a tensor.`);
  const dtype = dtypeOfOnnxDataType(tensorType.elemType ?? 0);
  if (!dtype)
    throw new OnnxReadError(`Graph ${role} "${name}" has unsupported element type ${tensorType.elemType}.`, {
      details: [`Supported: ${Object.keys(dtypes).join(", ")}.`],
    });
  const shape = (tensorType.shape?.dim ?? []).map((dim) =>
    dim.dimParam ? dim.dimParam : dim.dimValue != null ? toNumber(dim.dimValue as Int64, `dim of ${name}`) : "?",
  );
  return { name, dtype, shape };
}

function initializerTensor(proto: ITensorProto): Tensor {
  const name = proto.name ?? "";
  const dtype = dtypeOfOnnxDataType(proto.dataType ?? 0);
  if (!dtype) throw new OnnxReadError(`Initializer "${name}" has unsupported data type ${proto.dataType}.`);
  if (proto.dataLocation === 1)
    throw new OnnxReadError(`Initializer "${name}" uses external data, which is not supported.`);
  const shape = (proto.dims ?? []).map((dim) => toNumber(dim as Int64, `dim of ${name}`));
  if (shape.length === 0)
    throw new OnnxReadError(`Initializer "${name}" is a scalar (rank 0), which is not supported.`);
  let data: TensorData;
  if (proto.rawData && proto.rawData.length > 0) {
    if (proto.rawData.length % dtypes[dtype].size !== 0)
      throw new OnnxReadError(
        `Initializer "${name}" has ${proto.rawData.length} raw bytes, not a whole number of ${dtype}.`,
      );
    data = fromLittleEndianBytes(dtype, proto.rawData);
  } else {
    // Typed fields: int8/uint8/int32 live in int32_data, int64 in int64_data, float32 in float_data.
    const values: readonly Int64[] =
      dtype === "float32"
        ? (proto.floatData ?? [])
        : dtype === "int64"
          ? ((proto.int64Data as Int64[]) ?? [])
          : (proto.int32Data ?? []);
    const typed = allocateData(dtype, values.length);
    values.forEach((value, i) => {
      if (typed instanceof BigInt64Array) typed[i] = BigInt(value.toString());
      else typed[i] = typeof value === "number" ? value : value.toNumber();
    });
    data = typed;
  }
  const tensor = { dtype, shape, data };
  try {
    assertTensor(tensor);
  } catch (error) {
    if (!(error instanceof InvalidTensorError)) throw error;
    throw new OnnxReadError(`Initializer "${name}" is not a valid tensor.`, {
      details: [error.shortMessage, ...error.details],
      cause: error,
    });
  }
  return tensor;
}

function attributeValue(attribute: IAttributeProto, node: string): OnnxAttribute {
  const name = attribute.name ?? "";
  switch (attribute.type) {
    case AttributeType.INT:
      return { type: "int", value: toNumber((attribute.i ?? 0) as Int64, `attribute ${name}`) };
    case AttributeType.FLOAT:
      return { type: "float", value: attribute.f ?? 0 };
    case AttributeType.STRING:
      return { type: "string", value: new TextDecoder().decode(attribute.s ?? new Uint8Array()) };
    case AttributeType.INTS:
      return { type: "ints", value: (attribute.ints ?? []).map((v) => toNumber(v as Int64, `attribute ${name}`)) };
    case AttributeType.FLOATS:
      return { type: "floats", value: [...(attribute.floats ?? [])] };
    default:
      throw new OnnxReadError(`Attribute "${name}" of node "${node}" has unsupported type ${attribute.type}.`);
  }
}

function toNumber(value: Int64, what: string): number {
  const number = typeof value === "number" ? value : Number(value.toString());
  if (!Number.isSafeInteger(number)) throw new OnnxReadError(`ONNX ${what} ${value.toString()} is out of range.`);
  return number;
}
