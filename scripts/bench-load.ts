/**
 * `npm run bench:load`: how many iris requests one provider daemon serves per second, end to end.
 *
 * Each run starts `verity devnet` as its own process (a block per transaction, or a block every
 * 2 s), registers the iris model, starts one provider daemon (`jobs.concurrency` 64) and has 10
 * accounts send the requests as fast as they can (each with its own pipelined sender). It
 * measures requests/s from the first request mined to the last one Finalized, and each request's
 * time from mined to Finalized (seen by polling the chain's logs every 200 ms). The daemon runs
 * once with `jobs.sender: "serial"` (the sender before the pipelined one) and once with
 * `"pipelined"`.
 *
 * Environment: BENCH_LOAD_REQUESTS (default 300) and BENCH_LOAD_SERIAL_BLOCK_REQUESTS (the serial
 * sender on 2 s blocks; default the same) to run shorter; BENCH_LOAD_ONLY=serial|pipelined to run
 * one sender.
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
const CONCURRENCY = 64;
/** Hardhat's development mnemonic: accounts 6 to 15 ask, 1 owns the model, 2 provides. */
const MNEMONIC = "test test test test test test test test test test test junk";

type Row = {
  sender: string;
  mining: string;
  requests: number;
  sendSec: number;
  spanSec: number;
  perSecond: number;
  medianMs: number;
  p95Ms: number;
};

async function run(sender: "serial" | "pipelined", blockTimeSec: number | undefined, requests: number): Promise<Row> {
  const dir = mkdtempSync(path.join(tmpdir(), "verity-bench-load-"));
  const devnet = await spawnDevnetProcess(dir);
  const { url, deploymentFile } = devnet;
  const daemons: SpawnedDaemon[] = [devnet.process];
  try {
    const rpc = createRpcProvider(url, 100);
    const deployment = readDeployment(deploymentFile);
    const provider = createWallet(DEV_PRIVATE_KEYS[2], rpc);
    const contentDir = path.join(dir, "content");
    const { modelId, price, manifest } = await registerIris(deployment, rpc, contentDir);
    // Enough stake for every claim at once, whatever the reservation per claim.
    await stakeAndOptIn(deployment, rpc, DEV_PRIVATE_KEYS[2], modelId, parseEther("1000"));
    if (blockTimeSec !== undefined) await setBlockTime(url, blockTimeSec);

    const daemon = spawnDaemon({
      config: {
        rpcUrl: url,
        deployment: deploymentFile,
        models: [modelId.toString()],
        storage: { kind: "embedded", dir: contentDir },
        stateDir: path.join(dir, "provider"),
        chain: { pollIntervalMs: 100 },
        retry: { attempts: 3, baseDelayMs: 100, maxDelayMs: 400 },
        jobs: { concurrency: CONCURRENCY, sender },
      },
      dir,
      privateKey: DEV_PRIVATE_KEYS[2],
    });
    daemons.push(daemon);
    await daemon.waitForLog((line) => line.msg === "provider daemon started", 60_000);

    const market = connectSuite(deployment, provider).inferenceMarket;
    const finalizedTopic = market.interface.getEvent("RequestFinalized").topicHash;
    const minedAt = new Map<bigint, number>();
    const finalizedAt = new Map<bigint, number>();
    let watching = true;
    let fromBlock = await rpc.getBlockNumber();
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
    rpc.destroy();

    const first = Math.min(...minedAt.values());
    const last = Math.max(...finalizedAt.values());
    const latencies = [...minedAt].map(([id, at]) => finalizedAt.get(id)! - at).sort((a, b) => a - b);
    return {
      sender,
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

const rows: Row[] = [];
for (const blockTimeSec of [undefined, 2])
  for (const sender of ["serial", "pipelined"] as const) {
    if (ONLY !== undefined && ONLY !== sender) continue;
    const requests = sender === "serial" && blockTimeSec !== undefined ? SERIAL_BLOCK_REQUESTS : REQUESTS;
    const row = await run(sender, blockTimeSec, requests);
    console.error(`done: ${JSON.stringify(row)}`);
    rows.push(row);
  }

console.log(
  `\nLoad: one provider daemon (jobs.concurrency ${CONCURRENCY}, poll 100 ms), iris, ${ACCOUNTS} requesting accounts, chain as its own process\n`,
);
console.log(
  "| sender | mining | requests | all sent in | first mined → last Finalized | requests/s | mined → Finalized, median | p95 |",
);
console.log("|---|---|---:|---:|---:|---:|---:|---:|");
for (const row of rows)
  console.log(
    `| ${row.sender} | ${row.mining} | ${row.requests} | ${row.sendSec.toFixed(1)} s | ${row.spanSec.toFixed(1)} s | ${row.perSecond.toFixed(1)} | ${(row.medianMs / 1000).toFixed(2)} s | ${(row.p95Ms / 1000).toFixed(2)} s |`,
  );
