/**
 * `/health` answers 503 with a reason for each way the daemon can stop making progress: polls
 * failing (the node down), the head not moving while our transactions wait, the sender stuck,
 * the job store failing; and 200 again once the cause is gone.
 */
import path from "node:path";
import { expect } from "chai";
import { getBytes } from "ethers";
import { startLocalSuite, type LocalSuite } from "../../oracle/devnet/local-suite.ts";
import { startRpcProxy, type RpcProxy } from "../../oracle/devnet/rpc-proxy.ts";
import { spawnDaemon, type SpawnedDaemon } from "../../oracle/devnet/spawn-daemon.ts";
import { assessHealth, type HealthInputs } from "../../oracle/node/assess-health.ts";
import { startMetricsServer, type DaemonStatus } from "../../oracle/node/metrics-server.ts";
import { openJobStore } from "../../oracle/store/open-job-store.ts";
import { ask, tempDir, waitForStatus } from "./helpers.ts";

type HealthBody = { status: string; reasons: string[]; lastPollAgeMs: number | null };

async function health(url: string): Promise<{ code: number; body: HealthBody }> {
  const response = await fetch(`${url}/health`);
  return { code: response.status, body: (await response.json()) as HealthBody };
}

/** Polls `/health` until `match` holds; returns the last answer. */
async function healthUntil(
  url: string,
  match: (answer: { code: number; body: HealthBody }) => boolean,
  timeoutMs = 20_000,
): Promise<{ code: number; body: HealthBody }> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const answer = await health(url);
    if (match(answer)) return answer;
    if (Date.now() > end) throw new Error(`/health never matched; last: ${JSON.stringify(answer)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const base: HealthInputs = {
  now: 100_000,
  startedAt: 0,
  pollIntervalMs: 1000,
  rpcTimeoutMs: 2000,
  lastPollAt: 99_000,
  lastPollError: undefined,
  headBlock: 7n,
  headMovedAt: 99_000,
  sends: { count: 0, oldestStartedAt: undefined },
  storeError: undefined,
  limits: { stalePolls: 10, headStallSec: 60, senderStuckSec: 120 },
};

describe("daemon /health: unhealthy with a reason whenever it cannot make progress", function () {
  this.timeout(120_000);

  describe("assessHealth", () => {
    it("is healthy with recent polls and nothing in flight, even on an idle chain whose head does not move", () => {
      expect(assessHealth({ ...base, headMovedAt: 0 })).to.deep.equal({ healthy: true, reasons: [] });
    });

    it("polls failing for longer than stalePolls intervals plus one RPC timeout", () => {
      const late = { ...base, lastPollAt: 100_000 - 12_001, lastPollError: "connect ECONNREFUSED" };
      expect(assessHealth(late).reasons).to.deep.equal(["polls of the chain failing for 12 s: connect ECONNREFUSED"]);
      expect(assessHealth({ ...late, lastPollAt: 100_000 - 11_999 }).healthy).to.equal(true);
      expect(assessHealth({ ...base, lastPollAt: 0, startedAt: 80_000 }).reasons).to.deep.equal([
        "polls of the chain failing since the start",
      ]);
    });

    it("the head stuck while transactions wait, and the sender stuck, each on its own limit", () => {
      const waiting = { ...base, sends: { count: 2, oldestStartedAt: 100_000 - 61_000 }, headMovedAt: 30_000 };
      expect(assessHealth(waiting).reasons).to.deep.equal([
        "chain head stuck at block 7 for 70 s while 2 transaction(s) wait to be mined",
      ]);
      const older = { ...waiting, sends: { count: 2, oldestStartedAt: 100_000 - 121_000 } };
      expect(assessHealth(older).reasons).to.have.length(2);
      expect(assessHealth(older).reasons[1]).to.equal(
        "sender stuck: the oldest of 2 transaction(s) in flight was started 121 s ago",
      );
      // The head moved since the send started: only the sender's own limit applies.
      expect(assessHealth({ ...waiting, headMovedAt: 99_000 }).healthy).to.equal(true);
    });

    it("the job store failing", () => {
      expect(assessHealth({ ...base, storeError: "database is locked" }).reasons).to.deep.equal([
        "job store failing: database is locked",
      ]);
    });
  });

  it("the health server reads the real job store: a store that cannot answer is 503", async () => {
    const temp = tempDir("verity-health-store-");
    const jobs = openJobStore({ file: path.join(temp.dir, "p.sqlite"), chainId: 1, market: "0x" + "11".repeat(20) });
    const status: DaemonStatus = {
      startedAt: Date.now(),
      account: "0x" + "22".repeat(20),
      chainId: 1,
      lastPollAt: Date.now(),
      lastPollError: undefined,
      headBlock: 1n,
      headMovedAt: Date.now(),
      cursorBlock: 1n,
      jobs: () => jobs.countByState(),
      storeError: undefined,
      sends: () => ({ count: 0, oldestStartedAt: undefined }),
      rpc: () => [],
    };
    const options = { host: "127.0.0.1", port: 0, pollIntervalMs: 1000, rpcTimeoutMs: 1000, health: base.limits };
    const server = await startMetricsServer(options, status);
    try {
      expect((await health(server.url)).code).to.equal(200);
      jobs.close();
      const broken = await health(server.url);
      expect(broken.code).to.equal(503);
      expect(broken.body.reasons).to.have.length(1);
      expect(broken.body.reasons[0]).to.match(/^job store failing: /);
      expect(await (await fetch(`${server.url}/metrics`)).text()).to.match(/^verity_healthy 0$/m);
    } finally {
      await server.close();
      temp.remove();
    }
  });

  describe("a running daemon", () => {
    const temp = tempDir("verity-health-");
    let local: LocalSuite;
    let proxy: RpcProxy;
    let daemon: SpawnedDaemon | undefined;
    let url: string;

    before(async () => {
      local = await startLocalSuite({ dir: temp.dir });
      proxy = await startRpcProxy(local.devnet.url);
      daemon = spawnDaemon({
        config: local.daemonConfig({
          rpcUrl: proxy.url,
          chain: { pollIntervalMs: 100, rpcTimeoutMs: 500, rpcRecheckMs: 200 },
          health: { stalePolls: 3, headStallSec: 1, senderStuckSec: 3 },
        }),
        dir: temp.dir,
        privateKey: local.actors.provider.privateKey,
      });
      url = (await daemon.waitForLog((line) => line.msg === "metrics and health served")).url as string;
    });

    after(async () => {
      await daemon?.kill();
      await proxy?.close();
      await local?.close();
      temp.remove();
    });

    it("serves /health on 127.0.0.1 and is healthy while polling", async () => {
      expect(url).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
      const polled = await healthUntil(url, (answer) => answer.code === 200 && answer.body.lastPollAgeMs !== null);
      expect(polled.body.status).to.equal("ok");
    });

    it("polls failing (the node hangs, then refuses): 503 naming the cause, 200 when it is back", async () => {
      try {
        await proxy.setMode("hang");
        const hung = await healthUntil(url, (answer) => answer.code === 503);
        expect(hung.body.status).to.equal("unhealthy");
        expect(hung.body.reasons).to.have.length(1);
        expect(hung.body.reasons[0]).to.match(/^polls of the chain failing for \d+ s: .*timeout/i);
        await proxy.setMode("refuse");
        await healthUntil(url, (answer) => /ECONNREFUSED/.test(answer.body.reasons.join()));
      } finally {
        await proxy.setMode("pass");
      }
      await healthUntil(url, (answer) => answer.code === 200);
    });

    it("the head not moving while our claim waits to be mined, then the sender stuck; healthy once mined", async () => {
      const input = getBytes(local.iris.manifest.samples[0]!.inputEnvelope);
      const id = await ask(local, input);
      await local.rpc.send("evm_setAutomine", [false]); // the daemon's claim now waits in the pool
      try {
        const stalled = await healthUntil(url, (answer) => answer.body.reasons.some((r) => r.startsWith("chain head")));
        expect(stalled.code).to.equal(503);
        expect(stalled.body.reasons[0]).to.match(
          /^chain head stuck at block \d+ for \d+ s while 1 transaction\(s\) wait/,
        );
        const stuck = await healthUntil(url, (answer) => answer.body.reasons.some((r) => r.startsWith("sender stuck")));
        expect(stuck.code).to.equal(503);
      } finally {
        await local.rpc.send("evm_setAutomine", [true]);
        await local.rpc.send("evm_mine", []);
      }
      expect(await waitForStatus(local.suite.inferenceMarket, id, ["Finalized"])).to.equal("Finalized");
      await healthUntil(url, (answer) => answer.code === 200);
    });
  });
});
