// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IModelRegistry} from "./IModelRegistry.sol";

/// @title IInferenceMarket
/// @notice Requests for inference: fee escrow, claim by a staked provider, submission,
/// settlement by pull payment, refunds, penalties and the consumer callback.
/// @dev The input bytes are not stored: they are emitted in {InferenceRequested} and bound by
/// `inputHash`, itself bound with the other fixed fields by the request's commitment
/// ({RequestParams}). Off-chain they are an input envelope (see docs/protocol.md): canonical tensor
/// bytes inline, or a content id of them.
interface IInferenceMarket {
    /// @notice Life of a request. `None` marks an id that does not exist. `Submitted` and
    /// `Challenged` are the provisional states of an `Optimistic` result (open to challenge, and
    /// under a dispute game); consumers act on `Finalized` only.
    enum RequestStatus {
        None,
        Pending,
        Claimed,
        Submitted,
        Challenged,
        Finalized,
        Refunded,
        Failed
    }

    /// @notice Why {fulfilBatch} skipped an item (a race the provider could not see when it
    /// signed, never its own bug): the request is no longer Pending or Claimed (settled,
    /// refunded or failed), another provider holds its claim, or its deadline passed.
    enum FulfilSkipReason {
        NotOpen,
        ClaimedByOther,
        DeadlinePassed
    }

    /// @notice What the market stores of a request. The rest ({RequestParams}) is bound by
    /// `commitment` and read from the request's {InferenceRequested} event.
    struct Request {
        RequestStatus status;
        IModelRegistry.VerificationMode mode;
        uint64 deadline;
        uint64 modelId;
        /// The provider that claimed or served it (zero while Pending).
        address provider;
        /// Provider stake reserved for the job while it is open (what a failure would slash).
        uint256 reservedStake;
        /// `bytes20(keccak256(abi.encode(params)))` of the request's {RequestParams}.
        bytes20 commitment;
    }

    /// @notice The fields of a request that no step changes, which the market does not store
    /// but commits to: every call that settles, refunds or disputes a request takes them back
    /// and reverts with {MarketRequestParamsMismatch} unless they are the request's own. All of
    /// them are in its {InferenceRequested} event (`inputHash` is `keccak256(input)`).
    struct RequestParams {
        address requester;
        address feeToken;
        uint96 fee;
        address callback;
        uint32 callbackGasLimit;
        bytes32 inputHash;
    }

    error MarketRequestUnknown(uint256 requestId);
    error MarketWrongStatus(uint256 requestId, RequestStatus status);
    error MarketFeeTooHigh(uint256 price, uint256 maxFee);
    error MarketWrongValue(uint256 sent, uint256 expected);
    error MarketDeadlineInvalid(uint64 deadline);
    error MarketDeadlinePassed(uint256 requestId, uint64 deadline);
    error MarketDeadlineNotPassed(uint256 requestId, uint64 deadline);
    error MarketNotProvider(uint256 requestId, address caller);
    error MarketCallbackGasTooHigh(uint32 callbackGasLimit, uint32 maxGasLimit);
    error MarketInsufficientGasForCallback(uint256 gasLeft, uint256 needed);
    error MarketNothingToWithdraw(address account, address token);
    error MarketTransferFailed(address to);
    error MarketEmptyInput();
    error MarketModeUnsupported(uint256 modelId);
    error MarketProtocolFeeTooHigh(uint16 bps, uint16 maxBps);
    error MarketZeroAddress();
    /// @notice An ERC-20 transfer in delivered `received` where `expected` was due (fee-on-transfer
    /// and rebasing tokens are not supported).
    error MarketTokenTransferMismatch(address token, uint256 received, uint256 expected);
    /// @notice The fee does not fit the 96 bits a request stores it in.
    error MarketFeeOverflow(uint256 fee);
    /// @notice A `Zk` or `Optimistic` model's input must be inline (envelope kind 0x00): the
    /// proof or the game reads it.
    error MarketInputNotInline(uint256 modelId);
    /// @notice The inline input of a `Zk` or `Optimistic` request is not the model's canonical
    /// input tensor: `length` bytes after the envelope byte where `expectedLength` are due, or
    /// (lengths equal) a header whose dtype, rank or dims differ from the registered ones.
    error MarketInputMalformed(uint256 modelId, uint256 length, uint256 expectedLength);
    /// @notice The model of `requestId` is not of the mode this submission path serves.
    error MarketWrongMode(uint256 requestId, uint8 mode);
    /// @notice `input` does not hash to the request's `inputHash`.
    error MarketInputMismatch(uint256 requestId, bytes32 inputHash);
    /// @notice The model's verifier rejected the proof of `requestId`.
    error MarketProofInvalid(uint256 requestId);
    /// @notice `submitOptimistic` got `count` layer roots where the model has `expected` layers.
    error MarketLayerCountMismatch(uint256 requestId, uint256 count, uint256 expected);
    /// @notice The last layer root is not the chunked Merkle root `outputRoot` of the output's
    /// element bytes.
    error MarketOutputRootMismatch(uint256 requestId, bytes32 lastRoot, bytes32 outputRoot);
    /// @notice The output is not the model's canonical output tensor: `length` bytes where
    /// `expectedLength` are due, or (lengths equal) a header whose dtype, rank or dims differ
    /// from the registered ones.
    error MarketOutputMalformed(uint256 requestId, uint256 length, uint256 expectedLength);
    /// @notice `requestId` is Challenged but its games may still end normally until
    /// `refundableAfter`; only then can {expire} refund it.
    error MarketGamesStillRunning(uint256 requestId, uint64 refundableAfter);
    /// @notice A claim penalty or a game's slash amount above `maxAmount` (what a request can
    /// hold as reserved stake).
    error MarketPenaltyTooHigh(uint256 amount, uint256 maxAmount);
    /// @notice The challenge window of `requestId` ends at `windowEnd`: it is still open
    /// (finalize) or already closed (challenge).
    error MarketWindowOpen(uint256 requestId, uint64 windowEnd);
    error MarketWindowClosed(uint256 requestId, uint64 windowEnd);
    /// @notice Only the dispute game may call this; `caller` is not it.
    error MarketNotDisputeGame(address caller);
    /// @notice The dispute game is already set (it is set once).
    error MarketDisputeGameAlreadySet(address game);
    /// @notice ETH came from `sender`; the market only takes ETH with a request or from the
    /// provider registry (slashed stake).
    error MarketUnexpectedEth(address sender);
    /// @notice `provider` may not fulfil `requestId` without a claim: it is not staked at the
    /// registry's minimum or has not opted in to model `modelId`.
    error MarketProviderNotEligible(uint256 requestId, address provider, uint256 modelId);
    /// @notice A {fulfilBatch} of `count` items, where 1 to `maxCount` are allowed.
    error MarketBatchSizeInvalid(uint256 count, uint256 maxCount);
    /// @notice {fulfilBatch} got `requestIds` ids but `outputs` outputs or parameter sets.
    error MarketBatchLengthMismatch(uint256 requestIds, uint256 outputs);
    /// @notice The {RequestParams} given for `requestId` are not the ones it was made with.
    error MarketRequestParamsMismatch(uint256 requestId);

    event InferenceRequested(
        uint256 indexed requestId,
        uint256 indexed modelId,
        address indexed requester,
        bytes input,
        address feeToken,
        uint256 fee,
        uint64 deadline,
        address callback,
        uint32 callbackGasLimit
    );
    event RequestClaimed(uint256 indexed requestId, address indexed provider);
    event RequestReleased(uint256 indexed requestId, address indexed provider);
    event ResultSubmitted(uint256 indexed requestId, address indexed provider, bytes output);
    event RequestFinalized(uint256 indexed requestId, uint256 providerFee, uint256 royalty, uint256 protocolFee);
    event RequestFailed(uint256 indexed requestId, address indexed provider, uint16 reason);
    event RequestRefunded(uint256 indexed requestId, uint256 amount, uint256 penalty);
    event CallbackResult(uint256 indexed requestId, bool success);
    event Credited(address indexed account, address indexed token, uint256 amount);
    event Withdrawn(address indexed account, address indexed token, uint256 amount);
    /// @notice An `Optimistic` result: `layerRoots` are the trace roots of every layer (the last
    /// one commits `output`); it can be challenged until `windowEnd`.
    event OptimisticResultSubmitted(
        uint256 indexed requestId,
        address indexed provider,
        bytes32[] layerRoots,
        uint64 windowEnd
    );
    /// @notice The dispute game opened a game against the result of `requestId`;
    /// `openGames` games are now open against it.
    event ResultChallenged(uint256 indexed requestId, address indexed game, uint256 openGames);
    /// @notice A game over `requestId` ended: if `providerAtFault`, the request was refunded
    /// (and every other game over it made moot); `openGames` games are still open.
    event ChallengeResolved(uint256 indexed requestId, bool providerAtFault, uint256 openGames);
    /// @notice {fulfilBatch} skipped `requestId` for `reason`; nothing of it changed.
    event FulfilSkipped(uint256 indexed requestId, address indexed provider, FulfilSkipReason reason);
    event DisputeGameSet(address game);
    event ProtocolFeeUpdated(uint16 bps, address treasury);
    event ClaimPenaltyUpdated(uint256 penalty);

    /// @notice Asks for an inference of model `modelId` on `input` and escrows the fee.
    /// For ETH models send exactly `maxFee`; what the price falls short of it is credited back.
    /// For ERC-20 models send no ETH; the price is pulled with `transferFrom`.
    /// Emits an {InferenceRequested} event.
    function requestInference(
        uint256 modelId,
        bytes calldata input,
        uint256 maxFee,
        uint64 deadline,
        address callback,
        uint32 callbackGasLimit
    ) external payable returns (uint256 requestId);

    /// @notice A staked provider serving the model takes request `requestId`.
    /// Emits a {RequestClaimed} event.
    function claim(uint256 requestId) external;

    /// @notice The claimant gives request `requestId` back (it could not fetch content, say),
    /// without penalty. Emits a {RequestReleased} event.
    function release(uint256 requestId) external;

    /// @notice The claimant submits the output of `requestId`. For `Attested` models this
    /// settles at once: the request is Finalized, the fee split is credited and the consumer is
    /// called back. Emits {ResultSubmitted} and {RequestFinalized} events.
    function submit(uint256 requestId, RequestParams calldata params, bytes calldata output) external;

    /// @notice A staked provider serving the model serves `requestId` of an `Attested` model in
    /// one call, with no claim first: what {claim} and {submit} do together. The request must be
    /// Pending (or Claimed by the caller). It is Finalized, the fee split credited and the
    /// consumer called back. Emits {ResultSubmitted} and {RequestFinalized} events.
    function fulfil(uint256 requestId, RequestParams calldata params, bytes calldata output) external;

    /// @notice {fulfil} for up to `MAX_BATCH` requests at once, `outputs[i]` answering
    /// `requestIds[i]` made with `params[i]`. An item no longer open to the caller (settled, claimed by another,
    /// past its deadline) is skipped with a {FulfilSkipped} event instead of reverting the
    /// batch; a malformed item (unknown id, wrong mode, malformed output) reverts it. All items
    /// are settled before any consumer is called back, and each party is credited once per
    /// token (the model owner once per run of items with the same owner and token).
    /// Returns how many items were served. Emits {ResultSubmitted}, {RequestFinalized} per item
    /// served, {FulfilSkipped} per item skipped, and {Credited} per party and token.
    function fulfilBatch(
        uint256[] calldata requestIds,
        RequestParams[] calldata params,
        bytes[] calldata outputs
    ) external returns (uint256 served);

    /// @notice The claimant submits the output of `requestId` of a `Zk` model with `proof`, which
    /// the model's {IProofVerifier} checks against `input` (whose keccak is the request's
    /// `inputHash`) and `output`. Settles at once as {submit} does.
    /// Emits {ResultSubmitted} and {RequestFinalized} events.
    function submitWithProof(
        uint256 requestId,
        RequestParams calldata params,
        bytes calldata input,
        bytes calldata output,
        bytes calldata proof
    ) external;

    /// @notice The claimant submits the output of `requestId` of an `Optimistic` model with the
    /// trace roots of every layer; the last must be the root of `output`'s element bytes. The
    /// request is Submitted and can be challenged during the model's challenge window.
    /// Emits {ResultSubmitted} and {OptimisticResultSubmitted} events.
    function submitOptimistic(uint256 requestId, bytes calldata output, bytes32[] calldata layerRoots) external;

    /// @notice Anyone settles an `Optimistic` result once its window has passed and no game
    /// over it is open: the request is Finalized, the fee split credited, the consumer called
    /// back. Emits {RequestFinalized} and {Credited} events.
    function finalize(uint256 requestId, RequestParams calldata params) external;

    /// @notice The dispute game opens one more game against the result of `requestId` (any
    /// number may be open at once, each with its own challenger); returns what the game needs.
    /// The window does not move. Only the dispute game may call it.
    /// Emits a {ResultChallenged} event.
    function openChallenge(
        uint256 requestId,
        RequestParams calldata params
    ) external returns (address provider, uint256 modelId, bytes32 rootsHash);

    /// @notice The dispute game reports that one game over `requestId` ended. If the provider is
    /// at fault and the request still open, the request is Refunded (fee credited back to the
    /// requester), the output dropped and the game's slash taken from the provider's reserved
    /// stake and sent to the game (`slashed`). If the request was already refunded (another game
    /// found the provider at fault, or the last-resort refund of {expire}), the game is `moot`.
    /// Otherwise the request is Submitted again once no game is open. Never reverts for a
    /// request the game opened a game on. Only the dispute game may call it.
    /// Emits a {ChallengeResolved} event.
    function resolveChallenge(uint256 requestId, bool providerAtFault) external returns (bool moot, uint256 slashed);

    /// @notice When the challenge window of `requestId` ends (0 if it has none).
    function windowEndOf(uint256 requestId) external view returns (uint64);

    /// @notice How many games over `requestId` are open.
    function openGamesOf(uint256 requestId) external view returns (uint256);

    /// @notice Whether a dispute game proved the `Optimistic` result of `requestId` wrong (the
    /// request was then refunded and its provider slashed): the evidence a validator reads.
    function faultProven(uint256 requestId) external view returns (bool);

    /// @notice From when {expire} may refund `requestId` if games over it are still open: the
    /// window's end plus twice a game's longest duration (0 if it has no window).
    function refundableAfter(uint256 requestId) external view returns (uint64);

    /// @notice The dispute game allowed to challenge results (zero until set).
    function disputeGame() external view returns (address);

    /// @notice The claimant reports that the input of `requestId` cannot be run by the model
    /// (`reason` is a code from docs/protocol.md). The request is Failed and the fee credited
    /// back to the requester. Emits {RequestFailed} and {Credited} events.
    function reportInvalidInput(uint256 requestId, RequestParams calldata params, uint16 reason) external;

    /// @notice After its deadline, anyone may end a request that is still Pending or Claimed:
    /// the fee is credited back to the requester and, if a provider claimed it and did not
    /// deliver, the claim penalty is slashed from its reserved stake and credited to the
    /// requester too. As a last resort, anyone may also refund a Challenged request once
    /// {refundableAfter} has passed (its games could not end normally): the provider's
    /// reservation is released without penalty. Emits a {RequestRefunded} event.
    function expire(uint256 requestId, RequestParams calldata params) external;

    /// @notice Pays out everything credited to the caller in `token` (address(0) for ETH).
    /// Emits a {Withdrawn} event.
    function withdraw(address token) external;

    /// @notice What the market stores of `requestId` (status None: no such request).
    function getRequest(uint256 requestId) external view returns (Request memory);

    /// @notice The commitment a request made with `params` stores.
    function commitmentOf(RequestParams calldata params) external pure returns (bytes20);

    function statusOf(uint256 requestId) external view returns (RequestStatus);

    /// @notice The output of a Finalized request (empty otherwise, including while an
    /// `Optimistic` result is still provisional, except to the dispute game).
    function outputOf(uint256 requestId) external view returns (bytes memory);

    /// @notice What `account` can withdraw in `token`.
    function balanceOf(address account, address token) external view returns (uint256);

    /// @notice Fees of open requests held in `token`.
    function escrowed(address token) external view returns (uint256);

    /// @notice Credits not yet withdrawn in `token`.
    function owed(address token) external view returns (uint256);

    function requestCount() external view returns (uint256);

    /// @notice The protocol's share of each fee, in basis points, and where it is credited.
    function protocolFee() external view returns (uint16 bps, address treasury);

    /// @notice What is slashed from a provider that claimed a request and let it expire.
    function claimPenalty() external view returns (uint256);

    /// @notice The model registry requests are priced by.
    function modelRegistry() external view returns (address);

    /// @notice The provider registry claims reserve stake in.
    function providerRegistry() external view returns (address);
}
