// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IInferenceConsumer} from "../interfaces/IInferenceConsumer.sol";

/// @title IAgentAccount
/// @notice The account of one agent (a minimal clone made by the {IAgentRegistry}): it holds the
/// agent's budget, wakes on a schedule or on a task, asks the one model its policy names for a
/// decision through the market, and executes the action its policy maps that decision to — only
/// on a Finalized result of its own request, and never spending beyond its policy.
///
/// Roles: the owner of the agent's identity token ({IAgentRegistry}) sets the policy and the
/// action table, pauses and unpauses, and withdraws; the agent's operators may pause, set the
/// keeper tip (up to the policy's maximum) and post tasks without a fee; anyone may `wake` a due
/// agent (and gets the keeper tip) or post a task that pays the policy's task fee.
interface IAgentAccount is IInferenceConsumer {
    /// @notice Where the model's input comes from: `ViewCall` — the bytes that
    /// `inputTarget.staticcall(inputSelector ‖ abi.encode(arg))` returns (ABI-encoded, as a view
    /// `returns (bytes memory)` returns them), a canonical tensor, where `arg`
    /// is the task's argument (`abi.decode(task.data, (uint256))`) or, for a scheduled wake, the
    /// agent's wake count; `TaskCalldata` — the task's data itself, a canonical tensor (a
    /// scheduled wake has no input then, so such agents run on tasks only); `TaskContentId` —
    /// the task's data is a content id (a CID string, 1 to 256 printable ASCII bytes) of the
    /// canonical tensor in the content store, requested as the envelope `0x01 ‖ CID` (tasks
    /// only, and only of an Attested model: Zk and Optimistic models take inline inputs only).
    /// The CID is the hash of the content, so the input is bound all the same, but only the
    /// provider's word says it was read: such an agent accepts Attested results.
    enum InputKind {
        ViewCall,
        TaskCalldata,
        TaskContentId
    }

    /// @notice How an output becomes a decision: `Argmax` — the index of the largest element of
    /// an int8 output (the first on ties), or the value of an int32 output of one element (an
    /// argmax layer's class); `Threshold` — 1 if element `decisionIndex` of an int8 or int32
    /// output is at least `decisionThreshold`, else 0.
    enum DecisionKind {
        Argmax,
        Threshold
    }

    /// @notice The argument an action is called with: none (`selector` alone), the task's
    /// argument (`abi.encode(uint256)` of it: the `arg` of {InputKind}; for a task whose data is
    /// not 32 bytes, such as a `TaskCalldata` tensor, its task id), or the market's request id.
    enum ArgKind {
        None,
        TaskArg,
        RequestId
    }

    /// @notice What the agent may do, enforced on-chain. Amounts in the model's fee token (ETH
    /// for ETH models); tips always in ETH.
    struct Policy {
        /// The one model the agent asks, and the modes it accepts results of (bit `1 << mode` of
        /// `IModelRegistry.VerificationMode`; e.g. 6 = Zk or Optimistic).
        uint256 modelId;
        uint8 modes;
        /// Most fee of one request, and most fees plus tips within one `period`.
        uint96 maxFeePerRequest;
        uint96 spendPerPeriod;
        uint32 period;
        /// Most tip a keeper may be paid per wake (operators set the tip up to it).
        uint96 maxKeeperTip;
        /// Seconds between scheduled wakes (0: tasks only).
        uint32 interval;
        /// The request's deadline is `block.timestamp + requestTtl`.
        uint32 requestTtl;
        /// Gas the market gives the callback (decision + action), and the action's own limit.
        uint32 callbackGasLimit;
        uint32 actionGasLimit;
        InputKind inputKind;
        address inputTarget;
        bytes4 inputSelector;
        DecisionKind decisionKind;
        uint32 decisionIndex;
        int32 decisionThreshold;
        /// What a task from anyone but an operator must pay, in ETH (0: anyone posts for free).
        uint96 minTaskFee;
        /// Act only on results whose provider has been slashed at most this many times
        /// (`type(uint64).max`: any provider, and no reputation read).
        uint64 maxProviderSlashes;
    }

    /// @notice What the agent calls for one decision; `target == address(0)` means nothing.
    struct Action {
        address target;
        bytes4 selector;
        ArgKind arg;
    }

    /// @notice The agent's record, for `verity agent status`.
    struct Record {
        uint64 wakes;
        uint64 requests;
        uint64 results;
        uint64 actions;
        uint64 actionFailures;
        uint64 skipped;
        uint256 spent;
        uint256 tips;
    }

    error AgentAlreadyInitialized();
    error AgentNotOwner(address caller);
    error AgentNotOwnerOrOperator(address caller);
    error AgentNotMarket(address caller);
    error AgentPaused();
    /// @notice No task is waiting and the next scheduled wake is at `dueAt` (0: no schedule).
    error AgentNotDue(uint256 dueAt);
    /// @notice The model's fee `fee` is above the policy's `maxFee`.
    error AgentFeeTooHigh(uint256 fee, uint256 maxFee);
    /// @notice This wake would bring the period's spend to `spend`, above the policy's `cap`.
    error AgentSpendCapReached(uint256 spend, uint256 cap);
    /// @notice The budget holds `balance` where `needed` is due (fee and tip).
    error AgentInsufficientBudget(uint256 needed, uint256 balance);
    /// @notice The model `modelId` is of mode `mode`, which the policy does not accept.
    error AgentModeNotAllowed(uint256 modelId, uint8 mode);
    /// @notice A task paid `sent` where the policy asks `minFee`.
    error AgentTaskFeeTooLow(uint256 sent, uint256 minFee);
    /// @notice A keeper tip above the policy's maximum.
    error AgentTipTooHigh(uint256 tip, uint256 maxTip);
    /// @notice The input source reverted or returned nothing.
    error AgentInputUnavailable(address target, bytes4 selector);
    /// @notice A result for a request this agent did not make, or one already handled.
    error AgentUnknownRequest(uint256 requestId);
    /// @notice The market has not finalized `requestId`.
    error AgentResultNotFinal(uint256 requestId);
    /// @notice A policy that could never work (e.g. no mode, zero period, an action gas limit
    /// above the callback's).
    error AgentPolicyInvalid();
    error AgentTransferFailed(address to);

    event Initialized(address indexed registry, uint256 indexed agentId, address market);
    event PolicyUpdated(Policy policy);
    event ActionSet(uint256 indexed decision, Action action);
    event KeeperTipSet(uint256 tip);
    event Paused(address indexed by);
    event Unpaused(address indexed by);
    event TaskPosted(uint256 indexed taskId, address indexed poster, uint256 fee, bytes data);
    /// @notice A wake sent request `requestId` (for task `taskId`, or `type(uint256).max` for a
    /// scheduled wake) with `fee`, and paid `keeper` its `tip`.
    event Woken(uint256 indexed requestId, uint256 indexed taskId, address indexed keeper, uint256 fee, uint256 tip);
    /// @notice After a wake the budget no longer covers the next one: the agent paused itself.
    event BudgetExhausted(uint256 balance, uint256 needed);
    /// @notice The Finalized output of `requestId` became `decision`.
    event DecisionMade(uint256 indexed requestId, uint256 decision);
    /// @notice The action of `decision` was called (`success` false: it reverted or ran out of
    /// its gas; recorded, not retried).
    event ActionExecuted(
        uint256 indexed requestId,
        uint256 indexed decision,
        address target,
        bytes4 selector,
        bool success
    );
    /// @notice A result was not acted on: `reason` 1 the provider's slashes exceed the policy's,
    /// 2 the output could not be decoded, 3 no action for the decision, 4 too little gas left
    /// for the action's whole limit (the policy's `callbackGasLimit` is too small for it).
    event DecisionSkipped(uint256 indexed requestId, uint8 reason);
    /// @notice A wake consumed task `taskId` without a request, so that it cannot block the
    /// queue, and paid `keeper` its `tip`: `reason` 1 its input could not be had (the view call
    /// reverted or returned nothing, or a `ViewCall` task's data is not 32 bytes), 2 its input
    /// is not one the model takes (not the model's canonical input tensor for a `Zk` or
    /// `Optimistic` model; not a content id for a `TaskContentId` agent).
    event TaskDropped(uint256 indexed taskId, address indexed keeper, uint8 reason, uint256 tip);
    event RefundsReclaimed(address indexed token, uint256 amount);
    event Withdrawn(address indexed token, address indexed to, uint256 amount);

    /// @notice Set up by the registry right after cloning. Emits {Initialized} and {PolicyUpdated}.
    function initialize(address registry, uint256 agentId, address market, Policy calldata policy) external;

    /// @notice Anyone wakes a due agent: the oldest waiting task, else a scheduled wake whose time
    /// has come. Requests the policy's model with the input from the policy's source, pays the fee
    /// from the budget and the keeper tip to the caller. Reverts cheaply when not due, paused or
    /// not funded. Emits {Woken} (and {BudgetExhausted} when the next wake could not be paid).
    function wake() external returns (uint256 requestId);

    /// @notice Anyone posts a task (its `data`: see {InputKind}); operators post for free, others
    /// pay at least `minTaskFee`, which joins the budget. Emits {TaskPosted}.
    function postTask(bytes calldata data) external payable returns (uint256 taskId);

    /// @notice Pulls the account's credits in `token` from the market (refunds, excess fees)
    /// back into its budget. Anyone may call it. Emits {RefundsReclaimed}.
    function reclaim(address token) external;

    /// @notice The owner takes `amount` of `token` (address(0): ETH) from the budget to `to`.
    function withdraw(address token, uint256 amount, address to) external;

    function setPolicy(Policy calldata policy) external;

    function setAction(uint256 decision, Action calldata action) external;

    function setKeeperTip(uint96 tip) external;

    function pause() external;

    function unpause() external;

    /// @notice Whether {wake} would go ahead now, and when the next scheduled wake is due.
    function isDue() external view returns (bool due, uint256 nextWakeAt);

    function policy() external view returns (Policy memory);

    function actionOf(uint256 decision) external view returns (Action memory);

    function keeperTip() external view returns (uint256);

    function paused() external view returns (bool);

    function record() external view returns (Record memory);

    /// @notice The agent's identity: its registry and token id.
    function identity() external view returns (address registry, uint256 agentId);

    /// @notice Tasks posted so far and the next one a wake takes (`taskHead == taskCount`: none waits).
    function tasks() external view returns (uint256 taskHead, uint256 taskCount);

    /// @notice The task a request serves (`type(uint256).max`: a scheduled wake), and whether
    /// its result is still awaited.
    function requestOf(uint256 requestId) external view returns (uint256 taskId, bool pending);
}
