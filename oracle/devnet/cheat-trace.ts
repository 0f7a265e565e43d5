/**
 * TEST-ONLY: what a provider that cheated in one element shows in an in-process game (gas
 * benchmarks and tests), so that a game is played to its real end rather than lost early.
 * Its trace has the element moved and every other element as it was (unlike executeWithCheat,
 * which recomputes the later layers): the roots differ in that layer alone. Its reduction
 * states are the honest ones up to the last, which it replaces by a state that finishes to the
 * element it claims, so `claimSum` accepts it and only the range steps can expose it.
 */
import { cheatValue } from "../dispute/cheat.ts";
import type { Tensor } from "../model/tensor.ts";
import { requant } from "../model/vqm/reference-executor.ts";
import type { DenseLayer, VqmModel } from "../model/vqm/vqm-model.ts";

/** A copy of `trace` with element `element` of layer `layer` moved by one (within int8); later layers left as they were. */
export function withElementMoved(trace: readonly Tensor[], layer: number, element: number): Tensor[] {
  const copy = trace.map((t) => ({ ...t, data: t.data.slice() }) as Tensor);
  const data = copy[layer]!.data as Int8Array | Int32Array; // trace tensors are int8 or int32
  data[element] = cheatValue(Number(data[element]), 1, copy[layer]!.dtype);
  return copy;
}

export type CheatedStatesParameters = {
  model: VqmModel;
  layer: number;
  /** The cheated trace (its element of `layer` is what the cheater claims). */
  cheat: readonly Tensor[];
  /** The honest prefix states `S_0 … S_n` of an element's reduction (LayerKit.states). */
  honest: (element: number) => readonly number[];
};

/** The cheater's states of each element of `layer`: the honest ones with the last replaced by `consistentFinal`'s. */
export function cheatedStates({ model, layer, cheat, honest }: CheatedStatesParameters): (element: number) => number[] {
  return (element) => {
    const states = honest(element);
    const claimed = Number(cheat[layer]!.data[element]);
    return [...states.slice(0, -1), consistentFinal({ model, layer, element, claimed, honest: states })];
  };
}

export type ConsistentFinalParameters = {
  model: VqmModel;
  layer: number;
  element: number;
  /** The element's value in the cheated trace. */
  claimed: number;
  /** The honest prefix states `S_0 … S_n` of the element's reduction. */
  honest: readonly number[];
};

/**
 * A final state that finishes to `claimed` though it is not the honest `S_n`: for argmax the
 * honest best value with the claimed index, for maxpool2d the claimed maximum, for dense the
 * smallest accumulator that requantises to it (a binary search, requant being monotonic).
 */
export function consistentFinal({ model, layer, element, claimed, honest }: ConsistentFinalParameters): number {
  const kind = model.layers[layer]!.kind;
  const honestFinal = honest[honest.length - 1]!;
  if (kind === "argmax") return Math.floor(honestFinal / 2 ** 32) * 2 ** 32 + claimed;
  if (kind === "maxpool2d") return claimed + 128;
  if (kind !== "dense") throw new Error(`No consistent final state for a ${kind} layer.`);
  const { bias, requant: params } = model.layers[layer] as DenseLayer;
  const b = bias[element]!;
  const value = (s: number) =>
    requant(BigInt(b + s), params.multiplier[element]!, params.shift[element]!, params.activation);
  let [lo, hi] = [-(2 ** 31) + 1 - b, 2 ** 31 - 1 - b];
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (value(mid) < claimed) lo = mid + 1;
    else hi = mid;
  }
  if (value(lo) !== claimed) throw new Error(`No accumulator of element ${element} requantises to ${claimed}.`);
  return lo;
}
