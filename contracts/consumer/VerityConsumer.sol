// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IInferenceConsumer} from "../interfaces/IInferenceConsumer.sol";
import {IInferenceMarket} from "../interfaces/IInferenceMarket.sol";

/// @title VerityConsumer
/// @notice The base of a dApp contract that asks the {InferenceMarket} for inferences and acts on
/// the results. It does the two checks every consumer needs: results come from the market only
/// ({ConsumerNotMarket}), and only for requests this contract made ({ConsumerUnknownRequest}),
/// each delivered once. Anyone can make a request naming any contract as its callback, with an
/// input and a model of their choosing, so without the second check a consumer would act on
/// results an attacker chose.
///
/// Make requests with {_requestInference} and implement {_onInferenceResult}:
///
///     contract MyClassifier is VerityConsumer {
///         constructor(IInferenceMarket market_) VerityConsumer(market_) {}
///
///         function ask(bytes calldata input, uint64 deadline) external payable returns (uint256) {
///             return _requestInference(MODEL_ID, input, msg.value, deadline, 200_000, msg.value);
///         }
///
///         function _onInferenceResult(uint256 requestId, bytes calldata output) internal override {
///             // the request is Finalized; `output` is the model's canonical output tensor
///         }
///     }
///
/// @dev The contract is the requester of its requests, so the market credits it their refunds
/// (the part of `maxFee` above the price, expired or failed requests, claim penalties): give it
/// a way to call `market.withdraw(token)` and to receive ETH (`receive`) from the market.
/// The callback runs with the `callbackGasLimit` of the request, exactly: measure it (the
/// SDK's `estimateCallbackGas`) and keep a margin. A revert or out-of-gas in the callback does
/// not undo settlement; the market only emits `CallbackResult(requestId, false)`.
/// Storage is ERC-7201 namespaced, so inheriting contracts keep their own layout and off-chain
/// tools can find the pending flag of a request id (see {PENDING_SLOT}).
abstract contract VerityConsumer is IInferenceConsumer {
    /// @custom:storage-location erc7201:verity.storage.VerityConsumer
    struct VerityConsumerStorage {
        mapping(uint256 requestId => bool) pending;
    }

    /// @notice The ERC-7201 slot of {VerityConsumerStorage}, whose first member `pending` puts the
    /// flag of request `id` at `keccak256(abi.encode(id, PENDING_SLOT))`:
    /// `keccak256(abi.encode(uint256(keccak256("verity.storage.VerityConsumer")) - 1)) & ~bytes32(uint256(0xff))`.
    bytes32 public constant PENDING_SLOT = 0xb284a0efb1af9db311ebaceb250cddb1d37ac9c627208970b6a2923a47715600;

    /// @notice Only the market may deliver results; `caller` is not it.
    error ConsumerNotMarket(address caller);
    /// @notice A result arrived for `requestId`, which this contract did not ask for (or was
    /// already delivered).
    error ConsumerUnknownRequest(uint256 requestId);
    /// @notice The market address is zero.
    error ConsumerZeroMarket();

    /// @notice The market this contract requests from and takes results from.
    IInferenceMarket public immutable market;

    constructor(IInferenceMarket market_) {
        if (address(market_) == address(0)) revert ConsumerZeroMarket();
        market = market_;
    }

    /// @inheritdoc IInferenceConsumer
    /// @dev Requirements: the caller is the market; `requestId` is a request this contract made
    /// with {_requestInference} and has had no result yet. Then hands the result to
    /// {_onInferenceResult}.
    function onInferenceResult(uint256 requestId, bytes calldata output) external {
        // INVARIANT: only the market delivers results.
        if (msg.sender != address(market)) revert ConsumerNotMarket(msg.sender);
        VerityConsumerStorage storage $ = _storage();
        // INVARIANT: only results of our own requests are acted on, each once.
        if (!$.pending[requestId]) revert ConsumerUnknownRequest(requestId);
        delete $.pending[requestId];
        _onInferenceResult(requestId, output);
    }

    /// @notice Whether `requestId` is a request this contract made whose result has not been
    /// delivered (true also for requests that ended Refunded or Failed: those are never called
    /// back).
    function isPendingRequest(uint256 requestId) public view returns (bool) {
        return _storage().pending[requestId];
    }

    /// @notice Asks the market for an inference of model `modelId` on `input` (an input envelope:
    /// {CanonicalTensor-toInlineInput} builds one on-chain), with this contract as the callback
    /// and `callbackGasLimit` gas for {_onInferenceResult}, and records the request id.
    /// `value` is the ETH sent: `maxFee` for a model priced in ETH (what the price falls short of
    /// it is credited back to this contract), 0 for an ERC-20 model (approve the market for the
    /// price first). Reverts with the market's errors (`MarketFeeTooHigh`, `MarketInputMalformed`,
    /// ...). Emits the market's `InferenceRequested` event.
    function _requestInference(
        uint256 modelId,
        bytes memory input,
        uint256 maxFee,
        uint64 deadline,
        uint32 callbackGasLimit,
        uint256 value
    ) internal returns (uint256 requestId) {
        requestId = market.requestInference{value: value}(
            modelId,
            input,
            maxFee,
            deadline,
            address(this),
            callbackGasLimit
        );
        _storage().pending[requestId] = true;
    }

    /// @notice Called with the output of `requestId`, a request this contract made, once it is
    /// Finalized (never for Refunded or Failed requests). `output` is the model's canonical
    /// output tensor ({CanonicalTensor} decodes it). Runs within the request's
    /// `callbackGasLimit`.
    function _onInferenceResult(uint256 requestId, bytes calldata output) internal virtual;

    function _storage() private pure returns (VerityConsumerStorage storage $) {
        assembly ("memory-safe") {
            $.slot := PENDING_SLOT
        }
    }
}
