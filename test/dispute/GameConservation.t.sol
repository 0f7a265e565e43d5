// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "../contracts/utils/Test.sol";
import {Deploy} from "../contracts/utils/Deploy.sol";
import {ChunkMerkle} from "../../contracts/libraries/ChunkMerkle.sol";
import {IDisputeGame, Duration} from "../../contracts/interfaces/IDisputeGame.sol";
import {IInferenceMarket} from "../../contracts/interfaces/IInferenceMarket.sol";
import {IModelRegistry} from "../../contracts/interfaces/IModelRegistry.sol";
import {DisputeGame} from "../../contracts/dispute/DisputeGame.sol";
import {LayerSpec} from "../../contracts/dispute/LayerSpec.sol";
import {LayerStepProver} from "../../contracts/dispute/LayerStepProver.sol";
import {InferenceMarket} from "../../contracts/InferenceMarket.sol";
import {ModelRegistry} from "../../contracts/ModelRegistry.sol";
import {ProviderRegistry} from "../../contracts/ProviderRegistry.sol";
import {TestToken} from "../../contracts/test/TestToken.sol";

/// @notice A one-layer Optimistic model (`relu` of a [1, 1] int8 input) whose whole game fits a
/// few calls: its trace is one element, so a challenge goes straight to the leaf, the defender
/// reveals its one-byte chunk and the challenger proves the relu step.
library TinyModel {
    bytes internal constant HEADER =
        hex"010102"
        hex"00000001"
        hex"00000001";

    function spec() internal pure returns (bytes memory) {
        return
            abi.encode(
                LayerSpec.Spec({
                    kind: LayerSpec.RELU,
                    inputA: LayerSpec.MODEL_INPUT,
                    inputB: -1,
                    outElements: 1,
                    elementSize: 1,
                    activation: 0,
                    weightsOffset: 0,
                    params: new uint32[](0)
                })
            );
    }

    function register(ModelRegistry models, uint256 price, uint32 window) internal {
        IModelRegistry.RegisterParams memory p = Deploy.params(address(0), price, 1000);
        uint32[] memory shape = new uint32[](2);
        (shape[0], shape[1]) = (1, 1);
        (p.inputShape, p.outputShape) = (shape, shape);
        p.mode = IModelRegistry.VerificationMode.Optimistic;
        p.weightsRoot = keccak256("no weights");
        p.layoutRoot = ChunkMerkle.leafHash(0, spec());
        p.layerCount = 1;
        p.challengeWindow = window;
        models.register(p);
    }

    function input(int8 x) internal pure returns (bytes memory) {
        return abi.encodePacked(bytes1(0x00), HEADER, x);
    }

    function output(int8 y) internal pure returns (bytes memory) {
        return abi.encodePacked(HEADER, y);
    }

    function roots(int8 y) internal pure returns (bytes32[] memory r) {
        r = new bytes32[](1);
        r[0] = ChunkMerkle.leafHash(0, abi.encodePacked(y));
    }

    function relu(int8 x) internal pure returns (int8) {
        return x < 0 ? int8(0) : x;
    }

    function other(int8 y) internal pure returns (int8) {
        return y == 127 ? int8(126) : y + 1;
    }

    function challengeParams(
        int8 x,
        int8 defenderY,
        int8 challengerY
    ) internal pure returns (IDisputeGame.ChallengeParams memory) {
        return
            IDisputeGame.ChallengeParams({
                input: input(x),
                defenderRoots: roots(defenderY),
                challengerRoots: roots(challengerY),
                layerSpec: spec(),
                layoutProof: new bytes32[](0)
            });
    }

    function stepProof(int8 x) internal pure returns (bytes memory) {
        LayerStepProver.ChunkProof[] memory c = new LayerStepProver.ChunkProof[](1);
        c[0] = LayerStepProver.ChunkProof(1, 0, abi.encodePacked(x), new bytes32[](0));
        return abi.encode(c);
    }
}

/// @notice Drives market and dispute game through random sequences of request, claim,
/// submitOptimistic (honest or not), challenge (right or wrong), revealChunk, proveStep,
/// claimTimeout, finalize, expire, withdrawals from both and time, and keeps ghost totals of
/// the ETH that entered and left each contract. Actions return early when they do not apply.
/// Checks made inside actions count failures in {failures} (a reverting handler call would be
/// discarded by the runner).
contract GameHandler is Test {
    InferenceMarket public immutable market;
    ProviderRegistry public immutable providers;
    DisputeGame public immutable game;
    address public immutable treasury;
    uint256 public constant MODEL = 1;
    uint256 public constant PRICE = 0.01 ether;
    uint32 public constant WINDOW = 1 hours;
    uint256 public constant BOND = 0.1 ether;
    uint256 public constant SLASH = 2 ether;
    uint16 public constant CHALLENGER_BPS = 5000;
    uint16 public constant DEFENDER_BPS = 3000;

    address[2] internal requesters = [address(0xA1), address(0xA2)];
    address[2] internal provs = [address(0xB1), address(0xB2)];
    address[2] internal challengers = [address(0xC1), address(0xC2)];

    mapping(uint256 requestId => int8) internal inputOf;
    mapping(uint256 requestId => int8) internal submittedOf;

    /// Ghost totals.
    uint256 public marketIn;
    uint256 public marketOut;
    uint256 public gameIn;
    uint256 public gameOut;
    uint256 public slashedTotal;
    uint256 public failures;
    mapping(bytes32 op => uint256) public calls;

    constructor(InferenceMarket market_, ProviderRegistry providers_, DisputeGame game_, address treasury_) {
        market = market_;
        providers = providers_;
        game = game_;
        treasury = treasury_;
        for (uint256 i; i < 2; ++i) {
            vm.deal(requesters[i], 100 ether);
            vm.deal(challengers[i], 100 ether);
            vm.deal(provs[i], 100 ether);
            vm.startPrank(provs[i]);
            providers.stake{value: 5 ether}();
            providers.optIn(MODEL);
            vm.stopPrank();
        }
    }

    /// @notice Every address that may hold ETH in this system.
    function holders() public view returns (address[] memory h) {
        h = new address[](11);
        (h[0], h[1], h[2]) = (address(market), address(game), address(providers));
        (h[3], h[4], h[5], h[6]) = (requesters[0], requesters[1], provs[0], provs[1]);
        (h[7], h[8], h[9], h[10]) = (challengers[0], challengers[1], treasury, address(0x0A11));
    }

    function _pick(uint256 seed) internal view returns (uint256 id) {
        uint256 count = market.requestCount();
        return count == 0 ? 0 : 1 + (seed % count);
    }

    function _status(uint256 id) internal view returns (IInferenceMarket.RequestStatus) {
        return market.getRequest(id).status;
    }

    function request(uint256 actorSeed, int8 x, uint256 extraSeed) external {
        address requester = requesters[actorSeed % 2];
        uint256 maxFee = PRICE + bound(extraSeed, 0, 0.1 ether);
        vm.prank(requester);
        uint256 id = market.requestInference{value: maxFee}(
            MODEL,
            TinyModel.input(x),
            maxFee,
            uint64(block.timestamp + 1 days),
            address(0),
            0
        );
        inputOf[id] = x;
        marketIn += maxFee;
        ++calls["request"];
    }

    function claim(uint256 idSeed, uint256 provSeed) external {
        uint256 id = _pick(idSeed);
        if (id == 0) return;
        IInferenceMarket.Request memory r = market.getRequest(id);
        if (r.status != IInferenceMarket.RequestStatus.Pending || block.timestamp > r.deadline) return;
        address p = provs[provSeed % 2];
        if (!providers.isEligible(p, MODEL)) {
            vm.prank(p);
            providers.stake{value: 3 ether}();
        }
        vm.prank(p);
        market.claim(id);
        ++calls["claim"];
    }

    function submitOptimistic(uint256 idSeed, bool cheat) external {
        uint256 id = _pick(idSeed);
        if (id == 0) return;
        IInferenceMarket.Request memory r = market.getRequest(id);
        if (r.status != IInferenceMarket.RequestStatus.Claimed || block.timestamp > r.deadline) return;
        int8 y = TinyModel.relu(inputOf[id]);
        if (cheat) y = TinyModel.other(y);
        vm.prank(r.provider);
        market.submitOptimistic(id, TinyModel.output(y), TinyModel.roots(y));
        submittedOf[id] = y;
        ++calls["submitOptimistic"];
    }

    /// @dev Right when the provider cheated (the challenger posts the true output), wrong when
    /// it did not (the challenger posts another one).
    function challenge(uint256 idSeed, uint256 actorSeed) external {
        uint256 id = _pick(idSeed);
        if (id == 0 || _status(id) != IInferenceMarket.RequestStatus.Submitted) return;
        if (block.timestamp >= market.windowEndOf(id)) return;
        int8 y = submittedOf[id];
        int8 truth = TinyModel.relu(inputOf[id]);
        int8 claimed = y == truth ? TinyModel.other(y) : truth;
        vm.prank(challengers[actorSeed % 2]);
        game.challenge{value: BOND}(id, TinyModel.challengeParams(inputOf[id], y, claimed));
        gameIn += BOND;
        ++calls["challenge"];
    }

    function _game(uint256 seed) internal view returns (uint256 gameId, IDisputeGame.GameView memory g) {
        uint256 count = game.gameCount();
        if (count == 0) return (0, g);
        gameId = 1 + (seed % count);
        g = game.getGame(gameId);
    }

    function revealChunk(uint256 gameSeed) external {
        (uint256 gameId, IDisputeGame.GameView memory g) = _game(gameSeed);
        if (gameId == 0 || g.phase != IDisputeGame.Phase.AwaitChunk) return;
        if (Duration.unwrap(game.remainingTime(gameId)) == 0) return;
        vm.prank(g.defender);
        game.revealChunk(gameId, abi.encodePacked(submittedOf[g.requestId]));
        ++calls["revealChunk"];
    }

    function proveStep(uint256 gameSeed) external {
        (uint256 gameId, IDisputeGame.GameView memory g) = _game(gameSeed);
        if (gameId == 0 || g.phase != IDisputeGame.Phase.AwaitStep) return;
        if (Duration.unwrap(game.remainingTime(gameId)) == 0) return;
        uint256 id = g.requestId;
        bool cheated = submittedOf[id] != TinyModel.relu(inputOf[id]);
        _settled(gameId, g, cheated);
        vm.prank(g.challenger);
        game.proveStep(
            gameId,
            abi.encodePacked(submittedOf[id]),
            0,
            TinyModel.spec(),
            TinyModel.stepProof(inputOf[id])
        );
        _check(gameId, g, cheated);
        ++calls["proveStep"];
    }

    function claimTimeout(uint256 gameSeed) external {
        (uint256 gameId, IDisputeGame.GameView memory g) = _game(gameSeed);
        if (gameId == 0 || g.phase == IDisputeGame.Phase.Resolved) return;
        if (Duration.unwrap(game.remainingTime(gameId)) != 0) return;
        bool providerAtFault = g.turn == IDisputeGame.Side.Defender;
        _settled(gameId, g, providerAtFault);
        game.claimTimeout(gameId);
        _check(gameId, g, providerAtFault);
        ++calls["claimTimeout"];
    }

    uint256 internal _stakeBefore;
    uint256 internal _challengerBefore;
    uint256 internal _defenderBefore;
    uint256 internal _treasuryBefore;

    /// @dev Snapshots what a resolution will change.
    function _settled(uint256, IDisputeGame.GameView memory g, bool) internal {
        _stakeBefore = _totalStake(g.defender);
        _challengerBefore = game.balanceOf(g.challenger);
        _defenderBefore = game.balanceOf(g.defender);
        _treasuryBefore = game.balanceOf(treasury);
    }

    /// @dev The money paths of a resolution: slash = min(SLASH, stake), rewards in bps, the
    /// rest to the treasury, nothing created.
    function _check(uint256 gameId, IDisputeGame.GameView memory g, bool providerAtFault) internal {
        IDisputeGame.Side winner = game.getGame(gameId).winner;
        if ((winner == IDisputeGame.Side.Challenger) != providerAtFault) ++failures;
        uint256 slashed = _stakeBefore - _totalStake(g.defender);
        gameIn += slashed;
        slashedTotal += slashed;
        uint256 challengerGot = game.balanceOf(g.challenger) - _challengerBefore;
        uint256 defenderGot = game.balanceOf(g.defender) - _defenderBefore;
        uint256 treasuryGot = game.balanceOf(treasury) - _treasuryBefore;
        if (providerAtFault) {
            uint256 expected = SLASH < _stakeBefore ? SLASH : _stakeBefore;
            uint256 reward = (slashed * CHALLENGER_BPS) / 10_000;
            if (slashed != expected || challengerGot != g.bond + reward || treasuryGot != slashed - reward) ++failures;
        } else {
            uint256 reward = (g.bond * DEFENDER_BPS) / 10_000;
            if (slashed != 0 || defenderGot != reward || treasuryGot != g.bond - reward) ++failures;
        }
    }

    function finalize(uint256 idSeed) external {
        uint256 id = _pick(idSeed);
        if (id == 0 || _status(id) != IInferenceMarket.RequestStatus.Submitted) return;
        if (block.timestamp < market.windowEndOf(id)) return;
        market.finalize(id);
        ++calls["finalize"];
    }

    function expire(uint256 idSeed) external {
        uint256 id = _pick(idSeed);
        if (id == 0) return;
        IInferenceMarket.Request memory r = market.getRequest(id);
        bool open =
            r.status == IInferenceMarket.RequestStatus.Pending || r.status == IInferenceMarket.RequestStatus.Claimed;
        if (!open || block.timestamp <= r.deadline) return;
        uint256 before = r.provider == address(0) ? 0 : _totalStake(r.provider);
        market.expire(id);
        if (r.provider != address(0)) marketIn += before - _totalStake(r.provider);
        ++calls["expire"];
    }

    function withdrawMarket(uint256 actorSeed) external {
        address account = holders()[3 + (actorSeed % 8)];
        uint256 amount = market.balanceOf(account, address(0));
        if (amount == 0) return;
        uint256 before = account.balance;
        vm.prank(account);
        market.withdraw(address(0));
        if (account.balance - before != amount) ++failures;
        marketOut += amount;
        ++calls["withdrawMarket"];
    }

    function withdrawGame(uint256 actorSeed) external {
        address account = holders()[3 + (actorSeed % 8)];
        uint256 amount = game.balanceOf(account);
        if (amount == 0) return;
        uint256 before = account.balance;
        vm.prank(account);
        game.withdraw();
        if (account.balance - before != amount) ++failures;
        gameOut += amount;
        ++calls["withdrawGame"];
    }

    function skipTime(uint256 secondsSeed) external {
        vm.warp(block.timestamp + bound(secondsSeed, 1, 40 minutes));
        ++calls["skipTime"];
    }

    function _totalStake(address p) internal view returns (uint256) {
        (uint256 unbonding, ) = providers.unbondingOf(p);
        return providers.stakeOf(p) + unbonding;
    }
}

/// @notice Conservation of funds across the market and the dispute game, bonds and slashes
/// included, as an invariant test over random sequences of {GameHandler} actions, and a fuzz
/// test of one game's money paths under random bond, slash, stake and reward parameters.
/// forge-config: default.invariant.runs = 48
/// forge-config: default.invariant.depth = 60
contract GameConservationTest is Test {
    GameHandler handler;
    InferenceMarket market;
    DisputeGame game;
    ProviderRegistry providers;
    uint256 totalEth;

    function _deploy(
        uint256 bond,
        uint256 slash,
        uint16 challengerBps,
        uint16 defenderBps,
        address treasury
    ) internal returns (ModelRegistry models) {
        TestToken token;
        (models, providers, market, token) = Deploy.system(treasury, 250, 0.5 ether);
        game = new DisputeGame(
            address(market),
            address(models),
            address(providers),
            address(new LayerStepProver()),
            treasury,
            uint128(bond),
            0,
            slash,
            Duration.wrap(30 minutes),
            challengerBps,
            defenderBps
        );
        market.setDisputeGame(address(game));
    }

    function setUp() public {
        address treasury = address(0x7EA);
        ModelRegistry models = _deploy(0.1 ether, 2 ether, 5000, 3000, treasury);
        handler = new GameHandler(market, providers, game, treasury);
        vm.prank(address(0x0A11));
        TinyModel.register(models, handler.PRICE(), handler.WINDOW());
        address[] memory h = handler.holders();
        for (uint256 i; i < h.length; ++i) totalEth += h[i].balance;
        targetContract(address(handler));
    }

    function invariant_marketBalanceIsEscrowedPlusOwed() public view {
        uint256 balance = address(market).balance;
        assertEq(balance, market.escrowed(address(0)) + market.owed(address(0)), "market balance == escrowed + owed");
        assertEq(handler.marketIn(), handler.marketOut() + balance, "market: in == out + balance");
    }

    function invariant_gameBalanceIsBondsPlusCredits() public view {
        uint256 balance = address(game).balance;
        assertEq(balance, game.bondsHeld() + game.owed(), "game balance == bonds held + credits");
        assertEq(handler.gameIn(), handler.gameOut() + balance, "game: bonds + slashes in == out + balance");
    }

    /// @notice No ETH is created or lost anywhere: stakes, fees, bonds and slashes only move.
    function invariant_noEthCreatedOrLost() public view {
        address[] memory h = handler.holders();
        uint256 sum;
        for (uint256 i; i < h.length; ++i) sum += h[i].balance;
        assertEq(sum, totalEth, "total ETH");
        assertEq(handler.failures(), 0, "resolution money paths");
    }

    /// @dev One fuzzed game's parameters.
    struct Case {
        uint256 bond;
        uint256 slash;
        uint256 stake;
        uint16 challengerBps;
        uint16 defenderBps;
        bool cheat;
        uint8 ending;
        int8 x;
    }

    address constant REQUESTER = address(0xD1);
    address constant PROVIDER = address(0xD2);
    address constant CHALLENGER = address(0xD3);
    address constant TREASURY = address(0x7EB);

    /// @notice One game with random parameters: who wins, the slash against the stake, the
    /// reward shares; then everyone withdraws and every wei is accounted for.
    function testFuzz_resolve_conservesFunds(
        uint96 bondSeed,
        uint256 slashSeed,
        uint256 stakeSeed,
        uint16 challengerBps,
        uint16 defenderBps,
        bool cheat,
        uint8 ending
    ) public {
        Case memory c = Case({
            bond: bound(bondSeed, 0, 10 ether),
            slash: bound(slashSeed, 0, 20 ether),
            stake: bound(stakeSeed, 1 ether, 10 ether),
            challengerBps: challengerBps > 10_000 ? 10_000 : challengerBps,
            defenderBps: defenderBps > 10_000 ? 10_000 : defenderBps,
            cheat: cheat,
            ending: ending % 3,
            x: int8(int256(stakeSeed % 256) - 128)
        });
        ModelRegistry models = _deploy(c.bond, c.slash, challengerBps, defenderBps, TREASURY);
        TinyModel.register(models, 0.01 ether, 1 hours);
        bool providerAtFault = _playOne(c);
        _checkOutcome(c, providerAtFault);
    }

    /// @dev Request, cheating or honest submission, challenge, then an ending: the step is
    /// proved (the truth wins), or the defender or the challenger times out.
    function _playOne(Case memory c) internal returns (bool providerAtFault) {
        vm.deal(REQUESTER, 1 ether);
        vm.deal(PROVIDER, c.stake);
        vm.deal(CHALLENGER, c.bond);
        vm.startPrank(PROVIDER);
        providers.stake{value: c.stake}();
        providers.optIn(1);
        vm.stopPrank();
        vm.prank(REQUESTER);
        market.requestInference{value: 0.01 ether}(
            1,
            TinyModel.input(c.x),
            0.01 ether,
            uint64(block.timestamp + 1 days),
            address(0),
            0
        );
        int8 y = c.cheat ? TinyModel.other(TinyModel.relu(c.x)) : TinyModel.relu(c.x);
        vm.startPrank(PROVIDER);
        market.claim(1);
        market.submitOptimistic(1, TinyModel.output(y), TinyModel.roots(y));
        vm.stopPrank();
        int8 claimed = c.cheat ? TinyModel.relu(c.x) : TinyModel.other(y);
        vm.prank(CHALLENGER);
        game.challenge{value: c.bond}(1, TinyModel.challengeParams(c.x, y, claimed));
        if (c.ending != 1) {
            vm.prank(PROVIDER);
            game.revealChunk(1, abi.encodePacked(y));
        }
        if (c.ending == 0) {
            vm.prank(CHALLENGER);
            game.proveStep(1, abi.encodePacked(y), 0, TinyModel.spec(), TinyModel.stepProof(c.x));
            return c.cheat;
        }
        vm.warp(block.timestamp + 30 minutes + 1);
        game.claimTimeout(1);
        return c.ending == 1; // the defender timed out before revealing, else the challenger did
    }

    function _checkOutcome(Case memory c, bool providerAtFault) internal {
        assertTrue(
            (game.getGame(1).winner == IDisputeGame.Side.Challenger) == providerAtFault,
            "the winner follows the truth or the clock"
        );
        uint256 slashed = providerAtFault ? (c.slash < c.stake ? c.slash : c.stake) : 0;
        assertEq(providers.stakeOf(PROVIDER), c.stake - slashed, "slash = min(slashAmount, stake)");
        uint256 reward = providerAtFault ? (slashed * c.challengerBps) / 10_000 : (c.bond * c.defenderBps) / 10_000;
        assertEq(game.balanceOf(CHALLENGER), providerAtFault ? c.bond + reward : 0, "challenger credit");
        assertEq(game.balanceOf(PROVIDER), providerAtFault ? 0 : reward, "provider credit");
        assertEq(game.balanceOf(TREASURY), providerAtFault ? slashed - reward : c.bond - reward, "treasury credit");
        assertEq(address(game).balance, game.bondsHeld() + game.owed(), "game balance == bonds + credits");
        assertEq(game.bondsHeld(), 0, "no bond held after resolution");

        // Everyone withdraws: the game ends empty and the ETH is where the outcome says.
        address[3] memory payees = [CHALLENGER, PROVIDER, TREASURY];
        for (uint256 i; i < 3; ++i) {
            if (game.balanceOf(payees[i]) == 0) continue;
            vm.prank(payees[i]);
            game.withdraw();
        }
        assertEq(address(game).balance, 0, "game empty");
        assertEq(
            CHALLENGER.balance + PROVIDER.balance + TREASURY.balance + providers.stakeOf(PROVIDER),
            c.bond + c.stake,
            "bond and stake only moved"
        );
    }
}
