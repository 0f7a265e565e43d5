import { expect } from "chai";
import { existsSync, renameSync, statSync, truncateSync } from "node:fs";
import path from "node:path";
import { getBytes, hexlify } from "ethers";
import { connectSuite } from "../../oracle/chain/connect.ts";
import { startLocalSuite, type LocalSuite } from "../../oracle/devnet/local-suite.ts";
import { spawnDaemon, type DaemonLogLine, type SpawnedDaemon } from "../../oracle/devnet/spawn-daemon.ts";
import { encodeContentInput } from "../../oracle/model/input-envelope.ts";
import { createTensor } from "../../oracle/model/tensor.ts";
import { encodeTensor } from "../../oracle/model/tensor-codec.ts";
import { openEmbeddedStore } from "../../oracle/storage/embedded-store.ts";
import { openJobStore } from "../../oracle/store/open-job-store.ts";
import { ask, submissionsOf, tempDir, waitForStatus } from "./helpers.ts";

/** The provider's state file and what becomes of the daemon when it is damaged or gone, and own releases. */
describe("provider daemon: a corrupt, missing or older state file, and requests it released itself", function () {
  this.timeout(180_000);
  const temp = tempDir("verity-store-faults-");
  let local: LocalSuite;
  let daemon: SpawnedDaemon | undefined;
  let logs: DaemonLogLine[] = [];
  const stateFile = () => path.join(temp.dir, "provider", "provider.sqlite");

  const start = (overrides = {}) => {
    logs = [];
    daemon = spawnDaemon({
      config: local.daemonConfig(overrides),
      dir: temp.dir,
      privateKey: local.actors.provider.privateKey,
      onLog: (line) => logs.push(line),
    });
    return daemon;
  };
  /** The provider claims `id` itself, as a daemon would have before it stopped. */
  const claimAsProvider = async (id: bigint) =>
    (await connectSuite(local.deployment, local.actors.provider).inferenceMarket.claim(id)).wait();

  before(async () => {
    local = await startLocalSuite({ dir: temp.dir });
  });

  after(async () => {
    await daemon?.stop();
    await local?.close();
    if (!process.env.KEEP_TEMP) temp.remove();
  });

  it("a truncated state file: exits at once naming the file and the fix; moved away, rebuilt from the chain", async () => {
    const market = local.suite.inferenceMarket;
    const input = getBytes(local.iris.manifest.samples[0]!.inputEnvelope);
    await start().waitForLog((line) => line.msg === "provider daemon started");
    const served = await ask(local, input);
    expect(await waitForStatus(market, served, ["Finalized"])).to.equal("Finalized");
    expect(await daemon!.stop()).to.equal(0);

    truncateSync(stateFile(), Math.floor(statSync(stateFile()).size / 2));
    const claimed = await ask(local, input);
    await claimAsProvider(claimed);

    const broken = start();
    const code = await Promise.race([
      broken.exited(),
      new Promise((r) => setTimeout(() => r("still running"), 30_000)),
    ]);
    expect(code).to.equal(1);
    const message = broken.stderr.join("\n");
    expect(message).to.include(`The state file ${stateFile()} is corrupt`);
    expect(message).to.include(`mv ${stateFile()} ${stateFile()}.corrupt`);
    expect(logs.some((line) => line.msg === "poll failed, retrying")).to.equal(false);

    // The fix the message gives: the file moved away, the daemon rebuilds from the chain and
    // serves the request claimed before, once; the one it served before stays served once.
    renameSync(stateFile(), `${stateFile()}.corrupt`);
    for (const suffix of ["-wal", "-shm"])
      if (existsSync(stateFile() + suffix)) renameSync(stateFile() + suffix, `${stateFile()}.corrupt${suffix}`);
    await start().waitForLog((line) => line.msg === "provider daemon started");
    expect(await waitForStatus(market, claimed, ["Finalized", "Refunded"])).to.equal("Finalized");
    expect(await submissionsOf(market, claimed)).to.equal(1);
    expect(await submissionsOf(market, served)).to.equal(1);
    await daemon!.stop();
  });

  it("a state file from before request params were kept: its claim is served once, with the params from the chain", async () => {
    const market = local.suite.inferenceMarket;
    const input = getBytes(local.iris.manifest.samples[1]!.inputEnvelope);
    // Through the consumer: the callback and its gas limit, which the old rows lack, are committed to.
    const deadline = BigInt((await local.rpc.getBlock("latest"))!.timestamp) + 600n;
    const receipt = (await (await local.consumer.ask(input, deadline, { value: local.iris.price })).wait())!;
    const event = receipt.logs
      .map((log) => market.interface.parseLog(log))
      .find((parsed) => parsed?.name === "InferenceRequested")!;
    const id = event.args.requestId as bigint;
    await claimAsProvider(id);

    // What an older daemon left: the claimed job without callback, callback gas limit, requester
    // or fee (no such columns), and the cursor past the request, so its event is not read again.
    const stateDir = path.join(temp.dir, "before-params");
    const openState = () =>
      openJobStore({ stateDir, chainId: local.deployment.chainId, market: local.deployment.contracts.inferenceMarket });
    const old = openState();
    const block = BigInt(receipt.blockNumber);
    old.recordRequests(
      [{ requestId: id, modelId: local.iris.modelId, input, deadline, blockNumber: block }],
      "market-requests",
      block,
    );
    old.transition(id, "claimed");
    old.db.exec("ALTER TABLE jobs DROP COLUMN callback; ALTER TABLE jobs DROP COLUMN callback_gas_limit;");
    old.close();

    await start({ stateDir }).waitForLog((line) => line.msg === "provider daemon started");
    expect(await waitForStatus(market, id, ["Finalized", "Refunded"])).to.equal("Finalized");
    expect(await submissionsOf(market, id)).to.equal(1);
    // The callback ran with the gas limit committed to: the consumer has the result.
    expect(await local.consumer.resultOf(id)).to.equal(hexlify(await market.outputOf(id)));
    await daemon!.stop();

    const state = openState();
    expect(state.getJob(id)).to.include({
      state: "done",
      requester: event.args.requester,
      fee: event.args.fee,
      callback: event.args.callback,
      callbackGasLimit: event.args.callbackGasLimit,
    });
    state.close();
  });

  it("a request it released itself (input content missing) is served once the content is there", async () => {
    const market = local.suite.inferenceMarket;
    const tensor = encodeTensor(createTensor("float32", [1, 4], [5.9, 3.0, 5.1, 1.8]));
    // The content id of bytes the daemon's store does not have yet.
    const elsewhere = await openEmbeddedStore({ dir: path.join(temp.dir, "elsewhere") });
    const cid = await elsewhere.add(tensor);
    await elsewhere.close();

    // Any content missing after the claim releases at once: the deadline is within the margin.
    await start({ jobs: { releaseMarginSec: 100_000 } }).waitForLog((line) => line.msg === "provider daemon started");
    const id = await ask(local, encodeContentInput(cid));
    await daemon!.waitForLog((line) => line.msg === "set-up not ready, request kept and tried again at later polls");
    await claimAsProvider(id); // as if claimed before the content went missing
    await daemon!.waitForLog(
      (line) => line.msg === "request we released is open again, serving it once its set-up is ready",
    );
    expect(await waitForStatus(market, id, ["Pending"])).to.equal("Pending");

    expect(await local.content.add(tensor)).to.equal(cid);
    expect(await waitForStatus(market, id, ["Finalized", "Refunded"])).to.equal("Finalized");
    expect(await submissionsOf(market, id)).to.equal(1);
  });
});
