import type { InferenceMarket } from "../chain/connect.ts";
import { RequestStatus, requestStatusName } from "../chain/request-status.ts";
import { BaseError } from "../errors.ts";
import { sleep } from "../util/retry.ts";
import { getRequestOutcome, type RequestOutcome } from "./get-request-outcome.ts";

export type WaitForFinalParameters = {
  timeoutMs?: number | undefined;
  pollIntervalMs?: number | undefined;
  signal?: AbortSignal | undefined;
  /** First block to search the request's events from (the block it was requested in). Default 0. */
  fromBlock?: number | undefined;
  /** Called with each new status while waiting (`Pending`, `Claimed`, `Submitted`, …) and how long it has waited. */
  onStatus?: ((status: string, waitedMs: number) => void) | undefined;
};

/** The request's outcome: its output, or why it failed and what it credited back (see {@link RequestOutcome}). */
export type WaitForFinalReturnType = RequestOutcome;

/** The request is still open when the wait ends. */
export class WaitTimeoutError extends BaseError {
  override name = "WaitTimeoutError";
  readonly requestId: bigint;
  readonly status: string;
  constructor(requestId: bigint, status: string, timeoutMs: number) {
    super(`Request ${requestId} is still ${status} after ${formatDuration(timeoutMs)}.`, {
      details: [
        "It may still finish: look again with `npx verity request --wait ID`, wait longer with --timeout.",
        "Once its deadline has passed, anyone may end it and refund the fee: `npx verity expire ID`.",
      ].map((line) => line.replaceAll("ID", String(requestId))),
    });
    this.requestId = requestId;
    this.status = status;
  }
}

const finalStatuses = new Set<number>([RequestStatus.Finalized, RequestStatus.Refunded, RequestStatus.Failed]);

/**
 * Waits until request `requestId` reaches a final status and returns its outcome. Only a
 * Finalized result is to be acted on; Refunded and Failed credit the fee back to the requester
 * (`withdraw`), and the outcome says why and how much. A callback that failed shows as
 * `callback.success === false`. Throws {@link WaitTimeoutError} when `timeoutMs` passes first.
 */
export async function waitForFinal(
  market: InferenceMarket,
  requestId: bigint,
  { timeoutMs = 120_000, pollIntervalMs = 250, signal, fromBlock, onStatus }: WaitForFinalParameters = {},
): Promise<WaitForFinalReturnType> {
  const started = Date.now();
  let last: number | undefined;
  for (;;) {
    const status = Number(await market.statusOf(requestId));
    if (status !== last) onStatus?.(requestStatusName(status), Date.now() - started);
    last = status;
    if (status === RequestStatus.None) throw new BaseError(`Request ${requestId} does not exist.`);
    if (finalStatuses.has(status)) return (await getRequestOutcome(market, requestId, { fromBlock }))!;
    if (Date.now() - started > timeoutMs) throw new WaitTimeoutError(requestId, requestStatusName(status), timeoutMs);
    await sleep(pollIntervalMs, signal);
  }
}

function formatDuration(ms: number): string {
  return ms < 120_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 60_000)} min`;
}
