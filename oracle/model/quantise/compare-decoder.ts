/**
 * How closely a quantised decoder follows its float original on held-out text: at every position
 * of every sequence, the float next-token logits (float64 per-pass forward of the float32
 * weights) against the integer model's (reference executor, logits dequantised with the logits
 * layer's scale): top-1 agreement, cross-entropy of the true next token for both, and greedy
 * generations side by side.
 */
import type { Tensor } from "../tensor.ts";
import { generateVqm } from "../vqm/sequence-executor.ts";
import type { VqmModel } from "../vqm/vqm-model.ts";
import type { FloatDecoder } from "./float-decoder.ts";
import { generateFloat, runFloatDecoder } from "./run-float-decoder.ts";

export type CompareDecoderParameters = {
  model: VqmModel;
  decoder: FloatDecoder;
  /** Output scale of each layer, as `quantiseDecoder` gives them (the logits layer's is read). */
  scales: readonly (number | undefined)[];
  /** Token-id sequences: position t of each predicts id t + 1 (the first C + 1 ids are used). */
  sequences: readonly (readonly number[])[];
  /** Prompts to continue greedily, float and integer; defaults to none. */
  prompts?: readonly (readonly number[])[] | undefined;
};

export type DecoderGeneration = { prompt: number[]; float: number[]; integer: number[] };

export type CompareDecoderReturnType = {
  sequences: number;
  /** Positions scored: every prediction of every sequence. */
  positions: number;
  /** Share of positions whose float and integer next tokens (argmax, first on ties) agree. */
  top1Agreement: number;
  /** Mean cross-entropy of the true next token, nats per position. */
  floatLoss: number;
  integerLoss: number;
  /** Share of positions whose next token is the true one. */
  floatAccuracy: number;
  integerAccuracy: number;
  generations: DecoderGeneration[];
};

export function compareDecoder({
  model,
  decoder,
  scales,
  sequences,
  prompts = [],
}: CompareDecoderParameters): CompareDecoderReturnType {
  const logitsScale = scales[decoder.logitsLayer]!;
  const sums = { positions: 0, agree: 0, floatNats: 0, intNats: 0, floatRight: 0, intRight: 0 };
  for (const sequence of sequences) {
    const ids = sequence.slice(0, Math.min(sequence.length - 1, decoder.contextLength));
    if (ids.length === 0) continue;
    const float = runFloatDecoder(decoder, ids);
    const integer = integerPasses(model, ids);
    ids.forEach((_, t) => {
      const target = sequence[t + 1]!;
      const floatLogits = float[t]![decoder.logitsLayer]!;
      const intLogits = Float64Array.from(integer[t]![decoder.logitsLayer]!.data as Int8Array, (v) => v * logitsScale);
      const floatNext = float[t]!.at(-1)![0]!;
      const intNext = (integer[t]!.at(-1)!.data as Int32Array)[0]!;
      sums.positions++;
      if (floatNext === intNext) sums.agree++;
      if (floatNext === target) sums.floatRight++;
      if (intNext === target) sums.intRight++;
      sums.floatNats -= logSoftmaxAt(floatLogits, target);
      sums.intNats -= logSoftmaxAt(intLogits, target);
    });
  }
  const per = (n: number) => (sums.positions > 0 ? n / sums.positions : 0);
  return {
    sequences: sequences.length,
    positions: sums.positions,
    top1Agreement: sums.positions > 0 ? sums.agree / sums.positions : 1,
    floatLoss: per(sums.floatNats),
    integerLoss: per(sums.intNats),
    floatAccuracy: per(sums.floatRight),
    integerAccuracy: per(sums.intRight),
    generations: prompts.map((prompt) => generations(model, decoder, prompt)),
  };
}

/** The integer passes over `ids` (pass t reads ids[t]): a generation of one token after them. */
function integerPasses(model: VqmModel, ids: readonly number[]): Tensor[][] {
  const sequence = { ...model.sequence!, promptLength: ids.length, newTokens: 1 };
  const input: Tensor = { dtype: "int32", shape: [1, ids.length], data: Int32Array.from(ids) };
  return generateVqm({ ...model, sequence }, input).passes;
}

/** Greedy continuations as long as the context allows (up to the model's `newTokens`). */
function generations(model: VqmModel, decoder: FloatDecoder, prompt: readonly number[]): DecoderGeneration {
  const ids = prompt.slice(0, decoder.contextLength);
  const newTokens = Math.min(model.sequence!.newTokens, decoder.contextLength - ids.length + 1);
  const sequence = { ...model.sequence!, promptLength: ids.length, newTokens };
  const input: Tensor = { dtype: "int32", shape: [1, ids.length], data: Int32Array.from(ids) };
  return {
    prompt: ids,
    float: generateFloat(decoder, ids, newTokens),
    integer: Array.from(generateVqm({ ...model, sequence }, input).output.data as Int32Array),
  };
}

/** log softmax(logits)[target], computed stably. */
function logSoftmaxAt(logits: Float64Array, target: number): number {
  const max = Math.max(...logits);
  const logSum = Math.log(logits.reduce((sum, v) => sum + Math.exp(v - max), 0)) + max;
  return logits[target]! - logSum;
}
