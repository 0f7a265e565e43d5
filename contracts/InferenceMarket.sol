// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IDisputeGame} from "./interfaces/IDisputeGame.sol";
import {IInferenceConsumer} from "./interfaces/IInferenceConsumer.sol";
import {IInferenceMarket} from "./interfaces/IInferenceMarket.sol";
import {IModelRegistry} from "./interfaces/IModelRegistry.sol";
import {IProviderRegistry} from "./interfaces/IProviderRegistry.sol";
import {IProofVerifier} from "./interfaces/IProofVerifier.sol";
import {Generation} from "./dispute/Generation.sol";
import {TraceRoot} from "./dispute/TraceRoot.sol";

/// @title InferenceMarket
/// @notice Requests for inference: the fee is escrowed (ETH or the model's ERC-20), a staked
/// provider claims the request and submits the output, and settlement credits provider, model
/// owner and protocol, all paid by pull ({withdraw}). `Attested` results settle at {submit}, or
/// without a claim at {fulfil} and {fulfilBatch} (claim and submission in one call),
/// `Zk` results at {submitWithProof} once the model's verifier accepts the proof, `Optimistic`
/// results at {finalize} once their challenge window has passed and every game over them has
/// ended; the dispute game (set once with {setDisputeGame}) opens any number of games over a
/// result within its window ({openChallenge}) and reports each outcome ({resolveChallenge}).
///
/// Stake: a claim reserves, in the provider registry, what a failure of the job would slash
/// (the claim penalty; for an `Optimistic` job at least the game's slash), and the reservation
/// is released or slashed when the request ends, so the stake behind every open result stays.
///
/// Bytes: outputs of every mode must be the model's canonical output tensor (header and
/// length as registered), and inputs of `Zk` and `Optimistic` requests, which a proof or a game
/// reads, must be inline canonical input tensors, checked when the request is made.
/// @dev Accounting, for every token (address(0) is ETH):
/// `balance(market) == escrowed(token) + owed(token)` where `escrowed` sums the fees of open
/// requests and `owed` sums the credits not withdrawn. Money moves through three hooks only:
/// {_credit} (owed up), {_pullToken} (balance in) and {_payOut} (balance and owed down); stake
/// moves through the registry's {IProviderRegistry-reserve}, `release`, `completeJob` and
/// `failJob`. The provider registry must name this market ({IProviderRegistry-setMarket}).
contract InferenceMarket is IInferenceMarket, Ownable2Step, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice The largest callback gas limit a request may ask for.
    uint32 public constant MAX_CALLBACK_GAS = 2_000_000;
    /// @notice The largest protocol fee, in basis points.
    uint16 public constant MAX_PROTOCOL_FEE_BPS = 1000;
    /// @notice How far ahead a deadline may lie.
    uint256 public constant MAX_DEADLINE_DELAY = 30 days;
    /// @notice Gas kept back before the callback for the CALL itself (cold account access and
    /// the few instructions between the gas check and the call).
    uint256 public constant CALLBACK_GAS_RESERVE = 5000;
    /// @notice The most requests one {fulfilBatch} serves: it bounds the batch's gas.
    uint256 public constant MAX_BATCH = 64;
    uint256 private constant BPS = 10_000;

    /// @dev A request as stored: one slot written by {requestInference}, a second by the first
    /// provider to take it. The fields no later step changes (requester, fee, fee token,
    /// callback, its gas limit, the input's hash) are not stored: `commitment` binds them
    /// ({commitmentOf}) and every call that needs them takes them back as {RequestParams},
    /// read off-chain from {InferenceRequested} (Chainlink's request commitments).
    /// - slot 0: status (8) | mode (8) | deadline (40) | modelId (40) | commitment (160)
    /// - slot 1: provider (160) | reservedStake (96)
    /// `deadline` fits 40 bits because it is at most `MAX_DEADLINE_DELAY` from now (good until
    /// the year 36812); `modelId` and `fee` are range-checked with {SafeCast} / {MarketFeeOverflow}.
    struct StoredRequest {
        RequestStatus status;
        IModelRegistry.VerificationMode mode;
        uint40 deadline;
        uint40 modelId;
        bytes20 commitment;
        address provider;
        uint96 reservedStake;
    }

    /// @dev The provisional part of an `Optimistic` result beside the output: rootsHash, then
    /// windowEnd (40) | openGames (48, nonzero exactly while Challenged) | faultProven (8, set
    /// when a game found the provider at fault) | requester (160), then feeToken (160) | fee (96).
    /// The refund fields are written by {openChallenge} (from the request's checked parameters):
    /// {resolveChallenge} refunds from them, as the game does not hold the parameters.
    struct OptimisticResult {
        bytes32 rootsHash;
        uint40 windowEnd;
        uint48 openGames;
        bool faultProven;
        address requester;
        address feeToken;
        uint96 fee;
    }

    /// @dev What a {fulfilBatch} carries from item to item, in memory: what it read of the
    /// model of the current run of items (loaded once per change of model), the credits summed
    /// per token (one entry per distinct token, at most one per item) and the model owner's
    /// running credit (credited when the owner or the token changes).
    struct Batch {
        uint256 modelId;
        address modelOwner;
        uint16 royaltyBps;
        bool eligibleChecked;
        IModelRegistry.TensorFormat outputFormat;
        uint16 protocolFeeBps;
        TokenTotals[] totals;
        uint256 tokenCount;
        address ownerRunAccount;
        address ownerRunToken;
        uint256 ownerRunAmount;
        uint256 reserved;
        uint256 served;
    }

    /// @dev The sums a {fulfilBatch} moves in one token: out of escrow, to the provider, to
    /// the treasury.
    struct TokenTotals {
        address token;
        uint256 escrow;
        uint256 provider;
        uint256 protocol;
    }

    IModelRegistry private immutable _models;
    IProviderRegistry private immutable _providers;

    mapping(uint256 requestId => StoredRequest) private _requests;
    mapping(uint256 requestId => bytes) private _outputs;
    mapping(uint256 requestId => OptimisticResult) private _optimistic;
    address private _disputeGame;
    // One slot, read at claim and at resolution: the game's slash and its longest duration.
    uint96 private _gameSlash;
    uint40 private _gameDuration;
    mapping(address account => mapping(address token => uint256)) private _balances;
    // ERC-20 escrow; ETH's is `_ethEscrowed`.
    mapping(address token => uint256) private _tokenEscrowed;
    mapping(address token => uint256) private _owed;
    // One slot, read and written by every ETH request: the last id and the ETH in escrow.
    uint64 private _requestCount;
    uint192 private _ethEscrowed;
    uint256 private _claimPenalty;
    // One slot: read together at settlement.
    address private _treasury;
    uint16 private _protocolFeeBps;

    /// @param owner_ may set the protocol fee, the treasury and the claim penalty.
    /// @param modelRegistry_ the {IModelRegistry} that prices requests.
    /// @param providerRegistry_ the {IProviderRegistry} that says who may claim and is slashed.
    /// @param treasury where the protocol fee is credited.
    /// @param protocolFeeBps the protocol's share of each fee, at most `MAX_PROTOCOL_FEE_BPS`.
    /// @param claimPenalty_ ETH slashed from a provider that claims and lets a request expire
    /// (and reserved from its stake at every claim).
    constructor(
        address owner_,
        address modelRegistry_,
        address providerRegistry_,
        address treasury,
        uint16 protocolFeeBps,
        uint256 claimPenalty_
    ) Ownable(owner_) {
        if (modelRegistry_ == address(0) || providerRegistry_ == address(0)) revert MarketZeroAddress();
        _models = IModelRegistry(modelRegistry_);
        _providers = IProviderRegistry(providerRegistry_);
        _setProtocolFee(protocolFeeBps, treasury);
        _setClaimPenalty(claimPenalty_);
    }

    /// @notice Takes the ETH of slashed stake from the provider registry, and nothing else.
    receive() external payable {
        // INVARIANT: ETH enters with a request or as a slash; anything else would break
        // `balance == escrowed + owed`.
        if (msg.sender != address(_providers)) revert MarketUnexpectedEth(msg.sender);
    }

    // ------------------------------------------------------------------------------------------
    // Requests
    // ------------------------------------------------------------------------------------------

    /// @inheritdoc IInferenceMarket
    /// @dev Requirements: the model exists and is not deprecated (the registry's {ModelUnknown}
    /// and {ModelIsDeprecated} bubble up); `input` is not empty; an `Optimistic` model needs the
    /// dispute game set ({MarketModeUnsupported}); a `Zk` or `Optimistic` model needs an inline
    /// envelope ({MarketInputNotInline}) holding exactly the model's canonical input tensor
    /// ({MarketInputMalformed});
    /// `block.timestamp < deadline <= block.timestamp + MAX_DEADLINE_DELAY`;
    /// `callbackGasLimit <= MAX_CALLBACK_GAS`; the model's price is at most `maxFee`. For ETH
    /// models `msg.value == maxFee` and `maxFee - price` is credited back to the caller; for
    /// ERC-20 models `msg.value == 0` and exactly `price` must arrive (approve it first).
    /// Only a commitment to the request's {RequestParams} is stored (`input` by its hash), with
    /// its status, mode, deadline and model. Ids are sequential from 1.
    function requestInference(
        uint256 modelId,
        bytes calldata input,
        uint256 maxFee,
        uint64 deadline,
        address callback,
        uint32 callbackGasLimit
    ) external payable nonReentrant returns (uint256 requestId) {
        // Validate.
        IModelRegistry.ModelTerms memory terms = _models.getActiveTerms(modelId);
        _checkRequest(modelId, terms.mode, input, deadline, callbackGasLimit);
        uint256 price = terms.price;
        // INVARIANT: the requester never pays more than it agreed to.
        if (price > maxFee) revert MarketFeeTooHigh(price, maxFee);
        if (price > type(uint96).max) revert MarketFeeOverflow(price);
        if (terms.feeToken == address(0)) {
            if (msg.value != maxFee) revert MarketWrongValue(msg.value, maxFee);
        } else if (msg.value != 0) {
            revert MarketWrongValue(msg.value, 0);
        }
        RequestParams memory params = RequestParams({
            requester: msg.sender,
            feeToken: terms.feeToken,
            fee: uint96(price), // fits: checked above
            callback: callback,
            callbackGasLimit: callbackGasLimit,
            inputHash: keccak256(input)
        });

        // Effect: one slot; everything no step changes is committed to, not stored.
        unchecked {
            // Cannot overflow 64 bits: one id per call.
            requestId = ++_requestCount;
        }
        _storeNewRequest(requestId, terms.mode, deadline, modelId, _commit(params));
        _addEscrow(params.feeToken, price);

        // Emit.
        emit InferenceRequested(
            requestId,
            modelId,
            msg.sender,
            input,
            params.feeToken,
            price,
            deadline,
            callback,
            callbackGasLimit
        );

        // Account.
        if (params.feeToken == address(0)) {
            unchecked {
                // Cannot underflow: price <= maxFee checked above.
                _credit(msg.sender, address(0), maxFee - price);
            }
        } else {
            _pullToken(params.feeToken, msg.sender, price);
        }
    }

    /// @inheritdoc IInferenceMarket
    /// @dev Requirements: the request is Pending and its deadline has not passed; the caller is
    /// eligible on the provider registry for the request's model and its free stake covers the
    /// job's reservation ({reservationOf}; the registry's {IProviderRegistry-ProviderNotEligible}
    /// and {IProviderRegistry-ProviderInsufficientFreeStake} bubble up).
    function claim(uint256 requestId) external {
        StoredRequest storage r = _requests[requestId];
        RequestStatus status = r.status;
        // INVARIANT: one provider at a time holds a request.
        if (status != RequestStatus.Pending) _revertWrongStatus(requestId, status);
        uint40 deadline = r.deadline;
        if (block.timestamp > deadline) revert MarketDeadlinePassed(requestId, deadline);
        uint96 reservation = _reservation(r.mode);

        r.provider = msg.sender;
        r.status = RequestStatus.Claimed;
        r.reservedStake = reservation;
        emit RequestClaimed(requestId, msg.sender);

        // INVARIANT: only staked providers serving the model claim, and every open job is backed
        // by stake of its own that cannot leave until the job ends (trusted registry).
        _providers.reserve(msg.sender, r.modelId, reservation);
    }

    /// @inheritdoc IInferenceMarket
    /// @dev Requirements: the caller holds the claim and the deadline has not passed (after
    /// it, the request can only expire, with the claim penalty).
    function release(uint256 requestId) external {
        StoredRequest storage r = _requests[requestId];
        _checkClaimant(requestId, r);
        uint256 reserved = r.reservedStake;
        r.provider = address(0);
        r.status = RequestStatus.Pending;
        r.reservedStake = 0;
        emit RequestReleased(requestId, msg.sender);
        _providers.release(msg.sender, reserved);
    }

    /// @inheritdoc IInferenceMarket
    /// @dev Requirements: the model is `Attested`; the caller holds the claim and the deadline has
    /// not passed; `output` is the model's canonical output tensor ({MarketOutputMalformed}). The fee is
    /// split into `royalty = fee * royaltyBps / 10000` (model owner), `protocolFee = fee *
    /// protocolFeeBps / 10000` (treasury, at the current rate) and the rest (provider), so the
    /// three sum to the fee exactly and rounding favours the provider. If the request has a
    /// callback and the transaction does not carry enough gas to give it its full
    /// `callbackGasLimit`, the call reverts with {MarketInsufficientGasForCallback}; a callback
    /// that reverts or runs out of gas does not undo settlement. Not guarded against reentrancy:
    /// all state is settled before the callback, which may itself make requests or withdraw.
    /// Emits {ResultSubmitted}, {RequestFinalized}, {Credited} and, with a callback, {CallbackResult}.
    function submit(uint256 requestId, RequestParams calldata params, bytes calldata output) external {
        StoredRequest storage r = _requests[requestId];
        uint256 modelId = _checkClaimant(requestId, r);
        _checkMode(requestId, r, IModelRegistry.VerificationMode.Attested);
        _checkParams(requestId, r, params);
        _checkOutput(requestId, modelId, output);
        _submitFinal(requestId, modelId, r, params, output);
    }

    /// @inheritdoc IInferenceMarket
    /// @dev Requirements: the request is Pending, or Claimed by the caller (then this is
    /// {submit}); its deadline has not passed; the model is `Attested`; a caller of a Pending
    /// request is eligible on the provider registry for its model (staked at the minimum and
    /// opted in: {MarketProviderNotEligible}); `output` is the model's canonical output tensor.
    /// Nothing is reserved (the job opens and ends in this call), so free stake is not needed
    /// beyond the registry's minimum. Settlement is that of {submit}. Guarded against
    /// reentrancy: the callback cannot re-enter the market's guarded functions (requests,
    /// fulfilments, expiries, withdrawals); all state is settled before it runs.
    /// Emits {ResultSubmitted}, {RequestFinalized}, {Credited}, the registry's {JobRecorded}
    /// and, with a callback, {CallbackResult}.
    function fulfil(uint256 requestId, RequestParams calldata params, bytes calldata output) external nonReentrant {
        StoredRequest storage r = _requests[requestId];
        _openToCaller(requestId, r, true);
        _checkMode(requestId, r, IModelRegistry.VerificationMode.Attested);
        _checkParams(requestId, r, params);
        uint256 modelId = r.modelId;
        if (r.status == RequestStatus.Pending) {
            _checkEligible(requestId, modelId);
            r.provider = msg.sender;
        }
        _checkOutput(requestId, modelId, output);
        _submitFinal(requestId, modelId, r, params, output);
    }

    /// @inheritdoc IInferenceMarket
    /// @dev Requirements: `1 <= requestIds.length == params.length == outputs.length <=
    /// MAX_BATCH`; every item
    /// that is open to the caller (as in {fulfil}; others are skipped) is of an `Attested` model
    /// ({MarketWrongMode}) with its own parameters ({MarketRequestParamsMismatch}) and a canonical output ({MarketOutputMalformed}), and the caller is
    /// eligible for the model of every Pending item; an unknown id reverts
    /// ({MarketRequestUnknown}). Order: every item's state (status, output, provider) and every
    /// credit and escrow change first, then the registry (one {IProviderRegistry-completeJobs}
    /// for the whole batch: the reservations of the items the caller had claimed, and the count
    /// served), then the callbacks in item order, each with its own gas limit (the call reverts
    /// with {MarketInsufficientGasForCallback} if one cannot get it), so `balance == escrowed +
    /// owed` holds whenever a consumer runs. Credits are summed: the provider and the treasury
    /// once per token, the model owner once per run of consecutive items with the same owner
    /// and token; each item's split is that of {submit} (reported per item by
    /// {RequestFinalized}), so the sums equal the per-item sums exactly. Guarded against reentrancy.
    function fulfilBatch(
        uint256[] calldata requestIds,
        RequestParams[] calldata params,
        bytes[] calldata outputs
    ) external nonReentrant returns (uint256 served) {
        uint256 count = requestIds.length;
        if (count != outputs.length) revert MarketBatchLengthMismatch(count, outputs.length);
        if (count != params.length) revert MarketBatchLengthMismatch(count, params.length);
        // INVARIANT: a batch's gas is bounded, whoever fills it.
        if (count == 0 || count > MAX_BATCH) revert MarketBatchSizeInvalid(count, MAX_BATCH);
        Batch memory b;
        b.protocolFeeBps = _protocolFeeBps;
        b.totals = new TokenTotals[](count);
        bool[] memory settled = new bool[](count);

        // Effect and emit: every item, before anything is called.
        for (uint256 i; i < count; ++i) {
            settled[i] = _fulfilItem(b, requestIds[i], params[i], outputs[i]);
        }
        served = b.served;
        if (served == 0) return 0;

        // Account: one credit per party and token.
        _credit(b.ownerRunAccount, b.ownerRunToken, b.ownerRunAmount);
        address treasury = _treasury;
        for (uint256 t; t < b.tokenCount; ++t) {
            TokenTotals memory totals = b.totals[t];
            _releaseEscrow(totals.token, totals.escrow);
            _credit(msg.sender, totals.token, totals.provider);
            _credit(treasury, totals.token, totals.protocol);
        }

        // Interact: the registry (trusted), then each consumer with its own gas limit.
        _providers.completeJobs(msg.sender, b.reserved, served);
        for (uint256 i; i < count; ++i) {
            if (!settled[i]) continue;
            RequestParams calldata p = params[i];
            if (p.callback != address(0)) _callBack(requestIds[i], p.callback, p.callbackGasLimit, outputs[i]);
        }
    }

    /// @inheritdoc IInferenceMarket
    /// @dev Requirements: the model is `Zk`; the caller holds the claim and the deadline has not
    /// passed; `params` are the request's own; `keccak256(input)` is its `inputHash` (`input` is the request's inline
    /// envelope; the verifier gets the tensor after its kind byte); `output` is the model's
    /// canonical output tensor; the model's verifier returns true (a false reverts with
    /// {MarketProofInvalid}, a revert of the verifier bubbles up). A proof binds model, input
    /// and output, not the request: the same proof settles any request for the same input with
    /// the same (correct) output, which is harmless. Settlement and callback are those of {submit}.
    function submitWithProof(
        uint256 requestId,
        RequestParams calldata params,
        bytes calldata input,
        bytes calldata output,
        bytes calldata proof
    ) external {
        StoredRequest storage r = _requests[requestId];
        uint256 modelId = _checkClaimant(requestId, r);
        _checkMode(requestId, r, IModelRegistry.VerificationMode.Zk);
        _checkParams(requestId, r, params);
        bytes32 inputHash = params.inputHash;
        // INVARIANT: the proof is about the input the requester paid for.
        if (keccak256(input) != inputHash) revert MarketInputMismatch(requestId, inputHash);
        _checkOutput(requestId, modelId, output);
        address verifier = _models.verificationOf(modelId).verifier;
        // INVARIANT: a Zk result is final only if its proof verifies (the input was checked to be
        // an inline canonical tensor at request, so `input[1:]` is that tensor).
        if (!IProofVerifier(verifier).verify(input[1:], output, proof)) revert MarketProofInvalid(requestId);
        _submitFinal(requestId, modelId, r, params, output);
    }

    /// @inheritdoc IInferenceMarket
    /// @dev Requirements: the model is `Optimistic`; the caller holds the claim and the deadline
    /// has not passed; `output` is the model's canonical output tensor, header included
    /// ({MarketOutputMalformed}), and `layerRoots` has one root per layer of the model, the
    /// last being the chunked Merkle root of `output`'s element bytes: every byte a consumer
    /// will read is thus either registered (the header) or disputable (the elements). The roots are stored as
    /// `keccak256(abi.encodePacked(layerRoots))` and emitted; the window ends
    /// `challengeWindow` seconds from now.
    function submitOptimistic(uint256 requestId, bytes calldata output, bytes32[] calldata layerRoots) external {
        StoredRequest storage r = _requests[requestId];
        uint256 modelId = _checkClaimant(requestId, r);
        _checkMode(requestId, r, IModelRegistry.VerificationMode.Optimistic);
        uint40 windowEnd = _checkTrace(requestId, modelId, output, layerRoots);

        // Effect and emit.
        r.status = RequestStatus.Submitted;
        _outputs[requestId] = output;
        OptimisticResult storage o = _optimistic[requestId];
        o.rootsHash = keccak256(abi.encodePacked(layerRoots));
        o.windowEnd = windowEnd;
        emit ResultSubmitted(requestId, msg.sender, output);
        emit OptimisticResultSubmitted(requestId, msg.sender, layerRoots, windowEnd);
    }

    /// @inheritdoc IInferenceMarket
    /// @dev Requirements: the request is Submitted (no game open), `block.timestamp >=
    /// windowEnd` and `params` are the request's own. Settlement and callback are those of {submit}, for the provider that
    /// submitted, whose reservation is released; the caller must carry enough gas for the
    /// callback. Emits {RequestFinalized}, {Credited} and, with a callback, {CallbackResult} events.
    function finalize(uint256 requestId, RequestParams calldata params) external {
        StoredRequest storage r = _requests[requestId];
        RequestStatus status = r.status;
        // INVARIANT: a result settles once, and never while a game plays it.
        if (status != RequestStatus.Submitted) _revertWrongStatus(requestId, status);
        uint40 windowEnd = _optimistic[requestId].windowEnd;
        // INVARIANT: every watcher gets the whole window to challenge.
        if (block.timestamp < windowEnd) revert MarketWindowOpen(requestId, windowEnd);
        _checkParams(requestId, r, params);
        r.status = RequestStatus.Finalized;
        address provider = r.provider;
        _settle(requestId, r.modelId, provider, params.feeToken, params.fee);
        _providers.completeJob(provider, r.reservedStake);
        if (params.callback != address(0)) _callBackStored(requestId, params.callback, params.callbackGasLimit);
    }

    /// @inheritdoc IInferenceMarket
    /// @dev Requirements: the caller is the dispute game; the request is Submitted or
    /// Challenged, its window has not ended and `params` are its own (the game checks its
    /// input against `params.inputHash`); the refund a proven fault makes is kept from them. Games do not freeze or extend the window: each
    /// watcher opens its own game within it, whatever others have opened, and every game ends
    /// within the game's longest duration, so an honest result finalizes by
    /// `windowEnd + maxDuration` however many games are opened against it.
    function openChallenge(
        uint256 requestId,
        RequestParams calldata params
    ) external returns (address provider, uint256 modelId, bytes32 rootsHash) {
        _onlyDisputeGame();
        StoredRequest storage r = _requests[requestId];
        RequestStatus status = r.status;
        // INVARIANT: games are opened only against a provisional result.
        if (status != RequestStatus.Submitted && status != RequestStatus.Challenged) {
            _revertWrongStatus(requestId, status);
        }
        OptimisticResult storage o = _optimistic[requestId];
        uint40 windowEnd = o.windowEnd;
        // INVARIANT: no game starts after the window, so every game ends by windowEnd + maxDuration.
        if (block.timestamp >= windowEnd) revert MarketWindowClosed(requestId, windowEnd);
        _checkParams(requestId, r, params);
        uint48 openGames = o.openGames + 1;
        o.openGames = openGames;
        if (openGames == 1) {
            o.requester = params.requester;
            o.feeToken = params.feeToken;
            o.fee = params.fee;
        }
        r.status = RequestStatus.Challenged;
        emit ResultChallenged(requestId, msg.sender, openGames);
        return (r.provider, r.modelId, o.rootsHash);
    }

    /// @inheritdoc IInferenceMarket
    /// @dev Requirements: the caller is the dispute game and a game it opened over the request
    /// is open. Never reverts otherwise: the registry's `failJob` takes at most the stake the
    /// request reserved (always there, as reserved stake cannot leave) and sends it to the game,
    /// which accepts ETH from the registry; the registry names this market for good.
    /// Emits {ChallengeResolved} and, if the provider is at fault, {RequestRefunded} and
    /// {Credited} events.
    function resolveChallenge(
        uint256 requestId,
        bool providerAtFault
    ) external nonReentrant returns (bool moot, uint256 slashed) {
        _onlyDisputeGame();
        StoredRequest storage r = _requests[requestId];
        OptimisticResult storage o = _optimistic[requestId];
        uint48 openGames = o.openGames;
        // INVARIANT: each game resolves once, and only a game that was opened.
        if (openGames == 0) _revertWrongStatus(requestId, r.status);
        unchecked {
            // Cannot underflow: checked just above.
            --openGames;
        }
        o.openGames = openGames;
        RequestStatus status = r.status;
        if (status == RequestStatus.Refunded) {
            // Another game already found the provider at fault, or {expire} refunded it.
            emit ChallengeResolved(requestId, false, openGames);
            return (true, 0);
        }
        if (!providerAtFault) {
            // The result stands; it may finalize once its window has passed and no game is open.
            if (openGames == 0) r.status = RequestStatus.Submitted;
            emit ChallengeResolved(requestId, false, openGames);
            return (false, 0);
        }

        // Effect: the request is refunded and its output dropped; later games over it are moot.
        r.status = RequestStatus.Refunded;
        o.faultProven = true;
        delete _outputs[requestId];
        uint256 fee = o.fee;
        address token = o.feeToken;
        address provider = r.provider;
        uint256 reserved = r.reservedStake;
        slashed = _gameSlash;
        _releaseEscrow(token, fee);
        emit ChallengeResolved(requestId, true, openGames);
        emit RequestRefunded(requestId, fee, 0);
        _credit(o.requester, token, fee);

        // Interact (trusted registry): the slash comes out of the reservation, sent to the game.
        _providers.failJob(provider, reserved, slashed, msg.sender);
    }

    /// @inheritdoc IInferenceMarket
    /// @dev Requirements: the caller holds the claim, the deadline has not passed and `params`
    /// are the request's own. Not counted against the provider; its reservation is released.
    function reportInvalidInput(uint256 requestId, RequestParams calldata params, uint16 reason) external {
        StoredRequest storage r = _requests[requestId];
        _checkClaimant(requestId, r);
        _checkParams(requestId, r, params);
        r.status = RequestStatus.Failed;
        uint256 fee = params.fee;
        address token = params.feeToken;
        _releaseEscrow(token, fee);
        emit RequestFailed(requestId, msg.sender, reason);
        _credit(params.requester, token, fee);
        _providers.release(msg.sender, r.reservedStake);
    }

    /// @inheritdoc IInferenceMarket
    /// @dev Requirements: the request is Pending or Claimed and `block.timestamp > deadline`, or
    /// Challenged and `block.timestamp > refundableAfter(requestId)` (else
    /// {MarketGamesStillRunning}); `params` are the request's own. The penalty of a Claimed request is the current claim
    /// penalty, at most what the claim reserved; it is what {RequestRefunded} reports and what
    /// the requester is credited in ETH. A claimed request also counts as a failed job of its
    /// provider. A Challenged request's games are later resolved as moot (bonds returned).
    function expire(uint256 requestId, RequestParams calldata params) external nonReentrant {
        StoredRequest storage r = _requests[requestId];
        RequestStatus status = r.status;
        if (status == RequestStatus.Challenged) {
            _checkParams(requestId, r, params);
            _refundStuck(requestId, r, params);
            return;
        }
        // INVARIANT: only open requests are refunded, once.
        if (status != RequestStatus.Pending && status != RequestStatus.Claimed) _revertWrongStatus(requestId, status);
        uint40 deadline = r.deadline;
        // INVARIANT: the provider keeps its full time to deliver.
        if (block.timestamp <= deadline) revert MarketDeadlineNotPassed(requestId, deadline);
        _checkParams(requestId, r, params);

        // Effect.
        r.status = RequestStatus.Refunded;
        uint256 fee = params.fee;
        address token = params.feeToken;
        address requester = params.requester;
        _releaseEscrow(token, fee);

        // Interact (trusted registry): take the penalty out of the reservation; its ETH arrives
        // through {receive}.
        uint256 penalty;
        if (status == RequestStatus.Claimed) {
            uint256 reserved = r.reservedStake;
            penalty = _claimPenalty < reserved ? _claimPenalty : reserved;
            _providers.failJob(r.provider, reserved, penalty, address(this));
        }

        // Emit and account.
        emit RequestRefunded(requestId, fee, penalty);
        _credit(requester, token, fee);
        _credit(requester, address(0), penalty);
    }

    /// @inheritdoc IInferenceMarket
    /// @dev Requirements: the caller has something to withdraw in `token`. The credit is zeroed
    /// before the transfer. ETH is sent with all the gas left; a recipient that reverts makes
    /// the call revert with {MarketTransferFailed} and keeps its credit.
    function withdraw(address token) external nonReentrant {
        uint256 amount = _balances[msg.sender][token];
        if (amount == 0) revert MarketNothingToWithdraw(msg.sender, token);
        _balances[msg.sender][token] = 0;
        _owed[token] -= amount;
        emit Withdrawn(msg.sender, token, amount);
        _payOut(msg.sender, token, amount);
    }

    // ------------------------------------------------------------------------------------------
    // Owner
    // ------------------------------------------------------------------------------------------

    /// @notice Sets the protocol's share of each fee and where it is credited. Applies to every
    /// settlement from now on, including requests already open.
    /// @dev Requirements: the caller is the owner; `bps <= MAX_PROTOCOL_FEE_BPS`; `treasury` is
    /// not zero. Emits a {ProtocolFeeUpdated} event.
    function setProtocolFee(uint16 bps, address treasury) external onlyOwner {
        _setProtocolFee(bps, treasury);
    }

    /// @notice Sets the dispute game that may challenge `Optimistic` results, and reads its
    /// slash (reserved at every Optimistic claim) and its longest game (which bounds
    /// {refundableAfter}). Set once: a game replaced while it plays would leave its requests
    /// Challenged, and a changed slash would not match the stake reserved for open jobs.
    /// @dev Requirements: the caller is the owner; no game set yet; `game` is not zero; its
    /// slash fits the 96 bits a request reserves ({MarketPenaltyTooHigh}).
    /// Emits a {DisputeGameSet} event.
    function setDisputeGame(address game) external onlyOwner {
        if (game == address(0)) revert MarketZeroAddress();
        if (_disputeGame != address(0)) revert MarketDisputeGameAlreadySet(_disputeGame);
        uint256 slash = IDisputeGame(game).slashAmount();
        if (slash > type(uint96).max) revert MarketPenaltyTooHigh(slash, type(uint96).max);
        _disputeGame = game;
        _gameSlash = uint96(slash);
        _gameDuration = SafeCast.toUint40(IDisputeGame(game).maxDuration());
        emit DisputeGameSet(game);
    }

    /// @notice Sets the ETH slashed from a provider that claims a request and lets it expire.
    /// Claims from now on reserve it; an expiry takes the current penalty, at most what its
    /// claim reserved (so a raise cannot take more than a provider agreed to back).
    /// @dev Requirements: the caller is the owner; `penalty < 2^96` ({MarketPenaltyTooHigh}).
    /// Emits a {ClaimPenaltyUpdated} event.
    function setClaimPenalty(uint256 penalty) external onlyOwner {
        _setClaimPenalty(penalty);
    }

    // ------------------------------------------------------------------------------------------
    // Views
    // ------------------------------------------------------------------------------------------

    /// @inheritdoc IInferenceMarket
    function getRequest(uint256 requestId) external view returns (Request memory) {
        StoredRequest storage r = _requests[requestId];
        return
            Request({
                status: r.status,
                mode: r.mode,
                deadline: r.deadline,
                modelId: r.modelId,
                provider: r.provider,
                reservedStake: _isOpenJob(r.status) ? r.reservedStake : 0,
                commitment: r.commitment
            });
    }

    /// @inheritdoc IInferenceMarket
    function commitmentOf(RequestParams calldata params) external pure returns (bytes20) {
        return _commit(params);
    }

    /// @inheritdoc IInferenceMarket
    function statusOf(uint256 requestId) external view returns (RequestStatus) {
        return _requests[requestId].status;
    }

    /// @inheritdoc IInferenceMarket
    function outputOf(uint256 requestId) external view returns (bytes memory) {
        // The dispute game also reads a provisional output: it binds a decoder's output ids to
        // the argmax layers of the trace under dispute (IDisputeGame.challengeOutput).
        if (_requests[requestId].status != RequestStatus.Finalized && msg.sender != _disputeGame) return "";
        return _outputs[requestId];
    }

    /// @inheritdoc IInferenceMarket
    function windowEndOf(uint256 requestId) external view returns (uint64) {
        return _optimistic[requestId].windowEnd;
    }

    /// @inheritdoc IInferenceMarket
    function faultProven(uint256 requestId) external view returns (bool) {
        return _optimistic[requestId].faultProven;
    }

    /// @inheritdoc IInferenceMarket
    function openGamesOf(uint256 requestId) external view returns (uint256) {
        return _optimistic[requestId].openGames;
    }

    /// @inheritdoc IInferenceMarket
    function refundableAfter(uint256 requestId) external view returns (uint64) {
        return _refundableAfter(_optimistic[requestId].windowEnd);
    }

    /// @notice The stake a claim of a request in `mode` reserves now: the claim penalty, and
    /// for `Optimistic` at least the dispute game's slash.
    function reservationOf(IModelRegistry.VerificationMode mode) external view returns (uint256) {
        return _reservation(mode);
    }

    /// @inheritdoc IInferenceMarket
    function disputeGame() external view returns (address) {
        return _disputeGame;
    }

    /// @inheritdoc IInferenceMarket
    function balanceOf(address account, address token) external view returns (uint256) {
        return _balances[account][token];
    }

    /// @inheritdoc IInferenceMarket
    function escrowed(address token) external view returns (uint256) {
        return token == address(0) ? _ethEscrowed : _tokenEscrowed[token];
    }

    /// @inheritdoc IInferenceMarket
    function owed(address token) external view returns (uint256) {
        return _owed[token];
    }

    /// @inheritdoc IInferenceMarket
    function requestCount() external view returns (uint256) {
        return _requestCount;
    }

    /// @inheritdoc IInferenceMarket
    function protocolFee() external view returns (uint16 bps, address treasury) {
        return (_protocolFeeBps, _treasury);
    }

    /// @inheritdoc IInferenceMarket
    function claimPenalty() external view returns (uint256) {
        return _claimPenalty;
    }

    /// @inheritdoc IInferenceMarket
    function modelRegistry() external view returns (address) {
        return address(_models);
    }

    /// @inheritdoc IInferenceMarket
    function providerRegistry() external view returns (address) {
        return address(_providers);
    }

    // ------------------------------------------------------------------------------------------
    // Internal
    // ------------------------------------------------------------------------------------------

    /// @dev Checks that `r` is Claimed by the caller and before its deadline; returns its model id.
    function _checkClaimant(uint256 requestId, StoredRequest storage r) private view returns (uint256 modelId) {
        RequestStatus status = r.status;
        if (status != RequestStatus.Claimed) _revertWrongStatus(requestId, status);
        // INVARIANT: only the claimant acts on a claimed request.
        if (r.provider != msg.sender) revert MarketNotProvider(requestId, msg.sender);
        uint40 deadline = r.deadline;
        // INVARIANT: after the deadline a claimed request can only expire (with the penalty).
        if (block.timestamp > deadline) revert MarketDeadlinePassed(requestId, deadline);
        return r.modelId;
    }

    /// @dev Whether request `r` is open to a fulfilment by the caller: Pending, or Claimed by
    /// the caller, and its deadline not passed. If not, reverts as {claim} or {submit} would
    /// when `strict`, else emits {FulfilSkipped} and returns false. An unknown id always reverts:
    /// it is the caller's bug, not a race.
    function _openToCaller(uint256 requestId, StoredRequest storage r, bool strict) private returns (bool) {
        RequestStatus status = r.status;
        // INVARIANT: one provider at a time holds a request.
        if (status == RequestStatus.Claimed && r.provider != msg.sender) {
            if (strict) revert MarketNotProvider(requestId, msg.sender);
            return _skip(requestId, FulfilSkipReason.ClaimedByOther);
        }
        // INVARIANT: a request settles once.
        if (status != RequestStatus.Pending && status != RequestStatus.Claimed) {
            if (strict || status == RequestStatus.None) _revertWrongStatus(requestId, status);
            return _skip(requestId, FulfilSkipReason.NotOpen);
        }
        uint40 deadline = r.deadline;
        // INVARIANT: after the deadline a request can only expire.
        if (block.timestamp > deadline) {
            if (strict) revert MarketDeadlinePassed(requestId, deadline);
            return _skip(requestId, FulfilSkipReason.DeadlinePassed);
        }
        return true;
    }

    /// @dev Emits a {FulfilSkipped} event; returns false (the item is not served).
    function _skip(uint256 requestId, FulfilSkipReason reason) private returns (bool) {
        emit FulfilSkipped(requestId, msg.sender, reason);
        return false;
    }

    /// @dev Reverts with {MarketProviderNotEligible} unless the caller is staked and serves `modelId`.
    function _checkEligible(uint256 requestId, uint256 modelId) private view {
        // INVARIANT: only staked providers serving the model serve it, claim or no claim.
        if (!_providers.isEligible(msg.sender, modelId)) {
            revert MarketProviderNotEligible(requestId, msg.sender, modelId);
        }
    }

    /// @dev One item of a {fulfilBatch}: if open to the caller, checks it, finalizes it, stores
    /// its output and adds its split to the batch's sums (no credit, no call yet); returns
    /// whether it was served. Emits {FulfilSkipped}, or {ResultSubmitted} and {RequestFinalized}.
    function _fulfilItem(
        Batch memory b,
        uint256 requestId,
        RequestParams calldata params,
        bytes calldata output
    ) private returns (bool) {
        StoredRequest storage r = _requests[requestId];
        if (!_openToCaller(requestId, r, false)) return false;
        _checkMode(requestId, r, IModelRegistry.VerificationMode.Attested);
        _checkParams(requestId, r, params);
        uint256 modelId = r.modelId;
        if (modelId != b.modelId) {
            // Model ids start at 1, so the first item always loads.
            b.modelId = modelId;
            (b.modelOwner, b.royaltyBps) = _models.royaltyInfo(modelId);
            b.outputFormat = _models.outputFormatOf(modelId);
            b.eligibleChecked = false;
        }
        if (r.status == RequestStatus.Claimed) {
            b.reserved += r.reservedStake;
        } else {
            if (!b.eligibleChecked) {
                _checkEligible(requestId, modelId);
                b.eligibleChecked = true;
            }
            r.provider = msg.sender;
        }
        _checkOutputFormat(requestId, b.outputFormat, output);

        // Effect and emit.
        r.status = RequestStatus.Finalized;
        _outputs[requestId] = output;
        emit ResultSubmitted(requestId, msg.sender, output);
        uint256 fee = params.fee;
        address token = params.feeToken;
        (uint256 providerFee, uint256 royalty, uint256 protocolFee_) = _split(fee, b.royaltyBps, b.protocolFeeBps);
        emit RequestFinalized(requestId, providerFee, royalty, protocolFee_);
        _addToTotals(b, token, fee, providerFee, protocolFee_);
        if (b.modelOwner != b.ownerRunAccount || token != b.ownerRunToken) {
            // A new run: the last one's royalties are credited now (state only, nothing called).
            _credit(b.ownerRunAccount, b.ownerRunToken, b.ownerRunAmount);
            b.ownerRunAccount = b.modelOwner;
            b.ownerRunToken = token;
            b.ownerRunAmount = 0;
        }
        b.ownerRunAmount += royalty;
        unchecked {
            // Cannot overflow: at most MAX_BATCH items.
            ++b.served;
        }
        return true;
    }

    /// @dev Adds one item's escrow release, provider fee and protocol fee to the batch's sums in
    /// `token` (a linear search over the distinct tokens seen, at most `MAX_BATCH`).
    function _addToTotals(
        Batch memory b,
        address token,
        uint256 fee,
        uint256 providerFee,
        uint256 protocolFee_
    ) private pure {
        uint256 t;
        while (t < b.tokenCount && b.totals[t].token != token) ++t;
        if (t == b.tokenCount) {
            b.totals[t].token = token;
            ++b.tokenCount;
        }
        TokenTotals memory totals = b.totals[t];
        totals.escrow += fee;
        totals.provider += providerFee;
        totals.protocol += protocolFee_;
    }

    /// @dev Finalizes an `Attested` or `Zk` result submitted by the caller: stores the output,
    /// settles and calls back. Emits {ResultSubmitted}, {RequestFinalized}, {Credited} and, with
    /// a callback, {CallbackResult} events.
    function _submitFinal(
        uint256 requestId,
        uint256 modelId,
        StoredRequest storage r,
        RequestParams calldata params,
        bytes calldata output
    ) private {
        // Effect and emit.
        r.status = RequestStatus.Finalized;
        _outputs[requestId] = output;
        emit ResultSubmitted(requestId, msg.sender, output);

        // Account.
        _settle(requestId, modelId, msg.sender, params.feeToken, params.fee);

        // Interact.
        _providers.completeJob(msg.sender, r.reservedStake);
        if (params.callback != address(0)) _callBack(requestId, params.callback, params.callbackGasLimit, output);
    }

    /// @dev Writes slot 0 of a new (Pending) request in one SSTORE, without reading it first:
    /// the packing of {StoredRequest} (status at bit 0, mode 8, deadline 16, modelId 56,
    /// commitment 96). The request tests read every field back through {getRequest}.
    function _storeNewRequest(
        uint256 requestId,
        IModelRegistry.VerificationMode mode,
        uint64 deadline,
        uint256 modelId,
        bytes20 commitment
    ) private {
        StoredRequest storage r = _requests[requestId];
        uint256 word =
            uint256(uint8(RequestStatus.Pending)) |
                (uint256(uint8(mode)) << 8) |
                (uint256(uint40(deadline)) << 16) | // fits: at most MAX_DEADLINE_DELAY from now
                (uint256(SafeCast.toUint40(modelId)) << 56) |
                (uint256(uint160(commitment)) << 96);
        assembly ("memory-safe") {
            sstore(r.slot, word)
        }
    }

    /// @dev Reverts with {MarketRequestParamsMismatch} unless `params` are those `r` was made with.
    function _checkParams(uint256 requestId, StoredRequest storage r, RequestParams calldata params) private view {
        // INVARIANT: settlement, refunds and games read only what the requester committed to.
        if (_commit(params) != r.commitment) revert MarketRequestParamsMismatch(requestId);
    }

    /// @dev The stored commitment to a request's fixed fields: 160 bits of their keccak (finding
    /// two parameter sets with one commitment takes about 2^80 hashes).
    function _commit(RequestParams memory params) private pure returns (bytes20) {
        return bytes20(keccak256(abi.encode(params)));
    }

    /// @dev Reverts unless request `r` is for a model of verification mode `mode`.
    function _checkMode(uint256 requestId, StoredRequest storage r, IModelRegistry.VerificationMode mode) private view {
        IModelRegistry.VerificationMode actual = r.mode;
        // INVARIANT: each mode settles through its own path only.
        if (actual != mode) revert MarketWrongMode(requestId, uint8(actual));
    }

    /// @dev The checks of {requestInference} that do not depend on the fee.
    function _checkRequest(
        uint256 modelId,
        IModelRegistry.VerificationMode mode,
        bytes calldata input,
        uint64 deadline,
        uint32 callbackGasLimit
    ) private view {
        if (input.length == 0) revert MarketEmptyInput();
        if (mode != IModelRegistry.VerificationMode.Attested) {
            // INVARIANT: an Optimistic result is only as good as the game that can dispute it.
            if (mode == IModelRegistry.VerificationMode.Optimistic && _disputeGame == address(0)) {
                revert MarketModeUnsupported(modelId);
            }
            _checkInput(modelId, input);
        }
        // INVARIANT: a request can be served (deadline ahead) and can be refunded within a bounded time.
        if (deadline <= block.timestamp || deadline > block.timestamp + MAX_DEADLINE_DELAY) {
            revert MarketDeadlineInvalid(deadline);
        }
        // INVARIANT: a consumer cannot make settlement cost more than a bounded amount of gas.
        if (callbackGasLimit > MAX_CALLBACK_GAS) revert MarketCallbackGasTooHigh(callbackGasLimit, MAX_CALLBACK_GAS);
    }

    /// @dev Reverts with {MarketInputNotInline} or {MarketInputMalformed} unless `input` is an
    /// inline envelope (kind 0x00) holding exactly model `modelId`'s canonical input tensor.
    function _checkInput(uint256 modelId, bytes calldata input) private view {
        // INVARIANT: the proof or the game reads this input, so it is inline (never a content
        // id, which no proof or step could open) and canonical for the model's registered
        // dtype and shape: nothing a game recomputes can be malformed.
        if (input[0] != 0x00) revert MarketInputNotInline(modelId);
        IModelRegistry.TensorFormat memory f = _models.inputFormatOf(modelId);
        bytes calldata tensor = input[1:];
        if (tensor.length != f.byteLength || keccak256(tensor[:f.headerLength]) != f.headerHash) {
            revert MarketInputMalformed(modelId, tensor.length, f.byteLength);
        }
    }

    /// @dev Reverts with {MarketOutputMalformed} unless `output` is model `modelId`'s canonical
    /// output tensor; returns its header's length.
    function _checkOutput(
        uint256 requestId,
        uint256 modelId,
        bytes calldata output
    ) private view returns (uint256 headerLength) {
        IModelRegistry.TensorFormat memory f = _models.outputFormatOf(modelId);
        _checkOutputFormat(requestId, f, output);
        return f.headerLength;
    }

    /// @dev Reverts with {MarketOutputMalformed} unless `output` is a tensor of format `f`.
    function _checkOutputFormat(
        uint256 requestId,
        IModelRegistry.TensorFormat memory f,
        bytes calldata output
    ) private pure {
        // INVARIANT: a consumer reads the registered header and exactly the registered number of
        // elements, never bytes that nothing binds.
        if (output.length != f.byteLength || keccak256(output[:f.headerLength]) != f.headerHash) {
            revert MarketOutputMalformed(requestId, output.length, f.byteLength);
        }
    }

    /// @dev Checks an Optimistic submission: `output` is canonical and `layerRoots` has one root
    /// per layer, the last committing `output`'s elements; for a decoder (int32 `[1, P_max]`
    /// input), one pass root per pass, `N ≤ T ≤ P_max + N − 1`. Returns when its window ends.
    function _checkTrace(
        uint256 requestId,
        uint256 modelId,
        bytes calldata output,
        bytes32[] calldata layerRoots
    ) private view returns (uint40 windowEnd) {
        uint256 headerLength = _checkOutput(requestId, modelId, output);
        IModelRegistry.Verification memory v = _models.verificationOf(modelId);
        uint256 count = layerRoots.length;
        windowEnd = uint40(block.timestamp + v.challengeWindow); // < 2^40 until the year 36812
        uint256 promptMax = Generation.promptMax(_models.inputFormatOf(modelId));
        if (promptMax != 0) {
            // A decoder: one root per pass, T = P + N − 1 with 1 <= P <= P_max. The input is not
            // stored here, so the game checks T against the prompt's own P (a wrong count loses
            // at once) and binds the output ids to the trace's argmax layers.
            uint256 tokens = (output.length - headerLength) / 4;
            if (count < tokens || count > promptMax + tokens - 1) {
                revert MarketLayerCountMismatch(requestId, count, promptMax + tokens - 1);
            }
            return windowEnd;
        }
        if (count != v.layerCount) revert MarketLayerCountMismatch(requestId, count, v.layerCount);
        bytes32 outputRoot = TraceRoot.rootOf(output[headerLength:]);
        bytes32 lastRoot = layerRoots[count - 1]; // count >= 1: the registry requires layerCount >= 1
        // INVARIANT: the trace under dispute is the trace of the output that would be settled.
        if (lastRoot != outputRoot) revert MarketOutputRootMismatch(requestId, lastRoot, outputRoot);
    }

    /// @dev The stake a claim reserves: the claim penalty, and for an Optimistic job at least
    /// the game's slash (both < 2^96).
    function _reservation(IModelRegistry.VerificationMode mode) private view returns (uint96) {
        uint96 penalty = uint96(_claimPenalty); // < 2^96: checked by {_setClaimPenalty}
        if (mode != IModelRegistry.VerificationMode.Optimistic) return penalty;
        uint96 slash = _gameSlash;
        return slash > penalty ? slash : penalty;
    }

    /// @dev Whether a request in `status` holds a provider's reserved stake (the stored amount
    /// is left in place when the job ends; the registry has released it by then).
    function _isOpenJob(RequestStatus status) private pure returns (bool) {
        return
            status == RequestStatus.Claimed || status == RequestStatus.Submitted || status == RequestStatus.Challenged;
    }

    function _refundableAfter(uint40 windowEnd) private view returns (uint64) {
        if (windowEnd == 0) return 0;
        return uint64(windowEnd) + 2 * uint64(_gameDuration);
    }

    /// @dev The last-resort refund of a Challenged request whose games outlived every bound
    /// ({expire}): the requester gets its fee back, the provider's reservation is released
    /// without penalty, and the games still open are made moot. Emits {RequestRefunded}.
    function _refundStuck(uint256 requestId, StoredRequest storage r, RequestParams calldata params) private {
        uint64 refundable = _refundableAfter(_optimistic[requestId].windowEnd);
        // INVARIANT: games keep their full clocks; only a game that could not end is overtaken.
        if (block.timestamp <= refundable) revert MarketGamesStillRunning(requestId, refundable);
        r.status = RequestStatus.Refunded;
        delete _outputs[requestId];
        uint256 fee = params.fee;
        address token = params.feeToken;
        _releaseEscrow(token, fee);
        emit RequestRefunded(requestId, fee, 0);
        _credit(params.requester, token, fee);
        _providers.release(r.provider, r.reservedStake);
    }

    function _onlyDisputeGame() private view {
        // INVARIANT: only the dispute game freezes or resolves a result.
        if (msg.sender != _disputeGame || msg.sender == address(0)) revert MarketNotDisputeGame(msg.sender);
    }

    /// @dev Releases the escrowed `fee` of a request of model `modelId` served by `provider` and
    /// credits provider, model owner and treasury. Emits a {RequestFinalized} event.
    function _settle(uint256 requestId, uint256 modelId, address provider, address token, uint256 fee) private {
        (address modelOwner, uint16 royaltyBps) = _models.royaltyInfo(modelId);
        _releaseEscrow(token, fee);
        (uint256 providerFee, uint256 royalty, uint256 protocolFee_) = _split(fee, royaltyBps, _protocolFeeBps);
        emit RequestFinalized(requestId, providerFee, royalty, protocolFee_);
        _credit(provider, token, providerFee);
        _credit(modelOwner, token, royalty);
        _credit(_treasury, token, protocolFee_);
    }

    /// @dev The split of `fee`: `royalty = fee * royaltyBps / 10000`, `protocolFee_ = fee *
    /// protocolFeeBps / 10000`, the provider the rest, so the three sum to `fee` exactly and
    /// rounding favours the provider.
    function _split(
        uint256 fee,
        uint16 royaltyBps,
        uint16 protocolFeeBps
    ) private pure returns (uint256 providerFee, uint256 royalty, uint256 protocolFee_) {
        royalty = (fee * royaltyBps) / BPS;
        protocolFee_ = (fee * protocolFeeBps) / BPS;
        // Checked: a registry whose royalty plus the protocol fee exceeded 100% would revert here.
        providerFee = fee - royalty - protocolFee_;
    }

    function _revertWrongStatus(uint256 requestId, RequestStatus status) private pure {
        if (status == RequestStatus.None) revert MarketRequestUnknown(requestId);
        revert MarketWrongStatus(requestId, status);
    }

    /// @dev Escrows the fee `amount` of a new request in `token`.
    function _addEscrow(address token, uint256 amount) private {
        if (token == address(0)) {
            // Fits: the market's ETH balance cannot reach 2^192 wei.
            _ethEscrowed += uint192(amount);
        } else {
            _tokenEscrowed[token] += amount;
        }
    }

    /// @dev Releases `amount` of `token` from escrow (the fee of a request that ended).
    function _releaseEscrow(address token, uint256 amount) private {
        if (token == address(0)) {
            _ethEscrowed -= uint192(amount);
        } else {
            _tokenEscrowed[token] -= amount;
        }
    }

    /// @dev The one hook that credits money to an account (pull payment). Zero is a no-op.
    /// Emits a {Credited} event.
    function _credit(address account, address token, uint256 amount) private {
        if (amount == 0) return;
        _balances[account][token] += amount;
        _owed[token] += amount;
        emit Credited(account, token, amount);
    }

    /// @dev The one hook that brings ERC-20 in: exactly `amount` must arrive.
    function _pullToken(address token, address from, uint256 amount) private {
        if (amount == 0) return;
        IERC20 erc20 = IERC20(token);
        uint256 before = erc20.balanceOf(address(this));
        erc20.safeTransferFrom(from, address(this), amount);
        uint256 received = erc20.balanceOf(address(this)) - before;
        // INVARIANT: escrow counts what the market holds; fee-on-transfer tokens would break that.
        if (received != amount) revert MarketTokenTransferMismatch(token, received, amount);
    }

    /// @dev The one hook that sends money out (withdrawals).
    function _payOut(address to, address token, uint256 amount) private {
        if (token == address(0)) {
            (bool ok, ) = to.call{value: amount}("");
            if (!ok) revert MarketTransferFailed(to);
        } else {
            IERC20(token).safeTransfer(to, amount);
        }
    }

    /// @dev Calls the consumer with exactly `gasLimit` gas and ignores what it returns (a
    /// consumer returning huge data cannot make the market pay to copy it). Reverts if the
    /// transaction carries too little gas for the consumer to get all of `gasLimit` after the
    /// EIP-150 rule keeps 1/64 back. Emits a {CallbackResult} event.
    function _callBack(uint256 requestId, address callback, uint256 gasLimit, bytes calldata output) private {
        _callBackWith(
            requestId,
            callback,
            gasLimit,
            abi.encodeCall(IInferenceConsumer.onInferenceResult, (requestId, output))
        );
    }

    /// @dev {_callBack} with the stored output (for {finalize}).
    function _callBackStored(uint256 requestId, address callback, uint256 gasLimit) private {
        bytes memory output = _outputs[requestId];
        _callBackWith(
            requestId,
            callback,
            gasLimit,
            abi.encodeCall(IInferenceConsumer.onInferenceResult, (requestId, output))
        );
    }

    function _callBackWith(uint256 requestId, address callback, uint256 gasLimit, bytes memory data) private {
        // The callee gets min(gasLimit, available - available / 64); available >= gasLimit * 64 / 63
        // makes that gasLimit. The reserve pays for the CALL and the instructions up to it.
        uint256 needed = gasLimit + gasLimit / 63 + CALLBACK_GAS_RESERVE + 1;
        uint256 gasLeft = gasleft();
        // INVARIANT: a provider cannot starve the callback by sending a tight gas limit.
        if (gasLeft < needed) revert MarketInsufficientGasForCallback(gasLeft, needed);
        bool success;
        assembly ("memory-safe") {
            success := call(gasLimit, callback, 0, add(data, 0x20), mload(data), 0, 0)
        }
        emit CallbackResult(requestId, success);
    }

    function _setProtocolFee(uint16 bps, address treasury) private {
        // INVARIANT: the protocol never takes more than MAX_PROTOCOL_FEE_BPS of a fee.
        if (bps > MAX_PROTOCOL_FEE_BPS) revert MarketProtocolFeeTooHigh(bps, MAX_PROTOCOL_FEE_BPS);
        if (treasury == address(0)) revert MarketZeroAddress();
        _protocolFeeBps = bps;
        _treasury = treasury;
        emit ProtocolFeeUpdated(bps, treasury);
    }

    function _setClaimPenalty(uint256 penalty) private {
        // INVARIANT: a claim can reserve the penalty in the 96 bits of its request.
        if (penalty > type(uint96).max) revert MarketPenaltyTooHigh(penalty, type(uint96).max);
        _claimPenalty = penalty;
        emit ClaimPenaltyUpdated(penalty);
    }
}
