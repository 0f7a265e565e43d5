// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "../contracts/utils/Test.sol";
import {Deploy} from "../contracts/utils/Deploy.sol";
import {ChunkMerkle} from "../../contracts/libraries/ChunkMerkle.sol";
import {IDisputeGame, Duration} from "../../contracts/interfaces/IDisputeGame.sol";
import {IInferenceMarket} from "../../contracts/interfaces/IInferenceMarket.sol";
import {IModelRegistry} from "../../contracts/interfaces/IModelRegistry.sol";
import {IProviderRegistry} from "../../contracts/interfaces/IProviderRegistry.sol";
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

    /// The parameters of a request for `x` made by `requester` at `fee`, without a callback.
    function request(
        address requester,
        uint256 fee,
        int8 x
    ) internal pure returns (IInferenceMarket.RequestParams memory) {
        return Deploy.request(requester, address(0), fee, address(0), 0, input(x));
    }

    function challengeParams(
        IInferenceMarket.RequestParams memory request_,
        int8 x,
        int8 defenderY,
        int8 challengerY
    ) internal pure returns (IDisputeGame.ChallengeParams memory) {
        return
            IDisputeGame.ChallengeParams({
                request: request_,
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

/// @notice Drives market, dispute game and provider registry through random sequences of
/// requests, claims (refused when free stake is short), honest or wrong submissions, griefing
/// challenges (random roots, by third parties or by the provider itself, which then loses on
/// purpose), chunk reveals, steps, timeouts, time warps, unbonding and withdrawals, finalize and
/// expire, and keeps ghost totals of the ETH that entered and left each contract.
///
/// Two parties are always online and play by the rules (the actions run them first, before any
/// time passes, see {_online}): the honest watcher, which challenges every wrong result while
/// its window is open and proves the step as soon as it is its turn, and every provider whose
/// result is honest, which reveals its chunk as soon as it is its turn. Everyone else acts only
/// when the runner picks their action. Actions return early when they do not apply; checks made
/// inside actions count failures in {failures} (a reverting handler call would be discarded).
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
    uint256 public constant CLOCK = 30 minutes;
    uint16 public constant CHALLENGER_BPS = 5000;
    uint16 public constant DEFENDER_BPS = 3000;
    address public constant WATCHER = address(0xE1);
    address public constant KEEPER = address(0xF1);
    address public constant MODEL_OWNER = address(0x0A11);

    address[2] internal requesters = [address(0xA1), address(0xA2)];
    address[2] internal provs = [address(0xB1), address(0xB2)];
    address[2] internal griefers = [address(0xC1), address(0xC2)];

    mapping(uint256 requestId => int8) public inputOf;
    mapping(uint256 requestId => int8) public submittedOf;
    mapping(uint256 requestId => address) public requesterOf;
    mapping(uint256 requestId => uint256[]) internal _gamesOf;
    mapping(uint256 requestId => bool) public watched;

    /// Ghost totals.
    uint256 public marketIn;
    uint256 public marketOut;
    uint256 public gameIn;
    uint256 public gameOut;
    uint256 public registryIn;
    uint256 public registryOut;
    uint256 public failures;
    bytes32 public lastFailure;
    mapping(bytes32 op => uint256) public calls;

    constructor(InferenceMarket market_, ProviderRegistry providers_, DisputeGame game_, address treasury_) {
        market = market_;
        providers = providers_;
        game = game_;
        treasury = treasury_;
        vm.deal(WATCHER, 100 ether);
        for (uint256 i; i < 2; ++i) {
            vm.deal(requesters[i], 100 ether);
            vm.deal(griefers[i], 100 ether);
            vm.deal(provs[i], 100 ether);
            vm.startPrank(provs[i]);
            providers.stake{value: 5 ether}();
            providers.optIn(MODEL);
            vm.stopPrank();
            registryIn += 5 ether;
        }
    }

    // ------------------------------------------------------------------------------------------
    // Views for the invariants

    /// @notice Every address that may hold ETH in this system.
    function holders() public view returns (address[] memory h) {
        h = new address[](12);
        (h[0], h[1], h[2]) = (address(market), address(game), address(providers));
        (h[3], h[4], h[5], h[6]) = (requesters[0], requesters[1], provs[0], provs[1]);
        (h[7], h[8], h[9], h[10], h[11]) = (griefers[0], griefers[1], WATCHER, treasury, MODEL_OWNER);
    }

    function provider(uint256 i) external view returns (address) {
        return provs[i];
    }

    function gamesOf(uint256 requestId) external view returns (uint256[] memory) {
        return _gamesOf[requestId];
    }

    function honest(uint256 requestId) public view returns (bool) {
        return submittedOf[requestId] == TinyModel.relu(inputOf[requestId]);
    }

    // ------------------------------------------------------------------------------------------
    // Requests

    /// The parameters request `id` was made with (the market stores only their commitment).
    function _params(uint256 id) internal view returns (IInferenceMarket.RequestParams memory) {
        return TinyModel.request(requesterOf[id], PRICE, inputOf[id]);
    }

    function request(uint256 actorSeed, int8 x, uint256 extraSeed, uint256 deadlineSeed) external {
        _online();
        address requester = requesters[actorSeed % 2];
        uint256 maxFee = PRICE + bound(extraSeed, 0, 0.1 ether);
        vm.prank(requester);
        uint256 id = market.requestInference{value: maxFee}(
            MODEL,
            TinyModel.input(x),
            maxFee,
            uint64(block.timestamp + bound(deadlineSeed, 1 hours, 3 days)),
            address(0),
            0
        );
        inputOf[id] = x;
        requesterOf[id] = requester;
        marketIn += maxFee;
        ++calls["request"];
    }

    /// @dev A claim succeeds exactly when the provider is eligible and its free stake covers the
    /// reservation.
    function claim(uint256 idSeed, uint256 provSeed) external {
        _online();
        uint256 id = _pickIn(idSeed, _bit(IInferenceMarket.RequestStatus.Pending));
        if (id == 0) return;
        IInferenceMarket.Request memory r = market.getRequest(id);
        if (r.status != IInferenceMarket.RequestStatus.Pending || block.timestamp > r.deadline) return;
        address p = provs[provSeed % 2];
        uint256 need = market.reservationOf(IModelRegistry.VerificationMode.Optimistic);
        bool ok = providers.isEligible(p, MODEL) && providers.freeStakeOf(p) >= need;
        vm.prank(p);
        try market.claim(id) {
            if (!ok) _fail("claim beyond free stake");
            ++calls["claim"];
        } catch {
            if (ok) _fail("claim refused");
            ++calls["claimRefused"];
        }
    }

    function topUp(uint256 provSeed) external {
        address p = provs[provSeed % 2];
        vm.prank(p);
        providers.stake{value: 2 ether}();
        registryIn += 2 ether;
        ++calls["topUp"];
    }

    function submitOptimistic(uint256 idSeed, bool cheat) external {
        _online();
        uint256 id = _pickIn(idSeed, _bit(IInferenceMarket.RequestStatus.Claimed));
        if (id == 0) return;
        IInferenceMarket.Request memory r = market.getRequest(id);
        if (r.status != IInferenceMarket.RequestStatus.Claimed || block.timestamp > r.deadline) return;
        int8 y = TinyModel.relu(inputOf[id]);
        if (cheat) y = TinyModel.other(y);
        vm.prank(r.provider);
        market.submitOptimistic(id, TinyModel.output(y), TinyModel.roots(y));
        submittedOf[id] = y;
        ++calls[cheat ? bytes32("submitWrong") : bytes32("submitHonest")];
        _online();
    }

    function finalize(uint256 idSeed) external {
        _online();
        uint256 id = _pickIn(idSeed, _bit(IInferenceMarket.RequestStatus.Submitted));
        if (id == 0 || _status(id) != IInferenceMarket.RequestStatus.Submitted) return;
        if (block.timestamp < market.windowEndOf(id)) return;
        vm.prank(KEEPER);
        market.finalize(id, _params(id));
        ++calls["finalize"];
    }

    /// @dev Expire succeeds exactly when the request is past its bound: the deadline for a
    /// Pending or Claimed request, `refundableAfter` for a Challenged one.
    function expire(uint256 idSeed) external {
        _online();
        uint256 id = _pickIn(idSeed, _OPEN);
        if (id == 0) return;
        IInferenceMarket.Request memory r = market.getRequest(id);
        bool ok = _expirable(id, r);
        uint256 before = r.provider == address(0) ? 0 : _totalStake(r.provider);
        vm.prank(KEEPER);
        try market.expire(id, _params(id)) {
            if (!ok) _fail("expire before the bound");
            uint256 penalty = r.provider == address(0) ? 0 : before - _totalStake(r.provider);
            marketIn += penalty;
            registryOut += penalty;
            ++calls["expire"];
        } catch {
            if (ok) _fail("expire refused past the bound");
        }
    }

    // ------------------------------------------------------------------------------------------
    // Games

    /// @dev A griefing challenge: random roots, by a third party or by the provider itself.
    function challenge(uint256 idSeed, uint256 actorSeed, bytes32 root) external {
        _online();
        uint256 id = _pickIn(
            idSeed,
            _bit(IInferenceMarket.RequestStatus.Submitted) | _bit(IInferenceMarket.RequestStatus.Challenged)
        );
        if (id == 0) return;
        IInferenceMarket.RequestStatus status = _status(id);
        if (status != IInferenceMarket.RequestStatus.Submitted && status != IInferenceMarket.RequestStatus.Challenged) {
            return;
        }
        bytes32[] memory roots = TinyModel.roots(submittedOf[id]);
        if (root == roots[0]) return;
        address who = actorSeed % 3 == 2 ? market.getRequest(id).provider : griefers[actorSeed % 2];
        bytes32[] memory theirs = new bytes32[](1);
        theirs[0] = root;
        IDisputeGame.ChallengeParams memory p = IDisputeGame.ChallengeParams({
            request: _params(id),
            input: TinyModel.input(inputOf[id]),
            defenderRoots: roots,
            challengerRoots: theirs,
            layerSpec: TinyModel.spec(),
            layoutProof: new bytes32[](0)
        });
        bool windowOpen = block.timestamp < market.windowEndOf(id);
        vm.prank(who);
        try game.challenge{value: BOND}(id, p) returns (uint256 gameId) {
            // No game opens after the window, so every game ends by windowEnd + maxDuration.
            if (!windowOpen) _fail("game opened after window");
            _gamesOf[id].push(gameId);
            gameIn += BOND;
        } catch {
            if (windowOpen) _fail("challenge in window refused");
            ++calls["lateChallenge"];
            return;
        }
        ++calls[actorSeed % 3 == 2 ? bytes32("selfChallenge") : bytes32("griefChallenge")];
        _online();
    }

    /// @dev The defender's reveal, in any game (dishonest providers move only when picked).
    function revealChunk(uint256 gameSeed) external {
        _online();
        (uint256 gameId, IDisputeGame.GameView memory g) = _game(gameSeed, IDisputeGame.Phase.AwaitChunk);
        if (gameId == 0 || g.phase != IDisputeGame.Phase.AwaitChunk) return;
        if (Duration.unwrap(game.remainingTime(gameId)) == 0) return;
        _reveal(gameId, g);
        _online();
    }

    /// @dev A griefer's step (the watcher proves its own steps when online; a provider that
    /// challenged itself never proves: it loses on purpose).
    function proveStep(uint256 gameSeed) external {
        _online();
        (uint256 gameId, IDisputeGame.GameView memory g) = _game(gameSeed, IDisputeGame.Phase.AwaitStep);
        if (gameId == 0 || g.phase != IDisputeGame.Phase.AwaitStep || g.challenger == g.defender) return;
        if (Duration.unwrap(game.remainingTime(gameId)) == 0) return;
        _prove(gameId, g);
    }

    function claimTimeout(uint256 gameSeed) external {
        _online();
        (uint256 gameId, IDisputeGame.GameView memory g) = _game(gameSeed, IDisputeGame.Phase.None);
        if (gameId == 0) return;
        _timeout(gameId, g);
    }

    // ------------------------------------------------------------------------------------------
    // Stake and money

    /// @dev Unbonding succeeds exactly when the amount is free (not reserved) stake.
    function unbond(uint256 provSeed, uint256 amountSeed) external {
        address p = provs[provSeed % 2];
        uint256 amount = bound(amountSeed, 1, providers.stakeOf(p) + 1 ether);
        bool ok = amount <= providers.freeStakeOf(p);
        vm.prank(p);
        try providers.requestUnbond(amount) {
            if (!ok) _fail("unbonded reserved stake");
            ++calls["unbond"];
        } catch {
            if (ok) _fail("unbond of free stake refused");
            ++calls["unbondRefused"];
        }
    }

    function withdrawUnbonded(uint256 provSeed) external {
        address p = provs[provSeed % 2];
        (uint256 amount, uint256 releaseTime) = providers.unbondingOf(p);
        bool ok = amount > 0 && block.timestamp >= releaseTime;
        uint256 before = p.balance;
        vm.prank(p);
        try providers.withdrawUnbonded() {
            if (!ok || p.balance - before != amount) _fail("withdrawUnbonded");
            registryOut += amount;
            ++calls["withdrawUnbonded"];
        } catch {
            if (ok) _fail("withdrawUnbonded refused");
        }
    }

    function withdrawMarket(uint256 actorSeed) external {
        address account = holders()[3 + (actorSeed % 9)];
        uint256 amount = market.balanceOf(account, address(0));
        if (amount == 0) return;
        uint256 before = account.balance;
        vm.prank(account);
        market.withdraw(address(0));
        if (account.balance - before != amount) _fail("market withdraw");
        marketOut += amount;
        ++calls["withdrawMarket"];
    }

    function withdrawGame(uint256 actorSeed) external {
        address account = holders()[3 + (actorSeed % 9)];
        uint256 amount = game.balanceOf(account);
        if (amount == 0) return;
        uint256 before = account.balance;
        vm.prank(account);
        game.withdraw();
        if (account.balance - before != amount) _fail("game withdraw");
        gameOut += amount;
        ++calls["withdrawGame"];
    }

    /// @dev The online parties act before time passes; now and then a jump of days (deadlines,
    /// unbonding, the last-resort bound).
    function skipTime(uint256 secondsSeed) external {
        _online();
        uint256 delta = secondsSeed % 5 == 0 ? bound(secondsSeed, 1 days, 8 days) : bound(secondsSeed, 1, 40 minutes);
        vm.warp(block.timestamp + delta);
        ++calls["skipTime"];
    }

    /// @notice Property (ii): a request past its bound is final, or is made final by the
    /// permissionless calls that must then succeed: `expire` past the deadline of a Pending or
    /// Claimed request, `finalize` of a Submitted result past its window, `claimTimeout` of
    /// every game over a Challenged result once `windowEnd + maxDuration` has passed (then
    /// `finalize` if the result stands), `expire` past `refundableAfter`.
    function settleOverdue(uint256 idSeed) external {
        uint256 id = _pickIn(idSeed, _OPEN);
        if (id == 0) return;
        IInferenceMarket.Request memory r = market.getRequest(id);
        IInferenceMarket.RequestStatus status = r.status;
        if (_expirable(id, r)) {
            uint256 before = r.provider == address(0) ? 0 : _totalStake(r.provider);
            (bool ok, ) = _keeperCall(address(market), abi.encodeCall(market.expire, (id, _params(id))));
            if (!ok) _fail("overdue: expire");
            // A claimed request's penalty moves from the registry to the market.
            uint256 penalty = r.provider == address(0) ? 0 : before - _totalStake(r.provider);
            marketIn += penalty;
            registryOut += penalty;
            ++calls["settle"];
            return;
        }
        uint256 windowEnd = market.windowEndOf(id);
        if (status == IInferenceMarket.RequestStatus.Challenged && block.timestamp >= windowEnd + game.maxDuration()) {
            uint256[] memory ids = _gamesOf[id];
            for (uint256 i; i < ids.length; ++i) {
                IDisputeGame.GameView memory g = game.getGame(ids[i]);
                if (g.phase == IDisputeGame.Phase.Resolved) continue;
                if (Duration.unwrap(game.remainingTime(ids[i])) != 0) _fail("overdue: game outlived duration");
                else _timeout(ids[i], g);
            }
            status = _status(id);
            if (status == IInferenceMarket.RequestStatus.Challenged) _fail("overdue: still challenged");
        }
        if (status == IInferenceMarket.RequestStatus.Submitted && block.timestamp >= windowEnd) {
            (bool ok, ) = _keeperCall(address(market), abi.encodeCall(market.finalize, (id, _params(id))));
            if (!ok) _fail("overdue: finalize");
            ++calls["settle"];
        }
    }

    // ------------------------------------------------------------------------------------------
    // The parties that are always online

    /// @dev Honest providers reveal at once and claim the timeouts of silent challengers; the
    /// watcher proves its steps at once, claims the timeouts of silent defenders and challenges
    /// every wrong result whose window is open.
    function _online() internal {
        uint256 count = game.gameCount();
        for (uint256 gameId = 1; gameId <= count; ++gameId) {
            IDisputeGame.GameView memory g = game.getGame(gameId);
            if (g.phase == IDisputeGame.Phase.Resolved) continue;
            if (Duration.unwrap(game.remainingTime(gameId)) == 0) {
                if (g.challenger == WATCHER || honest(g.requestId)) _timeout(gameId, g);
                continue;
            }
            if (g.phase == IDisputeGame.Phase.AwaitChunk && honest(g.requestId)) _reveal(gameId, g);
            else if (g.phase == IDisputeGame.Phase.AwaitStep && g.challenger == WATCHER) _prove(gameId, g);
        }
        uint256 requests = market.requestCount();
        for (uint256 id = 1; id <= requests; ++id) {
            if (watched[id] || honest(id)) continue;
            IInferenceMarket.RequestStatus status = _status(id);
            if (
                status != IInferenceMarket.RequestStatus.Submitted &&
                status != IInferenceMarket.RequestStatus.Challenged
            ) {
                continue;
            }
            if (block.timestamp >= market.windowEndOf(id)) {
                _fail("watcher missed a window");
                continue;
            }
            watched[id] = true;
            vm.prank(WATCHER);
            _gamesOf[id].push(
                game.challenge{value: BOND}(
                    id,
                    TinyModel.challengeParams(_params(id), inputOf[id], submittedOf[id], TinyModel.relu(inputOf[id]))
                )
            );
            gameIn += BOND;
            ++calls["watcherChallenge"];
        }
    }

    function _reveal(uint256 gameId, IDisputeGame.GameView memory g) internal {
        vm.prank(g.defender);
        game.revealChunk(gameId, abi.encodePacked(submittedOf[g.requestId]));
        ++calls["revealChunk"];
    }

    function _prove(uint256 gameId, IDisputeGame.GameView memory g) internal {
        uint256 id = g.requestId;
        bool cheated = !honest(id);
        Snapshot memory s = _snapshot(g);
        vm.prank(g.challenger);
        game.proveStep(
            gameId,
            abi.encodePacked(submittedOf[id]),
            0,
            TinyModel.spec(),
            TinyModel.stepProof(inputOf[id])
        );
        _check(gameId, g, s, cheated);
        ++calls[g.challenger == WATCHER ? bytes32("watcherProveStep") : bytes32("proveStep")];
    }

    function _timeout(uint256 gameId, IDisputeGame.GameView memory g) internal {
        if (g.phase == IDisputeGame.Phase.Resolved) return;
        if (Duration.unwrap(game.remainingTime(gameId)) != 0) return;
        bool providerAtFault = g.turn == IDisputeGame.Side.Defender;
        Snapshot memory s = _snapshot(g);
        vm.prank(KEEPER);
        game.claimTimeout(gameId);
        _check(gameId, g, s, providerAtFault);
        ++calls["claimTimeout"];
    }

    // ------------------------------------------------------------------------------------------
    // Money paths of a resolution

    struct Snapshot {
        uint256 stake;
        uint256 challenger;
        uint256 defender;
        uint256 treasury;
        bool moot;
    }

    function _snapshot(IDisputeGame.GameView memory g) internal view returns (Snapshot memory) {
        return
            Snapshot({
                stake: _totalStake(g.defender),
                challenger: game.balanceOf(g.challenger),
                defender: game.balanceOf(g.defender),
                treasury: game.balanceOf(treasury),
                moot: _status(g.requestId) == IInferenceMarket.RequestStatus.Refunded
            });
    }

    /// @dev The money paths of a resolution: a moot game returns the bond; a lost provider is
    /// slashed exactly SLASH (its reservation always covers it) and never for an honest result;
    /// rewards in bps, the rest to the treasury, nothing created.
    function _check(uint256 gameId, IDisputeGame.GameView memory g, Snapshot memory s, bool providerAtFault) internal {
        IDisputeGame.Side winner = game.getGame(gameId).winner;
        if ((winner == IDisputeGame.Side.Challenger) != providerAtFault) _fail("winner");
        uint256 slashed = s.stake - _totalStake(g.defender);
        gameIn += slashed;
        registryOut += slashed;
        uint256 challengerGot = game.balanceOf(g.challenger) - s.challenger;
        uint256 defenderGot = game.balanceOf(g.defender) - s.defender;
        uint256 treasuryGot = game.balanceOf(treasury) - s.treasury;
        uint256 toChallenger;
        uint256 toDefender;
        uint256 toTreasury;
        if (s.moot) {
            toChallenger = g.bond;
            if (slashed != 0) _fail("slash in a moot game");
        } else if (providerAtFault) {
            if (honest(g.requestId)) _fail("an honest result lost");
            uint256 reward = (slashed * CHALLENGER_BPS) / 10_000;
            if (slashed != SLASH) _fail("slash != SLASH");
            (toChallenger, toTreasury) = (g.bond + reward, slashed - reward);
        } else {
            uint256 reward = (g.bond * DEFENDER_BPS) / 10_000;
            if (slashed != 0) _fail("slash of a winner");
            (toDefender, toTreasury) = (reward, g.bond - reward);
        }
        if (g.challenger == g.defender) {
            if (challengerGot != toChallenger + toDefender) _fail("self-challenge credit");
        } else if (challengerGot != toChallenger || defenderGot != toDefender) {
            _fail("credits");
        }
        if (treasuryGot != toTreasury) _fail("treasury credit");
    }

    // ------------------------------------------------------------------------------------------
    // Helpers

    function _expirable(uint256 id, IInferenceMarket.Request memory r) internal view returns (bool) {
        IInferenceMarket.RequestStatus status = r.status;
        if (status == IInferenceMarket.RequestStatus.Pending || status == IInferenceMarket.RequestStatus.Claimed) {
            return block.timestamp > r.deadline;
        }
        return status == IInferenceMarket.RequestStatus.Challenged && block.timestamp > market.refundableAfter(id);
    }

    function _keeperCall(address target, bytes memory data) internal returns (bool ok, bytes memory ret) {
        vm.prank(KEEPER);
        (ok, ret) = target.call(data);
    }

    function _fail(bytes32 why) internal {
        ++failures;
        lastFailure = why;
    }

    uint256 internal constant _OPEN =
        (1 << uint8(IInferenceMarket.RequestStatus.Pending)) |
            (1 << uint8(IInferenceMarket.RequestStatus.Claimed)) |
            (1 << uint8(IInferenceMarket.RequestStatus.Submitted)) |
            (1 << uint8(IInferenceMarket.RequestStatus.Challenged));

    function _bit(IInferenceMarket.RequestStatus status) internal pure returns (uint256) {
        return 1 << uint8(status);
    }

    /// @dev A request whose status is in `mask`, searched from a random one; 0 if none.
    function _pickIn(uint256 seed, uint256 mask) internal view returns (uint256) {
        uint256 count = market.requestCount();
        for (uint256 k; k < count; ++k) {
            uint256 id = 1 + ((seed + k) % count);
            if (mask & _bit(_status(id)) != 0) return id;
        }
        return 0;
    }

    function _status(uint256 id) internal view returns (IInferenceMarket.RequestStatus) {
        return market.getRequest(id).status;
    }

    /// @dev An unresolved game in `phase` (any unresolved one for `Phase.None`), searched from a
    /// random one; 0 if none.
    function _game(
        uint256 seed,
        IDisputeGame.Phase phase
    ) internal view returns (uint256 gameId, IDisputeGame.GameView memory g) {
        uint256 count = game.gameCount();
        for (uint256 k; k < count; ++k) {
            gameId = 1 + ((seed + k) % count);
            g = game.getGame(gameId);
            if (g.phase == IDisputeGame.Phase.Resolved) continue;
            if (phase == IDisputeGame.Phase.None || g.phase == phase) return (gameId, g);
        }
        return (0, g);
    }

    function _totalStake(address p) internal view returns (uint256) {
        (uint256 unbonding, ) = providers.unbondingOf(p);
        return providers.stakeOf(p) + unbonding;
    }
}

/// @notice Invariants over random sequences of {GameHandler} actions: conservation of funds
/// across market, dispute game and provider registry (bonds, slashes and reserved stake
/// included), and the three properties of issue 8 with an honest watcher online: (i) no wrong
/// output finalizes, (ii) every request past its bound is final or made final by permissionless
/// calls that succeed, (iii) reserved stake is within the stake and is exactly what the open jobs
/// reserved. Fuzz tests: one game's money paths under random bond, slash, stake and rewards;
/// unbonding against reservations; the last-resort refund of a stuck Challenged request.
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

    /// @notice No ETH is created or lost anywhere: stakes, fees, bonds and slashes only move;
    /// the registry holds exactly the stakes and unbonding amounts it owes.
    function invariant_noEthCreatedOrLost() public view {
        address[] memory h = handler.holders();
        uint256 sum;
        for (uint256 i; i < h.length; ++i) sum += h[i].balance;
        assertEq(sum, totalEth, "total ETH");
        uint256 owedByRegistry;
        for (uint256 i; i < 2; ++i) {
            address p = handler.provider(i);
            (uint256 unbonding, ) = providers.unbondingOf(p);
            owedByRegistry += providers.stakeOf(p) + unbonding;
        }
        uint256 balance = address(providers).balance;
        assertEq(balance, owedByRegistry, "registry balance == stakes + unbonding");
        assertEq(handler.registryIn(), handler.registryOut() + balance, "registry: in == out + balance");
        _noFailures();
    }

    /// @notice Property (i): with the honest watcher online, every Finalized result is the
    /// correct output of its input.
    function invariant_finalizedOutputIsCorrect() public view {
        uint256 count = market.requestCount();
        for (uint256 id = 1; id <= count; ++id) {
            if (market.statusOf(id) != IInferenceMarket.RequestStatus.Finalized) continue;
            int8 truth = TinyModel.relu(handler.inputOf(id));
            assertTrue(
                keccak256(market.outputOf(id)) == keccak256(TinyModel.output(truth)),
                "a wrong output finalized"
            );
        }
        _noFailures();
    }

    /// @notice Property (ii): games and requests agree, and every game over a result is over
    /// `maxDuration` after its window (each can then be ended by `claimTimeout`); the
    /// permissionless calls that settle an overdue request never fail ({GameHandler-settleOverdue}).
    function invariant_overdueRequestsCanSettle() public view {
        uint256 count = market.requestCount();
        uint256 maxDuration = game.maxDuration();
        for (uint256 id = 1; id <= count; ++id) {
            IInferenceMarket.RequestStatus status = market.statusOf(id);
            uint256[] memory games = handler.gamesOf(id);
            uint256 open;
            bool overdue = block.timestamp >= market.windowEndOf(id) + maxDuration;
            for (uint256 i; i < games.length; ++i) {
                if (game.getGame(games[i]).phase == IDisputeGame.Phase.Resolved) continue;
                ++open;
                if (overdue) {
                    assertEq(Duration.unwrap(game.remainingTime(games[i])), 0, "a game outlived maxDuration");
                }
            }
            if (status == IInferenceMarket.RequestStatus.Refunded) continue; // moot games may stay open
            assertEq(market.openGamesOf(id), open, "open games");
            assertTrue(
                (status == IInferenceMarket.RequestStatus.Challenged) == (open != 0),
                "Challenged iff a game is open"
            );
        }
        _noFailures();
    }

    /// @notice Property (iii): each provider's reserved stake is within its stake and is the sum
    /// of what its open jobs (Claimed, Submitted, Challenged) reserved.
    function invariant_reservedStakeMatchesOpenJobs() public view {
        uint256 count = market.requestCount();
        for (uint256 i; i < 2; ++i) {
            address p = handler.provider(i);
            uint256 sum;
            for (uint256 id = 1; id <= count; ++id) {
                IInferenceMarket.Request memory r = market.getRequest(id);
                if (r.provider != p) continue;
                IInferenceMarket.RequestStatus status = r.status;
                if (
                    status == IInferenceMarket.RequestStatus.Claimed ||
                    status == IInferenceMarket.RequestStatus.Submitted ||
                    status == IInferenceMarket.RequestStatus.Challenged
                ) sum += r.reservedStake;
            }
            assertEq(providers.reservedOf(p), sum, "reserved == sum over open jobs");
            assertLe(providers.reservedOf(p), providers.stakeOf(p), "reserved <= stake");
        }
        _noFailures();
    }

    function _noFailures() internal view {
        assertTrue(handler.failures() == 0, string(abi.encodePacked("handler check failed: ", handler.lastFailure())));
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
        uint256 slash = bound(slashSeed, 0, 20 ether);
        // The claim reserves max(claim penalty, slash): the stake must cover it and the minimum.
        uint256 reservation = slash > 0.5 ether ? slash : 0.5 ether;
        Case memory c = Case({
            bond: bound(bondSeed, 0, 10 ether),
            slash: slash,
            stake: bound(stakeSeed, reservation > 1 ether ? reservation : 1 ether, 30 ether),
            challengerBps: challengerBps > 10_000 ? 10_000 : challengerBps,
            defenderBps: defenderBps == 0
                ? 1
                : defenderBps > 10_000
                    ? 10_000
                    : defenderBps,
            cheat: cheat,
            ending: ending % 3,
            x: int8(int256(stakeSeed % 256) - 128)
        });
        ModelRegistry models = _deploy(c.bond, c.slash, c.challengerBps, c.defenderBps, TREASURY);
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
        game.challenge{value: c.bond}(
            1,
            TinyModel.challengeParams(TinyModel.request(REQUESTER, 0.01 ether, c.x), c.x, y, claimed)
        );
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
        uint256 slashed = providerAtFault ? c.slash : 0;
        assertEq(providers.stakeOf(PROVIDER), c.stake - slashed, "the whole slash, out of the reservation");
        uint256 reservation = c.slash > 0.5 ether ? c.slash : 0.5 ether;
        assertEq(providers.reservedOf(PROVIDER), providerAtFault ? 0 : reservation, "reserved until the result ends");
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

    /// @notice Stake reserved by open jobs never starts to leave: an unbond succeeds exactly up
    /// to the free stake, whatever the stake, the number of open jobs and the amount.
    function testFuzz_requestUnbond_reservedStakeStays(uint256 stakeSeed, uint256 jobsSeed, uint256 amountSeed) public {
        ModelRegistry models = _deploy(0.1 ether, 2 ether, 5000, 3000, TREASURY);
        TinyModel.register(models, 0.01 ether, 1 hours);
        uint256 stake = bound(stakeSeed, 2 ether, 10 ether);
        vm.deal(PROVIDER, stake);
        vm.deal(REQUESTER, 1 ether);
        vm.startPrank(PROVIDER);
        providers.stake{value: stake}();
        providers.optIn(1);
        vm.stopPrank();
        uint256 jobs = bound(jobsSeed, 0, stake / 2 ether);
        for (uint256 i; i < jobs; ++i) {
            vm.prank(REQUESTER);
            market.requestInference{value: 0.01 ether}(
                1,
                TinyModel.input(1),
                0.01 ether,
                uint64(block.timestamp + 1 days),
                address(0),
                0
            );
            vm.prank(PROVIDER);
            market.claim(i + 1);
        }
        uint256 reserved = jobs * 2 ether;
        assertEq(providers.reservedOf(PROVIDER), reserved, "one reservation per job");
        uint256 amount = bound(amountSeed, 1, stake);
        if (amount > stake - reserved) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IProviderRegistry.ProviderInsufficientFreeStake.selector,
                    PROVIDER,
                    stake - reserved,
                    amount
                )
            );
            vm.prank(PROVIDER);
            providers.requestUnbond(amount);
            return;
        }
        vm.prank(PROVIDER);
        providers.requestUnbond(amount);
        assertLe(providers.reservedOf(PROVIDER), providers.stakeOf(PROVIDER), "reserved <= stake");
        vm.warp(block.timestamp + 7 days);
        vm.prank(PROVIDER);
        providers.withdrawUnbonded();
        assertEq(PROVIDER.balance, amount, "only free stake left");
        assertEq(providers.stakeOf(PROVIDER), stake - amount, "the reserved stake stayed");
    }

    /// @notice A Challenged request whose game nobody ends is refunded by `expire` exactly once
    /// `refundableAfter` has passed, without a slash and with its reservation released; the game
    /// still open then returns its bond.
    function testFuzz_expire_challengedPastBound(uint256 waitSeed, bool cheat, int8 x) public {
        ModelRegistry models = _deploy(0.1 ether, 2 ether, 5000, 3000, TREASURY);
        TinyModel.register(models, 0.01 ether, 1 hours);
        vm.deal(PROVIDER, 5 ether);
        vm.deal(REQUESTER, 1 ether);
        vm.deal(CHALLENGER, 1 ether);
        vm.startPrank(PROVIDER);
        providers.stake{value: 5 ether}();
        providers.optIn(1);
        vm.stopPrank();
        vm.prank(REQUESTER);
        market.requestInference{value: 0.01 ether}(
            1,
            TinyModel.input(x),
            0.01 ether,
            uint64(block.timestamp + 1 days),
            address(0),
            0
        );
        int8 y = cheat ? TinyModel.other(TinyModel.relu(x)) : TinyModel.relu(x);
        vm.startPrank(PROVIDER);
        market.claim(1);
        market.submitOptimistic(1, TinyModel.output(y), TinyModel.roots(y));
        vm.stopPrank();
        vm.prank(CHALLENGER);
        game.challenge{value: 0.1 ether}(
            1,
            TinyModel.challengeParams(TinyModel.request(REQUESTER, 0.01 ether, x), x, y, TinyModel.other(y))
        );
        uint256 refundable = market.refundableAfter(1);
        assertEq(refundable, market.windowEndOf(1) + 2 * game.maxDuration(), "the hard bound");
        vm.warp(bound(waitSeed, block.timestamp, refundable + 1 days));
        if (block.timestamp <= refundable) {
            vm.expectRevert(
                abi.encodeWithSelector(IInferenceMarket.MarketGamesStillRunning.selector, 1, uint64(refundable))
            );
            market.expire(1, TinyModel.request(REQUESTER, 0.01 ether, x));
            return;
        }
        market.expire(1, TinyModel.request(REQUESTER, 0.01 ether, x));
        assertTrue(market.statusOf(1) == IInferenceMarket.RequestStatus.Refunded, "refunded");
        assertEq(market.balanceOf(REQUESTER, address(0)), 0.01 ether, "fee back");
        assertEq(providers.stakeOf(PROVIDER), 5 ether, "no slash");
        assertEq(providers.reservedOf(PROVIDER), 0, "reservation released");
        game.claimTimeout(1);
        assertTrue(game.getGame(1).phase == IDisputeGame.Phase.Resolved, "the game ends");
        assertEq(game.balanceOf(CHALLENGER), 0.1 ether, "moot: bond back");
        assertEq(game.bondsHeld(), 0, "no bond held");
    }
}
