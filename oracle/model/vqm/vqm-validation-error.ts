/**
 * The one error a malformed VQM model raises: which layer (or "model" for the header) broke which
 * rule of docs/numeric-semantics.md.
 */
import { BaseError } from "../../errors.ts";

/** Names the rules so tests and callers can tell failures apart. */
export type VqmRule =
  | "format"
  | "input"
  | "layer-kind"
  | "input-ref"
  | "shape"
  | "parameter-length"
  | "parameter-type"
  | "multiplier-range"
  | "shift-range"
  | "activation"
  | "argmax-last"
  | "bound-accumulator"
  | "bound-product"
  | "bound-add"
  /** A decoder's `sequence` section and what it requires of the layers (embed rows, the last argmax). */
  | "sequence"
  /** qk: `dh · 2^14 < 2^31` and `2^31 · m + 2^(s−1) < 2^62`. */
  | "bound-qk"
  /** av: `2^31 · m + 2^(s−1) < 2^62` (its `C < 2^17` is a "sequence" rule). */
  | "bound-av"
  /** centre: `D ≤ 2^15`. */
  | "bound-centre"
  /** normalize: `|beta| + 2^23 < 2^31` and bound 2 with `B = |beta| + 2^23`. */
  | "bound-normalize"
  /** normalize: `1 ≤ epsilon < 2^62`. */
  | "epsilon-range"
  /** softmax: 256 entries, `exp[255] = 2^16`, non-decreasing, each ≤ 2^16. */
  | "softmax-table"
  /** Beyond a limit of contracts/ModelRegistry.sol (`model/chain-limits.ts`): the chain would refuse it. */
  | "chain-limit";

export class VqmValidationError extends BaseError {
  override name = "VqmValidationError";
  /** Index of the offending layer; -1 for the model header (format, input). */
  readonly layer: number;
  readonly rule: VqmRule;

  constructor(layer: number, rule: VqmRule, message: string, details: string[] = []) {
    super(`${layer < 0 ? "VQM model" : `VQM layer ${layer}`}: ${message}`, { details: [`Rule: ${rule}.`, ...details] });
    this.layer = layer;
    this.rule = rule;
  }
}
