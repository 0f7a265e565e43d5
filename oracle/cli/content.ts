import { randomBytes } from "node:crypto";
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { BaseError, errorMessage } from "../errors.ts";
import type { ContentStore } from "../storage/content-store.ts";
import { fileError } from "./parse-options.ts";

/**
 * `verity content add|get`: the work without the argv parsing, so the CLI entry, scripts and
 * tests share it. The caller opens and closes the store.
 */

export class ContentFileError extends BaseError {
  override name = "ContentFileError";
}

export type ContentAddParameters = { store: ContentStore; file: string; signal?: AbortSignal | undefined };
export type ContentAddReturnType = { cid: string; size: number };

export async function contentAdd({ store, file, signal }: ContentAddParameters): Promise<ContentAddReturnType> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file, { signal });
  } catch (error) {
    if (signal?.aborted) throw error;
    const { shortMessage, details } = fileError(file, "the file", error);
    throw new ContentFileError(shortMessage, { details, cause: error });
  }
  const cid = await store.add(bytes, { signal });
  return { cid, size: bytes.byteLength };
}

export type ContentGetParameters = {
  store: ContentStore;
  cid: string;
  /** A file to write; without it the bytes are returned (for stdout). */
  out?: string | undefined;
  maxBytes?: number | undefined;
  signal?: AbortSignal | undefined;
};
export type ContentGetReturnType = { cid: string; size: number; bytes: Uint8Array; out: string | undefined };

export async function contentGet({
  store,
  cid,
  out,
  maxBytes,
  signal,
}: ContentGetParameters): Promise<ContentGetReturnType> {
  const bytes = await store.get(cid, { signal, maxBytes });
  if (out !== undefined) await writeAtomically(out, bytes);
  return { cid, size: bytes.byteLength, bytes, out };
}

/** Writes beside the target and renames, so an interrupted get never leaves a partial file. */
async function writeAtomically(file: string, bytes: Uint8Array): Promise<void> {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    await writeFile(temp, bytes);
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw new ContentFileError(`Cannot write ${file}.`, { details: [errorMessage(error)], cause: error });
  }
}
