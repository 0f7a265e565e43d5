/**
 * Reference executor vs onnxruntime on synthetic dense VQM models of about 10k, 1M and 10M
 * parameters: median inference time of a few runs (after one warm-up), session creation and
 * ONNX emission once. Prints a markdown table. Checks on the way that both give the same output.
 *
 *   node scripts/bench-vqm.ts [--runs 7]
 */
import { parseArgs } from "node:util";
import { encodeTensor } from "../oracle/model/tensor-codec.ts";
import { emitOnnx } from "../oracle/model/vqm/emit-onnx.ts";
import { executeVqmOrt, openVqmOrt } from "../oracle/model/vqm/ort-executor.ts";
import { executeVqm } from "../oracle/model/vqm/reference-executor.ts";
import { syntheticInput, syntheticMlp } from "../oracle/model/vqm/synthetic-vqm.ts";
import { benchProvider, providerLabel } from "./bench-provider.ts";

const { values } = parseArgs({ options: { runs: { type: "string", default: "7" } } });
const runs = Number(values.runs);

const models = [
  { label: "~10k", sizes: [64, 128, 10] },
  { label: "~1M", sizes: [512, 1024, 512, 10] },
  { label: "~10M", sizes: [2048, 2048, 2048, 1024, 10] },
];

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function timed(run: () => unknown): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

const rows: string[] = [];
for (const { label, sizes } of models) {
  const model = syntheticMlp({ seed: 1, sizes });
  const parameters = model.layers.reduce((n, l) => n + (l.kind === "dense" ? l.weights.length + l.bias.length : 0), 0);
  const input = syntheticInput(model, 1);
  let onnx: Uint8Array = new Uint8Array();
  const emitMs = await timed(() => (onnx = emitOnnx(model)));
  let session: Awaited<ReturnType<typeof openVqmOrt>> | undefined;
  const sessionMs = await timed(
    async () => (session = await openVqmOrt({ model, onnx, executionProvider: benchProvider })),
  );
  const ort = session!;
  const expected = encodeTensor(executeVqm(model, input).output);
  const got = encodeTensor((await executeVqmOrt(ort, input)).output);
  if (Buffer.compare(Buffer.from(expected), Buffer.from(got)) !== 0) throw new Error(`${label}: engines disagree`);
  const reference: number[] = [];
  const onnxruntime: number[] = [];
  for (let k = 0; k < runs; k++) {
    reference.push(await timed(() => executeVqm(model, input)));
    onnxruntime.push(await timed(() => executeVqmOrt(ort, input)));
  }
  await ort.release();
  const ref = median(reference);
  const fast = median(onnxruntime);
  rows.push(
    `| ${label} | ${sizes.join("-")} | ${parameters.toLocaleString("en-US")} | ${ref.toFixed(2)} | ${fast.toFixed(2)} | ${(ref / fast).toFixed(1)}x | ${emitMs.toFixed(0)} | ${sessionMs.toFixed(0)} | ${providerLabel(ort.session)} |`,
  );
}

console.log(`VQM inference, median of ${runs} runs (ms), batch 1, onnxruntime with default threads:\n`);
console.log(
  "| model | sizes | parameters | reference | onnxruntime | ratio | emit ONNX | ort session | ORT provider |",
);
console.log("|---|---|---:|---:|---:|---:|---:|---:|---|");
for (const row of rows) console.log(row);
