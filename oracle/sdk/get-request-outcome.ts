import { ZeroAddress, getBytes } from "ethers";
import type { InferenceMarket } from "../chain/connect.ts";
import { findRequestParams } from "../chain/request-params.ts";
import { RequestStatus } from "../chain/request-status.ts";
import { decodeRevert } from "../chain/revert-error.ts";
import { BaseError } from "../errors.ts";
import { FailureReason, describeFailureReason } from "../model/failure-reason.ts";

export type GetRequestOutcomeParameters = {
  /**
   * First block to search the request's events from (its request's block, or the deployment's
   * `startBlock`): its requester, fee, token and callback are read from its `InferenceRequested`
   * event, as the market stores only a commitment to them. Default 0.
   */
  fromBlock?: number | undefined;
};

/** What a final request left its requester, in the market's balances (withdrawn with `withdraw`). */
export type RequestCredit = { token: string; amount: bigint };

/** The consumer contract's callback, when the request named one: `success` false if it reverted or ran out of gas. */
export type CallbackOutcome = { address: string; gasLimit: number; success: boolean };

type OutcomeBase = {
  requestId: bigint;
  requester: string;
  /** address(0) for ETH. */
  feeToken: string;
  fee: bigint;
  /** The callback, once the market has called it (Finalized only); undefined without a callback. */
  callback: CallbackOutcome | undefined;
};

export type RequestOutcome =
  | (OutcomeBase & { status: "Finalized"; output: Uint8Array; credits: [] })
  | (OutcomeBase & {
      status: "Failed";
      output: undefined;
      /** The code the provider reported (`reportInvalidInput`), its name in `FailureReason` and in words. */
      failure: { code: number; name: string; description: string; provider: string };
      /** The fee, credited back to the requester. */
      credits: RequestCredit[];
    })
  | (OutcomeBase & {
      status: "Refunded";
      output: undefined;
      /**
       * The fee given back, the claim penalty a provider that claimed and did not deliver paid
       * (ETH), and why: `expired` (no provider delivered before the deadline), `claim-expired` (a
       * provider claimed it and did not deliver), `challenged` (a dispute game proved the result
       * wrong), `games-overdue` (its games could not end; refunded as a last resort).
       */
      refund: { amount: bigint; penalty: bigint; cause: RefundCause };
      credits: RequestCredit[];
    });

export type RefundCause = "expired" | "claim-expired" | "challenged" | "games-overdue";

export type GetRequestOutcomeReturnType = RequestOutcome | undefined;

/** `InputShapeMismatch` for 2; `Unknown(9)` for a code this version does not know. */
export function failureReasonName(code: number): string {
  return Object.entries(FailureReason).find(([, value]) => value === code)?.[0] ?? `Unknown(${code})`;
}

/**
 * The outcome of request `requestId` once it is final (Finalized, Failed or Refunded), read from
 * its state and events: the output, the failure reason, the refund and penalty, what it credited
 * to the requester and whether the consumer's callback succeeded. Undefined while it is open.
 * Throws a `BaseError` when the request's `InferenceRequested` event cannot be read from `fromBlock`.
 */
export async function getRequestOutcome(
  market: InferenceMarket,
  requestId: bigint,
  { fromBlock = 0 }: GetRequestOutcomeParameters = {},
): Promise<GetRequestOutcomeReturnType> {
  const request = await market.getRequest(requestId).catch((error: unknown) => {
    throw decodeRevert(`read request ${requestId}`, error);
  });
  const status = Number(request.status);
  if (status === RequestStatus.None)
    throw new BaseError(`Request ${requestId} does not exist.`, {
      details: [`The market has ${await market.requestCount()} requests; ids start at 1.`],
    });
  if (status !== RequestStatus.Finalized && status !== RequestStatus.Failed && status !== RequestStatus.Refunded)
    return undefined;
  const params = await findRequestParams(market, requestId, fromBlock);
  const base: OutcomeBase = {
    requestId,
    requester: params.requester,
    feeToken: params.feeToken,
    fee: params.fee,
    callback: undefined,
  };
  if (status === RequestStatus.Finalized) {
    if (params.callback !== ZeroAddress) {
      const [event] = await events(market.queryFilter(market.filters.CallbackResult(requestId), fromBlock));
      if (event)
        base.callback = {
          address: params.callback,
          gasLimit: Number(params.callbackGasLimit),
          success: event.args.success,
        };
    }
    return { ...base, status: "Finalized", output: getBytes(await market.outputOf(requestId)), credits: [] };
  }
  if (status === RequestStatus.Failed) {
    const [event] = await events(market.queryFilter(market.filters.RequestFailed(requestId), fromBlock));
    const code = event ? Number(event.args.reason) : 0;
    return {
      ...base,
      status: "Failed",
      output: undefined,
      failure: {
        code,
        name: event ? failureReasonName(code) : "Unknown",
        description: event ? describeFailureReason(code) : "the node returned no RequestFailed event to read it from",
        provider: event?.args.provider ?? request.provider,
      },
      credits: [{ token: params.feeToken, amount: params.fee }],
    };
  }
  const [[event], challenges, resolutions] = await Promise.all([
    events(market.queryFilter(market.filters.RequestRefunded(requestId), fromBlock)),
    events(market.queryFilter(market.filters.ResultChallenged(requestId), fromBlock)),
    events(market.queryFilter(market.filters.ChallengeResolved(requestId), fromBlock)),
  ]);
  const penalty = event?.args.penalty ?? 0n;
  let cause: RefundCause = "expired";
  if (resolutions.some((log) => log.args.providerAtFault)) cause = "challenged";
  else if (challenges.length > 0) cause = "games-overdue";
  else if (penalty > 0n || request.provider !== ZeroAddress) cause = "claim-expired";
  const refund = { amount: event?.args.amount ?? params.fee, penalty, cause };
  const credits: RequestCredit[] = [{ token: params.feeToken, amount: refund.amount }];
  if (refund.penalty > 0n) {
    const eth = credits.find((credit) => credit.token === ZeroAddress);
    if (eth) eth.amount += refund.penalty;
    else credits.push({ token: ZeroAddress, amount: refund.penalty });
  }
  return { ...base, status: "Refunded", output: undefined, refund, credits };
}

/**
 * The logs of one query, or none when the node refuses it (a public node limits the block range
 * of a log query): the outcome is then read from the request's state alone.
 */
async function events<T>(query: Promise<T[]>): Promise<T[]> {
  return query.catch(() => []);
}
