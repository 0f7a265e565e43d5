/** Pure helpers for small tabular classification sets: split, standardise, score. */
import { shuffle } from "./prng.ts";
import type { Prng } from "./prng.ts";

export type Split = { train: number[]; test: number[] };

/**
 * Stratified split: within each class, a shuffled round(testFraction * count) samples go to the
 * test set, so both sets keep the class balance. Indices come back sorted.
 */
export function stratifiedSplit(labels: readonly number[], testFraction: number, prng: Prng): Split {
  if (!(testFraction > 0 && testFraction < 1))
    throw new RangeError(`testFraction must be in (0, 1), got ${testFraction}.`);
  const classes = [...new Set(labels)].sort((a, b) => a - b);
  const train: number[] = [];
  const test: number[] = [];
  for (const label of classes) {
    const members = labels.flatMap((l, index) => (l === label ? [index] : []));
    const shuffled = shuffle(members, prng);
    const testCount = Math.round(testFraction * members.length);
    test.push(...shuffled.slice(0, testCount));
    train.push(...shuffled.slice(testCount));
  }
  const ascending = (a: number, b: number) => a - b;
  return { train: train.sort(ascending), test: test.sort(ascending) };
}

export type Standardisation = { mean: number[]; std: number[] };

/** Per-feature mean and (population) standard deviation; a constant feature gets std 1. */
export function fitStandardisation(rows: readonly (readonly number[])[]): Standardisation {
  const features = rows[0]?.length ?? 0;
  const mean = new Array<number>(features).fill(0);
  const std = new Array<number>(features).fill(0);
  for (const row of rows) row.forEach((value, j) => (mean[j]! += value / rows.length));
  for (const row of rows) row.forEach((value, j) => (std[j]! += (value - mean[j]!) ** 2 / rows.length));
  return { mean, std: std.map((variance) => (variance > 0 ? Math.sqrt(variance) : 1)) };
}

export function standardise(rows: readonly (readonly number[])[], { mean, std }: Standardisation): number[][] {
  return rows.map((row) => row.map((value, j) => (value - mean[j]!) / std[j]!));
}

export function accuracy(predicted: readonly number[], labels: readonly number[]): number {
  if (predicted.length !== labels.length || labels.length === 0)
    throw new RangeError("accuracy needs equal, non-empty lists.");
  return predicted.filter((p, i) => p === labels[i]).length / labels.length;
}
