import { expect } from "chai";
import type { Contract } from "ethers";
import { ZeroAddress, getBytes, hexlify } from "ethers";
import { connectSuite } from "../../oracle/chain/connect.ts";
import { deployContract } from "../../oracle/chain/deploy-suite.ts";
import { startLocalSuite, type LocalSuite } from "../../oracle/devnet/local-suite.ts";
import { spawnDaemon, type DaemonLogLine, type SpawnedDaemon } from "../../oracle/devnet/spawn-daemon.ts";
import { FailureReason } from "../../oracle/model/failure-reason.ts";
import { encodeContentInput, encodeInlineInput } from "../../oracle/model/input-envelope.ts";
import { createTensor } from "../../oracle/model/tensor.ts";
import { encodeTensor } from "../../oracle/model/tensor-codec.ts";
import { createSession } from "../../oracle/runtime/create-session.ts";
import { runInference } from "../../oracle/runtime/run-inference.ts";
import { openEmbeddedStore } from "../../oracle/storage/embedded-store.ts";
import { ask, submissionsOf, tempDir, waitForStatus } from "./helpers.ts";

describe("provider daemon against a real local chain", function () {
  this.timeout(120_000);
  const temp = tempDir("verity-daemon-");
  let local: LocalSuite;
  let daemon: SpawnedDaemon;
  let logs: DaemonLogLine[];

  const start = async () => {
    daemon = spawnDaemon({
      config: local.daemonConfig(),
      dir: temp.dir,
      privateKey: local.actors.provider.privateKey,
      onLog: (line) => logs.push(line),
    });
    await daemon.waitForLog((line) => line.msg === "provider daemon started");
  };

  before(async () => {
    logs = [];
    local = await startLocalSuite({ dir: temp.dir });
    await start();
  });

  after(async () => {
    await daemon?.stop();
    await local?.close();
    temp.remove();
  });

  it("serves inline and content-id inputs: Finalized, with the output of a local onnxruntime run", async () => {
    const market = local.suite.inferenceMarket;
    const features = [6.1, 2.8, 4.7, 1.2];
    const tensor = createTensor("float32", [1, 4], features);
    const cid = await local.content.add(encodeTensor(tensor));
    const inline = await ask(local, encodeInlineInput(tensor));
    const byCid = await ask(local, encodeContentInput(cid));
    for (const id of [inline, byCid])
      expect(await waitForStatus(market, id, ["Finalized", "Failed"])).to.equal("Finalized");

    const session = await createSession({ model: local.iris.bytes });
    const expected = hexlify(encodeTensor(await runInference(session, tensor)));
    await session.release();
    expect(hexlify(await market.outputOf(inline))).to.equal(expected);
    expect(hexlify(await market.outputOf(byCid))).to.equal(expected);
    const [served] = await local.suite.providerRegistry.statsOf(local.actors.provider.address);
    expect(served).to.equal(2n);
  });

  it("a consumer whose callback burns all its gas cannot block its own settlement", async () => {
    const burner = (await deployContract(local.actors.user, "GasBurnerConsumer")) as Contract;
    await (await burner.getFunction("setMode")(1)).wait(); // Burn
    const market = connectSuite(local.deployment, local.actors.user).inferenceMarket;
    const deadline = BigInt((await local.rpc.getBlock("latest"))!.timestamp) + 600n;
    const input = getBytes(local.iris.manifest.samples[0]!.inputEnvelope);
    const tx = await market.requestInference(
      local.iris.modelId,
      input,
      local.iris.price,
      deadline,
      await burner.getAddress(),
      1_000_000,
      {
        value: local.iris.price,
      },
    );
    const id = market.interface.parseLog((await tx.wait())!.logs[0]!)!.args.requestId as bigint;
    expect(await waitForStatus(market, id, ["Finalized", "Failed"])).to.equal("Finalized");
    const [callback] = await market.queryFilter(market.filters.CallbackResult(id));
    expect(callback!.args.success).to.equal(false);
    // The daemon tells its operator, with the gas the callback had and what it used.
    const warning = await daemon.waitForLog(
      (line) => line.msg.startsWith("callback failed") && line.requestId === id.toString(),
    );
    expect(warning.level).to.equal("warn");
    expect(warning.callback).to.equal(await burner.getAddress());
    expect(warning.callbackGasLimit).to.equal("1000000");
    expect(warning.callbackGasUsed).to.equal("1000000");
    expect(warning.failure).to.equal("out of gas");
  });

  it("a wrong-shape input ends Failed with InputShapeMismatch and the fee credited back", async () => {
    const market = local.suite.inferenceMarket;
    const before = await market.balanceOf(local.actors.user.address, ZeroAddress);
    const id = await ask(local, encodeInlineInput(createTensor("float32", [1, 3], [1, 2, 3])));
    expect(await waitForStatus(market, id, ["Failed", "Finalized"])).to.equal("Failed");
    const [failed] = await market.queryFilter(market.filters.RequestFailed(id));
    expect(failed!.args.reason).to.equal(BigInt(FailureReason.InputShapeMismatch));
    expect(await market.balanceOf(local.actors.user.address, ZeroAddress)).to.equal(before + local.iris.price);
  });

  it("undecodable input bytes, or a tensor of the wrong length, end Failed with InputUndecodable", async () => {
    const market = local.suite.inferenceMarket;
    const valid = encodeInlineInput(createTensor("float32", [1, 4], [5.1, 3.5, 1.4, 0.2]));
    const inputs = ["0x00ff0102", valid.slice(0, valid.length - 4)]; // garbage; header says 4 floats, 3 follow
    for (const input of inputs) {
      const id = await ask(local, input);
      expect(await waitForStatus(market, id, ["Failed", "Finalized"])).to.equal("Failed");
      const [failed] = await market.queryFilter(market.filters.RequestFailed(id));
      expect(failed!.args.reason).to.equal(BigInt(FailureReason.InputUndecodable));
    }
  });

  it("an input whose content is not there yet is not claimed: kept, tried again at later polls, served once it arrives", async () => {
    const market = local.suite.inferenceMarket;
    // A valid CID of bytes that exist only in another store until the test adds them.
    const bytes = encodeTensor(createTensor("float32", [1, 4], [5, 3, 1.5, 0.2]));
    const elsewhere = await openEmbeddedStore({ dir: `${temp.dir}/elsewhere` });
    const cid = await elsewhere.add(bytes);
    await elsewhere.close();
    const id = await ask(local, encodeContentInput(cid), 120);
    const kept = await daemon.waitForLog(
      (line) =>
        line.msg === "set-up not ready, request kept and tried again at later polls" &&
        line.requestId === id.toString(),
    );
    expect(kept.state).to.equal("seen");
    expect(JSON.stringify(kept.error)).to.include(cid);
    await new Promise((resolve) => setTimeout(resolve, 500)); // a few polls
    expect(await market.statusOf(id)).to.equal(1n); // Pending: never claimed, so never released
    expect(await market.queryFilter(market.filters.RequestClaimed(id))).to.have.length(0);

    expect(await local.content.add(bytes)).to.equal(cid);
    expect(await waitForStatus(market, id, ["Finalized", "Failed"])).to.equal("Finalized");
    await daemon.waitForLog((line) => line.msg === "set-up ready, serving" && line.requestId === id.toString());
    expect(await market.queryFilter(market.filters.RequestReleased(id))).to.have.length(0);
  });

  it("a restart neither misses nor repeats a request", async () => {
    const market = local.suite.inferenceMarket;
    const servedBefore = logs.filter((line) => line.msg === "submitted" || line.msg === "fulfilled").length;
    expect(await daemon.stop()).to.equal(0);
    const input = getBytes(local.iris.manifest.samples[0]!.inputEnvelope);
    const whileDown = [await ask(local, input), await ask(local, input)];
    logs = [];
    await start();
    for (const id of whileDown) expect(await waitForStatus(market, id, ["Finalized"])).to.equal("Finalized");
    for (const id of whileDown) expect(await submissionsOf(market, id)).to.equal(1);
    // The cursor survived: the restarted daemon saw only the two new requests.
    const seen = logs.filter((line) => line.msg === "request seen").map((line) => line.requestId);
    expect(seen).to.deep.equal(whileDown.map(String));
    expect(servedBefore).to.be.greaterThan(0);
  });

  it("serves a request another provider claimed and then released", async () => {
    const market = local.suite.inferenceMarket;
    const other = connectSuite(local.deployment, local.actors.deployer);
    await (await other.providerRegistry.stake({ value: 10n ** 18n })).wait();
    await (await other.providerRegistry.optIn(local.iris.modelId)).wait();
    expect(await daemon.stop()).to.equal(0);
    const id = await ask(local, getBytes(local.iris.manifest.samples[1]!.inputEnvelope));
    await (await other.inferenceMarket.claim(id)).wait();
    logs = [];
    await start();
    await daemon.waitForLog((line) => line.msg === "request not open, skipped" && line.requestId === id.toString());
    await (await other.inferenceMarket.release(id)).wait();
    expect(await waitForStatus(market, id, ["Finalized"])).to.equal("Finalized");
    expect((await market.getRequest(id)).provider).to.equal(local.actors.provider.address);
  });
});
