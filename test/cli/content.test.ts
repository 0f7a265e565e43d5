import { expect } from "chai";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { ContentFileError, contentAdd, contentGet } from "../../oracle/cli/content.ts";
import { openEmbeddedStore } from "../../oracle/storage/embedded-store.ts";
import { ContentNotFoundError } from "../../oracle/storage/content-store.ts";
import type { ContentStore } from "../../oracle/storage/content-store.ts";
import { rejection } from "../util/rejection.ts";

describe("cli/content", () => {
  let dir: string;
  let store: ContentStore;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "verity-cli-content-"));
    store = await openEmbeddedStore({ dir: path.join(dir, "store") });
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("adds a file and gets it back to a file or as bytes", async () => {
    const file = path.join(dir, "input.bin");
    await writeFile(file, "some input");
    const added = await contentAdd({ store, file });
    expect(added.size).to.equal(10);
    const out = path.join(dir, "copy.bin");
    const got = await contentGet({ store, cid: added.cid, out });
    expect(got).to.include({ cid: added.cid, size: 10, out });
    expect(await readFile(out, "utf8")).to.equal("some input");
    expect((await readdir(dir)).filter((f) => f.endsWith(".tmp"))).to.deep.equal([]);
    const bytes = (await contentGet({ store, cid: added.cid })).bytes;
    expect(Buffer.from(bytes).toString()).to.equal("some input");
  });

  it("names a missing input file, and passes store errors through", async () => {
    const error = await rejection(contentAdd({ store, file: path.join(dir, "nope.bin") }));
    expect(error).to.be.instanceOf(ContentFileError);
    expect((error as Error).message).to.contain("nope.bin");
    const missing = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e";
    expect(await rejection(contentGet({ store, cid: missing }))).to.be.instanceOf(ContentNotFoundError);
  });
});
