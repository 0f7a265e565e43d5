/**
 * Tensors as the KServe v2 (Open Inference Protocol) REST API writes them: `{ name, shape,
 * datatype, data }` with the elements as a flat row-major JSON array, written and read so that
 * every value comes back with the same bits.
 *
 * - FP32: a float32 written as the shortest decimal of its double value parses back to the same
 *   double, which is the same float32. `-0` is written `-0` (JSON.stringify would write `0`);
 *   NaN and ±Infinity have no JSON form and are refused.
 * - INT64: written as decimal digits from the bigint, and read from the digits themselves
 *   (JSON.parse's source text), so values beyond 2^53 are exact both ways.
 */
import { BaseError } from "../errors.ts";
import { createTensor, elementCount, type DType, type Tensor } from "../model/tensor.ts";

/** A KServe v2 datatype this oracle exchanges. */
export type KserveDatatype = "INT8" | "UINT8" | "INT32" | "INT64" | "FP32";

const datatypeOf: Readonly<Record<DType, KserveDatatype>> = {
  int8: "INT8",
  uint8: "UINT8",
  int32: "INT32",
  int64: "INT64",
  float32: "FP32",
};

/** A tensor that cannot be written to or read from KServe v2 JSON exactly. */
export class KserveTensorError extends BaseError {
  override name = "KserveTensorError";
}

export function kserveDatatype(dtype: DType): KserveDatatype {
  return datatypeOf[dtype];
}

/** The dtype of a KServe datatype, undefined for one this oracle does not exchange (FP16, BYTES...). */
export function dtypeOfKserve(datatype: unknown): DType | undefined {
  return (Object.keys(datatypeOf) as DType[]).find((dtype) => datatypeOf[dtype] === datatype);
}

/** The JSON text of `tensor` as a KServe v2 request input or response output named `name`. */
export function kserveTensorJson(name: string, tensor: Tensor): string {
  const values: string[] = new Array<string>(tensor.data.length);
  for (let i = 0; i < tensor.data.length; i++) {
    const value = tensor.data[i]!;
    if (typeof value === "number" && !Number.isFinite(value))
      throw new KserveTensorError(`Tensor "${name}" holds ${value} at element ${i}, which JSON cannot carry.`);
    values[i] = Object.is(value, -0) ? "-0" : String(value);
  }
  const head = JSON.stringify({ name, shape: tensor.shape, datatype: kserveDatatype(tensor.dtype) });
  return `${head.slice(0, -1)},"data":[${values.join(",")}]}`;
}

type Reviver = (key: string, value: unknown, context?: { source?: string }) => unknown;

/**
 * JSON.parse that keeps integers beyond 2^53 exact: their digits become a bigint. Every other
 * value is what JSON.parse gives.
 */
export function parseExactJson(text: string): unknown {
  const reviver: Reviver = (_key, value, context) =>
    typeof value === "number" &&
    !Number.isSafeInteger(value) &&
    context?.source !== undefined &&
    /^-?\d+$/.test(context.source)
      ? BigInt(context.source)
      : value;
  return JSON.parse(text, reviver as (key: string, value: unknown) => unknown);
}

/** A KServe v2 tensor object as parsed (parseExactJson), not yet checked. */
export type KserveTensorObject = { name?: unknown; shape?: unknown; datatype?: unknown; data?: unknown };

/**
 * The tensor that a parsed KServe v2 tensor object holds, checked: a known datatype (and `dtype`
 * when given), a shape of non-negative integers, and exactly as many elements as the shape
 * says, each a value of the datatype (no rounding of integers, no lost int64 digits). `data`
 * may be flat or nested, as the protocol allows.
 */
export function tensorFromKserve(object: KserveTensorObject, dtype?: DType): Tensor {
  const name = typeof object.name === "string" ? object.name : "(unnamed)";
  const got = dtypeOfKserve(object.datatype);
  if (got === undefined)
    throw new KserveTensorError(`Tensor "${name}" has datatype ${JSON.stringify(object.datatype)}.`, {
      details: [`Exchanged datatypes: ${Object.values(datatypeOf).join(", ")}.`],
    });
  if (dtype !== undefined && got !== dtype)
    throw new KserveTensorError(`Tensor "${name}" is ${object.datatype as string}, expected ${kserveDatatype(dtype)}.`);
  const { shape, data } = object;
  if (!Array.isArray(shape) || !shape.every((dim) => Number.isSafeInteger(dim) && (dim as number) >= 0))
    throw new KserveTensorError(`Tensor "${name}" has no shape of non-negative integers.`);
  if (!Array.isArray(data)) throw new KserveTensorError(`Tensor "${name}" has no data array.`);
  // parseExactJson reads a long integer literal as a bigint; as a float it is the double nearest
  // its digits, the same double JSON.parse gives (both round the exact value once).
  const values = (data as unknown[])
    .flat(Infinity)
    .map((value) => (got === "float32" && typeof value === "bigint" ? Number(value) : value));
  if (values.length !== elementCount(shape as number[]))
    throw new KserveTensorError(`Tensor "${name}" has ${values.length} elements for shape [${shape.join(", ")}].`);
  const bad = values.findIndex(
    (value) => !(typeof value === "number" || (got === "int64" && typeof value === "bigint")),
  );
  if (bad >= 0) throw new KserveTensorError(`Tensor "${name}" element ${bad} is not a ${got} number.`);
  if (got === "int64") {
    const lost = values.findIndex((value) => typeof value === "number" && !Number.isSafeInteger(value));
    // Only a parser that lost the digits gives an unsafe integer here (parseExactJson keeps them).
    if (lost >= 0) throw new KserveTensorError(`Tensor "${name}" element ${lost} is not an exact int64.`);
  }
  try {
    return createTensor(got, shape as number[], values as number[] | bigint[]);
  } catch (error) {
    throw new KserveTensorError(`Tensor "${name}" is not a valid ${got} tensor.`, {
      details: [error instanceof BaseError ? error.shortMessage : String(error)],
      cause: error,
    });
  }
}
