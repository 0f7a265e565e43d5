/**
 * The tokenizer a decoder is published with: `tokenizer.json` beside its manifest, bound to it by
 * `tokenizerHash` (keccak256 of the file's bytes, checked by `readVqm`). Two small kinds:
 *
 *   { "kind": "chars", "tokens": [".", "a", "b", …], "boundary": 0 }
 *   { "kind": "words", "tokens": ["<s>", "yes", "no", …], "boundary": 0 }
 *
 * `tokens[id]` is the text of token `id`. A `chars` token is one character (a Unicode code point)
 * and text is read character by character; a `words` token is a word without whitespace, text is
 * split on whitespace and decoded words are joined by one space. The optional `boundary` is the
 * id that opens every prompt (makemore's "."; GPT's <|endoftext|>) and that ends a generated
 * text: `encodeText` puts it first, `decodeIds` stops the text at the first one it meets. The
 * boundary's own text is never read from a prompt.
 */
import { keccak256 } from "ethers";
import { BaseError } from "../../errors.ts";

export const tokenizerFile = "tokenizer.json";

export type TokenizerKind = "chars" | "words";

export type Tokenizer = {
  kind: TokenizerKind;
  /** Token texts by id. */
  tokens: readonly string[];
  /** The id that opens a prompt and ends a generated text; none when absent. */
  boundary?: number | undefined;
};

export type DecodeIdsReturnType = {
  /** The text of the ids before the first boundary (all of them if there is none). */
  text: string;
  /** Whether a boundary ended the text (the model finished its sequence). */
  ended: boolean;
  /** Every id's text, boundaries shown as their token text. */
  all: string;
};

export class TokenizerError extends BaseError {
  override name = "TokenizerError";
}

const kinds: readonly TokenizerKind[] = ["chars", "words"];
const keys = new Set(["kind", "tokens", "boundary"]);

/** Checks a parsed `tokenizer.json` and returns it typed; throws TokenizerError naming what is wrong. */
export function parseTokenizer(value: unknown, source = tokenizerFile): Tokenizer {
  const fail = (message: string, fix: string) => new TokenizerError(`${source}: ${message}`, { details: [fix] });
  const example = 'For example { "kind": "chars", "tokens": [".", "a", "b"], "boundary": 0 }.';
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw fail("not a JSON object.", example);
  const object = value as Record<string, unknown>;
  const unknown = Object.keys(object).find((key) => !keys.has(key));
  if (unknown !== undefined) throw fail(`unknown key "${unknown}".`, `Keys: ${[...keys].join(", ")}.`);
  const { kind, tokens, boundary } = object;
  if (!kinds.includes(kind as TokenizerKind))
    throw fail(`"kind" is ${JSON.stringify(kind)}, not one of ${kinds.join(", ")}.`, example);
  if (!Array.isArray(tokens) || tokens.length === 0 || !tokens.every((t) => typeof t === "string" && t !== ""))
    throw fail('"tokens" is not a non-empty list of non-empty strings.', example);
  if (
    boundary !== undefined &&
    (!Number.isSafeInteger(boundary) || (boundary as number) < 0 || (boundary as number) >= tokens.length)
  )
    throw fail(`"boundary" ${JSON.stringify(boundary)} is not a token id (0 … ${tokens.length - 1}).`, example);
  const seen = new Map<string, number>();
  tokens.forEach((token: string, id) => {
    const earlier = seen.get(token);
    if (earlier !== undefined)
      throw fail(
        `token ${JSON.stringify(token)} is both id ${earlier} and id ${id}.`,
        "Each token text must be unique.",
      );
    seen.set(token, id);
    if (id === boundary) return;
    if (kind === "chars" && [...token].length !== 1)
      throw fail(
        `token ${id} ${JSON.stringify(token)} is not one character.`,
        'A "chars" tokenizer has one character per token (the boundary aside).',
      );
    if (kind === "words" && /\s/u.test(token))
      throw fail(
        `token ${id} ${JSON.stringify(token)} holds whitespace.`,
        'A "words" tokenizer splits text on whitespace.',
      );
  });
  return {
    kind: kind as TokenizerKind,
    tokens: [...(tokens as string[])],
    ...(boundary !== undefined ? { boundary: boundary as number } : {}),
  };
}

/** The bytes of `tokenizer.json`. */
export function tokenizerBytes(tokenizer: Tokenizer): Uint8Array {
  const { kind, tokens, boundary } = tokenizer;
  return new TextEncoder().encode(
    `${JSON.stringify({ kind, tokens, ...(boundary !== undefined ? { boundary } : {}) })}\n`,
  );
}

/** The tokenizer in `bytes` (a `tokenizer.json`'s content). */
export function readTokenizerBytes(bytes: Uint8Array, source = tokenizerFile): Tokenizer {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (error) {
    throw new TokenizerError(`${source} is not JSON.`, {
      details: [error instanceof Error ? error.message : String(error)],
      cause: error,
    });
  }
  return parseTokenizer(value, source);
}

/** keccak256 of the file's bytes: the manifest's `tokenizerHash`. */
export function tokenizerHash(bytes: Uint8Array): string {
  return keccak256(bytes);
}

/** A `chars` tokenizer: the boundary (id 0) then the alphabet's characters, as makemore's vocabulary. */
export function charTokenizer(alphabet: string, boundary = "."): Tokenizer {
  return parseTokenizer({ kind: "chars", tokens: [boundary, ...alphabet], boundary: 0 }, "charTokenizer");
}

/** The ids of `text`: the boundary first (when the tokenizer has one), then each character or word's id. */
export function encodeText(tokenizer: Tokenizer, text: string): number[] {
  const ids = new Map(tokenizer.tokens.map((token, id) => [token, id]));
  const pieces = tokenizer.kind === "chars" ? [...text] : text.split(/\s+/u).filter((word) => word !== "");
  const what = tokenizer.kind === "chars" ? "Character" : "Word";
  const encoded = pieces.map((piece, position) => {
    const id = ids.get(piece);
    if (id === undefined || id === tokenizer.boundary)
      throw new TokenizerError(
        `${what} ${JSON.stringify(piece)} (${tokenizer.kind === "chars" ? "character" : "word"} ${position + 1} of the text) is not in the model's vocabulary.`,
        { details: [known(tokenizer)] },
      );
    return id;
  });
  return tokenizer.boundary === undefined ? encoded : [tokenizer.boundary, ...encoded];
}

/** The text of generated `ids`, up to the first boundary, and every id's text. */
export function decodeIds(tokenizer: Tokenizer, ids: ArrayLike<number>): DecodeIdsReturnType {
  const texts = Array.from(ids, (id) => {
    const token = Number.isInteger(id) ? tokenizer.tokens[id] : undefined;
    if (token === undefined)
      throw new TokenizerError(`Token id ${id} is outside the vocabulary (ids 0 … ${tokenizer.tokens.length - 1}).`, {
        details: ["Is this the tokenizer of the model that generated it?"],
      });
    return token;
  });
  const end = Array.from(ids).findIndex((id) => id === tokenizer.boundary);
  const join = (parts: string[]) => parts.join(tokenizer.kind === "chars" ? "" : " ");
  return { text: join(end < 0 ? texts : texts.slice(0, end)), ended: end >= 0, all: join(texts) };
}

function known(tokenizer: Tokenizer): string {
  const usable = tokenizer.tokens.filter((_, id) => id !== tokenizer.boundary);
  if (tokenizer.kind === "chars") return `Known characters: ${usable.join("")}`;
  const shown = usable.slice(0, 12).join(", ");
  return `Known words (${usable.length}): ${shown}${usable.length > 12 ? ", …" : ""}`;
}
