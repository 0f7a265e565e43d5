import { ZeroAddress, getBytes, type BytesLike, type TransactionReceipt } from "ethers";
import type { InferenceMarket, ModelRegistry } from "../chain/connect.ts";
import { BaseError } from "../errors.ts";

export type RequestInferenceParameters = {
  modelId: bigint;
  /** The request input: see `encodeRequestInput` (the envelope, or bare tensor bytes for Zk models). */
  input: BytesLike;
  /** Highest fee accepted; defaults to the model's current price. */
  maxFee?: bigint | undefined;
  /** Seconds from now until the request expires. Default 600. */
  ttlSec?: number | undefined;
  /** Contract to call back with the result, and the gas it gets. Default: none. */
  callback?: { address: string; gasLimit: number } | undefined;
};

export type RequestInferenceReturnType = { requestId: bigint; fee: bigint; receipt: TransactionReceipt };

/** Sends `requestInference`, paying in ETH or approving the ERC-20 fee first. */
export async function requestInference(
  market: InferenceMarket,
  registry: ModelRegistry,
  { modelId, input, maxFee, ttlSec = 600, callback }: RequestInferenceParameters,
): Promise<RequestInferenceReturnType> {
  const model = await registry.getActiveModel(modelId);
  const fee = maxFee ?? model.price;
  const runner = market.runner;
  const block = await runner!.provider!.getBlock("latest");
  const deadline = BigInt(block!.timestamp) + BigInt(ttlSec);
  const isEth = model.feeToken === ZeroAddress;
  if (!isEth)
    throw new BaseError("ERC-20 fees are not supported by this helper yet; approve and call the market directly.");
  const tx = await market.requestInference(
    modelId,
    getBytes(input),
    fee,
    deadline,
    callback?.address ?? ZeroAddress,
    callback?.gasLimit ?? 0,
    { value: fee },
  );
  const receipt = await tx.wait();
  if (!receipt) throw new BaseError("requestInference: no receipt.");
  for (const log of receipt.logs) {
    const parsed = market.interface.parseLog(log);
    if (parsed?.name === "InferenceRequested") return { requestId: parsed.args.requestId as bigint, fee, receipt };
  }
  throw new BaseError("requestInference: no InferenceRequested event in the receipt.");
}
