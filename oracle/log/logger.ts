import { BaseError } from "../errors.ts";

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;
export type LogFunction = (msg: string, fields?: LogFields) => void;

export type Logger = {
  readonly level: LogLevel;
  debug: LogFunction;
  info: LogFunction;
  warn: LogFunction;
  error: LogFunction;
  /** A logger that adds `bindings` to every line. */
  child(bindings: LogFields): Logger;
};

export type CreateLoggerParameters = {
  level?: LogLevel | undefined;
  stream?: { write(line: string): unknown } | undefined;
  bindings?: LogFields | undefined;
  /** The clock, injectable for tests. */
  now?: (() => Date) | undefined;
};

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Keys whose values never reach a log line, wherever they are nested. */
const REDACTED_KEY = /^(privatekey|secret|password)$/i;

/**
 * A JSON-lines logger: one object per line with `time`, `level`, `msg`, the bindings and the
 * fields. Values that JSON cannot carry are made readable (bigint as a decimal string, bytes
 * as 0x-hex, errors with their details and cause chain); secrets are redacted.
 */
export function createLogger({
  level = "info",
  stream = process.stdout,
  bindings = {},
  now = () => new Date(),
}: CreateLoggerParameters = {}): Logger {
  const write = (lineLevel: LogLevel) => (msg: string, fields?: LogFields) => {
    if (rank[lineLevel] < rank[level]) return;
    // time, level and msg come first and a field of the same name cannot overwrite them.
    const record: LogFields = { time: now().toISOString(), level: lineLevel, msg };
    for (const [key, value] of Object.entries({ ...bindings, ...fields })) if (!(key in record)) record[key] = value;
    stream.write(`${JSON.stringify(serialise(record, new WeakSet()))}\n`);
  };
  return {
    level,
    debug: write("debug"),
    info: write("info"),
    warn: write("warn"),
    error: write("error"),
    child: (more) => createLogger({ level, stream, bindings: { ...bindings, ...more }, now }),
  };
}

/** Turns any value into plain JSON data. Exported for tests and for other JSON outputs. */
export function serialise(value: unknown, seen: WeakSet<object> = new WeakSet()): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value === undefined || typeof value === "function" || typeof value === "symbol") return undefined;
  if (value === null || typeof value !== "object") return value;
  if (value instanceof Uint8Array)
    return `0x${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("hex")}`;
  if (value instanceof Date) return value.toISOString();
  if (seen.has(value)) return "[Circular]";
  seen.add(value);
  try {
    if (value instanceof Error) return serialiseError(value, seen);
    if (Array.isArray(value)) return value.map((item) => serialise(item, seen) ?? null);
    if (value instanceof Map) return serialise(Object.fromEntries(value), seen);
    if (value instanceof Set) return serialise([...value], seen);
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      out[key] = REDACTED_KEY.test(key) ? "[redacted]" : serialise(item, seen);
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

function serialiseError(error: Error, seen: WeakSet<object>): Record<string, unknown> {
  const out: Record<string, unknown> = { name: error.name };
  out.message = error instanceof BaseError ? error.shortMessage : error.message;
  if (error instanceof BaseError && error.details.length > 0) out.details = error.details;
  const code = (error as { code?: unknown }).code;
  if (code !== undefined) out.code = serialise(code, seen);
  if (error.cause !== undefined) out.cause = serialise(error.cause, seen);
  return out;
}
