import { expect } from "chai";
import path from "node:path";
import { getBytes, parseEther, ZeroAddress } from "ethers";
import { connectSuite, createWallet } from "../../oracle/chain/connect.ts";
import { DEV_PRIVATE_KEYS, rpc } from "../../oracle/devnet/start-devnet.ts";
import { startLocalSuite, type LocalSuite } from "../../oracle/devnet/local-suite.ts";
import { spawnDaemon, type DaemonLogLine, type SpawnedDaemon } from "../../oracle/devnet/spawn-daemon.ts";
import type { VerityConfigInput } from "../../oracle/config/schema.ts";
import { ask, submissionsOf, tempDir, waitForStatus } from "./helpers.ts";

/**
 * Claim-free service of Attested requests (issue 12): one `fulfil` per request, batches of
 * ready results in one `fulfilBatch`, and a crash with a fulfilment in flight. The chain mines
 * only when the test says so (or on an interval it starts), so the test can kill the daemon
 * while its transaction waits in the mempool.
 */
describe("provider daemon serving Attested requests without a claim", function () {
  this.timeout(180_000);
  const temp = tempDir("verity-fulfil-");
  let local: LocalSuite;
  let daemon: SpawnedDaemon | undefined;
  let second: SpawnedDaemon | undefined;
  let logs: DaemonLogLine[] = [];
  let mining: ReturnType<typeof setInterval> | undefined;

  const mine = () => rpc(local.devnet.url, "evm_mine");
  const startMining = (ms = 100) => (mining = setInterval(() => void mine().catch(() => undefined), ms));
  const stopMining = () => clearInterval(mining);
  /** Sends `count` requests in one block (one account, consecutive nonces); returns their ids. */
  const askInOneBlock = async (count: number): Promise<bigint[]> => {
    const market = local.suite.inferenceMarket;
    const user = connectSuite(local.deployment, local.actors.user).inferenceMarket;
    const first = (await market.requestCount()) + 1n;
    const nonce = await local.rpc.getTransactionCount(local.actors.user.address, "pending");
    const deadline = BigInt((await local.rpc.getBlock("latest"))!.timestamp) + 600n;
    await Promise.all(
      Array.from({ length: count }, (_, k) =>
        user.requestInference(local.iris.modelId, sample(k), local.iris.price, deadline, ZeroAddress, 0, {
          value: local.iris.price,
          nonce: nonce + k,
          gasLimit: 500_000,
        }),
      ),
    );
    await mine();
    return Array.from({ length: count }, (_, k) => first + BigInt(k));
  };
  const start = async (jobs: NonNullable<VerityConfigInput["jobs"]> = {}) => {
    logs = [];
    daemon = spawnDaemon({
      config: local.daemonConfig({ jobs }),
      dir: temp.dir,
      privateKey: local.actors.provider.privateKey,
      onLog: (line) => logs.push(line),
    });
    await daemon.waitForLog((line) => line.msg === "provider daemon started");
  };
  const sample = (i: number) =>
    getBytes(local.iris.manifest.samples[i % local.iris.manifest.samples.length]!.inputEnvelope);
  const askMined = async (i: number) => {
    startMining();
    try {
      return await ask(local, sample(i));
    } finally {
      stopMining();
    }
  };
  /** The selector of the transaction that settled `id` (its ResultSubmitted event's transaction). */
  const settledBy = async (id: bigint) => {
    const market = local.suite.inferenceMarket;
    const [event] = await market.queryFilter(market.filters.ResultSubmitted(id));
    const tx = await local.rpc.getTransaction(event!.transactionHash);
    return { hash: tx!.hash, selector: tx!.data.slice(0, 10) };
  };
  const selector = (name: "fulfil" | "fulfilBatch") =>
    local.suite.inferenceMarket.interface.getFunction(name)!.selector;
  /** The provider's transaction waiting in the mempool, once there is one. */
  const pendingProviderTx = async (): Promise<string> => {
    const provider = local.actors.provider.address.toLowerCase();
    for (const until = Date.now() + 60_000; Date.now() < until;) {
      const block = (await rpc(local.devnet.url, "eth_getBlockByNumber", ["pending", true])) as {
        transactions: { hash: string; from: string }[];
      };
      const pending = block.transactions.find((tx) => tx.from.toLowerCase() === provider);
      if (pending) return pending.hash;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error("the daemon never sent its fulfilment");
  };

  before(async () => {
    local = await startLocalSuite({ dir: temp.dir, automine: false });
  });

  afterEach(async function () {
    if (this.currentTest?.state === "failed") console.log(JSON.stringify(logs.slice(-15), null, 1));
    stopMining();
    await daemon?.kill();
    await second?.kill();
    daemon = undefined;
    second = undefined;
  });

  after(async () => {
    await local?.close();
    if (!process.env.KEEP_TEMP) temp.remove();
  });

  it("one fulfil transaction per request: no claim, served once, counted as served", async () => {
    const market = local.suite.inferenceMarket;
    await start({ batchMaxItems: 1 });
    const ids = [await askMined(0), await askMined(1)];
    startMining();
    for (const id of ids) expect(await waitForStatus(market, id, ["Finalized"])).to.equal("Finalized");
    for (const id of ids) {
      expect(await submissionsOf(market, id)).to.equal(1);
      expect(await market.queryFilter(market.filters.RequestClaimed(id))).to.have.length(0);
      expect((await settledBy(id)).selector).to.equal(selector("fulfil"));
    }
    const [served] = await local.suite.providerRegistry.statsOf(local.actors.provider.address);
    expect(served).to.equal(2n);
    expect(logs.filter((l) => l.msg === "fulfilled")).to.have.length(2);
  });

  it("results ready together go out in one fulfilBatch", async () => {
    const market = local.suite.inferenceMarket;
    await start({ batchMaxItems: 8, batchWindowMs: 1500, concurrency: 16 });
    // Six requests in one block: the daemon sees them together and batches their results.
    const ids = await askInOneBlock(6);
    startMining(300);
    for (const id of ids) expect(await waitForStatus(market, id, ["Finalized"])).to.equal("Finalized");
    const settled = await Promise.all(ids.map(settledBy));
    for (const s of settled) expect(s.selector).to.equal(selector("fulfilBatch"));
    expect(new Set(settled.map((s) => s.hash)).size).to.be.lessThan(ids.length);
    for (const id of ids) expect(await submissionsOf(market, id)).to.equal(1);
    const batched = logs.filter((l) => l.msg === "fulfilled").map((l) => Number(l.batchSize));
    expect(Math.max(...batched)).to.be.greaterThan(1);
  });

  it("killed with a fulfilment in the mempool that is then lost: the restarted daemon serves the request once", async () => {
    const market = local.suite.inferenceMarket;
    await start({ batchMaxItems: 1 });
    const id = await askMined(8);
    const hash = await pendingProviderTx();
    await daemon!.kill();
    expect(await rpc(local.devnet.url, "hardhat_dropTransaction", [hash])).to.equal(true);
    await mine();
    expect(await market.statusOf(id)).to.equal(1n); // Pending

    await start({ batchMaxItems: 1 });
    startMining();
    expect(await waitForStatus(market, id, ["Finalized"])).to.equal("Finalized");
    expect(await submissionsOf(market, id)).to.equal(1);
    await daemon!.waitForLog((l) => l.msg === "fulfilled" && l.requestId === id.toString());
  });

  it("killed with a fulfilment in the mempool that is then mined: the restarted daemon does not send it again", async () => {
    const market = local.suite.inferenceMarket;
    await start({ batchMaxItems: 1 });
    const id = await askMined(9);
    await pendingProviderTx();
    await daemon!.kill();
    await mine();
    expect(await market.statusOf(id)).to.equal(5n); // Finalized

    await start({ batchMaxItems: 1 });
    startMining();
    await daemon!.waitForLog((l) => l.msg === "request settled elsewhere" && l.requestId === id.toString());
    expect(await submissionsOf(market, id)).to.equal(1);
    expect(logs.some((l) => l.msg === "fulfilled" || l.msg === "fulfil not served")).to.equal(false);
  });

  it("two daemons on one model take turns: every request served once, no transaction reverted, nothing skipped", async () => {
    const market = local.suite.inferenceMarket;
    const other = createWallet(DEV_PRIVATE_KEYS[4], local.rpc);
    startMining();
    const registry = connectSuite(local.deployment, other).providerRegistry;
    await (await registry.stake({ value: parseEther("2") })).wait();
    await (await registry.optIn(local.iris.modelId)).wait();
    stopMining();
    const jobs = { batchMaxItems: 8, batchWindowMs: 500, concurrency: 32, assignmentWindowSec: 4 };
    await start(jobs);
    second = spawnDaemon({
      config: local.daemonConfig({ jobs, stateDir: path.join(temp.dir, "provider-b") }),
      dir: temp.dir,
      privateKey: DEV_PRIVATE_KEYS[4],
      name: "provider-b",
    });
    await second.waitForLog((line) => line.msg === "provider daemon started");
    const fromBlock = await local.rpc.getBlockNumber();

    const ids = await askInOneBlock(16);
    startMining(1000);
    for (const id of ids) expect(await waitForStatus(market, id, ["Finalized"])).to.equal("Finalized");
    // Past the second provider's turn: it finds the requests served and sends nothing.
    await new Promise((resolve) => setTimeout(resolve, 5000));
    stopMining();
    await mine();

    for (const id of ids) expect(await submissionsOf(market, id)).to.equal(1);
    expect(await market.queryFilter(market.filters.FulfilSkipped(), fromBlock)).to.have.length(0);
    const servers = new Set<string>();
    let reverted = 0;
    const providers = [local.actors.provider.address, other.address].map((a) => a.toLowerCase());
    for (let n = fromBlock + 1; n <= (await local.rpc.getBlockNumber()); n++) {
      for (const tx of (await local.rpc.getBlock(n, true))!.prefetchedTransactions) {
        if (!providers.includes(tx.from.toLowerCase())) continue;
        servers.add(tx.from.toLowerCase());
        if ((await local.rpc.getTransactionReceipt(tx.hash))!.status === 0) reverted++;
      }
    }
    expect(reverted).to.equal(0);
    expect(servers.size).to.equal(2); // each served the requests it ranks first for
  });
});
