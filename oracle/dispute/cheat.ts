/**
 * TEST-ONLY fault injection for the dispute demo and tests: a provider configured with
 * `testing.cheat` submits a trace in which one element of one layer is wrong and every later
 * layer is recomputed from the wrong value, so the trace is self-consistent everywhere but at
 * that one element, as an honest provider with a faulty kernel would produce. For a decoder the
 * element is one of forward pass `pass`, and every later pass is generated from it: at the last
 * layer (the argmax) that changes one generated token. Refused unless the process runs with
 * VERITY_ALLOW_CHEAT=1.
 */
import { BaseError } from "../errors.ts";
import type { Tensor } from "../model/tensor.ts";
import { executeVqm } from "../model/vqm/reference-executor.ts";
import type { ExecuteVqmReturnType } from "../model/vqm/reference-executor.ts";
import { generateVqm, type GenerateVqmReturnType } from "../model/vqm/sequence-executor.ts";
import type { VqmModel } from "../model/vqm/vqm-model.ts";

/** `pass`: a decoder's forward pass (required for a decoder, refused for other models). */
export type Cheat = { pass?: number | undefined; layer: number; element: number; delta: number };

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
  assertCheatFits(model, cheat);
  if (cheat.pass !== undefined)
    throw new CheatRefusedError(`testing.cheat.pass ${cheat.pass}: model ${model.name} is not a decoder.`);
  return executeVqm(model, input, {
    onLayer: (index, output) => (index === cheat.layer ? cheated(output, cheat) : output),
  });
}

/** Generates with decoder `model` as generateVqm does, with `cheat` applied at its pass (when given). */
export function generateWithCheat(model: VqmModel, prompt: Tensor, cheat: Cheat | undefined): GenerateVqmReturnType {
  if (!cheat) return generateVqm(model, prompt);
  assertCheatFits(model, cheat);
  if (cheat.pass === undefined)
    throw new CheatRefusedError(`testing.cheat: model ${model.name} is a decoder; say which forward pass (pass).`);
  const vocabulary = model.sequence!.vocabSize;
  return generateVqm(model, prompt, {
    onLayer: (t, index, output) => {
      if (t !== cheat.pass || index !== cheat.layer) return output;
      const wrong = cheated(output, cheat);
      // The argmax's token ids stay in the vocabulary, so the next pass can still embed them.
      if (model.layers[index]!.kind !== "argmax") return wrong;
      const data = Int32Array.from(wrong.data as Int32Array, (id) => ((id % vocabulary) + vocabulary) % vocabulary);
      return { ...wrong, data } as Tensor;
    },
  });
}

function assertCheatFits(model: VqmModel, cheat: Cheat): void {
  if (cheat.layer >= model.layers.length)
    throw new CheatRefusedError(`testing.cheat.layer ${cheat.layer}: the model has ${model.layers.length} layers.`);
}

/** `output` with element `cheat.element` moved by `cheat.delta`. */
function cheated(output: Tensor, cheat: Cheat): Tensor {
  if (cheat.element >= output.data.length)
    throw new CheatRefusedError(
      `testing.cheat.element ${cheat.element}: layer ${cheat.layer} has ${output.data.length}.`,
    );
  const data = output.data.slice() as Int8Array | Int32Array; // trace tensors are int8 or int32
  data[cheat.element] = cheatValue(Number(output.data[cheat.element]), cheat.delta, output.dtype);
  return { ...output, data } as Tensor;
}
