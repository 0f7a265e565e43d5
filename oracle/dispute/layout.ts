/**
 * The layout commitment of an Optimistic model (contracts/dispute/LayerSpec.sol): one
 * `LayerSpec` per layer, ABI-encoded, as the chunks of a chunked Merkle tree (one leaf per layer,
 * `leaf_i = keccak256(0x00 ‖ uint32be(i) ‖ abi.encode(spec_i))`). Its root is the model's
 * `layoutRoot`; a challenge opens the disputed layer's leaf with `layoutProof`.
 */
import { AbiCoder, getBytes } from "ethers";
import { BaseError } from "../errors.ts";
import { chunkLeaf, nodeHash, ZERO_HASH } from "../model/vqm/commitments.ts";
import { weightsLayout, type SequenceLayerLayout } from "../model/vqm/commitments.ts";
import { layerShapes } from "../model/vqm/layer-shapes.ts";
import { elementCount } from "../model/tensor.ts";
import type { VqmModel } from "../model/vqm/vqm-model.ts";

/** A layer kind the dispute game cannot step yet. */
export class LayoutUnsupportedError extends BaseError {
  override name = "LayoutUnsupportedError";
}

/** `LayerSpec` kind codes. */
export const LayerKind = {
  dense: 0,
  conv2d: 1,
  relu: 2,
  add: 3,
  maxpool2d: 4,
  reshape: 5,
  argmax: 6,
  embed: 7,
  lut: 8,
  centre: 9,
  normalize: 10,
  qk: 11,
  rowmax: 12,
  softmax: 13,
  av: 14,
} as const;

export type LayerSpec = {
  kind: number;
  inputA: number;
  inputB: number;
  outElements: number;
  elementSize: number;
  activation: number;
  weightsOffset: number;
  params: number[];
};

const specType =
  "tuple(uint8 kind, int32 inputA, int32 inputB, uint32 outElements, uint8 elementSize, uint8 activation, uint32 weightsOffset, uint32[] params)";

/**
 * The spec of every layer of `model`, in layer order. A decoder's specs are those of one pass
 * (one leaf per layer of a pass, the same at every pass): see LayerSpec.sol for the `params` of
 * its kinds (7 … 14).
 */
export function layerSpecs(model: VqmModel): LayerSpec[] {
  const shapes = layerShapes(model);
  const weights = weightsLayout(model);
  const context = model.sequence?.contextLength ?? 0;
  const shapeOf = (ref: number) => (ref === -1 ? model.input.shape : shapes[ref]!);
  return model.layers.map((layer, index) => {
    const outElements = elementCount(shapes[index]!);
    const base = { inputB: -1, outElements, elementSize: 1, activation: 0, weightsOffset: 0, params: [] as number[] };
    const entry = weights.byLayer[index];
    switch (layer.kind) {
      case "dense":
        return {
          ...base,
          kind: LayerKind.dense,
          inputA: layer.input,
          activation: layer.requant.activation === "relu" ? 1 : 0,
          weightsOffset: entry?.kind === "dense" ? entry.weights.offset : 0,
          params: [layer.inFeatures, layer.outFeatures],
        };
      case "conv2d": {
        const [, , h, w] = shapeOf(layer.input) as [number, number, number, number];
        const [, , oh, ow] = shapes[index] as [number, number, number, number];
        return {
          ...base,
          kind: LayerKind.conv2d,
          inputA: layer.input,
          activation: layer.requant.activation === "relu" ? 1 : 0,
          weightsOffset: entry?.kind === "conv2d" ? entry.weights.offset : 0,
          params: [
            layer.inChannels,
            h,
            w,
            layer.outChannels,
            oh,
            ow,
            ...layer.kernel,
            ...layer.stride,
            layer.padding[0],
            layer.padding[1],
          ],
        };
      }
      case "maxpool2d": {
        const [, c, h, w] = shapeOf(layer.input) as [number, number, number, number];
        const [, , oh, ow] = shapes[index] as [number, number, number, number];
        return {
          ...base,
          kind: LayerKind.maxpool2d,
          inputA: layer.input,
          params: [c, h, w, oh, ow, ...layer.kernel, ...layer.stride],
        };
      }
      case "add":
        return {
          ...base,
          kind: LayerKind.add,
          inputA: layer.inputs[0],
          inputB: layer.inputs[1],
          activation: layer.activation === "relu" ? 1 : 0,
          weightsOffset: entry?.range.offset ?? 0,
        };
      case "relu":
        return { ...base, kind: LayerKind.relu, inputA: layer.input };
      case "reshape":
        return { ...base, kind: LayerKind.reshape, inputA: layer.input };
      case "argmax": {
        const input = shapeOf(layer.input);
        return {
          ...base,
          kind: LayerKind.argmax,
          inputA: layer.input,
          elementSize: 4,
          params: [input[input.length - 1]!],
        };
      }
      case "embed":
        return {
          ...base,
          kind: LayerKind.embed,
          inputA: -1,
          weightsOffset: sequenceOffset(weights.sequenceByLayer[index]),
          // A token embedding also names bos, the token of an empty prompt, which the game reads.
          params:
            layer.source === "token"
              ? [layer.rows, layer.width, 0, model.sequence?.bos ?? 0]
              : [layer.rows, layer.width, 1],
        };
      case "lut":
        return {
          ...base,
          kind: LayerKind.lut,
          inputA: layer.input,
          weightsOffset: sequenceOffset(weights.sequenceByLayer[index]),
          params: [outElements],
        };
      case "centre":
        return { ...base, kind: LayerKind.centre, inputA: layer.input, elementSize: 4, params: [outElements] };
      case "normalize":
        return {
          ...base,
          kind: LayerKind.normalize,
          inputA: layer.input,
          activation: layer.requant.activation === "relu" ? 1 : 0,
          weightsOffset: sequenceOffset(weights.sequenceByLayer[index]),
          params: [outElements],
        };
      case "qk":
        return {
          ...base,
          kind: LayerKind.qk,
          inputA: layer.query,
          inputB: layer.key,
          weightsOffset: sequenceOffset(weights.sequenceByLayer[index]),
          params: [layer.heads, layer.headDim, context],
        };
      case "rowmax": {
        const input = shapeOf(layer.input);
        return {
          ...base,
          kind: LayerKind.rowmax,
          inputA: layer.input,
          params: [outElements, input[input.length - 1]!],
        };
      }
      case "softmax":
        return {
          ...base,
          kind: LayerKind.softmax,
          inputA: layer.input,
          inputB: layer.rowmax,
          weightsOffset: sequenceOffset(weights.sequenceByLayer[index]),
          params: [elementCount(shapeOf(layer.rowmax)), context],
        };
      case "av":
        return {
          ...base,
          kind: LayerKind.av,
          inputA: layer.probs,
          inputB: layer.value,
          weightsOffset: sequenceOffset(weights.sequenceByLayer[index]),
          params: [layer.heads, layer.headDim, context],
        };
      default:
        throw new LayoutUnsupportedError(`Layer ${index} has no dispute layout.`, {
          details: ["LayerSpec.sol has no kind code for it."],
        });
    }
  });
}

/**
 * The blob offset a decoder layer's spec names: its table (embed, lut, softmax), `gamma`
 * (normalize) or multiplier (qk, av).
 */
function sequenceOffset(entry: SequenceLayerLayout | undefined): number {
  if (entry === undefined) return 0;
  switch (entry.kind) {
    case "embed":
    case "lut":
    case "softmax":
      return entry.table.offset;
    case "normalize":
      return entry.gamma.offset;
    case "qk":
    case "av":
      return entry.multiplier.offset;
  }
}

/** `abi.encode(spec)` as LayerSpec.decode reads it. */
export function encodeLayerSpec(spec: LayerSpec): string {
  return AbiCoder.defaultAbiCoder().encode([specType], [spec]);
}

/** Levels of the layout tree, bottom-up (leaves padded with zero to a power of two). */
function layoutLevels(specs: readonly LayerSpec[]): string[][] {
  let width = 1;
  while (width < specs.length) width *= 2;
  const leaves = Array.from({ length: width }, (_, i) =>
    i < specs.length ? chunkLeaf(i, getBytes(encodeLayerSpec(specs[i]!))) : ZERO_HASH,
  );
  const levels = [leaves];
  while (levels[levels.length - 1]!.length > 1) {
    const level = levels[levels.length - 1]!;
    levels.push(Array.from({ length: level.length / 2 }, (_, i) => nodeHash(level[2 * i]!, level[2 * i + 1]!)));
  }
  return levels;
}

/** The model's `layoutRoot`. */
export function layoutRoot(specs: readonly LayerSpec[]): string {
  const levels = layoutLevels(specs);
  return levels[levels.length - 1]![0]!;
}

/** The bottom-up siblings proving layer `layer`'s spec against `layoutRoot(specs)`. */
export function layoutProof(specs: readonly LayerSpec[], layer: number): string[] {
  const levels = layoutLevels(specs);
  const siblings: string[] = [];
  let position = layer;
  for (let height = 0; height < levels.length - 1; height++) {
    siblings.push(levels[height]![position ^ 1]!);
    position >>= 1;
  }
  return siblings;
}
