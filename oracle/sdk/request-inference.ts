import { Contract, ZeroAddress, getBytes, type BytesLike, type Signer, type TransactionReceipt } from "ethers";
import type { InferenceMarket, ModelRegistry } from "../chain/connect.ts";
import { requestParamsOf, type RequestedFields, type RequestParams } from "../chain/request-params.ts";
import { decodeRevert } from "../chain/revert-error.ts";
import { BaseError } from "../errors.ts";
import { checkRequestInput } from "./check-request-input.ts";

export type RequestInferenceParameters = {
  modelId: bigint;
  /** The request input: an input envelope (`encodeRequestInput` for a tensor inline, the one form Zk and Optimistic models take). */
  input: BytesLike;
  /** Highest fee accepted; defaults to the model's current price. */
  maxFee?: bigint | undefined;
  /** Seconds from now until the request expires. Default 600. */
  ttlSec?: number | undefined;
  /** Contract to call back with the result, and the gas it gets. Default: none. */
  callback?: { address: string; gasLimit: number } | undefined;
  /** Check the input against the model before sending (default true; false lets the market judge it). */
  checkInput?: boolean | undefined;
};

export type RequestInferenceReturnType = {
  requestId: bigint;
  /** What was sent (ETH) or approved (ERC-20): `maxFee`, or the model's price. */
  fee: bigint;
  /** The model's fee token, address(0) for ETH. */
  feeToken: string;
  /**
   * The request's fixed fields as the market committed to them (the fee is the price charged):
   * what `expireRequest` and the market's settling calls take back.
   */
  params: RequestParams;
  receipt: TransactionReceipt;
};

/**
 * Sends `requestInference`, paying in ETH, or in the model's ERC-20 (approving the market for the
 * fee first when the allowance is short). The input is checked against the model first
 * (`checkRequestInput`: what the market would refuse fails before any transaction), and a
 * revert is thrown as a `ChainRevertError` naming the contract's error and its arguments.
 */
export async function requestInference(
  market: InferenceMarket,
  registry: ModelRegistry,
  { modelId, input, maxFee, ttlSec = 600, callback, checkInput = true }: RequestInferenceParameters,
): Promise<RequestInferenceReturnType> {
  const model = await registry.getActiveModel(modelId).catch((error: unknown) => {
    throw decodeRevert(`read model ${modelId}`, error, requestHints);
  });
  const fee = maxFee ?? model.price;
  const runner = market.runner;
  const block = await runner!.provider!.getBlock("latest");
  const deadline = BigInt(block!.timestamp) + BigInt(ttlSec);
  const isEth = model.feeToken === ZeroAddress;
  const bytes = getBytes(input);
  if (checkInput) checkRequestInput(modelId, model, bytes);
  // An ERC-20 model: the market pulls the price from the requester, who approves it first.
  if (!isEth) await approveFee(market, model.feeToken, fee);
  let receipt: TransactionReceipt | null;
  try {
    const tx = await market.requestInference(
      modelId,
      bytes,
      fee,
      deadline,
      callback?.address ?? ZeroAddress,
      callback?.gasLimit ?? 0,
      { value: isEth ? fee : 0n },
    );
    receipt = await tx.wait();
  } catch (error) {
    throw decodeRevert(`request model ${modelId}`, error, requestHints);
  }
  if (!receipt) throw new BaseError("requestInference: no receipt.");
  for (const log of receipt.logs) {
    const parsed = market.interface.parseLog(log);
    if (parsed?.name === "InferenceRequested")
      return {
        requestId: parsed.args.requestId as bigint,
        fee,
        feeToken: model.feeToken,
        params: requestParamsOf(parsed.args.toObject() as RequestedFields),
        receipt,
      };
  }
  throw new BaseError("requestInference: no InferenceRequested event in the receipt.");
}

const erc20Abi = [
  "function allowance(address owner, address spender) view returns (uint256)",
  "function approve(address spender, uint256 amount) returns (bool)",
];

/** Approves the market for `amount` of `token` unless the allowance already covers it. */
async function approveFee(market: InferenceMarket, token: string, amount: bigint): Promise<void> {
  const signer = market.runner as Signer;
  const spender = await market.getAddress();
  const erc20 = new Contract(token, erc20Abi, signer);
  try {
    const allowance = (await erc20.getFunction("allowance")(await signer.getAddress(), spender)) as bigint;
    if (allowance >= amount) return;
    await (await erc20.getFunction("approve")(spender, amount)).wait();
  } catch (error) {
    throw decodeRevert(`approve the market for ${amount} of token ${token}`, error);
  }
}

/** What to do about the market's refusals of a request, as extra lines of the error. */
const requestHints: Record<string, string> = {
  MarketInputNotInline: "Zk and Optimistic models take the inline envelope 0x00 ‖ tensor bytes, never a content id.",
  MarketInputMalformed:
    "The input must be exactly the model's canonical input tensor (its registered dtype and shape).",
  MarketFeeTooHigh: "The model's price is above maxFee: raise maxFee or leave it unset (the current price).",
  MarketModeUnsupported: "The market has no dispute game yet: Optimistic models cannot take requests.",
  ModelIsDeprecated: "The model is deprecated and takes no new requests.",
  ModelUnknown: "No model has this id: see the ModelRegistered events, or register one (verity model register).",
};
