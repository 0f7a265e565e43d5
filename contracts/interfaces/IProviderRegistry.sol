// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IProviderRegistry
/// @notice Stakes of compute providers, the models they serve, and their track record.
/// @dev The stake asset is ETH (one asset for every model, whatever the model's fee token), so
/// that penalties and slashes have one unit. Stake leaves in two steps: {requestUnbond} moves it
/// to an unbonding balance that can still be slashed, and {withdrawUnbonded} pays it out after
/// `unbondingDelay`.
interface IProviderRegistry {
    /// @notice `provider` has `stake` staked but `needed` is required.
    error ProviderInsufficientStake(address provider, uint256 stake, uint256 needed);
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

    event Staked(address indexed provider, uint256 amount, uint256 newStake);
    event UnbondRequested(address indexed provider, uint256 amount, uint256 releaseTime);
    event UnbondedWithdrawn(address indexed provider, uint256 amount);
    event OptedIn(address indexed provider, uint256 indexed modelId);
    event OptedOut(address indexed provider, uint256 indexed modelId);
    event Slashed(address indexed provider, address indexed slasher, uint256 amount);
    event JobRecorded(address indexed provider, bool served);
    event MinStakeUpdated(uint256 oldMinStake, uint256 newMinStake);

    /// @notice Adds `msg.value` to the caller's stake. Emits a {Staked} event.
    function stake() external payable;

    /// @notice Moves `amount` of the caller's stake to unbonding; it can be withdrawn after the
    /// unbonding delay and can still be slashed until then. A second request adds to the first
    /// and restarts the delay. Emits an {UnbondRequested} event.
    function requestUnbond(uint256 amount) external;

    /// @notice Pays out the caller's unbonded stake once its delay has passed.
    /// Emits an {UnbondedWithdrawn} event.
    function withdrawUnbonded() external;

    /// @notice The caller declares it serves model `modelId`. Emits an {OptedIn} event.
    function optIn(uint256 modelId) external;

    /// @notice The caller stops serving model `modelId`. Emits an {OptedOut} event.
    function optOut(uint256 modelId) external;

    /// @notice Takes up to `amount` from `provider`'s stake (active first, then unbonding) and
    /// sends it to the caller. Only accounts with the slasher role may call it.
    /// Emits a {Slashed} event.
    /// @return slashed what was actually taken (less than `amount` if the stake ran short).
    function slash(address provider, uint256 amount) external returns (uint256 slashed);

    /// @notice Records a served (`served == true`) or failed job of `provider`. Only accounts
    /// with the recorder role may call it. Emits a {JobRecorded} event.
    function recordJob(address provider, bool served) external;

    /// @notice True if `provider` has at least the minimum stake and serves `modelId`.
    function isEligible(address provider, uint256 modelId) external view returns (bool);

    /// @notice Active stake of `provider`.
    function stakeOf(address provider) external view returns (uint256);

    /// @notice Unbonding stake of `provider` and when it can be withdrawn.
    function unbondingOf(address provider) external view returns (uint256 amount, uint256 releaseTime);

    /// @notice Counters of `provider`: jobs served, jobs failed, times slashed.
    function statsOf(address provider) external view returns (uint64 served, uint64 failed, uint64 slashes);

    /// @notice True if `provider` has opted in to `modelId`.
    function servesModel(address provider, uint256 modelId) external view returns (bool);

    function minStake() external view returns (uint256);

    function unbondingDelay() external view returns (uint256);
}
