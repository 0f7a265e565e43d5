/**
 * How closely a quantised model follows its float original on a set of inputs: the integer model
 * run by the reference executor on the quantised input, the float one by the float64 forward
 * pass of the same (float32) weights.
 */
import { executeVqm } from "../vqm/reference-executor.ts";
import type { VqmModel } from "../vqm/vqm-model.ts";
import type { FloatNetwork } from "./float-network.ts";
import { quantiseInput } from "./fixed-point.ts";
import { runFloatNetwork } from "./run-float-network.ts";

export type CompareQuantisedParameters = {
  model: VqmModel;
  network: FloatNetwork;
  /** Flattened float inputs. */
  inputs: readonly (readonly number[])[];
};

export type CompareQuantisedReturnType = {
  samples: number;
  /** Class of each input (argmax over the last axis, first index on ties), float and integer. */
  floatClasses: number[];
  intClasses: number[];
  /** Share of inputs whose float and integer classes agree. */
  top1Agreement: number;
  /** Between float outputs and dequantised integer outputs (int8 · outputScale); absent after argmax. */
  maxAbsError?: number;
  meanAbsError?: number;
  /** Largest |float output| seen: the scale the errors are to be read against. */
  floatOutputRange?: number;
};

export function compareQuantised({ model, network, inputs }: CompareQuantisedParameters): CompareQuantisedReturnType {
  const endsInArgmax = model.layers.at(-1)?.kind === "argmax";
  const width = endsInArgmax ? 1 : network.shapes.at(-1)!.at(-1)!;
  const floatClasses: number[] = [];
  const intClasses: number[] = [];
  let maxAbsError = 0;
  let sumAbsError = 0;
  let count = 0;
  let floatOutputRange = 0;
  for (const x of inputs) {
    const float = runFloatNetwork(network, x).at(-1)!;
    const { output } = executeVqm(model, {
      dtype: "int8",
      shape: model.input.shape,
      data: quantiseInput(x, model.input.scale),
    });
    const int = Array.from(output.data as Int8Array | Int32Array);
    if (endsInArgmax) {
      floatClasses.push(float[0]!);
      intClasses.push(int[0]!);
      continue;
    }
    floatClasses.push(argmaxOf(float, width));
    intClasses.push(argmaxOf(int, width));
    for (let i = 0; i < float.length; i++) {
      const error = Math.abs(int[i]! * model.outputScale! - float[i]!);
      maxAbsError = Math.max(maxAbsError, error);
      sumAbsError += error;
      floatOutputRange = Math.max(floatOutputRange, Math.abs(float[i]!));
      count++;
    }
  }
  const agreeing = floatClasses.filter((c, i) => c === intClasses[i]).length;
  return {
    samples: inputs.length,
    floatClasses,
    intClasses,
    top1Agreement: inputs.length > 0 ? agreeing / inputs.length : 1,
    ...(endsInArgmax ? {} : { maxAbsError, meanAbsError: count > 0 ? sumAbsError / count : 0, floatOutputRange }),
  };
}

/** Index of the largest of the first `width` values (the first on ties). */
function argmaxOf(values: ArrayLike<number>, width: number): number {
  let best = 0;
  for (let i = 1; i < width; i++) if (values[i]! > values[best]!) best = i;
  return best;
}
