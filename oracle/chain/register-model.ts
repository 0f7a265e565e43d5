import { ZeroAddress } from "ethers";
import { BaseError } from "../errors.ts";
import { dtypes, type DType } from "../model/tensor.ts";
import type { ModelRegistry } from "./connect.ts";
import { decodeRevert } from "./revert-error.ts";
import { VerificationMode } from "./enums.ts";

export { VerificationMode };

/** How a `Zk` or `Optimistic` model's results are checked; absent for `Attested` models. */
export type ModelVerification =
  | { mode: "zk"; /** The model's IProofVerifier adapter. */ verifier: string }
  | {
      mode: "optimistic";
      /** Chunked Merkle root of the weights blob (`weightsRoot` of model/vqm/commitments.ts). */
      weightsRoot: string;
      /** Root of the layer specs (`layoutRoot` of dispute/layout.ts). */
      layoutRoot: string;
      layerCount: number;
      /** Seconds a result stays open to challenge. */
      challengeWindow: number;
    };

export type RegisterModelParameters = {
  modelHash: string;
  contentId: string;
  price: bigint;
  royaltyBps: number;
  inputShape: readonly number[];
  outputShape: readonly number[];
  /** Element types of the canonical input and output tensors (Zk and Optimistic: not float32). */
  inputDtype: DType;
  outputDtype: DType;
  /** ERC-20 the fee is paid in; ETH when absent. */
  feeToken?: string | undefined;
  /** Defaults to an `Attested` model. */
  verification?: ModelVerification | undefined;
};

/** A manifest's canonical input and output formats, as `registerModel` takes them. */
export function formatsOf(manifest: {
  input: { shape: readonly number[]; dtype: DType };
  output: { shape: readonly number[]; dtype: DType };
}): Pick<RegisterModelParameters, "inputShape" | "outputShape" | "inputDtype" | "outputDtype"> {
  return {
    inputShape: manifest.input.shape,
    outputShape: manifest.output.shape,
    inputDtype: manifest.input.dtype,
    outputDtype: manifest.output.dtype,
  };
}

const zeroHash = `0x${"00".repeat(32)}`;

/** Registers a model owned by the registry's signer and returns its id. */
export async function registerModel(registry: ModelRegistry, parameters: RegisterModelParameters): Promise<bigint> {
  const { verification } = parameters;
  const send = registry.register({
    modelHash: parameters.modelHash,
    contentId: parameters.contentId,
    mode:
      verification === undefined
        ? VerificationMode.Attested
        : verification.mode === "zk"
          ? VerificationMode.Zk
          : VerificationMode.Optimistic,
    feeToken: parameters.feeToken ?? ZeroAddress,
    price: parameters.price,
    royaltyBps: parameters.royaltyBps,
    inputShape: [...parameters.inputShape],
    outputShape: [...parameters.outputShape],
    inputDtype: dtypes[parameters.inputDtype].code,
    outputDtype: dtypes[parameters.outputDtype].code,
    verifier: verification?.mode === "zk" ? verification.verifier : ZeroAddress,
    weightsRoot: verification?.mode === "optimistic" ? verification.weightsRoot : zeroHash,
    layoutRoot: verification?.mode === "optimistic" ? verification.layoutRoot : zeroHash,
    layerCount: verification?.mode === "optimistic" ? verification.layerCount : 0,
    challengeWindow: verification?.mode === "optimistic" ? verification.challengeWindow : 0,
  });
  const receipt = await send
    .then((tx) => tx.wait())
    .catch((error: unknown) => {
      throw decodeRevert("register the model", error, registerHints);
    });
  for (const log of receipt?.logs ?? []) {
    const parsed = registry.interface.parseLog(log);
    if (parsed?.name === "ModelRegistered") return parsed.args.modelId as bigint;
  }
  throw new BaseError("register: no ModelRegistered event in the receipt.");
}

/** What to do about the registry's refusals, as an extra line of the error. */
const registerHints: Record<string, string> = {
  ModelDtypeInvalid: "Zk and Optimistic models take integer tensors (int8, int32, int64, uint8), never float32.",
  ModelTensorTooLarge:
    "Zk and Optimistic tensors must fit the registry's limit (the error's last argument): use an Attested model.",
  ModelChallengeWindowInvalid: "Pick a challenge window within the registry's challengeWindowBounds().",
  ModelVerifierHasNoCode: "Deploy the verifier first: no contract lives at that address.",
  ModelShapeInvalid: "Shapes need 1 to 8 dims, each at least 1, and at most 2^24 elements.",
  ModelRoyaltyTooHigh: "Lower the royalty (basis points).",
};
