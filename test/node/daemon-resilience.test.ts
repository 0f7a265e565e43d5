import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { expect } from "chai";
import { getBytes } from "ethers";
import { startLocalSuite, type LocalSuite } from "../../oracle/devnet/local-suite.ts";
import { startRpcProxy, type RpcProxy } from "../../oracle/devnet/rpc-proxy.ts";
import { spawnDaemon, type SpawnedDaemon } from "../../oracle/devnet/spawn-daemon.ts";
import { ask, submissionsOf, tempDir, waitForStatus } from "./helpers.ts";

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("provider daemon: RPC outages, health and metrics", function () {
  this.timeout(120_000);
  const temp = tempDir("verity-resilience-");
  let local: LocalSuite;
  let relay: RpcProxy;
  let daemon: SpawnedDaemon | undefined;

  before(async () => {
    local = await startLocalSuite({ dir: temp.dir });
    relay = await startRpcProxy(local.devnet.url);
  });

  after(async () => {
    await daemon?.kill();
    await relay?.close();
    await local?.close();
    temp.remove();
  });

  it("refuses to start with a clear error when the node cannot be reached", async () => {
    const dead = spawnDaemon({
      config: local.daemonConfig({ rpcUrl: `http://127.0.0.1:${await freePort()}` }),
      dir: temp.dir,
      privateKey: local.actors.provider.privateKey,
    });
    expect(await dead.exited()).to.equal(1);
    expect(dead.stderr[0]).to.match(/^error: Cannot reach the JSON-RPC node at http:\/\/127\.0\.0\.1:\d+\.$/);
    expect(dead.stderr).to.include("  Is the node running? Check rpcUrl / rpcUrls / VERITY_RPC_URL.");
  });

  it("rides out a node outage, reports it on /health, and serves what was requested meanwhile", async () => {
    const port = await freePort();
    daemon = spawnDaemon({
      config: local.daemonConfig({ rpcUrl: relay.url, metrics: { port } }),
      dir: temp.dir,
      privateKey: local.actors.provider.privateKey,
    });
    await daemon.waitForLog((line) => line.msg === "metrics and health served");
    const market = local.suite.inferenceMarket;
    const input = getBytes(local.iris.manifest.samples[0]!.inputEnvelope);
    const first = await ask(local, input);
    expect(await waitForStatus(market, first, ["Finalized"])).to.equal("Finalized");
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(health.status).to.equal(200);
    expect(((await health.json()) as { status: string }).status).to.equal("ok");

    await relay.setMode("refuse");
    await daemon.waitForLog((line) => line.msg === "poll failed, retrying");
    const duringOutage = await ask(local, input); // straight to the chain, not through the relay
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await market.statusOf(duringOutage)).to.equal(1n); // still Pending: the daemon cannot see it
    await relay.setMode("pass");
    expect(await waitForStatus(market, duringOutage, ["Finalized"])).to.equal("Finalized");
    expect(await submissionsOf(market, duringOutage)).to.equal(1);

    // The chain says Finalized a moment before the daemon records the job as done.
    await daemon.waitForLog((line) => line.msg === "fulfilled" && line.requestId === duringOutage.toString());
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).to.match(/^verity_up 1$/m);
    expect(metrics).to.match(/^verity_jobs\{state="done"\} [2-9]/m);
    expect(await daemon.stop()).to.equal(0);
  });
});
