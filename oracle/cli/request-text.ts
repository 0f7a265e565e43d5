/**
 * `verity request --text`: a decoder's prompt from text with its model folder's tokenizer, and the
 * generated ids printed with their text.
 */
import { readModelFolder } from "../model/model-folder.ts";
import type { Tokenizer } from "../model/text/tokenizer.ts";
import { tokenizerFile } from "../model/text/tokenizer.ts";
import type { Tensor } from "../model/tensor.ts";
import { decodeTokens } from "../sdk/decode-tokens.ts";
import { encodePrompt } from "../sdk/encode-prompt.ts";
import { CliInputError } from "./parse-options.ts";

export type TextPrompt = { dir: string; modelHash: string; tokenizer: Tokenizer; tensor: Tensor };

/** Reads DIR's decoder and tokenizer and encodes `text`; prints the prompt's ids. */
export async function prepareTextPrompt(text: string, dir: string | undefined): Promise<TextPrompt> {
  if (dir === undefined)
    throw new CliInputError("--text needs the model's folder: --model-dir DIR.", {
      details: [`Its vqm/${tokenizerFile} turns the text into token ids.`],
    });
  const { model, manifest, tokenizer } = await readModelFolder(dir);
  if (model.sequence === undefined)
    throw new CliInputError(`${dir} holds a classifier, not a decoder: --text is for text generation.`, {
      details: ["Give the classifier's input with --input INPUT.json."],
    });
  if (tokenizer === undefined)
    throw new CliInputError(`${dir} has no tokenizer: its vqm/ holds no ${tokenizerFile}.`, {
      details: [
        `Give the prompt's token ids with --input: { "dtype": "int32", "shape": [1, ${model.sequence.promptLength}], "data": [...] }, padded with -1.`,
      ],
    });
  const { tensor, ids } = encodePrompt({ tokenizer, text, promptLength: model.sequence.promptLength });
  console.log(
    `prompt ${JSON.stringify(text)}: ids ${ids.join(", ")} (padded with -1 to ${model.sequence.promptLength})`,
  );
  return { dir, modelHash: manifest.modelHash, tokenizer, tensor };
}

/** The generated text: up to the first boundary (shown with every token's text), and the ids. */
export function printGeneratedText(tokenizer: Tokenizer, output: Tensor): void {
  const { text, ended, all } = decodeTokens(tokenizer, output);
  const boundary = tokenizer.boundary === undefined ? undefined : tokenizer.tokens[tokenizer.boundary]!;
  const how = ended
    ? `it ends at the boundary ${JSON.stringify(boundary)}; every token: ${JSON.stringify(all)}`
    : "no boundary: every token";
  console.log(`generated ${JSON.stringify(text)} (${how})`);
}
