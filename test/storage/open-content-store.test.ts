import { expect } from "chai";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { openContentStore } from "../../oracle/storage/open-content-store.ts";

describe("storage/open-content-store", () => {
  it("opens the embedded store from its config", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "verity-open-"));
    try {
      const store = await openContentStore({ kind: "embedded", dir });
      expect(store.kind).to.equal("embedded");
      const cid = await store.add(new Uint8Array([7]));
      expect(await store.get(cid)).to.deep.equal(new Uint8Array([7]));
      await store.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
