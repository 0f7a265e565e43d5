import { expect } from "chai";
import { getBytes, hexlify } from "ethers";
import { rpc } from "../../oracle/devnet/start-devnet.ts";
import { startLocalSuite, type LocalSuite } from "../../oracle/devnet/local-suite.ts";
import type { DaemonLogLine, SpawnedDaemon } from "../../oracle/devnet/spawn-daemon.ts";
import { createTensor } from "../../oracle/model/tensor.ts";
import { encodeTensor } from "../../oracle/model/tensor-codec.ts";
import { createSession } from "../../oracle/runtime/create-session.ts";
import { runInference } from "../../oracle/runtime/run-inference.ts";
import { ask, manualMining, startProviderDaemon, submissionsOf, tempDir, waitForStatus } from "./helpers.ts";

const REORG = "chain reorganised, rewinding to the fork";
const REOPENED = "reorg dropped a step of this job, serving it again";

/**
 * Reorgs under a running daemon: the chain mines only when the test says so, `evm_snapshot` marks
 * a point in a job (request mined, claim mined, submission mined) and `evm_revert` drops every
 * block after it once the daemon has served the request. New blocks then make the other branch
 * the longer one. Every request must end served exactly once, on the chain as it is now.
 */
for (const claimFree of [false, true])
  describe(`provider daemon under chain reorgs (${claimFree ? "claim-free fulfil" : "claim and submit"})`, function () {
    this.timeout(180_000);
    /** The log line of a mined result: one `fulfil` (claim-free) or a claim's `submit`. */
    const SERVED = claimFree ? "fulfilled" : "submitted";
    const temp = tempDir("verity-reorg-");
    let local: LocalSuite;
    let daemon: SpawnedDaemon;
    const logs: DaemonLogLine[] = [];
    let mining: ReturnType<typeof manualMining>;
    const mine = () => mining.mine();
    const startMining = () => mining.start();
    const stopMining = () => mining?.stop();
    const snapshot = () => rpc(local.devnet.url, "evm_snapshot") as Promise<string>;
    /** Reverts to `id`, drops what the mempool kept from then, and mines the new branch past the old one. */
    const reorgTo = async (id: string, dropPending = false) => {
      stopMining();
      const reorged = logs.filter((line) => line.msg === REORG).length;
      expect(await rpc(local.devnet.url, "evm_revert", [id])).to.equal(true);
      if (dropPending) {
        const block = (await rpc(local.devnet.url, "eth_getBlockByNumber", ["pending", true])) as {
          transactions: { hash: string }[];
        };
        for (const tx of block.transactions) await rpc(local.devnet.url, "hardhat_dropTransaction", [tx.hash]);
      }
      startMining();
      await daemon.waitForLog(
        (line) => line.msg === REORG && logs.filter((l) => l.msg === REORG).indexOf(line) >= reorged,
        30_000,
      );
    };
    /** Mines `count` blocks slowly enough for the daemon to read each as its head. */
    const mineSeen = async (count: number) => {
      for (let i = 0; i < count; i++) {
        await mine();
        await new Promise((resolve) => setTimeout(resolve, 400));
      }
    };
    const askMined = (input: Uint8Array) => mining.ask(input);
    const expectedOutput = async (sample: number) => {
      const session = await createSession({ model: local.iris.bytes });
      const features = local.iris.manifest.samples[sample]!.input;
      const output = hexlify(encodeTensor(await runInference(session, createTensor("float32", [1, 4], features))));
      await session.release();
      return output;
    };
    const isAbout = (line: DaemonLogLine, id: bigint, msg: string) =>
      line.msg === msg && line.requestId === id.toString();
    const input = (sample: number) => getBytes(local.iris.manifest.samples[sample]!.inputEnvelope);
    const servedOnce = async (id: bigint) => {
      const market = local.suite.inferenceMarket;
      startMining();
      expect(await waitForStatus(market, id, ["Finalized", "Failed", "Refunded"], 60_000)).to.equal("Finalized");
      expect(await submissionsOf(market, id)).to.equal(1);
    };
    /** Served, and the daemon has taken the submission's receipt and read a head after it. */
    const servedAndSeen = async (id: bigint) => {
      await servedOnce(id);
      await daemon.waitForLog((line) => isAbout(line, id, SERVED));
      await new Promise((resolve) => setTimeout(resolve, 300));
    };

    before(async () => {
      local = await startLocalSuite({ dir: temp.dir, automine: false });
      mining = manualMining(local);
      daemon = await startProviderDaemon(local, temp.dir, {
        overrides: { jobs: { claimFree } },
        onLog: (line) => logs.push(line),
      });
    });

    after(async () => {
      stopMining();
      await daemon?.stop();
      await local?.close();
      if (!process.env.KEEP_TEMP) temp.remove();
    });

    // Two legitimate paths serve it again, by the first head at which the daemon read the request.
    // At or below the snapshot: that head is kept and still on the chain, the fork is above the
    // request, and the recheck finds the request open and reopens the job (`now: "seen"`). Above it
    // (the daemon slow to poll, as under CPU load, while the test mines on): no kept block between
    // the request and the snapshot, so the fork is below the request, whose job is set aside and
    // read again by the rewound cursor as a new one (`request seen`, no reopen line).
    it("reorg after the request was mined drops the claim and the submission: served again, once", async () => {
      const id = await askMined(input(0));
      const mark = await snapshot();
      await servedAndSeen(id);
      const from = logs.length;
      await reorgTo(mark, true);
      await servedOnce(id);
      await daemon.waitForLog((line) => isAbout(line, id, SERVED) && logs.indexOf(line) >= from);
      const since = logs.slice(from);
      const taken = (line: DaemonLogLine) =>
        (isAbout(line, id, REOPENED) && line.now === "seen") || isAbout(line, id, "request seen");
      expect(since.some(taken)).to.equal(true);
      // Served once more, and once only: no second claim was tried and refused, no fulfil skipped.
      const count = (msg: string) => since.filter((line) => isAbout(line, id, msg)).length;
      expect([count("claimed"), count(SERVED), count("claim refused"), count("fulfil not served")]).to.deep.equal([
        claimFree ? 0 : 1,
        1,
        0,
        0,
      ]);
      expect(hexlify(await local.suite.inferenceMarket.outputOf(id))).to.equal(await expectedOutput(0));
    });

    // The submission's receipt was handed out, then dropped: the job submits again with a nonce
    // above the dropped one, which the sender fills (a transfer to itself) so it is not stuck.
    // Claim-free serving has no claim to keep.
    if (!claimFree)
      it("reorg after the claim was mined drops the submission: submitted again, once", async () => {
        startMining();
        const id = await ask(local, input(1));
        await daemon.waitForLog((line) => isAbout(line, id, "claimed"), 30_000);
        stopMining();
        const mark = await snapshot();
        await servedAndSeen(id);
        await reorgTo(mark, true);
        await servedOnce(id);
        // Back to claimed, not seen: the claim is still on the chain and is not made twice.
        const reopened = logs.filter((line) => isAbout(line, id, REOPENED));
        expect(reopened.map((line) => line.now)).to.deep.equal(["claimed"]);
      });

    it("reorg after the submission was mined: nothing of ours dropped, nothing served twice", async () => {
      const id = await askMined(input(2));
      await servedOnce(id);
      stopMining();
      const mark = await snapshot();
      await mineSeen(3);
      await reorgTo(mark);
      await mineSeen(3);
      await servedOnce(id);
      expect(logs.some((line) => isAbout(line, id, REOPENED))).to.equal(false);
    });

    it("re-used request id: a different request re-mined under the same id is served, with its own input", async () => {
      stopMining();
      const mark = await snapshot();
      const first = await askMined(input(0));
      await servedAndSeen(first);
      const firstOutput = hexlify(await local.suite.inferenceMarket.outputOf(first));
      await reorgTo(mark, true);
      const second = await askMined(input(2));
      expect(second).to.equal(first);
      await servedOnce(second);
      const output = hexlify(await local.suite.inferenceMarket.outputOf(second));
      expect(output).to.equal(await expectedOutput(2));
      expect(output).to.not.equal(firstOutput);
    });
  });
