import type { ModelRegistry } from "../chain/connect.ts";
import { BaseError } from "../errors.ts";
import { FailureReason } from "../model/failure-reason.ts";
import { encodeTensor } from "../model/tensor-codec.ts";
import { formatToString, hasFormat, registeredFormat, type TensorFormat } from "../model/tensor-format.ts";
import type { Tensor } from "../model/tensor.ts";
import { layerShapes } from "../model/vqm/layer-shapes.ts";
import type { SequenceSpec, VqmModel } from "../model/vqm/vqm-model.ts";

/** What the registry holds of a model's tensors: the chain accepts exactly these encodings. */
export type ModelFormats = { input: TensorFormat; output: TensorFormat };

export type ModelFormatsCache = { get(modelId: bigint): Promise<ModelFormats> };

/**
 * The model does not produce (or take) the tensors it was registered with. Content ids and
 * registrations are the same for every provider, so no one could serve it: the request is
 * failed as ModelContentInvalid and the requester refunded.
 */
export class ModelFormatError extends BaseError {
  override name = "ModelFormatError";
  readonly failureReason = FailureReason.ModelContentInvalid;
}

/** Reads each model's registered formats once (they never change after registration). */
export function createModelFormats(registry: ModelRegistry): ModelFormatsCache {
  const cache = new Map<bigint, Promise<ModelFormats>>();
  return {
    get(modelId) {
      let entry = cache.get(modelId);
      if (!entry) {
        entry = registry.getModel(modelId).then((model) => ({
          input: registeredFormat(model.inputDtype, model.inputShape),
          output: registeredFormat(model.outputDtype, model.outputShape),
        }));
        cache.set(modelId, entry);
        entry.catch(() => cache.delete(modelId));
      }
      return entry;
    },
  };
}

/**
 * The canonical bytes of `output` if it is exactly the registered output format (the one
 * encoding the market's `MarketOutputMalformed` check accepts); throws ModelFormatError otherwise.
 */
export function canonicalOutput(modelId: bigint, output: Tensor, formats: ModelFormats): Uint8Array {
  if (!hasFormat(output, formats.output))
    throw new ModelFormatError(`Model ${modelId} gives ${formatToString(output)}, not its registered output.`, {
      details: [`registered output ${formatToString(formats.output)}`],
    });
  return encodeTensor(output);
}

/** Throws ModelFormatError unless a model's own formats (a VQM manifest's, say) are the registered ones. */
export function assertModelFormats(modelId: bigint, own: ModelFormats, formats: ModelFormats): void {
  for (const side of ["input", "output"] as const)
    if (
      own[side].dtype !== formats[side].dtype ||
      own[side].shape.length !== formats[side].shape.length ||
      own[side].shape.some((dim, i) => dim !== formats[side].shape[i])
    )
      throw new ModelFormatError(`Model ${modelId}'s ${side} is not the registered one.`, {
        details: [`model ${formatToString(own[side])}`, `registered ${formatToString(formats[side])}`],
      });
}

/**
 * The formats of an integer (VQM) model: int8 input; int8 output, or int32 class indices after an
 * argmax. A decoder's are those of a generation (`decoderFormats`).
 */
export function vqmFormats(model: VqmModel): ModelFormats {
  if (model.sequence) return decoderFormats(model.sequence);
  const last = model.layers.length - 1;
  return {
    input: { dtype: "int8", shape: [...model.input.shape] },
    output: { dtype: model.layers[last]!.kind === "argmax" ? "int32" : "int8", shape: layerShapes(model)[last]! },
  };
}

/** A decoder's formats: int32 `[1, promptLength]` in, int32 `[1, newTokens]` out. */
export function decoderFormats(sequence: SequenceSpec): ModelFormats {
  return {
    input: { dtype: "int32", shape: [1, sequence.promptLength] },
    output: { dtype: "int32", shape: [1, sequence.newTokens] },
  };
}
