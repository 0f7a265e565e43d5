import { AbiCoder, Interface, getBytes, hexlify, keccak256, toBeHex, type BytesLike } from "ethers";
import { loadArtifact } from "../chain/artifacts.ts";
import { BaseError } from "../errors.ts";

/** `InferenceMarket.MAX_CALLBACK_GAS`: the highest `callbackGasLimit` a request may name. */
export const MAX_CALLBACK_GAS = 2_000_000;

/** `VerityConsumer.PENDING_SLOT`: ERC-7201 slot of the consumer base's `pending` mapping. */
export const VERITY_CONSUMER_PENDING_SLOT = "0xb284a0efb1af9db311ebaceb250cddb1d37ac9c627208970b6a2923a47715600";

/** What the helper needs of a provider: raw JSON-RPC (ethers' `JsonRpcProvider`, Hardhat's provider). */
export type RpcSender = { send(method: string, params: unknown[]): Promise<unknown> };

export type EstimateCallbackGasParameters = {
  /** The market's address: the callback's caller. */
  market: string;
  /** The consumer contract the market will call back. */
  callback: string;
  /**
   * An output like the ones the model gives: canonical tensor bytes of its output format, with
   * realistic (non-zero) elements: storing zeros costs less than storing data.
   */
  output: BytesLike;
  /** The request id the callback gets. Default: the next id the market will give (`requestCount() + 1`). */
  requestId?: bigint | undefined;
  /**
   * Mark `requestId` pending in a {VerityConsumer}'s storage for the estimate, as
   * `_requestInference` will when the request is made. Default: true when `requestId` is not
   * given (a request not made yet), false otherwise (a request the consumer made and that is
   * still open). For a consumer not built on `VerityConsumer`, set false.
   */
  markPending?: boolean | undefined;
  /** Added to the measured gas, in percent (default 25). */
  marginPercent?: number | undefined;
  /** Block to run against (default "latest"). */
  blockTag?: string | undefined;
};

export type EstimateCallbackGasReturnType = {
  /** The least `callbackGasLimit` with which the callback succeeds now. */
  gasNeeded: number;
  /** `gasNeeded` plus the margin, at most {MAX_CALLBACK_GAS}: the `callbackGasLimit` to send. */
  gasLimit: number;
  /** The request id the estimate used. */
  requestId: bigint;
};

/** The callback cannot be estimated: it reverts with the most gas a request may give, or the node cannot run the probe. */
export class CallbackGasEstimateError extends BaseError {
  override name = "CallbackGasEstimateError";
}

const consumerIface = new Interface(["function onInferenceResult(uint256 requestId, bytes output)"]);
const marketIface = new Interface(["function requestCount() view returns (uint256)"]);
/** `CallbackGasProbe.MARKET_CODE`: where the override puts the market's own code. */
export const PROBE_MARKET_CODE = `0x${keccak256(new TextEncoder().encode("verity.probe.market")).slice(-40)}`;

/**
 * Measures the gas the callback of a request needs: the least `callbackGasLimit` with which
 * `callback.onInferenceResult(requestId, output)`, called from the market's address, succeeds,
 * and that plus a margin. The market gives the callback exactly its limit, and a callback that
 * runs out of gas is simply skipped (`CallbackResult(id, false)`), so send at least `gasLimit`.
 *
 * One `eth_call` with a state override (geth, Anvil, Hardhat and most RPC providers take one):
 * the market's address runs `contracts/consumer/CallbackGasProbe.sol`, which calls the consumer
 * with less and less gas (a binary search, each trial rolled back so each sees cold storage as a
 * real settlement does) and forwards every other call to the market's real code and storage. The
 * callback runs against the current state: a consumer whose callback depends on state its
 * request will add (beyond the `VerityConsumer` pending flag, which `markPending` sets) needs the
 * id of a request it made.
 */
export async function estimateCallbackGas(
  rpc: RpcSender,
  {
    market,
    callback,
    output,
    requestId,
    markPending = requestId === undefined,
    marginPercent = 25,
    blockTag = "latest",
  }: EstimateCallbackGasParameters,
): Promise<EstimateCallbackGasReturnType> {
  if (!Number.isFinite(marginPercent) || marginPercent < 0)
    throw new CallbackGasEstimateError(`marginPercent must be a number >= 0, got ${marginPercent}.`);
  const id = requestId ?? (await nextRequestId(rpc, market, blockTag));
  const probe = loadArtifact("CallbackGasProbe");
  const probeIface = new Interface(probe.abi as never[]);
  const marketCode = (await rpc.send("eth_getCode", [market, blockTag])) as string;
  if (getBytes(marketCode).length === 0)
    throw new CallbackGasEstimateError(`No contract at the market address ${market}.`, {
      details: ["Use the inferenceMarket address of the deployment."],
    });
  const override: Record<string, { code?: string; stateDiff?: Record<string, string> }> = {
    [market]: { code: probe.deployedBytecode! },
    [PROBE_MARKET_CODE]: { code: marketCode },
  };
  if (markPending) override[callback] = { stateDiff: { [pendingSlot(id)]: toBeHex(1n, 32) } };
  const data = probeIface.encodeFunctionData("verityMeasureCallback", [
    callback,
    consumerIface.encodeFunctionData("onInferenceResult", [id, hexlify(getBytes(output))]),
  ]);
  let raw: string;
  try {
    raw = (await rpc.send("eth_call", [{ to: market, data }, blockTag, override])) as string;
  } catch (cause) {
    throw new CallbackGasEstimateError("The node refused the eth_call that measures the callback.", {
      details: [
        "It needs eth_call with a state override (the third parameter) and gas for about 20 runs of the callback.",
        `Node said: ${cause instanceof Error ? cause.message : String(cause)}`,
      ],
      cause,
    });
  }
  const [success, gasNeeded, revertData] = probeIface.decodeFunctionResult("verityMeasureCallback", raw) as unknown as [
    boolean,
    bigint,
    string,
  ];
  if (!success)
    throw new CallbackGasEstimateError(
      `The callback of ${callback} reverts with ${describeCallbackRevert(revertData)}, even with ${MAX_CALLBACK_GAS} gas.`,
      { details: revertHints(revertData, markPending) },
    );
  const needed = Number(gasNeeded);
  const gasLimit = Math.min(MAX_CALLBACK_GAS, Math.ceil((needed * (100 + marginPercent)) / 100));
  return { gasNeeded: needed, gasLimit, requestId: id };
}

/** Storage slot of `pending[requestId]` in a `VerityConsumer`. */
export function pendingSlot(requestId: bigint): string {
  return keccak256(
    AbiCoder.defaultAbiCoder().encode(["uint256", "bytes32"], [requestId, VERITY_CONSUMER_PENDING_SLOT]),
  );
}

async function nextRequestId(rpc: RpcSender, market: string, blockTag: string): Promise<bigint> {
  const raw = (await rpc.send("eth_call", [
    { to: market, data: marketIface.encodeFunctionData("requestCount") },
    blockTag,
  ])) as string;
  return (marketIface.decodeFunctionResult("requestCount", raw)[0] as bigint) + 1n;
}

let consumerErrors: Interface | undefined;

function describeCallbackRevert(data: string): string {
  if (getBytes(data).length === 0) return "no data (out of gas, or a bare revert)";
  consumerErrors ??= new Interface(
    (loadArtifact("VerityConsumer").abi as { type: string }[]).filter((item) => item.type === "error") as never[],
  );
  const decoded = consumerErrors.parseError(data);
  return decoded ? `${decoded.name}(${decoded.args.map(String).join(", ")})` : `data ${data}`;
}

function revertHints(data: string, markPending: boolean): string[] {
  const hints: string[] = [];
  if (describeCallbackRevert(data).startsWith("ConsumerUnknownRequest"))
    hints.push(
      markPending
        ? "The consumer does not keep its request ids as VerityConsumer does: pass the id of a request it made and markPending: false."
        : "Pass the id of a request the consumer made that is still open, or leave requestId unset to estimate the next one.",
    );
  if (describeCallbackRevert(data).startsWith("ConsumerNotMarket"))
    hints.push("The consumer was built for another market: check the market address.");
  hints.push("A callback that reverts is skipped: the request still settles, with CallbackResult(id, false).");
  return hints;
}
