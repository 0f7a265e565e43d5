// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "./utils/Test.sol";
import {IProviderRegistry} from "../../contracts/interfaces/IProviderRegistry.sol";
import {ProviderRegistry} from "../../contracts/ProviderRegistry.sol";

/// @notice Fuzz tests of the provider registry's reservation arithmetic, with this contract as
/// the market (the market's own use of it is covered by InferenceMarket.test.ts and the
/// conservation invariants).
contract ProviderRegistryTest is Test {
    ProviderRegistry providers;

    address constant PROVIDER = address(0xB0B);
    address constant SINK = address(0x51A5);
    uint256 constant MODEL = 7;

    function setUp() public {
        providers = new ProviderRegistry(address(this), 1 ether, 7 days);
        providers.setMarket(address(this));
        vm.deal(PROVIDER, 1000 ether);
        vm.prank(PROVIDER);
        providers.optIn(MODEL);
    }

    function _stake(uint256 amount) internal {
        vm.prank(PROVIDER);
        providers.stake{value: amount}();
    }

    /// Reserve two jobs, fail one with a slash and complete the other: stake, reservation, free
    /// stake, counters and ETH add up at every step.
    function testFuzz_failJob_slashesOnlyTheReservation_succeeds(
        uint256 stake,
        uint256 a,
        uint256 b,
        uint256 slash,
        uint256 unbond
    ) public {
        stake = bound(stake, 1 ether, 100 ether);
        _stake(stake);
        a = bound(a, 0, stake);
        b = bound(b, 0, stake - a);
        providers.reserve(PROVIDER, MODEL, a);
        providers.reserve(PROVIDER, MODEL, b);
        assertEq(providers.reservedOf(PROVIDER), a + b, "reserved");
        assertEq(providers.freeStakeOf(PROVIDER), stake - a - b, "free");
        unbond = bound(unbond, 0, stake - a - b);
        if (unbond > 0) {
            vm.prank(PROVIDER);
            providers.requestUnbond(unbond);
        }
        slash = bound(slash, 0, a);
        providers.failJob(PROVIDER, a, slash, SINK);
        assertEq(SINK.balance, slash, "slash sent");
        assertEq(providers.stakeOf(PROVIDER), stake - unbond - slash, "active stake");
        (uint256 unbonding, ) = providers.unbondingOf(PROVIDER);
        assertEq(unbonding, unbond, "unbonding untouched");
        assertEq(providers.reservedOf(PROVIDER), b, "other job still reserved");
        providers.completeJob(PROVIDER, b);
        assertEq(providers.reservedOf(PROVIDER), 0, "all released");
        assertEq(providers.freeStakeOf(PROVIDER), stake - unbond - slash, "all free");
        (uint64 served, uint64 failed, uint64 slashes) = providers.statsOf(PROVIDER);
        assertEq(served, 1, "served");
        assertEq(failed, 1, "failed");
        assertEq(slashes, slash > 0 ? 1 : 0, "slashes");
        assertEq(address(providers).balance, stake - slash, "registry holds stake + unbonding");
    }

    function testFuzz_reserve_beyondFreeStake_reverts(uint256 stake, uint256 reserved, uint256 extra) public {
        stake = bound(stake, 1 ether, 100 ether);
        _stake(stake);
        reserved = bound(reserved, 0, stake);
        providers.reserve(PROVIDER, MODEL, reserved);
        extra = bound(extra, 1, type(uint128).max);
        uint256 free = stake - reserved;
        vm.expectRevert(
            abi.encodeWithSelector(
                IProviderRegistry.ProviderInsufficientFreeStake.selector,
                PROVIDER,
                free,
                free + extra
            )
        );
        providers.reserve(PROVIDER, MODEL, free + extra);
    }

    function testFuzz_requestUnbond_reservedStake_reverts(uint256 stake, uint256 reserved, uint256 amount) public {
        stake = bound(stake, 1 ether, 100 ether);
        _stake(stake);
        reserved = bound(reserved, 1, stake);
        providers.reserve(PROVIDER, MODEL, reserved);
        uint256 free = stake - reserved;
        amount = bound(amount, free + 1, stake);
        vm.prank(PROVIDER);
        vm.expectRevert(
            abi.encodeWithSelector(IProviderRegistry.ProviderInsufficientFreeStake.selector, PROVIDER, free, amount)
        );
        providers.requestUnbond(amount);
    }

    function testFuzz_release_moreThanReserved_reverts(uint256 reserved, uint256 amount) public {
        _stake(10 ether);
        reserved = bound(reserved, 0, 10 ether);
        providers.reserve(PROVIDER, MODEL, reserved);
        amount = bound(amount, reserved + 1, type(uint256).max);
        vm.expectRevert(
            abi.encodeWithSelector(IProviderRegistry.ProviderReservationInvalid.selector, PROVIDER, amount, reserved)
        );
        providers.release(PROVIDER, amount);
    }

    function testFuzz_reserve_notMarket_reverts(address caller) public {
        vm.assume(caller != address(this));
        _stake(1 ether);
        vm.prank(caller);
        vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.ProviderNotMarket.selector, caller));
        providers.reserve(PROVIDER, MODEL, 0);
        vm.prank(caller);
        vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.ProviderNotMarket.selector, caller));
        providers.failJob(PROVIDER, 0, 0, caller);
    }
}
