/**
 * `npm run bench:load`: how many iris requests one provider daemon serves per second, end to end.
 *
 * Each run starts `verity devnet` as its own process (a block per transaction, or a block every
 * 2 s), registers the iris model, starts one or two provider daemons (`jobs.concurrency` 512: a job waiting
 * for its batch to be mined holds its place) and
 * has 10 accounts send the requests as fast as they can (each with its own pipelined sender). It
 * measures requests/s from the first request mined to the last one Finalized, each request's time
 * from mined to Finalized (seen by polling the chain's logs every 200 ms), the providers' gas per
 * request served and their reverted transactions. The daemon runs with `jobs.sender: "serial"`
 * (the sender before the pipelined one) and `"pipelined"`, each serving by claim and submit
 * (`jobs.claimFree: false`); then claim-free, with one `fulfil` per request and with
 * `fulfilBatch` (`jobs.batchMaxItems` 32); then two daemons on the model, claim-free batched.
 *
 * Environment: BENCH_LOAD_REQUESTS (default 300) and BENCH_LOAD_SERIAL_BLOCK_REQUESTS (the serial
 * sender on 2 s blocks; default the same) to run shorter; BENCH_LOAD_ONLY=<path> to run the rows
 * of one path (serial, pipelined, fulfil, fulfilBatch, two providers).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { HDNodeWallet, parseEther, ZeroAddress, type Wallet } from "ethers";
import { connectSuite, createRpcProvider, createWallet } from "../oracle/chain/connect.ts";
import { readDeployment } from "../oracle/chain/deployment.ts";
import { createTxSender } from "../oracle/chain/tx-sender.ts";
import { registerIris, spawnDevnetProcess, stakeAndOptIn } from "../oracle/devnet/devnet-process.ts";
import { spawnDaemon, type SpawnedDaemon } from "../oracle/devnet/spawn-daemon.ts";
import { DEV_PRIVATE_KEYS, setBlockTime } from "../oracle/devnet/start-devnet.ts";
import { sleep } from "../oracle/util/retry.ts";

const REQUESTS = Number(process.env.BENCH_LOAD_REQUESTS ?? 300);
const SERIAL_BLOCK_REQUESTS = Number(process.env.BENCH_LOAD_SERIAL_BLOCK_REQUESTS ?? REQUESTS);
const ONLY = process.env.BENCH_LOAD_ONLY;
const ACCOUNTS = 10;
const CONCURRENCY = 512;
/** Hardhat's development mnemonic: accounts 6 to 15 ask, 1 owns the model, 2 provides. */
const MNEMONIC = "test test test test test test test test test test test junk";

/** How the daemons serve: the sender, claim-free or not, results per transaction, daemons. */
type Path = {
  name: string;
  sender: "serial" | "pipelined";
  claimFree: boolean;
  batchMaxItems: number;
  providers: number;
};

const PATHS: Path[] = [
  { name: "serial", sender: "serial", claimFree: false, batchMaxItems: 1, providers: 1 },
  { name: "pipelined", sender: "pipelined", claimFree: false, batchMaxItems: 1, providers: 1 },
  { name: "fulfil", sender: "pipelined", claimFree: true, batchMaxItems: 1, providers: 1 },
  { name: "fulfilBatch", sender: "pipelined", claimFree: true, batchMaxItems: 32, providers: 1 },
  { name: "two providers", sender: "pipelined", claimFree: true, batchMaxItems: 32, providers: 2 },
];

type Row = {
  path: string;
  mining: string;
  requests: number;
  sendSec: number;
  spanSec: number;
  perSecond: number;
  medianMs: number;
  p95Ms: number;
  /** Provider transactions mined, their gas per request served, and those that reverted. */
  providerTxs: number;
  gasPerRequest: number;
  reverted: number;
};

async function run(p: Path, blockTimeSec: number | undefined, requests: number): Promise<Row> {
  const dir = mkdtempSync(path.join(tmpdir(), "verity-bench-load-"));
  const devnet = await spawnDevnetProcess(dir);
  const { url, deploymentFile } = devnet;
  const daemons: SpawnedDaemon[] = [devnet.process];
  try {
    const rpc = createRpcProvider(url, 100);
    const deployment = readDeployment(deploymentFile);
    // Providers: development accounts 2 and 3.
    const providerKeys = [DEV_PRIVATE_KEYS[2], DEV_PRIVATE_KEYS[3]].slice(0, p.providers);
    const provider = createWallet(DEV_PRIVATE_KEYS[2], rpc);
    const contentDir = path.join(dir, "content");
    const { modelId, price, manifest } = await registerIris(deployment, rpc, contentDir);
    // Enough stake for every claim at once, whatever the reservation per claim.
    for (const key of providerKeys) await stakeAndOptIn(deployment, rpc, key, modelId, parseEther("1000"));
    if (blockTimeSec !== undefined) await setBlockTime(url, blockTimeSec);

    for (const [k, key] of providerKeys.entries()) {
      const daemon = spawnDaemon({
        config: {
          rpcUrl: url,
          deployment: deploymentFile,
          models: [modelId.toString()],
          storage: { kind: "embedded", dir: contentDir },
          stateDir: path.join(dir, `provider-${k}`),
          chain: { pollIntervalMs: 100 },
          retry: { attempts: 3, baseDelayMs: 100, maxDelayMs: 400 },
          jobs: {
            concurrency: CONCURRENCY,
            sender: p.sender,
            claimFree: p.claimFree,
            batchMaxItems: p.batchMaxItems,
          },
        },
        dir,
        privateKey: key,
        name: `provider-${k}`,
      });
      daemons.push(daemon);
      await daemon.waitForLog((line) => line.msg === "provider daemon started", 60_000);
    }

    const market = connectSuite(deployment, provider).inferenceMarket;
    const finalizedTopic = market.interface.getEvent("RequestFinalized").topicHash;
    const minedAt = new Map<bigint, number>();
    const finalizedAt = new Map<bigint, number>();
    let watching = true;
    const startBlock = await rpc.getBlockNumber();
    let fromBlock = startBlock;
    const watch = (async () => {
      while (watching) {
        const toBlock = await rpc.getBlockNumber();
        if (toBlock >= fromBlock) {
          const logs = await rpc.getLogs({
            address: deployment.contracts.inferenceMarket,
            topics: [finalizedTopic],
            fromBlock,
            toBlock,
          });
          const now = Date.now();
          for (const log of logs) finalizedAt.set(BigInt(log.topics[1]!), now);
          fromBlock = toBlock + 1;
        }
        await sleep(200);
      }
    })();

    const input = manifest.samples[0]!.inputEnvelope;
    const deadline = BigInt((await rpc.getBlock("latest"))!.timestamp) + 3600n;
    const users: Wallet[] = Array.from({ length: ACCOUNTS }, (_, i) => {
      const key = HDNodeWallet.fromPhrase(MNEMONIC, undefined, `m/44'/60'/0'/0/${6 + i}`).privateKey;
      return createWallet(key, createRpcProvider(url, 100));
    });
    const started = Date.now();
    await Promise.all(
      users.map(async (user, u) => {
        const userSender = createTxSender(user, { pollIntervalMs: 100 });
        const asUser = connectSuite(deployment, user).inferenceMarket;
        const mine = Array.from({ length: requests }, (_, i) => i).filter((i) => i % ACCOUNTS === u);
        await Promise.all(
          mine.map(async (i) => {
            const receipt = await userSender.send({
              action: `request ${i}`,
              transaction: asUser.requestInference.populateTransaction(
                modelId,
                input,
                price,
                deadline,
                ZeroAddress,
                0,
                { value: price },
              ),
            });
            const log = receipt.logs.find((entry) => entry.address === deployment.contracts.inferenceMarket)!;
            minedAt.set(BigInt(log.topics[1]!), Date.now());
          }),
        );
      }),
    );
    const sent = Date.now();
    const until = Date.now() + 30 * 60_000;
    while ([...minedAt.keys()].some((id) => !finalizedAt.has(id))) {
      if (Date.now() > until) throw new Error(`only ${finalizedAt.size} of ${requests} requests Finalized`);
      await sleep(200);
    }
    watching = false;
    await watch;
    for (const user of users) user.provider!.destroy();
    const providerTx = await providerTransactions(
      rpc,
      startBlock,
      providerKeys.map((k) => createWallet(k, rpc).address),
    );
    rpc.destroy();

    const first = Math.min(...minedAt.values());
    const last = Math.max(...finalizedAt.values());
    const latencies = [...minedAt].map(([id, at]) => finalizedAt.get(id)! - at).sort((a, b) => a - b);
    return {
      path: p.name,
      ...providerTx,
      gasPerRequest: providerTx.gas / requests,
      mining: blockTimeSec === undefined ? "automine" : `${blockTimeSec} s blocks`,
      requests,
      sendSec: (sent - started) / 1000,
      spanSec: (last - first) / 1000,
      perSecond: requests / ((last - first) / 1000),
      medianMs: latencies[latencies.length >> 1]!,
      p95Ms: latencies[Math.floor(latencies.length * 0.95)]!,
    };
  } finally {
    for (const process of daemons.reverse()) await process.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The providers' transactions mined since `fromBlock`: how many, their gas, how many reverted. */
async function providerTransactions(
  rpc: ReturnType<typeof createRpcProvider>,
  fromBlock: number,
  providers: string[],
): Promise<{ providerTxs: number; gas: number; reverted: number }> {
  const from = new Set(providers.map((a) => a.toLowerCase()));
  let providerTxs = 0;
  let gas = 0;
  let reverted = 0;
  for (let n = fromBlock + 1; n <= (await rpc.getBlockNumber()); n++) {
    const block = await rpc.getBlock(n, true);
    for (const tx of block?.prefetchedTransactions ?? []) {
      if (!from.has(tx.from.toLowerCase())) continue;
      const receipt = await rpc.getTransactionReceipt(tx.hash);
      providerTxs++;
      gas += Number(receipt!.gasUsed);
      if (receipt!.status === 0) reverted++;
    }
  }
  return { providerTxs, gas, reverted };
}

const rows: Row[] = [];
for (const blockTimeSec of [undefined, 2])
  for (const p of PATHS) {
    if (ONLY !== undefined && ONLY !== p.name) continue;
    // Two providers race on 2 s blocks only, where the race is real.
    if (p.providers > 1 && blockTimeSec === undefined) continue;
    const requests = p.sender === "serial" && blockTimeSec !== undefined ? SERIAL_BLOCK_REQUESTS : REQUESTS;
    const row = await run(p, blockTimeSec, requests);
    console.error(`done: ${JSON.stringify(row)}`);
    rows.push(row);
  }

console.log(
  `\nLoad: provider daemons (jobs.concurrency ${CONCURRENCY}, poll 100 ms), iris, ${ACCOUNTS} requesting accounts, chain as its own process\n`,
);
console.log(
  "| path | mining | requests | all sent in | first mined → last Finalized | requests/s | mined → Finalized, median | p95 | provider txs | provider gas / request | reverted txs / request |",
);
console.log("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
for (const row of rows)
  console.log(
    `| ${row.path} | ${row.mining} | ${row.requests} | ${row.sendSec.toFixed(1)} s | ${row.spanSec.toFixed(1)} s | ${row.perSecond.toFixed(1)} | ${(row.medianMs / 1000).toFixed(2)} s | ${(row.p95Ms / 1000).toFixed(2)} s | ${row.providerTxs} | ${Math.round(row.gasPerRequest / 1000)}k | ${(row.reverted / row.requests).toFixed(3)} |`,
  );
