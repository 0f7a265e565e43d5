/**
 * Reason codes a provider reports on-chain when a request's input cannot be run. The numbers
 * are part of the contract interface: never renumber, only append.
 */
export const FailureReason = {
  /** The input bytes are not a valid envelope or canonical tensor. */
  InputUndecodable: 1,
  /** The input decodes but its dtype or shape is not the model's. */
  InputShapeMismatch: 2,
  /** The input exceeds a size limit: the tensor element cap, or `jobs.maxInputBytes` for
   * inline bytes and for content fetched by CID. */
  InputTooLarge: 3,
  /** The registered model bytes do not load. */
  ModelContentInvalid: 4,
  /** The input content behind a CID is not a canonical tensor. (Missing content is not a
   * failure of the request: the provider retries, then releases it for another provider.) */
  InputContentInvalid: 5,
} as const;

export type FailureReason = (typeof FailureReason)[keyof typeof FailureReason];

const descriptions: Readonly<Record<FailureReason, string>> = {
  1: "input undecodable",
  2: "input shape mismatch",
  3: "input too large",
  4: "model content invalid",
  5: "input content invalid",
};

export function isFailureReason(code: unknown): code is FailureReason {
  return typeof code === "number" && Object.hasOwn(descriptions, code);
}

/** A human description of a code; unknown codes are named as such rather than thrown on. */
export function describeFailureReason(code: number): string {
  return isFailureReason(code) ? descriptions[code] : `unknown failure reason ${code}`;
}

/**
 * Errors that stand for a reportable failure carry a `failureReason`. Error classes opt in by
 * declaring the field, so this module depends on none of them.
 */
export type WithFailureReason = { readonly failureReason: FailureReason };

/**
 * The code to report for `error`: the `failureReason` of the outermost error in its cause chain
 * that has one, or undefined when the failure is not the input's or model's fault (a crash, a
 * network error) and the provider should retry instead of reporting.
 */
export function failureReasonOf(error: unknown): FailureReason | undefined {
  const seen = new Set<unknown>();
  let current = error;
  while (current instanceof Error && !seen.has(current)) {
    const code = (current as Partial<WithFailureReason>).failureReason;
    if (isFailureReason(code)) return code;
    seen.add(current);
    current = current.cause;
  }
  return undefined;
}
