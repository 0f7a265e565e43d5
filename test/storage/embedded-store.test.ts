import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm, stat, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { openEmbeddedStore } from "../../oracle/storage/embedded-store.ts";
import {
  ContentIdInvalidError,
  ContentNotFoundError,
  ContentTooLargeError,
} from "../../oracle/storage/content-store.ts";
import type { ContentStore } from "../../oracle/storage/content-store.ts";
import { rejection } from "../util/rejection.ts";

describe("storage/embedded-store", () => {
  let dir: string;
  const open: ContentStore[] = [];
  const openStore = async () => {
    const store = await openEmbeddedStore({ dir });
    open.push(store);
    return store;
  };

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "verity-content-"));
  });
  afterEach(async () => {
    for (const store of open.splice(0)) await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("adds and reads back bytes under a deterministic CID v1", async () => {
    const store = await openStore();
    const bytes = new TextEncoder().encode("hello verity\n");
    const cid = await store.add(bytes);
    // Same as `ipfs add --cid-version 1 --raw-leaves` of these bytes: a raw-codec CID.
    expect(cid).to.match(/^bafkrei[a-z2-7]+$/);
    expect(await store.add(bytes)).to.equal(cid);
    expect(await store.has(cid)).to.equal(true);
    expect(Buffer.from(await store.get(cid)).toString()).to.equal("hello verity\n");
  });

  it("gives a known CID for known bytes (same as kubo)", async () => {
    const store = await openStore();
    // sha256("hello world") as a raw leaf: kubo `add --cid-version 1 --raw-leaves` gives the same.
    expect(await store.add(new TextEncoder().encode("hello world"))).to.equal(
      "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e",
    );
  });

  it("chunks large content into a DAG and reads it back after a reopen", async () => {
    const bytes = randomBytes(700_000); // three 256 KiB chunks
    const first = await openStore();
    const cid = await first.add(bytes);
    expect(cid).to.match(/^bafybei/); // a dag-pb root over raw leaves
    await first.close();
    open.splice(0);
    const second = await openStore();
    expect(Buffer.from(await second.get(cid)).equals(bytes)).to.equal(true);
  });

  it("lets two stores on one folder share content (one adds, the other reads)", async () => {
    const writer = await openStore();
    const reader = await openStore();
    const bytes = randomBytes(600_000);
    const [cidA, cidB] = await Promise.all([writer.add(bytes), reader.add(bytes)]);
    expect(cidA).to.equal(cidB);
    const other = randomBytes(1000);
    const cid = await writer.add(other);
    expect(await reader.has(cid)).to.equal(true);
    expect(Buffer.from(await reader.get(cid)).equals(other)).to.equal(true);
    expect(Buffer.from(await reader.get(cidA)).equals(bytes)).to.equal(true);
    const leftovers = (await readdir(dir, { recursive: true })).filter((f) => f.endsWith(".tmp"));
    expect(leftovers).to.deep.equal([]);
  });

  it("fails promptly with ContentNotFoundError for an unknown CID", async () => {
    const store = await openStore();
    const missing = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e";
    const started = Date.now();
    const error = await rejection(store.get(missing));
    expect(error).to.be.instanceOf(ContentNotFoundError);
    expect(Date.now() - started).to.be.lessThan(1000);
    expect(await store.has(missing)).to.equal(false);
  });

  it("fails with ContentNotFoundError when a leaf block of a DAG is missing", async () => {
    const store = await openStore();
    const cid = await store.add(randomBytes(600_000));
    const files = (await readdir(dir, { recursive: true })).filter((f) => f.endsWith(".data"));
    expect(files.length).to.equal(4); // three leaves and a root
    // Remove one full-size leaf: the read must fail promptly, not hang or return short data.
    const sizes = await Promise.all(files.map(async (f) => (await stat(path.join(dir, f))).size));
    const leaf = files[sizes.indexOf(262_144)];
    await unlink(path.join(dir, leaf!));
    expect(await store.has(cid)).to.equal(true); // the root is still there
    const error = await rejection(store.get(cid));
    expect(error).to.be.instanceOf(ContentNotFoundError);
  });

  it("refuses a block whose bytes do not match its CID", async () => {
    const store = await openStore();
    const cid = await store.add(new TextEncoder().encode("original"));
    const [file] = (await readdir(dir, { recursive: true })).filter((f) => f.endsWith(".data"));
    await writeFile(path.join(dir, file!), "tampered");
    const error = await rejection(store.get(cid));
    expect(error).to.be.instanceOf(ContentNotFoundError);
    expect((error as Error).message).to.contain("corrupt");
  });

  it("refuses content past maxBytes", async () => {
    const store = await openStore();
    const cid = await store.add(randomBytes(600_000));
    const error = await rejection(store.get(cid, { maxBytes: 300_000 }));
    expect(error).to.be.instanceOf(ContentTooLargeError);
    expect((await store.get(cid, { maxBytes: 600_000 })).byteLength).to.equal(600_000);
  });

  it("names an unparsable CID", async () => {
    const store = await openStore();
    const error = await rejection(store.get("not-a-cid"));
    expect(error).to.be.instanceOf(ContentIdInvalidError);
    expect((error as Error).message).to.contain("not-a-cid");
  });

  it("honours an aborted signal", async () => {
    const store = await openStore();
    const error = await rejection(store.add(randomBytes(10), { signal: AbortSignal.abort() }));
    expect((error as Error).name).to.equal("AbortError");
  });
});
