import { expect } from "chai";
import { createServer } from "node:net";
import { openKuboStore } from "../../oracle/storage/kubo-store.ts";
import { ContentStoreUnavailableError } from "../../oracle/storage/content-store.ts";
import { rejection } from "../util/rejection.ts";

// No kubo daemon exists on these machines: only the unreachable-node path is tested here.

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

describe("storage/kubo-store", () => {
  it("fails to open quickly with ContentStoreUnavailableError when no node answers", async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const started = Date.now();
    const error = await rejection(openKuboStore({ url }));
    expect(error).to.be.instanceOf(ContentStoreUnavailableError);
    expect((error as Error).message).to.contain(url);
    expect(Date.now() - started).to.be.lessThan(2000);
  });

  it("gives ContentStoreUnavailableError from add, get and has when no node answers", async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const store = await openKuboStore({ url, probe: false });
    const cid = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e";
    const started = Date.now();
    expect(await rejection(store.add(new Uint8Array([1, 2, 3])))).to.be.instanceOf(ContentStoreUnavailableError);
    expect(await rejection(store.get(cid))).to.be.instanceOf(ContentStoreUnavailableError);
    expect(await rejection(store.has(cid))).to.be.instanceOf(ContentStoreUnavailableError);
    expect(Date.now() - started).to.be.lessThan(3000);
    await store.close();
  });
});
