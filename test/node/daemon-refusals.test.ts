import { expect } from "chai";
import { ZeroAddress, keccak256, toUtf8Bytes } from "ethers";
import { connectSuite } from "../../oracle/chain/connect.ts";
import { registerModel } from "../../oracle/chain/register-model.ts";
import { startLocalSuite, type LocalSuite } from "../../oracle/devnet/local-suite.ts";
import { spawnDaemon, type SpawnedDaemon } from "../../oracle/devnet/spawn-daemon.ts";
import { FailureReason } from "../../oracle/model/failure-reason.ts";
import { encodeInlineInput } from "../../oracle/model/input-envelope.ts";
import { createTensor } from "../../oracle/model/tensor.ts";
import { tempDir, waitForStatus } from "./helpers.ts";

/** Requests the daemon must refuse on-chain with a reason, refunding the requester. */
describe("provider daemon refusals", function () {
  this.timeout(120_000);
  const temp = tempDir("verity-refusals-");
  let local: LocalSuite;
  let daemon: SpawnedDaemon;
  let brokenModel: bigint;
  let misregistered: bigint;

  before(async () => {
    local = await startLocalSuite({ dir: temp.dir });
    // Registered with the iris bytes' content id but another modelHash: the bytes cannot match.
    brokenModel = await registerModel(connectSuite(local.deployment, local.actors.modelOwner).modelRegistry, {
      modelHash: keccak256(toUtf8Bytes("not the iris model")),
      contentId: local.iris.contentId,
      price: local.iris.price,
      royaltyBps: 0,
      inputShape: [1, 4],
      outputShape: [1, 3],
      inputDtype: "float32",
      outputDtype: "float32",
    });
    // The iris bytes, registered with an output the model does not give (float32 [1, 4]).
    misregistered = await registerModel(connectSuite(local.deployment, local.actors.modelOwner).modelRegistry, {
      modelHash: local.iris.manifest.modelHash,
      contentId: local.iris.contentId,
      price: local.iris.price,
      royaltyBps: 0,
      inputShape: [1, 4],
      outputShape: [1, 4],
      inputDtype: "float32",
      outputDtype: "float32",
    });
    const asProvider = connectSuite(local.deployment, local.actors.provider).providerRegistry;
    await (await asProvider.optIn(brokenModel)).wait();
    await (await asProvider.optIn(misregistered)).wait();
    daemon = spawnDaemon({
      config: local.daemonConfig({
        models: [local.iris.modelId.toString(), brokenModel.toString(), misregistered.toString()],
        jobs: { maxInputBytes: 64 },
      }),
      dir: temp.dir,
      privateKey: local.actors.provider.privateKey,
    });
    await daemon.waitForLog((line) => line.msg === "provider daemon started");
  });

  after(async () => {
    await daemon?.stop();
    await local?.close();
    temp.remove();
  });

  const request = async (modelId: bigint, input: Uint8Array) => {
    const market = connectSuite(local.deployment, local.actors.user).inferenceMarket;
    const deadline = BigInt((await local.rpc.getBlock("latest"))!.timestamp) + 600n;
    const tx = await market.requestInference(modelId, input, local.iris.price, deadline, ZeroAddress, 0, {
      value: local.iris.price,
    });
    return market.interface.parseLog((await tx.wait())!.logs[0]!)!.args.requestId as bigint;
  };

  const expectFailed = async (id: bigint, reason: number) => {
    const market = local.suite.inferenceMarket;
    expect(await waitForStatus(market, id, ["Failed", "Finalized"])).to.equal("Failed");
    const [failed] = await market.queryFilter(market.filters.RequestFailed(id));
    expect(failed!.args.reason).to.equal(BigInt(reason));
  };

  it("a model whose content does not hash to its modelHash: Failed with ModelContentInvalid, refunded", async () => {
    const before = await local.suite.inferenceMarket.balanceOf(local.actors.user.address, ZeroAddress);
    const id = await request(brokenModel, encodeInlineInput(createTensor("float32", [1, 4], [5.1, 3.5, 1.4, 0.2])));
    await expectFailed(id, FailureReason.ModelContentInvalid);
    expect(await local.suite.inferenceMarket.balanceOf(local.actors.user.address, ZeroAddress)).to.equal(
      before + local.iris.price,
    );
  });

  it("an input above jobs.maxInputBytes: Failed with InputTooLarge", async () => {
    const big = encodeInlineInput(createTensor("float32", [1, 20], new Array(20).fill(1)));
    expect(big.length).to.be.greaterThan(64);
    await expectFailed(await request(local.iris.modelId, big), FailureReason.InputTooLarge);
  });

  it("a model whose output is not its registered output: Failed with ModelContentInvalid, never a malformed submit", async () => {
    const id = await request(misregistered, encodeInlineInput(createTensor("float32", [1, 4], [5.1, 3.5, 1.4, 0.2])));
    await expectFailed(id, FailureReason.ModelContentInvalid);
    const market = local.suite.inferenceMarket;
    expect(await market.queryFilter(market.filters.ResultSubmitted(id))).to.have.length(0);
    const reported = await daemon.waitForLog(
      (line) => line.msg === "input cannot be run, reporting it" && line.requestId === id.toString(),
    );
    expect(JSON.stringify(reported.error)).to.include("not its registered output");
  });
});
