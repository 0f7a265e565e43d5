import type { InferenceMarket } from "../chain/connect.ts";
import { findRequestParams, type RequestParams } from "../chain/request-params.ts";
import { RequestStatus, requestStatusName } from "../chain/request-status.ts";
import { decodeRevert } from "../chain/revert-error.ts";

export type ExpireRequestParameters = {
  requestId: bigint;
  /**
   * The request's parameters, when the caller has them (from its receipt or event); otherwise
   * they are read from its `InferenceRequested` event from `fromBlock` on.
   */
  params?: RequestParams | undefined;
  /** First block to search the request's event from (a deployment's `startBlock`). Default 0. */
  fromBlock?: number | undefined;
};

/** What to do about the market's refusals of `expire` the pre-checks cannot foresee. */
export const expireHints: Readonly<Record<string, string>> = {
  MarketRequestParamsMismatch:
    "The parameters sent are not the ones the request was made with; read them from its InferenceRequested event (findRequestParams).",
};

/**
 * What `expire` did to one request: `expired` (refunded now: the fee, and a claim penalty if a
 * provider claimed it and did not deliver, credited to the requester); `not-yet` (still within its
 * deadline, or its games may still end, or a Submitted result waiting for `finalize`: nothing sent); `final` (already Finalized, Failed or
 * Refunded: nothing to do); `unknown` (no such request).
 */
export type ExpireRequestReturnType =
  | {
      requestId: bigint;
      outcome: "expired";
      requester: string;
      feeToken: string;
      amount: bigint;
      penalty: bigint;
      transactionHash: string;
    }
  | { requestId: bigint; outcome: "not-yet"; status: string; until: bigint }
  | { requestId: bigint; outcome: "final"; status: string }
  | { requestId: bigint; outcome: "unknown" };

/**
 * Ends request `requestId` if it may be ended: anyone may refund a Pending or Claimed request
 * after its deadline, or a Challenged one once `refundableAfter` has passed. Checked before
 * sending, so a request that cannot be expired costs no transaction; a refusal the check did not
 * foresee is thrown decoded (`ChainRevertError`, with a hint from {@link expireHints}). The
 * request's parameters are `params` or, unless given, read from its event
 * (`findRequestParams`, which throws a `BaseError` when no event from `fromBlock` matches).
 */
export async function expireRequest(
  market: InferenceMarket,
  { requestId, params, fromBlock = 0 }: ExpireRequestParameters,
): Promise<ExpireRequestReturnType> {
  const request = await market.getRequest(requestId);
  const status = Number(request.status);
  if (status === RequestStatus.None) return { requestId, outcome: "unknown" };
  if (status === RequestStatus.Finalized || status === RequestStatus.Failed || status === RequestStatus.Refunded)
    return { requestId, outcome: "final", status: requestStatusName(status) };
  const block = await market.runner!.provider!.getBlock("latest");
  const now = BigInt(block!.timestamp);
  // The next block's timestamp is later than the latest one: `expire` needs timestamp > deadline.
  // A Submitted result is not expired but finalized once its challenge window ends.
  if (status === RequestStatus.Submitted)
    return { requestId, outcome: "not-yet", status: "Submitted", until: await market.windowEndOf(requestId) };
  const until = status === RequestStatus.Challenged ? await market.refundableAfter(requestId) : request.deadline;
  if (now < until) return { requestId, outcome: "not-yet", status: requestStatusName(status), until };
  // The market stores only a commitment to the requester, fee and token: `expire` takes them back.
  const fixed = params ?? (await findRequestParams(market, requestId, fromBlock));
  let receipt;
  try {
    receipt = await (await market.expire(requestId, fixed)).wait();
  } catch (error) {
    throw decodeRevert(`expire request ${requestId}`, error, expireHints);
  }
  let amount = fixed.fee;
  let penalty = 0n;
  for (const log of receipt!.logs) {
    const parsed = market.interface.parseLog(log);
    if (parsed?.name === "RequestRefunded") [amount, penalty] = [parsed.args.amount, parsed.args.penalty];
  }
  return {
    requestId,
    outcome: "expired",
    requester: fixed.requester,
    feeToken: fixed.feeToken,
    amount,
    penalty,
    transactionHash: receipt!.hash,
  };
}
