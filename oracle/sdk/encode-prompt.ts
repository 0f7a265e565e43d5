import { BaseError } from "../errors.ts";
import { encodeText, type Tokenizer } from "../model/text/tokenizer.ts";
import type { Tensor } from "../model/tensor.ts";

export type EncodePromptParameters = {
  /** The model's tokenizer (its folder's vqm/tokenizer.json). */
  tokenizer: Tokenizer;
  text: string;
  /** The decoder's registered input is int32 `[1, promptLength]`. */
  promptLength: number;
};

export type EncodePromptReturnType = {
  /** int32 `[1, promptLength]`: the prompt's ids, then −1 (a negative id ends the prompt). */
  tensor: Tensor;
  /** The prompt's ids (the boundary first when the tokenizer has one). */
  ids: number[];
};

/** The prompt is longer than the model's `promptLength`. */
export class PromptTooLongError extends BaseError {
  override name = "PromptTooLongError";
}

/**
 * A decoder's request input for `text` (docs/numeric-semantics.md, "Generation"): the tokenizer's
 * ids padded with −1 to `promptLength`. Wrap it with `encodeRequestInput` to send it. Throws
 * TokenizerError naming a character or word outside the vocabulary, PromptTooLongError naming
 * both lengths.
 */
export function encodePrompt({ tokenizer, text, promptLength }: EncodePromptParameters): EncodePromptReturnType {
  const ids = encodeText(tokenizer, text);
  if (ids.length > promptLength)
    throw new PromptTooLongError(
      `The prompt is ${ids.length} tokens${tokenizer.boundary === undefined ? "" : " (with the opening boundary)"}; the model takes at most ${promptLength} (its promptLength).`,
      {
        details: [
          `Shorten the text to at most ${promptLength - (tokenizer.boundary === undefined ? 0 : 1)} ${tokenizer.kind === "chars" ? "characters" : "words"}.`,
        ],
      },
    );
  const data = new Int32Array(promptLength).fill(-1);
  data.set(ids);
  return { tensor: { dtype: "int32", shape: [1, promptLength], data }, ids };
}
