import { ZeroAddress } from "ethers";
import { BaseError } from "../errors.ts";
import type { ModelRegistry } from "./connect.ts";

/** `IModelRegistry.VerificationMode`, in ABI order. */
export const VerificationMode = { Attested: 0, Zk: 1, Optimistic: 2 } as const;

export type RegisterModelParameters = {
  modelHash: string;
  contentId: string;
  price: bigint;
  royaltyBps: number;
  inputShape: readonly number[];
  outputShape: readonly number[];
  /** ERC-20 the fee is paid in; ETH when absent. */
  feeToken?: string | undefined;
};

/** Registers a model owned by the registry's signer and returns its id. */
export async function registerModel(registry: ModelRegistry, parameters: RegisterModelParameters): Promise<bigint> {
  const tx = await registry.register({
    modelHash: parameters.modelHash,
    contentId: parameters.contentId,
    mode: VerificationMode.Attested,
    feeToken: parameters.feeToken ?? ZeroAddress,
    price: parameters.price,
    royaltyBps: parameters.royaltyBps,
    inputShape: [...parameters.inputShape],
    outputShape: [...parameters.outputShape],
  });
  const receipt = await tx.wait();
  for (const log of receipt?.logs ?? []) {
    const parsed = registry.interface.parseLog(log);
    if (parsed?.name === "ModelRegistered") return parsed.args.modelId as bigint;
  }
  throw new BaseError("register: no ModelRegistered event in the receipt.");
}
