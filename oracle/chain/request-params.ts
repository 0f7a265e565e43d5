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

/** Where {@link findRequestedEvent} looks for a request's event. */
export type RequestSearch = {
  /** The first block searched: a deployment's `startBlock`. */
  fromBlock?: number | undefined;
  /** The last block searched (default the latest): a request comes before anything done with it. */
  toBlock?: number | undefined;
  /** Blocks per log query (the daemon's `chain.maxBlockRange`; public RPC nodes limit ranges). */
  maxBlockRange?: number | undefined;
};

/** The daemon's default `chain.maxBlockRange`. */
const DEFAULT_MAX_BLOCK_RANGE = 2000;

/**
 * The `InferenceRequested` event of request `requestId` whose params hash to `commitment` (the
 * one the market stores: after a reorg an id may first have belonged to a dropped request),
 * searched backwards from `toBlock` (the latest) in ranges of `maxBlockRange` blocks, so a recent
 * request costs one log query and no query spans more than the node allows (the first, ending at
 * "latest", by the few blocks a cached block number may lag). Undefined when
 * no event from `fromBlock` on matches.
 */
export async function findRequestedEvent(
  market: InferenceMarket,
  requestId: bigint,
  commitment: string,
  { fromBlock = 0, toBlock, maxBlockRange = DEFAULT_MAX_BLOCK_RANGE }: RequestSearch = {},
) {
  const want = commitment.toLowerCase();
  const filter = market.filters.InferenceRequested(requestId);
  // Without `toBlock` the first range ends at "latest": ethers may answer the block number from
  // a cache a few blocks old, and a request mined since must not be missed.
  let hi = toBlock ?? (await market.runner!.provider!.getBlockNumber());
  let upTo: number | "latest" = toBlock ?? "latest";
  while (hi >= fromBlock) {
    const lo = Math.max(fromBlock, hi - maxBlockRange + 1);
    const logs = await market.queryFilter(filter, lo, upTo);
    const found = logs.findLast((log) => commitmentOf(requestParamsOf(log.args)) === want);
    if (found) return found;
    hi = lo - 1;
    upTo = hi;
  }
  return undefined;
}

/**
 * The parameters of request `requestId`, read from its `InferenceRequested` event
 * ({@link findRequestedEvent}; `search.fromBlock` a deployment's `startBlock`). Throws naming
 * the request when none matches (no such request, or `fromBlock` after it was made).
 */
export async function findRequestParams(
  market: InferenceMarket,
  requestId: bigint,
  search: number | RequestSearch = {},
): Promise<RequestParams> {
  const { fromBlock = 0, ...rest } = typeof search === "number" ? { fromBlock: search } : search;
  const stored = await market.getRequest(requestId);
  const event = await findRequestedEvent(market, requestId, stored.commitment, { fromBlock, ...rest });
  if (event) return requestParamsOf(event.args);
  throw new BaseError(`No InferenceRequested event matches request ${requestId}.`, {
    details: [
      Number(stored.status) === 0
        ? "The market has no such request."
        : `Searched from block ${fromBlock}; is the deployment's startBlock right, and does the RPC serve old logs?`,
    ],
  });
}
