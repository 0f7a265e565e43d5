import {
  AbiCoder,
  getBytes,
  keccak256,
  LogDescription,
  type EventFragment,
  type Interface,
  type TransactionReceipt,
} from "ethers";
import type { InferenceMarket } from "./connect.ts";
import { requestParamsOf, type RequestParams } from "./request-params.ts";

/**
 * The market's event fragments by topic hash, made once per ABI: ethers' `parseLog` hashes every
 * event signature of the ABI again for each log it reads, which made reading a batch's receipt
 * (hundreds of logs) the daemon's main cost under load.
 */
const fragmentsByTopic = new WeakMap<Interface, Map<string, EventFragment>>();

function fragmentOf(market: InferenceMarket, topic: string | undefined): EventFragment | undefined {
  let byTopic = fragmentsByTopic.get(market.interface);
  if (!byTopic) {
    byTopic = new Map();
    market.interface.forEachEvent((fragment) => byTopic!.set(fragment.topicHash, fragment));
    fragmentsByTopic.set(market.interface, byTopic);
  }
  return topic === undefined ? undefined : byTopic.get(topic);
}

/**
 * The market's events in `receipt` (logs of other contracts, or not the market's, left out);
 * with `requestId`, only the events whose first indexed argument is that request.
 */
export function marketLogsOf(
  market: InferenceMarket,
  receipt: TransactionReceipt,
  requestId?: bigint,
): LogDescription[] {
  const parsed: LogDescription[] = [];
  for (const log of receipt.logs) {
    const fragment = fragmentOf(market, log.topics[0]);
    if (!fragment) continue; // not one of the market's events
    if (requestId !== undefined && (log.topics[1] === undefined || BigInt(log.topics[1]) !== requestId)) continue;
    try {
      parsed.push(
        new LogDescription(fragment, log.topics[0]!, market.interface.decodeEventLog(fragment, log.data, log.topics)),
      );
    } catch {
      // The topic matches but the data does not decode: not the market's event.
    }
  }
  return parsed;
}

/** An {InferenceRequested} event as the daemon needs it. */
export type RequestedEvent = {
  requestId: bigint;
  modelId: bigint;
  requester: string;
  input: Uint8Array;
  feeToken: string;
  fee: bigint;
  deadline: bigint;
  callback: string;
  callbackGasLimit: bigint;
  blockNumber: bigint;
  /** {@link requestFingerprint} of the fields above (the block excepted). */
  fingerprint: string;
  /** What the market's calls over this request take back (it stores only their commitment). */
  params: RequestParams;
};

/**
 * A hash of what a request asks (id, model, requester, input, fee, deadline, callback): a reorg
 * that drops a request lets its id be taken by another, and this tells them apart. The same
 * request mined again in another block keeps its fingerprint.
 */
export function requestFingerprint(
  event: Pick<
    RequestedEvent,
    "requestId" | "modelId" | "requester" | "input" | "feeToken" | "fee" | "deadline" | "callback" | "callbackGasLimit"
  >,
): string {
  return keccak256(
    AbiCoder.defaultAbiCoder().encode(
      ["uint256", "uint256", "address", "bytes", "address", "uint256", "uint256", "address", "uint256"],
      [
        event.requestId,
        event.modelId,
        event.requester,
        event.input,
        event.feeToken,
        event.fee,
        event.deadline,
        event.callback,
        event.callbackGasLimit,
      ],
    ),
  );
}

export type BlockRange = { fromBlock: bigint; toBlock: bigint };

/**
 * The next range of blocks to scan after `cursor` (the last block already handled), or
 * undefined when there is nothing new. Blocks younger than `confirmations` are left for later,
 * and a range holds at most `maxBlockRange` blocks, which public RPC nodes require.
 */
export function nextBlockRange(
  cursor: bigint,
  head: bigint,
  confirmations: number,
  maxBlockRange: number,
): BlockRange | undefined {
  const safeHead = head - BigInt(confirmations);
  if (safeHead <= cursor) return undefined;
  const fromBlock = cursor + 1n;
  const last = fromBlock + BigInt(maxBlockRange) - 1n;
  return { fromBlock, toBlock: last < safeHead ? last : safeHead };
}

/** Requests made in `range`, in chain order. */
export async function fetchRequestedEvents(
  market: InferenceMarket,
  { fromBlock, toBlock }: BlockRange,
  modelIds?: ReadonlySet<bigint>,
): Promise<RequestedEvent[]> {
  const logs = await market.queryFilter(market.filters.InferenceRequested(), Number(fromBlock), Number(toBlock));
  const events: RequestedEvent[] = [];
  for (const log of logs) {
    const { requestId, modelId, requester, input, feeToken, fee, deadline, callback, callbackGasLimit } = log.args;
    if (modelIds && !modelIds.has(modelId)) continue;
    const fields = {
      requestId,
      modelId,
      requester,
      input: getBytes(input),
      feeToken,
      fee,
      deadline,
      callback,
      callbackGasLimit,
    };
    events.push({
      ...fields,
      blockNumber: BigInt(log.blockNumber),
      fingerprint: requestFingerprint(fields),
      params: requestParamsOf({ requester, feeToken, fee, callback, callbackGasLimit, input }),
    });
  }
  return events;
}

/** Requests given back to Pending in `range` by a provider's `release`. */
export async function fetchReleasedEvents(
  market: InferenceMarket,
  { fromBlock, toBlock }: BlockRange,
): Promise<{ requestId: bigint; provider: string }[]> {
  const logs = await market.queryFilter(market.filters.RequestReleased(), Number(fromBlock), Number(toBlock));
  return logs.map((log) => ({ requestId: log.args.requestId, provider: log.args.provider }));
}
