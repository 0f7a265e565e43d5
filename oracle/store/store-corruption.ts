import type { DatabaseSync } from "node:sqlite";
import { BaseError, errorMessage } from "../errors.ts";

/**
 * A state file sqlite cannot read (truncated, overwritten, not a database). Nothing the daemon
 * does fixes it, so it ends the daemon with the fix instead of failing every poll: the state is
 * a cache of the chain, and a fresh file is rebuilt from it.
 */
export class StoreCorruptError extends BaseError {
  override name = "StoreCorruptError";
  constructor(file: string, cause: unknown) {
    super(`The state file ${file} is corrupt (${sqliteMessage(cause)}).`, {
      details: [
        `Move the file away (mv ${file} ${file}.corrupt) and start the daemon again:`,
        "it rebuilds its state from the chain and resumes the jobs it has claimed.",
      ],
      cause,
    });
  }
}

/** SQLITE_CORRUPT and SQLITE_NOTADB (primary codes 11 and 26, extended codes included). */
const CORRUPT_CODES = new Set([11, 26]);

/** Whether `error` is sqlite saying the file itself is damaged, not a passing condition. */
export function isSqliteCorruption(error: unknown): boolean {
  if (error instanceof StoreCorruptError) return true;
  const code = (error as { errcode?: unknown } | undefined)?.errcode;
  if (typeof code === "number" && CORRUPT_CODES.has(code & 0xff)) return true;
  return /database disk image is malformed|file is not a database|database corruption/i.test(errorMessage(error));
}

/** The store error, or the corruption error when that is what sqlite said. */
export function corruptionOr(file: string, error: unknown): unknown {
  return isSqliteCorruption(error) && !(error instanceof StoreCorruptError)
    ? new StoreCorruptError(file, error)
    : error;
}

/**
 * Reads every page once (`PRAGMA quick_check`): a truncated file opens without complaint and
 * fails only at the first query that reaches a missing page, so it is checked when opened.
 */
export function assertIntact(db: DatabaseSync, file: string): void {
  const rows = db.prepare("PRAGMA quick_check").all() as { quick_check: string }[];
  const problems = rows.map((row) => row.quick_check).filter((line) => line !== "ok");
  if (problems.length > 0) throw new StoreCorruptError(file, new Error(problems.slice(0, 3).join("; ")));
}

/** Wraps each function of `api` so a corruption error thrown inside comes out as StoreCorruptError. */
export function guardCorruption<T extends Record<string, unknown>>(file: string, api: T): T {
  const guarded: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(api))
    guarded[name] =
      typeof value === "function"
        ? (...args: unknown[]) => {
            try {
              return (value as (...a: unknown[]) => unknown)(...args);
            } catch (error) {
              throw corruptionOr(file, error);
            }
          }
        : value;
  return guarded as T;
}

function sqliteMessage(error: unknown): string {
  const text = (error as { errstr?: unknown } | undefined)?.errstr;
  return typeof text === "string" && text !== "" ? text : errorMessage(error).split("\n")[0]!;
}
