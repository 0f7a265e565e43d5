/**
 * The daemon loses no request: one for a model it serves whose set-up is not there yet (here a
 * Zk model's folder) is kept, unclaimed, and served once the set-up is there, also across a
 * restart; a claim it could not deliver is expired by the daemon itself once its deadline
 * passes; with `jobs.expireOthers` it also refunds the past-deadline requests of others.
 */
import { cpSync, renameSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { expect } from "chai";
import { getBytes, ZeroAddress } from "ethers";
import { connectSuite } from "../../oracle/chain/connect.ts";
import type { VerityConfigInput } from "../../oracle/config/schema.ts";
import { startLocalSuite, type LocalSuite } from "../../oracle/devnet/local-suite.ts";
import { spawnDaemon, type SpawnedDaemon } from "../../oracle/devnet/spawn-daemon.ts";
import { irisModelDir, registerZkModel, type ZkModelOnChain } from "../../oracle/devnet/zk-suite.ts";
import type { Tensor } from "../../oracle/model/tensor.ts";
import { encodeRequestInput } from "../../oracle/sdk/encode-request-input.ts";
import { ask, submissionsOf, tempDir, waitForStatus } from "./helpers.ts";

describe("provider daemon: requests whose set-up comes later, and stale requests", function () {
  this.timeout(120_000);
  const temp = tempDir("verity-setup-");
  let local: LocalSuite;
  let zkA: ZkModelOnChain;
  let zkB: ZkModelOnChain;
  let zkC: ZkModelOnChain;
  let daemon: SpawnedDaemon | undefined;
  const folderA = path.join(temp.dir, "models/zk-a");
  const folderB = path.join(temp.dir, "models/zk-b");
  const folderC = path.join(temp.dir, "models/zk-c");
  const input: Tensor = { dtype: "int8", shape: [1, 4], data: Int8Array.from([-52, 67, -93, -107]) };

  const config = (overrides: Partial<VerityConfigInput> = {}) =>
    local.daemonConfig({
      models: [
        local.iris.modelId.toString(),
        { id: zkA.modelId.toString(), folder: folderA },
        { id: zkB.modelId.toString(), folder: folderB },
        { id: zkC.modelId.toString(), folder: folderC },
      ],
      ...overrides,
    });

  const start = async (overrides: Partial<VerityConfigInput> = {}) => {
    daemon = spawnDaemon({ config: config(overrides), dir: temp.dir, privateKey: local.actors.provider.privateKey });
    await daemon.waitForLog((line) => line.msg === "provider daemon started");
    return daemon;
  };

  /** Puts the built model folder in place in one step, as `mv` of a finished build would. */
  const install = (folder: string) => {
    const staging = `${folder}.partial`;
    for (const part of ["vqm", "zk"])
      cpSync(path.join(irisModelDir, part), path.join(staging, part), { recursive: true });
    renameSync(staging, folder);
  };

  const askZk = async (zk: ZkModelOnChain, ttlSec = 600): Promise<bigint> => {
    const market = connectSuite(local.deployment, local.actors.user).inferenceMarket;
    const deadline = BigInt((await local.rpc.getBlock("latest"))!.timestamp) + BigInt(ttlSec);
    const tx = await market.requestInference(
      zk.modelId,
      encodeRequestInput(input),
      zk.price,
      deadline,
      ZeroAddress,
      0,
      {
        value: zk.price,
      },
    );
    return market.interface.parseLog((await tx.wait())!.logs[0]!)!.args.requestId as bigint;
  };

  const kept = (id: bigint) =>
    daemon!.waitForLog(
      (line) =>
        line.msg === "set-up not ready, request kept and tried again at later polls" &&
        line.requestId === id.toString(),
    );

  const advance = async (seconds: number) => {
    await local.rpc.send("evm_increaseTime", [seconds]);
    await local.rpc.send("evm_mine", []);
  };

  before(async () => {
    local = await startLocalSuite({ dir: temp.dir });
    zkA = await registerZkModel(local);
    zkB = await registerZkModel(local);
    zkC = await registerZkModel(local);
  });

  after(async () => {
    await daemon?.stop();
    await local?.close();
    temp.remove();
  });

  it("a request for a Zk model whose folder is not built yet is kept unclaimed, and served once the folder is there", async () => {
    await start();
    const market = local.suite.inferenceMarket;
    const id = await askZk(zkA);
    const line = await kept(id);
    expect(line.state).to.equal("seen");
    expect(JSON.stringify(line.error)).to.include(folderA);
    await new Promise((resolve) => setTimeout(resolve, 500)); // a few polls
    expect(await market.statusOf(id)).to.equal(1n); // Pending: nothing claimed, nothing released
    expect(await market.queryFilter(market.filters.RequestClaimed(id))).to.have.length(0);

    install(folderA);
    expect(await waitForStatus(market, id, ["Finalized", "Failed", "Refunded"])).to.equal("Finalized");
    expect(await submissionsOf(market, id)).to.equal(1);
    expect(await market.queryFilter(market.filters.RequestReleased(id))).to.have.length(0);
    await daemon!.waitForLog((l) => l.msg === "set-up ready, serving" && l.requestId === id.toString());
  });

  it("across a restart: the kept request is served by the next start once its set-up is there", async () => {
    const market = local.suite.inferenceMarket;
    const id = await askZk(zkB);
    await kept(id);
    expect(await daemon!.stop()).to.equal(0);
    install(folderB);
    await start();
    expect(await waitForStatus(market, id, ["Finalized", "Failed", "Refunded"])).to.equal("Finalized");
    expect(await submissionsOf(market, id)).to.equal(1);
    // Served from the job store: the restarted daemon's cursor was already past the request.
    expect(daemon!.lines.filter((l) => l.msg === "request seen" && l.requestId === id.toString())).to.have.length(0);
  });

  it("a claimed job whose set-up is missing keeps its claim while there is time, else is released before its deadline", async () => {
    const market = local.suite.inferenceMarket;
    expect(await daemon!.stop()).to.equal(0);
    // Claimed by the daemon's account (say, before its model folder was moved away).
    const asProvider = connectSuite(local.deployment, local.actors.provider).inferenceMarket;
    const soon = await askZk(zkC, 30); // less than jobs.releaseMarginSec (60 s) left
    const later = await askZk(zkC, 600);
    for (const id of [soon, later]) await (await asProvider.claim(id)).wait();

    await start();
    const released = await daemon!.waitForLog(
      (l) => l.msg === "content or set-up unavailable near the deadline, releasing the request",
    );
    expect(released.requestId).to.equal(soon.toString());
    expect(await waitForStatus(market, soon, ["Pending"])).to.equal("Pending"); // open to another provider
    expect((await kept(later)).state).to.equal("claimed");
    expect(await market.statusOf(later)).to.equal(2n); // still Claimed by us

    install(folderC);
    expect(await waitForStatus(market, later, ["Finalized", "Failed", "Refunded"])).to.equal("Finalized");
    expect(await market.queryFilter(market.filters.RequestReleased(later))).to.have.length(0);
  });

  it("SIGTERM while a claimed job's model is being fetched keeps the claim; the next start serves it", async () => {
    const market = local.suite.inferenceMarket;
    expect(await daemon!.stop()).to.equal(0);
    // Less than jobs.releaseMarginSec left: were the aborted fetch taken for missing content,
    // the job would be released.
    const id = await ask(local, getBytes(local.iris.manifest.samples[2]!.inputEnvelope), 50);
    await (await connectSuite(local.deployment, local.actors.provider).inferenceMarket.claim(id)).wait();
    // A kubo node that answers the start-up probe and never delivers content.
    let fetching: () => void = () => {};
    const fetchSeen = new Promise<void>((resolve) => (fetching = resolve));
    const kubo = createServer((request, response) => {
      if (request.url?.startsWith("/api/v0/version"))
        return void response.writeHead(200, { "content-type": "application/json" }).end('{"Version":"0.30.0"}');
      fetching(); // /api/v0/cat: hold the request open
    });
    await new Promise<void>((resolve) => kubo.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(kubo.address() as AddressInfo).port}`;
      await start({ storage: { kind: "kubo", url } });
      await fetchSeen;
      expect(await daemon!.stop()).to.equal(0);
      const interrupted = daemon!.lines.find((l) => l.msg.startsWith("job step interrupted by the stop"));
      expect(interrupted?.requestId).to.equal(id.toString());
      expect(daemon!.lines.filter((l) => l.msg.includes("releasing"))).to.have.length(0);
      expect(await market.statusOf(id)).to.equal(2n); // still Claimed by us
    } finally {
      kubo.closeAllConnections();
      kubo.close();
    }
    await start();
    expect(await waitForStatus(market, id, ["Finalized", "Refunded", "Failed"])).to.equal("Finalized");
    expect(await market.queryFilter(market.filters.RequestReleased(id))).to.have.length(0);
  });

  it("a claim of its own past its deadline is expired by the daemon: requester refunded with the claim penalty", async () => {
    const market = local.suite.inferenceMarket;
    expect(await daemon!.stop()).to.equal(0);
    // The daemon's account claimed it (say, just before a long outage) and never delivered.
    const id = await ask(local, getBytes(local.iris.manifest.samples[0]!.inputEnvelope), 60);
    await (await connectSuite(local.deployment, local.actors.provider).inferenceMarket.claim(id)).wait();
    await advance(61);
    const credit = await market.balanceOf(local.actors.user.address, ZeroAddress);
    const penalty = await market.claimPenalty();

    await start();
    expect(await waitForStatus(market, id, ["Refunded", "Finalized"])).to.equal("Refunded");
    const warned = await daemon!.waitForLog((l) =>
      l.msg.startsWith("deadline passed before submission, expired our claim"),
    );
    expect(warned.level).to.equal("warn");
    expect(warned.requestId).to.equal(id.toString());
    const [refunded] = await market.queryFilter(market.filters.RequestRefunded(id));
    expect(refunded!.args.penalty).to.equal(penalty);
    expect(await market.balanceOf(local.actors.user.address, ZeroAddress)).to.equal(
      credit + local.iris.price + penalty,
    );
  });

  it("jobs.expireOthers: it refunds the requests it saw that nobody served by their deadline", async () => {
    const market = local.suite.inferenceMarket;
    expect(await daemon!.stop()).to.equal(0);
    const input = getBytes(local.iris.manifest.samples[1]!.inputEnvelope);
    // One claimed by another provider that then went silent, one left open (its deadline too
    // close for the daemon to claim).
    const other = connectSuite(local.deployment, local.actors.deployer);
    await (await other.providerRegistry.stake({ value: 10n ** 18n })).wait();
    await (await other.providerRegistry.optIn(local.iris.modelId)).wait();
    const silent = await ask(local, input, 60);
    await (await other.inferenceMarket.claim(silent)).wait();
    const unclaimed = await ask(local, input, 3);

    await start({ jobs: { expireOthers: true } });
    for (const id of [silent, unclaimed])
      await daemon!.waitForLog((l) => l.msg.endsWith("skipped") && l.requestId === id.toString());
    expect(await market.statusOf(unclaimed)).to.equal(1n); // Pending until its deadline

    await advance(61);
    for (const id of [silent, unclaimed])
      expect(await waitForStatus(market, id, ["Refunded"], 20_000)).to.equal("Refunded");
    // The daemon logs an expiry after its receipt, which may come after the status we saw: wait
    // for each line (and it may also expire the one released in the test above, open since).
    for (const id of [silent, unclaimed])
      await daemon!.waitForLog(
        (l) => l.msg === "expired a request past its deadline, requester refunded" && l.requestId === id.toString(),
      );
    const [refunded] = await market.queryFilter(market.filters.RequestRefunded(silent));
    expect(refunded!.args.penalty).to.equal(await market.claimPenalty()); // from the silent provider
    const byDaemon = await local.rpc.getTransaction(refunded!.transactionHash);
    expect(byDaemon!.from).to.equal(local.actors.provider.address);
  });
});
