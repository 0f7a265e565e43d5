import { RequestStatus } from "../chain/request-status.ts";
import type { JobState } from "../store/job-states.ts";
import type { ReopenState } from "../store/open-job-store.ts";

/**
 * Where a job changed after a block a reorg dropped goes back to, from what the chain says now,
 * or undefined when its local state still holds (the step it rests on is still mined, or the
 * request is someone else's: the job itself reconciles those when it runs).
 * - The request is open again: our claim (and whatever followed) was dropped; serve it anew.
 * - The request is claimed by us and nothing of ours settled it: the submission, report or
 *   release was dropped; the claimed job runs and submits again.
 * Never back to a state whose step the chain still has, so nothing is served twice.
 */
export function reopenStateAfterReorg(state: JobState, status: number, mine: boolean): ReopenState | undefined {
  if (status === RequestStatus.Pending) return state === "seen" ? undefined : "seen";
  if (status === RequestStatus.Claimed && mine)
    return ["done", "failed", "released", "expired", "skipped"].includes(state) ? "claimed" : undefined;
  return undefined;
}
