// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IInferenceConsumer} from "./interfaces/IInferenceConsumer.sol";
import {IInferenceMarket} from "./interfaces/IInferenceMarket.sol";
import {IModelRegistry} from "./interfaces/IModelRegistry.sol";
import {IProviderRegistry} from "./interfaces/IProviderRegistry.sol";
import {IProofVerifier} from "./interfaces/IProofVerifier.sol";
import {TraceRoot} from "./dispute/TraceRoot.sol";

/// @title InferenceMarket
/// @notice Requests for inference: the fee is escrowed (ETH or the model's ERC-20), a staked
/// provider claims the request and submits the output, and settlement credits provider, model
/// owner and protocol, all paid by pull ({withdraw}). `Attested` results settle at {submit},
/// `Zk` results at {submitWithProof} once the model's verifier accepts the proof, `Optimistic`
/// results at {finalize} once their challenge window has passed unchallenged; the dispute game
/// (set once with {setDisputeGame}) freezes the window while it plays a challenge and reports the
/// outcome with {resolveChallenge}.
/// @dev Accounting, for every token (address(0) is ETH):
/// `balance(market) == escrowed(token) + owed(token)` where `escrowed` sums the fees of open
/// requests and `owed` sums the credits not withdrawn. Money moves through three hooks only:
/// {_credit} (owed up), {_pullToken} (balance in) and {_payOut} (balance and owed down).
/// The market must hold `SLASHER_ROLE` and `RECORDER_ROLE` on the provider registry.
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
    uint256 private constant BPS = 10_000;

    /// @dev A request as stored: 5 slots instead of the 6 of {IInferenceMarket.Request}, laid
    /// out so that claim and release read and write slot 0 only, and submit reads slots 0-2.
    /// - slot 0: provider (160) | status (8) | deadline (40) | modelId (48)
    /// - slot 1: callback (160) | fee (96)
    /// - slot 2: feeToken (160) | callbackGasLimit (32) | mode (8)
    /// - slot 3: requester (160)
    /// - slot 4: inputHash
    /// `deadline` fits 40 bits because it is at most `MAX_DEADLINE_DELAY` from now (good until
    /// the year 36812); `modelId` and `fee` are range-checked with {SafeCast} / {MarketFeeOverflow}.
    struct StoredRequest {
        address provider;
        RequestStatus status;
        uint40 deadline;
        uint48 modelId;
        address callback;
        uint96 fee;
        address feeToken;
        uint32 callbackGasLimit;
        IModelRegistry.VerificationMode mode;
        address requester;
        bytes32 inputHash;
    }

    /// @dev The provisional part of an `Optimistic` result, one slot beside the output:
    /// rootsHash | windowEnd (40) | challengedAt (40, nonzero while Challenged).
    struct OptimisticResult {
        bytes32 rootsHash;
        uint40 windowEnd;
        uint40 challengedAt;
    }

    IModelRegistry private immutable _models;
    IProviderRegistry private immutable _providers;

    mapping(uint256 requestId => StoredRequest) private _requests;
    mapping(uint256 requestId => bytes) private _outputs;
    mapping(uint256 requestId => OptimisticResult) private _optimistic;
    address private _disputeGame;
    mapping(address account => mapping(address token => uint256)) private _balances;
    mapping(address token => uint256) private _escrowed;
    mapping(address token => uint256) private _owed;
    uint256 private _requestCount;
    uint256 private _claimPenalty;
    // One slot: read together at settlement.
    address private _treasury;
    uint16 private _protocolFeeBps;

    /// @param owner_ may set the protocol fee, the treasury and the claim penalty.
    /// @param modelRegistry_ the {IModelRegistry} that prices requests.
    /// @param providerRegistry_ the {IProviderRegistry} that says who may claim and is slashed.
    /// @param treasury where the protocol fee is credited.
    /// @param protocolFeeBps the protocol's share of each fee, at most `MAX_PROTOCOL_FEE_BPS`.
    /// @param claimPenalty_ ETH slashed from a provider that claims and lets a request expire.
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
    /// dispute game set ({MarketModeUnsupported}) and an inline input envelope
    /// ({MarketInputNotInline});
    /// `block.timestamp < deadline <= block.timestamp + MAX_DEADLINE_DELAY`;
    /// `callbackGasLimit <= MAX_CALLBACK_GAS`; the model's price is at most `maxFee`. For ETH
    /// models `msg.value == maxFee` and `maxFee - price` is credited back to the caller; for
    /// ERC-20 models `msg.value == 0` and exactly `price` must arrive (approve it first).
    /// Only `keccak256(input)` is stored. Ids are sequential from 1.
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
        // INVARIANT: an Optimistic result is only as good as the game that can dispute it.
        if (input.length == 0) revert MarketEmptyInput();
        if (terms.mode == IModelRegistry.VerificationMode.Optimistic) {
            if (_disputeGame == address(0)) revert MarketModeUnsupported(modelId);
            // INVARIANT: the game recomputes the input's trace root from the request's bytes, so
            // an Optimistic input travels inline (envelope kind 0x00), never by content id.
            if (input[0] != 0x00) revert MarketInputNotInline(modelId);
        }
        // INVARIANT: a request can be served (deadline ahead) and can be refunded within a bounded time.
        if (deadline <= block.timestamp || deadline > block.timestamp + MAX_DEADLINE_DELAY) {
            revert MarketDeadlineInvalid(deadline);
        }
        // INVARIANT: a consumer cannot make settlement cost more than a bounded amount of gas.
        if (callbackGasLimit > MAX_CALLBACK_GAS) revert MarketCallbackGasTooHigh(callbackGasLimit, MAX_CALLBACK_GAS);
        uint256 price = terms.price;
        // INVARIANT: the requester never pays more than it agreed to.
        if (price > maxFee) revert MarketFeeTooHigh(price, maxFee);
        if (price > type(uint96).max) revert MarketFeeOverflow(price);
        address token = terms.feeToken;
        if (token == address(0)) {
            if (msg.value != maxFee) revert MarketWrongValue(msg.value, maxFee);
        } else if (msg.value != 0) {
            revert MarketWrongValue(msg.value, 0);
        }

        // Effect.
        unchecked {
            // Cannot overflow: one id per call.
            requestId = ++_requestCount;
        }
        StoredRequest storage r = _requests[requestId];
        r.status = RequestStatus.Pending;
        r.deadline = uint40(deadline); // fits: checked against MAX_DEADLINE_DELAY above
        r.modelId = SafeCast.toUint48(modelId);
        r.callback = callback;
        r.fee = uint96(price); // fits: checked above
        r.feeToken = token;
        r.callbackGasLimit = callbackGasLimit;
        r.mode = terms.mode;
        r.requester = msg.sender;
        r.inputHash = keccak256(input);
        _escrowed[token] += price;

        // Emit.
        emit InferenceRequested(
            requestId,
            modelId,
            msg.sender,
            input,
            token,
            price,
            deadline,
            callback,
            callbackGasLimit
        );

        // Account.
        if (token == address(0)) {
            unchecked {
                // Cannot underflow: price <= maxFee checked above.
                _credit(msg.sender, address(0), maxFee - price);
            }
        } else {
            _pullToken(token, msg.sender, price);
        }
    }

    /// @inheritdoc IInferenceMarket
    /// @dev Requirements: the request is Pending and its deadline has not passed; the caller is
    /// eligible on the provider registry for the request's model.
    function claim(uint256 requestId) external {
        StoredRequest storage r = _requests[requestId];
        RequestStatus status = r.status;
        // INVARIANT: one provider at a time holds a request.
        if (status != RequestStatus.Pending) _revertWrongStatus(requestId, status);
        uint40 deadline = r.deadline;
        if (block.timestamp > deadline) revert MarketDeadlinePassed(requestId, deadline);
        uint256 modelId = r.modelId;
        // INVARIANT: only staked providers serving the model can claim, so a broken claim can be slashed.
        if (!_providers.isEligible(msg.sender, modelId)) revert MarketProviderNotEligible(msg.sender, modelId);

        r.provider = msg.sender;
        r.status = RequestStatus.Claimed;
        emit RequestClaimed(requestId, msg.sender);
    }

    /// @inheritdoc IInferenceMarket
    /// @dev Requirements: the caller holds the claim and the deadline has not passed (after
    /// it, the request can only expire, with the claim penalty).
    function release(uint256 requestId) external {
        StoredRequest storage r = _requests[requestId];
        _checkClaimant(requestId, r);
        r.provider = address(0);
        r.status = RequestStatus.Pending;
        emit RequestReleased(requestId, msg.sender);
    }

    /// @inheritdoc IInferenceMarket
    /// @dev Requirements: the model is `Attested`; the caller holds the claim and the deadline has
    /// not passed. The fee is
    /// split into `royalty = fee * royaltyBps / 10000` (model owner), `protocolFee = fee *
    /// protocolFeeBps / 10000` (treasury, at the current rate) and the rest (provider), so the
    /// three sum to the fee exactly and rounding favours the provider. If the request has a
    /// callback and the transaction does not carry enough gas to give it its full
    /// `callbackGasLimit`, the call reverts with {MarketInsufficientGasForCallback}; a callback
    /// that reverts or runs out of gas does not undo settlement. Not guarded against reentrancy:
    /// all state is settled before the callback, which may itself make requests or withdraw.
    /// Emits {ResultSubmitted}, {RequestFinalized}, {Credited} and, with a callback, {CallbackResult}.
    function submit(uint256 requestId, bytes calldata output) external {
        StoredRequest storage r = _requests[requestId];
        uint256 modelId = _checkClaimant(requestId, r);
        _checkMode(requestId, r, IModelRegistry.VerificationMode.Attested);
        _submitFinal(requestId, modelId, r, output);
    }

    /// @inheritdoc IInferenceMarket
    /// @dev Requirements: the model is `Zk`; the caller holds the claim and the deadline has not
    /// passed; `keccak256(input)` is the request's `inputHash`; the model's verifier returns
    /// true (a false reverts with {MarketProofInvalid}, a revert of the verifier bubbles up).
    /// Settlement and callback are those of {submit}.
    function submitWithProof(
        uint256 requestId,
        bytes calldata input,
        bytes calldata output,
        bytes calldata proof
    ) external {
        StoredRequest storage r = _requests[requestId];
        uint256 modelId = _checkClaimant(requestId, r);
        _checkMode(requestId, r, IModelRegistry.VerificationMode.Zk);
        bytes32 inputHash = r.inputHash;
        // INVARIANT: the proof is about the input the requester paid for.
        if (keccak256(input) != inputHash) revert MarketInputMismatch(requestId, inputHash);
        address verifier = _models.verificationOf(modelId).verifier;
        // INVARIANT: a Zk result is final only if its proof verifies.
        if (!IProofVerifier(verifier).verify(input, output, proof)) revert MarketProofInvalid(requestId);
        _submitFinal(requestId, modelId, r, output);
    }

    /// @inheritdoc IInferenceMarket
    /// @dev Requirements: the model is `Optimistic`; the caller holds the claim and the deadline
    /// has not passed; `layerRoots` has one root per layer of the model and the last is the
    /// chunked Merkle root of `output`'s element bytes (after the `3 + 4 * rank` byte header),
    /// so a trace whose roots do not commit its output is refused here. The roots are stored as
    /// `keccak256(abi.encodePacked(layerRoots))` and emitted; the window ends
    /// `challengeWindow` seconds from now.
    function submitOptimistic(uint256 requestId, bytes calldata output, bytes32[] calldata layerRoots) external {
        StoredRequest storage r = _requests[requestId];
        uint256 modelId = _checkClaimant(requestId, r);
        _checkMode(requestId, r, IModelRegistry.VerificationMode.Optimistic);
        IModelRegistry.Verification memory v = _models.verificationOf(modelId);
        uint256 count = layerRoots.length;
        if (count != v.layerCount) revert MarketLayerCountMismatch(requestId, count, v.layerCount);
        bytes32 outputRoot = TraceRoot.rootOf(TraceRoot.elementBytes(output));
        bytes32 lastRoot = layerRoots[count - 1]; // count >= 1: the registry requires layerCount >= 1
        // INVARIANT: the trace under dispute is the trace of the output that would be settled.
        if (lastRoot != outputRoot) revert MarketOutputRootMismatch(requestId, lastRoot, outputRoot);

        // Effect and emit.
        uint40 windowEnd = uint40(block.timestamp + v.challengeWindow); // < 2^40 until the year 36812
        r.status = RequestStatus.Submitted;
        _outputs[requestId] = output;
        OptimisticResult storage o = _optimistic[requestId];
        o.rootsHash = keccak256(abi.encodePacked(layerRoots));
        o.windowEnd = windowEnd;
        emit ResultSubmitted(requestId, msg.sender, output);
        emit OptimisticResultSubmitted(requestId, msg.sender, layerRoots, windowEnd);
    }

    /// @inheritdoc IInferenceMarket
    /// @dev Requirements: the request is Submitted (not Challenged) and `block.timestamp >=
    /// windowEnd`. Settlement and callback are those of {submit}, for the provider that
    /// submitted; the caller must carry enough gas for the callback.
    /// Emits {RequestFinalized}, {Credited} and, with a callback, {CallbackResult} events.
    function finalize(uint256 requestId) external {
        StoredRequest storage r = _requests[requestId];
        RequestStatus status = r.status;
        // INVARIANT: a result settles once, and never while a game plays it.
        if (status != RequestStatus.Submitted) _revertWrongStatus(requestId, status);
        uint40 windowEnd = _optimistic[requestId].windowEnd;
        // INVARIANT: every watcher gets the whole window to challenge.
        if (block.timestamp < windowEnd) revert MarketWindowOpen(requestId, windowEnd);
        r.status = RequestStatus.Finalized;
        address provider = r.provider;
        _settle(requestId, r.modelId, provider, r.feeToken, r.fee);
        _providers.recordJob(provider, true);
        address callback = r.callback;
        if (callback != address(0)) _callBackStored(requestId, callback, r.callbackGasLimit);
    }

    /// @inheritdoc IInferenceMarket
    /// @dev Requirements: the caller is the dispute game; the request is Submitted and its
    /// window has not ended. The window is frozen from now until {resolveChallenge}.
    function openChallenge(
        uint256 requestId
    ) external returns (address provider, uint256 modelId, bytes32 inputHash, bytes32 rootsHash) {
        _onlyDisputeGame();
        StoredRequest storage r = _requests[requestId];
        RequestStatus status = r.status;
        // INVARIANT: one game at a time per result, and only against a provisional result.
        if (status != RequestStatus.Submitted) _revertWrongStatus(requestId, status);
        OptimisticResult storage o = _optimistic[requestId];
        uint40 windowEnd = o.windowEnd;
        if (block.timestamp >= windowEnd) revert MarketWindowClosed(requestId, windowEnd);
        r.status = RequestStatus.Challenged;
        o.challengedAt = uint40(block.timestamp);
        emit ResultChallenged(requestId, msg.sender);
        return (r.provider, r.modelId, r.inputHash, o.rootsHash);
    }

    /// @inheritdoc IInferenceMarket
    /// @dev Requirements: the caller is the dispute game; the request is Challenged. A refund
    /// counts as a failed job of the provider; the provider's slash is the game's business.
    /// Emits {ChallengeResolved} and, if the provider is at fault, {RequestRefunded} and
    /// {Credited} events.
    function resolveChallenge(uint256 requestId, bool providerAtFault) external nonReentrant {
        _onlyDisputeGame();
        StoredRequest storage r = _requests[requestId];
        RequestStatus status = r.status;
        // INVARIANT: a challenge resolves once, and only a challenged result.
        if (status != RequestStatus.Challenged) _revertWrongStatus(requestId, status);
        OptimisticResult storage o = _optimistic[requestId];
        if (providerAtFault) {
            r.status = RequestStatus.Refunded;
            o.challengedAt = 0;
            delete _outputs[requestId];
            uint256 fee = r.fee;
            address token = r.feeToken;
            _escrowed[token] -= fee;
            emit ChallengeResolved(requestId, true, o.windowEnd);
            emit RequestRefunded(requestId, fee, 0);
            _credit(r.requester, token, fee);
            _providers.recordJob(r.provider, false);
        } else {
            // The window is extended by the time it stood frozen: watchers lose none of it.
            uint40 windowEnd = o.windowEnd + (uint40(block.timestamp) - o.challengedAt);
            r.status = RequestStatus.Submitted;
            o.windowEnd = windowEnd;
            o.challengedAt = 0;
            emit ChallengeResolved(requestId, false, windowEnd);
        }
    }

    /// @inheritdoc IInferenceMarket
    /// @dev Requirements: the caller holds the claim and the deadline has not passed. Not
    /// counted against the provider.
    function reportInvalidInput(uint256 requestId, uint16 reason) external {
        StoredRequest storage r = _requests[requestId];
        _checkClaimant(requestId, r);
        r.status = RequestStatus.Failed;
        uint256 fee = r.fee;
        address token = r.feeToken;
        _escrowed[token] -= fee;
        emit RequestFailed(requestId, msg.sender, reason);
        _credit(r.requester, token, fee);
    }

    /// @inheritdoc IInferenceMarket
    /// @dev Requirements: the request is Pending or Claimed and `block.timestamp > deadline`.
    /// A penalty larger than the provider's stake takes what there is; the amount actually
    /// slashed is what {RequestRefunded} reports and what the requester is credited in ETH.
    /// A claimed request also counts as a failed job of its provider.
    function expire(uint256 requestId) external nonReentrant {
        StoredRequest storage r = _requests[requestId];
        RequestStatus status = r.status;
        // INVARIANT: only open requests are refunded, once.
        if (status != RequestStatus.Pending && status != RequestStatus.Claimed) _revertWrongStatus(requestId, status);
        uint40 deadline = r.deadline;
        // INVARIANT: the provider keeps its full time to deliver.
        if (block.timestamp <= deadline) revert MarketDeadlineNotPassed(requestId, deadline);

        // Effect.
        r.status = RequestStatus.Refunded;
        uint256 fee = r.fee;
        address token = r.feeToken;
        address requester = r.requester;
        _escrowed[token] -= fee;

        // Interact (trusted registry): take the penalty; its ETH arrives through {receive}.
        uint256 penalty;
        if (status == RequestStatus.Claimed) {
            address provider = r.provider;
            uint256 claimPenalty_ = _claimPenalty;
            if (claimPenalty_ != 0) penalty = _providers.slash(provider, claimPenalty_);
            _providers.recordJob(provider, false);
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

    /// @notice Sets the dispute game that may challenge `Optimistic` results. Set once: a game
    /// replaced while it plays would leave its requests Challenged for good.
    /// @dev Requirements: the caller is the owner; no game set yet; `game` is not zero.
    /// Emits a {DisputeGameSet} event.
    function setDisputeGame(address game) external onlyOwner {
        if (game == address(0)) revert MarketZeroAddress();
        if (_disputeGame != address(0)) revert MarketDisputeGameAlreadySet(_disputeGame);
        _disputeGame = game;
        emit DisputeGameSet(game);
    }

    /// @notice Sets the ETH slashed from a provider that claims a request and lets it expire.
    /// Applies to every expiry from now on.
    /// @dev Requirements: the caller is the owner. Emits a {ClaimPenaltyUpdated} event.
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
                requester: r.requester,
                status: r.status,
                deadline: r.deadline,
                callbackGasLimit: r.callbackGasLimit,
                provider: r.provider,
                modelId: r.modelId,
                callback: r.callback,
                feeToken: r.feeToken,
                fee: r.fee,
                inputHash: r.inputHash
            });
    }

    /// @inheritdoc IInferenceMarket
    function statusOf(uint256 requestId) external view returns (RequestStatus) {
        return _requests[requestId].status;
    }

    /// @inheritdoc IInferenceMarket
    function outputOf(uint256 requestId) external view returns (bytes memory) {
        if (_requests[requestId].status != RequestStatus.Finalized) return "";
        return _outputs[requestId];
    }

    /// @inheritdoc IInferenceMarket
    function windowEndOf(uint256 requestId) external view returns (uint64) {
        return _optimistic[requestId].windowEnd;
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
        return _escrowed[token];
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

    /// @notice The model registry requests are priced by.
    function modelRegistry() external view returns (address) {
        return address(_models);
    }

    /// @notice The provider registry claims are checked against.
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

    /// @dev Finalizes an `Attested` or `Zk` result submitted by the caller: stores the output,
    /// settles and calls back. Emits {ResultSubmitted}, {RequestFinalized}, {Credited} and, with
    /// a callback, {CallbackResult} events.
    function _submitFinal(uint256 requestId, uint256 modelId, StoredRequest storage r, bytes calldata output) private {
        // Effect and emit.
        r.status = RequestStatus.Finalized;
        _outputs[requestId] = output;
        emit ResultSubmitted(requestId, msg.sender, output);

        // Account.
        _settle(requestId, modelId, msg.sender, r.feeToken, r.fee);

        // Interact.
        _providers.recordJob(msg.sender, true);
        address callback = r.callback;
        if (callback != address(0)) _callBack(requestId, callback, r.callbackGasLimit, output);
    }

    /// @dev Reverts unless request `r` is for a model of verification mode `mode`.
    function _checkMode(uint256 requestId, StoredRequest storage r, IModelRegistry.VerificationMode mode) private view {
        IModelRegistry.VerificationMode actual = r.mode;
        // INVARIANT: each mode settles through its own path only.
        if (actual != mode) revert MarketWrongMode(requestId, uint8(actual));
    }

    function _onlyDisputeGame() private view {
        // INVARIANT: only the dispute game freezes or resolves a result.
        if (msg.sender != _disputeGame || msg.sender == address(0)) revert MarketNotDisputeGame(msg.sender);
    }

    /// @dev Releases the escrowed `fee` of a request of model `modelId` served by `provider` and
    /// credits provider, model owner and treasury. Emits a {RequestFinalized} event.
    function _settle(uint256 requestId, uint256 modelId, address provider, address token, uint256 fee) private {
        (address modelOwner, uint16 royaltyBps) = _models.royaltyInfo(modelId);
        _escrowed[token] -= fee;
        uint256 royalty = (fee * royaltyBps) / BPS;
        uint256 protocolFee_ = (fee * _protocolFeeBps) / BPS;
        // Checked: a registry whose royalty plus the protocol fee exceeded 100% would revert here.
        uint256 providerFee = fee - royalty - protocolFee_;
        emit RequestFinalized(requestId, providerFee, royalty, protocolFee_);
        _credit(provider, token, providerFee);
        _credit(modelOwner, token, royalty);
        _credit(_treasury, token, protocolFee_);
    }

    function _revertWrongStatus(uint256 requestId, RequestStatus status) private pure {
        if (status == RequestStatus.None) revert MarketRequestUnknown(requestId);
        revert MarketWrongStatus(requestId, status);
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
        _claimPenalty = penalty;
        emit ClaimPenaltyUpdated(penalty);
    }
}
