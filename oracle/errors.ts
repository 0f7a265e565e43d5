/**
 * One error type for the whole oracle: a short message, optional detail lines for the user, and
 * the cause chain. The CLI prints `shortMessage` and `details`; the daemon logs the root cause.
 */
export type BaseErrorParameters = {
  details?: string[] | undefined;
  cause?: unknown;
};

export class BaseError extends Error {
  override name = "VerityError";
  readonly shortMessage: string;
  readonly details: string[];

  constructor(shortMessage: string, { details = [], cause }: BaseErrorParameters = {}) {
    super([shortMessage, ...details].join("\n"), cause === undefined ? undefined : { cause });
    this.shortMessage = shortMessage;
    this.details = details;
  }
}

/** Follows `cause` to the first error that has none. */
export function rootCause(error: unknown): unknown {
  let current = error;
  while (current instanceof Error && current.cause !== undefined) current = current.cause;
  return current;
}

/** A message for any thrown value. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
