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
 *
 * BENCH_LOAD_MODE=sustained (`npm run bench:load:sustained`) measures what the daemons sustain
 * rather than a burst: on 2 s blocks, the 10 accounts offer requests at a fixed rate
 * (BENCH_LOAD_RATE per second, default 60) for a fixed time (BENCH_LOAD_SECONDS, default 40),
 * request i due at i / rate seconds, for `fulfilBatch` and `two providers`. Rates are counted over
 * the steady window: from WARM_UP_SEC after the first request was offered to the end of offering
 * (warm-up and drain left out); the backlog (requests mined, not yet Finalized) is read at both
 * ends of that window, latencies are those of the requests mined inside it.
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
const MODE = process.env.BENCH_LOAD_MODE ?? "burst";
const RATE = Number(process.env.BENCH_LOAD_RATE ?? 60);
const SECONDS = Number(process.env.BENCH_LOAD_SECONDS ?? 40);
/** Seconds from the first request offered to the start of the steady window. */
const WARM_UP_SEC = 10;
const REQUEST_GAS_LIMIT = 300_000n;
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

/** A burst: every request sent at once. Sustained: `rate` requests a second for `seconds`. */
type Load = { kind: "burst"; requests: number } | { kind: "sustained"; rate: number; seconds: number };

/** What a sustained run adds to a row: rates and backlog over the steady window. */
type Steady = {
  windowSec: number;
  offeredPerSecond: number;
  minedPerSecond: number;
  finalizedPerSecond: number;
  backlogAtStart: number;
  backlogAtEnd: number;
};

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
  steady?: Steady;
};

async function run(p: Path, blockTimeSec: number | undefined, load: Load): Promise<Row> {
  const requests = load.kind === "burst" ? load.requests : Math.round(load.rate * load.seconds);
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
    const senders = users.map((user) => ({
      sender: createTxSender(user, { pollIntervalMs: 100 }),
      market: connectSuite(deployment, user).inferenceMarket,
    }));
    const request = async (i: number): Promise<void> => {
      const { sender, market: asUser } = senders[i % ACCOUNTS]!;
      const receipt = await sender.send({
        action: `request ${i}`,
        // A fixed limit (a request uses about 130k): one eth_call to simulate instead of
        // estimateGas's search, which spends the chain's one busy core several times per request.
        gasLimit: REQUEST_GAS_LIMIT,
        transaction: asUser.requestInference.populateTransaction(modelId, input, price, deadline, ZeroAddress, 0, {
          value: price,
        }),
      });
      const log = receipt.logs.find((entry) => entry.address === deployment.contracts.inferenceMarket)!;
      minedAt.set(BigInt(log.topics[1]!), Date.now());
    };
    const started = Date.now();
    const sends: Promise<void>[] = [];
    for (let i = 0; i < requests; i++) {
      // Sustained: request i is due at i / rate seconds; a burst sends them all at once.
      if (load.kind === "sustained") await sleep(Math.max(0, started + (i * 1000) / load.rate - Date.now()));
      sends.push(request(i));
    }
    const offered = Date.now();
    await Promise.all(sends);
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
    const windowStart = started + WARM_UP_SEC * 1000;
    const inWindow = (at: number): boolean => load.kind === "burst" || (at >= windowStart && at < offered);
    const latencies = [...minedAt]
      .filter(([, at]) => inWindow(at))
      .map(([id, at]) => finalizedAt.get(id)! - at)
      .sort((a, b) => a - b);
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
      ...(load.kind === "sustained" && { steady: steadyWindow(minedAt, finalizedAt, windowStart, offered, requests) }),
    };
  } finally {
    for (const process of daemons.reverse()) await process.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Rates over the steady window [`start`, `end`): requests offered, mined and Finalized per
 * second, and the backlog (mined, not yet Finalized) at each end. Pure: times are in ms.
 */
function steadyWindow(
  minedAt: Map<bigint, number>,
  finalizedAt: Map<bigint, number>,
  start: number,
  end: number,
  requests: number,
): Steady {
  const windowSec = (end - start) / 1000;
  const count = (times: Iterable<number>): number => [...times].filter((t) => t >= start && t < end).length;
  const backlog = (at: number): number =>
    [...minedAt].filter(([id, mined]) => mined < at && !((finalizedAt.get(id) ?? Infinity) < at)).length;
  return {
    windowSec,
    // Offered at a fixed schedule from `start - WARM_UP_SEC` to `end`.
    offeredPerSecond: requests / ((end - start) / 1000 + WARM_UP_SEC),
    minedPerSecond: count(minedAt.values()) / windowSec,
    finalizedPerSecond: count(finalizedAt.values()) / windowSec,
    backlogAtStart: backlog(start),
    backlogAtEnd: backlog(end),
  };
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

/** The chain's block gas limit: what bounds how many requests (about 130k gas each) fit a block. */
async function blockGasLimit(): Promise<bigint> {
  const dir = mkdtempSync(path.join(tmpdir(), "verity-bench-load-"));
  const devnet = await spawnDevnetProcess(dir);
  try {
    const rpc = createRpcProvider(devnet.url, 100);
    const { gasLimit } = (await rpc.getBlock("latest"))!;
    rpc.destroy();
    return gasLimit;
  } finally {
    await devnet.process.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const rows: Row[] = [];
const header = `provider daemons (jobs.concurrency ${CONCURRENCY}, poll 100 ms), iris, ${ACCOUNTS} requesting accounts, chain as its own process`;
if (MODE === "sustained") {
  const gasLimit = await blockGasLimit();
  for (const p of PATHS.filter((p) => p.name === "fulfilBatch" || p.name === "two providers")) {
    if (ONLY !== undefined && ONLY !== p.name) continue;
    const row = await run(p, 2, { kind: "sustained", rate: RATE, seconds: SECONDS });
    console.error(`done: ${JSON.stringify(row)}`);
    rows.push(row);
  }
  console.log(`\nSustained load: ${header}, 2 s blocks, block gas limit ${gasLimit}`);
  console.log(
    `${RATE} requests/s offered for ${SECONDS} s; steady window from ${WARM_UP_SEC} s after the first request to the end of offering\n`,
  );
  console.log(
    "| path | requests | offered / s | mined / s (window) | Finalized / s (window) | backlog at window start | backlog at window end | mined → Finalized, median | p95 | provider txs | provider gas / request | reverted txs / request |",
  );
  console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const row of rows) {
    const w = row.steady!;
    console.log(
      `| ${row.path} | ${row.requests} | ${w.offeredPerSecond.toFixed(1)} | ${w.minedPerSecond.toFixed(1)} | ${w.finalizedPerSecond.toFixed(1)} | ${w.backlogAtStart} | ${w.backlogAtEnd} | ${(row.medianMs / 1000).toFixed(2)} s | ${(row.p95Ms / 1000).toFixed(2)} s | ${row.providerTxs} | ${Math.round(row.gasPerRequest / 1000)}k | ${(row.reverted / row.requests).toFixed(3)} |`,
    );
  }
} else {
  for (const blockTimeSec of [undefined, 2])
    for (const p of PATHS) {
      if (ONLY !== undefined && ONLY !== p.name) continue;
      // Two providers race on 2 s blocks only, where the race is real.
      if (p.providers > 1 && blockTimeSec === undefined) continue;
      const requests = p.sender === "serial" && blockTimeSec !== undefined ? SERIAL_BLOCK_REQUESTS : REQUESTS;
      const row = await run(p, blockTimeSec, { kind: "burst", requests });
      console.error(`done: ${JSON.stringify(row)}`);
      rows.push(row);
    }

  console.log(`\nLoad: ${header}\n`);
  console.log(
    "| path | mining | requests | all sent in | first mined → last Finalized | requests/s | mined → Finalized, median | p95 | provider txs | provider gas / request | reverted txs / request |",
  );
  console.log("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const row of rows)
    console.log(
      `| ${row.path} | ${row.mining} | ${row.requests} | ${row.sendSec.toFixed(1)} s | ${row.spanSec.toFixed(1)} s | ${row.perSecond.toFixed(1)} | ${(row.medianMs / 1000).toFixed(2)} s | ${(row.p95Ms / 1000).toFixed(2)} s | ${row.providerTxs} | ${Math.round(row.gasPerRequest / 1000)}k | ${(row.reverted / row.requests).toFixed(3)} |`,
    );
}
