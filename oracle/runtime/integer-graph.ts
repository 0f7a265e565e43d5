/**
 * Which graphs must stay on the CPU provider. A VQM graph (emit-onnx.ts writes metadata
 * `format: "vqm/…"`) is integer-only, and its bits are a protocol promise: the conformance suite
 * checks them against the reference executor on onnxruntime's CPU kernels, and emit-onnx.ts
 * leans on what those kernels do (uint8 × uint8 MatMulInteger that never saturates, clamps by
 * Where because int64 Clip is wrong). The CUDA provider has other kernels for the same ops,
 * checked nowhere here, so the daemon runs integer graphs on the CPU whatever provider it is
 * configured with; CUDA serves float models only.
 */
import { onnx } from "../model/onnx/onnx-schema.ts";

/** The VQM format prefix of the `format` metadata entry emit-onnx.ts writes. */
const vqmFormatPrefix = "vqm/";

/** ModelProto's field number of `metadata_props` (onnx.proto). */
const metadataPropsField = 14;

/** Why an integer graph runs on the CPU although CUDA was asked for (logged, and shown by `verity provider doctor`). */
export const integerGraphPinnedReason =
  "integer (VQM) graph: kept on the CPU provider, whose integer kernels the conformance suite checks bit-exact";

/**
 * True when `model` is an ONNX graph emitted from a VQM model; bytes that do not parse are not.
 * Reads only ModelProto's top-level metadata entries, stepping over the graph and its weights
 * (a large model is not decoded twice just to open it).
 */
export function isIntegerGraph(model: Uint8Array): boolean {
  try {
    for (const entry of topLevelFields(model, metadataPropsField)) {
      const { key, value } = onnx.StringStringEntryProto.decode(entry);
      if (key === "format" && value.startsWith(vqmFormatPrefix)) return true;
    }
    return false;
  } catch {
    return false;
  }
}

/** The bytes of every length-delimited top-level field `field` of a protobuf message. */
function topLevelFields(bytes: Uint8Array, field: number): Uint8Array[] {
  const found: Uint8Array[] = [];
  let at = 0;
  const varint = (): number => {
    let result = 0;
    for (let shift = 0; ; shift += 7) {
      if (at >= bytes.length || shift > 63) throw new Error("truncated varint");
      const byte = bytes[at++]!;
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
    }
  };
  while (at < bytes.length) {
    const tag = varint();
    const wireType = tag % 8;
    if (wireType === 0) varint();
    else if (wireType === 1) at += 8;
    else if (wireType === 5) at += 4;
    else if (wireType === 2) {
      const length = varint();
      if (Math.floor(tag / 8) === field) found.push(bytes.subarray(at, at + length));
      at += length;
    } else throw new Error(`unsupported wire type ${wireType}`);
    if (at > bytes.length) throw new Error("truncated field");
  }
  return found;
}
