/**
 * The synthetic GPT-2-shaped decoders of the transformer benchmarks (issue 11): seeded random
 * weights (`initGptWeights(config, 1)`, GPT-2's initialisation) written as float ONNX by
 * `transformer-onnx.ts` and compiled by `quantiseDecoder` on random calibration prompts, so that
 * the timing bench (bench-transformer.ts) and the dispute bench (bench-transformer-dispute.ts)
 * measure the same models.
 */
import { readOnnx } from "../oracle/model/onnx/read-onnx.ts";
import { writeOnnx } from "../oracle/model/onnx/write-onnx.ts";
import { quantiseDecoder } from "../oracle/model/quantise/quantise-decoder.ts";
import { gptParameterCount, initGptWeights } from "../oracle/model/train/gpt.ts";
import type { GptConfig, GptWeights } from "../oracle/model/train/gpt.ts";
import { createPrng, type Prng } from "../oracle/model/train/prng.ts";
import { transformerOnnxGraph, transformerOpset } from "../oracle/model/train/transformer-onnx.ts";
import type { VqmModel } from "../oracle/model/vqm/vqm-model.ts";

export const gptPresets: Record<string, Omit<GptConfig, "mlpRatio" | "layerNormEpsilon">> = {
  // A smoke-test size: seconds end to end.
  tiny: { layers: 2, width: 64, heads: 4, vocabSize: 256, contextLength: 64 },
  "10m": { layers: 6, width: 384, heads: 6, vocabSize: 4096, contextLength: 128 },
  "100m": { layers: 12, width: 768, heads: 12, vocabSize: 8192, contextLength: 128 },
  "gpt2-small": { layers: 12, width: 768, heads: 12, vocabSize: 50257, contextLength: 1024 },
};

/** Throws unless every name is a preset. */
export function assertGptPresets(names: string[]): void {
  for (const name of names)
    if (!(name in gptPresets))
      throw new RangeError(`Unknown model "${name}"; use ${Object.keys(gptPresets).join(", ")}.`);
}

export type SyntheticDecoderParameters = {
  /** A key of `gptPresets`. */
  label: string;
  calibrationPrompts: number;
  promptLength: number;
  newTokens: number;
};

export type SyntheticDecoderReturnType = {
  config: GptConfig;
  /** "12L/768/12h, V 8192, C 128". */
  shape: string;
  parameters: number;
  weights: GptWeights;
  model: VqmModel;
  compileMs: number;
  /**
   * The seeded generator after the calibration prompts were drawn: a caller draws its prompt
   * from it, so that reruns use the same prompt.
   */
  prng: Prng;
};

/**
 * The preset's float model and its integer decoder, compiled on `calibrationPrompts` random
 * prompts of `promptLength + newTokens` ids (seeded, so reruns compile the same model).
 */
export function syntheticDecoder(
  { label, calibrationPrompts, promptLength, newTokens }: SyntheticDecoderParameters,
  log: (line: string) => void,
): SyntheticDecoderReturnType {
  const config: GptConfig = { ...gptPresets[label]!, mlpRatio: 4, layerNormEpsilon: 1e-5 };
  const parameters = gptParameterCount(config);
  const shape = `${config.layers}L/${config.width}/${config.heads}h, V ${config.vocabSize}, C ${config.contextLength}`;
  log(`${label}: ${shape}, ${parameters.toLocaleString("en-US")} parameters`);
  const weights = initGptWeights(config, 1);
  const floatBytes = writeOnnx({
    graph: transformerOnnxGraph({ config, weights, name: `gpt-${label}` }),
    opsetVersion: transformerOpset,
  });
  const positions = promptLength + newTokens;
  const prng = createPrng(7);
  const prompts = Array.from({ length: calibrationPrompts }, () =>
    Array.from({ length: positions }, () => prng.int(config.vocabSize)),
  );
  const started = performance.now();
  const compiled = quantiseDecoder({ onnx: readOnnx(floatBytes), prompts, promptLength, newTokens });
  const compileMs = performance.now() - started;
  log(`${label}: compiled in ${(compileMs / 1000).toFixed(1)} s (${calibrationPrompts} prompts × ${positions} passes)`);
  return { config, shape, parameters, weights, model: compiled.model, compileMs, prng };
}
