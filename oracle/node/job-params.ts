/**
 * A job's request params, which every market call over it takes back (the market stores only
 * their commitment): from the job's row, which keeps the fields of the request's event, or, for
 * a row written before the daemon kept them all, from that event on the chain, stored with the
 * job once found.
 */
import type { InferenceMarket } from "../chain/connect.ts";
import { findRequestParams, requestParamsOf, type RequestParams } from "../chain/request-params.ts";
import type { Job, JobStore } from "../store/open-job-store.ts";

export type JobParamsContext = {
  market: InferenceMarket;
  jobs: JobStore;
  /** Where a request's event is searched from (the deployment's `startBlock`). */
  fromBlock: number;
};

/** The params a job's row holds, or undefined when the row lacks some (written by an older daemon). */
export function storedParams(job: Job): RequestParams | undefined {
  const { requester, fee, feeToken, callback, callbackGasLimit, input } = job;
  if (
    requester === undefined ||
    fee === undefined ||
    feeToken === undefined ||
    callback === undefined ||
    callbackGasLimit === undefined
  )
    return undefined;
  return requestParamsOf({ requester, feeToken, fee, callback, callbackGasLimit, input });
}

/** The job's request params: its row's, else its request event's (then kept in the row). */
export async function jobParams(ctx: JobParamsContext, job: Job): Promise<RequestParams> {
  const stored = storedParams(job);
  if (stored) return stored;
  const params = await findRequestParams(ctx.market, job.requestId, ctx.fromBlock);
  ctx.jobs.recordParams(job.requestId, params);
  return params;
}
