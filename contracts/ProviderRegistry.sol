// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IProviderRegistry} from "./interfaces/IProviderRegistry.sol";

/// @title ProviderRegistry
/// @notice ETH stakes of compute providers, the models they serve, and their track record.
/// @dev The registry is independent of the {ModelRegistry}: {optIn} accepts any model id, since
/// the market checks that a model exists and is active when a request is made; opting in to an
/// id that has no model is harmless. Roles: `DEFAULT_ADMIN_ROLE` grants roles and sets the
/// minimum stake; `SLASHER_ROLE` may {slash}; `RECORDER_ROLE` may {recordJob}. The market needs
/// both of the latter.
contract ProviderRegistry is IProviderRegistry, AccessControl, ReentrancyGuardTransient {
    /// @notice May take stake with {slash}.
    bytes32 public constant SLASHER_ROLE = keccak256("SLASHER_ROLE");
    /// @notice May record jobs with {recordJob}.
    bytes32 public constant RECORDER_ROLE = keccak256("RECORDER_ROLE");

    /// @dev Slot 0: active stake. Slot 1: unbonding stake. Slot 2: release time of the unbonding
    /// stake and the three counters (4 x 64 bits).
    struct Provider {
        uint256 stake;
        uint256 unbonding;
        uint64 releaseTime;
        uint64 served;
        uint64 failed;
        uint64 slashes;
    }

    mapping(address provider => Provider) private _providers;
    mapping(address provider => mapping(uint256 modelId => bool)) private _serves;
    uint256 private _minStake;
    uint256 private immutable _unbondingDelay;

    /// @param admin receives `DEFAULT_ADMIN_ROLE`.
    /// @param minStake_ the active stake a provider needs to be eligible.
    /// @param unbondingDelay_ seconds between {requestUnbond} and {withdrawUnbonded}.
    constructor(address admin, uint256 minStake_, uint256 unbondingDelay_) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _minStake = minStake_;
        _unbondingDelay = unbondingDelay_;
        emit MinStakeUpdated(0, minStake_);
    }

    /// @inheritdoc IProviderRegistry
    /// @dev Requirements: `msg.value > 0`.
    function stake() external payable {
        // INVARIANT: every stake change moves a positive amount.
        if (msg.value == 0) revert ProviderZeroAmount();
        Provider storage p = _providers[msg.sender];
        uint256 newStake = p.stake + msg.value;
        p.stake = newStake;
        emit Staked(msg.sender, msg.value, newStake);
    }

    /// @inheritdoc IProviderRegistry
    /// @dev Requirements: `0 < amount <= stakeOf(caller)`.
    function requestUnbond(uint256 amount) external {
        if (amount == 0) revert ProviderZeroAmount();
        Provider storage p = _providers[msg.sender];
        uint256 active = p.stake;
        // INVARIANT: only active stake can start unbonding.
        if (amount > active) revert ProviderInsufficientStake(msg.sender, active, amount);
        uint64 releaseTime = uint64(block.timestamp + _unbondingDelay);
        unchecked {
            // Cannot underflow: checked just above.
            p.stake = active - amount;
        }
        p.unbonding += amount;
        p.releaseTime = releaseTime;
        emit UnbondRequested(msg.sender, amount, releaseTime);
    }

    /// @inheritdoc IProviderRegistry
    /// @dev Requirements: something is unbonding and its release time has come.
    function withdrawUnbonded() external nonReentrant {
        Provider storage p = _providers[msg.sender];
        uint256 amount = p.unbonding;
        if (amount == 0) revert ProviderNothingToWithdraw(msg.sender);
        // INVARIANT: unbonding stake stays slashable for the whole delay.
        if (block.timestamp < p.releaseTime) revert ProviderUnbondingLocked(msg.sender, p.releaseTime);
        p.unbonding = 0;
        p.releaseTime = 0;
        emit UnbondedWithdrawn(msg.sender, amount);
        _sendEth(msg.sender, amount);
    }

    /// @inheritdoc IProviderRegistry
    /// @dev Opting in again is allowed and emits the event again.
    function optIn(uint256 modelId) external {
        _serves[msg.sender][modelId] = true;
        emit OptedIn(msg.sender, modelId);
    }

    /// @inheritdoc IProviderRegistry
    /// @dev Requests already claimed are not affected.
    function optOut(uint256 modelId) external {
        _serves[msg.sender][modelId] = false;
        emit OptedOut(msg.sender, modelId);
    }

    /// @inheritdoc IProviderRegistry
    /// @dev Requirements: the caller has `SLASHER_ROLE`; `amount > 0`. Counts as a slash even
    /// when the provider has nothing left to take.
    function slash(
        address provider,
        uint256 amount
    ) external onlyRole(SLASHER_ROLE) nonReentrant returns (uint256 slashed) {
        if (amount == 0) revert ProviderZeroAmount();
        Provider storage p = _providers[provider];
        uint256 active = p.stake;
        uint256 unbonding = p.unbonding;
        // Active stake first, then unbonding stake.
        uint256 fromActive = amount < active ? amount : active;
        uint256 rest = amount - fromActive;
        uint256 fromUnbonding = rest < unbonding ? rest : unbonding;
        unchecked {
            // Cannot underflow: each part is at most the balance it is taken from.
            p.stake = active - fromActive;
            p.unbonding = unbonding - fromUnbonding;
            // Cannot overflow: both parts are bounded by stake that exists in ETH.
            slashed = fromActive + fromUnbonding;
            // Cannot overflow in practice: one slash per call.
            ++p.slashes;
        }
        emit Slashed(provider, msg.sender, slashed);
        if (slashed != 0) _sendEth(msg.sender, slashed);
    }

    /// @inheritdoc IProviderRegistry
    /// @dev Requirements: the caller has `RECORDER_ROLE`.
    function recordJob(address provider, bool served) external onlyRole(RECORDER_ROLE) {
        Provider storage p = _providers[provider];
        unchecked {
            // Cannot overflow in practice: one job per call.
            if (served) ++p.served;
            else ++p.failed;
        }
        emit JobRecorded(provider, served);
    }

    /// @notice Sets the active stake a provider needs to be eligible. Providers below the new
    /// minimum can no longer claim; their claims already made stand.
    /// @dev Requirements: the caller has `DEFAULT_ADMIN_ROLE`. Emits a {MinStakeUpdated} event.
    function setMinStake(uint256 newMinStake) external onlyRole(DEFAULT_ADMIN_ROLE) {
        uint256 oldMinStake = _minStake;
        _minStake = newMinStake;
        emit MinStakeUpdated(oldMinStake, newMinStake);
    }

    /// @inheritdoc IProviderRegistry
    function isEligible(address provider, uint256 modelId) external view returns (bool) {
        return _serves[provider][modelId] && _providers[provider].stake >= _minStake;
    }

    /// @inheritdoc IProviderRegistry
    function stakeOf(address provider) external view returns (uint256) {
        return _providers[provider].stake;
    }

    /// @inheritdoc IProviderRegistry
    function unbondingOf(address provider) external view returns (uint256 amount, uint256 releaseTime) {
        Provider storage p = _providers[provider];
        return (p.unbonding, p.releaseTime);
    }

    /// @inheritdoc IProviderRegistry
    function statsOf(address provider) external view returns (uint64 served, uint64 failed, uint64 slashes) {
        Provider storage p = _providers[provider];
        return (p.served, p.failed, p.slashes);
    }

    /// @inheritdoc IProviderRegistry
    function servesModel(address provider, uint256 modelId) external view returns (bool) {
        return _serves[provider][modelId];
    }

    /// @inheritdoc IProviderRegistry
    function minStake() external view returns (uint256) {
        return _minStake;
    }

    /// @inheritdoc IProviderRegistry
    function unbondingDelay() external view returns (uint256) {
        return _unbondingDelay;
    }

    /// @dev The one place ETH leaves the registry: unbonded withdrawals and slashes.
    function _sendEth(address to, uint256 amount) private {
        (bool ok, ) = to.call{value: amount}("");
        if (!ok) revert ProviderTransferFailed(to);
    }
}
