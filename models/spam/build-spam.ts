/**
 * The spam demo model, from messages to artifacts, as one pure function: hashed bag-of-words
 * features (`oracle/model/text/`), a seeded stratified split, an MLP trained with the repo's own
 * code, the float ONNX export, and its quantisation to a VQM model. `train.ts` is the I/O.
 */
import { keccak256 } from "ethers";
import { writeOnnx } from "../../oracle/model/onnx/write-onnx.ts";
import { readOnnx } from "../../oracle/model/onnx/read-onnx.ts";
import { quantiseInput } from "../../oracle/model/quantise/fixed-point.ts";
import { quantiseModel } from "../../oracle/model/quantise/quantise-model.ts";
import { featuriseText } from "../../oracle/model/text/featurise-text.ts";
import { accuracy, stratifiedSplit } from "../../oracle/model/train/dataset.ts";
import { trainMlp } from "../../oracle/model/train/mlp.ts";
import { forwardFloat32, mlpOnnxGraph, toFloat32Layers } from "../../oracle/model/train/mlp-onnx.ts";
import { createPrng } from "../../oracle/model/train/prng.ts";
import { emitOnnx } from "../../oracle/model/vqm/emit-onnx.ts";
import { executeVqm } from "../../oracle/model/vqm/reference-executor.ts";
import type { VqmModel } from "../../oracle/model/vqm/vqm-model.ts";

export const spamLabels = ["ham", "spam"] as const;

export type SpamSettings = {
  seed: number;
  testFraction: number;
  buckets: number;
  hidden: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
};

export const spamSettings: Readonly<SpamSettings> = {
  seed: 20240617,
  testFraction: 0.2,
  buckets: 512,
  hidden: 32,
  epochs: 12,
  batchSize: 32,
  learningRate: 0.2,
};

export type SpamMessage = { text: string; spam: boolean };

export type SpamSample = {
  /** Index of the message in the corpus order given to `buildSpam`. */
  index: number;
  label: (typeof spamLabels)[number];
  labelIndex: number;
  /** The float features (featuriseText of the message). */
  features: number[];
  /** The int8 input of the VQM model (features quantised with its input scale). */
  int8Input: number[];
};

export type SpamMetadata = {
  name: string;
  description: string;
  labels: string[];
  featuriser: { module: string; buckets: number; value: string; reads: string };
  input: { name: string; dtype: "float32"; shape: number[] };
  output: { name: string; dtype: "float32"; shape: number[] };
  modelHash: string;
  modelBytes: number;
  vqm: { modelHash: string; modelBytes: number; inputScale: number; outputScale: number | undefined };
  trainAccuracy: number;
  heldOutAccuracy: number;
  intHeldOutAccuracy: number;
  training: SpamSettings & {
    trainSize: number;
    testSize: number;
    spamCount: number;
    hamCount: number;
    initialLoss: number;
    finalLoss: number;
  };
  samples: SpamSample[];
};

export type BuildSpamReturnType = {
  onnx: Uint8Array;
  vqm: VqmModel;
  metadata: SpamMetadata;
  split: { train: number[]; test: number[] };
};

export type BuildSpamParameters = {
  messages: readonly SpamMessage[];
  /** Overrides of the settings (tests use fewer epochs on a small corpus). */
  settings?: Partial<SpamSettings>;
  name?: string;
};

export function buildSpam({
  messages,
  settings: overrides,
  name = "spam-mlp",
}: BuildSpamParameters): BuildSpamReturnType {
  const settings = { ...spamSettings, ...overrides };
  const { seed, testFraction, buckets, hidden, epochs, batchSize, learningRate } = settings;
  const features = messages.map((message) => featuriseText(message.text, buckets));
  const labels = messages.map((message) => (message.spam ? 1 : 0));
  const split = stratifiedSplit(labels, testFraction, createPrng(seed));
  const trained = trainMlp({
    features: split.train.map((i) => features[i]!),
    labels: split.train.map((i) => labels[i]!),
    sizes: [buckets, hidden, spamLabels.length],
    epochs,
    batchSize,
    learningRate,
    seed: seed + 1,
  });
  const layers = toFloat32Layers(trained.mlp);
  const onnx = writeOnnx({ graph: mlpOnnxGraph({ layers, name }) });
  const { model: vqm } = quantiseModel({
    onnx: readOnnx(onnx),
    calibration: split.train.map((i) => features[i]!),
    name,
    labels: [...spamLabels],
  });
  const vqmBytes = emitOnnx(vqm);

  const floatClass = (i: number) => argmax(forwardFloat32(layers, features[i]!));
  const intInput = (i: number) => quantiseInput(features[i]!, vqm.input.scale);
  const intClass = (i: number) =>
    argmax(executeVqm(vqm, { dtype: "int8", shape: vqm.input.shape, data: intInput(i) }).output.data as Int8Array);
  const score = (indices: number[], classify: (i: number) => number) =>
    accuracy(
      indices.map(classify),
      indices.map((i) => labels[i]!),
    );

  const samples = [0, 1, 0, 1].map((label, k) => {
    const index = split.test.filter((i) => labels[i] === label)[k >> 1]!;
    return {
      index,
      label: spamLabels[label]!,
      labelIndex: label,
      features: features[index]!,
      int8Input: Array.from(intInput(index)),
    };
  });

  const metadata: SpamMetadata = {
    name,
    description: `MLP ${buckets}→${hidden}(ReLU)→2 on hashed bag-of-words features of mail bodies; float32 logits (ham, spam).`,
    labels: [...spamLabels],
    featuriser: {
      module: "oracle/model/text/featurise-text.ts",
      buckets,
      value: "log(1 + count) of tokens hashed (FNV-1a 32) into each bucket",
      reads: "the message body (messageBody: what follows the first empty line)",
    },
    input: { name: "input", dtype: "float32", shape: [1, buckets] },
    output: { name: "logits", dtype: "float32", shape: [1, 2] },
    modelHash: keccak256(onnx),
    modelBytes: onnx.length,
    vqm: {
      modelHash: keccak256(vqmBytes),
      modelBytes: vqmBytes.length,
      inputScale: vqm.input.scale,
      outputScale: vqm.outputScale,
    },
    trainAccuracy: score(split.train, floatClass),
    heldOutAccuracy: score(split.test, floatClass),
    intHeldOutAccuracy: score(split.test, intClass),
    training: {
      ...settings,
      trainSize: split.train.length,
      testSize: split.test.length,
      spamCount: labels.filter((l) => l === 1).length,
      hamCount: labels.filter((l) => l === 0).length,
      initialLoss: trained.initialLoss,
      finalLoss: trained.finalLoss,
    },
    samples,
  };
  return { onnx, vqm, metadata, split };
}

function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}
