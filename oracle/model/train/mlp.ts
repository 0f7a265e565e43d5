/**
 * A small multi-layer perceptron and its full-batch gradient-descent training: dense layers
 * with ReLU between them and none after the last (the output is logits), softmax
 * cross-entropy loss. Pure and float64 throughout, so a seed fixes every bit of the result.
 */
import { createPrng, shuffle } from "./prng.ts";
import type { Prng } from "./prng.ts";

/** y = W x + b with W row-major [outputs][inputs] (the ONNX Gemm transB=1 layout). */
export type DenseLayer = {
  inputs: number;
  outputs: number;
  weights: Float64Array;
  bias: Float64Array;
};

export type Mlp = { layers: DenseLayer[] };

/** Glorot-uniform weights, zero biases. `sizes` = [inputs, hidden..., outputs]. */
export function initMlp(sizes: readonly number[], prng: Prng): Mlp {
  if (sizes.length < 2 || !sizes.every((n) => Number.isInteger(n) && n >= 1))
    throw new RangeError(`MLP sizes must be two or more positive integers, got [${sizes.join(", ")}].`);
  const layers = sizes.slice(1).map((outputs, i) => {
    const inputs = sizes[i]!;
    const limit = Math.sqrt(6 / (inputs + outputs));
    const weights = new Float64Array(inputs * outputs).map(() => prng.uniform(-limit, limit));
    return { inputs, outputs, weights, bias: new Float64Array(outputs) };
  });
  return { layers };
}

function dense(layer: DenseLayer, x: ArrayLike<number>): Float64Array {
  const out = new Float64Array(layer.outputs);
  for (let o = 0; o < layer.outputs; o++) {
    let sum = layer.bias[o]!;
    for (let i = 0; i < layer.inputs; i++) {
      const xi = x[i]!;
      if (xi !== 0) sum += layer.weights[o * layer.inputs + i]! * xi; // sparse inputs (bag of words) skip zeros
    }
    out[o] = sum;
  }
  return out;
}

/** Every layer's pre-activation output, first to last (the last is the logits). */
function forwardTrace(mlp: Mlp, x: ArrayLike<number>): Float64Array[] {
  const trace: Float64Array[] = [];
  let activation: ArrayLike<number> = x;
  mlp.layers.forEach((layer, index) => {
    const z = dense(layer, activation);
    trace.push(z);
    activation = index < mlp.layers.length - 1 ? z.map((v) => (v > 0 ? v : 0)) : z;
  });
  return trace;
}

export function forward(mlp: Mlp, x: ArrayLike<number>): Float64Array {
  return forwardTrace(mlp, x).at(-1)!;
}

export function softmax(logits: ArrayLike<number>): Float64Array {
  const values = Array.from(logits);
  const max = Math.max(...values);
  const exps = values.map((v) => Math.exp(v - max));
  const total = exps.reduce((a, b) => a + b, 0);
  return Float64Array.from(exps, (e) => e / total);
}

export type Gradients = { loss: number; layers: { weights: Float64Array; bias: Float64Array }[] };

/** Mean softmax cross-entropy over the batch and its gradients (backpropagation). */
export function lossAndGradients(
  mlp: Mlp,
  features: readonly (readonly number[])[],
  labels: readonly number[],
): Gradients {
  const grads = mlp.layers.map((layer) => ({
    weights: new Float64Array(layer.weights.length),
    bias: new Float64Array(layer.outputs),
  }));
  const n = features.length;
  let loss = 0;
  features.forEach((x, sample) => {
    const trace = forwardTrace(mlp, x);
    const probabilities = softmax(trace.at(-1)!);
    const label = labels[sample]!;
    loss -= Math.log(Math.max(probabilities[label]!, 1e-300)) / n;
    // dLoss/dlogits = (p - onehot) / n, then back through each layer.
    let delta = probabilities.map((p, k) => (p - (k === label ? 1 : 0)) / n);
    for (let l = mlp.layers.length - 1; l >= 0; l--) {
      const layer = mlp.layers[l]!;
      const input: ArrayLike<number> = l === 0 ? x : trace[l - 1]!.map((v) => (v > 0 ? v : 0));
      const grad = grads[l]!;
      const active: number[] = [];
      for (let i = 0; i < layer.inputs; i++) if (input[i]! !== 0) active.push(i); // zero inputs add nothing
      for (let o = 0; o < layer.outputs; o++) {
        grad.bias[o]! += delta[o]!;
        for (const i of active) grad.weights[o * layer.inputs + i]! += delta[o]! * input[i]!;
      }
      if (l > 0) {
        const below = trace[l - 1]!;
        const next = new Float64Array(layer.inputs);
        for (let i = 0; i < layer.inputs; i++) {
          if (below[i]! <= 0) continue; // ReLU passes no gradient where it was off
          let sum = 0;
          for (let o = 0; o < layer.outputs; o++) sum += layer.weights[o * layer.inputs + i]! * delta[o]!;
          next[i] = sum;
        }
        delta = next;
      }
    }
  });
  return { loss, layers: grads };
}

/** One gradient-descent step; returns a new MLP. */
export function applyGradients(mlp: Mlp, gradients: Gradients, learningRate: number): Mlp {
  return {
    layers: mlp.layers.map((layer, l) => ({
      ...layer,
      weights: layer.weights.map((w, i) => w - learningRate * gradients.layers[l]!.weights[i]!),
      bias: layer.bias.map((b, i) => b - learningRate * gradients.layers[l]!.bias[i]!),
    })),
  };
}

export type TrainMlpParameters = {
  features: readonly (readonly number[])[];
  labels: readonly number[];
  /** [inputs, hidden..., classes]. */
  sizes: readonly number[];
  epochs: number;
  learningRate: number;
  seed: number;
  /**
   * Samples per gradient step. Defaults to all of them (full-batch gradient descent); smaller
   * batches are drawn from a fresh shuffle every epoch (PRNG seeded with `seed + 1`).
   */
  batchSize?: number;
};

export type TrainMlpReturnType = { mlp: Mlp; initialLoss: number; finalLoss: number };

/**
 * Gradient descent from a seeded Glorot initialisation: full-batch by default, else mini-batch
 * SGD. Losses are over the whole set (before the first and after the last step).
 */
export function trainMlp({
  features,
  labels,
  sizes,
  epochs,
  learningRate,
  seed,
  batchSize = features.length,
}: TrainMlpParameters): TrainMlpReturnType {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer.`);
  if (batchSize < features.length)
    return trainMiniBatch({ features, labels, sizes, epochs, learningRate, seed, batchSize });
  let mlp = initMlp(sizes, createPrng(seed));
  let initialLoss = Number.NaN;
  let finalLoss = Number.NaN;
  for (let epoch = 0; epoch < epochs; epoch++) {
    const gradients = lossAndGradients(mlp, features, labels);
    if (epoch === 0) initialLoss = gradients.loss;
    finalLoss = gradients.loss;
    mlp = applyGradients(mlp, gradients, learningRate);
  }
  return { mlp, initialLoss, finalLoss };
}

function trainMiniBatch({
  features,
  labels,
  sizes,
  epochs,
  learningRate,
  seed,
  batchSize,
}: Required<TrainMlpParameters>): TrainMlpReturnType {
  let mlp = initMlp(sizes, createPrng(seed));
  const order = createPrng(seed + 1);
  const initialLoss = lossAndGradients(mlp, features, labels).loss;
  const all = features.map((_, i) => i);
  for (let epoch = 0; epoch < epochs; epoch++) {
    const shuffled = shuffle(all, order);
    for (let start = 0; start < shuffled.length; start += batchSize) {
      const batch = shuffled.slice(start, start + batchSize);
      const gradients = lossAndGradients(
        mlp,
        batch.map((i) => features[i]!),
        batch.map((i) => labels[i]!),
      );
      mlp = applyGradients(mlp, gradients, learningRate);
    }
  }
  return { mlp, initialLoss, finalLoss: lossAndGradients(mlp, features, labels).loss };
}

/**
 * Folds z = (x - mean) / std into the first layer, so the model takes raw features:
 * W' = W / std (per input column), b' = b - W' mean.
 */
export function foldStandardisation(mlp: Mlp, mean: readonly number[], std: readonly number[]): Mlp {
  const [first, ...rest] = mlp.layers;
  if (!first || mean.length !== first.inputs || std.length !== first.inputs)
    throw new RangeError(`Standardisation has ${mean.length} features; the MLP takes ${first?.inputs}.`);
  const weights = first.weights.map((w, index) => w / std[index % first.inputs]!);
  const bias = first.bias.map((b, o) => {
    let shift = 0;
    for (let i = 0; i < first.inputs; i++) shift += weights[o * first.inputs + i]! * mean[i]!;
    return b - shift;
  });
  return { layers: [{ ...first, weights, bias }, ...rest] };
}

export function predict(mlp: Mlp, x: ArrayLike<number>): number {
  const logits = forward(mlp, x);
  let best = 0;
  for (let k = 1; k < logits.length; k++) if (logits[k]! > logits[best]!) best = k;
  return best;
}
