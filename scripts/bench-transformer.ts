/**
 * Integer generation against float inference on synthetic GPT-2-shaped decoders with seeded
 * random weights (issue 11's honest-path goals): for each model, the float ONNX graph is written
 * by `transformer-onnx.ts`, compiled with a few random calibration prompts, and then timed on a
 * generation of 32 new tokens after a 16-token prompt:
 *
 * - onnxruntime on the integer decoder (`generateVqmOrt`), without and with the trace that
 *   Optimistic mode commits, as milliseconds per pass (one pass per position, KV cache);
 * - onnxruntime on the float graph at T = 48 (16 + 32) positions, whole and per position: the
 *   float graph has no KV cache, and one batched forward over 48 positions divided by 48 is what
 *   a KV-cached float decoder approaches at best, so it is the float per-token time to beat;
 * - the reference executor (`generateVqm`, which always keeps the trace), per pass.
 *
 * Prints a markdown table; asserts no goal (a benchmark), but exits 1 when onnxruntime's and the
 * reference's generated tokens differ, since then the timings compare different computations.
 *
 *   node scripts/bench-transformer.ts [--models 10m,100m] [--gpt2-small] [--runs 5] [--threads 1]
 *     [--calibration-prompts 4]
 *
 * `--gpt2-small` adds GPT-2 small's exact shape (12 layers, width 768, 12 heads, vocab 50257,
 * context 1024; the LM head is its own matrix here, not tied to the token embedding). It stops
 * today at writing the float ONNX: its 50257 × 768 embedding is above the 16 Mi elements every
 * tensor is limited to (`ModelRegistry.MAX_ELEMENTS`).
 */
import { parseArgs } from "node:util";
import * as ort from "onnxruntime-node";
import { writeOnnx } from "../oracle/model/onnx/write-onnx.ts";
import type { GptConfig, GptWeights } from "../oracle/model/train/gpt.ts";
import {
  transformerInputName,
  transformerOnnxGraph,
  transformerOpset,
} from "../oracle/model/train/transformer-onnx.ts";
import { generateVqmOrt, openVqmOrt } from "../oracle/model/vqm/ort-executor.ts";
import { generateVqm } from "../oracle/model/vqm/sequence-executor.ts";
import { validateVqm } from "../oracle/model/vqm/validate-vqm.ts";
import type { Tensor } from "../oracle/model/tensor.ts";
import { createSession } from "../oracle/runtime/create-session.ts";
import { benchProvider, providerLabel } from "./bench-provider.ts";
import { assertGptPresets, syntheticDecoder } from "./synthetic-gpt.ts";

const { values } = parseArgs({
  options: {
    models: { type: "string", default: "10m,100m" },
    "gpt2-small": { type: "boolean", default: false },
    runs: { type: "string", default: "5" },
    threads: { type: "string", default: "1" },
    "calibration-prompts": { type: "string", default: "4" },
  },
});
const runs = Number(values.runs);
const calibrationPrompts = Number(values["calibration-prompts"]);
/**
 * onnxruntime intra-op threads of every session, 1 by default: on a machine shared with other
 * jobs, sessions with a spinning pool of one thread per core slow each other and the float
 * forwards stopped being comparable; one thread each keeps the engines on equal terms.
 */
const threads = Number(values.threads);
const names = values.models.split(",").filter((name) => name !== "");
if (values["gpt2-small"] && !names.includes("gpt2-small")) names.push("gpt2-small");
assertGptPresets(names);
if (!Number.isInteger(runs) || runs < 1) throw new RangeError("--runs must be a positive integer.");
if (!Number.isInteger(threads) || threads < 1) throw new RangeError("--threads must be a positive integer.");
if (!Number.isInteger(calibrationPrompts) || calibrationPrompts < 1)
  throw new RangeError("--calibration-prompts must be a positive integer.");

const promptLength = 16;
const newTokens = 32;
/** Positions of one generation: the prompt and every generated token (the last one is not read back). */
const positions = promptLength + newTokens;

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function timed<T>(run: () => T | Promise<T>): Promise<{ ms: number; result: T }> {
  const started = performance.now();
  const result = await run();
  return { ms: performance.now() - started, result };
}

/**
 * Median of `runs` timings of each of `tasks` after one warm-up of each (the first run pays for
 * lazy allocations); every round runs the tasks one after another.
 */
async function medianMsInTurn(tasks: (() => unknown)[]): Promise<number[]> {
  for (const task of tasks) await task();
  const samples = tasks.map((): number[] => []);
  for (let k = 0; k < runs; k++) for (const [i, task] of tasks.entries()) samples[i]!.push((await timed(task)).ms);
  return samples.map(median);
}

/**
 * The same model over its first `T` positions: the graph's sequence length is its context
 * length, so a forward over exactly the 48 positions of a generation needs the position table cut
 * to 48 rows (causality makes their logits those of the full-context graph).
 */
function truncatedContext(
  config: GptConfig,
  weights: GptWeights,
  T: number,
): { config: GptConfig; weights: GptWeights } {
  return {
    config: { ...config, contextLength: T },
    weights: weights.map((p) =>
      p.name === "transformer.wpe.weight"
        ? { name: p.name, shape: [T, config.width], data: p.data.subarray(0, T * config.width) }
        : p,
    ),
  };
}

const log = (line: string) => console.error(`[bench-transformer] ${line}`);
const rows: string[] = [];
let disagreements = 0;

for (const label of names) {
  const { config, shape, parameters, weights, model, compileMs, prng } = syntheticDecoder(
    { label, calibrationPrompts, promptLength, newTokens },
    log,
  );
  validateVqm(model); // quantiseDecoder validates too; kept so the check is visible here.

  const promptIds = Int32Array.from({ length: promptLength }, () => prng.int(config.vocabSize));
  const input: Tensor = { dtype: "int32", shape: [1, promptLength], data: promptIds };
  const passes = positions - 1;

  // Four onnxruntime runs, timed in turn within each round so that load from other processes on
  // a shared machine falls on all of them alike: the integer decoder without and with the trace,
  // and the float graph over the 48 positions of the generation in one forward and over one
  // position. The latter is a KV-cached float decoder's step less its attention over the cache
  // (at most 48 rows, small next to the weights every step reads): its per-token time from below.
  const plain = await openVqmOrt({ model, threads, executionProvider: benchProvider });
  const traced = await openVqmOrt({ model, trace: true, threads, executionProvider: benchProvider });
  let floatProvider = "";
  const floatForward = async (T: number): Promise<() => Promise<unknown>> => {
    const cut = truncatedContext(config, weights, T);
    const session = await createSession({
      model: writeOnnx({
        graph: transformerOnnxGraph({ ...cut, name: `gpt-${label}-${T}` }),
        opsetVersion: transformerOpset,
      }),
      threads,
      executionProvider: benchProvider,
    });
    floatProvider = providerLabel(session);
    sessions.push(session);
    const ids = new ort.Tensor(
      "int64",
      BigInt64Array.from({ length: T }, () => BigInt(prng.int(config.vocabSize))),
      [1, T],
    );
    return () => session.ort.run({ [transformerInputName]: ids });
  };
  const sessions: { release(): Promise<void> }[] = [plain, traced];
  const ortTokens = (await generateVqmOrt(plain, input)).tokens;
  const [intMs, intTraceMs, floatMs, floatOneMs] = (
    await medianMsInTurn([
      () => generateVqmOrt(plain, input),
      () => generateVqmOrt(traced, input),
      await floatForward(positions),
      await floatForward(1),
    ])
  ).map((ms, k) => (k < 2 ? ms / passes : ms)) as [number, number, number, number];
  for (const session of sessions) await session.release();
  log(`${label}: int ORT ${intMs.toFixed(2)} ms/pass, with trace ${intTraceMs.toFixed(2)} ms/pass`);
  log(`${label}: float forward at T = ${positions}: ${floatMs.toFixed(2)} ms, at T = 1: ${floatOneMs.toFixed(2)} ms`);

  // The reference executor is the slow one: one timed run (its trace is always kept).
  const { ms: refTotalMs, result: reference } = await timed(() => generateVqm(model, input));
  const refMs = refTotalMs / passes;
  log(`${label}: reference ${refMs.toFixed(1)} ms/pass`);
  const agree = reference.tokens.length === ortTokens.length && reference.tokens.every((id, k) => id === ortTokens[k]);
  if (!agree) {
    disagreements++;
    log(`${label}: TOKENS DIFFER: reference ${reference.tokens.join(",")} vs ORT ${ortTokens.join(",")}`);
  }

  const perPosition = floatMs / positions;
  const ratio = (a: number, b: number) => `${(a / b).toFixed(1)}x`;
  rows.push(
    [
      `${label} (${shape})`,
      parameters.toLocaleString("en-US"),
      floatMs.toFixed(1),
      perPosition.toFixed(2),
      floatOneMs.toFixed(2),
      `${intMs.toFixed(2)} / ${intTraceMs.toFixed(2)}`,
      `${ratio(intMs, perPosition)} / ${ratio(intTraceMs, perPosition)}`,
      `${ratio(intMs, floatOneMs)} / ${ratio(intTraceMs, floatOneMs)}`,
      refMs.toFixed(1),
      ratio(refMs, intTraceMs),
      ratio(refMs, floatOneMs),
      `${(compileMs / 1000).toFixed(1)} s`,
      `${providerLabel(plain.session)} / ${floatProvider}`,
      agree ? "yes" : "NO",
    ].join(" | "),
  );
}

console.log(
  `Decoders, ${promptLength}-token prompt + ${newTokens} new tokens (${positions - 1} passes), onnxruntime with ${threads} intra-op thread(s) per session, median of ${runs} runs after a warm-up, taken in turn (reference: one run):\n`,
);
const header = [
  "model",
  "parameters",
  `float forward T=${positions} (ms)`,
  "float per position (ms)",
  "float forward T=1 (ms)",
  "int ORT per pass, no trace / trace (ms)",
  "int ORT / float per position",
  "int ORT / float T=1",
  "reference per pass (ms)",
  "reference / int ORT (trace)",
  "reference / float T=1",
  "compile",
  "ORT provider (int / float)",
  "tokens agree",
];
console.log(`| ${header.join(" | ")} |`);
console.log(
  `|---|${header
    .slice(1, -2)
    .map(() => "---:|")
    .join("")}---|---|`,
);
for (const row of rows) console.log(`| ${row} |`);
if (disagreements > 0) process.exitCode = 1;
