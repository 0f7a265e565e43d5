/**
 * Canonical tensor bytes: the one encoding of a tensor used on-chain (request input, result
 * output) and under the integer model format. Version 1:
 *
 *   offset        size        field
 *   0             1           format version, 0x01
 *   1             1           dtype code: 1 int8, 2 int32, 3 float32, 4 int64, 5 uint8
 *   2             1           rank r, 1..8
 *   3             4 * r       dims, each uint32 big-endian, each >= 1
 *   3 + 4r        n * size    the n = product(dims) elements in row-major order, each
 *                             little-endian two's complement (ints) or IEEE 754 binary32
 *                             (float32), packed with no padding
 *
 * Rules a decoder enforces, so that every tensor has exactly one encoding and every encoding
 * one tensor:
 * - the total length is exactly 3 + 4r + n * size (no trailing bytes);
 * - n <= 2^24 (absurd headers are refused before any allocation);
 * - float32 elements are finite (NaN and ±Infinity are refused; NaN has many bit patterns).
 *   Note that -0 and +0 are both finite and keep their distinct bytes.
 *
 * Dims are big-endian so a header reads naturally in a hex dump and in Solidity; elements are
 * little-endian because that is the memory order of onnxruntime and typed arrays on every host
 * we run on, so a tensor body is one copy.
 */
import { BaseError } from "../errors.ts";
import { FailureReason } from "./failure-reason.ts";
import {
  assertTensor,
  dtypeNames,
  dtypeOfCode,
  dtypes,
  fromLittleEndianBytes,
  InvalidTensorError,
  maxElements,
  maxRank,
  shapeToString,
  toLittleEndianBytes,
} from "./tensor.ts";
import type { Tensor } from "./tensor.ts";

export type { DType, Tensor, TensorData } from "./tensor.ts";

export const tensorFormatVersion = 0x01;
const headerSize = 3;

/** Which rule an encoding broke; lets callers (and failure reasons) tell cases apart. */
export type TensorDecodeFailure =
  | "not-bytes"
  | "too-short"
  | "bad-version"
  | "unknown-dtype"
  | "bad-rank"
  | "zero-dim"
  | "too-large"
  | "length-mismatch"
  | "non-finite";

export class TensorDecodeError extends BaseError {
  override name = "TensorDecodeError";
  readonly failure: TensorDecodeFailure;
  readonly failureReason: FailureReason;

  constructor(failure: TensorDecodeFailure, shortMessage: string, details: string[] = []) {
    super(shortMessage, { details });
    this.failure = failure;
    this.failureReason = failure === "too-large" ? FailureReason.InputTooLarge : FailureReason.InputUndecodable;
  }
}

/** Byte length of the canonical encoding of `tensor` (which must be well formed). */
export function encodedTensorSize(tensor: Tensor): number {
  return headerSize + 4 * tensor.shape.length + tensor.data.length * dtypes[tensor.dtype].size;
}

/**
 * Encodes a tensor to its canonical bytes. Throws `InvalidTensorError` for a malformed tensor or a
 * non-finite float32 element.
 */
export function encodeTensor(tensor: Tensor): Uint8Array {
  assertTensor(tensor);
  const { dtype, shape, data } = tensor;
  if (dtype === "float32") {
    const index = firstNonFinite(data as Float32Array);
    if (index !== -1)
      throw new InvalidTensorError(`Tensor element ${index} is not finite.`, {
        details: [`Got ${(data as Float32Array)[index]}; canonical tensors hold finite floats only.`],
      });
  }
  const bytes = new Uint8Array(encodedTensorSize(tensor));
  const view = new DataView(bytes.buffer);
  bytes[0] = tensorFormatVersion;
  bytes[1] = dtypes[dtype].code;
  bytes[2] = shape.length;
  shape.forEach((dim, axis) => view.setUint32(headerSize + 4 * axis, dim, false));
  bytes.set(toLittleEndianBytes(data), headerSize + 4 * shape.length);
  return bytes;
}

/** Decodes canonical tensor bytes. Throws `TensorDecodeError` naming the rule that was broken. */
export function decodeTensor(bytes: Uint8Array): Tensor {
  if (!(bytes instanceof Uint8Array))
    throw new TensorDecodeError("not-bytes", "Tensor bytes must be a Uint8Array.", [`Got ${typeof bytes}.`]);
  if (bytes.length < headerSize)
    throw new TensorDecodeError("too-short", "Tensor bytes are too short for a header.", [
      `Need at least ${headerSize} bytes, got ${bytes.length}.`,
    ]);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = bytes[0]!;
  if (version !== tensorFormatVersion)
    throw new TensorDecodeError("bad-version", `Unsupported tensor format version ${version}.`, [
      `Expected version ${tensorFormatVersion}.`,
    ]);
  const dtype = dtypeOfCode(bytes[1]!);
  if (dtype === undefined)
    throw new TensorDecodeError("unknown-dtype", `Unknown tensor dtype code ${bytes[1]}.`, [
      `Known codes: ${dtypeNames.map((name) => `${dtypes[name].code} ${name}`).join(", ")}.`,
    ]);
  const rank = bytes[2]!;
  if (rank < 1 || rank > maxRank)
    throw new TensorDecodeError("bad-rank", `Tensor rank ${rank} is out of range.`, [`Rank must be 1..${maxRank}.`]);
  const dataOffset = headerSize + 4 * rank;
  if (bytes.length < dataOffset)
    throw new TensorDecodeError("too-short", "Tensor bytes are too short for their dims.", [
      `Rank ${rank} needs a ${dataOffset}-byte header, got ${bytes.length} bytes.`,
    ]);
  const shape: number[] = [];
  let count = 1;
  for (let axis = 0; axis < rank; axis++) {
    const dim = view.getUint32(headerSize + 4 * axis, false);
    if (dim === 0)
      throw new TensorDecodeError("zero-dim", `Tensor dim ${axis} is zero.`, ["Every dim must be at least 1."]);
    shape.push(dim);
    count *= dim;
    if (count > maxElements)
      throw new TensorDecodeError("too-large", `Tensor has more than ${maxElements} elements.`, [
        `Header declares shape ${shapeToString(readDims(view, rank))}.`,
      ]);
  }
  const expected = dataOffset + count * dtypes[dtype].size;
  if (bytes.length !== expected)
    throw new TensorDecodeError("length-mismatch", "Tensor byte length does not match its header.", [
      `Expected ${expected} bytes for ${dtype} ${shapeToString(shape)}, got ${bytes.length}.`,
    ]);
  const data = fromLittleEndianBytes(dtype, bytes.subarray(dataOffset));
  if (dtype === "float32") {
    const index = firstNonFinite(data as Float32Array);
    if (index !== -1)
      throw new TensorDecodeError("non-finite", `Tensor element ${index} is not finite.`, [
        `Got ${(data as Float32Array)[index]}; canonical tensors hold finite floats only.`,
      ]);
  }
  return { dtype, shape, data };
}

function readDims(view: DataView, rank: number): number[] {
  return Array.from({ length: rank }, (_, axis) => view.getUint32(headerSize + 4 * axis, false));
}

function firstNonFinite(data: Float32Array): number {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!)) return i;
  return -1;
}
