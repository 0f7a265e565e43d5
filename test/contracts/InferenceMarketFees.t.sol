// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "./utils/Test.sol";
import {Deploy} from "./utils/Deploy.sol";
import {IInferenceMarket} from "../../contracts/interfaces/IInferenceMarket.sol";
import {InferenceMarket} from "../../contracts/InferenceMarket.sol";
import {ModelRegistry} from "../../contracts/ModelRegistry.sol";
import {ProviderRegistry} from "../../contracts/ProviderRegistry.sol";
import {TestToken} from "../../contracts/test/TestToken.sol";

/// @notice Fuzz tests of settlement and penalty arithmetic and the request guards.
contract InferenceMarketFeesTest is Test {
    ModelRegistry models;
    ProviderRegistry providers;
    InferenceMarket market;
    TestToken token;

    address constant TREASURY = address(0x7EA);
    address constant MODEL_OWNER = address(0x0A11);
    address constant PROVIDER = address(0xB0B);
    address constant REQUESTER = address(0xCAFE);

    function setUp() public {
        (models, providers, market, token) = Deploy.system(TREASURY, 250, 0.5 ether);
        vm.deal(PROVIDER, 10 ether);
        vm.startPrank(PROVIDER);
        providers.stake{value: 1 ether}();
        vm.stopPrank();
    }

    function _registerAndServe(address feeToken, uint256 price, uint16 royaltyBps) internal returns (uint256 id) {
        vm.prank(MODEL_OWNER);
        id = models.register(Deploy.params(feeToken, price, royaltyBps));
        vm.prank(PROVIDER);
        providers.optIn(id);
    }

    function testFuzz_submit_splitsFeeExactly(
        uint256 price,
        uint256 royaltyBps,
        uint256 protocolBps,
        bool useToken
    ) public {
        price = bound(price, 0, type(uint96).max);
        royaltyBps = bound(royaltyBps, 0, 5000);
        protocolBps = bound(protocolBps, 0, 1000);
        market.setProtocolFee(uint16(protocolBps), TREASURY);
        address feeToken = useToken ? address(token) : address(0);
        uint256 modelId = _registerAndServe(feeToken, price, uint16(royaltyBps));

        vm.deal(REQUESTER, price);
        if (useToken) {
            token.mint(REQUESTER, price);
            vm.prank(REQUESTER);
            token.approve(address(market), price);
        }
        vm.prank(REQUESTER);
        uint256 id = market.requestInference{value: useToken ? 0 : price}(
            modelId,
            hex"01",
            price,
            uint64(block.timestamp + 1 hours),
            address(0),
            0
        );
        vm.prank(PROVIDER);
        market.claim(id);
        vm.prank(PROVIDER);
        market.submit(
            id,
            Deploy.request(REQUESTER, feeToken, price, address(0), 0, hex"01"),
            Deploy.tensor(hex"02020202")
        );

        uint256 royalty = market.balanceOf(MODEL_OWNER, feeToken);
        uint256 protocol = market.balanceOf(TREASURY, feeToken);
        uint256 provider = market.balanceOf(PROVIDER, feeToken);
        assertEq(royalty, (price * royaltyBps) / 10_000, "royalty");
        assertEq(protocol, (price * protocolBps) / 10_000, "protocol fee");
        assertEq(royalty + protocol + provider, price, "parts sum to the fee");
        assertTrue(provider >= price / 2 - (price * protocolBps) / 10_000, "provider keeps the rest");
        assertEq(market.escrowed(feeToken), 0, "escrow released");
        assertEq(market.owed(feeToken), price, "owed");
    }

    function testFuzz_requestInference_creditsExcessEth(uint256 price, uint256 excess) public {
        price = bound(price, 0, 100 ether);
        excess = bound(excess, 0, 100 ether);
        uint256 modelId = _registerAndServe(address(0), price, 0);
        vm.deal(REQUESTER, price + excess);
        vm.prank(REQUESTER);
        market.requestInference{value: price + excess}(
            modelId,
            hex"01",
            price + excess,
            uint64(block.timestamp + 1),
            address(0),
            0
        );
        assertEq(market.balanceOf(REQUESTER, address(0)), excess, "excess credited");
        assertEq(market.escrowed(address(0)), price, "price escrowed");
        assertEq(address(market).balance, price + excess, "balance");
    }

    function testFuzz_requestInference_rejectsWrongValue(uint256 value) public {
        uint256 modelId = _registerAndServe(address(0), 1 ether, 0);
        value = bound(value, 0, 10 ether);
        vm.assume(value != 2 ether);
        vm.deal(REQUESTER, value);
        vm.prank(REQUESTER);
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.MarketWrongValue.selector, value, 2 ether));
        market.requestInference{value: value}(modelId, hex"01", 2 ether, uint64(block.timestamp + 1), address(0), 0);
    }

    function testFuzz_requestInference_rejectsBadDeadlines(uint64 deadline) public {
        uint256 modelId = _registerAndServe(address(0), 0, 0);
        vm.warp(1_000_000);
        vm.assume(deadline <= block.timestamp || deadline > block.timestamp + 30 days);
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.MarketDeadlineInvalid.selector, deadline));
        market.requestInference(modelId, hex"01", 0, deadline, address(0), 0);
    }

    /// A claim reserves the penalty of its time; the expiry takes the penalty of its own time,
    /// at most that reservation, out of active stake only, and releases all of the reservation.
    function testFuzz_expire_takesMinOfPenaltyAndReservation_succeeds(
        uint256 penaltyAtClaim,
        uint256 penaltyAtExpiry,
        uint256 stake,
        uint256 unbond
    ) public {
        stake = bound(stake, 0, 20 ether);
        penaltyAtClaim = bound(penaltyAtClaim, 0, 1 ether + stake);
        penaltyAtExpiry = bound(penaltyAtExpiry, 0, type(uint96).max);
        vm.deal(PROVIDER, stake);
        if (stake > 0) {
            vm.prank(PROVIDER);
            providers.stake{value: stake}();
        }
        uint256 modelId = _registerAndServe(address(0), 1 ether, 0);
        market.setClaimPenalty(penaltyAtClaim);
        vm.deal(REQUESTER, 1 ether);
        vm.prank(REQUESTER);
        uint256 id = market.requestInference{value: 1 ether}(
            modelId,
            hex"01",
            1 ether,
            uint64(block.timestamp + 1 hours),
            address(0),
            0
        );
        vm.prank(PROVIDER);
        market.claim(id);
        assertEq(market.getRequest(id).reservedStake, penaltyAtClaim, "reserved at claim");
        // The provider unbonds some of what is free; the reservation stays.
        unbond = bound(unbond, 0, providers.freeStakeOf(PROVIDER));
        if (unbond > 0) {
            vm.prank(PROVIDER);
            providers.requestUnbond(unbond);
        }
        market.setClaimPenalty(penaltyAtExpiry);
        uint256 active = providers.stakeOf(PROVIDER);
        vm.warp(block.timestamp + 1 hours + 1);
        market.expire(id, Deploy.request(REQUESTER, address(0), 1 ether, address(0), 0, hex"01"));

        uint256 penalty = penaltyAtExpiry < penaltyAtClaim ? penaltyAtExpiry : penaltyAtClaim;
        assertEq(providers.stakeOf(PROVIDER), active - penalty, "penalty from active stake");
        (uint256 unbonding, ) = providers.unbondingOf(PROVIDER);
        assertEq(unbonding, unbond, "unbonding untouched");
        assertEq(providers.reservedOf(PROVIDER), 0, "reservation released");
        assertEq(market.balanceOf(REQUESTER, address(0)), 1 ether + penalty, "fee and penalty to the requester");
        assertEq(address(market).balance, market.owed(address(0)) + market.escrowed(address(0)), "market holds");
        assertEq(address(providers).balance, active - penalty + unbonding, "registry holds");
    }

    function testFuzz_setClaimPenalty_beyond96Bits_reverts(uint256 penalty) public {
        penalty = bound(penalty, uint256(type(uint96).max) + 1, type(uint256).max);
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceMarket.MarketPenaltyTooHigh.selector, penalty, type(uint96).max)
        );
        market.setClaimPenalty(penalty);
    }
}
