/**
 * How closely the compiled names GPT (models/names) follows its float model, over several
 * calibration sets (issue 11's goal: top-1 next-token agreement ≥ 98 % on held-out text). Each
 * set is every k-th training name from offset r; each compile is scored by `compareDecoder` on the
 * 840 held-out names (5893 positions). The spread between sets is part of the figure: at 5 % of
 * positions the float model's two best next characters are within 0.05 nats, so small changes
 * of any scale move the agreement by tenths of a percent. Prints a markdown table
 * (docs/BENCHMARKS.md#transformers); asserts nothing.
 *
 *   node scripts/bench-names-agreement.ts
 */
import { readFileSync } from "node:fs";
import { loadNamesCorpus } from "../models/names/names-data.ts";
import { readOnnx } from "../oracle/model/onnx/read-onnx.ts";
import { compileDecoderVqm } from "../oracle/model/quantise/compile-vqm.ts";
import { charVocabulary, encodeSequence } from "../oracle/model/text/char-vocabulary.ts";

/** [k, r]: the first row is the compile test's set, the sixth the demo's. */
const sets: [number, number][] = [
  [150, 0],
  [150, 30],
  [150, 60],
  [150, 90],
  [150, 120],
  [37, 0],
  [37, 12],
  [37, 24],
  [18, 0],
  [18, 9],
];

const vocabulary = charVocabulary("abcdefghijklmnopqrstuvwxyz");
const onnx = readOnnx(new Uint8Array(readFileSync(new URL("../models/names/names.onnx", import.meta.url))));
const corpus = loadNamesCorpus();
const heldOut = corpus.heldOut.map((name) => encodeSequence(vocabulary, name));
const percent = (x: number) => `${(100 * x).toFixed(2)} %`;

console.log("| calibration names (k, r) | top-1 agreement | float loss | integer loss | float / integer accuracy |");
console.log("| --- | ---: | ---: | ---: | ---: |");
let sum = 0;
for (const [k, r] of sets) {
  const prompts = corpus.train.filter((_, i) => i % k === r).map((name) => encodeSequence(vocabulary, name));
  const { agreement } = compileDecoderVqm({ onnx, prompts, heldOut });
  sum += agreement.top1Agreement;
  console.log(
    `| ${prompts.length} (${k}, ${r}) | ${percent(agreement.top1Agreement)} | ${agreement.floatLoss.toFixed(4)} | ${agreement.integerLoss.toFixed(4)} | ${percent(agreement.floatAccuracy)} / ${percent(agreement.integerAccuracy)} |`,
  );
}
console.log(`| mean of ${sets.length} | ${percent(sum / sets.length)} | | | |`);
