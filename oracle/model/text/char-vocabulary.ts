/**
 * A character-level vocabulary for small language models (makemore style): one id per character
 * and one boundary token that both opens a sequence (BOS) and ends it (EOS), so a name "ava" is
 * the sequence `. a v a .` and generation stops when the model predicts the boundary.
 */
import { BaseError } from "../../errors.ts";

export type CharVocabulary = {
  /** Token strings by id; tokens[boundaryId] is the boundary marker, the others one character each. */
  tokens: readonly string[];
  /** The id that starts every sequence and that ends a generated one. */
  boundaryId: number;
};

export class CharVocabularyError extends BaseError {
  override name = "CharVocabularyError";
}

/** The boundary gets id 0 and is shown as ".", the alphabet's characters follow in order. */
export function charVocabulary(alphabet: string, boundary = "."): CharVocabulary {
  const characters = [...alphabet];
  if (new Set(characters).size !== characters.length || characters.includes(boundary) || characters.length === 0)
    throw new CharVocabularyError(`The alphabet must be non-empty, free of repeats and of the boundary "${boundary}".`);
  return { tokens: [boundary, ...characters], boundaryId: 0 };
}

/** Ids of `text` after the boundary: `. t e x t` (no closing boundary: that is the model's to predict). */
export function encodePrompt(vocabulary: CharVocabulary, text: string): number[] {
  return [vocabulary.boundaryId, ...[...text].map((character) => idOf(vocabulary, character))];
}

/** Ids of a whole sequence with both boundaries: `. t e x t .`. */
export function encodeSequence(vocabulary: CharVocabulary, text: string): number[] {
  return [...encodePrompt(vocabulary, text), vocabulary.boundaryId];
}

/** The characters of `ids`, boundaries left out. */
export function decodeIds(vocabulary: CharVocabulary, ids: readonly number[]): string {
  return ids
    .filter((id) => id !== vocabulary.boundaryId)
    .map((id) => {
      const token = vocabulary.tokens[id];
      if (token === undefined) throw new CharVocabularyError(`Token id ${id} is outside the vocabulary.`);
      return token;
    })
    .join("");
}

function idOf(vocabulary: CharVocabulary, character: string): number {
  const id = vocabulary.tokens.indexOf(character);
  if (id < 0 || id === vocabulary.boundaryId)
    throw new CharVocabularyError(`Character "${character}" is not in the vocabulary.`, {
      details: [`Known: ${vocabulary.tokens.filter((_, i) => i !== vocabulary.boundaryId).join("")}.`],
    });
  return id;
}
