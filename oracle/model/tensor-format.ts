/**
 * The format a model registers for its input and its output: a dtype and a shape. Together
 * they fix the one canonical encoding (tensor-codec.ts) the chain accepts: a Zk or Optimistic
 * request's inline input, and every mode's output, must be exactly that encoding.
 */
import { BaseError } from "../errors.ts";
import { dtypeOfCode, dtypes, elementCount, shapeToString, type DType, type Tensor } from "./tensor.ts";

export type TensorFormat = { dtype: DType; shape: readonly number[] };

/** A registered dtype code that this oracle does not know (a newer registry, say). */
export class TensorFormatError extends BaseError {
  override name = "TensorFormatError";
}

/** The format the registry holds as a dtype code and a shape (`getModel`'s `inputDtype`/`inputShape`, say). */
export function registeredFormat(dtypeCode: number | bigint, shape: readonly (number | bigint)[]): TensorFormat {
  const dtype = dtypeOfCode(Number(dtypeCode));
  if (dtype === undefined)
    throw new TensorFormatError(`Unknown registered dtype code ${dtypeCode}.`, {
      details: [
        `Known codes: ${Object.entries(dtypes)
          .map(([name, { code }]) => `${code} ${name}`)
          .join(", ")}.`,
      ],
    });
  return { dtype, shape: shape.map(Number) };
}

/** Bytes of a tensor of `format` in the canonical encoding: 3 header bytes, 4 per dim, then the elements. */
export function canonicalByteLength(format: TensorFormat): number {
  return 3 + 4 * format.shape.length + elementCount(format.shape) * dtypes[format.dtype].size;
}

export function formatToString(format: TensorFormat): string {
  return `${format.dtype} ${shapeToString(format.shape)}`;
}

/** True if `tensor` has exactly the dtype and shape of `format` (so its canonical bytes are the registered encoding). */
export function hasFormat(tensor: Tensor, format: TensorFormat): boolean {
  return (
    tensor.dtype === format.dtype &&
    tensor.shape.length === format.shape.length &&
    tensor.shape.every((dim, axis) => dim === format.shape[axis])
  );
}
