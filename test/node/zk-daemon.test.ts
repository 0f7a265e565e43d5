/**
 * ZK mode with the daemon as its own process: the iris integer model registered in Zk mode with
 * the committed artifacts (no setup), a request whose input is the inline envelope of the
 * canonical int8 tensor (0x00 ‖ tensor, as in every mode), the daemon proving it and settling it
 * with `submitWithProof` (which gets the request's envelope bytes) in one transaction; a daemon whose
 * proving key is of another circuit releases the request instead of holding it.
 */
import { copyFileSync, cpSync, mkdirSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { getBytes, hexlify, keccak256, ZeroAddress } from "ethers";
import { connectSuite } from "../../oracle/chain/connect.ts";
import { startLocalSuite, type LocalSuite } from "../../oracle/devnet/local-suite.ts";
import { spawnDaemon, type SpawnedDaemon } from "../../oracle/devnet/spawn-daemon.ts";
import { registerZkModel, type ZkModelOnChain } from "../../oracle/devnet/zk-suite.ts";
import { encodeTensor } from "../../oracle/model/tensor-codec.ts";
import type { Tensor } from "../../oracle/model/tensor.ts";
import { executeVqm } from "../../oracle/model/vqm/reference-executor.ts";
import { encodeRequestInput } from "../../oracle/sdk/encode-request-input.ts";
import { tempDir, waitForStatus } from "./helpers.ts";

describe("ZK mode: the daemon proves and settles with submitWithProof (real process)", function () {
  this.timeout(120_000);
  const temp = tempDir("verity-zk-daemon-");
  let local: LocalSuite;
  let zk: ZkModelOnChain;
  const daemons: SpawnedDaemon[] = [];

  const start = (name: string, dir: string) => {
    const daemon = spawnDaemon({
      config: local.daemonConfig({
        models: [zk.modelId.toString()],
        stateDir: path.join(temp.dir, name),
        zk: { models: { [zk.modelId.toString()]: dir } },
      }),
      dir: temp.dir,
      name,
      privateKey: local.actors.provider.privateKey,
    });
    daemons.push(daemon);
    return daemon;
  };

  const ask = async (input: Tensor): Promise<bigint> => {
    const market = connectSuite(local.deployment, local.actors.user).inferenceMarket;
    const deadline = BigInt((await local.rpc.getBlock("latest"))!.timestamp) + 600n;
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
    for (const log of (await tx.wait())!.logs) {
      const parsed = market.interface.parseLog(log);
      if (parsed?.name === "InferenceRequested") return parsed.args.requestId as bigint;
    }
    throw new Error("no InferenceRequested event");
  };

  before(async () => {
    local = await startLocalSuite({ dir: temp.dir });
    zk = await registerZkModel(local);
  });

  after(async () => {
    for (const daemon of daemons) await daemon.stop();
    await local?.close();
    temp.remove();
  });

  it("a Zk iris request is Finalized by the proof's transaction, with the reference executor's output", async () => {
    const daemon = start("good", zk.dir);
    const market = local.suite.inferenceMarket;
    const input: Tensor = { dtype: "int8", shape: [1, 4], data: Int8Array.from([-52, 67, -93, -107]) };
    const id = await ask(input);
    expect(await waitForStatus(market, id, ["Finalized", "Failed", "Refunded"])).to.equal("Finalized");

    const [finalized] = await market.queryFilter(market.filters.RequestFinalized(id));
    const tx = await local.rpc.getTransaction(finalized!.transactionHash);
    const call = market.interface.parseTransaction(tx!);
    expect(call?.name).to.equal("submitWithProof");
    // (id, params, input, output, proof): the request's input bytes (the envelope) whose hash the params commit to
    expect(call?.args[2]).to.equal(hexlify(encodeRequestInput(input)));
    expect(call?.args[1].inputHash).to.equal(keccak256(encodeRequestInput(input)));
    expect(getBytes(call?.args[4] as string)).to.have.length(256);
    const [submitted] = await market.queryFilter(market.filters.ResultSubmitted(id));
    expect(submitted!.transactionHash).to.equal(finalized!.transactionHash);

    const expected = hexlify(encodeTensor(executeVqm(zk.model, input).output));
    expect(await market.outputOf(id)).to.equal(expected);
    const proved = await daemon.waitForLog((line) => line.msg === "proved" && line.requestId === id.toString());
    expect(proved.seconds).to.be.a("number");
    const sent = await daemon.waitForLog((line) => line.msg === "proof submitted");
    expect(sent.tx).to.equal(finalized!.transactionHash);
    await daemon.stop();
  });

  it("a daemon whose proving key is of another circuit releases the request; a good one then settles it", async () => {
    // iris' VQM, zk.json and witness calculator, but the proving key of another 4-8-3 model.
    const bad = path.join(temp.dir, "bad-build");
    cpSync(path.join(zk.dir, "vqm"), path.join(bad, "vqm"), { recursive: true });
    mkdirSync(path.join(bad, "zk"));
    for (const file of ["zk.json", "circuit.wasm"])
      copyFileSync(path.join(zk.dir, "zk", file), path.join(bad, "zk", file));
    copyFileSync("test/zk/fixtures/other-4-8-3/zk/circuit.zkey", path.join(bad, "zk", "circuit.zkey"));

    const market = local.suite.inferenceMarket;
    const daemon = start("bad", bad);
    const input: Tensor = { dtype: "int8", shape: [1, 4], data: Int8Array.from([10, -20, 30, -40]) };
    const id = await ask(input);
    const released = await daemon.waitForLog((line) => line.msg === "cannot prove, releasing the request");
    expect(released.requestId).to.equal(id.toString());
    expect(await waitForStatus(market, id, ["Pending"])).to.equal("Pending");
    expect(await market.queryFilter(market.filters.RequestReleased(id))).to.have.length(1);
    await daemon.stop();

    start("good-again", zk.dir);
    expect(await waitForStatus(market, id, ["Finalized", "Failed", "Refunded"])).to.equal("Finalized");
    expect(await market.outputOf(id)).to.equal(hexlify(encodeTensor(executeVqm(zk.model, input).output)));
  });
});
