/**
 * Whether the consumer's callback of a settled request succeeded, from the receipt of the
 * transaction that settled it (`submit`, `submitWithProof` or `finalize`), and a warning when it
 * did not: settlement stands either way (the fee is paid), but the consumer never got the result
 * and its owner should know why. The gas the callback used comes from a `callTracer` trace where
 * the node offers `debug_traceTransaction` (Hardhat, Anvil, Geth with the debug API); public
 * endpoints often do not, and the warning then gives the limit only.
 */
import type { JsonRpcProvider, TransactionReceipt } from "ethers";
import type { InferenceMarket } from "../chain/connect.ts";
import { marketLogsOf } from "../chain/market-events.ts";
import type { Logger } from "../log/logger.ts";

export type CallbackOutcome = { success: boolean } | undefined;

/** The `CallbackResult` of `requestId` in `receipt`; undefined when the request has no callback. */
export function callbackOutcome(
  market: InferenceMarket,
  receipt: TransactionReceipt,
  requestId: bigint,
): CallbackOutcome {
  // Only this request's logs are decoded: a batch's receipt holds every other item's too.
  const event = marketLogsOf(market, receipt, requestId).find((e) => e.name === "CallbackResult");
  return event ? { success: event.args.success as boolean } : undefined;
}

export type WarnFailedCallbackParameters = {
  market: InferenceMarket;
  receipt: TransactionReceipt;
  requestId: bigint;
  /** The request's consumer and the gas it allowed its callback. */
  callback: string;
  callbackGasLimit: bigint;
  logger: Logger;
};

/** Logs a warning if the request's callback failed (reverted or ran out of gas). */
export async function warnFailedCallback({
  market,
  receipt,
  requestId,
  callback,
  callbackGasLimit,
  logger,
}: WarnFailedCallbackParameters): Promise<void> {
  if (callbackOutcome(market, receipt, requestId)?.success !== false) return;
  const gasUsed = await callbackGasUsed(market.runner?.provider as JsonRpcProvider | undefined, receipt.hash, callback);
  logger.warn("callback failed: the result is settled but the consumer did not take it", {
    requestId,
    callback,
    callbackGasLimit,
    ...(gasUsed === undefined
      ? {}
      : { callbackGasUsed: gasUsed, failure: gasUsed >= callbackGasLimit ? "out of gas" : "reverted" }),
    tx: receipt.hash,
    hint: "The requester can ask again with a higher callbackGasLimit, or fix the consumer's onInferenceResult.",
  });
}

type CallFrame = { to?: string; gasUsed?: string; calls?: CallFrame[] };

/** Gas the call into `callback` used in transaction `hash`, if the node can trace it. */
async function callbackGasUsed(
  provider: JsonRpcProvider | undefined,
  hash: string,
  callback: string,
): Promise<bigint | undefined> {
  if (!provider || typeof provider.send !== "function") return undefined;
  try {
    const root = (await provider.send("debug_traceTransaction", [hash, { tracer: "callTracer" }])) as CallFrame;
    const target = callback.toLowerCase();
    const find = (frame: CallFrame): CallFrame | undefined =>
      frame.to?.toLowerCase() === target ? frame : frame.calls?.map(find).find((found) => found !== undefined);
    const frame = root.calls?.map(find).find((found) => found !== undefined);
    return frame?.gasUsed === undefined ? undefined : BigInt(frame.gasUsed);
  } catch {
    return undefined; // no debug API on this node
  }
}
