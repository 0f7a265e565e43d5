/**
 * `npm run demo:llm`: a language model served verifiably end to end, on one machine. The
 * character-level GPT of models/names (trained by repo code on the npm first-name lists, a float
 * ONNX graph) is compiled to an integer decoder (per-pass semantics, docs/numeric-semantics.md),
 * its folder written with its tokenizer, registered on a local chain (Attested mode: disputing a
 * generation needs the game's bisection over passes, not built yet), and served by the provider
 * daemon with onnxruntime. Each prompt is sent as text, generated, Finalized on-chain, decoded,
 * and compared with the reference executor (must be identical) and with the float model (shown).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { keccak256, parseEther, ZeroAddress } from "ethers";
import { loadNamesCorpus } from "../models/names/names-data.ts";
import { connectSuite } from "../oracle/chain/connect.ts";
import { registerModel, formatsOf } from "../oracle/chain/register-model.ts";
import { RequestStatus } from "../oracle/chain/request-status.ts";
import { startLocalSuite } from "../oracle/devnet/local-suite.ts";
import { spawnDaemon } from "../oracle/devnet/spawn-daemon.ts";
import { readOnnx } from "../oracle/model/onnx/read-onnx.ts";
import { compileDecoderVqm } from "../oracle/model/quantise/compile-vqm.ts";
import { generateFloat } from "../oracle/model/quantise/run-float-decoder.ts";
import { decodeTensor } from "../oracle/model/tensor-codec.ts";
import { decodeIds, encodeText, readTokenizerBytes } from "../oracle/model/text/tokenizer.ts";
import { generateVqm } from "../oracle/model/vqm/sequence-executor.ts";
import { readVqm, writeVqm } from "../oracle/model/vqm/vqm-files.ts";
import { decodeTokens } from "../oracle/sdk/decode-tokens.ts";
import { encodePrompt } from "../oracle/sdk/encode-prompt.ts";
import { encodeRequestInput } from "../oracle/sdk/encode-request-input.ts";
import { waitForFinal } from "../oracle/sdk/wait-for-final.ts";

const keep = process.argv.includes("--keep");
const dir = mkdtempSync(path.join(tmpdir(), "verity-llm-demo-"));
const started = Date.now();
const say = (line: string) => console.log(line);
const namesDir = path.resolve(import.meta.dirname, "../models/names");
const PROMPTS = ["", "el", "jo", "mar", "chr", "ka"];
const CALIBRATION_NAMES = 200;

say("Verity LLM demo: a character-level GPT generates names, verifiably served on a local chain");

// 1. Compile the float model to an integer decoder, with its tokenizer, into a model folder.
const onnx = readOnnx(new Uint8Array(readFileSync(path.join(namesDir, "names.onnx"))));
const tokenizer = readTokenizerBytes(new Uint8Array(readFileSync(path.join(namesDir, "tokenizer.json"))));
const corpus = loadNamesCorpus();
const every = Math.max(1, Math.floor(corpus.train.length / CALIBRATION_NAMES));
const calibration = corpus.train.filter((_, i) => i % every === 0).map((name) => encodeText(tokenizer, name));
const heldOut = corpus.heldOut.map((name) => [...encodeText(tokenizer, name), tokenizer.boundary!]);
const compiled = compileDecoderVqm({ onnx, prompts: calibration, heldOut, name: "names-gpt" });
const { model, agreement } = compiled;
const folder = path.join(dir, "names");
await writeVqm(path.join(folder, "vqm"), model, { tokenizer });
const { onnx: vqmOnnx, manifest } = await readVqm(path.join(folder, "vqm"));
const { promptLength, newTokens, contextLength, vocabSize } = model.sequence!;
const percent = (x: number) => `${(100 * x).toFixed(1)} %`;
say(
  `  model       models/names/names.onnx: GPT, ${compiled.parameterCount.toLocaleString("en-US")} parameters, ` +
    `context ${contextLength}, vocabulary ${vocabSize} (tokenizer.json)`,
);
say(
  `  compiled    ${model.layers.length} integer layers per pass, calibrated on ${calibration.length} names; on ` +
    `${agreement.positions} held-out positions: top-1 agreement with float ${percent(agreement.top1Agreement)}, ` +
    `loss ${agreement.floatLoss.toFixed(4)} (float) vs ${agreement.integerLoss.toFixed(4)} (integer) nats`,
);

// 2. A local chain with the suite; the folder registered (Attested) and served by the daemon.
const local = await startLocalSuite({ dir });
const price = parseEther("0.001");
const registry = connectSuite(local.deployment, local.actors.modelOwner).modelRegistry;
const modelId = await registerModel(registry, {
  modelHash: keccak256(vqmOnnx),
  contentId: await local.content.add(vqmOnnx),
  price,
  royaltyBps: 500,
  ...formatsOf(manifest),
});
await (await connectSuite(local.deployment, local.actors.provider).providerRegistry.optIn(modelId)).wait();
say(
  `  chain       ${local.devnet.url}; model #${modelId} registered (Attested), int32 [1, ${promptLength}] → [1, ${newTokens}]`,
);

const daemon = spawnDaemon({
  config: local.daemonConfig({ models: [{ id: modelId.toString(), folder }] }),
  dir,
  privateKey: local.actors.provider.privateKey,
  onLog: (line) => {
    if (line.level === "error") say(`  [daemon] ERROR ${line.msg} ${JSON.stringify(line.error ?? "")}`);
  },
});

let ok = true;
try {
  await daemon.waitForLog((line) => line.msg === "provider daemon started");
  say(`  provider    ${local.actors.provider.address} serves model #${modelId} from its folder`);
  say("");
  say("requests (prompt → generated name; the integer model on-chain, the float model beside it)");
  const market = connectSuite(local.deployment, local.actors.user).inferenceMarket;
  for (const text of PROMPTS) {
    const { tensor } = encodePrompt({ tokenizer, text, promptLength });
    const deadline = BigInt((await local.rpc.getBlock("latest"))!.timestamp) + 600n;
    const sent = Date.now();
    const receipt = (await (
      await market.requestInference(modelId, encodeRequestInput(tensor), price, deadline, ZeroAddress, 0, {
        value: price,
      })
    ).wait())!;
    const requestId = market.interface.parseLog(
      receipt.logs.find((log) => log.address === local.deployment.contracts.inferenceMarket)!,
    )!.args.requestId as bigint;
    const outcome = await waitForFinal(market, requestId, { timeoutMs: 60_000, pollIntervalMs: 100 });
    if (outcome.status !== "Finalized") throw new Error(`request ${requestId} ended ${outcome.status}`);
    const generated = decodeTokens(tokenizer, decodeTensor(outcome.output));
    const reference = Array.from(generateVqm(model, tensor).output.data as Int32Array);
    const same = reference.every((id, k) => id === generated.ids[k]);
    const prompt = encodeText(tokenizer, text);
    const float = decodeIds(tokenizer, generateFloat(compiled.decoder, prompt, newTokens));
    ok &&= same && (await market.statusOf(requestId)) === BigInt(RequestStatus.Finalized);
    say(
      `  request ${requestId}  "${text}" → "${text}${generated.text}"${generated.ended ? "" : "…"}  ` +
        `(float: "${text}${float.text}")  Finalized in ${((Date.now() - sent) / 1000).toFixed(1)} s, ` +
        `request gas ${receipt.gasUsed.toLocaleString("en-US")}  ${same ? "= reference executor" : "≠ REFERENCE EXECUTOR"}`,
    );
  }
} catch (error) {
  ok = false;
  say(`error: ${error instanceof Error ? error.message : String(error)}`);
} finally {
  const code = await daemon.stop();
  say("");
  say(`stopped     daemon (exit ${code}) and chain; ${((Date.now() - started) / 1000).toFixed(1)} s`);
  await local.close();
  if (keep) say(`kept        ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
process.exitCode = ok ? 0 : 1;
