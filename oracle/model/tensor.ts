/**
 * The in-memory tensor every part of the oracle exchanges: a dtype, a shape and the elements in
 * row-major order in the typed array that matches the dtype. `tensor-codec.ts` gives it its one
 * byte encoding; this module holds the dtype table and the structural checks.
 */
import { BaseError } from "../errors.ts";
import { MAX_ELEMENTS, MAX_RANK } from "./chain-limits.ts";

export type DType = "int8" | "int32" | "float32" | "int64" | "uint8";

export type TensorData = Int8Array | Int32Array | Float32Array | BigInt64Array | Uint8Array;

export type Tensor = {
  dtype: DType;
  shape: readonly number[];
  data: TensorData;
};

type DTypeInfo = {
  /** Code in byte 1 of the canonical encoding. */
  code: number;
  /** Bytes per element. */
  size: number;
  /** Name of the typed array holding the elements (for error messages and checks). */
  array: string;
};

/** The codes are part of the on-chain format: never renumber. */
export const dtypes: Readonly<Record<DType, DTypeInfo>> = {
  int8: { code: 1, size: 1, array: "Int8Array" },
  int32: { code: 2, size: 4, array: "Int32Array" },
  float32: { code: 3, size: 4, array: "Float32Array" },
  int64: { code: 4, size: 8, array: "BigInt64Array" },
  uint8: { code: 5, size: 1, array: "Uint8Array" },
};

export const dtypeNames = Object.keys(dtypes) as DType[];

/** The dtype with canonical code `code`, or undefined. */
export function dtypeOfCode(code: number): DType | undefined {
  return dtypeNames.find((name) => dtypes[name].code === code);
}

export function isDType(value: unknown): value is DType {
  return typeof value === "string" && Object.hasOwn(dtypes, value);
}

/** Most dims of a tensor (`ModelRegistry.MAX_RANK`). */
export const maxRank = MAX_RANK;
/** Refuse tensors above 16 Mi elements (`ModelRegistry.MAX_ELEMENTS`): no request or layer of ours comes near it. */
export const maxElements = MAX_ELEMENTS;

export class InvalidTensorError extends BaseError {
  override name = "InvalidTensorError";
}

/** Allocates a zeroed typed array of the dtype's kind. */
export function allocateData(dtype: DType, length: number): TensorData {
  switch (dtype) {
    case "int8":
      return new Int8Array(length);
    case "int32":
      return new Int32Array(length);
    case "float32":
      return new Float32Array(length);
    case "int64":
      return new BigInt64Array(length);
    case "uint8":
      return new Uint8Array(length);
  }
}

/** Product of the dims; 1 for an empty list. */
export function elementCount(shape: readonly number[]): number {
  return shape.reduce((count, dim) => count * dim, 1);
}

export function shapeToString(shape: readonly (number | string)[]): string {
  return `[${shape.join(", ")}]`;
}

/**
 * Throws `InvalidTensorError` unless `tensor` is well formed: known dtype, the typed array that
 * matches it, rank 1..8, integer dims >= 1, element count within the cap and equal to the data
 * length. Float values are not checked here (the codec refuses non-finite ones).
 */
export function assertTensor(tensor: Tensor): void {
  const { dtype, shape, data } = tensor;
  if (!isDType(dtype))
    throw new InvalidTensorError(`Unknown tensor dtype "${String(dtype)}".`, {
      details: [`Known dtypes: ${dtypeNames.join(", ")}.`],
    });
  const expectedArray = dtypes[dtype].array;
  if (data?.constructor?.name !== expectedArray)
    throw new InvalidTensorError(`Tensor data does not match dtype ${dtype}.`, {
      details: [`Expected a ${expectedArray}, got ${data?.constructor?.name ?? typeof data}.`],
    });
  if (!Array.isArray(shape) || shape.length < 1 || shape.length > maxRank)
    throw new InvalidTensorError(`Tensor rank must be 1..${maxRank}.`, {
      details: [`Got shape ${Array.isArray(shape) ? shapeToString(shape) : String(shape)}.`],
    });
  let count = 1;
  for (const [axis, dim] of shape.entries()) {
    if (!Number.isInteger(dim) || dim < 1 || dim > 0xffffffff)
      throw new InvalidTensorError(`Tensor dim ${axis} must be an integer in 1..2^32-1.`, {
        details: [`Got shape ${shapeToString(shape)}.`],
      });
    count *= dim;
    if (count > maxElements)
      throw new InvalidTensorError(`Tensor has more than ${maxElements} elements.`, {
        details: [`Got shape ${shapeToString(shape)}.`],
      });
  }
  if (data.length !== count)
    throw new InvalidTensorError(`Tensor data length does not match its shape.`, {
      details: [`Shape ${shapeToString(shape)} needs ${count} elements, data has ${data.length}.`],
    });
}

/**
 * Returns a checked tensor built from plain values. Float32 values are rounded to float32; integer
 * values must fit the dtype exactly (no silent wrap-around).
 */
export function createTensor(
  dtype: DType,
  shape: readonly number[],
  values: ArrayLike<number> | ArrayLike<bigint>,
): Tensor {
  if (!isDType(dtype)) assertTensor({ dtype, shape, data: new Uint8Array() });
  const data = allocateData(dtype, values.length);
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    let stored: number | bigint | undefined;
    if (dtype === "int64") {
      if (typeof value === "bigint" || Number.isSafeInteger(value)) {
        (data as BigInt64Array)[i] = BigInt(value);
        stored = (data as BigInt64Array)[i] === BigInt(value) ? value : undefined;
      }
    } else if (typeof value === "number" && (dtype === "float32" || Number.isInteger(value))) {
      const target = data as Exclude<TensorData, BigInt64Array>;
      target[i] = value;
      stored = dtype === "float32" || target[i] === value ? value : undefined;
    }
    if (stored === undefined)
      throw new InvalidTensorError(`Tensor value ${i} is not a valid ${dtype}.`, {
        details: [`Got ${typeof value === "bigint" ? `${value}n` : String(value)}.`],
      });
  }
  const tensor = { dtype, shape: [...shape], data };
  assertTensor(tensor);
  return tensor;
}

const hostIsLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * The elements as packed little-endian bytes (the body of canonical tensor bytes and of ONNX
 * raw_data). On a little-endian host this is a view of the data, not a copy.
 */
export function toLittleEndianBytes(data: TensorData): Uint8Array {
  if (hostIsLittleEndian) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  const size = data.BYTES_PER_ELEMENT;
  for (let i = 0; i < data.length; i++) {
    if (data instanceof BigInt64Array) view.setBigInt64(i * size, data[i]!, true);
    else if (data instanceof Float32Array) view.setFloat32(i * size, data[i]!, true);
    else if (data instanceof Int32Array) view.setInt32(i * size, data[i]!, true);
    else out[i] = data[i]! & 0xff;
  }
  return out;
}

/**
 * Reads packed little-endian elements of `dtype` from the start of `bytes` (which must hold at
 * least `bytes.length / size` whole elements) into a fresh, aligned typed array: the source may
 * sit at any offset of a larger buffer.
 */
export function fromLittleEndianBytes(dtype: DType, bytes: Uint8Array): TensorData {
  const size = dtypes[dtype].size;
  const count = Math.floor(bytes.length / size);
  const data = allocateData(dtype, count);
  const body = bytes.subarray(0, count * size);
  if (hostIsLittleEndian) {
    new Uint8Array(data.buffer).set(body);
    return data;
  }
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  for (let i = 0; i < count; i++) {
    if (data instanceof BigInt64Array) data[i] = view.getBigInt64(i * size, true);
    else if (data instanceof Float32Array) data[i] = view.getFloat32(i * size, true);
    else if (data instanceof Int32Array) data[i] = view.getInt32(i * size, true);
    else data[i] = dtype === "int8" ? view.getInt8(i) : view.getUint8(i);
  }
  return data;
}
