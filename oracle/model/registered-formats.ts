/**
 * The input and output formats an ONNX model registers with (`model register`): dtypes and
 * shapes from the file itself, its dynamic dims (a batch "N") fixed by `--dim NAME=SIZE` or by an
 * optional manifest, and the manifest, when there is one, checked against the file: a dtype,
 * shape, name, modelHash or label count that contradicts the model is refused, since the chain
 * would then hold every provider to outputs the model never gives.
 */
import { keccak256 } from "ethers";
import { BaseError } from "../errors.ts";
import { shapeLimitViolation } from "./chain-limit-violation.ts";
import type { OnnxDim, OnnxSignature, OnnxTensorSignature } from "./onnx/onnx-signature.ts";
import { isDType, shapeToString } from "./tensor.ts";
import type { TensorFormat } from "./tensor-format.ts";

/** What a manifest may say of an ONNX model; every field is optional and other fields are ignored. */
export type OnnxModelManifest = {
  name?: unknown;
  labels?: unknown;
  modelHash?: unknown;
  input?: { name?: unknown; dtype?: unknown; shape?: unknown };
  output?: { name?: unknown; dtype?: unknown; shape?: unknown };
};

/** `--dim` values: a symbolic dim's name ("N") or `input:AXIS` / `output:AXIS` → its size. */
export type DimSizes = Record<string, number>;

export type ResolveRegisteredFormatsParameters = {
  /** The model file, named in messages. */
  file: string;
  bytes: Uint8Array;
  signature: OnnxSignature;
  manifest?: { file: string; content: OnnxModelManifest } | undefined;
  dims?: DimSizes | undefined;
};

export type RegisteredFormats = { input: TensorFormat; output: TensorFormat; labels?: string[] | undefined };

export class RegisteredFormatsError extends BaseError {
  override name = "RegisteredFormatsError";
}

const sides = ["input", "output"] as const;
type Side = (typeof sides)[number];

/** Parses `--dim` flags (`N=1`, `batch_size=1`, `input:0=1`); throws on a malformed one. */
export function parseDimFlags(flags: readonly string[]): DimSizes {
  const dims: DimSizes = {};
  for (const flag of flags) {
    const match = /^([^=\s]+)=(\d+)$/.exec(flag.trim());
    const size = match ? Number(match[2]) : Number.NaN;
    if (!match || !Number.isSafeInteger(size) || size < 1)
      throw new RegisteredFormatsError(`--dim ${flag}: expected NAME=SIZE with SIZE an integer >= 1.`, {
        details: [
          'NAME is the dim\'s symbolic name in the ONNX file ("N", "batch_size"), or input:AXIS / output:AXIS.',
        ],
      });
    if (dims[match[1]!] !== undefined && dims[match[1]!] !== size)
      throw new RegisteredFormatsError(`--dim ${match[1]} is given twice with different sizes.`);
    dims[match[1]!] = size;
  }
  return dims;
}

export function resolveRegisteredFormats({
  file,
  bytes,
  signature,
  manifest,
  dims = {},
}: ResolveRegisteredFormatsParameters): RegisteredFormats {
  const content = manifest?.content ?? {};
  const manifestFile = manifest?.file ?? "";
  /** Sizes given to each symbolic name, across both sides, so one name gets one size. */
  const named = new Map<string, { size: number; where: string }>();

  if (content.modelHash !== undefined && content.modelHash !== keccak256(bytes))
    throw new RegisteredFormatsError(`The manifest's modelHash is not ${file}'s keccak256.`, {
      details: [`manifest ${String(content.modelHash)}`, `file     ${keccak256(bytes)}`],
    });

  const symbolic = new Set(
    sides.flatMap((side) => (signature[side].shape ?? []).filter((dim): dim is string => typeof dim === "string")),
  );
  const unknown = Object.keys(dims).find(
    (key) => !symbolic.has(key) && !sides.some((side) => key.startsWith(`${side}:`) && onnxAxis(signature, key)),
  );
  if (unknown !== undefined)
    throw new RegisteredFormatsError(`--dim ${unknown}: ${file} has no dynamic dim of that name.`, {
      details: [
        symbolic.size > 0
          ? `Its named dynamic dims: ${[...symbolic].join(", ")} (input:AXIS / output:AXIS names any dim by position).`
          : "It names no dynamic dim: drop --dim, or name a dim by position (input:AXIS / output:AXIS).",
      ],
    });

  const formats = {} as RegisteredFormats;
  for (const side of sides) {
    const onnx = signature[side];
    const given = content[side];
    const declared = () => `${file} declares ${onnx.name} as ${onnx.dtype} ${describeShape(onnx.shape)}.`;
    if (given?.name !== undefined && given.name !== onnx.name)
      throw new RegisteredFormatsError(
        `The manifest's ${side} name ${JSON.stringify(given.name)} is not the ONNX file's "${onnx.name}".`,
        { details: [declared()] },
      );
    if (given?.dtype !== undefined && !isDType(given.dtype))
      throw new RegisteredFormatsError(`The manifest's ${side} dtype ${JSON.stringify(given.dtype)} is not a dtype.`);
    if (given?.dtype !== undefined && given.dtype !== onnx.dtype)
      throw new RegisteredFormatsError(
        `The manifest's ${side} dtype ${JSON.stringify(given.dtype)} is not the ONNX file's ${onnx.dtype}.`,
      );
    const manifestShape = given?.shape;
    if (
      manifestShape !== undefined &&
      (!Array.isArray(manifestShape) || !manifestShape.every((dim) => Number.isSafeInteger(dim) && dim >= 1))
    )
      throw new RegisteredFormatsError(
        `The manifest ${manifestFile} has a ${side}.shape that is not positive integers.`,
      );
    const shape = manifestShape as number[] | undefined;
    const contradicts = () =>
      new RegisteredFormatsError(`The manifest's ${side} shape ${shapeToString(shape!)} is not the ONNX file's.`, {
        details: [declared()],
      });

    let resolved: number[];
    if (onnx.shape === undefined) {
      if (shape === undefined)
        throw new RegisteredFormatsError(`${file} declares no shape for its ${side} "${onnx.name}".`, {
          details: [`Give it in a manifest: --manifest FILE with { "${side}": { "shape": [1, 4] } }.`],
        });
      resolved = [...shape];
    } else {
      if (shape !== undefined && shape.length !== onnx.shape.length) throw contradicts();
      resolved = onnx.shape.map((dim, axis) => {
        const key = `${side}:${axis}`;
        const flag = dims[typeof dim === "string" ? dim : key] ?? dims[key];
        const fromManifest = shape?.[axis];
        if (typeof dim === "number") {
          if (fromManifest !== undefined && fromManifest !== dim) throw contradicts();
          if (flag !== undefined && flag !== dim)
            throw new RegisteredFormatsError(`--dim ${key}=${flag}: ${file}'s ${side} dim ${axis} is fixed at ${dim}.`);
          return dim;
        }
        if (fromManifest !== undefined && flag !== undefined && fromManifest !== flag)
          throw new RegisteredFormatsError(
            `The manifest's ${side} shape ${shapeToString(shape!)} sets dim ${axis}${dim === null ? "" : ` ("${dim}")`} to ${fromManifest}, --dim to ${flag}.`,
          );
        const size = flag ?? fromManifest;
        if (size === undefined) throw unresolved(file, side, onnx, axis, dim);
        if (typeof dim === "string") {
          const earlier = named.get(dim);
          if (earlier !== undefined && earlier.size !== size)
            throw new RegisteredFormatsError(
              `The dynamic dim "${dim}" gets two sizes: ${earlier.size} (${earlier.where}) and ${size} (${side} dim ${axis}).`,
              { details: [`Set it once with --dim ${dim}=SIZE.`] },
            );
          named.set(dim, { size, where: `${side} dim ${axis}` });
        }
        return size;
      });
    }
    if (resolved.length === 0)
      throw new RegisteredFormatsError(`${file}'s ${side} "${onnx.name}" is a scalar; the chain needs 1 to 8 dims.`, {
        details: [`Reshape the ${side} to [1] in the model and export it again.`],
      });
    const violation = shapeLimitViolation(`${side} ${onnx.dtype}`, resolved);
    if (violation !== undefined) throw new RegisteredFormatsError(`${file}: ${violation}.`);
    formats[side] = { dtype: onnx.dtype, shape: resolved };
  }

  const labels = content.labels;
  if (labels !== undefined) {
    if (!Array.isArray(labels) || !labels.every((label) => typeof label === "string"))
      throw new RegisteredFormatsError(`The manifest ${manifestFile} has labels that are not a list of strings.`);
    const classes = formats.output.shape.at(-1)!;
    if (classes > 1 && labels.length !== classes)
      throw new RegisteredFormatsError(
        `The manifest has ${labels.length} labels; the ONNX file's output ${shapeToString(formats.output.shape)} has ${classes} classes.`,
      );
    formats.labels = labels as string[];
  }
  return formats;
}

/** True if `key` (`input:AXIS` / `output:AXIS`) names an axis of the file's declared shape. */
function onnxAxis(signature: OnnxSignature, key: string): boolean {
  const [side, axis] = key.split(":") as [Side, string];
  const shape = signature[side].shape;
  return /^\d+$/.test(axis) && shape !== undefined && Number(axis) < shape.length;
}

function unresolved(file: string, side: Side, onnx: OnnxTensorSignature, axis: number, dim: OnnxDim): BaseError {
  const flag = typeof dim === "string" ? dim : `${side}:${axis}`;
  return new RegisteredFormatsError(
    `${file}'s ${side} "${onnx.name}" ${describeShape(onnx.shape)} has a dynamic dim ${axis}${typeof dim === "string" ? ` ("${dim}")` : ""}; the chain registers fixed sizes.`,
    {
      details: [
        `Fix it with --dim ${flag}=SIZE (e.g. --dim ${flag}=1: one row per request), or give the ${side} shape in --manifest.`,
      ],
    },
  );
}

function describeShape(shape: OnnxDim[] | undefined): string {
  return shape === undefined ? "(no shape)" : `[${shape.map((dim) => (dim === null ? "?" : dim)).join(", ")}]`;
}
