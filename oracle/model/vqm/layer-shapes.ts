/**
 * The output shape of every layer of a VQM model, checking on the way that each layer's input
 * exists and has the shape its kind needs (docs/numeric-semantics.md, "Layers" and "Sequence
 * models"). Parameters and overflow bounds are `validate-vqm.ts`'s job.
 *
 * A decoder's shapes are those of one pass (batch 1, one position); `qk` and `softmax` outputs
 * span the whole context `[1, H, C]`, so they need the model's `sequence` section.
 */
import { shapeLimitViolation } from "../chain-limit-violation.ts";
import { maxRank, shapeToString } from "../tensor.ts";
import type { SequenceSpec, VqmLayer, VqmModel } from "./vqm-model.ts";
import { VqmValidationError } from "./vqm-validation-error.ts";

/** shapes[i] is the output shape of layer i. Throws `VqmValidationError` on any inconsistency. */
export function layerShapes(model: VqmModel): number[][] {
  checkShape(model.input?.shape, -1, "input");
  const shapes: number[][] = [];
  const decoder = model.sequence !== undefined;
  const shapeOf = (index: number, ref: number): number[] => {
    if (!Number.isInteger(ref) || ref < -1 || ref >= index)
      throw new VqmValidationError(
        index,
        "input-ref",
        `reads ${ref}, which is not the input (-1) or an earlier layer.`,
      );
    // A decoder's request is int32 token ids, which only embed layers read (by row).
    if (ref === -1 && decoder)
      throw new VqmValidationError(
        index,
        "input-ref",
        "reads the model input (-1), which a decoder's layers never do: embed layers read the token.",
      );
    // An int32 `centre` output means something only to the `normalize` that finishes it.
    const reader = model.layers[index]!.kind;
    if (ref >= 0 && model.layers[ref]!.kind === "centre" && reader !== "normalize")
      throw new VqmValidationError(
        index,
        "input-ref",
        `${reader} reads layer ${ref}, a centre (int32): only a normalize reads a centre.`,
      );
    return ref === -1 ? model.input.shape : shapes[ref]!;
  };
  model.layers.forEach((layer, index) => {
    // Outside a decoder a sequence kind is as unknown as any other (no classic engine runs it).
    if (!decoder && sequenceKinds.has(layer.kind))
      throw new VqmValidationError(
        index,
        "layer-kind",
        `${layer.kind} is a sequence layer: only a decoder (a model with a \`sequence\` section) has one.`,
      );
    const shape = outputShape(layer, index, shapeOf, model.sequence, model.layers);
    checkShape(shape, index, "output");
    shapes.push(shape);
  });
  return shapes;
}

/** The layer kinds of docs/numeric-semantics.md "Sequence models": a decoder's only. */
export const sequenceKinds: ReadonlySet<VqmLayer["kind"]> = new Set([
  "embed",
  "lut",
  "centre",
  "normalize",
  "qk",
  "rowmax",
  "softmax",
  "av",
]);

/** What `layerInputs` reads of a layer: its refs (a VQM layer, or a float decoder's layer). */
export type LayerReads =
  | { kind: "add"; inputs: readonly number[] }
  | { kind: "embed" }
  | { kind: "qk"; query: number; key: number }
  | { kind: "softmax"; input: number; rowmax: number }
  | { kind: "av"; probs: number; value: number }
  | { kind: Exclude<VqmLayer["kind"], "add" | "embed" | "qk" | "softmax" | "av">; input: number };

/**
 * The refs a layer reads at its own pass, in order (none for `embed`, which reads the token or
 * position). `qk`'s `key` and `av`'s `value` are also read at every earlier pass.
 */
export function layerInputs(layer: LayerReads): number[] {
  switch (layer.kind) {
    case "add":
      return [...layer.inputs];
    case "embed":
      return [];
    case "qk":
      return [layer.query, layer.key];
    case "softmax":
      return [layer.input, layer.rowmax];
    case "av":
      return [layer.probs, layer.value];
    default:
      return [layer.input];
  }
}

/** int32 for `argmax` (a token or class) and `centre` (`D·x − Σx`), int8 for every other kind. */
export function layerDtype(kind: VqmLayer["kind"]): "int8" | "int32" {
  return kind === "argmax" || kind === "centre" ? "int32" : "int8";
}

function outputShape(
  layer: VqmLayer,
  index: number,
  shapeOf: (index: number, ref: number) => number[],
  sequence: SequenceSpec | undefined,
  layers: readonly VqmLayer[],
): number[] {
  const fail = (message: string, details: string[] = []) => new VqmValidationError(index, "shape", message, details);
  const rank = (shape: number[], wanted: number, what: string) => {
    if (shape.length !== wanted)
      throw fail(`${layer.kind} needs a rank-${wanted} input (${what}), got ${shapeToString(shape)}.`);
  };
  const positive = (values: readonly number[], what: string, min = 1) => {
    if (!Array.isArray(values) || !values.every((v) => Number.isSafeInteger(v) && v >= min))
      throw fail(`${what} must be integers >= ${min}, got ${JSON.stringify(values)}.`);
  };
  switch (layer.kind) {
    case "dense": {
      const input = shapeOf(index, layer.input);
      positive([layer.inFeatures, layer.outFeatures], "inFeatures/outFeatures");
      rank(input, 2, "[1, in]");
      if (input[1] !== layer.inFeatures)
        throw fail(`dense expects ${layer.inFeatures} input features, its input has shape ${shapeToString(input)}.`);
      return [1, layer.outFeatures];
    }
    case "conv2d": {
      const input = shapeOf(index, layer.input);
      rank(input, 4, "[1, C, H, W]");
      positive([layer.inChannels, layer.outChannels], "inChannels/outChannels");
      positive(layer.kernel, "kernel");
      positive(layer.stride, "stride");
      positive(layer.padding, "padding", 0);
      if (layer.kernel.length !== 2 || layer.stride.length !== 2 || layer.padding.length !== 4)
        throw fail("conv2d needs kernel [kh, kw], stride [sh, sw] and padding [top, left, bottom, right].");
      if (input[1] !== layer.inChannels)
        throw fail(`conv2d expects ${layer.inChannels} input channels, its input has shape ${shapeToString(input)}.`);
      const [top, left, bottom, right] = layer.padding;
      const height = window(input[2]! + top + bottom, layer.kernel[0], layer.stride[0]);
      const width = window(input[3]! + left + right, layer.kernel[1], layer.stride[1]);
      if (height < 1 || width < 1)
        throw fail(
          `conv2d kernel ${shapeToString(layer.kernel)} is larger than its padded input ${shapeToString(input)}.`,
        );
      return [1, layer.outChannels, height, width];
    }
    case "maxpool2d": {
      const input = shapeOf(index, layer.input);
      rank(input, 4, "[1, C, H, W]");
      positive(layer.kernel, "kernel");
      positive(layer.stride, "stride");
      if (layer.kernel.length !== 2 || layer.stride.length !== 2)
        throw fail("maxpool2d needs kernel [kh, kw] and stride [sh, sw].");
      const height = window(input[2]!, layer.kernel[0], layer.stride[0]);
      const width = window(input[3]!, layer.kernel[1], layer.stride[1]);
      if (height < 1 || width < 1)
        throw fail(`maxpool2d kernel ${shapeToString(layer.kernel)} is larger than its input ${shapeToString(input)}.`);
      return [1, input[1]!, height, width];
    }
    case "relu":
      return [...shapeOf(index, layer.input)];
    case "add": {
      if (!Array.isArray(layer.inputs) || layer.inputs.length !== 2) throw fail("add needs exactly two inputs.");
      const [a, b] = layer.inputs.map((ref) => shapeOf(index, ref)) as [number[], number[]];
      if (shapeToString(a) !== shapeToString(b))
        throw fail(`add needs inputs of the same shape, got ${shapeToString(a)} and ${shapeToString(b)}.`);
      return [...a];
    }
    case "reshape": {
      const input = shapeOf(index, layer.input);
      positive(layer.shape, "reshape target dims");
      const count = (shape: number[]) => shape.reduce((n, d) => n * d, 1);
      if (count(layer.shape) !== count(input))
        throw fail(`reshape to ${shapeToString(layer.shape)} changes the element count of ${shapeToString(input)}.`);
      return [...layer.shape];
    }
    case "argmax": {
      const input = shapeOf(index, layer.input);
      if (input.length < 2) throw fail(`argmax needs an input of rank >= 2, got ${shapeToString(input)}.`);
      return input.slice(0, -1);
    }
    case "embed":
      positive([layer.rows, layer.width], "embed rows/width");
      return [1, layer.width];
    case "lut":
      return [...shapeOf(index, layer.input)];
    case "centre": {
      const input = shapeOf(index, layer.input);
      rank(input, 2, "[1, D]");
      return [...input];
    }
    case "normalize": {
      const input = shapeOf(index, layer.input);
      if (layer.input < 0 || layers[layer.input]!.kind !== "centre")
        throw new VqmValidationError(
          index,
          "input-ref",
          `normalize reads layer ${layer.input}, which is not a centre.`,
        );
      return [...input];
    }
    case "qk": {
      positive([layer.heads, layer.headDim], "qk heads/headDim");
      const width = layer.heads * layer.headDim;
      for (const [what, ref] of [
        ["query", layer.query],
        ["key", layer.key],
      ] as const) {
        const input = shapeOf(index, ref);
        if (shapeToString(input) !== shapeToString([1, width]))
          throw fail(
            `qk's ${what} (layer ${ref}) must have shape [1, ${width}] (heads·headDim), got ${shapeToString(input)}.`,
          );
      }
      return [1, layer.heads, sequence!.contextLength];
    }
    case "rowmax": {
      const input = shapeOf(index, layer.input);
      rank(input, 3, "[1, H, C]");
      return input.slice(0, -1);
    }
    case "softmax": {
      const input = shapeOf(index, layer.input);
      rank(input, 3, "[1, H, C]");
      if (input[2] !== sequence!.contextLength)
        throw fail(`softmax needs scores [1, H, ${sequence!.contextLength}] (C), got ${shapeToString(input)}.`);
      shapeOf(index, layer.rowmax);
      const rowmax = layer.rowmax >= 0 ? layers[layer.rowmax] : undefined;
      if (rowmax?.kind !== "rowmax" || rowmax.input !== layer.input)
        throw new VqmValidationError(
          index,
          "input-ref",
          `softmax's rowmax (layer ${layer.rowmax}) must be a rowmax of its scores (layer ${layer.input}).`,
        );
      return [...input];
    }
    case "av": {
      positive([layer.heads, layer.headDim], "av heads/headDim");
      const probs = shapeOf(index, layer.probs);
      const scores = [1, layer.heads, sequence!.contextLength];
      if (shapeToString(probs) !== shapeToString(scores))
        throw fail(
          `av's probs (layer ${layer.probs}) must have shape ${shapeToString(scores)}, got ${shapeToString(probs)}.`,
        );
      const width = layer.heads * layer.headDim;
      const value = shapeOf(index, layer.value);
      if (shapeToString(value) !== shapeToString([1, width]))
        throw fail(
          `av's value (layer ${layer.value}) must have shape [1, ${width}] (heads·headDim), got ${shapeToString(value)}.`,
        );
      return [1, width];
    }
    default:
      throw new VqmValidationError(index, "layer-kind", `unknown layer kind "${(layer as { kind: unknown }).kind}".`);
  }
}

/** Output length of a sliding window (no padding here: pass the padded length). */
function window(length: number, kernel: number, stride: number): number {
  return length < kernel ? 0 : Math.floor((length - kernel) / stride) + 1;
}

function checkShape(shape: unknown, index: number, what: string): void {
  const rule = index < 0 ? "input" : "shape";
  if (
    !Array.isArray(shape) ||
    shape.length < 1 ||
    shape.length > maxRank ||
    !shape.every((dim) => Number.isSafeInteger(dim) && dim >= 1)
  )
    throw new VqmValidationError(
      index,
      rule,
      `${what} shape must be 1..${maxRank} integer dims >= 1, got ${JSON.stringify(shape)}.`,
    );
  if (shape[0] !== 1)
    throw new VqmValidationError(
      index,
      rule,
      `${what} shape must start with the batch dimension 1, got ${shapeToString(shape)}.`,
    );
  const tooLarge = shapeLimitViolation(what, shape);
  if (tooLarge !== undefined) throw new VqmValidationError(index, "chain-limit", `${tooLarge}.`);
}
