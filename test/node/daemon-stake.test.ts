import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { getBytes, parseEther } from "ethers";
import { connectSuite } from "../../oracle/chain/connect.ts";
import { startLocalSuite, type LocalSuite } from "../../oracle/devnet/local-suite.ts";
import { spawnDaemon, type DaemonLogLine, type SpawnedDaemon } from "../../oracle/devnet/spawn-daemon.ts";
import { sleep } from "../../oracle/util/retry.ts";
import { ask, tempDir, waitForStatus } from "./helpers.ts";

/**
 * Each claim reserves stake (the claim penalty here) until its job ends. A provider whose free
 * stake does not cover a claim leaves requests open, says so once with the numbers and the fix,
 * and claims as soon as stake is added or its open jobs end: no crash, no loop of refused claims.
 */
const exec = promisify(execFile);
const bin = path.resolve(import.meta.dirname, "../../bin/verity.js");

describe("provider daemon short of free stake", function () {
  this.timeout(120_000);
  const temp = tempDir("verity-stake-");
  const warning = "not enough free stake to claim, not claiming";
  let local: LocalSuite;
  let daemon: SpawnedDaemon;
  const logs: DaemonLogLine[] = [];

  before(async () => {
    // 2 ETH staked, 3 ETH reserved per claim: no claim fits until the provider stakes more.
    local = await startLocalSuite({ dir: temp.dir, suite: { claimPenalty: parseEther("3") } });
    daemon = spawnDaemon({
      config: local.daemonConfig(),
      dir: temp.dir,
      privateKey: local.actors.provider.privateKey,
      onLog: (line) => logs.push(line),
    });
    await daemon.waitForLog((line) => line.msg === "provider daemon started");
  });

  after(async () => {
    await daemon?.stop();
    await local?.close();
    temp.remove();
  });

  it("leaves requests open and warns once with the numbers and the fix; claims them once stake is added", async () => {
    const market = local.suite.inferenceMarket;
    const registry = local.suite.providerRegistry;
    const input = getBytes(local.iris.manifest.samples[0]!.inputEnvelope);
    const first = await ask(local, input);
    const warned = await daemon.waitForLog((line) => line.msg === warning);
    expect(warned.level).to.equal("warn");
    expect(warned).to.include({ stake: "2000000000000000000", reserved: "0", free: "2000000000000000000" });
    expect(warned.needed).to.equal("3000000000000000000");
    expect(warned.fix).to.include("npx verity provider stake --amount 1.0");

    const second = await ask(local, input);
    await sleep(1500); // a dozen polls with both requests seen
    expect(logs.filter((line) => line.msg === warning)).to.have.length(1);
    expect(logs.filter((line) => line.level === "error")).to.deep.equal([]);
    for (const id of [first, second]) expect(await market.statusOf(id)).to.equal(1n); // Pending
    expect(daemon.child.exitCode).to.equal(null);

    // What the operator sees: stake, reserved and free, and the same fix.
    const { stdout } = await exec(
      process.execPath,
      [bin, "provider", "status", "--rpc", local.devnet.url, "--deployment", local.deploymentFile],
      {
        env: { ...process.env, VERITY_PRIVATE_KEY: local.actors.provider.privateKey },
      },
    );
    expect(stdout).to.match(/^reserved {3}0\.0 ETH/m);
    expect(stdout).to.match(/^free {7}2\.0 ETH \(a claim reserves 3\.0 ETH\)$/m);
    expect(stdout).to.match(/^warning {4}not enough free stake to claim: .*npx verity provider stake --amount 1\.0/m);

    // 3 ETH free: one claim at a time, each released when its result settles.
    await (
      await connectSuite(local.deployment, local.actors.provider).providerRegistry.stake({ value: parseEther("1") })
    ).wait();
    await daemon.waitForLog((line) => line.msg === "stake covers claims again, claiming");
    for (const id of [first, second]) expect(await waitForStatus(market, id, ["Finalized"])).to.equal("Finalized");
    expect(await registry.reservedOf(local.actors.provider.address)).to.equal(0n);
    const [served, failed] = await registry.statsOf(local.actors.provider.address);
    expect([served, failed]).to.deep.equal([2n, 0n]);
    expect(logs.filter((line) => line.level === "error")).to.deep.equal([]);
  });
});
