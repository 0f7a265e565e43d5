import { VerificationMode } from "../chain/register-model.ts";
import { BaseError } from "../errors.ts";
import { decodeInputEnvelope } from "../model/input-envelope.ts";
import { formatToString, hasFormat, registeredFormat } from "../model/tensor-format.ts";

/** What `checkRequestInput` reads of a registered model (`getActiveModel` returns it). */
export type RequestInputModel = {
  mode: number | bigint;
  inputShape: readonly (number | bigint)[];
  inputDtype: number | bigint;
};

/** Request input bytes the chain would refuse (`MarketEmptyInput`, `MarketInputNotInline`, `MarketInputMalformed`). */
export class RequestInputError extends BaseError {
  override name = "RequestInputError";
}

const modeNames = ["Attested", "Zk", "Optimistic"] as const;

/**
 * Checks request input bytes as the market will at `requestInference`, so a bad request fails
 * here for free instead of as a reverted transaction: a Zk or Optimistic model takes only the
 * inline envelope `0x00 ‖ canonical tensor` of exactly its registered dtype and shape (the
 * proof or the game reads it); an Attested model takes any non-empty input (inline or a
 * content id), which its provider checks when it runs it.
 */
export function checkRequestInput(modelId: bigint, model: RequestInputModel, input: Uint8Array): void {
  if (input.length === 0)
    throw new RequestInputError("The request input is empty.", {
      details: ["Send 0x00 ‖ tensor bytes, or 0x01 ‖ CID."],
    });
  const mode = Number(model.mode);
  if (mode === VerificationMode.Attested) return;
  const modeName = modeNames[mode] ?? `mode ${mode}`;
  const format = registeredFormat(model.inputDtype, model.inputShape);
  const fix = `Send the inline envelope 0x00 ‖ canonical ${formatToString(format)} tensor bytes (encodeRequestInput).`;
  let envelope;
  try {
    envelope = decodeInputEnvelope(input);
  } catch (error) {
    throw new RequestInputError(`Model ${modelId} (${modeName}): the input is not an inline canonical tensor.`, {
      details: [error instanceof BaseError ? error.shortMessage : String(error), fix],
      cause: error,
    });
  }
  if (envelope.kind !== "inline")
    throw new RequestInputError(`Model ${modelId} (${modeName}) takes inline inputs only, not a content id.`, {
      details: [`Its ${mode === VerificationMode.Zk ? "proof" : "dispute game"} reads the input from calldata.`, fix],
    });
  if (!hasFormat(envelope.tensor, format))
    throw new RequestInputError(
      `Model ${modelId} (${modeName}) takes ${formatToString(format)}; the input is ${formatToString(envelope.tensor)}.`,
      { details: [fix] },
    );
}
