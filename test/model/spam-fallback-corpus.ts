/**
 * A small synthetic ham/spam corpus made from a seeded PRNG, for unit tests of the spam pipeline
 * only (the demo model trains on the SpamAssassin corpus, never on this).
 */
import type { SpamMessage } from "../../models/spam/build-spam.ts";
import { createPrng } from "../../oracle/model/train/prng.ts";

const common = "the and you for this with your have are from will our can all about more time".split(" ");
const ham = "meeting project attached thanks schedule review code lunch team report draft notes agenda patch".split(
  " ",
);
const spam = "free winner money click offer credit cash urgent prize guaranteed viagra discount casino lottery".split(
  " ",
);

export function fallbackCorpus(size = 400, seed = 7): SpamMessage[] {
  const prng = createPrng(seed);
  const pick = (words: string[]) => words[prng.int(words.length)]!;
  return Array.from({ length: size }, () => {
    const isSpam = prng.next() < 0.4;
    const length = 15 + prng.int(25);
    const words = Array.from({ length }, () => {
      const r = prng.next();
      return r < 0.7 ? pick(common) : r < 0.9 ? pick(isSpam ? spam : ham) : pick(isSpam ? ham : spam);
    });
    return { text: `${words.join(" ")}.`, spam: isSpam };
  });
}
