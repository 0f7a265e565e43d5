/**
 * Which of contracts/ModelRegistry.sol's limits (`chain-limits.ts`) a model breaks, in words that
 * name the limit and the number: the compiler and the VQM validation refuse such a model before
 * anyone registers it, instead of the registry reverting later.
 */
import { MAX_ELEMENTS, MAX_INPUT_BYTES, MAX_LAYERS, MAX_OUTPUT_BYTES, MAX_RANK } from "./chain-limits.ts";
import { dtypeNames, elementCount, shapeToString } from "./tensor.ts";
import { canonicalByteLength, formatToString, type TensorFormat } from "./tensor-format.ts";

/** A model to register for `Zk` or `Optimistic` verification, as the registry sees it. */
export type VerifiedModelLimitsParameters = {
  input: TensorFormat;
  output: TensorFormat;
  /** Optimistic: the layers the game commits to (`RegisterParams.layerCount`); absent for Zk. */
  layerCount?: number | undefined;
};

/**
 * Why `ModelRegistry.register` would refuse a `Zk` or `Optimistic` model with these formats (and
 * layer count), e.g. "input int8 [1, 40000] takes 40011 bytes inline, more than the chain's 32768
 * (ModelRegistry.MAX_INPUT_BYTES)"; undefined when it fits every limit.
 */
export function verifiedModelLimitViolation({
  input,
  output,
  layerCount,
}: VerifiedModelLimitsParameters): string | undefined {
  if (layerCount !== undefined && layerCount > MAX_LAYERS)
    return `${layerCount} layers, more than the chain's ${MAX_LAYERS} for an Optimistic model (ModelRegistry.MAX_LAYERS)`;
  return tensorViolation("input", input) ?? tensorViolation("output", output);
}

/**
 * Why the canonical format (and so the registry, a request or a trace) cannot hold a tensor of
 * `shape`: more than `MAX_RANK` dims or more than `MAX_ELEMENTS` elements. `what` names the
 * tensor ("input", "layer 3 output"). Dims below 1 are the caller's to refuse.
 */
export function shapeLimitViolation(what: string, shape: readonly number[]): string | undefined {
  if (shape.length > MAX_RANK)
    return `${what} ${shapeToString(shape)} has ${shape.length} dims, more than the chain's ${MAX_RANK} (ModelRegistry.MAX_RANK)`;
  const count = elementCount(shape);
  if (count > MAX_ELEMENTS)
    return `${what} ${shapeToString(shape)} has ${count} elements, more than the chain's ${MAX_ELEMENTS} (ModelRegistry.MAX_ELEMENTS)`;
  return undefined;
}

function tensorViolation(side: "input" | "output", format: TensorFormat): string | undefined {
  const shape = shapeLimitViolation(`${side} ${format.dtype}`, format.shape);
  if (shape !== undefined) return shape;
  if (format.dtype === "float32")
    return `${side} ${formatToString(format)} is a float tensor; the chain takes only integer ones (${dtypeNames.filter((dtype) => dtype !== "float32").join(", ")}) for Zk and Optimistic models (ModelRegistry: ModelDtypeInvalid)`;
  const bytes = canonicalByteLength(format);
  if (side === "input" && bytes > MAX_INPUT_BYTES)
    return `input ${formatToString(format)} takes ${bytes} bytes inline, more than the chain's ${MAX_INPUT_BYTES} (ModelRegistry.MAX_INPUT_BYTES)`;
  if (side === "output" && bytes > MAX_OUTPUT_BYTES)
    return `output ${formatToString(format)} takes ${bytes} bytes, more than the chain's ${MAX_OUTPUT_BYTES} (ModelRegistry.MAX_OUTPUT_BYTES)`;
  return undefined;
}

/** How much of each limit a model that fits them uses, for `model compile` and `model inspect`. */
export function chainLimitUsage({ input, output, layerCount }: VerifiedModelLimitsParameters): string {
  return [
    `input ${canonicalByteLength(input)} of ${MAX_INPUT_BYTES} bytes`,
    `output ${canonicalByteLength(output)} of ${MAX_OUTPUT_BYTES} bytes`,
    ...(layerCount === undefined ? [] : [`${layerCount} of ${MAX_LAYERS} layers`]),
  ].join(", ");
}
