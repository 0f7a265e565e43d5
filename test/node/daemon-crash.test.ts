import { expect } from "chai";
import { getBytes } from "ethers";
import { rpc } from "../../oracle/devnet/start-devnet.ts";
import { startLocalSuite, type LocalSuite } from "../../oracle/devnet/local-suite.ts";
import { spawnDaemon, type DaemonLogLine, type SpawnedDaemon } from "../../oracle/devnet/spawn-daemon.ts";
import { manualMining, submissionsOf, tempDir, waitForStatus } from "./helpers.ts";

/**
 * The chain mines only when the test says so, which lets the test kill the daemon at an exact
 * point: after its claim is mined and while its submission waits in the mempool.
 */
describe("provider daemon killed between claim and submit", function () {
  this.timeout(120_000);
  const temp = tempDir("verity-crash-");
  let local: LocalSuite;
  let daemon: SpawnedDaemon;
  let logs: DaemonLogLine[] = [];
  let mining: ReturnType<typeof manualMining>;

  const mine = () => mining.mine();
  const startMining = () => mining.start();
  const stopMining = () => mining?.stop();
  const start = async () => {
    logs = [];
    daemon = spawnDaemon({
      // The claim path (daemon-fulfil.test.ts kills a claim-free one).
      config: local.daemonConfig({ jobs: { claimFree: false } }),
      dir: temp.dir,
      privateKey: local.actors.provider.privateKey,
      onLog: (line) => logs.push(line),
    });
    await daemon.waitForLog((line) => line.msg === "provider daemon started");
  };
  const askMined = (input: Uint8Array) => mining.ask(input);
  /** Kills the daemon once its submission for `id` is in the mempool; returns that tx's hash. */
  const killWhileSubmitPending = async (id: bigint): Promise<string> => {
    startMining();
    await daemon.waitForLog((line) => line.msg === "claimed" && line.requestId === id.toString());
    stopMining();
    const provider = local.actors.provider.address.toLowerCase();
    for (const until = Date.now() + 30_000; Date.now() < until;) {
      const block = (await rpc(local.devnet.url, "eth_getBlockByNumber", ["pending", true])) as {
        transactions: { hash: string; from: string }[];
      };
      const pending = block.transactions.find((tx) => tx.from.toLowerCase() === provider);
      if (pending) {
        await daemon.kill();
        return pending.hash;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error("the daemon never sent its submission");
  };

  before(async () => {
    local = await startLocalSuite({ dir: temp.dir, automine: false });
    mining = manualMining(local);
    await start();
  });

  after(async () => {
    stopMining();
    await daemon?.kill();
    await local?.close();
    if (!process.env.KEEP_TEMP) temp.remove();
  });

  it("submission lost with the process: the restarted daemon serves the request once", async () => {
    const market = local.suite.inferenceMarket;
    const input = getBytes(local.iris.manifest.samples[1]!.inputEnvelope);
    const id = await askMined(input);
    const pendingSubmit = await killWhileSubmitPending(id);
    expect(await rpc(local.devnet.url, "hardhat_dropTransaction", [pendingSubmit])).to.equal(true);
    await mine();
    expect(await waitForStatus(market, id, ["Claimed"])).to.equal("Claimed");

    await start();
    startMining();
    expect(await waitForStatus(market, id, ["Finalized"])).to.equal("Finalized");
    stopMining();
    expect(await submissionsOf(market, id)).to.equal(1);
    await daemon.waitForLog((line) => line.msg === "submitted" && line.requestId === id.toString());
  });

  it("submission mined after the crash: the restarted daemon sees it and does not submit again", async () => {
    const market = local.suite.inferenceMarket;
    const input = getBytes(local.iris.manifest.samples[2]!.inputEnvelope);
    const id = await askMined(input);
    await killWhileSubmitPending(id);
    await mine();
    expect(await waitForStatus(market, id, ["Finalized"])).to.equal("Finalized");

    await start();
    startMining();
    await daemon.waitForLog((line) => line.msg === "request settled elsewhere" && line.requestId === id.toString());
    stopMining();
    expect(await submissionsOf(market, id)).to.equal(1);
    expect(logs.some((line) => line.msg === "submitted")).to.equal(false);
    const [served] = await local.suite.providerRegistry.statsOf(local.actors.provider.address);
    expect(served).to.equal(2n);
  });
});
