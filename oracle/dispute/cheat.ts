/**
 * TEST-ONLY fault injection for the dispute demo and tests: a provider configured with
 * `testing.cheat` submits a trace in which one element of one layer is wrong and every later
 * layer is recomputed from the wrong value, so the trace is self-consistent everywhere but at
 * that one element, as an honest provider with a faulty kernel would produce. Refused unless
 * the process runs with VERITY_ALLOW_CHEAT=1.
 */
import { BaseError } from "../errors.ts";
import type { Tensor } from "../model/tensor.ts";
import { executeVqm } from "../model/vqm/reference-executor.ts";
import type { ExecuteVqmReturnType } from "../model/vqm/reference-executor.ts";
import type { VqmModel } from "../model/vqm/vqm-model.ts";

export type Cheat = { layer: number; element: number; delta: number };

export const ALLOW_CHEAT_ENV = "VERITY_ALLOW_CHEAT";

export class CheatRefusedError extends BaseError {
  override name = "CheatRefusedError";
}

/** Throws unless fault injection was allowed explicitly in the environment. */
export function assertCheatAllowed(cheat: Cheat | undefined, env: Record<string, string | undefined>): void {
  if (cheat === undefined || env[ALLOW_CHEAT_ENV] === "1") return;
  throw new CheatRefusedError("The config asks for testing.cheat, a test-only fault injection.", {
    details: [`It makes the provider submit wrong results and lose its stake. Set ${ALLOW_CHEAT_ENV}=1 to allow it.`],
  });
}

/** The value `delta` away from `value`, kept in int8 range by going the other way if needed. */
export function cheatValue(value: number, delta: number, dtype: Tensor["dtype"]): number {
  if (dtype !== "int8") return value + delta;
  const up = value + delta;
  if (up >= -128 && up <= 127) return up;
  const down = value - delta;
  return down >= -128 && down <= 127 ? down : value === 0 ? 1 : 0;
}

/** Runs the model as the reference executor does, with `cheat` applied (when given). */
export function executeWithCheat(model: VqmModel, input: Tensor, cheat: Cheat | undefined): ExecuteVqmReturnType {
  if (!cheat) return executeVqm(model, input);
  if (cheat.layer >= model.layers.length)
    throw new CheatRefusedError(`testing.cheat.layer ${cheat.layer}: the model has ${model.layers.length} layers.`);
  return executeVqm(model, input, {
    onLayer: (index, output) => {
      if (index !== cheat.layer) return output;
      if (cheat.element >= output.data.length)
        throw new CheatRefusedError(
          `testing.cheat.element ${cheat.element}: layer ${index} has ${output.data.length}.`,
        );
      const data = output.data.slice() as Int8Array | Int32Array; // trace tensors are int8 or int32
      data[cheat.element] = cheatValue(Number(output.data[cheat.element]), cheat.delta, output.dtype);
      return { ...output, data } as Tensor;
    },
  });
}
