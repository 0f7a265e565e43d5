/**
 * The output shape of every layer of a VQM model, checking on the way that each layer's input
 * exists and has the shape its kind needs (docs/numeric-semantics.md, "Layers"). Parameters and
 * overflow bounds are `validate-vqm.ts`'s job.
 */
import { shapeLimitViolation } from "../chain-limit-violation.ts";
import { maxRank, shapeToString } from "../tensor.ts";
import type { VqmLayer, VqmModel } from "./vqm-model.ts";
import { VqmValidationError } from "./vqm-validation-error.ts";

/** shapes[i] is the output shape of layer i. Throws `VqmValidationError` on any inconsistency. */
export function layerShapes(model: VqmModel): number[][] {
  checkShape(model.input?.shape, -1, "input");
  const shapes: number[][] = [];
  const shapeOf = (index: number, ref: number): number[] => {
    if (!Number.isInteger(ref) || ref < -1 || ref >= index)
      throw new VqmValidationError(
        index,
        "input-ref",
        `reads ${ref}, which is not the input (-1) or an earlier layer.`,
      );
    return ref === -1 ? model.input.shape : shapes[ref]!;
  };
  model.layers.forEach((layer, index) => {
    const shape = outputShape(layer, index, shapeOf);
    checkShape(shape, index, "output");
    shapes.push(shape);
  });
  return shapes;
}

/** The refs a layer reads, in order. */
export function layerInputs(layer: VqmLayer): number[] {
  return layer.kind === "add" ? [...layer.inputs] : [layer.input];
}

function outputShape(layer: VqmLayer, index: number, shapeOf: (index: number, ref: number) => number[]): number[] {
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
