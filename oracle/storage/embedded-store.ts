import { randomBytes } from "node:crypto";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { unixfs } from "@helia/unixfs";
import { FsBlockstore } from "blockstore-fs";
import { NextToLast } from "blockstore-fs/sharding";
import { fixedSize } from "ipfs-unixfs-importer/chunker";
import { balanced } from "ipfs-unixfs-importer/layout";
import type { CID } from "multiformats/cid";
import { identity } from "multiformats/hashes/identity";
import { sha256 } from "multiformats/hashes/sha2";
import {
  collectBytes,
  ContentNotFoundError,
  ContentStoreUnavailableError,
  IMPORT_CHUNK_SIZE,
  IMPORT_MAX_LINKS,
  parseCid,
  toCidString,
} from "./content-store.ts";
import type { ContentStore } from "./content-store.ts";

export type OpenEmbeddedStoreParameters = { dir: string };

/**
 * A content store in a folder: UnixFS over a file blockstore, no libp2p, no daemon. Nothing is
 * fetched from a network, so a missing block fails at once instead of waiting for peers.
 *
 * Several processes may share the folder (the daemon adds, the CLI reads): blocks are written
 * to a unique temporary file and renamed into place, so a reader never sees a partial block,
 * and a file's root block is written after its leaves, so a visible root means a whole file.
 */
export async function openEmbeddedStore({ dir }: OpenEmbeddedStoreParameters): Promise<ContentStore> {
  const root = path.resolve(dir);
  const sharding = new NextToLast();
  const fsStore = new FsBlockstore(root, { shardingStrategy: sharding });
  try {
    await fsStore.open();
  } catch (error) {
    throw new ContentStoreUnavailableError({
      store: `embedded:${root}`,
      reason: `Cannot open or create the folder ${root}.`,
      cause: error,
    });
  }

  const blockPath = (cid: CID) => {
    const { dir: shard, file } = sharding.encode(cid);
    return path.join(root, shard, file);
  };

  const blockstore = {
    async put(cid: CID, value: BlockValue, options?: { signal?: AbortSignal }): Promise<CID> {
      options?.signal?.throwIfAborted();
      // Content-addressed: a block already present has these very bytes.
      if (await fsStore.has(cid)) return cid;
      const bytes = await concat(value);
      const file = blockPath(cid);
      const temp = `${file}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
      await mkdir(path.dirname(file), { recursive: true });
      try {
        await writeFile(temp, bytes, { signal: options?.signal });
        await rename(temp, file);
      } catch (error) {
        await rm(temp, { force: true });
        throw error;
      }
      return cid;
    },
    async *get(cid: CID, options?: { signal?: AbortSignal }): AsyncGenerator<Uint8Array> {
      const bytes = await concat(fsStore.get(cid, options));
      await verifyBlock(cid, bytes);
      yield bytes;
    },
    has: (cid: CID, options?: { signal?: AbortSignal }) => fsStore.has(cid, options),
  };
  const fs = unixfs({ blockstore });

  return {
    kind: "embedded",

    async add(bytes, { signal } = {}) {
      signal?.throwIfAborted();
      // Pinned rather than left to library defaults (helia's changed to 1 MiB chunks), and equal
      // to kubo's `add --cid-version 1 --raw-leaves`, so both stores give the same CIDs.
      const cid = await fs.addBytes(bytes, {
        cidVersion: 1,
        rawLeaves: true,
        chunker: fixedSize({ chunkSize: IMPORT_CHUNK_SIZE }),
        layout: balanced({ maxChildrenPerNode: IMPORT_MAX_LINKS }),
        signal,
      });
      return toCidString(cid);
    },

    async get(cidString, { signal, maxBytes } = {}) {
      signal?.throwIfAborted();
      const cid = parseCid(cidString);
      try {
        return await collectBytes(fs.cat(cid, { signal, offline: true }), { cid: cidString, maxBytes });
      } catch (error) {
        throw mapReadError(error, cidString);
      }
    },

    async has(cidString) {
      // The root is written last, so its presence means the whole file is here.
      return fsStore.has(parseCid(cidString));
    },

    async close() {
      await fsStore.close();
    },
  };
}

type BlockValue = Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

async function concat(value: BlockValue): Promise<Uint8Array> {
  if (value instanceof Uint8Array) return value;
  const parts: Uint8Array[] = [];
  for await (const part of value) parts.push(part);
  return Buffer.concat(parts);
}

class BlockCorruptError extends Error {
  override name = "BlockCorruptError";
}

/** A block whose hash does not match its CID (disk damage, a foreign writer) is refused. */
async function verifyBlock(cid: CID, bytes: Uint8Array): Promise<void> {
  const hasher =
    cid.multihash.code === sha256.code ? sha256 : cid.multihash.code === identity.code ? identity : undefined;
  if (hasher === undefined)
    throw new BlockCorruptError(`unsupported hash 0x${cid.multihash.code.toString(16)} in block ${cid}`);
  const digest = await hasher.digest(bytes);
  if (!equalBytes(digest.bytes, cid.multihash.bytes))
    throw new BlockCorruptError(`block ${cid} does not match its hash`);
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((byte, i) => byte === b[i]);
}

function mapReadError(error: unknown, cid: string): unknown {
  if (!(error instanceof Error)) return error;
  if (error.name === "ContentTooLargeError" || error.name === "AbortError") return error;
  if (error.name === "NotFoundError") {
    return new ContentNotFoundError({ cid, reason: "A block of it is missing from the embedded store.", cause: error });
  }
  if (error.name === "BlockCorruptError") {
    return new ContentNotFoundError({ cid, reason: `A stored block is corrupt: ${error.message}.`, cause: error });
  }
  if (error.name === "NotAFileError" || error.name === "NoContentError") {
    return new ContentNotFoundError({
      cid,
      reason: "The CID names a directory or empty node, not a file.",
      cause: error,
    });
  }
  return error;
}
