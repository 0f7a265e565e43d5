import type { SendsInFlight } from "./track-sends.ts";

/** An error of the job store (sqlite) rather than of the chain or a job: the store cannot keep state. */
export function isStoreError(error: unknown): boolean {
  const { code, name } = (error ?? {}) as { code?: unknown; name?: unknown };
  return code === "ERR_SQLITE_ERROR" || name === "JobStoreError";
}

/** When `/health` turns unhealthy: the config's `health` keys. */
export type HealthLimits = { stalePolls: number; headStallSec: number; senderStuckSec: number };

export type HealthInputs = {
  now: number;
  startedAt: number;
  pollIntervalMs: number;
  /** One poll may take this long on its own (a node call timing out) before it counts as late. */
  rpcTimeoutMs: number;
  /** Wall time of the last successful poll, 0 before the first. */
  lastPollAt: number;
  lastPollError: string | undefined;
  headBlock: bigint;
  /** Wall time the head was last seen to move (or the start). */
  headMovedAt: number;
  sends: SendsInFlight;
  /** The job store's last failure (a read for this check, or a write the daemon saw fail); undefined when none. */
  storeError: string | undefined;
  /** The remote inference server's failure (runtime.backend "kserve"); undefined when none. */
  runtimeError?: string | undefined;
  limits: HealthLimits;
};

export type Health = { healthy: boolean; reasons: string[] };

/**
 * Whether the daemon can make progress, and if not why (one reason per cause). The head must
 * move only while our transactions wait to be mined: an idle automine chain makes no blocks.
 */
export function assessHealth(inputs: HealthInputs): Health {
  const { now, limits, sends } = inputs;
  const reasons: string[] = [];
  const secondsSince = (at: number) => Math.round((now - at) / 1000);

  const lastProgress = inputs.lastPollAt > 0 ? inputs.lastPollAt : inputs.startedAt;
  if (now - lastProgress > limits.stalePolls * inputs.pollIntervalMs + inputs.rpcTimeoutMs) {
    const what = inputs.lastPollAt > 0 ? `for ${secondsSince(inputs.lastPollAt)} s` : "since the start";
    const cause = inputs.lastPollError === undefined ? "" : `: ${inputs.lastPollError}`;
    reasons.push(`polls of the chain failing ${what}${cause}`);
  }
  if (sends.count > 0 && sends.oldestStartedAt !== undefined) {
    const stalledSince = Math.max(inputs.headMovedAt, sends.oldestStartedAt);
    if (now - stalledSince > limits.headStallSec * 1000)
      reasons.push(
        `chain head stuck at block ${inputs.headBlock} for ${secondsSince(inputs.headMovedAt)} s while ${sends.count} transaction(s) wait to be mined`,
      );
    if (now - sends.oldestStartedAt > limits.senderStuckSec * 1000)
      reasons.push(
        `sender stuck: the oldest of ${sends.count} transaction(s) in flight was started ${secondsSince(sends.oldestStartedAt)} s ago`,
      );
  }
  if (inputs.storeError !== undefined) reasons.push(`job store failing: ${inputs.storeError}`);
  if (inputs.runtimeError !== undefined) reasons.push(`inference server failing: ${inputs.runtimeError}`);
  return { healthy: reasons.length === 0, reasons };
}
