/**
 * Attack (found by the fault suite): the node refuses connections while the pipelined sender
 * reads fees. The failed read was kept as a shared promise nobody awaited, so Node reported an
 * unhandled rejection and the CLI ended the daemon. The failure must reach the caller only.
 */
import { expect } from "chai";
import { createFeeCache } from "../../oracle/chain/fee-cache.ts";
import { createRpcProvider } from "../../oracle/chain/connect.ts";
import { startDevnet, type Devnet } from "../../oracle/devnet/start-devnet.ts";
import { startRpcProxy, type RpcProxy } from "../../oracle/devnet/rpc-proxy.ts";

describe("chain/fee-cache: a node refusing connections during a fee read", function () {
  this.timeout(30_000);
  let devnet: Devnet;
  let proxy: RpcProxy;

  before(async () => {
    devnet = await startDevnet();
    proxy = await startRpcProxy(devnet.url);
  });
  after(async () => {
    await proxy?.close();
    await devnet?.close();
  });

  it("rejects the caller and leaves no unhandled rejection behind", async () => {
    const unhandled: unknown[] = [];
    const record = (reason: unknown) => unhandled.push(reason);
    // Mocha's own listener would fail some later test; this one sees it here.
    const others = process.listeners("unhandledRejection");
    process.removeAllListeners("unhandledRejection");
    process.on("unhandledRejection", record);
    const provider = createRpcProvider(proxy.url, 100, { timeoutMs: 1_000 });
    try {
      const fees = createFeeCache({ provider, head: () => undefined, freshMs: 500, rpcTimeoutMs: 1_000 });
      expect((await fees.get()).maxFeePerGas > 0n).to.equal(true);
      await proxy.setMode("refuse");
      const error = await fees.get().then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).to.be.instanceOf(Error);
      for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).to.deep.equal([]);
      await proxy.setMode("pass");
      expect((await fees.get()).maxFeePerGas > 0n).to.equal(true); // a failed read is not cached
    } finally {
      provider.destroy();
      process.removeListener("unhandledRejection", record);
      for (const listener of others) process.on("unhandledRejection", listener);
    }
  });
});
