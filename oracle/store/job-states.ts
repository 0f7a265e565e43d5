import { BaseError } from "../errors.ts";

/**
 * The provider's local view of a request (not the chain's `status`):
 *
 *   seen → claiming → claimed → submitting → done
 *
 * and, from the states before `done`, the final states failed, released (claim given back),
 * expired (deadline passed) and skipped (not ours to run: another provider claimed it, the
 * model is not served, the input is too large, the deadline too close). Two backward edges
 * let a dropped transaction be sent again: claiming → seen, submitting → claimed. Forward
 * jumps reconcile with the chain after a crash (it is the truth): seen → claimed when our
 * claim landed, claimed → done when our submission did, and claimed or submitting → released
 * when the request went to someone else. An Attested job served without a claim goes
 * seen → submitting → done; its result not served goes submitting → seen (the request still
 * open) or skipped (served or claimed by another), or claimed (our own claim landed first).
 * Outside these moves, the store's `reopen` and
 * `reopenReleased` put a job back to seen or claimed from any state when the chain no longer
 * has its step (a reorg dropped it, or we released the request ourselves).
 */
export const JOB_STATES = [
  "seen",
  "claiming",
  "claimed",
  "submitting",
  "done",
  "failed",
  "released",
  "expired",
  "skipped",
] as const;
export type JobState = (typeof JOB_STATES)[number];

export const FINAL_STATES: readonly JobState[] = ["done", "failed", "released", "expired", "skipped"];

const transitions: Record<JobState, readonly JobState[]> = {
  seen: ["claiming", "claimed", "submitting", "skipped", "expired", "failed"],
  claiming: ["claimed", "seen", "skipped", "expired", "failed"],
  claimed: ["submitting", "done", "released", "expired", "failed"],
  submitting: ["done", "claimed", "released", "expired", "failed", "seen", "skipped"],
  done: [],
  failed: [],
  released: [],
  expired: [],
  // The one way out of a final state: a request another provider claimed and then released
  // is open again, so a job skipped because of that claim may be served after all.
  skipped: ["seen"],
};

export function isFinalState(state: JobState): boolean {
  return FINAL_STATES.includes(state);
}

export function canTransition(from: JobState, to: JobState): boolean {
  return transitions[from].includes(to);
}

export class JobTransitionError extends BaseError {
  override name = "JobTransitionError";
  constructor({ requestId, from, to }: { requestId: bigint; from: JobState; to: JobState }) {
    const allowed = transitions[from];
    super(`Job ${requestId} cannot go from ${from} to ${to}.`, {
      details: [allowed.length === 0 ? `${from} is final.` : `From ${from} it may go to: ${allowed.join(", ")}.`],
    });
  }
}

export function assertTransition(requestId: bigint, from: JobState, to: JobState): void {
  if (!canTransition(from, to)) throw new JobTransitionError({ requestId, from, to });
}
