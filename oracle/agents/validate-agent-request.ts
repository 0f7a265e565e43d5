import { Contract, type ContractRunner, type TransactionReceipt } from "ethers";
import { loadArtifact } from "../chain/artifacts.ts";
import { attach, type InferenceMarket } from "../chain/connect.ts";
import type { Deployment } from "../chain/deployment.ts";
import { findRequestParams } from "../chain/request-params.ts";
import { decodeRevert } from "../chain/revert-error.ts";
import { connectValidationRegistry, NoAgentContractsError, type IValidationRegistry } from "./agent-contracts.ts";
import { agentHints, sendAgentTransaction } from "./send-agent-transaction.ts";

export type ValidateAgentRequestParameters = {
  agentId: bigint;
  /** The market request behind the action to validate (the trail's request id). */
  requestId: bigint;
  /** The validation request's URI. Default `eip155:<chainId>:<market>#<requestId>`. */
  requestURI?: string | undefined;
};

export type ValidateAgentRequestReturnType = {
  /** `keccak256(abi.encode(chainId, market, requestId))`: the request's name in the validation registry. */
  requestHash: string;
  /** 100: the inference was verified (Zk proof, or an Optimistic window survived); 0: a game proved it wrong. */
  response: number;
  /** `zk`, `optimistic` or `slashed`. */
  tag: string;
  /** keccak256 of the validated output (zero for a slashed result). */
  responseHash: string;
  validator: string;
  /** The transactions sent: the owner's `validationRequest` (none if it was asked before) and the validator's `respond`. */
  requested: TransactionReceipt | undefined;
  responded: TransactionReceipt | undefined;
};

/** What to do about the validator's refusals (and the agent contracts'), as an extra line of the error. */
export const validatorHints: Record<string, string> = {
  ...agentHints,
  ValidatorNotDecidable: "The request's result is not final yet: ask again once it is Finalized (or its game ended).",
  ValidatorNoEvidence:
    "The request ended without evidence either way (an Attested model, or Failed/Refunded without a proven fault).",
  ValidatorNotAgentsRequest: "That market request was not made by this agent's account: name one of its trail.",
  ValidatorNotAsked: "The agent's owner has not asked this validator about the request yet.",
  ValidatorParamsMismatch:
    "The parameters sent are not the market request's own (its InferenceRequested event's): was the request reorged away since they were read? Run the command again.",
};

type VerityValidator = Contract;

/**
 * Asks Verity's ERC-8004 validator about an agent's request and reads the answer: the agent's
 * owner files `validationRequest(validator, agentId, requestURI, requestHash)` in the validation
 * registry (skipped if it was filed before), the validator's `respond(requestId, params)` records the
 * answer read from the market's evidence (anyone may call it), and `getValidationStatus` returns
 * it. The market stores only a commitment to the request's requester, so `respond` takes the
 * request's parameters back: they are read from its `InferenceRequested` event (from the
 * deployment's `startBlock`). The signer must be the agent's owner or approved for its token (ERC-721 `approve` or `setApprovalForAll`) for the first step; the agent's operators are not enough.
 */
export async function validateAgentRequest(
  deployment: Deployment,
  runner: ContractRunner,
  { agentId, requestId, requestURI }: ValidateAgentRequestParameters,
): Promise<ValidateAgentRequestReturnType> {
  const validatorAddress = deployment.contracts.verityValidator;
  if (validatorAddress === undefined) throw new NoAgentContractsError("verityValidator");
  const registry: IValidationRegistry = connectValidationRegistry(deployment, runner);
  const validator: VerityValidator = new Contract(
    validatorAddress,
    loadArtifact("VerityValidator").abi as never[],
    runner,
  );
  const call = async <T>(action: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      throw decodeRevert(action, error, validatorHints);
    }
  };
  const requestHash = await call("read the validation request's hash", () =>
    validator.getFunction("requestHashOf")(requestId),
  );
  // Fails early with the validator's named error when there is nothing to answer yet.
  await call(`validate request ${requestId}`, () => validator.getFunction("answerOf")(requestId));
  // The validator checks the params against its own market's commitment: read that market's events.
  const marketAddress: string = await call("read the validator's market", () => validator.getFunction("market")());
  const market = attach<InferenceMarket>("InferenceMarket", marketAddress, runner);
  const params = await findRequestParams(market, requestId, deployment.startBlock);
  const asked = await registry.getValidationStatus(requestHash).then(
    (status) => status.validatorAddress.toLowerCase() === validatorAddress.toLowerCase(),
    () => false,
  );
  let requested: TransactionReceipt | undefined;
  if (!asked) {
    const uri = requestURI ?? `eip155:${deployment.chainId}:${deployment.contracts.inferenceMarket}#${requestId}`;
    requested = await sendAgentTransaction(
      "file the validation request",
      registry.validationRequest(validatorAddress, agentId, uri, requestHash),
    );
  }
  const responded = await sendAgentTransaction(
    `have the validator answer about request ${requestId}`,
    validator.getFunction("respond")(requestId, params),
    validatorHints,
  );
  const status = await registry.getValidationStatus(requestHash);
  return {
    requestHash,
    response: Number(status.response),
    tag: status.tag,
    responseHash: status.responseHash,
    validator: validatorAddress,
    requested,
    responded,
  };
}
