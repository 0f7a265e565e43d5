/**
 * Trains a GPT (`gpt.ts`) on whole sequences with tfjs: Adam, linear warm-up then cosine decay
 * of the learning rate, mini-batches drawn from a seeded shuffle. Each sequence is one training
 * example (`. n a m e .` predicts `n a m e .` from `. n a m e`), padded to the batch's longest
 * with the padding's loss weighted 0; a causal model never lets padding reach an earlier position.
 */
import { gptLoss, gptVariables, readGptWeights, tf } from "./gpt-tfjs.ts";
import { initGptWeights } from "./gpt.ts";
import type { GptConfig, GptWeights } from "./gpt.ts";
import { createPrng, shuffle } from "./prng.ts";

export type TrainGptParameters = {
  config: GptConfig;
  /** Token id sequences with both boundaries, each at most contextLength + 1 long. */
  sequences: readonly (readonly number[])[];
  /** Padding id for inputs past a sequence's end (never seen by a real position). */
  padId: number;
  steps: number;
  batchSize: number;
  /** Peak learning rate, reached after `warmupSteps`, decayed to `finalLearningRate`. */
  learningRate: number;
  finalLearningRate: number;
  warmupSteps: number;
  /** Seeds the initialisation (seed) and the batch order (seed + 1). */
  seed: number;
  /** Called every `reportEvery` steps with the mean training loss since the last call. */
  onReport?: (report: { step: number; loss: number; learningRate: number }) => void;
  reportEvery?: number;
};

export type TrainGptReturnType = { weights: GptWeights; initialLoss: number; finalLoss: number };

/** Adam whose learning rate the schedule may change between steps. */
class ScheduledAdam extends tf.AdamOptimizer {
  setLearningRate(rate: number): void {
    this.learningRate = rate;
  }
}

export function trainGpt({
  config,
  sequences,
  padId,
  steps,
  batchSize,
  learningRate,
  finalLearningRate,
  warmupSteps,
  seed,
  onReport,
  reportEvery = 100,
}: TrainGptParameters): TrainGptReturnType {
  const longest = Math.max(...sequences.map((s) => s.length));
  if (longest > config.contextLength + 1)
    throw new RangeError(`A sequence of ${longest} tokens does not fit a context of ${config.contextLength}.`);
  const variables = gptVariables(initGptWeights(config, seed));
  const optimizer = new ScheduledAdam(learningRate, 0.9, 0.99, 1e-8);
  const order = createPrng(seed + 1);
  let queue: number[] = [];
  let initialLoss = Number.NaN;
  let finalLoss = Number.NaN;
  let lossSum = 0;
  let lossCount = 0;
  for (let step = 0; step < steps; step++) {
    if (queue.length < batchSize)
      queue = [
        ...queue,
        ...shuffle(
          sequences.map((_, i) => i),
          order,
        ),
      ];
    const batch = queue.splice(0, batchSize).map((i) => sequences[i]!);
    const rate = scheduledRate(step, { steps, learningRate, finalLearningRate, warmupSteps });
    optimizer.setLearningRate(rate);
    const { ids, targets, weights } = batchTensors(batch, padId);
    const cost = optimizer.minimize(() => gptLoss(config, variables, ids, targets, weights), true);
    const loss = cost!.dataSync()[0]!;
    tf.dispose([cost!, ids, targets, weights]);
    if (step === 0) initialLoss = loss;
    finalLoss = loss;
    lossSum += loss;
    lossCount++;
    if (onReport && ((step + 1) % reportEvery === 0 || step === steps - 1)) {
      onReport({ step: step + 1, loss: lossSum / lossCount, learningRate: rate });
      lossSum = lossCount = 0;
    }
  }
  const weights = readGptWeights(config, variables);
  optimizer.dispose();
  tf.dispose([...variables.values()]);
  return { weights, initialLoss, finalLoss };
}

/** Linear warm-up from 0, then a half cosine from the peak down to the final rate. */
export function scheduledRate(
  step: number,
  schedule: { steps: number; learningRate: number; finalLearningRate: number; warmupSteps: number },
): number {
  const { steps, learningRate, finalLearningRate, warmupSteps } = schedule;
  if (step < warmupSteps) return (learningRate * (step + 1)) / warmupSteps;
  const progress = (step - warmupSteps) / Math.max(1, steps - 1 - warmupSteps);
  return finalLearningRate + 0.5 * (learningRate - finalLearningRate) * (1 + Math.cos(Math.PI * progress));
}

/**
 * Inputs (all but the last token), targets (all but the first) and loss weights, padded to the
 * batch's longest input. Returns tensors the caller disposes.
 */
export function batchTensors(
  batch: readonly (readonly number[])[],
  padId: number,
): { ids: tf.Tensor2D; targets: tf.Tensor2D; weights: tf.Tensor2D } {
  const T = Math.max(...batch.map((s) => s.length - 1));
  const ids = new Int32Array(batch.length * T).fill(padId);
  const targets = new Int32Array(batch.length * T).fill(padId);
  const weights = new Float32Array(batch.length * T);
  batch.forEach((sequence, row) => {
    for (let t = 0; t < sequence.length - 1; t++) {
      ids[row * T + t] = sequence[t]!;
      targets[row * T + t] = sequence[t + 1]!;
      weights[row * T + t] = 1;
    }
  });
  const shape: [number, number] = [batch.length, T];
  return {
    ids: tf.tensor2d(ids, shape, "int32"),
    targets: tf.tensor2d(targets, shape, "int32"),
    weights: tf.tensor2d(weights, shape, "float32"),
  };
}
