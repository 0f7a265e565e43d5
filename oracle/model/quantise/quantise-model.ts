/**
 * Post-training quantisation: a float ONNX model plus calibration inputs → a `VqmModel`
 * (docs/numeric-semantics.md#quantiser). Pure: the same model and inputs give the same integers.
 *
 * - Activation scales: symmetric, `max |x| / 127` per tensor over the calibration set.
 * - Weights: symmetric per output channel; biases int32 at `s_in · s_w[j]`.
 * - Requantisation: `m[j] / 2^s[j] ≈ s_in · s_w[j] / s_out`, within the spec's overflow bounds.
 */
import type { OnnxModel } from "../onnx/onnx-model.ts";
import { checkChainLimits } from "../vqm/validate-vqm.ts";
import type { Requant, VqmLayer, VqmModel } from "../vqm/vqm-model.ts";
import { lowerOnnx } from "./float-network.ts";
import type { FloatConv2d, FloatDense, FloatNetwork } from "./float-network.ts";
import { runFloatNetwork } from "./run-float-network.ts";
import {
  accumulatorBounds,
  chooseAddFixedPoint,
  chooseFixedPoint,
  QuantiseError,
  quantiseBias,
  quantisePerChannel,
  symmetricScale,
} from "./fixed-point.ts";

export type QuantiseModelParameters = {
  /** The float model, as `readOnnx` gives it. */
  onnx: OnnxModel;
  /** Flattened float inputs (row-major, the model input's element count each). */
  calibration: readonly (readonly number[])[];
  /** Defaults to the ONNX graph's name. */
  name?: string;
  labels?: string[];
};

export type QuantiseModelReturnType = {
  model: VqmModel;
  /** The lowered float network (what was quantised), for comparing against. */
  network: FloatNetwork;
  /** Largest magnitude seen in calibration: the input's, then each layer output's. */
  ranges: { input: number; layers: number[] };
  /** Float value of one int8 step of each layer's output (undefined for argmax). */
  scales: (number | undefined)[];
};

export function quantiseModel({ onnx, calibration, name, labels }: QuantiseModelParameters): QuantiseModelReturnType {
  const network = lowerOnnx(onnx);
  // Before calibration, which runs the float model on every input: a model the chain would
  // refuse is refused now, naming the limit (validateVqm checks the result again).
  if (network.layers.length > 0) checkChainLimits(network.inputShape, network.shapes, network.layers.at(-1)!.kind);
  const ranges = calibrate(network, calibration);
  const inputScale = symmetricScale(ranges.input);
  const scales: (number | undefined)[] = [];
  const scaleOf = (ref: number): number => {
    const scale = ref < 0 ? inputScale : scales[ref];
    if (scale === undefined) throw new QuantiseError(`Layer ${ref} (argmax) cannot feed another layer.`);
    return scale;
  };

  const layers: VqmLayer[] = network.layers.map((layer, index): VqmLayer => {
    const where = `layer ${index} (node "${layer.node}")`;
    switch (layer.kind) {
      case "dense":
      case "conv2d": {
        const outScale = symmetricScale(ranges.layers[index]!);
        scales.push(outScale);
        const params = quantiseWeighted(layer, scaleOf(layer.input), outScale, where);
        return layer.kind === "dense"
          ? {
              kind: "dense",
              input: layer.input,
              inFeatures: layer.inFeatures,
              outFeatures: layer.outFeatures,
              ...params,
            }
          : {
              kind: "conv2d",
              input: layer.input,
              inChannels: layer.inChannels,
              outChannels: layer.outChannels,
              kernel: [...layer.kernel],
              stride: [...layer.stride],
              padding: [...layer.padding],
              ...params,
            };
      }
      case "add": {
        const outScale = symmetricScale(ranges.layers[index]!);
        scales.push(outScale);
        const [a, b] = layer.inputs;
        const { multipliers, shift } = withContext(where, () =>
          chooseAddFixedPoint(scaleOf(a) / outScale, scaleOf(b) / outScale),
        );
        return { kind: "add", inputs: [a, b], multipliers, shift, activation: layer.activation };
      }
      case "relu":
      case "maxpool2d":
      case "reshape": {
        // Exact on integers: the output keeps the input's scale.
        scales.push(scaleOf(layer.input));
        if (layer.kind === "relu") return { kind: "relu", input: layer.input };
        if (layer.kind === "reshape") return { kind: "reshape", input: layer.input, shape: [...layer.shape] };
        return { kind: "maxpool2d", input: layer.input, kernel: [...layer.kernel], stride: [...layer.stride] };
      }
      case "argmax":
        scales.push(undefined);
        return { kind: "argmax", input: layer.input };
    }
  });

  const model: VqmModel = {
    format: "vqm/1",
    name: name ?? (onnx.graph.name || "model"),
    input: { shape: [...network.inputShape], scale: inputScale },
    layers,
    ...(scales.at(-1) !== undefined ? { outputScale: scales.at(-1) } : {}),
    ...(labels ? { labels: [...labels] } : {}),
  };
  return { model, network, ranges, scales };
}

/** Largest |x| of the input and of every layer's output over the calibration inputs. */
export function calibrate(
  network: FloatNetwork,
  calibration: readonly (readonly number[])[],
): { input: number; layers: number[] } {
  const size = network.inputShape.reduce((a, b) => a * b, 1);
  if (calibration.length === 0) throw new QuantiseError("Calibration needs at least one input.");
  let input = 0;
  const layers = new Array<number>(network.layers.length).fill(0);
  calibration.forEach((x, sample) => {
    if (x.length !== size || !x.every((v) => typeof v === "number" && Number.isFinite(v)))
      throw new QuantiseError(`Calibration input ${sample} is not ${size} finite numbers.`, {
        details: [`The model input "${network.inputName}" has shape [${network.inputShape}] (flattened row-major).`],
      });
    for (const v of x) input = Math.max(input, Math.abs(v));
    runFloatNetwork(network, x).forEach((out, index) => {
      if (network.layers[index]!.kind === "argmax") return;
      for (const v of out) layers[index] = Math.max(layers[index]!, Math.abs(v));
    });
  });
  return { input, layers };
}

function quantiseWeighted(
  layer: FloatDense | FloatConv2d,
  inScale: number,
  outScale: number,
  where: string,
): { weights: Int8Array; bias: Int32Array; requant: Requant } {
  const channels = layer.kind === "dense" ? layer.outFeatures : layer.outChannels;
  const { values: weights, scales: weightScales } = quantisePerChannel(layer.weights, channels);
  const bias = withContext(where, () => quantiseBias(layer.bias, inScale, weightScales));
  const bounds = accumulatorBounds(weights, bias);
  const multiplier = new Int32Array(channels);
  const shift = new Uint8Array(channels);
  for (let j = 0; j < channels; j++) {
    if (!(bounds[j]! < 2 ** 31))
      throw new QuantiseError(`Accumulator bound of ${where}, channel ${j} is ${bounds[j]}, not below 2^31.`, {
        details: ["The layer has too many inputs or too large a bias for an int32 accumulator."],
      });
    const fixed = withContext(`${where}, channel ${j}`, () =>
      chooseFixedPoint((inScale * weightScales[j]!) / outScale, bounds[j]!),
    );
    multiplier[j] = fixed.multiplier;
    shift[j] = fixed.shift;
  }
  return { weights, bias, requant: { multiplier, shift, activation: layer.activation } };
}

function withContext<T>(where: string, f: () => T): T {
  try {
    return f();
  } catch (error) {
    if (!(error instanceof QuantiseError)) throw error;
    throw new QuantiseError(`Cannot quantise ${where}: ${error.shortMessage}`, {
      details: error.details,
      cause: error,
    });
  }
}
