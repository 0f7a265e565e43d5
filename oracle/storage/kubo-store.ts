import { create } from "kubo-rpc-client";
import {
  collectBytes,
  ContentNotFoundError,
  ContentStoreUnavailableError,
  IMPORT_CHUNK_SIZE,
  isAbortError,
  parseCid,
  toCidString,
} from "./content-store.ts";
import type { ContentStore } from "./content-store.ts";

export type OpenKuboStoreParameters = {
  /** The kubo RPC API, e.g. http://127.0.0.1:5001. */
  url: string;
  /** How long a read may take before the content counts as not retrievable. Default 30 s. */
  catTimeoutMs?: number;
  /** Timeout for quick calls (version probe, block stat, add of small content). Default 5 s. */
  requestTimeoutMs?: number;
  /** Check at open that the node answers, so a wrong URL fails at start-up. Default true. */
  probe?: boolean;
};

/**
 * A content store backed by a kubo (go-ipfs) node through its RPC API. Content is pinned on
 * add with the same import settings as the embedded store (CID v1, raw leaves, 256 KiB chunks).
 *
 * Only the unreachable-node path is tested in this repository (there is no kubo daemon here);
 * add, cat and block stat follow the kubo RPC documentation.
 */
export async function openKuboStore({
  url,
  catTimeoutMs = 30_000,
  requestTimeoutMs = 5_000,
  probe = true,
}: OpenKuboStoreParameters): Promise<ContentStore> {
  const name = `kubo:${url}`;
  let client: ReturnType<typeof create>;
  try {
    client = create({ url });
  } catch (error) {
    throw new ContentStoreUnavailableError({ store: name, reason: `Bad kubo RPC URL "${url}".`, cause: error });
  }

  // kubo-rpc-client ignores numeric client-side timeouts, so every call gets its own signal.
  const deadline = (ms: number, signal?: AbortSignal) =>
    signal === undefined ? AbortSignal.timeout(ms) : AbortSignal.any([signal, AbortSignal.timeout(ms)]);

  const unavailable = (error: unknown, what: string) =>
    new ContentStoreUnavailableError({
      store: name,
      reason: `${what} failed: ${describe(error)}. Is the kubo daemon running and its API at ${url}?`,
      cause: error,
    });

  if (probe) {
    try {
      await client.version({ signal: deadline(requestTimeoutMs) });
    } catch (error) {
      throw unavailable(error, "Version probe");
    }
  }

  return {
    kind: "kubo",

    async add(bytes, { signal } = {}) {
      signal?.throwIfAborted();
      try {
        const result = await client.add(bytes, {
          cidVersion: 1,
          rawLeaves: true,
          chunker: `size-${IMPORT_CHUNK_SIZE}`,
          hashAlg: "sha2-256",
          pin: true,
          // Large content takes longer to send; allow a second per MiB beyond the base.
          signal: deadline(requestTimeoutMs + Math.ceil(bytes.byteLength / 1_048_576) * 1_000, signal),
        });
        return toCidString(result.cid);
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        throw unavailable(error, "Add");
      }
    },

    async get(cidString, { signal, maxBytes } = {}) {
      signal?.throwIfAborted();
      const cid = parseCid(cidString);
      try {
        const chunks = client.cat(cid, {
          // One byte past the limit is enough to tell that the content is too large.
          ...(maxBytes === undefined ? {} : { length: maxBytes + 1 }),
          // Also bound the node's own search for the content.
          timeout: catTimeoutMs,
          signal: deadline(catTimeoutMs, signal),
        });
        return await collectBytes(chunks, { cid: cidString, maxBytes });
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        if (error instanceof Error && error.name === "ContentTooLargeError") throw error;
        if (isAbortError(error)) {
          throw new ContentNotFoundError({
            cid: cidString,
            reason: `Not retrievable within ${catTimeoutMs} ms.`,
            cause: error,
          });
        }
        if (isHttpError(error)) {
          throw new ContentNotFoundError({ cid: cidString, reason: `kubo: ${describe(error)}`, cause: error });
        }
        throw unavailable(error, "Cat");
      }
    },

    async has(cidString) {
      const cid = parseCid(cidString);
      try {
        // offline: answer from the local repository, never from the network.
        await client.block.stat(cid, {
          searchParams: new URLSearchParams({ offline: "true" }),
          signal: deadline(requestTimeoutMs),
        });
        return true;
      } catch (error) {
        if (isHttpError(error)) return false;
        throw unavailable(error, "Block stat");
      }
    },

    async close() {
      // HTTP only: nothing to release.
    },
  };
}

/** The node answered, with an error (as opposed to not answering at all). */
function isHttpError(error: unknown): boolean {
  return error instanceof Error && error.name === "HTTPError";
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : "";
  return `${error.message}${cause}`;
}
