// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IProviderRegistry} from "./interfaces/IProviderRegistry.sol";

/// @title ProviderRegistry
/// @notice ETH stakes of compute providers, the models they serve, the stake reserved by their
/// open jobs, and their track record.
/// @dev The registry is independent of the {ModelRegistry}: {optIn} accepts any model id, since
/// the market checks that a model exists and is active when a request is made; opting in to an
/// id that has no model is harmless. The owner sets the minimum stake and, once, the market.
/// Only the market moves reserved stake ({reserve}, {release}, {completeJob}, {failJob}); there
/// is no other way to take a provider's stake, and no role that an admin could revoke to make a
/// settlement revert.
contract ProviderRegistry is IProviderRegistry, Ownable2Step, ReentrancyGuardTransient {
    /// @dev Slot 0: active stake (reserved included) and the reserved part, 128 bits each (ETH
    /// amounts are far below 2^128 wei). Slot 1: unbonding stake and its release time. Slot 2:
    /// the three counters.
    struct Provider {
        uint128 stake;
        uint128 reserved;
        uint128 unbonding;
        uint64 releaseTime;
        uint64 served;
        uint64 failed;
        uint64 slashes;
    }

    mapping(address provider => Provider) private _providers;
    mapping(address provider => mapping(uint256 modelId => bool)) private _serves;
    uint256 private _minStake;
    address private _market;
    uint256 private immutable _unbondingDelay;

    /// @param owner_ may set the minimum stake and, once, the market.
    /// @param minStake_ the active stake a provider needs to be eligible.
    /// @param unbondingDelay_ seconds between {requestUnbond} and {withdrawUnbonded}.
    constructor(address owner_, uint256 minStake_, uint256 unbondingDelay_) Ownable(owner_) {
        _minStake = minStake_;
        _unbondingDelay = unbondingDelay_;
        emit MinStakeUpdated(0, minStake_);
    }

    // ------------------------------------------------------------------------------------------
    // Providers
    // ------------------------------------------------------------------------------------------

    /// @inheritdoc IProviderRegistry
    /// @dev Requirements: `msg.value > 0`.
    function stake() external payable {
        // INVARIANT: every stake change moves a positive amount.
        if (msg.value == 0) revert ProviderZeroAmount();
        Provider storage p = _providers[msg.sender];
        uint128 newStake = p.stake + SafeCast.toUint128(msg.value);
        p.stake = newStake;
        emit Staked(msg.sender, msg.value, newStake);
    }

    /// @inheritdoc IProviderRegistry
    /// @dev Requirements: `0 < amount <= freeStakeOf(caller)`.
    function requestUnbond(uint256 amount) external {
        if (amount == 0) revert ProviderZeroAmount();
        Provider storage p = _providers[msg.sender];
        uint256 active = p.stake;
        uint256 free = active - p.reserved;
        // INVARIANT: stake that backs an open job never starts to leave.
        if (amount > free) revert ProviderInsufficientFreeStake(msg.sender, free, amount);
        uint64 releaseTime = uint64(block.timestamp + _unbondingDelay);
        unchecked {
            // Cannot underflow: amount <= free <= active. Fits: amount <= active < 2^128.
            p.stake = uint128(active - amount);
            p.unbonding += uint128(amount);
        }
        p.releaseTime = releaseTime;
        emit UnbondRequested(msg.sender, amount, releaseTime);
    }

    /// @inheritdoc IProviderRegistry
    /// @dev Requirements: something is unbonding and its release time has come.
    function withdrawUnbonded() external nonReentrant {
        Provider storage p = _providers[msg.sender];
        uint256 amount = p.unbonding;
        if (amount == 0) revert ProviderNothingToWithdraw(msg.sender);
        // INVARIANT: unbonding stake waits out the whole delay.
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

    // ------------------------------------------------------------------------------------------
    // Market
    // ------------------------------------------------------------------------------------------

    /// @inheritdoc IProviderRegistry
    /// @dev Requirements: the caller is the market; `provider` serves `modelId` with at least
    /// the minimum active stake ({ProviderNotEligible}) and `amount <= freeStakeOf(provider)`
    /// ({ProviderInsufficientFreeStake}). A zero amount only checks eligibility.
    function reserve(address provider, uint256 modelId, uint256 amount) external {
        _onlyMarket();
        Provider storage p = _providers[provider];
        uint256 active = p.stake;
        // INVARIANT: only staked providers serving the model take jobs, so a broken job can be penalised.
        if (!_serves[provider][modelId] || active < _minStake) revert ProviderNotEligible(provider, modelId);
        uint256 reserved = p.reserved;
        // INVARIANT: reserved <= stake: every open job is backed by stake of its own.
        if (amount > active - reserved) revert ProviderInsufficientFreeStake(provider, active - reserved, amount);
        if (amount == 0) return;
        unchecked {
            // Cannot overflow: reserved + amount <= active < 2^128.
            reserved += amount;
        }
        p.reserved = uint128(reserved);
        emit StakeReserved(provider, amount, reserved);
    }

    /// @inheritdoc IProviderRegistry
    /// @dev Requirements: the caller is the market; `amount <= reservedOf(provider)`.
    function release(address provider, uint256 amount) external {
        _onlyMarket();
        _release(provider, amount);
    }

    /// @inheritdoc IProviderRegistry
    /// @dev Requirements: the caller is the market; `amount <= reservedOf(provider)`.
    function completeJob(address provider, uint256 amount) external {
        _onlyMarket();
        _release(provider, amount);
        _record(provider, true);
    }

    /// @inheritdoc IProviderRegistry
    /// @dev Requirements: the caller is the market; `amount <= reservedOf(provider)`; `count`
    /// fits 64 bits (the market passes at most its batch size).
    function completeJobs(address provider, uint256 amount, uint256 count) external {
        _onlyMarket();
        _release(provider, amount);
        Provider storage p = _providers[provider];
        p.served += SafeCast.toUint64(count);
        emit JobsServed(provider, count);
    }

    /// @inheritdoc IProviderRegistry
    /// @dev Requirements: the caller is the market; `slashAmount <= amount <= reservedOf(provider)`.
    /// Since reserved stake is active stake, the whole `slashAmount` is always there to take.
    function failJob(address provider, uint256 amount, uint256 slashAmount, address to) external nonReentrant {
        _onlyMarket();
        if (slashAmount > amount) revert ProviderReservationInvalid(provider, slashAmount, amount);
        _release(provider, amount);
        _record(provider, false);
        if (slashAmount == 0) return;
        Provider storage p = _providers[provider];
        unchecked {
            // Cannot underflow: slashAmount <= amount was reserved, and reserved <= stake.
            p.stake -= uint128(slashAmount);
            // Cannot overflow in practice: one slash per call.
            ++p.slashes;
        }
        emit Slashed(provider, to, slashAmount);
        _sendEth(to, slashAmount);
    }

    // ------------------------------------------------------------------------------------------
    // Owner
    // ------------------------------------------------------------------------------------------

    /// @notice Sets the active stake a provider needs to be eligible. Providers below the new
    /// minimum can no longer claim; their claims already made stand.
    /// @dev Requirements: the caller is the owner. Emits a {MinStakeUpdated} event.
    function setMinStake(uint256 newMinStake) external onlyOwner {
        uint256 oldMinStake = _minStake;
        _minStake = newMinStake;
        emit MinStakeUpdated(oldMinStake, newMinStake);
    }

    /// @notice Sets the market that reserves, releases and slashes stake. Set once: a market
    /// replaced while jobs are open could neither release nor slash their reservations.
    /// @dev Requirements: the caller is the owner; no market set yet; `market_` is not zero.
    /// Emits a {MarketSet} event.
    function setMarket(address market_) external onlyOwner {
        if (market_ == address(0)) revert ProviderZeroAddress();
        if (_market != address(0)) revert ProviderMarketAlreadySet(_market);
        _market = market_;
        emit MarketSet(market_);
    }

    // ------------------------------------------------------------------------------------------
    // Views
    // ------------------------------------------------------------------------------------------

    /// @inheritdoc IProviderRegistry
    function isEligible(address provider, uint256 modelId) external view returns (bool) {
        return _serves[provider][modelId] && _providers[provider].stake >= _minStake;
    }

    /// @inheritdoc IProviderRegistry
    function stakeOf(address provider) external view returns (uint256) {
        return _providers[provider].stake;
    }

    /// @inheritdoc IProviderRegistry
    function reservedOf(address provider) external view returns (uint256) {
        return _providers[provider].reserved;
    }

    /// @inheritdoc IProviderRegistry
    function freeStakeOf(address provider) external view returns (uint256) {
        Provider storage p = _providers[provider];
        return p.stake - p.reserved;
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
    function market() external view returns (address) {
        return _market;
    }

    /// @inheritdoc IProviderRegistry
    function minStake() external view returns (uint256) {
        return _minStake;
    }

    /// @inheritdoc IProviderRegistry
    function unbondingDelay() external view returns (uint256) {
        return _unbondingDelay;
    }

    // ------------------------------------------------------------------------------------------
    // Internal
    // ------------------------------------------------------------------------------------------

    function _onlyMarket() private view {
        // INVARIANT: reserved stake moves only with the jobs the market holds it for.
        if (msg.sender != _market || msg.sender == address(0)) revert ProviderNotMarket(msg.sender);
    }

    /// @dev The one hook that ends (part of) a reservation. Emits a {StakeReleased} event.
    function _release(address provider, uint256 amount) private {
        if (amount == 0) return;
        Provider storage p = _providers[provider];
        uint256 reserved = p.reserved;
        // INVARIANT: the market releases only what it reserved.
        if (amount > reserved) revert ProviderReservationInvalid(provider, amount, reserved);
        unchecked {
            // Cannot underflow: checked just above.
            reserved -= amount;
        }
        p.reserved = uint128(reserved);
        emit StakeReleased(provider, amount, reserved);
    }

    function _record(address provider, bool served) private {
        Provider storage p = _providers[provider];
        unchecked {
            // Cannot overflow in practice: one job per call.
            if (served) ++p.served;
            else ++p.failed;
        }
        emit JobRecorded(provider, served);
    }

    /// @dev The one place ETH leaves the registry: unbonded withdrawals and slashes.
    function _sendEth(address to, uint256 amount) private {
        (bool ok, ) = to.call{value: amount}("");
        if (!ok) revert ProviderTransferFailed(to);
    }
}
