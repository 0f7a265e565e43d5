/**
 * JSON.parse with an error a user can act on: the source, the line and column of the first
 * mistake and what it is, and never the text itself (V8 quotes part of the text in some of its
 * messages; a config or input file may hold a private key).
 */
import { BaseError } from "../errors.ts";

export class JsonSyntaxError extends BaseError {
  override name = "JsonSyntaxError";
  readonly line: number;
  readonly column: number;
  constructor(source: string, line: number, column: number, problem: string) {
    super(`${source} is not valid JSON: line ${line}, column ${column}: ${problem}.`, {
      details: ["JSON needs double-quoted keys and strings, and no trailing commas or comments."],
    });
    this.line = line;
    this.column = column;
  }
}

/** `text` parsed, or a {@link JsonSyntaxError} naming `source` ("the --input file x.json"). */
export function parseJsonText(raw: string, source: string): unknown {
  const text = raw.replace(/^\uFEFF/, ""); // a byte-order mark some editors write
  try {
    return JSON.parse(text);
  } catch (error) {
    const offset = jsonErrorOffset(text);
    const { line, column } = lineAndColumn(text, offset);
    const problem =
      offset >= text.trimEnd().length ? "the text ends too early" : describeJsonMistake((error as Error).message);
    throw new JsonSyntaxError(source, line, column, problem);
  }
}

/** V8's description of the mistake without the position and without the echo of the text. */
function describeJsonMistake(message: string): string {
  const bare = message
    .replace(/ (in JSON )?at position \d+.*$/s, "")
    .replace(/, (\.\.\.)?".*is not valid JSON$/s, "")
    .replace(/^Unexpected token '(.)'$/, "unexpected '$1'");
  return bare.charAt(0).toLowerCase() + bare.slice(1);
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  return { line, column: offset - before.lastIndexOf("\n") };
}

/**
 * The offset of the first syntax error in `text` (which JSON.parse refused): a small scanner of
 * the JSON grammar, since V8's messages do not always give the position.
 */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const fail = (): never => {
    throw i;
  };
  const space = () => {
    while (i < text.length && " \t\n\r".includes(text[i]!)) i++;
  };
  const literal = (word: string) => {
    for (const char of word) {
      if (text[i] !== char) fail();
      i++;
    }
  };
  const string = () => {
    if (text[i] !== '"') fail();
    i++;
    for (;;) {
      if (i >= text.length) fail();
      const char = text[i]!;
      if (char === '"') return void i++;
      if (char < " ") fail();
      if (char === "\\") {
        i++;
        if (text[i] === "u") {
          for (let k = 1; k <= 4; k++) {
            if (!/[0-9a-fA-F]/.test(text[i + k] ?? "")) {
              i += k;
              fail();
            }
          }
          i += 5;
        } else if (!'"\\/bfnrt'.includes(text[i] ?? "x")) fail();
        else i++;
      } else i++;
    }
  };
  const number = () => {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!match) fail();
    i += match![0].length;
  };
  const value = (): void => {
    space();
    const char = text[i];
    if (char === "{") {
      i++;
      space();
      if (text[i] === "}") return void i++;
      for (;;) {
        space();
        string();
        space();
        if (text[i] !== ":") fail();
        i++;
        value();
        space();
        if (text[i] === ",") i++;
        else if (text[i] === "}") return void i++;
        else fail();
      }
    }
    if (char === "[") {
      i++;
      space();
      if (text[i] === "]") return void i++;
      for (;;) {
        value();
        space();
        if (text[i] === ",") i++;
        else if (text[i] === "]") return void i++;
        else fail();
      }
    }
    if (char === '"') return string();
    if (char === "t") return literal("true");
    if (char === "f") return literal("false");
    if (char === "n") return literal("null");
    return number();
  };
  try {
    value();
    space();
    return i < text.length ? i : text.length;
  } catch (offset) {
    if (typeof offset === "number") return Math.min(offset, text.length);
    throw offset;
  }
}
