import { openEmbeddedStore } from "./embedded-store.ts";
import { openKuboStore } from "./kubo-store.ts";
import type { ContentStore } from "./content-store.ts";

/** The `storage` part of the configuration: a folder on this machine or a kubo node. */
export type ContentStoreConfig = { kind: "embedded"; dir: string } | { kind: "kubo"; url: string };

export function openContentStore(config: ContentStoreConfig): Promise<ContentStore> {
  switch (config.kind) {
    case "embedded":
      return openEmbeddedStore({ dir: config.dir });
    case "kubo":
      return openKuboStore({ url: config.url });
  }
}
