/**
 * The names language model from data to artifacts: train a GPT on the training names with tfjs,
 * export it to float32 ONNX, score the exported bytes with onnxruntime on the held-out names,
 * and describe it all in `names.json`.
 */
import { keccak256 } from "ethers";
import { writeOnnx } from "../../oracle/model/onnx/write-onnx.ts";
import { charVocabulary, encodeSequence } from "../../oracle/model/text/char-vocabulary.ts";
import type { CharVocabulary } from "../../oracle/model/text/char-vocabulary.ts";
import { gptParameterCount } from "../../oracle/model/train/gpt.ts";
import type { GptConfig } from "../../oracle/model/train/gpt.ts";
import { useTfjsWasm } from "../../oracle/model/train/gpt-tfjs.ts";
import { trainGpt } from "../../oracle/model/train/train-gpt.ts";
import {
  transformerInputName,
  transformerOnnxGraph,
  transformerOpset,
  transformerOutputName,
} from "../../oracle/model/train/transformer-onnx.ts";
import { createSession } from "../../oracle/runtime/create-session.ts";
import { alphabet, splitSeed } from "./names-data.ts";
import type { NamesCorpus } from "./names-data.ts";
import { generateName, scoreNames } from "./names-lm.ts";

export type NamesSettings = {
  contextLength: number;
  width: number;
  heads: number;
  layers: number;
  steps: number;
  batchSize: number;
  learningRate: number;
  finalLearningRate: number;
  warmupSteps: number;
  seed: number;
};

export const defaultNamesSettings: NamesSettings = {
  contextLength: 16,
  width: 48,
  heads: 4,
  layers: 2,
  steps: 1500,
  batchSize: 64,
  learningRate: 3e-3,
  finalLearningRate: 3e-4,
  warmupSteps: 100,
  seed: 11,
};

/** Prompts whose greedy continuations names.json and the README show. */
export const greedyPrompts = ["", "a", "el", "jo", "mar", "chr", "ka", "z"];

export type NamesMetadata = {
  name: string;
  description: string;
  input: { name: string; dtype: "int64"; shape: number[] };
  output: { name: string; dtype: "float32"; shape: number[] };
  opset: number;
  modelHash: string;
  modelBytes: number;
  vocabulary: CharVocabulary & { alphabet: string; note: string };
  contextLength: number;
  config: GptConfig;
  parameters: number;
  training: NamesSettings & {
    optimizer: string;
    initialLoss: number;
    finalLoss: number;
    trainNames: number;
    seconds: number;
    backend: string;
  };
  heldOut: { names: number; tokens: number; loss: number; accuracy: number; split: string };
  data: { packages: Record<string, string>; rawNames: number; keptNames: number; filter: string };
  greedy: Record<string, string>;
};

export type BuildNamesReturnType = { onnx: Uint8Array; metadata: NamesMetadata };

export async function buildNames({
  corpus,
  settings = defaultNamesSettings,
  log = () => {},
}: {
  corpus: NamesCorpus;
  settings?: NamesSettings;
  log?: (line: string) => void;
}): Promise<BuildNamesReturnType> {
  const vocabulary = charVocabulary(alphabet);
  const config: GptConfig = {
    vocabSize: vocabulary.tokens.length,
    contextLength: settings.contextLength,
    width: settings.width,
    heads: settings.heads,
    layers: settings.layers,
    mlpRatio: 4,
    layerNormEpsilon: 1e-5,
  };
  await useTfjsWasm();
  const started = performance.now();
  const { weights, initialLoss, finalLoss } = trainGpt({
    config,
    sequences: corpus.train.map((name) => encodeSequence(vocabulary, name)),
    padId: vocabulary.boundaryId,
    ...settings,
    onReport: ({ step, loss, learningRate }) =>
      log(`  step ${String(step).padStart(5)}  loss ${loss.toFixed(4)}  lr ${learningRate.toExponential(2)}`),
  });
  const seconds = Math.round((performance.now() - started) / 100) / 10;

  const onnx = writeOnnx({
    graph: transformerOnnxGraph({ config, weights, name: "names-gpt" }),
    opsetVersion: transformerOpset,
  });
  // Scoring pins the optimisation level: float results may move in the last bits between levels.
  const session = await createSession({ model: onnx, threads: 1, graphOptimizationLevel: "disabled" });
  const lm = { session, vocabulary, contextLength: config.contextLength };
  try {
    const heldOut = await scoreNames(lm, corpus.heldOut);
    const greedy: Record<string, string> = {};
    for (const prompt of greedyPrompts) greedy[prompt] = await generateName(lm, prompt);
    const metadata: NamesMetadata = {
      name: "names-gpt",
      description: `Character-level GPT (${config.layers} blocks, width ${config.width}, ${config.heads} heads, context ${config.contextLength}) trained on English first names; float32 logits of the next character.`,
      input: { name: transformerInputName, dtype: "int64", shape: [1, config.contextLength] },
      output: { name: transformerOutputName, dtype: "float32", shape: [1, config.contextLength, config.vocabSize] },
      opset: transformerOpset,
      modelHash: keccak256(onnx),
      modelBytes: onnx.length,
      vocabulary: {
        ...vocabulary,
        alphabet,
        note: "id 0 is the boundary: input position 0 always holds it (BOS), and predicting it ends a name (EOS); ids 1..26 are a..z; inputs shorter than the context are right-padded with id 0.",
      },
      contextLength: config.contextLength,
      config,
      parameters: gptParameterCount(config),
      training: {
        ...settings,
        optimizer: "Adam (β1 0.9, β2 0.99, ε 1e-8), linear warm-up then cosine decay, no weight decay or dropout",
        initialLoss,
        finalLoss,
        trainNames: corpus.train.length,
        seconds,
        backend: "@tensorflow/tfjs wasm (1 thread)",
      },
      heldOut: {
        names: corpus.heldOut.length,
        tokens: heldOut.tokens,
        loss: heldOut.loss,
        accuracy: heldOut.accuracy,
        split: `10 % of the unique names, seeded shuffle (seed ${splitSeed}); loss in nats per predicted token (characters and the closing boundary), onnxruntime CPU, optimisation disabled`,
      },
      data: {
        packages: corpus.packageVersions,
        rawNames: corpus.rawCount,
        keptNames: corpus.train.length + corpus.heldOut.length,
        filter: "lower-cased, a-z only, unique",
      },
      greedy,
    };
    return { onnx, metadata };
  } finally {
    await session.release();
  }
}
