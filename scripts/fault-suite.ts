/**
 * `npm run bench:faults`: the provider daemon under faults, and what must hold after each run.
 *
 * Each scenario starts `verity devnet` as its own process, registers the iris model, starts one
 * provider daemon (two for some scenarios) whose only JSON-RPC URL is a proxy on 127.0.0.1 in
 * front of the chain (so the node can be made to hang or refuse), streams iris requests from
 * several accounts straight to the chain, and injects its faults on a schedule (random points
 * from a seeded generator). Afterwards it refunds what is past its deadline (`expire`, as anyone
 * may) and checks:
 * - every request Finalized or Refunded;
 * - no honest provider slashed (no `Slashed` of our providers, no refund with a claim penalty);
 * - none served twice (at most one `ResultSubmitted` per request);
 * - the market's `balance == escrowed + owed` (ETH);
 * - no claim/release loop (`RequestReleased` at most once per request);
 * - every Finalized output equal to onnxruntime's output for that request's own input.
 *
 * Reorgs: `evm_snapshot` at a random point, `evm_revert` a few blocks later. The requesters here
 * take a receipt as final (no confirmations), so the suite re-sends every request the revert
 * dropped, with another sample as input: it is mined again under the same id the dropped one had
 * (ids count up), and must be served with its own input, not the dropped one's.
 *
 * `test/node/fault-suite.test.ts` runs a short mixed scenario in `npm test`; this script runs
 * every scenario and prints the table kept in docs/BENCHMARKS.md. Environment: FAULT_SEED (default
 * 1), FAULT_ONLY=<scenario name> to run one, FAULT_KEEP=1 to keep each run's folder (daemon logs).
 */
import { cpSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { HDNodeWallet, hexlify, parseEther, ZeroAddress, type JsonRpcProvider } from "ethers";
import { attach, connectSuite, createRpcProvider, createWallet, type Suite } from "../oracle/chain/connect.ts";
import { readDeployment, type Deployment } from "../oracle/chain/deployment.ts";
import { requestStatusName } from "../oracle/chain/request-status.ts";
import { findRequestParams } from "../oracle/chain/request-params.ts";
import { createTxSender, type TxSender } from "../oracle/chain/tx-sender.ts";
import {
  registerIris,
  spawnDevnetProcess,
  stakeAndOptIn,
  type DevnetProcess,
} from "../oracle/devnet/devnet-process.ts";
import { readIris } from "../oracle/devnet/local-suite.ts";
import { startRpcProxy, type RpcProxy } from "../oracle/devnet/rpc-proxy.ts";
import { spawnDaemon, type SpawnedDaemon } from "../oracle/devnet/spawn-daemon.ts";
import { DEV_PRIVATE_KEYS } from "../oracle/devnet/start-devnet.ts";
import { encodeContentInput } from "../oracle/model/input-envelope.ts";
import { createTensor } from "../oracle/model/tensor.ts";
import { encodeTensor } from "../oracle/model/tensor-codec.ts";
import { createSession } from "../oracle/runtime/create-session.ts";
import { runInference } from "../oracle/runtime/run-inference.ts";
import { openEmbeddedStore } from "../oracle/storage/embedded-store.ts";
import { sleep } from "../oracle/util/retry.ts";
import type { ProviderRegistry } from "../types/ethers-contracts/ProviderRegistry.ts";

/**
 * What can go wrong: `kill9` (SIGKILL, restart), `sigterm` (graceful stop, restart), `rpc-down`
 * (the node refuses connections), `rpc-hang` (the node accepts and never answers),
 * `store-removed` / `store-corrupted` (the content folder deleted, or its blocks overwritten,
 * and the daemon restarted so that it must fetch the model again; then put back),
 * `content-missing` (requests whose input content id is in no store), `reorg` (`evm_snapshot`, then
 * `evm_revert` 2–5 blocks later; the dropped requests re-sent with other inputs).
 */
export type FaultKind =
  "kill9" | "sigterm" | "rpc-down" | "rpc-hang" | "store-removed" | "store-corrupted" | "content-missing" | "reorg";

export type Scenario = {
  name: string;
  faults: readonly FaultKind[];
  /** Requests with inline input, streamed over `streamSec`. */
  requests: number;
  /** Requests whose input content is missing (with `content-missing`). */
  missing?: number | undefined;
  providers: 1 | 2;
  accounts: number;
  streamSec: number;
  /** How many times each process fault (kill9, sigterm) and each reorg strikes. */
  strikes?: number | undefined;
  /** How long an RPC or store fault lasts; s. */
  outageSec?: number | undefined;
};

export type ScenarioResult = {
  name: string;
  faults: string;
  providers: number;
  requests: number;
  finalized: number;
  refunded: number;
  other: string[];
  servedTwice: number;
  /** Requests a reorg dropped (each re-sent with another input). */
  dropped: number;
  /** Live requests under an id a dropped request had, with another input than it. */
  reusedIds: number;
  /** Finalized requests whose output is not onnxruntime's for their own input. */
  wrongOutputs: number;
  releases: number;
  slashes: number;
  penalties: number;
  balanceOk: boolean;
  seconds: number;
  /** Each check that failed, in words; empty when the run passed. */
  failures: string[];
};

/** Hardhat's development mnemonic: accounts 6 and on ask. */
const MNEMONIC = "test test test test test test test test test test test junk";
const INLINE_TTL_SEC = 600;
const MISSING_TTL_SEC = 12;

/** A small seeded generator (mulberry32): the same seed gives the same fault points. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Overwrites every block file under `dir` with bytes of the same length that hash to something else. */
function corruptBlocks(dir: string): number {
  let corrupted = 0;
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder)) {
      const file = path.join(folder, entry);
      if (statSync(file).isDirectory()) walk(file);
      else {
        writeFileSync(file, Buffer.alloc(statSync(file).size, 0x5a));
        corrupted++;
      }
    }
  };
  walk(dir);
  return corrupted;
}

type Provider = { key: string; name: string; daemon: SpawnedDaemon | undefined };

/** A request as mined: its id, transaction, sender (index) and input (an iris sample, or missing content). */
type SentRequest = { id: bigint; hash: string; account: number; sample: number | "missing" };

/** onnxruntime's encoded output for each iris sample: what a Finalized request must hold. */
async function referenceOutputs(): Promise<string[]> {
  const { bytes, manifest } = readIris();
  const session = await createSession({ model: bytes });
  try {
    const outputs: string[] = [];
    for (const sample of manifest.samples)
      outputs.push(hexlify(encodeTensor(await runInference(session, createTensor("float32", [1, 4], sample.input)))));
    return outputs;
  } finally {
    await session.release();
  }
}

/** Runs one scenario on a fresh devnet and checks what must hold. */
export async function runScenario(
  scenario: Scenario,
  {
    seed = 1,
    log = (line: string) => console.error(line),
    keep = false,
  }: { seed?: number; log?: (line: string) => void; keep?: boolean } = {},
): Promise<ScenarioResult> {
  const random = seededRandom(seed);
  const started = Date.now();
  const dir = mkdtempSync(path.join(tmpdir(), "verity-faults-"));
  let devnet: DevnetProcess | undefined;
  let proxy: RpcProxy | undefined;
  let rpc: JsonRpcProvider | undefined;
  const providers: Provider[] = [];
  try {
    devnet = await spawnDevnetProcess(dir);
    const { url, deploymentFile } = devnet;
    rpc = createRpcProvider(url, 100);
    const deployment = readDeployment(deploymentFile);
    proxy = await startRpcProxy(url);

    // The model's content, and a copy to put back after a store fault.
    const contentDir = path.join(dir, "content");
    const backupDir = path.join(dir, "content-backup");
    const { modelId, price, manifest } = await registerIris(deployment, rpc, contentDir);
    cpSync(contentDir, backupDir, { recursive: true });
    // A content id that no store holds: added to a scratch store that is then thrown away.
    const scratch = await openEmbeddedStore({ dir: path.join(dir, "scratch") });
    const missingCid = await scratch.add(new TextEncoder().encode(`never stored ${seed}`));
    await scratch.close();
    rmSync(path.join(dir, "scratch"), { recursive: true, force: true });

    for (let i = 0; i < scenario.providers; i++) {
      const key = DEV_PRIVATE_KEYS[2 + i]!;
      await stakeAndOptIn(deployment, rpc, key, modelId, parseEther("100"));
      providers.push({ key, name: `provider-${i}`, daemon: undefined });
    }
    const stakesBefore = await Promise.all(providers.map((p) => stakeOf(deployment, rpc!, p.key)));

    const start = (provider: Provider) => {
      provider.daemon = spawnDaemon({
        config: {
          rpcUrls: [proxy!.url],
          deployment: deploymentFile,
          models: [modelId.toString()],
          storage: { kind: "embedded", dir: contentDir },
          stateDir: path.join(dir, provider.name),
          chain: { pollIntervalMs: 200, rpcTimeoutMs: 2_000, rpcRecheckMs: 500 },
          retry: { attempts: 3, baseDelayMs: 100, maxDelayMs: 1_000 },
          jobs: { concurrency: 8 },
        },
        dir,
        privateKey: provider.key,
        name: provider.name,
      });
      return provider.daemon.waitForLog((line) => line.msg === "provider daemon started", 60_000);
    };
    await Promise.all(providers.map(start));

    // The stream: each account sends its share one after another, spaced over streamSec.
    const users = Array.from({ length: scenario.accounts }, (_, i) =>
      createWallet(HDNodeWallet.fromPhrase(MNEMONIC, undefined, `m/44'/60'/0'/0/${6 + i}`).privateKey, rpc!),
    );
    const market = connectSuite(deployment, users[0]!).inferenceMarket;
    const senders: TxSender[] = [];
    // After a revert the senders' local nonces are ahead of the chain: new senders read them again.
    const newSenders = () => users.forEach((user, u) => (senders[u] = createTxSender(user, { pollIntervalMs: 100 })));
    newSenders();
    const missing = scenario.faults.includes("content-missing") ? (scenario.missing ?? 2) : 0;
    const total = scenario.requests + missing;
    const gapMs = (scenario.streamSec * 1000) / total;
    const samples = manifest.samples;
    // Requests on the chain as it is now (a reorg takes out the ones it dropped).
    const live: SentRequest[] = [];
    const dropped: SentRequest[] = [];
    // A revert waits for request sends in flight, and holds new ones, so each has its receipt
    // from one side of it.
    let paused: Promise<void> | undefined;
    let inFlight = 0;
    const request = async (u: number, sample: number | "missing") => {
      while (paused) await paused;
      inFlight++;
      try {
        const deadline =
          BigInt((await rpc!.getBlock("latest"))!.timestamp) +
          BigInt(sample === "missing" ? MISSING_TTL_SEC : INLINE_TTL_SEC);
        const asker = connectSuite(deployment, users[u]!).inferenceMarket;
        const input = sample === "missing" ? encodeContentInput(missingCid) : samples[sample]!.inputEnvelope;
        const receipt = await senders[u]!.send({
          action: `request (sample ${sample})`,
          transaction: asker.requestInference.populateTransaction(modelId, input, price, deadline, ZeroAddress, 0, {
            value: price,
          }),
        });
        const event = receipt.logs.find((entry) => entry.address === deployment.contracts.inferenceMarket)!;
        live.push({ id: BigInt(event.topics[1]!), hash: receipt.hash, account: u, sample });
      } finally {
        inFlight--;
      }
    };
    // Spread over the stream: the k-th of `missing` at the middle of its share.
    const missingAt = new Set(Array.from({ length: missing }, (_, k) => Math.floor(((k + 0.5) * total) / missing)));
    const send = async (i: number) => {
      await sleep(i * gapMs);
      await request(i % users.length, missingAt.has(i) ? "missing" : i % samples.length);
    };
    const stream = Promise.all(Array.from({ length: total }, (_, i) => send(i)));

    /** Snapshot, `depth` blocks (waited for, else mined), revert; re-sends what was dropped. */
    const reorg = async (depth: number) => {
      const mark = (await rpc!.send("evm_snapshot", [])) as string;
      const base = Number(await rpc!.send("eth_blockNumber", []));
      const until = Date.now() + 10_000;
      while (Number(await rpc!.send("eth_blockNumber", [])) < base + depth) {
        if (Date.now() > until) await rpc!.send("evm_mine", []);
        else await sleep(100);
      }
      let resume = () => {};
      paused = new Promise<void>((resolve) => (resume = resolve));
      while (inFlight > 0) await sleep(20);
      // From a little below: a block may have been mined between the snapshot and reading `base`.
      const submitted = await market.queryFilter(market.filters.ResultSubmitted(), Math.max(base - 3, 0));
      if ((await rpc!.send("evm_revert", [mark])) !== true) throw new Error(`evm_revert ${mark} refused`);
      const kept = Number(await rpc!.send("eth_blockNumber", []));
      const results = submitted.filter((event) => event.blockNumber > kept).length;
      const gone: SentRequest[] = [];
      for (const sent of [...live])
        if ((await rpc!.getTransactionReceipt(sent.hash)) === null) {
          gone.push(sent);
          live.splice(live.indexOf(sent), 1);
        }
      dropped.push(...gone);
      newSenders();
      paused = undefined;
      resume();
      // Another sample, so that a request served with the dropped one's input shows.
      await Promise.all(
        gone.map((sent) =>
          request(sent.account, sent.sample === "missing" ? "missing" : (sent.sample + 1) % samples.length),
        ),
      );
      return `${gone.length} requests and ${results} results dropped`;
    };

    // The faults, each at its own random point within the stream.
    const outageMs = (scenario.outageSec ?? 3) * 1000;
    const at = () => 1000 + random() * Math.max(scenario.streamSec * 1000 - outageMs - 1000, 1);
    // Missing content is in the requests themselves, not an event in time.
    const injected: string[] = missing > 0 ? [`content missing ×${missing}`] : [];
    const timed = scenario.faults.filter((fault) => fault !== "content-missing");
    const repeated = (fault: FaultKind) => fault === "kill9" || fault === "sigterm" || fault === "reorg";
    const faults = timed.flatMap((fault) =>
      Array.from({ length: repeated(fault) ? (scenario.strikes ?? 1) : 1 }, () => ({
        fault,
        atMs: at(),
      })),
    );
    faults.sort((a, b) => a.atMs - b.atMs);
    const injecting = (async () => {
      const t0 = Date.now();
      for (const { fault, atMs } of faults) {
        await sleep(Math.max(0, t0 + atMs - Date.now()));
        const victim = providers[Math.floor(random() * providers.length)]!;
        const when = `${fault}@${(atMs / 1000).toFixed(1)}s`;
        log(`  fault ${fault} at ${(atMs / 1000).toFixed(1)} s (${fault === "reorg" ? "the chain" : victim.name})`);
        if (fault === "reorg") {
          const depth = 2 + Math.floor(random() * 4);
          injected.push(`${when} (${depth} blocks: ${await reorg(depth)})`);
          continue;
        }
        injected.push(when);
        if (fault === "kill9") {
          await victim.daemon!.kill();
          await sleep(500 + random() * 1500);
          await start(victim);
        } else if (fault === "sigterm") {
          await victim.daemon!.stop();
          await start(victim);
        } else if (fault === "rpc-down" || fault === "rpc-hang") {
          await proxy!.setMode(fault === "rpc-down" ? "refuse" : "hang");
          await sleep(outageMs);
          await proxy!.setMode("pass");
        } else if (fault === "store-removed" || fault === "store-corrupted") {
          // A restart, so that the model must come from the store again.
          await victim.daemon!.kill();
          if (fault === "store-removed") rmSync(contentDir, { recursive: true, force: true });
          else corruptBlocks(contentDir);
          await start(victim);
          await sleep(outageMs);
          rmSync(contentDir, { recursive: true, force: true });
          cpSync(backupDir, contentDir, { recursive: true });
        }
      }
    })();
    await Promise.all([stream, injecting]);
    const ids = live.map((sent) => sent.id);

    // Settle: wait for every request to end, refunding what passed its deadline.
    const until = Date.now() + 120_000 + MISSING_TTL_SEC * 1000;
    for (;;) {
      const open: bigint[] = [];
      for (const id of ids) {
        const status = requestStatusName(await market.statusOf(id));
        if (status === "Finalized" || status === "Refunded" || status === "Failed") continue;
        open.push(id);
        const { deadline } = await market.getRequest(id);
        const now = BigInt((await rpc.getBlock("latest"))!.timestamp);
        if (now > deadline && (status === "Pending" || status === "Claimed"))
          await senders[0]!
            .send({
              action: `expire ${id}`,
              // From its event: a reorg may have given the id to another request since it was sent.
              transaction: market.expire.populateTransaction(id, await findRequestParams(market, id)),
            })
            .catch(
              () => undefined, // a daemon may have expired it first
            );
      }
      if (open.length === 0 || Date.now() > until) break;
      // The clock of an automine chain moves with its blocks: one empty block a second.
      await rpc.send("evm_mine", []);
      await sleep(1000);
    }
    const result = await check({
      scenario,
      deployment,
      rpc,
      market,
      live,
      dropped,
      providers,
      stakesBefore,
      injected,
      started,
    });
    // Only the suite stops daemons: one that ended by itself crashed or gave up.
    for (const provider of providers) {
      const { child, stderr } = provider.daemon!;
      if (child.exitCode !== null || child.signalCode !== null)
        result.failures.push(
          `${provider.name} exited by itself (${child.exitCode ?? child.signalCode}): ${stderr[0] ?? ""}`,
        );
    }
    keep ||= result.failures.length > 0; // the logs say why
    return result;
  } finally {
    for (const provider of providers) await provider.daemon?.stop();
    await proxy?.close();
    rpc?.destroy();
    await devnet?.process.stop();
    if (keep) log(`  logs and state kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

async function stakeOf(deployment: Deployment, rpc: JsonRpcProvider, key: string): Promise<bigint> {
  const registry = attach<ProviderRegistry>("ProviderRegistry", deployment.contracts.providerRegistry, rpc);
  return registry.stakeOf(createWallet(key, rpc).address);
}

async function check({
  scenario,
  deployment,
  rpc,
  market,
  live,
  dropped,
  providers,
  stakesBefore,
  injected,
  started,
}: {
  scenario: Scenario;
  deployment: Deployment;
  rpc: JsonRpcProvider;
  market: Suite["inferenceMarket"];
  live: SentRequest[];
  dropped: SentRequest[];
  providers: Provider[];
  stakesBefore: bigint[];
  injected: string[];
  started: number;
}): Promise<ScenarioResult> {
  const ids = live.map((sent) => sent.id);
  const statuses = await Promise.all(ids.map(async (id) => requestStatusName(await market.statusOf(id))));
  const reference = await referenceOutputs();
  let wrongOutputs = 0;
  for (const [i, sent] of live.entries())
    if (statuses[i] === "Finalized" && sent.sample !== "missing")
      if (hexlify(await market.outputOf(sent.id)) !== reference[sent.sample]) wrongOutputs++;
  const count = (name: string) => statuses.filter((status) => status === name).length;
  const submitted = await market.queryFilter(market.filters.ResultSubmitted(), 0);
  const perRequest = new Map<bigint, number>();
  for (const event of submitted) perRequest.set(event.args.requestId, (perRequest.get(event.args.requestId) ?? 0) + 1);
  const released = await market.queryFilter(market.filters.RequestReleased(), 0);
  const releasesPer = new Map<bigint, number>();
  for (const event of released) releasesPer.set(event.args.requestId, (releasesPer.get(event.args.requestId) ?? 0) + 1);
  const refunds = await market.queryFilter(market.filters.RequestRefunded(), 0);
  const registry = attach<ProviderRegistry>("ProviderRegistry", deployment.contracts.providerRegistry, rpc);
  const ours = new Set(providers.map((p) => createWallet(p.key, rpc).address.toLowerCase()));
  const slashes = (await registry.queryFilter(registry.filters.Slashed(), 0)).filter((event) =>
    ours.has(event.args.provider.toLowerCase()),
  );
  const stakesAfter = await Promise.all(providers.map((p) => stakeOf(deployment, rpc, p.key)));
  const marketAddress = deployment.contracts.inferenceMarket;
  const balance = await rpc.getBalance(marketAddress);
  const [escrowed, owed] = await Promise.all([market.escrowed(ZeroAddress), market.owed(ZeroAddress)]);

  const result: ScenarioResult = {
    name: scenario.name,
    faults: injected.join(", "),
    providers: scenario.providers,
    requests: ids.length,
    finalized: count("Finalized"),
    refunded: count("Refunded"),
    other: statuses.filter((status) => status !== "Finalized" && status !== "Refunded"),
    servedTwice: [...perRequest.values()].filter((n) => n > 1).length,
    dropped: dropped.length,
    reusedIds: live.filter((sent) => dropped.some((gone) => gone.id === sent.id && gone.sample !== sent.sample)).length,
    wrongOutputs,
    releases: released.length,
    slashes: slashes.length,
    penalties: refunds.filter((event) => event.args.penalty > 0n).length,
    balanceOk: balance === escrowed + owed,
    seconds: (Date.now() - started) / 1000,
    failures: [],
  };
  const expected = scenario.requests + (scenario.faults.includes("content-missing") ? (scenario.missing ?? 2) : 0);
  if (ids.length !== expected) result.failures.push(`${ids.length} of ${expected} requests were sent`);
  if (new Set(ids).size !== ids.length) result.failures.push("two live requests under one id");
  if (wrongOutputs > 0)
    result.failures.push(`${wrongOutputs} Finalized output(s) differ from the reference for their own input`);
  if (result.other.length > 0)
    result.failures.push(`requests neither Finalized nor Refunded: ${result.other.join(", ")}`);
  if (result.servedTwice > 0) result.failures.push(`${result.servedTwice} request(s) served twice`);
  if (result.slashes > 0 || result.penalties > 0 || stakesAfter.some((stake, i) => stake < stakesBefore[i]!))
    result.failures.push(
      `honest provider slashed: ${result.slashes} slash(es), ${result.penalties} claim penalty(ies)`,
    );
  if (!result.balanceOk) result.failures.push(`market balance ${balance} != escrowed ${escrowed} + owed ${owed}`);
  if ([...releasesPer.values()].some((n) => n > 1))
    result.failures.push("a request released more than once (claim/release loop)");
  if (result.finalized < scenario.requests)
    result.failures.push(`${scenario.requests - result.finalized} inline request(s) not served`);
  return result;
}

/** Every scenario of the bench: each fault on its own, then mixes, one and two providers. */
export const BENCH_SCENARIOS: Scenario[] = [
  { name: "kill -9 ×4", faults: ["kill9"], strikes: 4, requests: 40, providers: 1, accounts: 4, streamSec: 40 },
  {
    name: "SIGTERM + restart ×3",
    faults: ["sigterm"],
    strikes: 3,
    requests: 40,
    providers: 1,
    accounts: 4,
    streamSec: 40,
  },
  { name: "RPC down 5 s", faults: ["rpc-down"], outageSec: 5, requests: 30, providers: 1, accounts: 4, streamSec: 20 },
  {
    name: "RPC hanging 5 s",
    faults: ["rpc-hang"],
    outageSec: 5,
    requests: 30,
    providers: 1,
    accounts: 4,
    streamSec: 20,
  },
  {
    name: "store removed 5 s",
    faults: ["store-removed"],
    outageSec: 5,
    requests: 30,
    providers: 1,
    accounts: 4,
    streamSec: 20,
  },
  {
    name: "store corrupted 5 s",
    faults: ["store-corrupted"],
    outageSec: 5,
    requests: 30,
    providers: 1,
    accounts: 4,
    streamSec: 20,
  },
  {
    name: "content missing",
    faults: ["content-missing"],
    missing: 4,
    requests: 20,
    providers: 1,
    accounts: 4,
    streamSec: 15,
  },
  {
    name: "two providers: kill -9 ×3, RPC down",
    faults: ["kill9", "rpc-down"],
    strikes: 3,
    requests: 40,
    providers: 2,
    accounts: 4,
    streamSec: 40,
  },
  { name: "reorg ×3", faults: ["reorg"], strikes: 3, requests: 30, providers: 1, accounts: 4, streamSec: 30 },
  {
    name: "two providers: reorg ×3",
    faults: ["reorg"],
    strikes: 3,
    requests: 30,
    providers: 2,
    accounts: 4,
    streamSec: 30,
  },
  {
    name: "two providers: reorg ×2, kill -9 ×2",
    faults: ["reorg", "kill9"],
    strikes: 2,
    requests: 30,
    providers: 2,
    accounts: 4,
    streamSec: 30,
  },
];

function table(results: ScenarioResult[], seed: number): string {
  const lines = [
    `Faults (seed ${seed}): iris requests streamed from several accounts, devnet as its own process, daemons behind a fault proxy\n`,
    "| scenario | providers | requests | Finalized | Refunded | served twice | releases | honest slashed | balance = escrowed + owed | outputs = reference | faults injected | time | result |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---|---|---|---:|---|",
    ...results.map(
      (r) =>
        `| ${r.name} | ${r.providers} | ${r.requests} | ${r.finalized} | ${r.refunded} | ${r.servedTwice} | ${r.releases} | ${r.slashes + r.penalties} | ${r.balanceOk ? "yes" : "NO"} | ${r.wrongOutputs === 0 ? "yes" : `NO (${r.wrongOutputs})`} | ${r.faults} | ${r.seconds.toFixed(0)} s | ${r.failures.length === 0 ? "pass" : `FAIL: ${r.failures.join("; ")}`} |`,
    ),
  ];
  return lines.join("\n");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const seed = Number(process.env.FAULT_SEED ?? 1);
  const only = process.env.FAULT_ONLY;
  const results: ScenarioResult[] = [];
  for (const scenario of BENCH_SCENARIOS) {
    if (only !== undefined && scenario.name !== only) continue;
    console.error(`scenario: ${scenario.name}`);
    const result = await runScenario(scenario, { seed, keep: process.env.FAULT_KEEP === "1" });
    console.error(`done: ${JSON.stringify(result)}`);
    results.push(result);
  }
  console.log(`\n${table(results, seed)}`);
  if (results.some((r) => r.failures.length > 0)) process.exitCode = 1;
}
