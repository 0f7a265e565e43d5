/**
 * A provider's or watchtower's full trace of one request, kept in `<stateDir>/traces/` from
 * submission until the request is settled (Finalized or Refunded), since every move of a game
 * is answered from it. Format: for each layer, a uint32 big-endian length and the layer
 * output's canonical tensor bytes; a decoder's generation is every pass's layers, one pass after
 * the other (committed-run.ts). Written to a temporary file and renamed, so a crash never
 * leaves half a trace.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { BaseError } from "../errors.ts";
import type { Tensor } from "../model/tensor.ts";
import { decodeTensor, encodeTensor } from "../model/tensor-codec.ts";

export class TraceFileError extends BaseError {
  override name = "TraceFileError";
}

export function traceFilePath(stateDir: string, requestId: bigint): string {
  return path.join(stateDir, "traces", `${requestId}.trace`);
}

export function writeTraceFile(file: string, trace: readonly Tensor[]): void {
  const parts = trace.map((tensor) => encodeTensor(tensor));
  const bytes = new Uint8Array(parts.reduce((n, p) => n + 4 + p.length, 0));
  const view = new DataView(bytes.buffer);
  let offset = 0;
  for (const part of parts) {
    view.setUint32(offset, part.length, false);
    bytes.set(part, offset + 4);
    offset += 4 + part.length;
  }
  mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.tmp`;
  writeFileSync(temporary, bytes);
  renameSync(temporary, file);
}

export function readTraceFile(file: string): Tensor[] {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(file));
  } catch (cause) {
    throw new TraceFileError(`Cannot read the trace file ${file}.`, { cause });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const trace: Tensor[] = [];
  for (let offset = 0; offset < bytes.length;) {
    if (offset + 4 > bytes.length) throw new TraceFileError(`The trace file ${file} is truncated.`);
    const length = view.getUint32(offset, false);
    if (offset + 4 + length > bytes.length) throw new TraceFileError(`The trace file ${file} is truncated.`);
    trace.push(decodeTensor(bytes.subarray(offset + 4, offset + 4 + length)));
    offset += 4 + length;
  }
  return trace;
}

export function removeTraceFile(file: string): void {
  rmSync(file, { force: true });
}
