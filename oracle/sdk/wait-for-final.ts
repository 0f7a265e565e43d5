import { getBytes } from "ethers";
import type { InferenceMarket } from "../chain/connect.ts";
import { RequestStatus, requestStatusName } from "../chain/request-status.ts";
import { BaseError } from "../errors.ts";
import { sleep } from "../util/retry.ts";

export type WaitForFinalParameters = {
  timeoutMs?: number | undefined;
  pollIntervalMs?: number | undefined;
  signal?: AbortSignal | undefined;
};

export type WaitForFinalReturnType =
  { status: "Finalized"; output: Uint8Array } | { status: "Refunded" | "Failed"; output: undefined };

const finalStatuses = new Set<number>([RequestStatus.Finalized, RequestStatus.Refunded, RequestStatus.Failed]);

/**
 * Waits until request `requestId` reaches a final status. Only a Finalized result is to be
 * acted on; Refunded and Failed return the fee to the requester.
 */
export async function waitForFinal(
  market: InferenceMarket,
  requestId: bigint,
  { timeoutMs = 120_000, pollIntervalMs = 250, signal }: WaitForFinalParameters = {},
): Promise<WaitForFinalReturnType> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const status = Number(await market.statusOf(requestId));
    if (finalStatuses.has(status)) {
      if (status === RequestStatus.Finalized)
        return { status: "Finalized", output: getBytes(await market.outputOf(requestId)) };
      return { status: requestStatusName(status) as "Refunded" | "Failed", output: undefined };
    }
    if (Date.now() > until)
      throw new BaseError(`Request ${requestId} is still ${requestStatusName(status)} after ${timeoutMs} ms.`);
    await sleep(pollIntervalMs, signal);
  }
}
