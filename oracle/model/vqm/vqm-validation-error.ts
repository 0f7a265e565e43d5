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
