/**
 * What a model file says of its one input and one output, read from the ONNX protobuf itself
 * (names, element types, dims, fixed or symbolic) without reading its weights or its nodes, so it
 * works on any exporter's file. A file that is not ONNX is named for what it is instead (JSON, a
 * zip archive such as a PyTorch checkpoint, HDF5, ...), and a file no single content id can carry
 * (weights in external files) is refused.
 */
import { BaseError } from "../../errors.ts";
import { dtypeNames, type DType } from "../tensor.ts";
import { dtypeOfOnnxDataType } from "./onnx-model.ts";
import { ModelProto } from "./onnx-schema.ts";
import type { IModelProto, IValueInfoProto } from "./onnx-schema.ts";

/** One dim as the file declares it: a size, a symbolic name (`dim_param`, e.g. "N"), or nothing. */
export type OnnxDim = number | string | null;

export type OnnxTensorSignature = {
  name: string;
  dtype: DType;
  /** Undefined when the file declares no shape at all (unknown rank). */
  shape: OnnxDim[] | undefined;
};

export type OnnxSignature = {
  input: OnnxTensorSignature;
  output: OnnxTensorSignature;
  opsetVersion: number;
  producer: string;
};

/** The file is not an ONNX model, or not one a provider could ever serve. */
export class OnnxSignatureError extends BaseError {
  override name = "OnnxSignatureError";
}

const fixHint = "Export the model to ONNX (torch.onnx.export, tf2onnx, skl2onnx) and pass the .onnx file.";

/** ONNX TensorProto.DataType names, for naming the element types the chain has no code for. */
const onnxTypeNames: Record<number, string> = {
  1: "float32",
  2: "uint8",
  3: "int8",
  4: "uint16",
  5: "int16",
  6: "int32",
  7: "int64",
  8: "string",
  9: "bool",
  10: "float16",
  11: "float64",
  12: "uint32",
  13: "uint64",
  14: "complex64",
  15: "complex128",
  16: "bfloat16",
};

/** Reads the one input and one output of the ONNX model `bytes` (from `file`, named in every message). */
export function readOnnxSignature(bytes: Uint8Array, file: string): OnnxSignature {
  const notOnnx = (found: string, cause?: unknown) =>
    new OnnxSignatureError(`${file} is not an ONNX model: ${found}.`, { details: [fixHint], cause });
  const sniffed = sniffFormat(bytes);
  if (sniffed !== undefined) throw notOnnx(sniffed);
  let proto: IModelProto;
  try {
    proto = ModelProto.decode(bytes);
  } catch (error) {
    throw notOnnx(`its bytes do not decode as an ONNX protobuf (${(error as Error).message})`, error);
  }
  const graph = proto.graph;
  if (!graph || !proto.irVersion || (graph.output ?? []).length === 0)
    throw notOnnx("it decodes as a protobuf message but holds no ONNX graph with outputs");
  const opset = (proto.opsetImport ?? []).find((entry) => !entry.domain);
  if (!opset) throw notOnnx("its graph imports no default-domain opset");

  const external = (graph.initializer ?? []).find((tensor) => tensor.dataLocation === 1);
  if (external)
    throw new OnnxSignatureError(`${file} keeps its weights in external files ("${external.name}").`, {
      details: [
        "One content id carries one file: save the model with every tensor inside it",
        "(onnx.save(model, path, save_as_external_data=False); models above 2 GB cannot be served).",
      ],
    });

  // Older exporters list the initializers among the graph inputs: those are weights, not inputs.
  const weights = new Set((graph.initializer ?? []).map((tensor) => tensor.name ?? ""));
  const inputs = (graph.input ?? []).filter((info) => !weights.has(info.name ?? ""));
  const outputs = graph.output ?? [];
  for (const [side, list] of [
    ["input", inputs],
    ["output", outputs],
  ] as const)
    if (list.length !== 1)
      throw new OnnxSignatureError(
        `${file} has ${list.length} ${side}s (${list.map((info) => `"${info.name ?? ""}"`).join(", ")}); a model takes one input and gives one output.`,
        { details: ["Wrap the model so that it takes one tensor and returns one tensor, then export it again."] },
      );
  return {
    input: tensorSignature(inputs[0]!, "input", file),
    output: tensorSignature(outputs[0]!, "output", file),
    opsetVersion: Number(opset.version ?? 0),
    producer: [proto.producerName, proto.producerVersion].filter(Boolean).join(" "),
  };
}

function tensorSignature(info: IValueInfoProto, side: "input" | "output", file: string): OnnxTensorSignature {
  const name = info.name ?? "";
  const tensorType = info.type?.tensorType;
  if (!tensorType)
    throw new OnnxSignatureError(`${file}'s ${side} "${name}" is not a tensor (a sequence or a map, say).`);
  const code = tensorType.elemType ?? 0;
  const dtype = dtypeOfOnnxDataType(code);
  if (!dtype)
    throw new OnnxSignatureError(
      `${file}'s ${side} "${name}" is ${onnxTypeNames[code] ?? `ONNX element type ${code}`}, which the chain has no code for.`,
      { details: [`Tensors are ${dtypeNames.join(", ")}: cast the ${side} in the model and export it again.`] },
    );
  const shape = tensorType.shape
    ? (tensorType.shape.dim ?? []).map((dim): OnnxDim => {
        if (dim.dimParam) return dim.dimParam;
        if (dim.dimValue != null) {
          const size = Number(dim.dimValue.toString());
          return size >= 1 ? size : null;
        }
        return null;
      })
    : undefined;
  return { name, dtype, shape };
}

/** What `bytes` are when they are plainly not a protobuf: a text or another model format. */
function sniffFormat(bytes: Uint8Array): string | undefined {
  if (bytes.length === 0) return "the file is empty";
  const ascii = (offset: number, text: string) =>
    bytes.length >= offset + text.length && [...text].every((c, i) => bytes[offset + i] === c.charCodeAt(0));
  if (ascii(0, "PK\x03\x04")) return "it is a zip archive (a PyTorch .pt/.pth checkpoint or a Keras .keras file?)";
  if (ascii(0, "\x89HDF")) return "it is an HDF5 file (a Keras .h5 model?)";
  if (ascii(4, "TFL3")) return "it is a TensorFlow Lite model";
  if (bytes[0] === 0x80 && bytes.length > 1 && bytes[1]! >= 2 && bytes[1]! <= 5)
    return "it is a Python pickle (a PyTorch or scikit-learn model?)";
  if (ascii(0, "GGUF")) return "it is a GGUF model";
  if (bytes.length > 9 && bytes[8] === 0x7b && bytes[9] === 0x22) return "it is a safetensors file";
  let start = 0;
  while (start < bytes.length && [0x20, 0x09, 0x0a, 0x0d, 0xef, 0xbb, 0xbf].includes(bytes[start]!)) start++;
  const first = bytes[start];
  const head = bytes.subarray(start, Math.min(bytes.length, start + 512));
  const printable = head.every((b) => b === 0x09 || b === 0x0a || b === 0x0d || (b >= 0x20 && b !== 0x7f));
  if (printable && (first === 0x7b || first === 0x5b)) return "it holds JSON text";
  if (printable && head.length > 0) return "it holds text";
  return undefined;
}
