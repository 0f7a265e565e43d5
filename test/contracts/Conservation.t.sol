// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "./utils/Test.sol";
import {Deploy} from "./utils/Deploy.sol";
import {IInferenceMarket} from "../../contracts/interfaces/IInferenceMarket.sol";
import {InferenceMarket} from "../../contracts/InferenceMarket.sol";
import {ModelRegistry} from "../../contracts/ModelRegistry.sol";
import {ProviderRegistry} from "../../contracts/ProviderRegistry.sol";
import {TestToken} from "../../contracts/test/TestToken.sol";
import {GasBurnerConsumer} from "../../contracts/test/GasBurnerConsumer.sol";

/// @notice Drives the market through random sequences of request, claim, release, submit,
/// reportInvalidInput, expire, withdraw, price changes and time, in ETH and an ERC-20, and
/// keeps ghost totals of what went in and out. Every action returns early instead of
/// reverting when it does not apply, so sequences stay long.
contract MarketHandler is Test {
    InferenceMarket public immutable market;
    ModelRegistry public immutable models;
    ProviderRegistry public immutable providers;
    TestToken public immutable token;
    GasBurnerConsumer public immutable consumer;
    address public immutable treasury;
    address public constant MODEL_OWNER = address(0x0A11);
    uint256 public constant ETH_MODEL = 1;
    uint256 public constant TOKEN_MODEL = 2;

    address[3] internal requesters = [address(0xA1), address(0xA2), address(0xA3)];
    address[2] internal provs = [address(0xB1), address(0xB2)];

    /// Ghost totals per token (address(0) = ETH).
    mapping(address token => uint256) public deposited;
    mapping(address token => uint256) public withdrawn;
    mapping(address token => uint256) public openFees;
    mapping(bytes32 op => uint256) public calls;

    constructor(
        InferenceMarket market_,
        ModelRegistry models_,
        ProviderRegistry providers_,
        TestToken token_,
        address treasury_
    ) {
        market = market_;
        models = models_;
        providers = providers_;
        token = token_;
        treasury = treasury_;
        consumer = new GasBurnerConsumer();
        for (uint256 i; i < provs.length; ++i) {
            vm.deal(provs[i], 100 ether);
            vm.startPrank(provs[i]);
            providers.stake{value: 5 ether}();
            providers.optIn(ETH_MODEL);
            providers.optIn(TOKEN_MODEL);
            vm.stopPrank();
        }
    }

    function _pick(uint256 seed) internal view returns (uint256 id) {
        uint256 count = market.requestCount();
        if (count == 0) return 0;
        return 1 + (seed % count);
    }

    function request(
        uint256 actorSeed,
        uint256 extraSeed,
        bool useToken,
        uint256 deadlineSeed,
        uint256 callbackSeed
    ) external {
        address requester = requesters[actorSeed % requesters.length];
        uint64 deadline = uint64(block.timestamp + bound(deadlineSeed, 1, 3 days));
        uint256 modelId = useToken ? TOKEN_MODEL : ETH_MODEL;
        uint256 price = models.getActiveTerms(modelId).price;
        uint256 maxFee = price + bound(extraSeed, 0, 1 ether);
        // A third of the requests call back a consumer that records, burns its gas or bombs.
        address callback;
        if (callbackSeed % 3 == 0) {
            callback = address(consumer);
            consumer.setMode(GasBurnerConsumer.Mode((callbackSeed / 3) % 4));
        }
        if (useToken) {
            token.mint(requester, price);
            vm.startPrank(requester);
            token.approve(address(market), price);
            market.requestInference(modelId, hex"0102", maxFee, deadline, callback, 50_000);
            vm.stopPrank();
            deposited[address(token)] += price;
            openFees[address(token)] += price;
        } else {
            vm.deal(requester, maxFee);
            vm.prank(requester);
            market.requestInference{value: maxFee}(modelId, hex"0102", maxFee, deadline, callback, 50_000);
            deposited[address(0)] += maxFee;
            openFees[address(0)] += price;
        }
        ++calls["request"];
    }

    function claim(uint256 idSeed, uint256 provSeed) external {
        uint256 id = _pick(idSeed);
        if (id == 0) return;
        IInferenceMarket.Request memory r = market.getRequest(id);
        if (r.status != IInferenceMarket.RequestStatus.Pending || block.timestamp > r.deadline) return;
        address p = provs[provSeed % provs.length];
        if (!providers.isEligible(p, r.modelId)) {
            vm.prank(p);
            providers.stake{value: 1 ether}();
        }
        vm.prank(p);
        market.claim(id);
        ++calls["claim"];
    }

    function _claimed(uint256 idSeed) internal view returns (uint256 id, IInferenceMarket.Request memory r, bool ok) {
        id = _pick(idSeed);
        if (id == 0) return (0, r, false);
        r = market.getRequest(id);
        ok = r.status == IInferenceMarket.RequestStatus.Claimed && block.timestamp <= r.deadline;
    }

    function release(uint256 idSeed) external {
        (uint256 id, IInferenceMarket.Request memory r, bool ok) = _claimed(idSeed);
        if (!ok) return;
        vm.prank(r.provider);
        market.release(id);
        ++calls["release"];
    }

    function submit(uint256 idSeed) external {
        (uint256 id, IInferenceMarket.Request memory r, bool ok) = _claimed(idSeed);
        if (!ok) return;
        vm.prank(r.provider);
        market.submit(id, Deploy.tensor(hex"0a0b0c0d"));
        openFees[r.feeToken] -= r.fee;
        ++calls["submit"];
    }

    function reportInvalidInput(uint256 idSeed, uint16 reason) external {
        (uint256 id, IInferenceMarket.Request memory r, bool ok) = _claimed(idSeed);
        if (!ok) return;
        vm.prank(r.provider);
        market.reportInvalidInput(id, reason);
        openFees[r.feeToken] -= r.fee;
        ++calls["reportInvalidInput"];
    }

    function expire(uint256 idSeed) external {
        uint256 id = _pick(idSeed);
        if (id == 0) return;
        IInferenceMarket.Request memory r = market.getRequest(id);
        bool open =
            r.status == IInferenceMarket.RequestStatus.Pending || r.status == IInferenceMarket.RequestStatus.Claimed;
        if (!open || block.timestamp <= r.deadline) return;
        uint256 stakeBefore;
        if (r.provider != address(0)) stakeBefore = _totalStake(r.provider);
        market.expire(id);
        // Slashed stake enters the market as ETH credited to the requester.
        if (r.provider != address(0)) deposited[address(0)] += stakeBefore - _totalStake(r.provider);
        openFees[r.feeToken] -= r.fee;
        ++calls["expire"];
    }

    function withdraw(uint256 actorSeed, bool useToken) external {
        address[7] memory accounts = [
            requesters[0],
            requesters[1],
            requesters[2],
            provs[0],
            provs[1],
            MODEL_OWNER,
            treasury
        ];
        address account = accounts[actorSeed % accounts.length];
        address t = useToken ? address(token) : address(0);
        uint256 amount = market.balanceOf(account, t);
        if (amount == 0) return;
        uint256 before = t == address(0) ? account.balance : token.balanceOf(account);
        vm.prank(account);
        market.withdraw(t);
        uint256 got = (t == address(0) ? account.balance : token.balanceOf(account)) - before;
        assertEq(got, amount, "withdrawn amount");
        withdrawn[t] += amount;
        ++calls["withdraw"];
    }

    function setPrice(bool useToken, uint256 priceSeed) external {
        vm.prank(MODEL_OWNER);
        models.updatePrice(useToken ? TOKEN_MODEL : ETH_MODEL, bound(priceSeed, 0, useToken ? 1e24 : 1 ether));
        ++calls["setPrice"];
    }

    function skipTime(uint256 secondsSeed) external {
        vm.warp(block.timestamp + bound(secondsSeed, 1, 2 days));
        ++calls["skipTime"];
    }

    function _totalStake(address p) internal view returns (uint256) {
        (uint256 unbonding, ) = providers.unbondingOf(p);
        return providers.stakeOf(p) + unbonding;
    }
}

/// @notice Conservation of funds, as a real invariant test (Hardhat 3 / EDR runs `invariant_*`
/// functions against the contracts named with `targetContract`).
/// forge-config: default.invariant.runs = 48
/// forge-config: default.invariant.depth = 60
contract ConservationInvariantTest is Test {
    MarketHandler handler;
    InferenceMarket market;
    TestToken token;

    function setUp() public {
        ModelRegistry models;
        ProviderRegistry providers;
        address treasury = address(0x7EA);
        (models, providers, market, token) = Deploy.system(treasury, 250, 0.5 ether);
        handler = new MarketHandler(market, models, providers, token, treasury);
        vm.deal(address(handler), 0);
        vm.prank(handler.MODEL_OWNER());
        models.register(Deploy.params(address(0), 0.01 ether, 1000));
        vm.prank(handler.MODEL_OWNER());
        models.register(Deploy.params(address(token), 1000e18, 500));
        targetContract(address(handler));
    }

    function _check(address t, uint256 balance) internal view {
        uint256 escrowed = market.escrowed(t);
        uint256 owed = market.owed(t);
        assertEq(balance, escrowed + owed, "balance == escrowed + owed");
        assertEq(
            handler.deposited(t),
            handler.withdrawn(t) + escrowed + owed,
            "deposited == withdrawn + escrowed + owed"
        );
        assertEq(escrowed, handler.openFees(t), "escrowed == fees of open requests");
    }

    function invariant_conservationOfEth() public view {
        _check(address(0), address(market).balance);
    }

    function invariant_conservationOfToken() public view {
        _check(address(token), token.balanceOf(address(market)));
    }
}
