// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IProviderRegistry
/// @notice Stakes of compute providers, the models they serve, the stake each open job holds,
/// and their track record.
/// @dev The stake asset is ETH (one asset for every model, whatever the model's fee token), so
/// that penalties and slashes have one unit. Active stake is split into free stake and stake
/// **reserved** by open jobs: the market reserves, at claim, what a failure of the job would
/// slash, and releases or slashes it when the job ends. Only free stake can start unbonding
/// ({requestUnbond}); it is paid out after `unbondingDelay` ({withdrawUnbonded}). So a provider
/// can never take away the stake that backs a result still open to a penalty or a dispute.
/// Invariant: `reservedOf(p) <= stakeOf(p)` for every provider.
interface IProviderRegistry {
    /// @notice `provider` has `free` stake that is neither reserved nor unbonding, but `needed` is required.
    error ProviderInsufficientFreeStake(address provider, uint256 free, uint256 needed);
    /// @notice The amount is zero.
    error ProviderZeroAmount();
    /// @notice Unbonded stake of `provider` is locked until `releaseTime`.
    error ProviderUnbondingLocked(address provider, uint256 releaseTime);
    /// @notice `provider` has nothing unbonding.
    error ProviderNothingToWithdraw(address provider);
    /// @notice `provider` is not staked at the minimum or has not opted in to `modelId`.
    error ProviderNotEligible(address provider, uint256 modelId);
    /// @notice The ETH transfer to `to` failed.
    error ProviderTransferFailed(address to);
    /// @notice Only the market may call this; `caller` is not it.
    error ProviderNotMarket(address caller);
    /// @notice The market is already set (it is set once).
    error ProviderMarketAlreadySet(address market);
    /// @notice The market address is zero.
    error ProviderZeroAddress();
    /// @notice The market released or slashed `amount` of `provider`'s reservation, which holds
    /// only `reserved`, or slashed `slashed` out of a smaller release.
    error ProviderReservationInvalid(address provider, uint256 amount, uint256 reserved);

    event Staked(address indexed provider, uint256 amount, uint256 newStake);
    event UnbondRequested(address indexed provider, uint256 amount, uint256 releaseTime);
    event UnbondedWithdrawn(address indexed provider, uint256 amount);
    event OptedIn(address indexed provider, uint256 indexed modelId);
    event OptedOut(address indexed provider, uint256 indexed modelId);
    /// @notice `amount` of `provider`'s stake now backs an open job; `reserved` in all.
    event StakeReserved(address indexed provider, uint256 amount, uint256 reserved);
    /// @notice `amount` of `provider`'s reservation ended; `reserved` is what stays reserved.
    event StakeReleased(address indexed provider, uint256 amount, uint256 reserved);
    /// @notice `amount` of `provider`'s stake was taken and sent to `to`.
    event Slashed(address indexed provider, address indexed to, uint256 amount);
    event JobRecorded(address indexed provider, bool served);
    /// @notice `count` jobs of `provider` were served at once (a batch of the market's
    /// claim-free fulfilments).
    event JobsServed(address indexed provider, uint256 count);
    event MinStakeUpdated(uint256 oldMinStake, uint256 newMinStake);
    /// @notice The market that reserves, releases and slashes stake was set.
    event MarketSet(address market);

    /// @notice Adds `msg.value` to the caller's stake. Emits a {Staked} event.
    function stake() external payable;

    /// @notice Moves `amount` of the caller's free stake (active and not reserved) to
    /// unbonding; it can be withdrawn after the unbonding delay. A second request adds to the
    /// first and restarts the delay. Emits an {UnbondRequested} event.
    function requestUnbond(uint256 amount) external;

    /// @notice Pays out the caller's unbonded stake once its delay has passed.
    /// Emits an {UnbondedWithdrawn} event.
    function withdrawUnbonded() external;

    /// @notice The caller declares it serves model `modelId`. Emits an {OptedIn} event.
    function optIn(uint256 modelId) external;

    /// @notice The caller stops serving model `modelId`. Emits an {OptedOut} event.
    function optOut(uint256 modelId) external;

    /// @notice The market reserves `amount` of `provider`'s free stake for a job of model
    /// `modelId`, which `provider` must be eligible for. Emits a {StakeReserved} event.
    function reserve(address provider, uint256 modelId, uint256 amount) external;

    /// @notice The market ends a reservation of `amount` without a penalty (a job released,
    /// failed for its input, or ended by the market's last-resort refund).
    /// Emits a {StakeReleased} event.
    function release(address provider, uint256 amount) external;

    /// @notice The market ends a reservation of `amount` for a job served: the reservation is
    /// released and the job counted as served. Emits {StakeReleased} and {JobRecorded} events.
    function completeJob(address provider, uint256 amount) external;

    /// @notice The market ends reservations of `amount` in all for `count` jobs served at once
    /// (claim-free fulfilments reserve nothing, so `amount` may be zero): the reservations are
    /// released and the jobs counted as served. Emits {StakeReleased} (if `amount > 0`) and
    /// {JobsServed} events.
    function completeJobs(address provider, uint256 amount, uint256 count) external;

    /// @notice The market ends a reservation of `amount` for a job the provider failed: the job
    /// is counted as failed and `slashAmount <= amount` of the reservation is taken and sent to
    /// `to` (the market for a missed deadline, the dispute game for a lost game); the rest is
    /// released. Emits {StakeReleased}, {JobRecorded} and, if `slashAmount > 0`, {Slashed}.
    function failJob(address provider, uint256 amount, uint256 slashAmount, address to) external;

    /// @notice True if `provider` has at least the minimum stake and serves `modelId` (whether
    /// its free stake covers a job's reservation is checked at claim).
    function isEligible(address provider, uint256 modelId) external view returns (bool);

    /// @notice Active stake of `provider` (reserved included, unbonding excluded).
    function stakeOf(address provider) external view returns (uint256);

    /// @notice The part of `provider`'s active stake reserved by open jobs.
    function reservedOf(address provider) external view returns (uint256);

    /// @notice Active stake of `provider` not reserved: what it may unbond or reserve.
    function freeStakeOf(address provider) external view returns (uint256);

    /// @notice Unbonding stake of `provider` and when it can be withdrawn.
    function unbondingOf(address provider) external view returns (uint256 amount, uint256 releaseTime);

    /// @notice Counters of `provider`: jobs served, jobs failed, times slashed.
    function statsOf(address provider) external view returns (uint64 served, uint64 failed, uint64 slashes);

    /// @notice True if `provider` has opted in to `modelId`.
    function servesModel(address provider, uint256 modelId) external view returns (bool);

    /// @notice The market allowed to reserve, release and slash (zero until set).
    function market() external view returns (address);

    function minStake() external view returns (uint256);

    function unbondingDelay() external view returns (uint256);
}
