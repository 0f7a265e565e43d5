import { openContentStore, type ContentStoreConfig } from "../storage/open-content-store.ts";
import type { Command } from "./command.ts";
import { contentAdd, contentGet } from "./content.ts";
import { CliInputError, parseUrl } from "./parse-options.ts";

/** Options that pick the content store: the embedded one in a folder, or a kubo node. */
export const storeOptions = {
  dir: { type: "string" },
  kubo: { type: "string" },
} as const;

export function storeConfig(values: Record<string, string | boolean | undefined>): ContentStoreConfig {
  if (values.kubo !== undefined && values.dir !== undefined)
    throw new CliInputError("--dir and --kubo pick two different stores: give one of them.", {
      details: ["--dir DIR is the embedded store in a folder; --kubo URL a kubo (IPFS) node's RPC API."],
    });
  const kubo =
    (values.kubo as string | undefined) ?? (values.dir === undefined ? process.env.VERITY_KUBO_URL : undefined);
  if (kubo) return { kind: "kubo", url: parseUrl(values.kubo === undefined ? "VERITY_KUBO_URL" : "--kubo", kubo) };
  return {
    kind: "embedded",
    dir: (values.dir as string | undefined) ?? process.env.VERITY_STORAGE_DIR ?? ".verity/content",
  };
}

export const contentAddCommand: Command = {
  summary: "Add a file to the content store and print its content id (CID).",
  usage: "FILE [--dir .verity/content | --kubo URL]",
  options: storeOptions,
  maxPositionals: 1,
  async run(values, [file]) {
    if (!file)
      throw new CliInputError("content add needs a FILE.", { details: [`Usage: verity content add ${this.usage}`] });
    const store = await openContentStore(storeConfig(values));
    try {
      const { cid, size } = await contentAdd({ store, file });
      console.log(`${cid}  (${size} bytes, ${store.kind} store)`);
    } finally {
      await store.close();
    }
  },
};

export const contentGetCommand: Command = {
  summary: "Fetch content by CID to a file (--out) or to standard output.",
  usage: "CID [--out FILE] [--dir .verity/content | --kubo URL]",
  options: { ...storeOptions, out: { type: "string" } },
  maxPositionals: 1,
  async run(values, [cid]) {
    if (!cid)
      throw new CliInputError("content get needs a CID.", { details: [`Usage: verity content get ${this.usage}`] });
    const store = await openContentStore(storeConfig(values));
    try {
      const result = await contentGet({ store, cid, out: values.out as string | undefined });
      if (result.out) console.log(`${cid} → ${result.out} (${result.size} bytes)`);
      else process.stdout.write(result.bytes);
    } finally {
      await store.close();
    }
  },
};
