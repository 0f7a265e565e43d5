import type { Command } from "../cli.ts";
import { openContentStore, type ContentStoreConfig } from "../storage/open-content-store.ts";
import { contentAdd, contentGet } from "./content.ts";

/** Options that pick the content store: the embedded one in a folder, or a kubo node. */
export const storeOptions = {
  dir: { type: "string" },
  kubo: { type: "string" },
} as const;

export function storeConfig(values: Record<string, string | boolean | undefined>): ContentStoreConfig {
  const kubo = (values.kubo as string | undefined) ?? process.env.VERITY_KUBO_URL;
  if (kubo) return { kind: "kubo", url: kubo };
  return {
    kind: "embedded",
    dir: (values.dir as string | undefined) ?? process.env.VERITY_STORAGE_DIR ?? ".verity/content",
  };
}

export const contentAddCommand: Command = {
  summary: "Add a file to the content store and print its content id (CID).",
  usage: "FILE [--dir .verity/content | --kubo URL]",
  options: storeOptions,
  async run(values, [file]) {
    if (!file) throw new Error("content add needs a FILE");
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
  async run(values, [cid]) {
    if (!cid) throw new Error("content get needs a CID");
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
