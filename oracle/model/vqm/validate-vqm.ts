/**
 * Checks a VQM model against every rule of docs/numeric-semantics.md that an engine relies on:
 * consistent shapes (`layer-shapes.ts`), parameter arrays of the right type and length,
 * multipliers in [0, 2^31), shifts in [0, 62], argmax only last, and the overflow bounds 1-3,
 * computed exactly with BigInt; and that the chain takes it as a Zk or Optimistic model
 * (contracts/ModelRegistry.sol's limits, `model/chain-limits.ts`), so a model beyond a limit is
 * refused here rather than at registration. Throws `VqmValidationError` naming the layer and the rule.
 */
import { shapeLimitViolation, verifiedModelLimitViolation } from "../chain-limit-violation.ts";
import { layerShapes } from "./layer-shapes.ts";
import type { Activation, AddLayer, Conv2dLayer, DenseLayer, VqmLayer, VqmModel } from "./vqm-model.ts";
import { VqmValidationError } from "./vqm-validation-error.ts";

export { VqmValidationError } from "./vqm-validation-error.ts";
export type { VqmRule } from "./vqm-validation-error.ts";

const two31 = 2n ** 31n;
const two62 = 2n ** 62n;

/** Returns the layer output shapes (as `layerShapes`) once the whole model is valid. */
export function validateVqm(model: VqmModel): number[][] {
  if (model?.format !== "vqm/1")
    throw new VqmValidationError(-1, "format", `format must be "vqm/1", got ${JSON.stringify(model?.format)}.`);
  if (typeof model.input?.scale !== "number" || !Number.isFinite(model.input.scale) || model.input.scale <= 0)
    throw new VqmValidationError(-1, "input", `input scale must be a finite number > 0, got ${model.input?.scale}.`);
  if (!Array.isArray(model.layers) || model.layers.length === 0)
    throw new VqmValidationError(-1, "format", "a model needs at least one layer.");
  const shapes = layerShapes(model);
  checkChainLimits(model.input.shape, shapes, model.layers.at(-1)!.kind);
  model.layers.forEach((layer, index) => {
    if (layer.kind === "argmax" && index !== model.layers.length - 1)
      throw new VqmValidationError(index, "argmax-last", "argmax must be the last layer.");
    if (layer.kind === "dense") checkWeighted(layer, index, layer.inFeatures);
    else if (layer.kind === "conv2d") checkWeighted(layer, index, layer.inChannels * layer.kernel[0] * layer.kernel[1]);
    else if (layer.kind === "add") checkAdd(layer, index);
  });
  return shapes;
}

/**
 * Throws `VqmValidationError` (rule "chain-limit") unless ModelRegistry would register a model
 * with this int8 input, these layer output shapes (the last one the output: int32 after argmax,
 * else int8) as Zk or Optimistic, and every layer output fits the canonical format of a trace.
 * The layer limit is the Optimistic one, applied to every VQM: it may be registered either way.
 */
export function checkChainLimits(
  inputShape: readonly number[],
  shapes: readonly (readonly number[])[],
  lastKind: VqmLayer["kind"],
): void {
  const refused = verifiedModelLimitViolation({
    input: { dtype: "int8", shape: inputShape },
    output: { dtype: lastKind === "argmax" ? "int32" : "int8", shape: shapes.at(-1) ?? [] },
    layerCount: shapes.length,
  });
  if (refused !== undefined) throw new VqmValidationError(-1, "chain-limit", `${refused}.`);
  shapes.forEach((shape, index) => {
    const tooLarge = shapeLimitViolation("output", shape);
    if (tooLarge !== undefined) throw new VqmValidationError(index, "chain-limit", `${tooLarge}.`);
  });
}

/** B_j = |b[j]| + 128 · Σ|W[j][·]| for each output channel (bound 1's left side), exactly. */
export function accumulatorBounds(weights: Int8Array, bias: Int32Array, fanIn: number): bigint[] {
  const bounds: bigint[] = [];
  for (let j = 0; j < bias.length; j++) {
    let sum = 0; // <= 128 · fanIn, exact in a double for any fanIn we can allocate
    for (let i = j * fanIn, end = i + fanIn; i < end; i++) sum += Math.abs(weights[i]!);
    bounds.push(BigInt(Math.abs(bias[j]!)) + 128n * BigInt(sum));
  }
  return bounds;
}

function checkWeighted(layer: DenseLayer | Conv2dLayer, index: number, fanIn: number): void {
  const channels = layer.kind === "dense" ? layer.outFeatures : layer.outChannels;
  const { weights, bias, requant } = layer;
  typed(weights, Int8Array, index, "weights");
  typed(bias, Int32Array, index, "bias");
  typed(requant?.multiplier, Int32Array, index, "requant.multiplier");
  typed(requant?.shift, Uint8Array, index, "requant.shift");
  length(weights, channels * fanIn, index, "weights", `${channels} × ${fanIn}`);
  length(bias, channels, index, "bias", "one per output channel");
  length(requant.multiplier, channels, index, "requant.multiplier", "one per output channel");
  length(requant.shift, channels, index, "requant.shift", "one per output channel");
  activation(requant.activation, index);
  const bounds = accumulatorBounds(weights, bias, fanIn);
  for (let j = 0; j < channels; j++) {
    const m = requant.multiplier[j]!;
    const s = requant.shift[j]!;
    if (m < 0)
      throw new VqmValidationError(index, "multiplier-range", `multiplier of channel ${j} is ${m}, outside [0, 2^31).`);
    if (s > 62) throw new VqmValidationError(index, "shift-range", `shift of channel ${j} is ${s}, outside [0, 62].`);
    const bound = bounds[j]!;
    if (bound >= two31)
      throw new VqmValidationError(index, "bound-accumulator", `channel ${j} can overflow the int32 accumulator.`, [
        `B = |b| + 128·Σ|W| = ${bound}, must be < 2^31 = ${two31}.`,
      ]);
    const product = bound * BigInt(m) + rounding(s);
    if (product >= two62)
      throw new VqmValidationError(index, "bound-product", `channel ${j} can overflow the requantisation product.`, [
        `B·m + 2^(s-1) = ${bound}·${m} + ${rounding(s)} = ${product}, must be < 2^62.`,
      ]);
  }
}

function checkAdd(layer: AddLayer, index: number): void {
  if (!Array.isArray(layer.multipliers) || layer.multipliers.length !== 2)
    throw new VqmValidationError(index, "parameter-length", "add needs two multipliers.");
  for (const m of layer.multipliers)
    if (!Number.isSafeInteger(m) || m < 0 || m >= 2 ** 31)
      throw new VqmValidationError(index, "multiplier-range", `multiplier ${m} is outside [0, 2^31).`);
  if (!Number.isSafeInteger(layer.shift) || layer.shift < 0 || layer.shift > 62)
    throw new VqmValidationError(index, "shift-range", `shift ${layer.shift} is outside [0, 62].`);
  activation(layer.activation, index);
  const [ma, mb] = layer.multipliers;
  const bound = 128n * (BigInt(ma) + BigInt(mb)) + rounding(layer.shift);
  if (bound >= two62)
    throw new VqmValidationError(index, "bound-add", "the residual add can overflow 64 bits.", [
      `128·(ma + mb) + 2^(s-1) = ${bound}, must be < 2^62.`,
    ]);
}

/** 2^(s-1), the rounding term of roundShift; 0 when s = 0. */
export function rounding(s: number): bigint {
  return s === 0 ? 0n : 1n << BigInt(s - 1);
}

function typed(value: unknown, type: abstract new (...args: never[]) => unknown, index: number, what: string): void {
  if (!(value instanceof type))
    throw new VqmValidationError(index, "parameter-type", `${what} must be an ${type.name}.`, [
      `Got ${(value as object)?.constructor?.name ?? typeof value}.`,
    ]);
}

function length(value: { length: number }, expected: number, index: number, what: string, why: string): void {
  if (value.length !== expected)
    throw new VqmValidationError(
      index,
      "parameter-length",
      `${what} has ${value.length} elements, expected ${expected} (${why}).`,
    );
}

function activation(value: Activation, index: number): void {
  if (value !== "none" && value !== "relu")
    throw new VqmValidationError(
      index,
      "activation",
      `activation must be "none" or "relu", got ${JSON.stringify(value)}.`,
    );
}
