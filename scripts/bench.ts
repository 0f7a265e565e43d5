/**
 * `npm run bench`: measured figures for docs/BENCHMARKS.md. Everything runs on the in-process
 * Hardhat chain (EDR, Prague rules) with the iris demo model.
 *
 *   1. Gas per call of the request lifecycle (median over several requests, warm storage), and
 *      of claim-free fulfilment, alone and in batches of 1, 8 and 32 (gas per request), and of
 *      expiring a request never served.
 *   2. Daemon throughput: requests served end to end by the real daemon process.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ZeroAddress, getBytes, type TransactionReceipt } from "ethers";
import { connectSuite } from "../oracle/chain/connect.ts";
import { RequestStatus } from "../oracle/chain/request-status.ts";
import { requestParamsOf, type RequestParams } from "../oracle/chain/request-params.ts";
import { startLocalSuite } from "../oracle/devnet/local-suite.ts";
import { spawnDaemon } from "../oracle/devnet/spawn-daemon.ts";
import { sleep } from "../oracle/util/retry.ts";
import { createTensor } from "../oracle/model/tensor.ts";
import { encodeTensor } from "../oracle/model/tensor-codec.ts";
import { createSession } from "../oracle/runtime/create-session.ts";
import { runInference } from "../oracle/runtime/run-inference.ts";

const ROUNDS = 7;
const THROUGHPUT_REQUESTS = 30;

const dir = mkdtempSync(path.join(tmpdir(), "verity-bench-"));
const local = await startLocalSuite({ dir });
const { iris, actors, deployment } = local;
const asUser = connectSuite(deployment, actors.user).inferenceMarket;
const asProvider = connectSuite(deployment, actors.provider).inferenceMarket;
const input = getBytes(iris.manifest.samples[0]!.inputEnvelope);
// A real output of the model for that input: float32 [1, 3], 23 canonical bytes (the market
// accepts only the registered output format).
const session = await createSession({ model: iris.bytes });
const sample = iris.manifest.samples[0]!.input;
const output = encodeTensor(await runInference(session, createTensor("float32", [1, 4], sample)));
await session.release();

const gas: Record<string, bigint[]> = {};
const record = (name: string, receipt: TransactionReceipt | null) => (gas[name] ??= []).push(receipt!.gasUsed);
/** The request a receipt made: its id, and the params every later call over it takes back. */
const requested = (receipt: TransactionReceipt): { id: bigint; params: RequestParams } => {
  const { args } = asUser.interface.parseLog(
    receipt.logs.find((log) => log.address === deployment.contracts.inferenceMarket)!,
  )!;
  const { requestId, requester, feeToken, fee, callback, callbackGasLimit, input } = args;
  return {
    id: requestId as bigint,
    params: requestParamsOf({ requester, feeToken, fee, callback, callbackGasLimit, input }),
  };
};
const requestId = (receipt: TransactionReceipt) => requested(receipt).id;
const deadline = async () => BigInt((await local.rpc.getBlock("latest"))!.timestamp) + 600n;

for (let round = 0; round < ROUNDS; round++) {
  const direct = (await (
    await asUser.requestInference(iris.modelId, input, iris.price, await deadline(), ZeroAddress, 0, {
      value: iris.price,
    })
  ).wait())!;
  record("requestInference (ETH, no callback)", direct);
  const { id, params } = requested(direct);
  record("claim", await (await asProvider.claim(id)).wait());
  record("submit + settle (no callback)", await (await asProvider.submit(id, params, output)).wait());

  const viaConsumer = (await (await local.consumer.ask(input, await deadline(), { value: iris.price })).wait())!;
  record("requestInference via ExampleClassifierConsumer", viaConsumer);
  const consumerRequest = requested(viaConsumer);
  await (await asProvider.claim(consumerRequest.id)).wait();
  record(
    "submit + settle + consumer callback",
    await (await asProvider.submit(consumerRequest.id, consumerRequest.params, output)).wait(),
  );

  const released = requestId(
    (await (
      await asUser.requestInference(iris.modelId, input, iris.price, await deadline(), ZeroAddress, 0, {
        value: iris.price,
      })
    ).wait())!,
  );
  await (await asProvider.claim(released)).wait();
  record("release", await (await asProvider.release(released)).wait());

  // Claim-free: one transaction per request, or one per batch (its gas shared by the batch).
  const ask = async () =>
    requested(
      (await (
        await asUser.requestInference(iris.modelId, input, iris.price, await deadline(), ZeroAddress, 0, {
          value: iris.price,
        })
      ).wait())!,
    );
  const single = await ask();
  record(
    "fulfil (claim-free claim + submit + settle, no callback)",
    await (await asProvider.fulfil(single.id, single.params, output)).wait(),
  );
  for (const n of [1, 8, 32]) {
    const asked: { id: bigint; params: RequestParams }[] = [];
    for (let i = 0; i < n; i++) asked.push(await ask());
    const batch = (await (
      await asProvider.fulfilBatch(
        asked.map((r) => r.id),
        asked.map((r) => r.params),
        asked.map(() => output),
      )
    ).wait())!;
    (gas[`fulfilBatch of ${n}, per request`] ??= []).push(batch.gasUsed / BigInt(n));
  }
  // A request never served: past its deadline anyone refunds it.
  const lapsed = await ask();
  await local.rpc.send("evm_increaseTime", [601]);
  await local.rpc.send("evm_mine", []);
  record("expire (unclaimed, refund)", await (await asProvider.expire(lapsed.id, lapsed.params)).wait());
  record("withdraw (provider, ETH)", await (await asProvider.withdraw(ZeroAddress)).wait());
}

const median = (values: bigint[]) => [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))[values.length >> 1]!;
console.log(
  `\nGas per call (median of ${ROUNDS}, in-process EDR, solc ${process.env.npm_package_devDependencies_solc ?? "0.8.30"}, optimizer 200 runs)\n`,
);
console.log("| call | gas (median) | min | max |");
console.log("|---|---:|---:|---:|");
for (const [name, values] of Object.entries(gas)) {
  const sorted = [...values].sort((a, b) => (a < b ? -1 : 1));
  console.log(`| ${name} | ${median(values)} | ${sorted[0]} | ${sorted.at(-1)} |`);
}

// Throughput: the daemon as a separate process serves a burst of requests.
const daemon = spawnDaemon({
  config: local.daemonConfig({ jobs: { concurrency: 4 } }),
  dir,
  privateKey: actors.provider.privateKey,
});
await daemon.waitForLog((line) => line.msg === "provider daemon started");
const ids: bigint[] = [];
const started = Date.now();
for (let i = 0; i < THROUGHPUT_REQUESTS; i++)
  ids.push(
    requestId(
      (await (
        await asUser.requestInference(iris.modelId, input, iris.price, await deadline(), ZeroAddress, 0, {
          value: iris.price,
        })
      ).wait())!,
    ),
  );
const sent = Date.now();
for (const id of ids) while (Number(await asUser.statusOf(id)) !== RequestStatus.Finalized) await sleep(25);
const done = Date.now();
await daemon.stop();
console.log(`\nDaemon throughput (one provider process, concurrency 4, poll 100 ms, automine)\n`);
console.log("| requests | sent in | all Finalized after | requests/s | wall time per request |");
console.log("|---:|---:|---:|---:|---:|");
console.log(
  `| ${THROUGHPUT_REQUESTS} | ${((sent - started) / 1000).toFixed(2)} s | ${((done - started) / 1000).toFixed(2)} s | ${(
    THROUGHPUT_REQUESTS /
    ((done - started) / 1000)
  ).toFixed(1)} | ${((done - started) / THROUGHPUT_REQUESTS).toFixed(0)} ms |`,
);

await local.close();
rmSync(dir, { recursive: true, force: true });
