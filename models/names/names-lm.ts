/**
 * Runs the exported names model (`names.onnx`, input ids [1, C], logits [1, C, vocab]) through
 * onnxruntime: next-character logits for a prefix, held-out scoring and generation. Training and
 * the test both score with this code, so the committed figures are what onnxruntime gives for
 * the committed bytes.
 */
import { createTensor } from "../../oracle/model/tensor.ts";
import { decodeIds, encodePrompt, encodeSequence } from "../../oracle/model/text/char-vocabulary.ts";
import type { CharVocabulary } from "../../oracle/model/text/char-vocabulary.ts";
import type { Prng } from "../../oracle/model/train/prng.ts";
import type { ModelSession } from "../../oracle/runtime/create-session.ts";
import { runInference } from "../../oracle/runtime/run-inference.ts";

export type NamesLm = { session: ModelSession; vocabulary: CharVocabulary; contextLength: number };

/**
 * Logits of every position for `ids` (at most C of them), right-padded with the boundary id:
 * the model is causal, so rows before the padding do not depend on it. Row t predicts id t + 1.
 */
export async function positionLogits({ session, vocabulary, contextLength }: NamesLm, ids: readonly number[]) {
  if (ids.length === 0 || ids.length > contextLength)
    throw new RangeError(`The names model takes 1 to ${contextLength} ids, got ${ids.length}.`);
  const padded = Array.from({ length: contextLength }, (_, t) => ids[t] ?? vocabulary.boundaryId);
  const { data } = await runInference(session, createTensor("int64", [1, contextLength], padded));
  const V = vocabulary.tokens.length;
  return ids.map((_, t) => (data as Float32Array).subarray(t * V, (t + 1) * V));
}

export type NamesScore = {
  /** Mean cross-entropy in nats per predicted token (every character and the closing boundary). */
  loss: number;
  /** Share of those tokens where the most likely token (lowest id on ties) is the right one. */
  accuracy: number;
  /** Predicted tokens scored: the characters of all names plus one boundary per name. */
  tokens: number;
};

/** Scores each name as `. n a m e .`: the model predicts every token after the first. */
export async function scoreNames(lm: NamesLm, names: readonly string[]): Promise<NamesScore> {
  let nats = 0;
  let correct = 0;
  let tokens = 0;
  for (const name of names) {
    const sequence = encodeSequence(lm.vocabulary, name);
    const rows = await positionLogits(lm, sequence.slice(0, -1));
    rows.forEach((logits, t) => {
      const target = sequence[t + 1]!;
      nats -= logSoftmax(logits)[target]!;
      if (argmaxOf(logits) === target) correct++;
      tokens++;
    });
  }
  return { loss: nats / tokens, accuracy: correct / tokens, tokens };
}

/**
 * Continues `prompt` one character at a time until the model predicts the boundary or the
 * context is full: greedily (argmax) without a PRNG, else sampled at `temperature`.
 */
export async function generateName(
  lm: NamesLm,
  prompt = "",
  { prng, temperature = 1 }: { prng?: Prng; temperature?: number } = {},
): Promise<string> {
  const ids = encodePrompt(lm.vocabulary, prompt);
  while (ids.length < lm.contextLength) {
    const logits = (await positionLogits(lm, ids)).at(-1)!;
    const next = prng ? sample(logits, temperature, prng) : argmaxOf(logits);
    if (next === lm.vocabulary.boundaryId) break;
    ids.push(next);
  }
  return decodeIds(lm.vocabulary, ids);
}

export function logSoftmax(logits: ArrayLike<number>): Float64Array {
  const values = Float64Array.from(logits as ArrayLike<number>);
  const max = Math.max(...values);
  const logSum = Math.log(values.reduce((sum, v) => sum + Math.exp(v - max), 0)) + max;
  return values.map((v) => v - logSum);
}

export function argmaxOf(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

function sample(logits: ArrayLike<number>, temperature: number, prng: Prng): number {
  const probabilities = logSoftmax(Array.from(logits as ArrayLike<number>, (v) => v / temperature)).map(Math.exp);
  let u = prng.next();
  for (let i = 0; i < probabilities.length; i++) if ((u -= probabilities[i]!) < 0) return i;
  return probabilities.length - 1;
}
