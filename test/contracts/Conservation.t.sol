// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "./utils/Test.sol";
import {Deploy} from "./utils/Deploy.sol";
import {IInferenceMarket} from "../../contracts/interfaces/IInferenceMarket.sol";
import {IModelRegistry} from "../../contracts/interfaces/IModelRegistry.sol";
import {IProviderRegistry} from "../../contracts/interfaces/IProviderRegistry.sol";
import {InferenceMarket} from "../../contracts/InferenceMarket.sol";
import {ModelRegistry} from "../../contracts/ModelRegistry.sol";
import {ProviderRegistry} from "../../contracts/ProviderRegistry.sol";
import {TestToken} from "../../contracts/test/TestToken.sol";
import {GasBurnerConsumer} from "../../contracts/test/GasBurnerConsumer.sol";

/// @notice Drives the market and the provider registry through random sequences of request,
/// claim, release, submit, claim-free fulfil and fulfilBatch (repeats, settled requests and
/// others' claims among the items), reportInvalidInput, expire, withdraw, price and claim-penalty
/// changes, unbonding requests and withdrawals, and time, in ETH and an ERC-20, and keeps ghost
/// totals of what went in and out. Every action either applies (and must succeed) or, when it
/// does not, returns early or must be refused with the exact error the contracts owe it. The
/// invariant runner ignores a handler call that reverts, so the handler never reverts on a
/// broken expectation: it records the first one in {failure}, which an invariant checks.
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
    uint256 public constant MAX_PENALTY = 2 ether;

    address[3] internal requesters = [address(0xA1), address(0xA2), address(0xA3)];
    address[2] internal provs = [address(0xB1), address(0xB2)];

    /// Ghost totals per token (address(0) = ETH) of the market: what came in (requests, and
    /// slashed stake as ETH), went out (withdrawals), and the fees of open requests.
    mapping(address token => uint256) public deposited;
    mapping(address token => uint256) public withdrawn;
    mapping(address token => uint256) public openFees;
    /// Ghost ETH totals of the whole system (market and registry): what entered from outside
    /// (request payments, stakes) and what left to outside (market and unbonded withdrawals).
    uint256 public ethIn;
    uint256 public ethOut;
    mapping(bytes32 op => uint256) public calls;
    /// The first broken expectation of an action (empty while none).
    string public failure;

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
            vm.deal(provs[i], 1000 ether);
            _stake(provs[i], 5 ether);
            vm.startPrank(provs[i]);
            providers.optIn(ETH_MODEL);
            providers.optIn(TOKEN_MODEL);
            vm.stopPrank();
        }
    }

    function providerCount() external view returns (uint256) {
        return provs.length;
    }

    function provider(uint256 i) external view returns (address) {
        return provs[i];
    }

    function _pick(uint256 seed) internal view returns (uint256 id) {
        uint256 count = market.requestCount();
        if (count == 0) return 0;
        return 1 + (seed % count);
    }

    /// Records `what` as the failure unless `ok` (the first failure is kept).
    function _expect(bool ok, string memory what) internal {
        if (!ok && bytes(failure).length == 0) failure = what;
    }

    /// Records `what` as the failure unless the revert data `err` is `expected`.
    function _expectError(bytes memory err, bytes memory expected, string memory what) internal {
        _expect(keccak256(err) == keccak256(expected), what);
    }

    function _stake(address p, uint256 amount) internal {
        vm.prank(p);
        providers.stake{value: amount}();
        ethIn += amount;
    }

    /// The parameters every request was made with (the market stores only their commitment).
    mapping(uint256 requestId => IInferenceMarket.RequestParams) internal _paramsOf;

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
            uint256 id = market.requestInference(modelId, hex"0102", maxFee, deadline, callback, 50_000);
            vm.stopPrank();
            _paramsOf[id] = Deploy.request(requester, address(token), price, callback, 50_000, hex"0102");
            deposited[address(token)] += price;
            openFees[address(token)] += price;
        } else {
            vm.deal(requester, maxFee);
            vm.prank(requester);
            uint256 id = market.requestInference{value: maxFee}(modelId, hex"0102", maxFee, deadline, callback, 50_000);
            _paramsOf[id] = Deploy.request(requester, address(0), price, callback, 50_000, hex"0102");
            deposited[address(0)] += maxFee;
            ethIn += maxFee;
            openFees[address(0)] += price;
        }
        ++calls["request"];
    }

    /// Claims a pending request. A provider below the minimum stake tops up first; one whose
    /// free stake does not cover the reservation either tops up or (half the time) must be
    /// refused with {ProviderInsufficientFreeStake}.
    function claim(uint256 idSeed, uint256 provSeed, bool topUp) external {
        uint256 id = _pick(idSeed);
        if (id == 0) return;
        IInferenceMarket.Request memory r = market.getRequest(id);
        if (r.status != IInferenceMarket.RequestStatus.Pending || block.timestamp > r.deadline) return;
        address p = provs[provSeed % provs.length];
        uint256 active = providers.stakeOf(p);
        if (active < providers.minStake()) _stake(p, providers.minStake() - active);
        uint256 reservation = market.reservationOf(IModelRegistry.VerificationMode.Attested);
        uint256 free = providers.freeStakeOf(p);
        if (free < reservation) {
            if (!topUp) {
                vm.prank(p);
                try market.claim(id) {
                    _expect(false, "claim beyond the free stake succeeded");
                } catch (bytes memory err) {
                    bytes memory expected = abi.encodeWithSelector(
                        IProviderRegistry.ProviderInsufficientFreeStake.selector,
                        p,
                        free,
                        reservation
                    );
                    _expectError(err, expected, "claim beyond the free stake: wrong error");
                }
                ++calls["claim refused"];
                return;
            }
            _stake(p, reservation - free);
        }
        vm.prank(p);
        try market.claim(id) {} catch {
            _expect(false, "claim within the free stake reverted");
            return;
        }
        _expect(market.getRequest(id).reservedStake == reservation, "claim reserves reservationOf(mode)");
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
        uint256 reservedBefore = providers.reservedOf(r.provider);
        vm.prank(r.provider);
        try market.release(id) {} catch {
            _expect(false, "release reverted");
            return;
        }
        _expect(providers.reservedOf(r.provider) == reservedBefore - r.reservedStake, "release frees the reservation");
        ++calls["release"];
    }

    function submit(uint256 idSeed) external {
        (uint256 id, IInferenceMarket.Request memory r, bool ok) = _claimed(idSeed);
        if (!ok) return;
        uint256 stakeBefore = providers.stakeOf(r.provider);
        vm.prank(r.provider);
        try market.submit(id, _paramsOf[id], Deploy.tensor(hex"0a0b0c0d")) {} catch {
            _expect(false, "submit reverted");
            return;
        }
        _expect(providers.stakeOf(r.provider) == stakeBefore, "submit slashes nothing");
        openFees[_paramsOf[id].feeToken] -= _paramsOf[id].fee;
        ++calls["submit"];
    }

    /// Whether provider `p` may serve request `r` without a claim now: Pending or Claimed by
    /// `p`, deadline not passed.
    function _openTo(IInferenceMarket.Request memory r, address p) internal view returns (bool) {
        bool open =
            r.status == IInferenceMarket.RequestStatus.Pending ||
                (r.status == IInferenceMarket.RequestStatus.Claimed && r.provider == p);
        return open && block.timestamp <= r.deadline;
    }

    /// The provider's share of `fee` for a request of `modelId` (the model's royalty and the
    /// protocol's 2.5 % off, each rounded down).
    function _providerShare(uint256 modelId, uint256 fee) internal view returns (uint256) {
        (, uint16 royaltyBps) = models.royaltyInfo(modelId);
        (uint16 protocolBps, ) = market.protocolFee();
        return fee - (fee * royaltyBps) / 10_000 - (fee * protocolBps) / 10_000;
    }

    /// A provider tops up to the minimum stake (fulfilment reserves nothing).
    function _eligible(address p) internal {
        uint256 active = providers.stakeOf(p);
        if (active < providers.minStake()) _stake(p, providers.minStake() - active);
    }

    /// Serves one request claim-free (or one the provider claimed).
    function fulfil(uint256 idSeed, uint256 provSeed) external {
        uint256 id = _pick(idSeed);
        if (id == 0) return;
        IInferenceMarket.Request memory r = market.getRequest(id);
        address p = provs[provSeed % provs.length];
        if (!_openTo(r, p)) return;
        _eligible(p);
        uint256 reservedBefore = providers.reservedOf(p);
        uint256 creditBefore = market.balanceOf(p, _paramsOf[id].feeToken);
        vm.prank(p);
        try market.fulfil(id, _paramsOf[id], Deploy.tensor(hex"0a0b0c0d")) {} catch {
            _expect(false, "fulfil reverted");
            return;
        }
        _expect(providers.reservedOf(p) == reservedBefore - r.reservedStake, "fulfil frees its claim's reservation");
        _expect(
            market.balanceOf(p, _paramsOf[id].feeToken) - creditBefore == _providerShare(r.modelId, _paramsOf[id].fee),
            "fulfil credits the provider's share"
        );
        openFees[_paramsOf[id].feeToken] -= _paramsOf[id].fee;
        ++calls["fulfil"];
    }

    /// Serves up to 6 picked requests (repeats, settled ones and others' claims among them) in
    /// one batch: what is open to the provider is served, the rest skipped, and the provider's
    /// one credit per token equals the sum of the per-item shares.
    function fulfilBatch(uint256 seeds, uint256 provSeed, uint256 countSeed) external {
        if (market.requestCount() == 0) return;
        address p = provs[provSeed % provs.length];
        _eligible(p);
        uint256 count = bound(countSeed, 1, 6);
        uint256[] memory ids = new uint256[](count);
        IInferenceMarket.RequestParams[] memory params = new IInferenceMarket.RequestParams[](count);
        bytes[] memory outputs = new bytes[](count);
        uint256 expectedServed;
        uint256[2] memory share; // ETH, token
        uint256 reserved;
        for (uint256 i; i < count; ++i) {
            ids[i] = _pick(uint256(keccak256(abi.encode(seeds, i))));
            outputs[i] = Deploy.tensor(hex"0a0b0c0d");
            params[i] = _paramsOf[ids[i]];
            IInferenceMarket.Request memory r = market.getRequest(ids[i]);
            bool repeat;
            for (uint256 j; j < i; ++j) repeat = repeat || ids[j] == ids[i];
            if (repeat || !_openTo(r, p)) continue;
            ++expectedServed;
            reserved += r.reservedStake;
            share[params[i].feeToken == address(0) ? 0 : 1] += _providerShare(r.modelId, params[i].fee);
            openFees[params[i].feeToken] -= params[i].fee;
        }
        uint256 reservedBefore = providers.reservedOf(p);
        uint256 ethBefore = market.balanceOf(p, address(0));
        uint256 tokenBefore = market.balanceOf(p, address(token));
        vm.prank(p);
        try market.fulfilBatch(ids, params, outputs) returns (uint256 served) {
            _expect(served == expectedServed, "fulfilBatch serves exactly the open items, once");
        } catch {
            _expect(false, "fulfilBatch reverted");
            return;
        }
        _expect(providers.reservedOf(p) == reservedBefore - reserved, "fulfilBatch frees its claims' reservations");
        _expect(market.balanceOf(p, address(0)) - ethBefore == share[0], "batch ETH credit == sum of shares");
        _expect(market.balanceOf(p, address(token)) - tokenBefore == share[1], "batch token credit == sum of shares");
        ++calls["fulfilBatch"];
    }

    function reportInvalidInput(uint256 idSeed, uint16 reason) external {
        (uint256 id, IInferenceMarket.Request memory r, bool ok) = _claimed(idSeed);
        if (!ok) return;
        uint256 stakeBefore = providers.stakeOf(r.provider);
        vm.prank(r.provider);
        try market.reportInvalidInput(id, _paramsOf[id], reason) {} catch {
            _expect(false, "reportInvalidInput reverted");
            return;
        }
        _expect(providers.stakeOf(r.provider) == stakeBefore, "reportInvalidInput slashes nothing");
        openFees[_paramsOf[id].feeToken] -= _paramsOf[id].fee;
        ++calls["reportInvalidInput"];
    }

    function expire(uint256 idSeed) external {
        uint256 id = _pick(idSeed);
        if (id == 0) return;
        IInferenceMarket.Request memory r = market.getRequest(id);
        bool claimed = r.status == IInferenceMarket.RequestStatus.Claimed;
        if ((!claimed && r.status != IInferenceMarket.RequestStatus.Pending) || block.timestamp <= r.deadline) return;
        uint256 stakeBefore;
        uint256 unbondingBefore;
        if (claimed) {
            stakeBefore = providers.stakeOf(r.provider);
            (unbondingBefore, ) = providers.unbondingOf(r.provider);
        }
        uint256 penalty = market.claimPenalty();
        try market.expire(id, _paramsOf[id]) {} catch {
            _expect(false, "expire reverted");
            return;
        }
        if (claimed) {
            // The penalty is min(current penalty, reserved), taken from active stake only.
            uint256 expected = penalty < r.reservedStake ? penalty : r.reservedStake;
            uint256 slashed = stakeBefore - providers.stakeOf(r.provider);
            (uint256 unbondingAfter, ) = providers.unbondingOf(r.provider);
            _expect(slashed == expected, "expire slashes min(penalty, reserved)");
            _expect(unbondingAfter == unbondingBefore, "unbonding stake is never slashed");
            // Slashed stake enters the market as ETH credited to the requester.
            deposited[address(0)] += slashed;
        }
        openFees[_paramsOf[id].feeToken] -= _paramsOf[id].fee;
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
        try market.withdraw(t) {} catch {
            _expect(false, "withdraw reverted");
            return;
        }
        uint256 got = (t == address(0) ? account.balance : token.balanceOf(account)) - before;
        _expect(got == amount, "withdrawn amount");
        withdrawn[t] += amount;
        if (t == address(0)) ethOut += amount;
        ++calls["withdraw"];
    }

    /// Tries to unbond up to a little more than the provider's whole active stake: what is not
    /// free (reserved by open claims) must be refused.
    function requestUnbond(uint256 provSeed, uint256 amountSeed) external {
        address p = provs[provSeed % provs.length];
        uint256 active = providers.stakeOf(p);
        uint256 free = providers.freeStakeOf(p);
        uint256 amount = bound(amountSeed, 1, active + 1);
        if (amount > free) {
            vm.prank(p);
            try providers.requestUnbond(amount) {
                _expect(false, "unbonding reserved stake succeeded");
            } catch (bytes memory err) {
                bytes memory expected = abi.encodeWithSelector(
                    IProviderRegistry.ProviderInsufficientFreeStake.selector,
                    p,
                    free,
                    amount
                );
                _expectError(err, expected, "unbonding reserved stake: wrong error");
            }
            ++calls["requestUnbond refused"];
            return;
        }
        vm.prank(p);
        try providers.requestUnbond(amount) {} catch {
            _expect(false, "requestUnbond of free stake reverted");
            return;
        }
        _expect(providers.stakeOf(p) == active - amount, "requestUnbond moves free stake out of the active stake");
        ++calls["requestUnbond"];
    }

    /// Tries to withdraw unbonded stake, after waiting out the delay first if `wait` (so that
    /// withdrawals happen although the delay is longer than any deadline).
    function withdrawUnbonded(uint256 provSeed, bool wait) external {
        address p = provs[provSeed % provs.length];
        (uint256 amount, uint256 releaseTime) = providers.unbondingOf(p);
        if (wait && block.timestamp < releaseTime) vm.warp(releaseTime);
        bytes memory expected;
        if (amount == 0) {
            expected = abi.encodeWithSelector(IProviderRegistry.ProviderNothingToWithdraw.selector, p);
        } else if (block.timestamp < releaseTime) {
            expected = abi.encodeWithSelector(IProviderRegistry.ProviderUnbondingLocked.selector, p, releaseTime);
        }
        if (expected.length != 0) {
            vm.prank(p);
            try providers.withdrawUnbonded() {
                _expect(false, "early or empty withdrawUnbonded succeeded");
            } catch (bytes memory err) {
                _expectError(err, expected, "early or empty withdrawUnbonded: wrong error");
            }
            ++calls["withdrawUnbonded refused"];
            return;
        }
        uint256 before = p.balance;
        vm.prank(p);
        try providers.withdrawUnbonded() {} catch {
            _expect(false, "withdrawUnbonded after the delay reverted");
            return;
        }
        _expect(p.balance - before == amount, "unbonded amount");
        ethOut += amount;
        ++calls["withdrawUnbonded"];
    }

    function setPrice(bool useToken, uint256 priceSeed) external {
        vm.prank(MODEL_OWNER);
        models.updatePrice(useToken ? TOKEN_MODEL : ETH_MODEL, bound(priceSeed, 0, useToken ? 1e24 : 1 ether));
        ++calls["setPrice"];
    }

    /// The owner raises or lowers the claim penalty while claims are open.
    function setClaimPenalty(uint256 penaltySeed) external {
        vm.prank(market.owner());
        market.setClaimPenalty(bound(penaltySeed, 0, MAX_PENALTY));
        ++calls["setClaimPenalty"];
    }

    function skipTime(uint256 secondsSeed) external {
        vm.warp(block.timestamp + bound(secondsSeed, 1, 2 days));
        ++calls["skipTime"];
    }
}

/// @notice Conservation of funds and of reserved stake, as a real invariant test (Hardhat 3 /
/// EDR runs `invariant_*` functions against the contracts named with `targetContract`).
/// forge-config: default.invariant.runs = 48
/// forge-config: default.invariant.depth = 60
contract ConservationInvariantTest is Test {
    MarketHandler handler;
    InferenceMarket market;
    ProviderRegistry providers;
    TestToken token;

    function setUp() public {
        ModelRegistry models;
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

    /// No action met an outcome other than the one it was owed (see {MarketHandler-failure}).
    function invariant_handlerExpectations() public view {
        string memory failure = handler.failure();
        assertTrue(bytes(failure).length == 0, failure);
    }

    function invariant_conservationOfEth() public view {
        _check(address(0), address(market).balance);
    }

    function invariant_conservationOfToken() public view {
        _check(address(token), token.balanceOf(address(market)));
    }

    /// ETH of the whole system: what entered (payments, stakes) is what left (withdrawals of
    /// credits and of unbonded stake) plus what the market and the registry hold.
    function invariant_conservationOfEthWithRegistry() public view {
        assertEq(
            handler.ethIn(),
            handler.ethOut() + address(market).balance + address(providers).balance,
            "in == out + market + registry"
        );
    }

    /// The registry holds exactly the providers' stakes: active (reserved included) and unbonding.
    function invariant_registryHoldsTheStakes() public view {
        uint256 total;
        for (uint256 i; i < handler.providerCount(); ++i) {
            address p = handler.provider(i);
            (uint256 unbonding, ) = providers.unbondingOf(p);
            total += providers.stakeOf(p) + unbonding;
        }
        assertEq(address(providers).balance, total, "registry balance == stakes + unbonding");
    }

    function invariant_reservedWithinStake() public view {
        for (uint256 i; i < handler.providerCount(); ++i) {
            address p = handler.provider(i);
            assertLe(providers.reservedOf(p), providers.stakeOf(p), "reservedOf <= stakeOf");
            assertEq(providers.freeStakeOf(p), providers.stakeOf(p) - providers.reservedOf(p), "free stake");
        }
    }

    /// Every reservation belongs to an open job: a provider's reserved stake is the sum of the
    /// `reservedStake` of the requests it holds Claimed (the only open status of Attested jobs).
    function invariant_reservationsMatchOpenClaims() public view {
        uint256 count = market.requestCount();
        for (uint256 i; i < handler.providerCount(); ++i) {
            address p = handler.provider(i);
            uint256 sum;
            for (uint256 id = 1; id <= count; ++id) {
                IInferenceMarket.Request memory r = market.getRequest(id);
                if (r.status == IInferenceMarket.RequestStatus.Claimed && r.provider == p) sum += r.reservedStake;
            }
            assertEq(providers.reservedOf(p), sum, "reservedOf == sum of open reservations");
        }
    }
}
