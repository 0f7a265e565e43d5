/**
 * `jobs.expireOthers`: the provider daemon refunds the requests it has seen whose deadline passed
 * while they were still open (never claimed, or claimed by a provider that went silent), by
 * calling the market's `expire`, which anyone may call. The requester gets the fee back (and the
 * claim penalty of a silent provider) without having to watch the chain; the daemon pays the gas.
 * Each request is looked at once after its deadline (`expire_checked` in the job store).
 * The daemon's own stale claims are not handled here: their job expires them (serve-job.ts).
 */
import type { InferenceMarket } from "../chain/connect.ts";
import { RequestStatus, requestStatusName } from "../chain/request-status.ts";
import { ChainRevertError } from "../chain/revert-error.ts";
import type { TxSender } from "../chain/tx-sender.ts";
import type { Logger } from "../log/logger.ts";
import type { JobStore } from "../store/open-job-store.ts";
import { jobParams } from "./job-params.ts";

export type ExpireRequestsParameters = {
  market: InferenceMarket;
  sender: TxSender;
  jobs: JobStore;
  /** The deployment's `startBlock`: where a job whose row lacks its request params finds them. */
  fromBlock: number;
  logger: Logger;
  /** The chain's time (the latest block's timestamp). */
  now: bigint;
  signal?: AbortSignal | undefined;
};

/** Expires what can be expired among the requests seen; returns how many it expired. */
export async function expireRequests({
  market,
  sender,
  jobs,
  fromBlock,
  logger,
  now,
  signal,
}: ExpireRequestsParameters): Promise<number> {
  let expired = 0;
  for (const job of jobs.listExpirable(now)) {
    if (signal?.aborted) break;
    const { requestId } = job;
    const request = await market.getRequest(requestId);
    const status = Number(request.status);
    if ((status === RequestStatus.Pending || status === RequestStatus.Claimed) && now > request.deadline) {
      try {
        // The params the request was made with: kept from its event when the daemon saw it.
        const params = await jobParams({ market, jobs, fromBlock }, job);
        const receipt = await sender.send({
          action: `expire request ${requestId}`,
          transaction: market.expire.populateTransaction(requestId, params),
        });
        const refunded = receipt.logs
          .map((log) => market.interface.parseLog(log))
          .find((parsed) => parsed?.name === "RequestRefunded");
        expired++;
        logger.info("expired a request past its deadline, requester refunded", {
          requestId,
          modelId: job.modelId,
          was: requestStatusName(status),
          provider: status === RequestStatus.Claimed ? request.provider : undefined,
          refund: refunded?.args.amount,
          penalty: refunded?.args.penalty,
          tx: receipt.hash,
          gasUsed: receipt.gasUsed,
        });
      } catch (error) {
        // Someone expired it first, or it settled meanwhile: nothing left to do.
        if (!(error instanceof ChainRevertError)) throw error;
        logger.info("expire refused", { requestId, reason: error.shortMessage });
      }
    }
    jobs.markExpireChecked(requestId);
  }
  return expired;
}
