import { CID } from "multiformats/cid";
import { FailureReason } from "../model/failure-reason.ts";
import { BaseError } from "../errors.ts";

/**
 * Content by CID: inputs too large for calldata, model files, traces. Two backends share this
 * shape: an embedded blockstore on disk (no daemon) and a kubo node over its RPC API.
 */
export type ContentStore = {
  readonly kind: "embedded" | "kubo";
  /** Stores `bytes` as a UnixFS file and returns its CID v1 (base32) string. */
  add(bytes: Uint8Array, opts?: { signal?: AbortSignal }): Promise<string>;
  /** Reads the file behind `cid`; throws ContentTooLargeError past `maxBytes`. */
  get(cid: string, opts?: { signal?: AbortSignal; maxBytes?: number }): Promise<Uint8Array>;
  /** Whether `get` can be served locally, without asking a network. */
  has(cid: string): Promise<boolean>;
  close(): Promise<void>;
};

/**
 * Import settings both backends use, so the same bytes get the same CID in either: CID v1,
 * raw leaves, 256 KiB fixed chunks, balanced DAG of at most 174 links (kubo's defaults with
 * `--cid-version 1 --raw-leaves`).
 */
export const IMPORT_CHUNK_SIZE = 262_144;
export const IMPORT_MAX_LINKS = 174;

export class ContentNotFoundError extends BaseError {
  override name = "ContentNotFoundError";
  readonly cid: string;
  constructor({ cid, reason, cause }: { cid: string; reason?: string; cause?: unknown }) {
    super(`Content ${cid} not found.`, {
      details: reason === undefined ? [] : [reason],
      cause,
    });
    this.cid = cid;
  }
}

export class ContentIdInvalidError extends BaseError {
  override name = "ContentIdInvalidError";
  readonly cid: string;
  constructor({ cid, cause }: { cid: string; cause?: unknown }) {
    super(`"${cid}" is not a valid CID.`, {
      details: ["Expected a CID such as bafkrei... (v1) or Qm... (v0)."],
      cause,
    });
    this.cid = cid;
  }
}

export class ContentTooLargeError extends BaseError {
  override name = "ContentTooLargeError";
  // Only request inputs are fetched with a size cap, so too large means the input is.
  readonly failureReason = FailureReason.InputTooLarge;
  readonly cid: string;
  readonly maxBytes: number;
  constructor({ cid, maxBytes }: { cid: string; maxBytes: number }) {
    super(`Content ${cid} is larger than the ${maxBytes} bytes allowed.`);
    this.cid = cid;
    this.maxBytes = maxBytes;
  }
}

export class ContentStoreUnavailableError extends BaseError {
  override name = "ContentStoreUnavailableError";
  constructor({ store, reason, cause }: { store: string; reason: string; cause?: unknown }) {
    super(`Content store ${store} is unavailable.`, { details: [reason], cause });
  }
}

/** Parses a CID string, naming the bad input when it is not one. */
export function parseCid(cid: string): CID {
  try {
    return CID.parse(cid.trim());
  } catch (error) {
    throw new ContentIdInvalidError({ cid, cause: error });
  }
}

/** The canonical string form both stores return: CID v1, base32. */
export function toCidString(cid: CID): string {
  return cid.toV1().toString();
}

/** Joins chunks, stopping as soon as they exceed `maxBytes` (so a huge file is not buffered). */
export async function collectBytes(
  chunks: AsyncIterable<Uint8Array>,
  { cid, maxBytes }: { cid: string; maxBytes?: number | undefined },
): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of chunks) {
    total += chunk.byteLength;
    if (maxBytes !== undefined && total > maxBytes) throw new ContentTooLargeError({ cid, maxBytes });
    parts.push(chunk);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

export function isAbortError(error: unknown): boolean {
  return error instanceof Error && (error.name === "AbortError" || error.name === "TimeoutError");
}
