/**
 * A small random decoder over the names vocabulary (27 characters), with the character
 * tokenizer: the transformer of the daemon tests and of the dispute demo, where a trained model
 * would take minutes to make.
 */
import { charTokenizer } from "../model/text/tokenizer.ts";
import { randomTransformer } from "../model/vqm/random-transformer.ts";
import type { VqmModel } from "../model/vqm/vqm-model.ts";

/** The names model's vocabulary: the boundary "." (id 0, opens a prompt and ends a name), then a–z. */
export const namesTokenizer = charTokenizer("abcdefghijklmnopqrstuvwxyz");

/** A small random decoder over the 27 name characters: prompts of up to 8 ids, 6 generated, context 16. */
export function namesDecoder(seed: number): VqmModel {
  return randomTransformer({
    seed,
    layers: 2,
    width: 16,
    heads: 2,
    headDim: 8,
    context: 16,
    vocab: 27,
    mlpWidth: 32,
    promptLength: 8,
    newTokens: 6,
  });
}
