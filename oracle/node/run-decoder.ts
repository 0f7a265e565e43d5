/**
 * Runs an Attested decoder's request: the prompt (int32 `[1, promptLength]`, ended by the first
 * negative id) generated into `newTokens` ids with onnxruntime (`generateVqmOrt`, the same bits
 * as the reference executor's `generateVqm`). Nothing is kept between passes outside this call:
 * a daemon stopped mid-generation serves the claimed job again from its prompt at the next start.
 */
import { BaseError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import { FailureReason } from "../model/failure-reason.ts";
import { formatToString, hasFormat } from "../model/tensor-format.ts";
import type { Tensor } from "../model/tensor.ts";
import { generateVqmOrt } from "../model/vqm/ort-executor.ts";
import type { DecoderModel } from "./decoder-models.ts";
import { assertModelFormats, decoderFormats, type ModelFormats } from "./model-formats.ts";

/** The request's input is not the decoder's int32 `[1, promptLength]` prompt. */
export class DecoderInputError extends BaseError {
  override name = "DecoderInputError";
  readonly failureReason = FailureReason.InputShapeMismatch;
}

export async function runDecoder(
  decoder: DecoderModel,
  input: Tensor,
  formats: ModelFormats,
  log: Logger,
): Promise<Tensor> {
  const own = decoderFormats(decoder.model.sequence!);
  assertModelFormats(decoder.modelId, own, formats);
  if (!hasFormat(input, own.input))
    throw new DecoderInputError(`The prompt must be ${formatToString(own.input)}, not ${formatToString(input)}.`, {
      details: ["Token ids from the model's tokenizer, padded with -1 (encodePrompt)."],
    });
  const started = performance.now();
  const { output, tokens } = await generateVqmOrt(decoder.session, input);
  log.info("generated", {
    promptTokens: tokens.length - decoder.model.sequence!.newTokens,
    newTokens: decoder.model.sequence!.newTokens,
    seconds: Number(((performance.now() - started) / 1000).toFixed(3)),
  });
  return output;
}
