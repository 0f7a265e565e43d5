/**
 * `@verity/sdk`: what a dApp needs to use Verity from TypeScript or JavaScript. The source of
 * truth lives in the repository (`oracle/sdk/*`, `oracle/chain/*`, `oracle/model/*`); this file
 * only chooses the public exports, and `build.mjs` compiles it with everything it imports to
 * plain JavaScript and declarations, with the contracts' ABIs alongside.
 */

// Contracts: connecting to a deployment, typed contract handles and the ABIs.
export {
  attach,
  connectSuite,
  createRpcProvider,
  createWallet,
  type ExampleClassifierConsumer,
  type InferenceMarket,
  type ModelRegistry,
  type ProviderRegistry,
  type Suite,
} from "../../oracle/chain/connect.ts";
export { loadArtifact, type Artifact, type ContractName } from "../../oracle/chain/artifacts.ts";
export { readDeployment, type Deployment } from "../../oracle/chain/deployment.ts";
export { RequestStatus, requestStatusName } from "../../oracle/chain/request-status.ts";
export { VerificationMode } from "../../oracle/chain/register-model.ts";

// Requests: build and check the input, send the request, wait for its outcome.
export { encodeRequestInput } from "../../oracle/sdk/encode-request-input.ts";
export { checkRequestInput, RequestInputError, type RequestInputModel } from "../../oracle/sdk/check-request-input.ts";
export {
  requestInference,
  type RequestInferenceParameters,
  type RequestInferenceReturnType,
} from "../../oracle/sdk/request-inference.ts";
export {
  waitForFinal,
  WaitTimeoutError,
  type WaitForFinalParameters,
  type WaitForFinalReturnType,
} from "../../oracle/sdk/wait-for-final.ts";
export {
  getRequestOutcome,
  failureReasonName,
  type CallbackOutcome,
  type RequestCredit,
  type RequestOutcome,
} from "../../oracle/sdk/get-request-outcome.ts";
export {
  expireHints,
  expireRequest,
  type ExpireRequestParameters,
  type ExpireRequestReturnType,
} from "../../oracle/sdk/expire-request.ts";
// The market stores a commitment to a request's fixed fields; the calls that settle or refund it take them back.
export {
  commitmentOf,
  findRequestParams,
  requestParamsOf,
  type RequestedFields,
  type RequestParams,
} from "../../oracle/chain/request-params.ts";
export { getBalances, type GetBalancesReturnType } from "../../oracle/sdk/get-balances.ts";
export { withdraw, type WithdrawReturnType } from "../../oracle/sdk/withdraw.ts";

// Callback gas: measure what a consumer's callback needs before choosing callbackGasLimit.
export {
  CallbackGasEstimateError,
  estimateCallbackGas,
  MAX_CALLBACK_GAS,
  pendingSlot,
  VERITY_CONSUMER_PENDING_SLOT,
  type EstimateCallbackGasParameters,
  type EstimateCallbackGasReturnType,
  type RpcSender,
} from "../../oracle/sdk/estimate-callback-gas.ts";

// Tensors: canonical tensor bytes, input envelopes, argmax.
export {
  createTensor,
  dtypes,
  InvalidTensorError,
  type DType,
  type Tensor,
  type TensorData,
} from "../../oracle/model/tensor.ts";
export { decodeTensor, encodeTensor, TensorDecodeError } from "../../oracle/model/tensor-codec.ts";
export {
  decodeInputEnvelope,
  encodeContentInput,
  encodeInlineInput,
  InputEnvelopeError,
  type InputEnvelope,
} from "../../oracle/model/input-envelope.ts";
export { argmax, argmaxRows } from "../../oracle/model/argmax.ts";

// Decoders (text generation): a prompt from text with the model's tokenizer, generated ids back to text.
export {
  encodePrompt,
  PromptTooLongError,
  type EncodePromptParameters,
  type EncodePromptReturnType,
} from "../../oracle/sdk/encode-prompt.ts";
export { decodeTokens, type DecodeTokensReturnType } from "../../oracle/sdk/decode-tokens.ts";
export {
  charTokenizer,
  decodeIds,
  encodeText,
  parseTokenizer,
  readTokenizerBytes,
  TokenizerError,
  tokenizerFile,
  tokenizerHash,
  type Tokenizer,
  type TokenizerKind,
} from "../../oracle/model/text/tokenizer.ts";
export { FailureReason, describeFailureReason } from "../../oracle/model/failure-reason.ts";

// Errors: one base type; reverts decoded into the contract's custom error and arguments.
export { BaseError, rootCause } from "../../oracle/errors.ts";
export { ChainRevertError, decodeRevert, decodeRevertData } from "../../oracle/chain/revert-error.ts";

// Agents (docs/agents.md): identities with their own account, budget and policy.
export {
  connectAgentAccount,
  connectAgentRegistry,
  connectValidationRegistry,
  NoAgentContractsError,
  resolveAgent,
  type IAgentAccount,
  type IAgentRegistry,
  type IValidationRegistry,
  type ResolvedAgent,
} from "../../oracle/agents/agent-contracts.ts";
export {
  ACTION_GAS_RESERVE,
  ANY_PROVIDER,
  ArgKind,
  CALLBACK_GAS_OVERHEAD,
  DecisionKind,
  InputKind,
  minCallbackGas,
  modeNamesOf,
  policyFromChain,
  type Action,
  type AgentPolicy,
  type Policy,
} from "../../oracle/agents/policy.ts";
export {
  createAgent,
  type CreateAgentParameters,
  type CreateAgentReturnType,
} from "../../oracle/agents/create-agent.ts";
export { fundAgent, type FundAgentParameters, type FundAgentReturnType } from "../../oracle/agents/fund-agent.ts";
export {
  setAgentPolicy,
  type SetAgentPolicyParameters,
  type SetAgentPolicyReturnType,
} from "../../oracle/agents/set-agent-policy.ts";
export {
  getAgentStatus,
  type AgentStatus,
  type GetAgentStatusParameters,
} from "../../oracle/agents/get-agent-status.ts";
export { getDecisionTrail, type TrailEntry } from "../../oracle/agents/decision-trail.ts";
export { AgentNotDueError, wakeAgent, type WakeAgentReturnType } from "../../oracle/agents/wake-agent.ts";
export {
  withdrawFromAgent,
  type WithdrawFromAgentParameters,
  type WithdrawFromAgentReturnType,
} from "../../oracle/agents/withdraw-from-agent.ts";
export {
  validateAgentRequest,
  type ValidateAgentRequestParameters,
  type ValidateAgentRequestReturnType,
} from "../../oracle/agents/validate-agent-request.ts";
export {
  buildRegistrationFile,
  REGISTRATION_TYPE,
  type RegistrationFile,
  type RegistrationStore,
} from "../../oracle/agents/registration-file.ts";
