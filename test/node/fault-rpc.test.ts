/**
 * The daemon on two JSON-RPC URLs (`rpcUrls`): a first URL that hangs, a node that dies
 * mid-run and comes back. Requests are served throughout, each once, and calls go back to the
 * first URL when it recovers.
 */
import { expect } from "chai";
import { getBytes } from "ethers";
import { startLocalSuite, type LocalSuite } from "../../oracle/devnet/local-suite.ts";
import { startRpcProxy, type RpcProxy } from "../../oracle/devnet/rpc-proxy.ts";
import { spawnDaemon, type SpawnedDaemon } from "../../oracle/devnet/spawn-daemon.ts";
import { ask, submissionsOf, tempDir, waitForStatus } from "./helpers.ts";

describe("provider daemon on rpcUrls: a hanging first URL, a node that dies mid-run and comes back", function () {
  this.timeout(120_000);
  const temp = tempDir("verity-fault-rpc-");
  let local: LocalSuite;
  let proxy: RpcProxy;
  let daemon: SpawnedDaemon | undefined;

  before(async () => {
    local = await startLocalSuite({ dir: temp.dir });
    proxy = await startRpcProxy(local.devnet.url);
  });

  after(async () => {
    await daemon?.kill();
    await proxy?.close();
    await local?.close();
    temp.remove();
  });

  it("starts and serves through the second URL while the first hangs, goes back to it, and leaves it when it dies", async () => {
    await proxy.setMode("hang");
    const started = Date.now();
    daemon = spawnDaemon({
      config: local.daemonConfig({
        rpcUrl: undefined,
        rpcUrls: [proxy.url, local.devnet.url],
        chain: { pollIntervalMs: 100, rpcTimeoutMs: 1_000, rpcRecheckMs: 300 },
      }),
      dir: temp.dir,
      privateKey: local.actors.provider.privateKey,
    });
    await daemon.waitForLog((line) => line.msg === "provider daemon started");
    expect(Date.now() - started).to.be.below(30_000);
    const market = local.suite.inferenceMarket;
    const input = getBytes(local.iris.manifest.samples[0]!.inputEnvelope);
    const first = await ask(local, input);
    expect(await waitForStatus(market, first, ["Finalized"], 20_000)).to.equal("Finalized");
    expect(proxy.relayed).to.equal(0);

    await proxy.setMode("pass");
    await daemon.waitForLog(
      (line) => line.msg === "JSON-RPC calls moved to another URL" && line.reason === "recovered",
    );
    const second = await ask(local, input);
    expect(await waitForStatus(market, second, ["Finalized"], 20_000)).to.equal("Finalized");
    const relayedBefore = proxy.relayed;
    expect(relayedBefore).to.be.above(0);

    await proxy.setMode("refuse"); // the preferred node dies mid-run
    const third = await ask(local, input);
    expect(await waitForStatus(market, third, ["Finalized"], 20_000)).to.equal("Finalized");
    await proxy.setMode("pass");
    const fourth = await ask(local, input);
    expect(await waitForStatus(market, fourth, ["Finalized"], 20_000)).to.equal("Finalized");
    for (const id of [first, second, third, fourth]) expect(await submissionsOf(market, id)).to.equal(1);
    expect(await daemon.stop()).to.equal(0);
  });
});
