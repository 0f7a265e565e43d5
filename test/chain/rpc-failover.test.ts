/**
 * The failover provider against real servers on 127.0.0.1: a proxy that hangs, resets or
 * refuses in front of an in-process Hardhat node, and the node itself as the second URL.
 */
import { expect } from "chai";
import { createRpcProvider } from "../../oracle/chain/connect.ts";
import type { FailoverJsonRpcProvider } from "../../oracle/chain/failover-provider.ts";
import { startDevnet, type Devnet } from "../../oracle/devnet/start-devnet.ts";
import { startRpcProxy, type RpcProxy } from "../../oracle/devnet/rpc-proxy.ts";

async function timed<T>(promise: Promise<T>): Promise<{ value: T; ms: number }> {
  const start = Date.now();
  const value = await promise;
  return { value, ms: Date.now() - start };
}

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("chain/failover-provider: rpcUrls and the RPC timeout", function () {
  this.timeout(60_000);
  let devnet: Devnet;
  let proxy: RpcProxy;
  const providers: FailoverJsonRpcProvider[] = [];
  const provider = (urls: string[], timeoutMs = 400) => {
    const created = createRpcProvider(urls, 100, { timeoutMs, recheckMs: 150 });
    providers.push(created);
    return created;
  };

  before(async () => {
    devnet = await startDevnet();
  });
  beforeEach(async () => {
    proxy = await startRpcProxy(devnet.url);
  });
  afterEach(async () => {
    for (const created of providers.splice(0)) created.destroy();
    await proxy.close();
  });
  after(async () => {
    await devnet?.close();
  });

  it("a hanging first URL costs one timeout, then calls go to the second without waiting", async () => {
    await proxy.setMode("hang");
    const rpc = provider([proxy.url, devnet.url]);
    const first = await timed(rpc.getBlockNumber());
    expect(first.ms).to.be.within(400, 2_000);
    expect(rpc.activeUrl).to.equal(devnet.url);
    expect(rpc.endpoints()[0]).to.include({ up: false });
    const next = await timed(rpc.getBalance("0x" + "11".repeat(20)));
    expect(next.ms).to.be.below(300);
  });

  it("goes back to the first URL when it recovers, and moves off it again when it dies mid-run", async () => {
    await proxy.setMode("refuse");
    const rpc = provider([proxy.url, devnet.url]);
    await rpc.getBlockNumber();
    expect(rpc.activeUrl).to.equal(devnet.url);

    await proxy.setMode("pass");
    await until(() => rpc.activeUrl === proxy.url);
    const before = proxy.relayed;
    await rpc.getBlockNumber();
    expect(proxy.relayed).to.be.above(before);

    await proxy.setMode("reset");
    const during = await timed(rpc.getBlockNumber());
    expect(during.ms).to.be.below(1_000); // a reset fails at once: no timeout to wait for
    expect(rpc.activeUrl).to.equal(devnet.url);
    expect(rpc.endpoints()[0]!.lastError).to.be.a("string");
  });

  it("one URL that hangs fails the call after the timeout instead of ethers' five minutes", async () => {
    await proxy.setMode("hang");
    const rpc = provider([proxy.url], 300);
    const start = Date.now();
    const error = await rpc.getBlockNumber().then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).to.be.instanceOf(Error);
    expect(Date.now() - start).to.be.below(5_000);
  });

  it("a JSON-RPC error is an answer: it is returned, and the URL stays in use", async () => {
    const rpc = provider([proxy.url, devnet.url]);
    const error = await rpc.send("eth_noSuchMethod", []).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).to.be.instanceOf(Error);
    expect(rpc.activeUrl).to.equal(proxy.url);
    expect(rpc.endpoints().every((endpoint) => endpoint.up)).to.equal(true);
  });
});
