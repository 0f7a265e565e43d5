/**
 * Parsing of command-line flags and the files they name, shared by every command. Each function
 * throws a {@link CliInputError} whose short message names the flag and what is wrong with its
 * value, and whose details say what a good value looks like. A value that looks like a secret
 * (a private key, a mnemonic) is never repeated in a message, whichever flag it was pasted into.
 */
import { readFileSync } from "node:fs";
import { getAddress, isAddress } from "ethers";
import { BaseError } from "../errors.ts";
import { parseJsonText } from "../util/parse-json.ts";

export class CliInputError extends BaseError {
  override name = "CliInputError";
}

/** The parsed flags of a command, as `parseArgs` gives them. */
export type OptionValues = Record<string, string | boolean | string[] | undefined>;

/** 32 bytes of hex (a private key), or twelve or more words (a mnemonic). */
export function looksSecret(text: string): boolean {
  const trimmed = text.trim();
  return /^(0x)?[0-9a-fA-F]{64}$/.test(trimmed) || trimmed.split(/\s+/).filter((w) => /^[a-z]+$/.test(w)).length >= 12;
}

/** A value quoted for a message: JSON-quoted and shortened, or a placeholder if it looks like a secret. */
export function shown(text: string): string {
  if (looksSecret(text)) return "(a value that looks like a key or mnemonic, not shown)";
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);
}

/** The option's text, or an error naming the flag when it is missing. */
export function requireOption(values: OptionValues, name: string, usage: string): string {
  const value = values[name];
  if (typeof value === "string" && value !== "") return value;
  throw new CliInputError(`--${name} is missing.`, { details: [`Usage: ${usage}`] });
}

export type ParseIntegerParameters = { min?: bigint | number | undefined; max?: bigint | number | undefined };

/** A whole number written in decimal digits, within [min, max] (default 0 .. 2^256 - 1). */
export function parseInteger(flag: string, text: string, { min = 0n, max }: ParseIntegerParameters = {}): bigint {
  const low = BigInt(min);
  const high = max === undefined ? 2n ** 256n - 1n : BigInt(max);
  const range = `${low}${max === undefined ? " or more" : ` to ${high}`}`;
  const trimmed = text.trim();
  if (!/^-?\d+$/.test(trimmed))
    throw new CliInputError(`${flag} ${shown(text)} is not a whole number.`, {
      details: [`Give digits only, from ${range}.`],
    });
  const value = BigInt(trimmed);
  if (value < low || value > high)
    throw new CliInputError(`${flag} ${trimmed} is out of range.`, { details: [`It must be from ${range}.`] });
  return value;
}

/** {@link parseInteger} as a JavaScript number (for counts, ports, basis points). */
export function parseCount(flag: string, text: string, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}): number {
  return Number(parseInteger(flag, text, { min, max }));
}

/**
 * An id of the chain (a model, a request): a whole number, 1 or more. `flag` names where it came
 * from (`--model`), or is empty for a positional argument.
 */
export function parseId(flag: string, text: string, what: string): bigint {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed) || BigInt(trimmed) === 0n || BigInt(trimmed) >= 2n ** 256n)
    throw new CliInputError(`${flag ? `${flag} ` : ""}${shown(text)} is not a ${what} id.`, {
      details: [`A ${what} id is a whole number from 1${flag ? `, e.g. ${flag} 1` : ""}.`],
    });
  return BigInt(trimmed);
}

const secondsPer: Record<string, number> = { "": 1, s: 1, m: 60, h: 3600, d: 86_400 };

/** A duration: seconds (`90`), or with a unit (`90s`, `5m`, `2h`, `1d`); positive. Returns seconds. */
export function parseDuration(flag: string, text: string, { max = 365 * 86_400 } = {}): number {
  const match = /^(\d+(?:\.\d+)?)\s*(s|m|h|d|)$/.exec(text.trim());
  const seconds = match ? Number(match[1]) * secondsPer[match[2]!]! : NaN;
  if (!(seconds > 0) || seconds > max)
    throw new CliInputError(`${flag} ${shown(text)} is not a duration.`, {
      details: [`Give seconds (e.g. ${flag} 120) or a number with s, m, h or d (e.g. ${flag} 5m), at most ${max} s.`],
    });
  return seconds;
}

/** An amount of ETH written in decimal (`0.001`, `2`), as wei; not negative, at most 18 decimals. */
export function parseEth(flag: string, text: string): bigint {
  const trimmed = text.trim();
  const example = `e.g. ${flag} 0.001`;
  if (/^-/.test(trimmed))
    throw new CliInputError(`${flag} ${shown(text)} is negative.`, {
      details: [`Give an amount of ETH of 0 or more, ${example}.`],
    });
  const match = /^(\d*)(?:\.(\d*))?$/.exec(trimmed);
  if (!match || trimmed === "" || trimmed === ".")
    throw new CliInputError(`${flag} ${shown(text)} is not an amount of ETH.`, {
      details: [`Give a decimal number of ETH, ${example} (no unit, no exponent).`],
    });
  const [, whole = "", fraction = ""] = match;
  if (fraction.length > 18)
    throw new CliInputError(`${flag} ${trimmed} has more than 18 decimals.`, {
      details: ["1 wei is 0.000000000000000001 ETH: round the amount to 18 decimals."],
    });
  const wei = BigInt(whole || "0") * 10n ** 18n + BigInt(fraction.padEnd(18, "0") || "0");
  if (wei >= 2n ** 256n) throw new CliInputError(`${flag} ${trimmed} is too large an amount.`);
  return wei;
}

/** A 20-byte address (`0x` and 40 hex digits), returned checksummed; a wrong checksum is refused. */
export function parseAddress(flag: string, text: string): string {
  const trimmed = text.trim();
  if (!isAddress(trimmed))
    throw new CliInputError(`${flag} ${shown(text)} is not an address.`, {
      details: [
        /^0x[0-9a-fA-F]{40}$/.test(trimmed)
          ? "Its mixed-case checksum is wrong: copy it again, or write it all in lower case."
          : "Give 0x followed by 40 hex digits (ENS names are not resolved).",
      ],
    });
  return getAddress(trimmed);
}

/** One of `choices`, or an error listing them. */
export function parseChoice<const T extends string>(flag: string, text: string, choices: readonly T[]): T {
  if ((choices as readonly string[]).includes(text)) return text as T;
  throw new CliInputError(`${flag} ${shown(text)} is not one of ${choices.join(", ")}.`, {
    details: [`Use ${choices.map((choice) => `${flag} ${choice}`).join(" or ")}.`],
  });
}

/** An http(s) URL (or another of `protocols`), the scheme included. */
export function parseUrl(flag: string, text: string, protocols: readonly string[] = ["http:", "https:"]): string {
  let url: URL | undefined;
  try {
    url = new URL(text.trim());
  } catch {
    url = undefined;
  }
  if (url === undefined || !protocols.includes(url.protocol)) {
    const bare = /^[\w.-]+(:\d+)?(\/.*)?$/.test(text.trim());
    throw new CliInputError(
      `${flag} ${shown(text)} is not an ${protocols.map((p) => p.slice(0, -1)).join(" or ")} URL.`,
      {
        details: [
          bare
            ? `Give the scheme too: ${flag} http://${text.trim()}`
            : `Give a full URL with its scheme, e.g. ${flag} http://127.0.0.1:5001`,
        ],
      },
    );
  }
  return text.trim();
}

/** The text of `file`; `what` names it in errors ("the --input file"). A missing file is named as such. */
export function readTextFile(file: string, what: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw fileError(file, what, error);
  }
}

/** The bytes of `file`, with the same errors as {@link readTextFile}. */
export function readBinaryFile(file: string, what: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(file));
  } catch (error) {
    throw fileError(file, what, error);
  }
}

/** A one-line error for a file that could not be read, from Node's error code. */
export function fileError(file: string, what: string, error: unknown): CliInputError {
  const code = (error as NodeJS.ErrnoException).code;
  const reasons: Record<string, [string, string]> = {
    ENOENT: [`${file} does not exist`, "Check the path (it is relative to the current folder)."],
    EISDIR: [`${file} is a folder, not a file`, "Name a file inside it."],
    EACCES: [`${file} cannot be read (permission denied)`, "Check the file's permissions."],
    ENOTDIR: [`${file} is not a path to a file`, "A part of the path is a file, not a folder."],
  };
  const [problem, fix] = reasons[code ?? ""] ?? [`${file} cannot be read`, String((error as Error).message)];
  return new CliInputError(`Cannot read ${what}: ${problem}.`, { details: [fix], cause: error });
}

/**
 * JSON text parsed, or an error naming `source` with the line and column of the first mistake
 * (oracle/util/parse-json.ts). The text itself is never quoted: it may hold a secret.
 */
export function parseJson(text: string, source: string): unknown {
  return parseJsonText(text, source);
}

/** {@link readTextFile} then {@link parseJson}. */
export function readJsonFile(file: string, what: string): unknown {
  return parseJson(readTextFile(file, what), `${what} ${file}`);
}

export { closest } from "../util/closest.ts";
