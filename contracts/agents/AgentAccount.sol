// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {TransientSlot} from "@openzeppelin/contracts/utils/TransientSlot.sol";
import {IInferenceConsumer} from "../interfaces/IInferenceConsumer.sol";
import {IInferenceMarket} from "../interfaces/IInferenceMarket.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {IProviderRegistry} from "../interfaces/IProviderRegistry.sol";
import {AgentDecision} from "./AgentDecision.sol";
import {IAgentAccount} from "./IAgentAccount.sol";
import {IAgentRegistry} from "./IAgentRegistry.sol";

/// @title AgentAccount
/// @notice The account of one agent: the implementation every agent's clone delegates to (see
/// {IAgentAccount} for roles, policy and semantics). The {AgentRegistry} clones it with the
/// agent's identity in the clone's code and initialises the clone in the same transaction.
///
/// Money: the budget is what the account holds — ETH, and the model's ERC-20 for a model priced
/// in one; it is funded by plain transfers and by task fees. A wake pays the model's fee to the
/// market (an ERC-20 fee is approved exactly before the request) and the keeper's tip in ETH
/// (pushed: a keeper that refuses ETH makes its own wake revert). Refunds of Failed and
/// Refunded requests, claim penalties and excess fees are credited to the account in the market
/// and come back into the budget with {reclaim}. Only the owner withdraws.
///
/// Trust: the market and the two registries it names are trusted (they are the protocol), and
/// so is the ERC-20 of the model the owner chose; the input target and the action targets are
/// the owner's choice too, but nothing they do can spend beyond the policy: the input is read
/// with a static call, and actions run with a fixed gas limit while the account's functions that
/// move money ({wake}, {reclaim}, {withdraw}) refuse to be re-entered.
///
/// @dev Clone code: the 45-byte ERC-1167 proxy, then `registry (20) ‖ market (20) ‖ agentId
/// (12)`, read with EXTCODECOPY (OpenZeppelin `Clones` with immutable arguments): the identity
/// costs no storage and no SLOAD.
///
/// Storage, slot by slot, grouped by what reads it:
/// - slots 0-3, the policy ({StoredPolicy}): slots 0-2 are what a wake reads, slot 3 what a
///   result reads (and the task fee); the keeper tip lives in slot 2 beside its maximum.
/// - slot 4, {Schedule}: paused (8) | nextWakeAt (40) | taskHead (64) | taskCount (64) | wakes
///   (64). The first thing a wake reads: a wake that is not due or paused costs one SLOAD.
/// - slot 5, {Spending}: periodStart (40) | periodSpent (96) | spent (120).
/// - slot 6, {Totals}: tips (96) | drops (64).
/// - slot 7, {Outcomes}: results | actions | actionFailures | skipped, 64 bits each (written by
///   results only).
/// - mappings: actions by decision, task data by task id, one slot per request made.
/// `periodSpent <= spendPerPeriod < 2^96` by the cap; `spent` and `tips` are checked sums (ETH
/// and any sane token supply are far below 2^120 and 2^96 wei); counters grow by one a call.
contract AgentAccount is IAgentAccount, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using TransientSlot for *;

    /// @notice Gas kept back before an action's call for the call itself (cold account access
    /// and the few instructions between the gas check and the CALL).
    uint256 public constant ACTION_GAS_RESERVE = 5000;
    /// @notice Gas a result's handling needs besides the action, with a margin: checks, the
    /// provider's record, a decision over an output of up to about 150 elements (about 90 gas
    /// each), bookkeeping and events — measured at 35k to 63k for 3 elements
    /// (test/agents/AgentGas.test.ts). Larger outputs need a larger `callbackGasLimit`.
    /// A policy's `callbackGasLimit` must leave at least this beside the action's limit.
    uint256 public constant CALLBACK_GAS_OVERHEAD = 80_000;
    /// @notice The longest `requestTtl` and `callbackGasLimit` a policy may set: the market's
    /// `MAX_DEADLINE_DELAY` and `MAX_CALLBACK_GAS` (a test ties them), beyond which it would
    /// refuse every request.
    uint256 public constant MAX_REQUEST_TTL = 30 days;
    uint256 public constant MAX_CALLBACK_GAS = 2_000_000;
    /// @notice `DecisionSkipped` reasons (see {IAgentAccount-DecisionSkipped}).
    uint8 public constant SKIP_PROVIDER_SLASHED = 1;
    uint8 public constant SKIP_OUTPUT_UNREADABLE = 2;
    uint8 public constant SKIP_NO_ACTION = 3;
    uint8 public constant SKIP_ACTION_GAS = 4;
    /// @notice `TaskDropped` reasons (see {IAgentAccount-TaskDropped}).
    uint8 public constant DROP_INPUT_UNAVAILABLE = 1;
    uint8 public constant DROP_INPUT_MALFORMED = 2;

    /// @dev The task id of a scheduled wake in events and views.
    uint256 private constant _SCHEDULED = type(uint256).max;
    /// @dev `maxProviderSlashes` is stored in 56 bits; this value (and any above it) means
    /// "any provider": no provider can be slashed 2^56 times.
    uint56 private constant _ANY_PROVIDER = type(uint56).max;
    /// @dev The longest content id an input envelope carries (docs/protocol.md, input envelope).
    uint256 private constant _MAX_CID_BYTES = 256;
    /// @dev Where the immutable arguments start in a clone's code (after the ERC-1167 proxy).
    uint256 private constant _ARGS_OFFSET = 45;

    /// @dev The policy in four slots; field order is slot order.
    struct StoredPolicy {
        // slot 0 (wake): 48 + 8 + 96 + 96 + 8 = 256 bits. Model ids fit 48 bits, as in the market.
        uint48 modelId;
        uint8 modes;
        uint96 maxFeePerRequest;
        uint96 spendPerPeriod;
        InputKind inputKind;
        // slot 1 (wake): 160 + 32 + 32 + 32.
        address inputTarget;
        bytes4 inputSelector;
        uint32 period;
        uint32 interval;
        // slot 2 (wake): 32 + 32 + 96 + 96.
        uint32 requestTtl;
        uint32 callbackGasLimit;
        uint96 maxKeeperTip;
        uint96 keeperTip;
        // slot 3 (result; the task fee for postTask): 32 + 8 + 32 + 32 + 56 + 96.
        uint32 actionGasLimit;
        DecisionKind decisionKind;
        uint32 decisionIndex;
        int32 decisionThreshold;
        uint56 maxProviderSlashes;
        uint96 minTaskFee;
    }

    struct Schedule {
        bool paused;
        /// 0: never woken on schedule since the interval was set, so due at once if it is not 0.
        uint40 nextWakeAt;
        uint64 taskHead;
        uint64 taskCount;
        uint64 wakes;
    }

    struct Spending {
        uint40 periodStart;
        uint96 periodSpent;
        uint120 spent;
    }

    struct Totals {
        uint96 tips;
        uint64 drops;
    }

    struct Outcomes {
        uint64 results;
        uint64 actions;
        uint64 actionFailures;
        uint64 skipped;
    }

    /// @dev One slot per request: whether its result is awaited, and what it served (the task
    /// id, or the wake count of a scheduled wake).
    struct RequestRecord {
        bool pending;
        bool fromTask;
        uint64 index;
    }

    /// @dev What a wake will do, worked out by {_plan} before anything is written.
    struct WakePlan {
        bool isTask;
        /// The task id, or the wake count for a scheduled wake.
        uint256 index;
        uint256 modelId;
        IModelRegistry.VerificationMode mode;
        IModelRegistry models;
        address feeToken;
        uint256 fee;
        uint256 tip;
        uint256 interval;
        /// The period's window start and spend before this wake (after a reset).
        uint256 periodStart;
        uint256 periodSpent;
        /// After this wake the budget no longer covers another: `left` of `needed`.
        bool exhausted;
        uint256 left;
        uint256 needed;
    }

    address private immutable _self;

    StoredPolicy private _policy;
    Schedule private _schedule;
    Spending private _spending;
    Totals private _totals;
    Outcomes private _outcomes;
    mapping(uint256 decision => Action) private _actions;
    mapping(uint256 taskId => bytes) private _taskData;
    mapping(uint256 requestId => RequestRecord) private _requests;

    /// @notice The implementation; clones are made and initialised by the {AgentRegistry}.
    constructor() {
        _self = address(this);
    }

    /// @notice The budget takes ETH from anyone (funding, the market's refunds).
    receive() external payable {}

    // ------------------------------------------------------------------------------------------
    // Setup
    // ------------------------------------------------------------------------------------------

    /// @inheritdoc IAgentAccount
    /// @dev Requirements: called on a clone (never on the implementation), once, by the registry
    /// named in the clone's code, with the identity the clone's code holds (the registry clones
    /// and initialises in one transaction, so nobody else can come first); the policy is valid
    /// ({AgentPolicyInvalid}). The keeper tip starts at the policy's maximum (`maxKeeperTip`).
    /// Emits {Initialized} and {PolicyUpdated}.
    function initialize(address registry, uint256 agentId, address market, Policy calldata policy_) external {
        (address registry_, address market_, uint256 agentId_) = _args();
        // INVARIANT: an account is set up once, by its registry, for the identity in its code.
        if (
            address(this) == _self ||
            _policy.modes != 0 ||
            msg.sender != registry_ ||
            registry != registry_ ||
            market != market_ ||
            agentId != agentId_
        ) revert AgentAlreadyInitialized();
        emit Initialized(registry, agentId, market);
        _setPolicy(policy_, true);
    }

    // ------------------------------------------------------------------------------------------
    // Wakes and tasks
    // ------------------------------------------------------------------------------------------

    /// @inheritdoc IAgentAccount
    /// @dev Checks, in this order (each refusal by its error): paused ({AgentPaused}); due — the
    /// oldest waiting task, else the schedule ({AgentNotDue}); the model active (the registry's
    /// {IModelRegistry-ModelIsDeprecated} bubbles up) and of a mode the policy accepts
    /// ({AgentModeNotAllowed}); its fee at most `maxFeePerRequest` ({AgentFeeTooHigh}); the
    /// period's spend with this fee and tip at most `spendPerPeriod` ({AgentSpendCapReached}; the
    /// window restarts once `period` has passed since it started); the budget covers fee and
    /// tip ({AgentInsufficientBudget}). Then reads the input:
    /// - `ViewCall`: `inputTarget.staticcall(inputSelector ‖ abi.encode(arg))` must return
    ///   nonempty ABI-encoded bytes, with `arg` the task's argument (a task's data must be 32 bytes) or, scheduled,
    ///   the wake count before this wake;
    /// - `TaskCalldata`: the task's data;
    /// - `TaskContentId`: the task's data, a content id (else the task is dropped), sent as
    ///   `0x01 ‖ CID`;
    /// and for a `Zk` or `Optimistic` model checks that it is the model's canonical input
    /// tensor, as the market will. A task whose input cannot be had (the call reverted or
    /// returned nothing with gas to spare, or its data is not an argument) or is not the
    /// model's input is dropped: consumed without a request, the keeper paid its tip
    /// ({TaskDropped}, returns 0), so that no task can block the queue. A scheduled wake whose
    /// input cannot be had reverts ({AgentInputUnavailable}), as does a wake whose input call ran
    /// out of the gas the keeper sent. Then requests the model with the envelope
    /// `0x00 ‖ tensor`, this account as the callback with the policy's `callbackGasLimit`, the
    /// fee as `maxFee` and a deadline `requestTtl` from now, and pays the keeper its tip.
    /// Emits {Woken}, and {BudgetExhausted} (pausing the agent) when what is left would not pay
    /// another wake at the same fee and tip.
    function wake() external nonReentrant returns (uint256 requestId) {
        (WakePlan memory w, bytes memory refusal) = _plan();
        if (refusal.length != 0) _revertWith(refusal);
        (bytes memory input, uint8 dropReason) = _input(w);
        if (dropReason != 0) {
            _commit(w, 0, true);
            emit TaskDropped(w.index, msg.sender, dropReason, w.tip);
            if (w.exhausted) emit BudgetExhausted(w.left, w.needed);
            _payTip(w.tip);
            return 0;
        }

        // Effect.
        _commit(w, w.fee, false);

        // Interact: the market (trusted) is the only call before the record and the tip.
        requestId = _request(w, input);
        _requests[requestId] = RequestRecord({pending: true, fromTask: w.isTask, index: uint64(w.index)});
        emit Woken(requestId, w.isTask ? w.index : _SCHEDULED, msg.sender, w.fee, w.tip);
        if (w.exhausted) emit BudgetExhausted(w.left, w.needed);
        _payTip(w.tip);
    }

    /// @inheritdoc IAgentAccount
    /// @dev Requirements: `msg.value >= minTaskFee` (in ETH), unless the caller is the owner or
    /// an operator ({AgentTaskFeeTooLow}). The value joins the budget. Tasks are taken in the
    /// order posted, one per wake; posting is allowed while paused. The data is stored for the
    /// wake (and, for a `TaskArg` action, read again with the result).
    function postTask(bytes calldata data) external payable returns (uint256 taskId) {
        uint256 minFee = _policy.minTaskFee;
        // INVARIANT: strangers pay for the requests they cause, at the owner's price.
        if (msg.value < minFee && !_isOwnerOrOperator(msg.sender)) revert AgentTaskFeeTooLow(msg.value, minFee);
        Schedule storage s = _schedule;
        taskId = s.taskCount;
        s.taskCount = uint64(taskId + 1); // checked: reverts after 2^64 - 1 tasks
        _taskData[taskId] = data;
        emit TaskPosted(taskId, msg.sender, msg.value, data);
    }

    // ------------------------------------------------------------------------------------------
    // Results
    // ------------------------------------------------------------------------------------------

    /// @inheritdoc IInferenceConsumer
    /// @dev Requirements: the caller is the market ({AgentNotMarket}); `requestId` is a request
    /// this account made whose result has not been handled ({AgentUnknownRequest}); the market
    /// has it Finalized ({AgentResultNotFinal}). The request is marked handled first. Then,
    /// never reverting: if the policy limits slashes and the provider that served the result
    /// has more, the result is skipped (reason 1); an output that is not a readable int8 or
    /// int32 tensor is skipped (2); the decision ({AgentDecision}) is emitted ({DecisionMade});
    /// a decision without an action is skipped (3); if less gas is left than the action's limit
    /// needs (the policy's `callbackGasLimit` too small), it is skipped (4); else the action is
    /// called with exactly `actionGasLimit` gas, its return data ignored, and whether it
    /// succeeded is recorded ({ActionExecuted}), never retried. While the action runs, {wake},
    /// {reclaim} and {withdraw} refuse re-entry. Not itself guarded: a result may be handled
    /// while a wake pays its keeper or while another result's action runs — each result's state
    /// is written before anything is called.
    function onInferenceResult(uint256 requestId, bytes calldata output) external {
        IInferenceMarket market_ = _market();
        // INVARIANT: results come from the market only.
        if (msg.sender != address(market_)) revert AgentNotMarket(msg.sender);
        RequestRecord storage r = _requests[requestId];
        // INVARIANT: only results of this agent's own requests are handled, each once.
        if (!r.pending) revert AgentUnknownRequest(requestId);
        // INVARIANT: only a Finalized result is acted on.
        if (market_.statusOf(requestId) != IInferenceMarket.RequestStatus.Finalized) {
            revert AgentResultNotFinal(requestId);
        }
        r.pending = false;

        Outcomes memory o = _outcomes;
        ++o.results;
        StoredPolicy storage p = _policy;
        uint256 maxSlashes = p.maxProviderSlashes;
        // INVARIANT: the agent acts only on results of providers within the policy's record.
        if (maxSlashes != _ANY_PROVIDER && _slashesOf(market_, requestId) > maxSlashes) {
            _skip(o, requestId, SKIP_PROVIDER_SLASHED);
            return;
        }
        (bool readable, uint256 decision) = AgentDecision.decide(
            output,
            uint8(p.decisionKind),
            p.decisionIndex,
            p.decisionThreshold
        );
        if (!readable) {
            _skip(o, requestId, SKIP_OUTPUT_UNREADABLE);
            return;
        }
        emit DecisionMade(requestId, decision);
        _act(o, r, requestId, decision, p.actionGasLimit);
    }

    /// @inheritdoc IAgentAccount
    /// @dev Anyone may call it; the market's {IInferenceMarket-MarketNothingToWithdraw} bubbles
    /// up when nothing is credited. Guarded against re-entry.
    function reclaim(address token) external nonReentrant {
        IInferenceMarket market_ = _market();
        uint256 amount = market_.balanceOf(address(this), token);
        market_.withdraw(token);
        emit RefundsReclaimed(token, amount);
    }

    // ------------------------------------------------------------------------------------------
    // Owner and operators
    // ------------------------------------------------------------------------------------------

    /// @inheritdoc IAgentAccount
    /// @dev Requirements: the caller owns the agent ({AgentNotOwner}); the budget holds `amount`
    /// ({AgentInsufficientBudget}); ETH is sent with all gas ({AgentTransferFailed} if `to`
    /// refuses it). Guarded against re-entry. Emits {Withdrawn}.
    function withdraw(address token, uint256 amount, address to) external nonReentrant {
        _onlyOwner();
        uint256 balance = token == address(0) ? address(this).balance : IERC20(token).balanceOf(address(this));
        if (amount > balance) revert AgentInsufficientBudget(amount, balance);
        emit Withdrawn(token, to, amount);
        if (token == address(0)) {
            bool ok;
            assembly ("memory-safe") {
                ok := call(gas(), to, amount, 0, 0, 0, 0)
            }
            if (!ok) revert AgentTransferFailed(to);
        } else {
            IERC20(token).safeTransfer(to, amount);
        }
    }

    /// @notice The owner replaces the policy (the action table and the keeper tip stay; a tip
    /// above the new maximum is lowered to it).
    /// @dev Requirements: the caller owns the agent ({AgentNotOwner}); the policy is valid
    /// ({AgentPolicyInvalid}): a model id in 1..2^48-1, modes a nonzero subset of bits 0-2, a
    /// nonzero period, `0 < requestTtl <=` the market's longest deadline, `callbackGasLimit <=`
    /// the market's maximum and at least `actionGasLimit + actionGasLimit / 63 +
    /// ACTION_GAS_RESERVE + CALLBACK_GAS_OVERHEAD`, a `ViewCall` input target with code, no
    /// interval for a task input (`TaskCalldata`, `TaskContentId`), and Attested alone among
    /// the modes of a `TaskContentId` agent. A changed interval re-arms the schedule (due at once
    /// if not 0). Tasks already waiting stay. Emits {PolicyUpdated} (and {KeeperTipSet} when
    /// the tip is lowered).
    function setPolicy(Policy calldata policy_) external {
        _onlyOwner();
        _setPolicy(policy_, false);
    }

    /// @notice The owner sets what the agent calls for `decision` (`target` zero: nothing).
    /// @dev Requirements: the caller owns the agent ({AgentNotOwner}); a target is a contract,
    /// neither this account nor the market ({AgentPolicyInvalid}). Emits {ActionSet}.
    function setAction(uint256 decision, Action calldata action) external {
        _onlyOwner();
        address target = action.target;
        if (
            target != address(0) && (target == address(this) || target == address(_market()) || target.code.length == 0)
        ) revert AgentPolicyInvalid();
        _actions[decision] = action;
        emit ActionSet(decision, action);
    }

    /// @notice The owner or an operator sets the tip a keeper is paid per wake.
    /// @dev Requirements: the caller owns the agent or is its operator
    /// ({AgentNotOwnerOrOperator}); `tip <= maxKeeperTip` ({AgentTipTooHigh}). Emits {KeeperTipSet}.
    function setKeeperTip(uint96 tip) external {
        _onlyOwnerOrOperator();
        uint256 maxTip = _policy.maxKeeperTip;
        if (tip > maxTip) revert AgentTipTooHigh(tip, maxTip);
        _policy.keeperTip = tip;
        emit KeeperTipSet(tip);
    }

    /// @notice The owner or an operator stops wakes. Results of requests already made are still
    /// acted on (clear an action with {setAction} to stop it).
    /// @dev Requirements: the caller owns the agent or is its operator
    /// ({AgentNotOwnerOrOperator}). Emits {Paused}.
    function pause() external {
        _onlyOwnerOrOperator();
        _schedule.paused = true;
        emit Paused(msg.sender);
    }

    /// @notice The owner lets wakes happen again (after a pause or {BudgetExhausted}).
    /// @dev Requirements: the caller owns the agent ({AgentNotOwner}). Emits {Unpaused}.
    function unpause() external {
        _onlyOwner();
        _schedule.paused = false;
        emit Unpaused(msg.sender);
    }

    // ------------------------------------------------------------------------------------------
    // Views
    // ------------------------------------------------------------------------------------------

    /// @inheritdoc IAgentAccount
    /// @dev `due` is true exactly when {wake} would pass its checks now (the input is not read:
    /// a task may still be dropped). `nextWakeAt` is 0 without a schedule, else when the next
    /// scheduled wake is due (now, if it has not run since the interval was set).
    function isDue() external view returns (bool due, uint256 nextWakeAt) {
        if (_policy.interval != 0) {
            nextWakeAt = _schedule.nextWakeAt;
            if (nextWakeAt == 0) nextWakeAt = block.timestamp;
        }
        (, bytes memory refusal) = _plan();
        due = refusal.length == 0;
    }

    /// @inheritdoc IAgentAccount
    function policy() external view returns (Policy memory) {
        StoredPolicy memory p = _policy;
        return
            Policy({
                modelId: p.modelId,
                modes: p.modes,
                maxFeePerRequest: p.maxFeePerRequest,
                spendPerPeriod: p.spendPerPeriod,
                period: p.period,
                maxKeeperTip: p.maxKeeperTip,
                interval: p.interval,
                requestTtl: p.requestTtl,
                callbackGasLimit: p.callbackGasLimit,
                actionGasLimit: p.actionGasLimit,
                inputKind: p.inputKind,
                inputTarget: p.inputTarget,
                inputSelector: p.inputSelector,
                decisionKind: p.decisionKind,
                decisionIndex: p.decisionIndex,
                decisionThreshold: p.decisionThreshold,
                minTaskFee: p.minTaskFee,
                maxProviderSlashes: p.maxProviderSlashes == _ANY_PROVIDER ? type(uint64).max : p.maxProviderSlashes
            });
    }

    /// @inheritdoc IAgentAccount
    function actionOf(uint256 decision) external view returns (Action memory) {
        return _actions[decision];
    }

    /// @inheritdoc IAgentAccount
    function keeperTip() external view returns (uint256) {
        return _policy.keeperTip;
    }

    /// @inheritdoc IAgentAccount
    function paused() external view returns (bool) {
        return _schedule.paused;
    }

    /// @inheritdoc IAgentAccount
    /// @dev `requests` is `wakes` less the wakes that dropped a task.
    function record() external view returns (Record memory) {
        Schedule memory s = _schedule;
        Totals memory t = _totals;
        Outcomes memory o = _outcomes;
        return
            Record({
                wakes: s.wakes,
                requests: s.wakes - t.drops,
                results: o.results,
                actions: o.actions,
                actionFailures: o.actionFailures,
                skipped: o.skipped,
                spent: _spending.spent,
                tips: t.tips
            });
    }

    /// @inheritdoc IAgentAccount
    function identity() external view returns (address registry, uint256 agentId) {
        (registry, , agentId) = _args();
    }

    /// @inheritdoc IAgentAccount
    function tasks() external view returns (uint256 taskHead, uint256 taskCount) {
        Schedule memory s = _schedule;
        return (s.taskHead, s.taskCount);
    }

    /// @inheritdoc IAgentAccount
    /// @dev `pending` is false once the result was handled, or once the market refunded or
    /// failed the request (no result will come). A request this account did not make reads
    /// `(type(uint256).max, false)`, as a handled scheduled wake's does.
    function requestOf(uint256 requestId) external view returns (uint256 taskId, bool pending) {
        RequestRecord memory r = _requests[requestId];
        taskId = r.fromTask ? r.index : _SCHEDULED;
        if (r.pending) {
            IInferenceMarket.RequestStatus status = _market().statusOf(requestId);
            pending =
                status != IInferenceMarket.RequestStatus.Refunded &&
                status != IInferenceMarket.RequestStatus.Failed;
        }
    }

    // ------------------------------------------------------------------------------------------
    // Internal: wakes
    // ------------------------------------------------------------------------------------------

    /// @dev Works out what a wake would do now, or why it must not: `refusal` is the ABI-encoded
    /// error (empty when the wake may go ahead). Shared by {wake} and {isDue}.
    function _plan() private view returns (WakePlan memory w, bytes memory refusal) {
        Schedule memory s = _schedule;
        // INVARIANT: a paused agent spends nothing.
        if (s.paused) return (w, abi.encodeWithSelector(AgentPaused.selector));
        if (s.taskHead < s.taskCount) {
            w.isTask = true;
            w.index = s.taskHead;
        } else {
            // INVARIANT: scheduled wakes come no faster than the interval.
            uint256 dueAt = s.nextWakeAt;
            if (dueAt == 0 ? _policy.interval == 0 : block.timestamp < dueAt) {
                return (w, abi.encodeWithSelector(AgentNotDue.selector, dueAt));
            }
            w.index = s.wakes;
        }

        StoredPolicy storage p = _policy;
        w.modelId = p.modelId;
        uint256 modes = p.modes;
        uint256 maxFee = p.maxFeePerRequest;
        uint256 cap = p.spendPerPeriod;
        uint256 period = p.period;
        w.interval = p.interval;
        w.tip = p.keeperTip;

        w.models = IModelRegistry(_market().modelRegistry());
        try w.models.getActiveTerms(w.modelId) returns (IModelRegistry.ModelTerms memory terms) {
            w.mode = terms.mode;
            w.feeToken = terms.feeToken;
            w.fee = terms.price;
        } catch (bytes memory reason) {
            return (w, reason);
        }
        // INVARIANT: the agent asks only for results of modes its policy accepts.
        if ((modes >> uint8(w.mode)) & 1 == 0) {
            return (w, abi.encodeWithSelector(AgentModeNotAllowed.selector, w.modelId, uint8(w.mode)));
        }
        // INVARIANT: no request costs more than the policy's maximum fee.
        if (w.fee > maxFee) return (w, abi.encodeWithSelector(AgentFeeTooHigh.selector, w.fee, maxFee));

        Spending memory sp = _spending;
        (w.periodStart, w.periodSpent) = (sp.periodStart, sp.periodSpent);
        if (block.timestamp >= w.periodStart + period) (w.periodStart, w.periodSpent) = (block.timestamp, 0);
        uint256 spend = w.periodSpent + w.fee + w.tip;
        // INVARIANT: fees and tips within one period stay within the policy's cap.
        if (spend > cap) return (w, abi.encodeWithSelector(AgentSpendCapReached.selector, spend, cap));

        // INVARIANT: the agent spends only what its budget holds.
        return (w, _checkBudget(w));
    }

    /// @dev The budget covers `w`'s fee and tip (else the ABI-encoded {AgentInsufficientBudget});
    /// sets `w.exhausted` when what is left would not cover them again.
    function _checkBudget(WakePlan memory w) private view returns (bytes memory refusal) {
        uint256 eth = address(this).balance;
        if (w.feeToken == address(0)) {
            uint256 needed = w.fee + w.tip;
            if (eth < needed) return abi.encodeWithSelector(AgentInsufficientBudget.selector, needed, eth);
            (w.left, w.needed) = (eth - needed, needed);
        } else {
            uint256 tokens = IERC20(w.feeToken).balanceOf(address(this));
            if (tokens < w.fee) return abi.encodeWithSelector(AgentInsufficientBudget.selector, w.fee, tokens);
            if (eth < w.tip) return abi.encodeWithSelector(AgentInsufficientBudget.selector, w.tip, eth);
            (w.left, w.needed) = tokens - w.fee < w.fee ? (tokens - w.fee, w.fee) : (eth - w.tip, w.tip);
        }
        w.exhausted = w.left < w.needed;
        return "";
    }

    /// @dev The request's input envelope, or why the task is dropped (`dropReason` nonzero).
    function _input(WakePlan memory w) private view returns (bytes memory input, uint8 dropReason) {
        StoredPolicy storage p = _policy;
        bytes memory tensor;
        address target = p.inputTarget;
        bytes4 selector = p.inputSelector;
        if (p.inputKind != InputKind.ViewCall) {
            // A scheduled wake has no input then (the policy allows no interval with it).
            if (!w.isTask) revert AgentInputUnavailable(target, selector);
            tensor = _taskData[w.index];
            if (p.inputKind == InputKind.TaskContentId) {
                // INVARIANT: a content id is sent only in the form the market and the daemon
                // read; the policy allows it for Attested models only.
                if (!_isContentId(tensor)) return ("", DROP_INPUT_MALFORMED);
                return (bytes.concat(bytes1(0x01), tensor), 0);
            }
        } else {
            uint256 arg = w.index;
            if (w.isTask) {
                bytes memory data = _taskData[w.index];
                if (data.length != 32) return ("", DROP_INPUT_UNAVAILABLE);
                arg = uint256(bytes32(data));
            }
            uint256 gasBefore = gasleft();
            (bool ok, bytes memory ret) = target.staticcall(abi.encodeWithSelector(selector, arg));
            if (ok) tensor = _returnedBytes(ret);
            if (tensor.length == 0) {
                // INVARIANT: a keeper cannot make an input look unavailable by starving its call:
                // a call that failed with under 1/63 of the gas it was offered left ran out of it.
                if (!w.isTask || (!ok && gasleft() < gasBefore / 63)) revert AgentInputUnavailable(target, selector);
                return ("", DROP_INPUT_UNAVAILABLE);
            }
        }
        // INVARIANT: a Zk or Optimistic request carries the model's canonical input (the market
        // would refuse anything else; a task that cannot be run is dropped, not retried forever).
        if (w.mode != IModelRegistry.VerificationMode.Attested && !_isInputOf(w, tensor)) {
            if (!w.isTask) revert AgentInputUnavailable(target, selector);
            return ("", DROP_INPUT_MALFORMED);
        }
        input = bytes.concat(bytes1(0x00), tensor);
    }

    /// @dev The `bytes` ABI-encoded in `ret` (in place, no copy), or empty bytes if `ret` is not
    /// such an encoding (offset 32, then a length the data covers).
    function _returnedBytes(bytes memory ret) private pure returns (bytes memory value) {
        uint256 size = ret.length;
        if (size < 64) return "";
        uint256 offset;
        uint256 length;
        assembly ("memory-safe") {
            offset := mload(add(ret, 0x20))
            length := mload(add(ret, 0x40))
        }
        if (offset != 32 || length > size - 64) return "";
        assembly ("memory-safe") {
            value := add(ret, 0x40)
        }
    }

    /// @dev Whether `cid` is a content id as the input envelope takes it: 1 to 256 bytes, each
    /// printable ASCII (0x21 to 0x7e). Bounded: at most 256 steps.
    function _isContentId(bytes memory cid) private pure returns (bool) {
        uint256 length = cid.length;
        if (length == 0 || length > _MAX_CID_BYTES) return false;
        for (uint256 i; i < length; ++i) {
            bytes1 c = cid[i];
            if (c < 0x21 || c > 0x7e) return false;
        }
        return true;
    }

    /// @dev Whether `tensor` has the length and header of `w`'s model's input format.
    function _isInputOf(WakePlan memory w, bytes memory tensor) private view returns (bool) {
        IModelRegistry.TensorFormat memory f = w.models.inputFormatOf(w.modelId);
        if (tensor.length != f.byteLength) return false;
        bytes32 headerHash;
        uint256 headerLength = f.headerLength; // <= byteLength == tensor.length
        assembly ("memory-safe") {
            headerHash := keccak256(add(tensor, 0x20), headerLength)
        }
        return headerHash == f.headerHash;
    }

    /// @dev Writes a wake's effects: the trigger consumed, the wake (and a drop) counted, `fee`
    /// (0 for a dropped task) and the tip spent, the agent paused if its budget is exhausted.
    function _commit(WakePlan memory w, uint256 fee, bool dropped) private {
        Schedule memory s = _schedule;
        if (w.isTask) s.taskHead = uint64(w.index + 1);
        else s.nextWakeAt = uint40(block.timestamp + w.interval); // < 2^40 until the year 36812
        ++s.wakes;
        if (w.exhausted) s.paused = true;
        _schedule = s;

        Spending memory sp = _spending;
        sp.periodStart = uint40(w.periodStart);
        // Fits: fee + tip + periodSpent <= spendPerPeriod < 2^96 was checked by the plan.
        sp.periodSpent = uint96(w.periodSpent + fee + w.tip);
        sp.spent += uint120(fee); // fee <= maxFeePerRequest < 2^96; the sum is checked
        _spending = sp;
        Totals memory t = _totals;
        t.tips += uint96(w.tip); // tip <= maxKeeperTip < 2^96; the sum is checked
        if (dropped) ++t.drops;
        _totals = t;
    }

    /// @dev Sends the request of a wake: ETH with the call, or an ERC-20 fee approved exactly.
    function _request(WakePlan memory w, bytes memory input) private returns (uint256 requestId) {
        IInferenceMarket market_ = _market();
        StoredPolicy storage p = _policy;
        uint64 deadline = uint64(block.timestamp + p.requestTtl);
        uint32 callbackGasLimit = p.callbackGasLimit;
        uint256 value = w.fee;
        if (w.feeToken != address(0)) {
            IERC20(w.feeToken).forceApprove(address(market_), w.fee);
            value = 0;
        }
        requestId = market_.requestInference{value: value}(
            w.modelId,
            input,
            w.fee,
            deadline,
            address(this),
            callbackGasLimit
        );
    }

    /// @dev Pushes the keeper's tip (the caller of the wake); a refusal reverts the wake.
    function _payTip(uint256 tip) private {
        if (tip == 0) return;
        bool ok;
        assembly ("memory-safe") {
            ok := call(gas(), caller(), tip, 0, 0, 0, 0)
        }
        if (!ok) revert AgentTransferFailed(msg.sender);
    }

    // ------------------------------------------------------------------------------------------
    // Internal: results
    // ------------------------------------------------------------------------------------------

    /// @dev How many times the provider that served `requestId` has been slashed.
    function _slashesOf(IInferenceMarket market_, uint256 requestId) private view returns (uint256 slashes) {
        address provider = market_.getRequest(requestId).provider;
        (, , slashes) = IProviderRegistry(market_.providerRegistry()).statsOf(provider);
    }

    /// @dev The argument of the wake behind a request: a task's 32-byte data as a number (a
    /// `ViewCall` task's argument), else its task id; the wake count of a scheduled wake.
    function _taskArg(RequestRecord storage r) private view returns (uint256) {
        uint256 index = r.index;
        if (!r.fromTask) return index;
        bytes memory data = _taskData[index];
        return data.length == 32 ? uint256(bytes32(data)) : index;
    }

    /// @dev Records a skipped decision (with the outcomes counted so far). Emits {DecisionSkipped}.
    function _skip(Outcomes memory o, uint256 requestId, uint8 reason) private {
        ++o.skipped;
        _outcomes = o;
        emit DecisionSkipped(requestId, reason);
    }

    /// @dev Executes the action of `decision` for `requestId`, or records why not (see
    /// {onInferenceResult}). Emits {ActionExecuted} or {DecisionSkipped}.
    function _act(
        Outcomes memory o,
        RequestRecord storage r,
        uint256 requestId,
        uint256 decision,
        uint256 actionGas
    ) private {
        Action memory a = _actions[decision];
        if (a.target == address(0)) {
            _skip(o, requestId, SKIP_NO_ACTION);
            return;
        }
        bytes memory data =
            a.arg == ArgKind.None
                ? abi.encodePacked(a.selector)
                : abi.encodeWithSelector(a.selector, a.arg == ArgKind.TaskArg ? _taskArg(r) : requestId);
        // INVARIANT: the action gets its whole gas limit or is not called (EIP-150 keeps 1/64
        // of the gas back from a call): nobody can make it fail by starving it.
        if (gasleft() < actionGas + actionGas / 63 + ACTION_GAS_RESERVE) {
            _skip(o, requestId, SKIP_ACTION_GAS);
            return;
        }
        _outcomes = o;
        bool success = _callAction(a.target, actionGas, data);
        // A fresh read-modify-write: a result handled during the action has written the slot too.
        if (success) ++_outcomes.actions;
        else ++_outcomes.actionFailures;
        emit ActionExecuted(requestId, decision, a.target, a.selector, success);
    }

    /// @dev Calls `target` with exactly `gasLimit` gas, ignoring what it returns (a target
    /// returning huge data cannot make the account pay to copy it), with the re-entrancy guard
    /// entered so the action cannot come back into {wake}, {reclaim} or {withdraw}.
    function _callAction(address target, uint256 gasLimit, bytes memory data) private returns (bool success) {
        bool entered = _reentrancyGuardEntered();
        if (!entered) _reentrancyGuardStorageSlot().asBoolean().tstore(true);
        assembly ("memory-safe") {
            success := call(gasLimit, target, 0, add(data, 0x20), mload(data), 0, 0)
        }
        if (!entered) _reentrancyGuardStorageSlot().asBoolean().tstore(false);
    }

    // ------------------------------------------------------------------------------------------
    // Internal: policy, roles, identity
    // ------------------------------------------------------------------------------------------

    /// @dev Validates and stores `p` (see {setPolicy}). Emits {PolicyUpdated}, and
    /// {KeeperTipSet} when an update lowers the tip.
    function _setPolicy(Policy calldata p, bool initial) private {
        // INVARIANT: a stored policy can work: the market would take its requests and a result
        // leaves the action its gas.
        if (
            p.modelId == 0 ||
            p.modelId > type(uint48).max ||
            p.modes == 0 ||
            p.modes > 7 ||
            p.period == 0 ||
            p.requestTtl == 0 ||
            p.requestTtl > MAX_REQUEST_TTL ||
            p.callbackGasLimit > MAX_CALLBACK_GAS ||
            uint256(p.callbackGasLimit) <
                uint256(p.actionGasLimit) + p.actionGasLimit / 63 + ACTION_GAS_RESERVE + CALLBACK_GAS_OVERHEAD ||
            (p.inputKind == InputKind.ViewCall ? p.inputTarget.code.length == 0 : p.interval != 0) ||
            (p.inputKind == InputKind.TaskContentId && p.modes != 1 << uint8(IModelRegistry.VerificationMode.Attested))
        ) revert AgentPolicyInvalid();

        StoredPolicy storage s = _policy;
        uint96 oldTip = s.keeperTip;
        uint32 oldInterval = s.interval;
        uint96 tip = initial || oldTip > p.maxKeeperTip ? p.maxKeeperTip : oldTip;
        _policy = StoredPolicy({
            modelId: uint48(p.modelId), // fits: checked above
            modes: p.modes,
            maxFeePerRequest: p.maxFeePerRequest,
            spendPerPeriod: p.spendPerPeriod,
            inputKind: p.inputKind,
            inputTarget: p.inputTarget,
            inputSelector: p.inputSelector,
            period: p.period,
            interval: p.interval,
            requestTtl: p.requestTtl,
            callbackGasLimit: p.callbackGasLimit,
            maxKeeperTip: p.maxKeeperTip,
            keeperTip: tip,
            actionGasLimit: p.actionGasLimit,
            decisionKind: p.decisionKind,
            decisionIndex: p.decisionIndex,
            decisionThreshold: p.decisionThreshold,
            maxProviderSlashes: p.maxProviderSlashes >= _ANY_PROVIDER ? _ANY_PROVIDER : uint56(p.maxProviderSlashes),
            minTaskFee: p.minTaskFee
        });
        if (!initial && p.interval != oldInterval) _schedule.nextWakeAt = 0;
        emit PolicyUpdated(p);
        if (!initial && tip != oldTip) emit KeeperTipSet(tip);
    }

    function _onlyOwner() private view {
        (address registry, , uint256 agentId) = _args();
        // INVARIANT: only the owner of the identity token governs the agent and its money.
        if (msg.sender != IAgentRegistry(registry).ownerOf(agentId)) revert AgentNotOwner(msg.sender);
    }

    function _onlyOwnerOrOperator() private view {
        // INVARIANT: operators act within what the owner's policy lets them (pause, tip, tasks).
        if (!_isOwnerOrOperator(msg.sender)) revert AgentNotOwnerOrOperator(msg.sender);
    }

    function _isOwnerOrOperator(address account) private view returns (bool) {
        (address registry, , uint256 agentId) = _args();
        IAgentRegistry r = IAgentRegistry(registry);
        return account == r.ownerOf(agentId) || r.isOperator(agentId, account);
    }

    /// @dev The identity in the clone's code: registry, market and agent id.
    function _args() private view returns (address registry, address market_, uint256 agentId) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            extcodecopy(address(), ptr, _ARGS_OFFSET, 52)
            registry := shr(96, mload(ptr))
            market_ := shr(96, mload(add(ptr, 20)))
            agentId := shr(160, mload(add(ptr, 40)))
        }
    }

    /// @dev The market, from the clone's code.
    function _market() private view returns (IInferenceMarket market_) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            extcodecopy(address(), ptr, add(_ARGS_OFFSET, 20), 20)
            market_ := shr(96, mload(ptr))
        }
    }

    function _revertWith(bytes memory data) private pure {
        assembly ("memory-safe") {
            revert(add(data, 0x20), mload(data))
        }
    }
}
