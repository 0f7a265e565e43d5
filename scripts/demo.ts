/**
 * `npm start`: the whole system on one machine. A local chain, the suite deployed, the iris
 * model stored and registered, a staked provider whose daemon runs as its own process, and an
 * example dApp contract asking for three classifications, each printed as it is settled and
 * checked against a local onnxruntime run of the same input. The iris integer model is also
 * registered in ZK mode (committed proving artifacts, no setup): one inline int8 request is proved by
 * the daemon and settled by `submitWithProof`, checked against the reference executor.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { formatEther, getBytes, hexlify, ZeroAddress } from "ethers";
import { RequestStatus, requestStatusName } from "../oracle/chain/request-status.ts";
import { startLocalSuite } from "../oracle/devnet/local-suite.ts";
import { spawnDaemon } from "../oracle/devnet/spawn-daemon.ts";
import { registerZkModel } from "../oracle/devnet/zk-suite.ts";
import { quantiseInput } from "../oracle/model/quantise/fixed-point.ts";
import type { Tensor } from "../oracle/model/tensor.ts";
import { executeVqm } from "../oracle/model/vqm/reference-executor.ts";
import { argmax } from "../oracle/model/argmax.ts";
import { decodeInputEnvelope, encodeContentInput } from "../oracle/model/input-envelope.ts";
import { decodeTensor, encodeTensor } from "../oracle/model/tensor-codec.ts";
import { createSession } from "../oracle/runtime/create-session.ts";
import { runInference } from "../oracle/runtime/run-inference.ts";
import { encodeRequestInput } from "../oracle/sdk/encode-request-input.ts";
import { sleep } from "../oracle/util/retry.ts";

const keep = process.argv.includes("--keep");
const dir = mkdtempSync(path.join(tmpdir(), "verity-demo-"));
const started = Date.now();
const say = (line: string) => console.log(line);

say("Verity local demo");
const local = await startLocalSuite({ dir });
const { suite, iris, consumer, actors, rpc } = local;
say(`  chain      ${local.devnet.url} (in-process Hardhat EDR, chain id ${local.deployment.chainId})`);
say(`  contracts  ModelRegistry ${local.deployment.contracts.modelRegistry}`);
say(`             ProviderRegistry ${local.deployment.contracts.providerRegistry}`);
say(`             InferenceMarket ${local.deployment.contracts.inferenceMarket}`);
say(
  `  model #${iris.modelId}   ${iris.manifest.name}: held-out accuracy ${(iris.manifest.heldOutAccuracy * 100).toFixed(1)} %, ` +
    `price ${formatEther(iris.price)} ETH, content ${iris.contentId}`,
);

const zk = await registerZkModel(local);
say(
  `  model #${zk.modelId}   ${zk.manifest.name}: the same network in integers, ZK mode (Groth16, ` +
    `verifier ${zk.adapter}), price ${formatEther(zk.price)} ETH`,
);

const daemon = spawnDaemon({
  config: local.daemonConfig({
    models: [iris.modelId.toString(), zk.modelId.toString()],
    zk: { models: { [zk.modelId.toString()]: zk.dir } },
  }),
  dir,
  privateKey: actors.provider.privateKey,
  onLog: (line) => {
    if (line.level === "error" || line.level === "warn") say(`  [daemon ${line.level}] ${line.msg}`);
  },
});
await daemon.waitForLog((line) => line.msg === "provider daemon started");
say(
  `  provider   ${actors.provider.address} staked ${formatEther(await suite.providerRegistry.stakeOf(actors.provider.address))} ETH, daemon pid ${daemon.child.pid}`,
);
say(`  consumer   ExampleClassifierConsumer ${await consumer.getAddress()} (dApp account ${actors.user.address})`);
say("");

// Two inputs travel in calldata; the third by content id, fetched from the content store.
const samples = iris.manifest.samples.slice(0, 3);
const envelopes = samples.map((sample, i) => {
  if (i < 2) return getBytes(sample.inputEnvelope);
  const envelope = decodeInputEnvelope(getBytes(sample.inputEnvelope));
  if (envelope.kind !== "inline") throw new Error("sample envelopes are inline");
  return envelope.tensor;
});
const thirdCid = await local.content.add(encodeTensor(envelopes[2] as Exclude<(typeof envelopes)[number], Uint8Array>));
envelopes[2] = encodeContentInput(thirdCid);

const local_ = await createSession({ model: iris.bytes });
const requests: {
  id: bigint;
  sample: (typeof samples)[number];
  requestGas: bigint;
  /** From the request's event: the market keeps only a commitment to it. */
  fee: bigint;
  inputText: string;
  zk?: boolean;
}[] = [];
for (const [i, sample] of samples.entries()) {
  const deadline = BigInt((await rpc.getBlock("latest"))!.timestamp) + 600n;
  const tx = await consumer.ask(envelopes[i] as Uint8Array, deadline, { value: iris.price });
  const receipt = (await tx.wait())!;
  const event = receipt.logs
    .map((log) => suite.inferenceMarket.interface.parseLog(log))
    .find((parsed) => parsed?.name === "InferenceRequested");
  const id = event!.args.requestId as bigint;
  const inputText = `[${sample.input.join(", ")}]${i === 2 ? ` (by CID ${thirdCid.slice(0, 12)}…)` : ""}`;
  requests.push({ id, sample, requestGas: receipt.gasUsed, fee: event!.args.fee as bigint, inputText });
  say(`requested  #${id}  input ${inputText}  (request gas ${receipt.gasUsed})`);
}

// The ZK request: the canonical int8 tensor inline (0x00 ‖ tensor, as every mode takes it),
// quantised from the last sample. The market checks it is exactly the registered int8 [1, 4].
const zkSample = samples[2]!;
const zkInput: Tensor = {
  dtype: "int8",
  shape: zk.manifest.input.shape,
  data: quantiseInput(zkSample.input, zk.manifest.input.scale),
};
const zkInputText = `int8 [${Array.from(zkInput.data as Int8Array).join(", ")}] (${zkSample.input.join(", ")} cm)`;
{
  const market = local.suite.inferenceMarket.connect(actors.user);
  const deadline = BigInt((await rpc.getBlock("latest"))!.timestamp) + 600n;
  const tx = await market.requestInference(
    zk.modelId,
    encodeRequestInput(zkInput),
    zk.price,
    deadline,
    ZeroAddress,
    0,
    {
      value: zk.price,
    },
  );
  const receipt = (await tx.wait())!;
  const event = receipt.logs
    .map((log) => suite.inferenceMarket.interface.parseLog(log))
    .find((parsed) => parsed?.name === "InferenceRequested");
  const id = event!.args.requestId as bigint;
  requests.push({
    id,
    sample: zkSample,
    requestGas: receipt.gasUsed,
    fee: event!.args.fee as bigint,
    inputText: zkInputText,
    zk: true,
  });
  say(`requested  #${id}  input ${zkInputText}  ZK  (request gas ${receipt.gasUsed})`);
}
say("");

/** The daemon's proving time for a ZK request, from its "proved" log line. */
const provedSeconds = (id: bigint): string => {
  const line = daemon.lines.find((entry) => entry.msg === "proved" && entry.requestId === id.toString());
  return typeof line?.seconds === "number" ? line.seconds.toFixed(2) : "?";
};

let mismatches = 0;
const pending = new Set(requests.map((r) => r.id));
const until = Date.now() + 90_000;
while (pending.size > 0) {
  if (Date.now() > until)
    throw new Error(`requests ${[...pending].join(", ")} not finalized in time; see ${dir}/daemon.log`);
  for (const request of requests) {
    if (!pending.has(request.id)) continue;
    const status = Number(await suite.inferenceMarket.statusOf(request.id));
    if (status === RequestStatus.Pending || status === RequestStatus.Claimed) continue;
    pending.delete(request.id);
    const output = getBytes(
      request.zk ? await suite.inferenceMarket.outputOf(request.id) : await consumer.resultOf(request.id),
    );
    const predicted = status === RequestStatus.Finalized ? argmax(decodeTensor(output)) : -1;
    const expected = request.zk
      ? executeVqm(zk.model, zkInput).output
      : await runInference(local_, {
          dtype: "float32",
          shape: iris.manifest.input.shape,
          data: Float32Array.from(request.sample.input),
        });
    const same = hexlify(encodeTensor(expected)) === hexlify(output);
    const reference = request.zk ? "reference executor" : "local onnxruntime";
    if (!same || status !== RequestStatus.Finalized) mismatches++;
    const finalized = (
      await suite.inferenceMarket.queryFilter(suite.inferenceMarket.filters.RequestFinalized(request.id))
    )[0];
    const claimed = (
      await suite.inferenceMarket.queryFilter(suite.inferenceMarket.filters.RequestClaimed(request.id))
    )[0];
    const settledBy = finalized ? await finalized.getTransactionReceipt() : undefined;
    const submitGas = settledBy?.gasUsed ?? 0n;
    // A fulfilBatch settles several requests in one transaction: its gas is theirs together.
    const sharedBy = settledBy ? settledBy.logs.filter((log) => log.topics[0] === finalized!.topics[0]).length : 1;
    const claimGas = claimed ? (await claimed.getTransactionReceipt()).gasUsed : 0n;
    say(
      [
        `settled    #${request.id}`,
        request.zk ? `model #${zk.modelId} (ZK)` : `model #${iris.modelId}`,
        `input ${request.inputText}`,
        `predicted ${iris.manifest.labels[predicted] ?? "?"} (true: ${request.sample.label})`,
        `status ${requestStatusName(status)}`,
        `fee ${formatEther(request.fee)} ETH`,
        // An Attested request the daemon served without a claim: one fulfil did all three.
        claimed
          ? `gas request ${request.requestGas} / claim ${claimGas} / ${request.zk ? "submitWithProof (verify+settle)" : "submit+settle"} ${submitGas}`
          : `gas request ${request.requestGas} / fulfil (claim+submit+settle) ${submitGas}${sharedBy > 1 ? ` for ${sharedBy} requests in one fulfilBatch` : ""}`,
        ...(request.zk ? [`proved in ${provedSeconds(request.id)} s`] : []),
        same ? `= ${reference}` : `DIFFERS from ${reference}`,
      ].join("  "),
    );
  }
  await sleep(100);
}

const providerBalance = await suite.inferenceMarket.balanceOf(
  actors.provider.address,
  "0x0000000000000000000000000000000000000000",
);
const ownerBalance = await suite.inferenceMarket.balanceOf(
  actors.modelOwner.address,
  "0x0000000000000000000000000000000000000000",
);
say("");
say(
  `credited   provider ${formatEther(providerBalance)} ETH, model owner ${formatEther(ownerBalance)} ETH (pull with withdraw)`,
);

await local_.release();
const code = await daemon.stop();
await local.close();
say(`stopped    daemon (exit ${code}) and chain; ${((Date.now() - started) / 1000).toFixed(1)} s`);
if (keep) say(`kept       ${dir}`);
else rmSync(dir, { recursive: true, force: true });
if (mismatches > 0) {
  console.error(`${mismatches} result(s) were not Finalized or differ from the local run`);
  process.exit(1);
}
