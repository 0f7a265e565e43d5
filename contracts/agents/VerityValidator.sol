// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IInferenceMarket} from "../interfaces/IInferenceMarket.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {IAgentRegistry} from "./IAgentRegistry.sol";
import {IValidationRegistry} from "./IValidationRegistry.sol";

/// @title VerityValidator
/// @notice An ERC-8004 validator that answers from Verity's own evidence, never from anyone's
/// word: whether the inference behind an agent's action was verified. An agent's owner asks it
/// about one market request of the agent's account through the {IValidationRegistry}:
///
///     requestHash = keccak256(abi.encode(block.chainid, market, marketRequestId))
///     validationRegistry.validationRequest(validator, agentId, requestURI, requestHash)
///
/// (`requestHashOf(marketRequestId)` computes the hash; `requestURI` is free, e.g.
/// `eip155:<chainId>:<market>#<marketRequestId>`), and once the evidence exists anyone calls
/// `respond(marketRequestId, params)` (`params` the market request's own {IInferenceMarket-RequestParams},
/// from its `InferenceRequested` event), which records the answer in the registry:
///
/// | evidence in the market                                   | response | tag            |
/// | -------------------------------------------------------- | -------- | -------------- |
/// | Finalized, model of mode `Zk` (a proof verified)         | 100      | `"zk"`         |
/// | Finalized, model of mode `Optimistic` (window survived)  | 100      | `"optimistic"` |
/// | `faultProven`: a dispute game proved the result wrong    | 0        | `"slashed"`    |
///
/// `responseHash` is `keccak256` of the Finalized output (the bytes that were validated), zero
/// for a slashed result; `responseURI` is empty. Anything else reverts with a named error: a
/// result still open (Pending, Claimed, Submitted, Challenged; or no such request yet), or one
/// that carries no evidence either way (an `Attested` result, a request Failed or Refunded
/// without a proven fault). The evidence is final once it exists (Finalized and a proven fault are terminal),
/// so answering again records the same answer.
/// @dev The answer is about a request the agent's own account made: `respond` checks that the
/// market request's requester (in `params`, checked against the request's commitment) is the account of the agent the validation request names
/// ({IAgentRegistry-accountOf} of the validation registry's identity registry), so no agent
/// collects scores for another's inference.
contract VerityValidator {
    /// @notice The scores this validator gives.
    uint8 public constant PASSED = 100;
    uint8 public constant FAILED = 0;

    /// @notice A constructor argument is the zero address.
    error ValidatorZeroAddress();
    /// @notice The validation request `requestHash` does not exist or names another validator
    /// (`validator`, zero when there is no request).
    error ValidatorNotAsked(bytes32 requestHash, address validator);
    /// @notice The parameters given for market request `marketRequestId` are not its own.
    error ValidatorParamsMismatch(uint256 marketRequestId);
    /// @notice Market request `marketRequestId` was made by `requester`, not by `account`, the
    /// account of the agent the validation request names.
    error ValidatorNotAgentsRequest(uint256 marketRequestId, address requester, address account);
    /// @notice Market request `marketRequestId` is still open (`status`; `None`: not made yet):
    /// its result is not final, so there is nothing to answer yet.
    error ValidatorNotDecidable(uint256 marketRequestId, IInferenceMarket.RequestStatus status);
    /// @notice Market request `marketRequestId` ended (`status`) without evidence either way:
    /// an `Attested` result (`mode`), or a request Failed or Refunded without a proven fault.
    error ValidatorNoEvidence(
        uint256 marketRequestId,
        IInferenceMarket.RequestStatus status,
        IModelRegistry.VerificationMode mode
    );

    IInferenceMarket private immutable _market;
    IValidationRegistry private immutable _validationRegistry;
    IModelRegistry private immutable _models;
    IAgentRegistry private immutable _agents;

    /// @param market_ the {IInferenceMarket} whose evidence this validator reads.
    /// @param validationRegistry_ the {IValidationRegistry} it answers in; its identity registry
    /// must be an {IAgentRegistry} (agents' accounts are the requesters it checks).
    constructor(address market_, address validationRegistry_) {
        if (market_ == address(0) || validationRegistry_ == address(0)) revert ValidatorZeroAddress();
        _market = IInferenceMarket(market_);
        _validationRegistry = IValidationRegistry(validationRegistry_);
        _models = IModelRegistry(IInferenceMarket(market_).modelRegistry());
        _agents = IAgentRegistry(IValidationRegistry(validationRegistry_).getIdentityRegistry());
        if (address(_models) == address(0) || address(_agents) == address(0)) revert ValidatorZeroAddress();
    }

    /// @notice Anyone answers the validation request about market request `marketRequestId`
    /// (the one whose hash is {requestHashOf}) once its evidence exists: records the answer of
    /// {answerOf} in the validation registry. Reverts with {ValidatorNotAsked} if the agent's
    /// owner has not asked this validator, {ValidatorNotAgentsRequest} if the market request is
    /// not the agent's ({ValidatorParamsMismatch} if `params` are not its own), and as {answerOf} does when there is no answer yet or none at all.
    /// Emits the registry's {IValidationRegistry-ValidationResponse}.
    function respond(
        uint256 marketRequestId,
        IInferenceMarket.RequestParams calldata params
    ) external returns (uint8 response, string memory tag) {
        bytes32 requestHash = requestHashOf(marketRequestId);
        // Reverts with the registry's own error when no request has this hash.
        (address validator, uint256 agentId, , , , ) = _validationRegistry.getValidationStatus(requestHash);
        // INVARIANT: this validator answers only what it was asked.
        if (validator != address(this)) revert ValidatorNotAsked(requestHash, validator);
        // INVARIANT: an agent is scored on its own inference only.
        // The market does not store the requester: `params` name it, bound by the commitment.
        if (_market.commitmentOf(params) != _market.getRequest(marketRequestId).commitment) {
            revert ValidatorParamsMismatch(marketRequestId);
        }
        address requester = params.requester;
        address account = _agents.accountOf(agentId);
        if (requester != account || account == address(0))
            revert ValidatorNotAgentsRequest(marketRequestId, requester, account);
        bytes32 responseHash;
        // INVARIANT: the answer is read from the market's final state, never given by the caller.
        (response, responseHash, tag) = answerOf(marketRequestId);
        _validationRegistry.validationResponse(requestHash, response, "", responseHash, tag);
    }

    /// @notice The validation request hash that names market request `marketRequestId` of this
    /// validator's market on this chain: `keccak256(abi.encode(block.chainid, market,
    /// marketRequestId))`.
    function requestHashOf(uint256 marketRequestId) public view returns (bytes32) {
        return keccak256(abi.encode(block.chainid, address(_market), marketRequestId));
    }

    /// @notice What {respond} would record for market request `marketRequestId`, whoever made
    /// it: 100 `"zk"` or 100 `"optimistic"` for a Finalized result of a `Zk` or `Optimistic`
    /// model (`responseHash` the keccak of its output), 0 `"slashed"` when a game proved the
    /// result wrong (`responseHash` zero). Reverts with {ValidatorNotDecidable} while the
    /// request is open and {ValidatorNoEvidence} when it ended without evidence.
    function answerOf(
        uint256 marketRequestId
    ) public view returns (uint8 response, bytes32 responseHash, string memory tag) {
        // A proven fault first: the request is Refunded then, but unlike any other refund it is
        // evidence (the provider was slashed for this result).
        if (_market.faultProven(marketRequestId)) return (FAILED, bytes32(0), "slashed");
        IInferenceMarket.Request memory request = _market.getRequest(marketRequestId);
        IInferenceMarket.RequestStatus status = request.status;
        if (
            status == IInferenceMarket.RequestStatus.None ||
            status == IInferenceMarket.RequestStatus.Pending ||
            status == IInferenceMarket.RequestStatus.Claimed ||
            status == IInferenceMarket.RequestStatus.Submitted ||
            status == IInferenceMarket.RequestStatus.Challenged
        ) revert ValidatorNotDecidable(marketRequestId, status);
        IModelRegistry.VerificationMode mode = _models.verificationOf(request.modelId).mode;
        if (status == IInferenceMarket.RequestStatus.Finalized) {
            if (mode == IModelRegistry.VerificationMode.Zk)
                return (PASSED, keccak256(_market.outputOf(marketRequestId)), "zk");
            if (mode == IModelRegistry.VerificationMode.Optimistic)
                return (PASSED, keccak256(_market.outputOf(marketRequestId)), "optimistic");
        }
        revert ValidatorNoEvidence(marketRequestId, status, mode);
    }

    /// @notice The market whose evidence this validator reads.
    function market() external view returns (address) {
        return address(_market);
    }

    /// @notice The validation registry it answers in.
    function validationRegistry() external view returns (address) {
        return address(_validationRegistry);
    }

    /// @notice The agent registry whose accounts' requests it validates.
    function agentRegistry() external view returns (address) {
        return address(_agents);
    }
}
