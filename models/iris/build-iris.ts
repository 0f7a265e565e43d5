/**
 * The iris demo model, from data to artifact bytes, as one pure function: the same data and
 * settings always give the same ONNX bytes (and so the same modelHash). `train.ts` is the I/O.
 */
import { keccak256 } from "ethers";
import { argmax } from "../../oracle/model/argmax.ts";
import { encodeInlineInput } from "../../oracle/model/input-envelope.ts";
import { writeOnnx } from "../../oracle/model/onnx/write-onnx.ts";
import { createTensor } from "../../oracle/model/tensor.ts";
import { accuracy, fitStandardisation, standardise, stratifiedSplit } from "../../oracle/model/train/dataset.ts";
import { foldStandardisation, trainMlp } from "../../oracle/model/train/mlp.ts";
import { forwardFloat32, mlpOnnxGraph, toFloat32Layers } from "../../oracle/model/train/mlp-onnx.ts";
import { createPrng } from "../../oracle/model/train/prng.ts";

export const irisLabels = ["setosa", "versicolor", "virginica"] as const;

export const irisFeatures = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"] as const;

export const irisSettings = {
  seed: 20240601,
  testFraction: 0.3,
  hidden: 8,
  epochs: 600,
  learningRate: 0.2,
} as const;

export type IrisSample = {
  input: number[];
  label: (typeof irisLabels)[number];
  labelIndex: number;
  inputEnvelope: string;
};

export type IrisMetadata = {
  name: string;
  description: string;
  labels: string[];
  input: { name: string; dtype: "float32"; shape: number[]; features: string[] };
  output: { name: string; dtype: "float32"; shape: number[] };
  modelHash: string;
  modelBytes: number;
  trainAccuracy: number;
  heldOutAccuracy: number;
  training: typeof irisSettings & { trainSize: number; testSize: number; initialLoss: number; finalLoss: number };
  samples: IrisSample[];
};

export type BuildIrisParameters = {
  /** The 150 rows of four centimetre measurements. */
  features: readonly (readonly number[])[];
  /** Species name of each row. */
  species: readonly string[];
};

export type BuildIrisReturnType = {
  onnx: Uint8Array;
  metadata: IrisMetadata;
  split: { train: number[]; test: number[] };
};

export function buildIris({ features, species }: BuildIrisParameters): BuildIrisReturnType {
  const labels = species.map((name) => {
    const index = (irisLabels as readonly string[]).indexOf(name);
    if (index < 0) throw new RangeError(`Unknown iris species "${name}".`);
    return index;
  });
  const { seed, testFraction, hidden, epochs, learningRate } = irisSettings;
  const split = stratifiedSplit(labels, testFraction, createPrng(seed));
  const trainRows = split.train.map((i) => features[i]!);
  const trainLabels = split.train.map((i) => labels[i]!);
  const scaling = fitStandardisation(trainRows);
  const trained = trainMlp({
    features: standardise(trainRows, scaling),
    labels: trainLabels,
    sizes: [irisFeatures.length, hidden, irisLabels.length],
    epochs,
    learningRate,
    seed: seed + 1,
  });
  // The exported model takes raw centimetres: standardisation lives in the first layer.
  const layers = toFloat32Layers(foldStandardisation(trained.mlp, scaling.mean, scaling.std));
  const onnx = writeOnnx({ graph: mlpOnnxGraph({ layers, name: "iris-mlp" }) });

  // Accuracy of the exported float32 weights, not of the float64 training copy.
  const classify = (i: number) => argmax(createTensor("float32", [1, 3], forwardFloat32(layers, features[i]!)));
  const scoreOf = (indices: number[]) =>
    accuracy(
      indices.map(classify),
      indices.map((i) => labels[i]!),
    );

  const samples = irisLabels.map((_, label) => {
    const index = split.test.find((i) => labels[i] === label)!;
    const input = [...features[index]!];
    return {
      input,
      label: irisLabels[label]!,
      labelIndex: label,
      inputEnvelope: `0x${Buffer.from(encodeInlineInput(createTensor("float32", [1, 4], input))).toString("hex")}`,
    };
  });

  const metadata: IrisMetadata = {
    name: "iris-mlp",
    description: "MLP 4→8(ReLU)→3 on Fisher's iris data; float32 logits from raw centimetre features.",
    labels: [...irisLabels],
    input: { name: "input", dtype: "float32", shape: [1, 4], features: [...irisFeatures] },
    output: { name: "logits", dtype: "float32", shape: [1, 3] },
    modelHash: keccak256(onnx),
    modelBytes: onnx.length,
    trainAccuracy: scoreOf(split.train),
    heldOutAccuracy: scoreOf(split.test),
    training: {
      ...irisSettings,
      trainSize: split.train.length,
      testSize: split.test.length,
      initialLoss: trained.initialLoss,
      finalLoss: trained.finalLoss,
    },
    samples,
  };
  return { onnx, metadata, split };
}
