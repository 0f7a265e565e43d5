/**
 * A request's fixed fields (`IInferenceMarket.RequestParams`): the market stores only a 160-bit
 * commitment to them, so every call that settles, refunds or disputes a request takes them back.
 * They are all in the request's `InferenceRequested` event (`inputHash` is `keccak256(input)`).
 */
import { AbiCoder, getBytes, hexlify, keccak256, type BytesLike } from "ethers";
import { BaseError } from "../errors.ts";
import type { InferenceMarket } from "./connect.ts";

export type RequestParams = {
  requester: string;
  feeToken: string;
  fee: bigint;
  callback: string;
  callbackGasLimit: bigint;
  inputHash: string;
};

/** What an `InferenceRequested` event carries of a request's parameters. */
export type RequestedFields = {
  requester: string;
  feeToken: string;
  fee: bigint;
  callback: string;
  callbackGasLimit: bigint | number;
  input: BytesLike;
};

const PARAMS_TUPLE =
  "tuple(address requester, address feeToken, uint96 fee, address callback, uint32 callbackGasLimit, bytes32 inputHash)";

/** The parameters of a request made with `fields` (an `InferenceRequested` event's arguments). */
export function requestParamsOf(fields: RequestedFields): RequestParams {
  return {
    requester: fields.requester,
    feeToken: fields.feeToken,
    fee: BigInt(fields.fee),
    callback: fields.callback,
    callbackGasLimit: BigInt(fields.callbackGasLimit),
    inputHash: keccak256(getBytes(fields.input)),
  };
}

/** The commitment the market stores for `params` (`InferenceMarket.commitmentOf`), as 0x + 40 hex. */
export function commitmentOf(params: RequestParams): string {
  const encoded = AbiCoder.defaultAbiCoder().encode([PARAMS_TUPLE], [params]);
  return hexlify(getBytes(keccak256(encoded)).slice(0, 20));
}

/**
 * The parameters of request `requestId`, read from its `InferenceRequested` event(s) since
 * `fromBlock` (a deployment's `startBlock`): the one whose commitment is the one the market
 * stores (after a reorg an id may have been used by a dropped request first). Throws naming the
 * request when none matches (no such request, or `fromBlock` after it was made).
 */
export async function findRequestParams(
  market: InferenceMarket,
  requestId: bigint,
  fromBlock = 0,
): Promise<RequestParams> {
  const [stored, logs] = await Promise.all([
    market.getRequest(requestId),
    market.queryFilter(market.filters.InferenceRequested(requestId), fromBlock),
  ]);
  const want = stored.commitment.toLowerCase();
  for (const log of [...logs].reverse()) {
    const params = requestParamsOf(log.args);
    if (commitmentOf(params) === want) return params;
  }
  throw new BaseError(`No InferenceRequested event matches request ${requestId}.`, {
    details: [
      Number(stored.status) === 0
        ? "The market has no such request."
        : `Searched from block ${fromBlock}; is the deployment's startBlock right, and does the RPC serve old logs?`,
    ],
  });
}
