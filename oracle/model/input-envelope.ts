/**
 * The `input` bytes of an on-chain request: a one-byte kind, then the payload.
 *
 *   0x00 ‖ canonical tensor bytes    the tensor inline (small inputs, in calldata)
 *   0x01 ‖ UTF-8 CID string          a content id of canonical tensor bytes in the content store
 *
 * The CID is carried as text, not parsed here: the storage layer owns CID semantics. We only
 * insist on a short, printable ASCII string (every multibase CID encoding is one) so that junk
 * fails at decoding time rather than as a confusing store lookup.
 */
import { BaseError } from "../errors.ts";
import { FailureReason } from "./failure-reason.ts";
import { decodeTensor, encodeTensor, TensorDecodeError } from "./tensor-codec.ts";
import type { Tensor } from "./tensor-codec.ts";

export const InputKind = { inline: 0x00, content: 0x01 } as const;

/** Longest CID accepted, in bytes; real CIDs are under 100. */
export const maxCidLength = 256;

export type InputEnvelope = { kind: "inline"; tensor: Tensor } | { kind: "content"; cid: string };

export class InputEnvelopeError extends BaseError {
  override name = "InputEnvelopeError";
  readonly failureReason: FailureReason;

  constructor(shortMessage: string, { details, cause }: { details?: string[]; cause?: unknown } = {}) {
    super(shortMessage, { details, cause });
    // An inline tensor that is merely too large keeps that more specific reason.
    this.failureReason = cause instanceof TensorDecodeError ? cause.failureReason : FailureReason.InputUndecodable;
  }
}

/** Content fetched for a `content` input that is not a canonical tensor. */
export class InputContentError extends BaseError {
  override name = "InputContentError";
  readonly failureReason: FailureReason;

  constructor(shortMessage: string, { details, cause }: { details?: string[]; cause?: unknown } = {}) {
    super(shortMessage, { details, cause });
    this.failureReason =
      cause instanceof TensorDecodeError && cause.failureReason === FailureReason.InputTooLarge
        ? FailureReason.InputTooLarge
        : FailureReason.InputContentInvalid;
  }
}

export function encodeInlineInput(tensor: Tensor): Uint8Array {
  const body = encodeTensor(tensor);
  const bytes = new Uint8Array(1 + body.length);
  bytes[0] = InputKind.inline;
  bytes.set(body, 1);
  return bytes;
}

export function encodeContentInput(cid: string): Uint8Array {
  const problem = cidProblem(cid);
  if (problem !== undefined) throw new InputEnvelopeError("Invalid content id.", { details: [problem] });
  const body = new TextEncoder().encode(cid);
  const bytes = new Uint8Array(1 + body.length);
  bytes[0] = InputKind.content;
  bytes.set(body, 1);
  return bytes;
}

/** Decodes request input bytes. Throws `InputEnvelopeError` (with the tensor error as cause). */
export function decodeInputEnvelope(bytes: Uint8Array): InputEnvelope {
  if (!(bytes instanceof Uint8Array))
    throw new InputEnvelopeError("Input bytes must be a Uint8Array.", { details: [`Got ${typeof bytes}.`] });
  if (bytes.length === 0) throw new InputEnvelopeError("Input is empty.", { details: ["Expected a kind byte."] });
  const kind = bytes[0]!;
  const body = bytes.subarray(1);
  if (kind === InputKind.inline) {
    try {
      return { kind: "inline", tensor: decodeTensor(body) };
    } catch (error) {
      const reason = error instanceof TensorDecodeError ? error.shortMessage : String(error);
      throw new InputEnvelopeError("Inline input is not a canonical tensor.", {
        details: [reason, ...(error instanceof TensorDecodeError ? error.details : [])],
        cause: error,
      });
    }
  }
  if (kind === InputKind.content) {
    let cid: string;
    try {
      cid = new TextDecoder("utf-8", { fatal: true }).decode(body);
    } catch (error) {
      throw new InputEnvelopeError("Content input is not valid UTF-8.", { cause: error });
    }
    const problem = cidProblem(cid);
    if (problem !== undefined)
      throw new InputEnvelopeError("Content input holds an invalid content id.", { details: [problem] });
    return { kind: "content", cid };
  }
  throw new InputEnvelopeError(`Unknown input kind 0x${kind.toString(16).padStart(2, "0")}.`, {
    details: ["Expected 0x00 (inline tensor) or 0x01 (content id)."],
  });
}

/**
 * Decodes the bytes fetched for a `content` input. Throws `InputContentError` (reported as
 * InputContentInvalid, or InputTooLarge for an oversized tensor).
 */
export function decodeContentTensor(bytes: Uint8Array, cid: string): Tensor {
  try {
    return decodeTensor(bytes);
  } catch (error) {
    const reason = error instanceof TensorDecodeError ? error.shortMessage : String(error);
    throw new InputContentError(`Content ${cid} is not a canonical tensor.`, { details: [reason], cause: error });
  }
}

function cidProblem(cid: unknown): string | undefined {
  if (typeof cid !== "string") return `Expected a string, got ${typeof cid}.`;
  if (cid.length === 0) return "The content id is empty.";
  if (cid.length > maxCidLength)
    return `The content id is ${cid.length} characters; at most ${maxCidLength} are allowed.`;
  if (!/^[\x21-\x7e]+$/.test(cid)) return "The content id must be printable ASCII without spaces.";
  return undefined;
}
