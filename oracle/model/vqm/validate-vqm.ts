/**
 * Checks a VQM model against every rule of docs/numeric-semantics.md that an engine relies on:
 * consistent shapes (`layer-shapes.ts`), parameter arrays of the right type and length,
 * multipliers in [0, 2^31), shifts in [0, 62], argmax only last, and the overflow bounds 1-3,
 * computed exactly with BigInt; and that the chain takes it as a Zk or Optimistic model
 * (contracts/ModelRegistry.sol's limits, `model/chain-limits.ts`), so a model beyond a limit is
 * refused here rather than at registration. Throws `VqmValidationError` naming the layer and the rule.
 *
 * A decoder (a model with a `sequence` section) is also checked against "Sequence models": its
 * spec (`P + N − 1 ≤ C`, `bos < V`, `C < 2^17`), embed tables of `V` or `C` rows, the bounds of
 * `qk`, `av`, `centre` and `normalize`, the softmax table, and a last `argmax` over `[1, V]`.
 */
import { shapeLimitViolation, verifiedModelLimitViolation } from "../chain-limit-violation.ts";
import { shapeToString } from "../tensor.ts";
import { layerShapes } from "./layer-shapes.ts";
import type {
  Activation,
  AddLayer,
  AvLayer,
  CentreLayer,
  Conv2dLayer,
  DenseLayer,
  EmbedLayer,
  LutLayer,
  NormalizeLayer,
  QkLayer,
  SequenceSpec,
  SoftmaxLayer,
  VqmLayer,
  VqmModel,
} from "./vqm-model.ts";
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
  const sequence = model.sequence;
  if (sequence !== undefined) checkSequenceSpec(model, sequence);
  const shapes = layerShapes(model);
  if (sequence === undefined) checkChainLimits(model.input.shape, shapes, model.layers.at(-1)!.kind);
  else checkDecoderChainLimits(sequence, shapes);
  model.layers.forEach((layer, index) => {
    if (layer.kind === "argmax" && index !== model.layers.length - 1)
      throw new VqmValidationError(index, "argmax-last", "argmax must be the last layer.");
    switch (layer.kind) {
      case "dense":
        return checkWeighted(layer, index, layer.inFeatures);
      case "conv2d":
        return checkWeighted(layer, index, layer.inChannels * layer.kernel[0] * layer.kernel[1]);
      case "add":
        return checkAdd(layer, index);
      case "embed":
        return checkEmbed(layer, index, sequence!);
      case "lut":
        return checkLut(layer, index);
      case "centre":
        return checkCentre(layer, index, shapes[index]![1]!);
      case "normalize":
        return checkNormalize(layer, index, shapes[index]![1]!);
      case "qk":
      case "av":
        return checkAttention(layer, index);
      case "softmax":
        return checkSoftmax(layer, index);
    }
  });
  if (sequence !== undefined) checkDecoderOutput(model, sequence, shapes);
  return shapes;
}

// ---------------------------------------------------------------------------------------------
// Decoders (docs/numeric-semantics.md, "Sequence models")

/** The `sequence` section alone, before shapes (`qk` and `softmax` shapes read `C` from it). */
function checkSequenceSpec(model: VqmModel, sequence: SequenceSpec): void {
  const fail = (message: string, details: string[] = []) => new VqmValidationError(-1, "sequence", message, details);
  const { contextLength: c, vocabSize: v, promptLength: p, newTokens: n, bos } = sequence;
  for (const [name, value] of Object.entries({ contextLength: c, vocabSize: v, promptLength: p, newTokens: n }))
    if (!Number.isSafeInteger(value) || value < 1)
      throw fail(`sequence.${name} must be an integer >= 1, got ${value}.`);
  if (!Number.isSafeInteger(bos) || bos < 0 || bos >= v)
    throw fail(`sequence.bos must be a token id in [0, ${v}) (vocabSize), got ${bos}.`);
  if (p + n - 1 > c)
    throw fail(`a generation needs up to promptLength + newTokens − 1 = ${p + n - 1} positions, more than C = ${c}.`, [
      "Pass t reads position t; the last pass is P + N − 2.",
    ]);
  // av's accumulator Σ_u p·V over C positions is at most C·127·128, which must stay below 2^31.
  if (c >= 2 ** 17)
    throw fail(`contextLength ${c} is 2^17 or more: av's accumulator (C·127·128) could overflow int32.`);
  if (model.input?.scale !== 1 || shapeToString(model.input?.shape ?? []) !== "[1, 1]")
    throw new VqmValidationError(
      -1,
      "input",
      `a decoder's input must be { shape: [1, 1], scale: 1 } (unused: the request is int32 [1, ${p}] token ids).`,
    );
}

/** The chain's limits for a decoder: the request is int32 `[1, P]`, the result int32 `[1, N]`. */
function checkDecoderChainLimits(sequence: SequenceSpec, shapes: readonly (readonly number[])[]): void {
  const refused = verifiedModelLimitViolation({
    input: { dtype: "int32", shape: [1, sequence.promptLength] },
    output: { dtype: "int32", shape: [1, sequence.newTokens] },
    layerCount: shapes.length,
  });
  if (refused !== undefined) throw new VqmValidationError(-1, "chain-limit", `${refused}.`);
  shapes.forEach((shape, index) => {
    const tooLarge = shapeLimitViolation("output", shape);
    if (tooLarge !== undefined) throw new VqmValidationError(index, "chain-limit", `${tooLarge}.`);
  });
}

/** The last layer of a pass gives the next token: an argmax over `[1, V]` logits. */
function checkDecoderOutput(model: VqmModel, sequence: SequenceSpec, shapes: readonly number[][]): void {
  const last = model.layers.length - 1;
  const layer = model.layers[last]!;
  const logits = layer.kind === "argmax" ? shapes[layer.input] : undefined;
  if (logits === undefined || shapeToString(logits) !== shapeToString([1, sequence.vocabSize]))
    throw new VqmValidationError(
      last,
      "sequence",
      `a decoder's last layer must be an argmax over [1, ${sequence.vocabSize}] logits (vocabSize), got ${layer.kind}${logits ? ` over ${shapeToString(logits)}` : ""}.`,
    );
}

function checkEmbed(layer: EmbedLayer, index: number, sequence: SequenceSpec): void {
  if (layer.source !== "token" && layer.source !== "position")
    throw new VqmValidationError(
      index,
      "sequence",
      `embed source must be "token" or "position", got ${JSON.stringify(layer.source)}.`,
    );
  const rows = layer.source === "token" ? sequence.vocabSize : sequence.contextLength;
  if (layer.rows !== rows)
    throw new VqmValidationError(
      index,
      "sequence",
      `a ${layer.source} embed has ${layer.rows} rows, expected ${rows} (${layer.source === "token" ? "vocabSize V" : "contextLength C"}).`,
    );
  typed(layer.table, Int8Array, index, "table");
  length(layer.table, layer.rows * layer.width, index, "table", `${layer.rows} × ${layer.width}`);
}

function checkLut(layer: LutLayer, index: number): void {
  typed(layer.table, Int8Array, index, "table");
  length(layer.table, 256, index, "table", "one entry per int8 value");
}

function checkCentre(_layer: CentreLayer, index: number, width: number): void {
  // |c| ≤ 255·D < 2^23 and Σc² ≤ D·(255·D)² < 2^62 (so Σc² + ε < 2^63) need D ≤ 2^15.
  if (width > 2 ** 15)
    throw new VqmValidationError(index, "bound-centre", `centre over ${width} elements: D must be <= 2^15.`, [
      "Then |c| <= 255·D < 2^23 and Σc² <= D·(255·D)² < 2^62.",
    ]);
}

function checkNormalize(layer: NormalizeLayer, index: number, width: number): void {
  const { gamma, beta, epsilon, requant } = layer;
  typed(gamma, Int8Array, index, "gamma");
  typed(beta, Int32Array, index, "beta");
  typed(requant?.multiplier, Int32Array, index, "requant.multiplier");
  typed(requant?.shift, Uint8Array, index, "requant.shift");
  length(gamma, width, index, "gamma", "one per channel");
  length(beta, width, index, "beta", "one per channel");
  length(requant.multiplier, width, index, "requant.multiplier", "one per channel");
  length(requant.shift, width, index, "requant.shift", "one per channel");
  activation(requant.activation, index);
  if (typeof epsilon !== "bigint" || epsilon < 1n || epsilon >= two62)
    throw new VqmValidationError(
      index,
      "epsilon-range",
      `epsilon is ${String(epsilon)}, outside [1, 2^62) (a BigInt).`,
      ["ε >= 1 keeps the square root r >= 1 (no division by zero); ε < 2^62 keeps Σc² + ε < 2^63."],
    );
  for (let j = 0; j < width; j++) {
    const m = requant.multiplier[j]!;
    const s = requant.shift[j]!;
    multiplierShift(m, s, index, `channel ${j}`);
    // |gamma·roundDiv(c·2^16, r)| <= 128·2^16 = 2^23, as |c| <= r.
    const bound = BigInt(Math.abs(beta[j]!)) + 2n ** 23n;
    if (bound >= two31)
      throw new VqmValidationError(index, "bound-normalize", `channel ${j} can overflow the int32 accumulator.`, [
        `|beta| + 2^23 = ${bound}, must be < 2^31.`,
      ]);
    const product = bound * BigInt(m) + rounding(s);
    if (product >= two62)
      throw new VqmValidationError(index, "bound-normalize", `channel ${j} can overflow the requantisation product.`, [
        `(|beta| + 2^23)·m + 2^(s-1) = ${product}, must be < 2^62.`,
      ]);
  }
}

function checkAttention(layer: QkLayer | AvLayer, index: number): void {
  const rule = layer.kind === "qk" ? "bound-qk" : "bound-av";
  if (!Number.isSafeInteger(layer.multiplier))
    throw new VqmValidationError(index, "multiplier-range", `multiplier ${layer.multiplier} is not an integer.`);
  if (!Number.isSafeInteger(layer.shift))
    throw new VqmValidationError(index, "shift-range", `shift ${layer.shift} is not an integer.`);
  multiplierShift(layer.multiplier, layer.shift, index, layer.kind);
  // qk's dot product has dh terms of |q·k| <= 2^14 (av's C·127·128 < 2^31 is the model's C < 2^17).
  if (layer.kind === "qk" && layer.headDim * 2 ** 14 >= 2 ** 31)
    throw new VqmValidationError(index, rule, `headDim ${layer.headDim} can overflow the int32 accumulator.`, [
      "dh·2^14 must be < 2^31.",
    ]);
  const product = two31 * BigInt(layer.multiplier) + rounding(layer.shift);
  if (product >= two62)
    throw new VqmValidationError(index, rule, `${layer.kind} can overflow the requantisation product.`, [
      `2^31·m + 2^(s-1) = ${product}, must be < 2^62.`,
    ]);
}

function checkSoftmax(layer: SoftmaxLayer, index: number): void {
  const fail = (message: string) =>
    new VqmValidationError(index, "softmax-table", message, [
      "exp[k] = round(2^16·e^((k − 255)·s_x)): exp[255] = 2^16, non-decreasing, each <= 2^16.",
    ]);
  typed(layer.exp, Uint32Array, index, "exp");
  if (layer.exp.length !== 256) throw fail(`exp has ${layer.exp.length} entries, expected 256.`);
  if (layer.exp[255] !== 65536) throw fail(`exp[255] is ${layer.exp[255]}, must be 2^16 = 65536.`);
  for (let k = 0; k < 256; k++) {
    if (layer.exp[k]! > 65536) throw fail(`exp[${k}] is ${layer.exp[k]}, more than 2^16.`);
    if (k > 0 && layer.exp[k]! < layer.exp[k - 1]!)
      throw fail(`exp decreases at ${k}: exp[${k - 1}] = ${layer.exp[k - 1]} > exp[${k}] = ${layer.exp[k]}.`);
  }
}

/** m in [0, 2^31), s in [0, 62]. */
function multiplierShift(m: number, s: number, index: number, what: string): void {
  if (m < 0 || m >= 2 ** 31)
    throw new VqmValidationError(index, "multiplier-range", `multiplier of ${what} is ${m}, outside [0, 2^31).`);
  if (s < 0 || s > 62) throw new VqmValidationError(index, "shift-range", `shift of ${what} is ${s}, outside [0, 62].`);
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
