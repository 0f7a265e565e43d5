/**
 * Everything the step and reduction moves of one disputed layer need, built once from the agreed
 * sources (the model input and the layers before it, on which both sides of a game agree) and
 * the weights blob: the encoded spec, whether the prover takes the whole element or the
 * reduction phase, each proof, and the honest prefix states. The moves themselves are the pure
 * helpers of oracle/dispute/moves.ts; this binds them to one layer's sources. Both game drivers
 * take their moves from it: the daemon's (oracle/node/game-moves.ts, one kit per move, since it
 * keeps no state between polls) and the in-process one (oracle/devnet/play-game.ts, one kit per
 * game, like the benchmarks and tests, which so do not rebuild a Merkle tree at every move).
 */
import { encodeLayerSpec, LayerKind, type LayerSpec } from "./layout.ts";
import {
  needsReduction,
  prefixStates,
  stepChunks,
  stepProof,
  stepSource,
  type StepSource,
  sumParamsProof,
  sumStepProof,
} from "./moves.ts";
import type { VqmModel } from "../model/vqm/vqm-model.ts";

/** What a kit needs of a model: its layer specs, its weights blob as steps read it, and the model. */
export type KitModel = { specs: LayerSpec[]; blob: StepSource; model: VqmModel };

export type LayerKit = {
  spec: LayerSpec;
  /** The spec as `proveStep`, `openSum` and the reduction moves take it. */
  encoded: string;
  /** Whether the prover refuses the element's whole step, so an honest challenger opens the reduction phase. */
  needsReduction: (element: number) => boolean;
  /** The `stepProof` of `proveStep`. */
  whole: (element: number) => string;
  /** The `stepProof` of `proveSumStep` over `[lo, hi)`. */
  range: (element: number, lo: number, hi: number) => string;
  /** The `paramsProof` of `claimSum`. */
  params: (element: number) => string;
  /** The honest prefix states `S_0 … S_n` of the element's reduction. */
  states: (element: number) => number[];
};

/**
 * The kit of layer `layer` of `model`, whose agreed sources are `input` (the element bytes of
 * the model input) and `trace` (the element bytes of the layers, at least those before `layer`).
 */
export function layerKit(
  model: Pick<KitModel, "specs" | "blob">,
  layer: number,
  input: Uint8Array,
  trace: readonly Uint8Array[],
): LayerKit {
  const spec = model.specs[layer]!;
  const bytesOf = (ref: number) => (ref === -1 ? input : trace[ref]!);
  const a = stepSource(bytesOf(spec.inputA));
  const b = spec.kind === LayerKind.add ? stepSource(bytesOf(spec.inputB)) : undefined;
  const { blob } = model;
  return {
    spec,
    encoded: encodeLayerSpec(spec),
    needsReduction: (e) => needsReduction(spec, () => stepChunks(spec, e, blob, a, b)),
    whole: (e) => stepProof(spec, e, blob, a, b),
    range: (e, lo, hi) => sumStepProof(spec, e, lo, hi, blob, a),
    params: (e) => sumParamsProof(spec, e, blob),
    states: (e) => prefixStates(spec, e, blob.bytes, a.bytes),
  };
}
