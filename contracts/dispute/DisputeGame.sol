// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ChunkMerkle} from "../libraries/ChunkMerkle.sol";
import {IDisputeGame, Timestamp, Duration} from "../interfaces/IDisputeGame.sol";
import {IInferenceMarket} from "../interfaces/IInferenceMarket.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {IOneStepProver} from "../interfaces/IOneStepProver.sol";
import {IProviderRegistry} from "../interfaces/IProviderRegistry.sol";
import {LayerSpec} from "./LayerSpec.sol";
import {GenerationProver} from "./GenerationProver.sol";
import {LayerStepProver} from "./LayerStepProver.sol";
import {SequenceStep} from "./SequenceStep.sol";
import {TraceRoot} from "./TraceRoot.sol";

/// @title DisputeGame
/// @notice The bisection game over `Optimistic` results (docs/protocol.md, "The dispute game").
/// Permissionless: anyone may challenge with exactly {requiredBond}; the bond, not a stake,
/// is what a false challenge costs. Any number of games may be open over one result at once,
/// each between its own challenger and the provider, all opened within the result's window
/// (which they neither freeze nor extend): an honest watcher can always open its own game,
/// whatever others have opened, and every game ends within {maxDuration}, so an honest result
/// finalizes by `windowEnd + maxDuration` however many games it faces.
///
/// Moves: the defender reveals the children of its node, the challenger its own, the game
/// descends into the first differing side, down to a leaf; the defender opens its leaf with the
/// chunk; the challenger names an element and the {IOneStepProver} recomputes it from agreed
/// data. Each side has a chess clock of `clock` seconds that runs while it is to move; a side
/// that has used its whole clock can no longer move and loses by {claimTimeout}.
///
/// Generations (docs/protocol.md, "Games over a generation"): for a decoder (an int32 prompt
/// input) the roots are pass roots; the game finds the first differing pass, both sides reveal
/// its layer roots ({revealLayers}, {revealChallengerLayers}) and the game goes on over the first
/// differing layer of that pass, its steps computed by the {GenerationProver} it deploys, which
/// opens every root a step reads against the agreed passes. {challengeOutput} binds the output
/// ids to the committed argmax layers.
///
/// Reductions: a dense, conv2d, argmax or maxpool2d element whose reduction is too long for one
/// step is settled by a second bisection over its prefix states `S_0 = 0 … S_n` ({openSum}):
/// the defender claims `S_n`, which must finish to its claimed element ({claimSum}), then
/// posts midpoints that the challenger accepts or rejects ({postSum}, {pickSum}) until the
/// disputed range `[lo, hi)` fits one step, which the prover recomputes from the agreed `S_lo`
/// ({proveSumStep}). Every transaction's work is thus bounded whatever the model; moves grow as
/// `log2(n)`.
///
/// Money: a challenger that wins gets its bond back plus `challengerRewardBps` of what is
/// slashed from the provider (the market takes `slashAmount` out of the stake the claim
/// reserved and sends it here); the rest goes to the treasury and the request is refunded by the
/// market. A challenger that loses forfeits its bond: `defenderRewardBps` to the provider, the
/// rest to the treasury. A game whose request was already refunded is moot: its bond goes back
/// to its challenger. Everything is credited ({_credit}) and pulled ({withdraw}). Resolution
/// calls only the market, which never reverts for a game it opened, so every game can end.
/// @dev Accounting: `address(this).balance == bondsHeld + owed`. Money moves through {_credit}
/// (owed up) and {_payOut} (balance and owed down) only; bonds enter with {challenge}, slashes
/// through {receive} (from the provider registry, on the market's `failJob`).
contract DisputeGame is IDisputeGame, ReentrancyGuardTransient {
    uint256 private constant BPS = 10_000;

    /// @dev A game as stored.
    /// - slot 0: challenger (160) | lastMoveAt (40) | phase (8) | turn (8) | winner (8) | layer (16) | height (8)
    /// - slot 1: defender (160) | defenderUsed (40) | challengerUsed (40)
    /// - slot 2: position (32) | chunkCount (32) | elementSize (8) | bond (128) | lastChunkLength (16)
    /// - slot 3: pass (32) | passCount (32) | promptLength (32) | layerCount (16), for a game over a
    ///   decoder's generation (`passCount` nonzero exactly then)
    /// - then requestId and the hashes, one slot each. In a game over a generation, `rootA` is the
    ///   root of the prompt (the input's elements) and `rootB` the defender's generation root
    ///   (over its pass roots); during RevealLayers `specHash` holds the model's layout root and
    ///   `defenderLeft` the hash of the defender's revealed layer roots.
    struct Game {
        address challenger;
        Timestamp lastMoveAt;
        Phase phase;
        Side turn;
        Side winner;
        uint16 layer;
        uint8 height;
        address defender;
        Duration defenderUsed;
        Duration challengerUsed;
        uint32 position;
        uint32 chunkCount;
        uint8 elementSize;
        uint128 bond;
        uint16 lastChunkLength;
        uint32 pass;
        uint32 passCount;
        uint32 promptLength;
        uint16 layerCount;
        uint256 requestId;
        bytes32 defenderNode;
        bytes32 challengerNode;
        bytes32 defenderLeft;
        bytes32 defenderRight;
        bytes32 specHash;
        bytes32 rootA;
        bytes32 rootB;
        bytes32 weightsRoot;
    }

    /// @dev The reduction phase of a game (zero until {openSum}).
    /// - slot 0: element (32) | fanIn (32) | maxRange (32) | lo (32) | hi (32) | claimed (32)
    /// - slot 1: sumLo (64) | sumHi (64) | sumMid (64)
    /// States fit an int64: claims are checked against {SUM_BOUND}.
    struct Sum {
        uint32 element;
        uint32 fanIn;
        uint32 maxRange;
        uint32 lo;
        uint32 hi;
        bytes4 claimed;
        int64 sumLo;
        int64 sumHi;
        int64 sumMid;
    }

    /// @notice Every honest prefix state `S` satisfies `|S| < SUM_BOUND`: dot products stay
    /// below 2^31 (bound 1 of docs/numeric-semantics.md), argmax states below 2^40, maxpool2d
    /// states below 2^8; of a decoder's reductions, normalize's `Σc²` is the largest, below
    /// `2^16 · D^3` for an agreed (honest) centre, `< 2^62` for `D < 2^15`. A larger claim is refused.
    int256 public constant SUM_BOUND = 2 ** 62;

    /// @notice The most gas an honest defender spends on one game, whatever the model: for a
    /// decoder, the reveal of one pass's layer roots (at most `MAX_LAYERS`); a reveal per tree
    /// level (at most 24: a layer has at most `2^32` elements of at most 4 bytes, so `2^24`
    /// chunks), the chunk, the reduction claim, a posted state per reduction level (at most 32:
    /// a reduction has at most `2^32` elements) and a timeout claim, each at its measured worst
    /// case with calldata. `test/dispute/GasCeiling.test.ts` checks it.
    uint256 public constant DEFENDER_GAS_BOUND = 6_000_000;

    /// @notice The most gas any single move may need, for either side, whatever the model (a
    /// one-step or reduction step at its largest, a challenge of a `MAX_LAYERS` model).
    /// `test/dispute/GasCeiling.test.ts` proves the largest case of every layer kind under it.
    uint256 public constant MOVE_GAS_CEILING = 5_000_000;

    IInferenceMarket private immutable _market;
    IModelRegistry private immutable _models;
    address private immutable _providers;
    IOneStepProver private immutable _prover;
    GenerationProver private immutable _generation;
    address private immutable _treasury;
    uint128 private immutable _bondFloor;
    uint256 private immutable _bondGasPrice;
    uint128 private immutable _bond;
    uint256 private immutable _slashAmount;
    Duration private immutable _clock;
    uint16 private immutable _challengerRewardBps;
    uint16 private immutable _defenderRewardBps;

    mapping(uint256 gameId => Game) private _games;
    mapping(uint256 gameId => Sum) private _sums;
    mapping(address account => uint256) private _balances;
    uint256 private _gameCount;
    uint256 private _bondsHeld;
    uint256 private _owed;

    /// @param market the {IInferenceMarket} whose `Optimistic` results are disputed (it must name
    /// this game with `setDisputeGame`).
    /// @param models the model registry (verification commitments).
    /// @param providers the provider registry, whose unbonding delay must cover a result's
    /// longest open time (`maxWindow + 2 · clock`, {GameParametersUnsafe}).
    /// @param prover the one-step prover.
    /// @param treasury where the protocol's shares are credited.
    /// @param bondFloor the smallest bond of a challenge.
    /// @param bondGasPrice the gas price (wei) at which {requiredBond} prices the defender's
    /// worst-case gas ({DEFENDER_GAS_BOUND}).
    /// @param slash what is slashed from a provider that loses (the market reserves it at every
    /// Optimistic claim).
    /// @param clock each side's time budget, in seconds.
    /// @param challengerRewardBps the winning challenger's share of the slash.
    /// @param defenderRewardBps the winning provider's share of a lost bond (nonzero).
    constructor(
        address market,
        address models,
        address providers,
        address prover,
        address treasury,
        uint128 bondFloor,
        uint256 bondGasPrice,
        uint256 slash,
        Duration clock,
        uint16 challengerRewardBps,
        uint16 defenderRewardBps
    ) {
        if (
            market == address(0) ||
            models == address(0) ||
            providers == address(0) ||
            prover == address(0) ||
            treasury == address(0)
        ) revert GameZeroAddress();
        // INVARIANT: the slash the market sends comes from the registry this game accepts ETH from.
        if (
            IInferenceMarket(market).providerRegistry() != providers ||
            IInferenceMarket(market).modelRegistry() != models
        ) revert GameRegistryMismatch(market);
        (, uint32 maxWindow) = IModelRegistry(models).challengeWindowBounds();
        uint256 unbondingDelay = IProviderRegistry(providers).unbondingDelay();
        // INVARIANT: a provider cannot unbond out of a result before it could be disputed to the
        // end (reservations already hold the stake; this is the second line), and a false
        // challenge always pays the defender something.
        if (2 * uint256(Duration.unwrap(clock)) + maxWindow > unbondingDelay || defenderRewardBps == 0) {
            revert GameParametersUnsafe(Duration.unwrap(clock), maxWindow, unbondingDelay);
        }
        _market = IInferenceMarket(market);
        _models = IModelRegistry(models);
        _providers = providers;
        _prover = IOneStepProver(prover);
        _generation = new GenerationProver(LayerStepProver(prover));
        _treasury = treasury;
        _bondFloor = bondFloor;
        _bondGasPrice = bondGasPrice;
        _slashAmount = slash;
        _clock = clock;
        _challengerRewardBps = challengerRewardBps > BPS ? uint16(BPS) : challengerRewardBps;
        _defenderRewardBps = defenderRewardBps > BPS ? uint16(BPS) : defenderRewardBps;
        // Every input is immutable, so the bond is a constant of the deployment: computed (and
        // range-checked) once.
        uint256 covering = Math.ceilDiv(bondGasPrice * DEFENDER_GAS_BOUND * BPS, _defenderRewardBps);
        _bond = SafeCast.toUint128(covering > bondFloor ? covering : bondFloor);
    }

    /// @notice Takes the ETH of a slashed provider from the provider registry, and nothing else.
    receive() external payable {
        // INVARIANT: ETH enters with a bond or as a slash; anything else breaks the accounting.
        if (msg.sender != _providers) revert GameUnexpectedEth(msg.sender);
    }

    // ------------------------------------------------------------------------------------------
    // Moves
    // ------------------------------------------------------------------------------------------

    /// @inheritdoc IDisputeGame
    /// @dev Requirements: `msg.value == requiredBond(requestId)`; the request is Submitted or
    /// Challenged (by other games) and its window open (the market's errors bubble up); `input` is the request's input and
    /// inline; `defenderRoots` hash to the submitted roots; both root lists have one root per
    /// layer and differ; `layerSpec` is leaf `k` of the model's layout (k = first differing
    /// layer) with a proof of the layout tree's depth. The layers read by layer k are agreed (they
    /// come before k): their roots, or the root of the input's element bytes, are stored for the
    /// step. The defender moves first. For a decoder (an int32 prompt input) the roots are pass
    /// roots, their count must be `P + N − 1` (else the challenger wins at once) and the game
    /// enters RevealLayers at the first differing pass ({_startGeneration}).
    function challenge(
        uint256 requestId,
        ChallengeParams calldata p
    ) external payable nonReentrant returns (uint256 gameId) {
        // Validate the bond, then freeze the result (trusted market; it reverts unless the
        // request is Submitted within its window; any later revert undoes the freeze).
        (address provider, uint256 modelId, IModelRegistry.Verification memory v) = _open(
            requestId,
            p.request,
            p.input,
            p.defenderRoots
        );
        uint256 promptLength = _generation.promptLengthOf(p.input[1:]);
        Game storage g;
        (gameId, g) = _newGame(requestId, provider, v.weightsRoot);
        bool malformed;
        if (promptLength != 0) {
            malformed = _startGeneration(gameId, g, p, v, modelId, promptLength);
        } else {
            _startLayers(g, p, v);
        }
        _emitStarted(gameId, g);
        if (malformed) _resolve(gameId, g, Side.Challenger);
    }

    /// @inheritdoc IDisputeGame
    /// @dev Requirements: `msg.value == requiredBond(requestId)`; the request is Submitted or
    /// Challenged within its window; `p.input` and `p.defenderRoots` are the request's input (an
    /// int32 prompt: the model is a decoder) and submitted pass roots, `T = P + N − 1` of them;
    /// `p.argmax` opens the trace root of the last layer (argmax) of pass `P − 1 + p.index` in the
    /// defender's generation, and `p.token` is its element (4 bytes). Reverts with
    /// {GameNoDisagreement} if that element is the output's id `p.index`.
    function challengeOutput(
        uint256 requestId,
        OutputChallengeParams calldata p
    ) external payable nonReentrant returns (uint256 gameId) {
        (address provider, uint256 modelId, IModelRegistry.Verification memory v) = _open(
            requestId,
            p.request,
            p.input,
            p.defenderRoots
        );
        (bytes32 root, bytes4 posted) = _outputToken(requestId, modelId, v, p);
        // INVARIANT: the bytes a consumer reads are the tokens the disputable trace generated.
        if (bytes4(p.token) == posted) revert GameNoDisagreement(requestId);
        Game storage g;
        (gameId, g) = _newGame(requestId, provider, v.weightsRoot);
        g.defenderNode = root;
        _emitStarted(gameId, g);
        emit OutputTokenMismatch(gameId, p.index, bytes4(p.token), posted);
        _resolve(gameId, g, Side.Challenger);
    }

    /// @inheritdoc IDisputeGame
    /// @dev Requirements: phase RevealLayers, the defender to move (the caller is the defender)
    /// and within its clock; one root per layer of a pass, whose {Generation-rootOfRoots} is the
    /// defender's disputed pass root.
    function revealLayers(uint256 gameId, bytes32[] calldata roots) external {
        Game storage g = _move(gameId, Phase.RevealLayers, Side.Defender);
        bytes32 passRoot = _passRootOf(g, roots);
        // INVARIANT: the defender stays bound to the pass root it submitted.
        if (passRoot != g.defenderNode) revert GameNodeMismatch(gameId, g.defenderNode, passRoot);
        g.defenderLeft = keccak256(abi.encodePacked(roots));
        g.turn = Side.Challenger;
        emit LayersRevealed(gameId, Side.Defender, g.pass, roots);
    }

    /// @inheritdoc IDisputeGame
    /// @dev Requirements: phase RevealLayers, the challenger to move and within its clock;
    /// `p.defenderRoots` are the defender's revealed roots; `p.roots` (one per layer) hash to the
    /// challenger's disputed pass root; `p.layerSpec` and `p.layoutProof` open leaf `l` of the
    /// model's layout (l = first differing layer). The defender moves next.
    function revealChallengerLayers(uint256 gameId, LayerRevealParams calldata p) external {
        Game storage g = _move(gameId, Phase.RevealLayers, Side.Challenger);
        bytes32 revealed = keccak256(abi.encodePacked(p.defenderRoots));
        if (revealed != g.defenderLeft) revert GameNodeMismatch(gameId, g.defenderLeft, revealed);
        bytes32 passRoot = _passRootOf(g, p.roots);
        // INVARIANT: the challenger stays bound to the pass root it posted.
        if (passRoot != g.challengerNode) revert GameNodeMismatch(gameId, g.challengerNode, passRoot);
        // Both lists have L roots and different pass roots, so they differ somewhere.
        uint256 layer;
        while (p.defenderRoots[layer] == p.roots[layer]) ++layer;
        // The layout root is held in `specHash` until the layer is known.
        _checkLayout(g.specHash, layer, p.defenderRoots.length, p.layerSpec, p.layoutProof);
        emit LayersRevealed(gameId, Side.Challenger, g.pass, p.roots);
        _storeLayer(g, layer, p.layerSpec, p.defenderRoots[layer], p.roots[layer]);
        emit LayerDisputed(gameId, g.pass, uint16(layer), g.height, g.chunkCount, g.defenderNode, g.challengerNode);
    }

    /// @inheritdoc IDisputeGame
    /// @dev Requirements: phase Bisecting, the defender to move (the caller is the defender) and
    /// within its clock; `nodeHash(left, right)` is the defender's node.
    function reveal(uint256 gameId, bytes32 left, bytes32 right) external {
        Game storage g = _move(gameId, Phase.Bisecting, Side.Defender);
        bytes32 node = ChunkMerkle.nodeHash(left, right);
        // INVARIANT: the defender stays bound to the root it submitted.
        if (node != g.defenderNode) revert GameNodeMismatch(gameId, g.defenderNode, node);
        g.defenderLeft = left;
        g.defenderRight = right;
        g.turn = Side.Challenger;
        emit DefenderRevealed(gameId, g.height, g.position, left, right);
    }

    /// @inheritdoc IDisputeGame
    /// @dev Requirements: phase Bisecting, the challenger to move and within its clock;
    /// `nodeHash(left, right)` is the challenger's node. On reaching a leaf beyond the layer's
    /// chunks (tree padding, whose leaf must be `bytes32(0)`) the game is decided at once.
    function bisect(uint256 gameId, bytes32 left, bytes32 right) external nonReentrant {
        Game storage g = _move(gameId, Phase.Bisecting, Side.Challenger);
        bytes32 node = ChunkMerkle.nodeHash(left, right);
        // INVARIANT: the challenger stays bound to the root it posted.
        if (node != g.challengerNode) revert GameNodeMismatch(gameId, g.challengerNode, node);
        emit ChallengerBisected(gameId, g.height, g.position, left, right);
        bytes32 dl = g.defenderLeft;
        uint32 position = g.position * 2;
        if (dl != left) {
            g.defenderNode = dl;
            g.challengerNode = left;
        } else {
            // The parents differ and the left children agree, so the right children differ.
            ++position;
            g.defenderNode = g.defenderRight;
            g.challengerNode = right;
        }
        g.position = position;
        uint8 height = g.height - 1;
        g.height = height;
        g.turn = Side.Defender;
        if (height == 0) {
            if (position >= g.chunkCount) {
                // Padding leaf: its committed value is bytes32(0).
                _resolve(gameId, g, g.defenderNode == bytes32(0) ? Side.Defender : Side.Challenger);
                return;
            }
            g.phase = Phase.AwaitChunk;
        }
    }

    /// @inheritdoc IDisputeGame
    /// @dev Requirements: phase AwaitChunk, the defender to move and within its clock; `chunk`
    /// has the length of chunk `position` of the layer's output and its leaf is the defender's.
    function revealChunk(uint256 gameId, bytes calldata chunk) external {
        Game storage g = _move(gameId, Phase.AwaitChunk, Side.Defender);
        uint256 expected = _chunkLength(g);
        if (chunk.length != expected) revert GameChunkLengthMismatch(gameId, chunk.length, expected);
        bytes32 leaf = ChunkMerkle.leafHash(g.position, chunk);
        if (leaf != g.defenderNode) revert GameNodeMismatch(gameId, g.defenderNode, leaf);
        g.phase = Phase.AwaitStep;
        g.turn = Side.Challenger;
        emit ChunkRevealed(gameId, g.position, chunk);
    }

    /// @inheritdoc IDisputeGame
    /// @dev Requirements: phase AwaitStep, the challenger to move and within its clock; `chunk`
    /// is the defender's revealed chunk; `offset` names an element in it; `layerSpec` is the
    /// disputed layer's spec. The challenger wins if the prover's value differs from the
    /// defender's element, and loses otherwise; a step the prover cannot complete reverts
    /// (and the challenger's clock keeps running).
    function proveStep(
        uint256 gameId,
        bytes calldata chunk,
        uint256 offset,
        bytes calldata layerSpec,
        bytes calldata stepProof
    ) external nonReentrant {
        Game storage g = _move(gameId, Phase.AwaitStep, Side.Challenger);
        (uint256 element, bytes memory claimed) = _claimedElement(gameId, g, chunk, offset);
        bytes memory computed = _compute(gameId, g, layerSpec, element, stepProof);
        emit StepProved(gameId, element, computed, claimed);
        _resolve(gameId, g, keccak256(computed) == keccak256(claimed) ? Side.Defender : Side.Challenger);
    }

    /// @inheritdoc IDisputeGame
    /// @dev Requirements: phase AwaitStep, the challenger to move and within its clock; `chunk`
    /// is the defender's revealed chunk, `offset` an element in it, `layerSpec` the disputed
    /// layer's spec, of kind dense, conv2d, argmax or maxpool2d (the prover's
    /// {IOneStepProver-sumLayout} reverts otherwise). The defender moves next.
    function openSum(uint256 gameId, bytes calldata chunk, uint256 offset, bytes calldata layerSpec) external {
        Game storage g = _move(gameId, Phase.AwaitStep, Side.Challenger);
        (uint256 element, bytes memory claimed) = _claimedElement(gameId, g, chunk, offset);
        _checkSpec(gameId, g, layerSpec);
        (uint256 fanIn, uint256 maxRange) = g.passCount != 0
            ? _generation.sumLayout(layerSpec, g.pass, element)
            : _prover.sumLayout(layerSpec, element);
        // INVARIANT: the range fits the packed slot and every step makes progress.
        if (fanIn > type(uint32).max) revert GameSpecInvalid(g.layer);
        if (maxRange == 0) maxRange = 1;
        if (maxRange > fanIn) maxRange = fanIn == 0 ? 1 : fanIn;
        Sum storage s = _sums[gameId];
        s.element = uint32(element); // < outElements, a uint32
        s.fanIn = uint32(fanIn);
        s.maxRange = uint32(maxRange); // <= fanIn or 1
        s.hi = uint32(fanIn);
        s.claimed = bytes4(claimed); // 1 or 4 bytes, left-aligned
        g.phase = Phase.SumClaim;
        g.turn = Side.Defender;
        emit SumOpened(gameId, element, fanIn, maxRange, s.claimed);
    }

    /// @inheritdoc IDisputeGame
    /// @dev Requirements: phase SumClaim, the defender to move and within its clock;
    /// `|total| < SUM_BOUND`; `paramsProof` proves what finishing needs (a dense or conv2d
    /// channel's parameters). An inconsistent claim resolves the game for the challenger.
    function claimSum(
        uint256 gameId,
        int256 total,
        bytes calldata layerSpec,
        bytes calldata paramsProof
    ) external nonReentrant {
        Game storage g = _move(gameId, Phase.SumClaim, Side.Defender);
        _checkSum(gameId, total);
        _checkSpec(gameId, g, layerSpec);
        Sum storage s = _sums[gameId];
        bytes memory value =
            g.passCount != 0
                ? _generation.finishSum(layerSpec, _context(g), s.element, total, paramsProof)
                : _prover.finishSum(layerSpec, g.weightsRoot, s.element, total, paramsProof);
        // INVARIANT: the defender's final state must yield the element it committed to.
        bool consistent = value.length == g.elementSize && bytes4(value) == s.claimed;
        emit SumClaimed(gameId, total, consistent);
        if (!consistent) {
            _resolve(gameId, g, Side.Challenger);
            return;
        }
        s.sumHi = int64(total); // |total| < SUM_BOUND = 2^62
        _nextSumMove(g, s);
    }

    /// @inheritdoc IDisputeGame
    /// @dev Requirements: phase SumBisecting, the defender to move and within its clock;
    /// `|sum| < SUM_BOUND`.
    function postSum(uint256 gameId, int256 sum) external {
        Game storage g = _move(gameId, Phase.SumBisecting, Side.Defender);
        _checkSum(gameId, sum);
        Sum storage s = _sums[gameId];
        s.sumMid = int64(sum); // |sum| < SUM_BOUND = 2^62
        g.turn = Side.Challenger;
        emit SumPosted(gameId, _mid(s), sum);
    }

    /// @inheritdoc IDisputeGame
    /// @dev Requirements: phase SumBisecting, the challenger to move and within its clock.
    function pickSum(uint256 gameId, bool agree) external {
        Game storage g = _move(gameId, Phase.SumBisecting, Side.Challenger);
        Sum storage s = _sums[gameId];
        uint32 mid = _mid(s);
        // INVARIANT: S_lo stays agreed and S_hi disputed.
        if (agree) {
            s.lo = mid;
            s.sumLo = s.sumMid;
        } else {
            s.hi = mid;
            s.sumHi = s.sumMid;
        }
        emit SumPicked(gameId, agree, s.lo, s.hi);
        _nextSumMove(g, s);
    }

    /// @inheritdoc IDisputeGame
    /// @dev Requirements: phase AwaitSumStep, the challenger to move and within its clock;
    /// `layerSpec` is the disputed layer's spec. The challenger wins if the prover's `S_hi`
    /// from the agreed `S_lo` differs from the defender's, and loses otherwise.
    function proveSumStep(uint256 gameId, bytes calldata layerSpec, bytes calldata stepProof) external nonReentrant {
        Game storage g = _move(gameId, Phase.AwaitSumStep, Side.Challenger);
        _checkSpec(gameId, g, layerSpec);
        Sum storage s = _sums[gameId];
        int256 computed = _stepSum(g, s, layerSpec, stepProof);
        int256 claimed = s.sumHi;
        emit SumStepProved(gameId, s.lo, s.hi, computed, claimed);
        _resolve(gameId, g, computed == claimed ? Side.Defender : Side.Challenger);
    }

    /// @inheritdoc IDisputeGame
    /// @dev Requirements: the game is not resolved and the side to move has used its whole
    /// clock (from that second on it can no longer move: the boundary is one-sided). Anyone may
    /// call it.
    function claimTimeout(uint256 gameId) external nonReentrant {
        Game storage g = _existing(gameId);
        Phase phase = g.phase;
        if (phase == Phase.Resolved) revert GameWrongPhase(gameId, phase);
        Side turn = g.turn;
        Duration left = _remaining(g);
        // INVARIANT: a side loses on time only once its whole budget is spent.
        if (Duration.unwrap(left) != 0) revert GameClockRunning(gameId, turn, left);
        _resolve(gameId, g, turn == Side.Defender ? Side.Challenger : Side.Defender);
    }

    /// @inheritdoc IDisputeGame
    /// @dev Requirements: the caller has a credit. Zeroed before the transfer.
    function withdraw() external nonReentrant {
        uint256 amount = _balances[msg.sender];
        if (amount == 0) revert GameNothingToWithdraw(msg.sender);
        _balances[msg.sender] = 0;
        _owed -= amount;
        emit Withdrawn(msg.sender, amount);
        _payOut(msg.sender, amount);
    }

    // ------------------------------------------------------------------------------------------
    // Views
    // ------------------------------------------------------------------------------------------

    /// @inheritdoc IDisputeGame
    function requiredBond(uint256) external view returns (uint256) {
        return _bond;
    }

    /// @inheritdoc IDisputeGame
    function slashAmount() external view returns (uint256) {
        return _slashAmount;
    }

    /// @inheritdoc IDisputeGame
    function maxDuration() external view returns (uint256) {
        return 2 * uint256(Duration.unwrap(_clock));
    }

    /// @inheritdoc IDisputeGame
    function getGame(uint256 gameId) external view returns (GameView memory) {
        Game storage g = _games[gameId];
        return
            GameView({
                requestId: g.requestId,
                challenger: g.challenger,
                defender: g.defender,
                phase: g.phase,
                turn: g.turn,
                winner: g.winner,
                layer: g.layer,
                height: g.height,
                position: g.position,
                chunkCount: g.chunkCount,
                elementSize: g.elementSize,
                bond: g.bond,
                lastMoveAt: g.lastMoveAt,
                defenderUsed: g.defenderUsed,
                challengerUsed: g.challengerUsed,
                defenderNode: g.defenderNode,
                challengerNode: g.challengerNode,
                defenderLeft: g.defenderLeft,
                defenderRight: g.defenderRight,
                specHash: g.specHash,
                rootA: g.rootA,
                rootB: g.rootB,
                pass: g.pass,
                passCount: g.passCount,
                promptLength: g.promptLength,
                layerCount: g.layerCount
            });
    }

    /// @inheritdoc IDisputeGame
    function getSum(uint256 gameId) external view returns (SumView memory) {
        Sum storage s = _sums[gameId];
        return
            SumView({
                element: s.element,
                fanIn: s.fanIn,
                maxRange: s.maxRange,
                lo: s.lo,
                hi: s.hi,
                sumLo: s.sumLo,
                sumHi: s.sumHi,
                mid: _mid(s),
                sumMid: s.sumMid,
                claimed: s.claimed
            });
    }

    /// @inheritdoc IDisputeGame
    function gameCount() external view returns (uint256) {
        return _gameCount;
    }

    /// @inheritdoc IDisputeGame
    function balanceOf(address account) external view returns (uint256) {
        return _balances[account];
    }

    /// @inheritdoc IDisputeGame
    function bondsHeld() external view returns (uint256) {
        return _bondsHeld;
    }

    /// @notice Credits not yet withdrawn.
    function owed() external view returns (uint256) {
        return _owed;
    }

    /// @inheritdoc IDisputeGame
    function remainingTime(uint256 gameId) external view returns (Duration) {
        return _remaining(_existing(gameId));
    }

    /// @notice The game's parameters.
    function parameters()
        external
        view
        returns (
            uint256 bondFloor,
            uint256 bondGasPrice,
            uint256 slash,
            Duration clock,
            uint16 challengerRewardBps,
            uint16 defenderRewardBps,
            address treasury,
            address prover
        )
    {
        return (
            _bondFloor,
            _bondGasPrice,
            _slashAmount,
            _clock,
            _challengerRewardBps,
            _defenderRewardBps,
            _treasury,
            address(_prover)
        );
    }

    // ------------------------------------------------------------------------------------------
    // Internal
    // ------------------------------------------------------------------------------------------

    function _existing(uint256 gameId) private view returns (Game storage g) {
        g = _games[gameId];
        if (g.phase == Phase.None) revert GameUnknown(gameId);
    }

    /// @dev Checks that `side` may make a move of `phase` in game `gameId` now, charges the time
    /// since the last move to its clock and restarts the clock.
    function _move(uint256 gameId, Phase phase, Side side) private returns (Game storage g) {
        g = _existing(gameId);
        Phase actual = g.phase;
        if (actual != phase) revert GameWrongPhase(gameId, actual);
        // INVARIANT: the parties alternate, and only the party to move moves.
        if (g.turn != side || msg.sender != (side == Side.Defender ? g.defender : g.challenger)) {
            revert GameNotYourTurn(gameId, msg.sender);
        }
        uint256 elapsed = block.timestamp - Timestamp.unwrap(g.lastMoveAt);
        uint256 used = Duration.unwrap(side == Side.Defender ? g.defenderUsed : g.challengerUsed) + elapsed;
        // INVARIANT: a side that has used its whole clock can no longer move; from that same
        // second it can only lose by {claimTimeout} (one-sided boundary: never both).
        if (used >= Duration.unwrap(_clock)) revert GameClockExpired(gameId, side);
        if (side == Side.Defender) g.defenderUsed = Duration.wrap(uint40(used));
        else g.challengerUsed = Duration.wrap(uint40(used));
        g.lastMoveAt = Timestamp.wrap(uint40(block.timestamp));
    }

    /// @dev Checks that `chunk` opens the defender's leaf and returns the global index and the
    /// bytes of its element `offset`.
    function _claimedElement(
        uint256 gameId,
        Game storage g,
        bytes calldata chunk,
        uint256 offset
    ) private view returns (uint256 element, bytes memory claimed) {
        uint256 position = g.position;
        bytes32 leaf = ChunkMerkle.leafHash(position, chunk);
        if (leaf != g.defenderNode) revert GameNodeMismatch(gameId, g.defenderNode, leaf);
        uint256 size = g.elementSize;
        if ((offset + 1) * size > chunk.length) revert GameElementOutOfRange(gameId, offset);
        element = (position * ChunkMerkle.CHUNK_SIZE) / size + offset;
        claimed = chunk[offset * size:(offset + 1) * size];
    }

    /// @dev The prover's value of `element`, from the spec the game stored the hash of.
    function _compute(
        uint256 gameId,
        Game storage g,
        bytes calldata layerSpec,
        uint256 element,
        bytes calldata stepProof
    ) private view returns (bytes memory) {
        _checkSpec(gameId, g, layerSpec);
        if (g.passCount != 0) return _generation.computeElement(layerSpec, _context(g), element, stepProof);
        return _prover.computeElement(layerSpec, g.rootA, g.rootB, g.weightsRoot, element, stepProof);
    }

    /// @dev The prover's `S_hi` of the last range, from the agreed `S_lo`.
    function _stepSum(
        Game storage g,
        Sum storage s,
        bytes calldata layerSpec,
        bytes calldata stepProof
    ) private view returns (int256) {
        if (g.passCount != 0) {
            SequenceStep.Step memory step = SequenceStep.Step(g.pass, s.element, s.lo, s.hi, s.sumLo);
            return _generation.stepSum(layerSpec, _context(g), step, stepProof);
        }
        return _prover.stepSum(layerSpec, g.rootA, g.weightsRoot, s.element, s.lo, s.hi, s.sumLo, stepProof);
    }

    /// @dev Reverts unless `layerSpec` is the disputed layer's spec (its hash was stored at
    /// {challenge}, after the layout proof).
    function _checkSpec(uint256 gameId, Game storage g, bytes calldata layerSpec) private view {
        bytes32 specHash = keccak256(layerSpec);
        // INVARIANT: the prover works on the registered geometry of the disputed layer.
        if (specHash != g.specHash) revert GameNodeMismatch(gameId, g.specHash, specHash);
    }

    function _checkSum(uint256 gameId, int256 sum) private pure {
        // INVARIANT: honest prefix sums are below the accumulator bound; the int64 slots hold them.
        if (sum >= SUM_BOUND || sum <= -SUM_BOUND) revert GameSumOutOfRange(gameId, sum);
    }

    /// @dev The midpoint of the disputed range.
    function _mid(Sum storage s) private view returns (uint32) {
        unchecked {
            // lo <= hi: no underflow; the result lies in [lo, hi].
            return s.lo + (s.hi - s.lo) / 2;
        }
    }

    /// @dev After a sum move: the challenger proves a range that fits one step, else the
    /// defender posts the next midpoint.
    function _nextSumMove(Game storage g, Sum storage s) private {
        if (s.hi - s.lo <= s.maxRange) {
            g.phase = Phase.AwaitSumStep;
            g.turn = Side.Challenger;
        } else {
            g.phase = Phase.SumBisecting;
            g.turn = Side.Defender;
        }
    }

    function _remaining(Game storage g) private view returns (Duration) {
        if (g.phase == Phase.Resolved) return Duration.wrap(0);
        uint256 used =
            Duration.unwrap(g.turn == Side.Defender ? g.defenderUsed : g.challengerUsed) +
                (block.timestamp - Timestamp.unwrap(g.lastMoveAt));
        uint256 clock = Duration.unwrap(_clock);
        return Duration.wrap(used >= clock ? 0 : uint40(clock - used));
    }

    /// @dev Ends game `gameId` with `winner`: reports to the market (which refunds the request
    /// and sends the slash here when the provider is at fault) and credits bonds and rewards.
    /// Emits a {GameResolved} event.
    function _resolve(uint256 gameId, Game storage g, Side winner) private {
        // Effect.
        g.phase = Phase.Resolved;
        g.winner = winner;
        g.turn = Side.None;
        uint256 bond = g.bond;
        _bondsHeld -= bond;
        uint256 requestId = g.requestId;
        bool providerAtFault = winner == Side.Challenger;

        // Interact (trusted market; it never reverts for a game it opened): settle the request;
        // the slash arrives through {receive}.
        (bool moot, uint256 slashed) = _market.resolveChallenge(requestId, providerAtFault);
        emit GameResolved(gameId, requestId, winner, slashed, moot);

        // Account.
        if (moot) {
            // The request was already refunded: nothing left to win or lose.
            _credit(g.challenger, bond);
        } else if (providerAtFault) {
            uint256 reward = (slashed * _challengerRewardBps) / BPS;
            _credit(g.challenger, bond + reward);
            _credit(_treasury, slashed - reward);
        } else {
            uint256 reward = (bond * _defenderRewardBps) / BPS;
            _credit(g.defender, reward);
            _credit(_treasury, bond - reward);
        }
    }

    /// @dev Checks the bond, freezes the result in the market and checks the challenge against
    /// it: the input and the defender's roots are those of the request.
    function _open(
        uint256 requestId,
        IInferenceMarket.RequestParams calldata request,
        bytes calldata input,
        bytes32[] calldata defenderRoots
    ) private returns (address provider, uint256 modelId, IModelRegistry.Verification memory v) {
        if (msg.value != _bond) revert GameWrongBond(msg.value, _bond);
        bytes32 rootsHash;
        // The market checks `request` against the request's commitment.
        (provider, modelId, rootsHash) = _market.openChallenge(requestId, request);
        // INVARIANT: the game is about the input the requester paid for and the roots submitted.
        if (keccak256(input) != request.inputHash) revert GameInputMismatch(requestId);
        if (input[0] != 0x00) revert GameInputNotInline(requestId);
        if (keccak256(abi.encodePacked(defenderRoots)) != rootsHash) revert GameRootsMismatch(requestId);
        v = _models.verificationOf(modelId);
    }

    /// @dev A new game of `requestId` against `provider`, the defender to move. Its bond (the
    /// value {_open} checked) is held.
    function _newGame(
        uint256 requestId,
        address provider,
        bytes32 weightsRoot
    ) private returns (uint256 gameId, Game storage g) {
        uint128 bond = _bond;
        unchecked {
            // Cannot overflow: one id per call.
            gameId = ++_gameCount;
        }
        g = _games[gameId];
        g.requestId = requestId;
        g.challenger = msg.sender;
        g.defender = provider;
        g.bond = bond;
        g.weightsRoot = weightsRoot;
        g.turn = Side.Defender;
        g.lastMoveAt = Timestamp.wrap(uint40(block.timestamp));
        _bondsHeld += bond;
    }

    /// @dev The defender's argmax root of the output's id `p.index` (opened, with `p.token` its
    /// element) and the id it posted.
    function _outputToken(
        uint256 requestId,
        uint256 modelId,
        IModelRegistry.Verification memory v,
        OutputChallengeParams calldata p
    ) private view returns (bytes32 root, bytes4 posted) {
        uint256 promptLength = _generation.promptLengthOf(p.input[1:]);
        IModelRegistry.TensorFormat memory out = _models.outputFormatOf(modelId);
        uint256 count = p.defenderRoots.length;
        uint256 tokens = (out.byteLength - out.headerLength) / 4;
        // INVARIANT: only a well-formed generation's ids are compared (a wrong pass count loses
        // at {challenge}).
        if (promptLength == 0 || count + 1 != promptLength + tokens || p.index >= tokens) {
            revert GameOutputNotDisputable(requestId, p.index);
        }
        // Every pass of the defender's own generation may be opened (as if pass `T` were disputed).
        GenerationProver.PassContext memory c;
        (c.pass, c.layerCount, c.passCount, c.generationRoot) = (
            count,
            v.layerCount,
            count,
            _generation.rootOfRoots(p.defenderRoots)
        );
        // The pass of id `index` is P − 1 + index < T, as index < N.
        root = _generation.layerRoot(c, promptLength - 1 + p.index, v.layerCount - 1, p.argmax);
        // INVARIANT: the element is the defender's committed argmax (one int32, one chunk).
        if (p.token.length != 4 || ChunkMerkle.leafHash(0, p.token) != root) {
            revert GameOutputTokenInvalid(requestId, p.index);
        }
        uint256 at = out.headerLength + 4 * p.index;
        bytes memory output = _market.outputOf(requestId);
        posted = bytes4(bytes.concat(output[at], output[at + 1], output[at + 2], output[at + 3]));
    }

    /// @dev Emits the {GameStarted} event of game `g`.
    function _emitStarted(uint256 gameId, Game storage g) private {
        emit GameStarted(
            gameId,
            g.requestId,
            g.challenger,
            g.defender,
            g.layer,
            g.height,
            g.chunkCount,
            g.defenderNode,
            g.challengerNode,
            g.bond
        );
    }

    /// @dev The start of a game over a generation: the pass count is checked (`T = P + N − 1`;
    /// otherwise `malformed`, and the challenger wins at once), the first differing pass `k` is
    /// found and the game enters RevealLayers over its two pass roots. Emits
    /// {GenerationDisputed} (or {PassCountMismatch}).
    function _startGeneration(
        uint256 gameId,
        Game storage g,
        ChallengeParams calldata p,
        IModelRegistry.Verification memory v,
        uint256 modelId,
        uint256 promptLength
    ) private returns (bool malformed) {
        IModelRegistry.TensorFormat memory out = _models.outputFormatOf(modelId);
        uint256 count = p.defenderRoots.length; // <= P_max + N − 1 (the market's check)
        uint256 expected = promptLength + (out.byteLength - out.headerLength) / 4 - 1;
        g.passCount = uint32(count);
        g.promptLength = uint32(promptLength);
        g.layerCount = uint16(v.layerCount); // <= MAX_LAYERS
        g.phase = Phase.RevealLayers;
        // INVARIANT: a generation commits exactly one pass per position read.
        if (count != expected) {
            emit PassCountMismatch(gameId, count, expected);
            return true;
        }
        if (p.challengerRoots.length != count) revert GameLayerCountMismatch(p.challengerRoots.length, count);
        uint256 k;
        // Bounded: count = P + N − 1, both bounded by the registry's tensor sizes.
        while (k < count && p.defenderRoots[k] == p.challengerRoots[k]) ++k;
        if (k == count) revert GameNoDisagreement(g.requestId);
        g.pass = uint32(k);
        g.rootA = TraceRoot.rootOf(TraceRoot.elementBytes(p.input[1:]));
        g.rootB = _generation.rootOfRoots(p.defenderRoots);
        g.specHash = v.layoutRoot;
        g.defenderNode = p.defenderRoots[k];
        g.challengerNode = p.challengerRoots[k];
        emit GenerationDisputed(gameId, k, count, promptLength);
    }

    /// @dev The start of a game over one forward pass: the first differing layer `k`, its
    /// geometry and the agreed roots it reads.
    function _startLayers(Game storage g, ChallengeParams calldata p, IModelRegistry.Verification memory v) private {
        uint256 k = _firstDifference(g.requestId, p, v);
        LayerSpec.Spec memory spec = _storeLayer(g, k, p.layerSpec, p.defenderRoots[k], p.challengerRoots[k]);
        g.rootA = _agreedRoot(k, spec.inputA, p);
        if (spec.kind == LayerSpec.ADD) g.rootB = _agreedRoot(k, spec.inputB, p);
    }

    /// @dev The pass root of `roots`, which must hold one root per layer of a pass.
    function _passRootOf(Game storage g, bytes32[] calldata roots) private view returns (bytes32) {
        if (roots.length != g.layerCount) revert GameLayerCountMismatch(roots.length, g.layerCount);
        return _generation.rootOfRoots(roots);
    }

    /// @dev What the generation prover needs of game `g`.
    function _context(Game storage g) private view returns (GenerationProver.PassContext memory) {
        return
            GenerationProver.PassContext(
                g.pass,
                g.layer,
                g.layerCount,
                g.passCount,
                g.promptLength,
                g.rootA,
                g.rootB,
                g.weightsRoot
            );
    }

    /// @dev Stores layer `k`'s geometry (its spec checked) and the two disputed roots; the
    /// defender moves next, bisecting (or opening its only chunk).
    function _storeLayer(
        Game storage g,
        uint256 k,
        bytes calldata layerSpec,
        bytes32 defenderRoot,
        bytes32 challengerRoot
    ) private returns (LayerSpec.Spec memory spec) {
        spec = LayerSpec.decode(layerSpec);
        if (spec.outElements == 0 || (spec.elementSize != 1 && spec.elementSize != 4)) revert GameSpecInvalid(k);
        g.layer = uint16(k); // < MAX_LAYERS
        g.elementSize = spec.elementSize;
        uint256 totalBytes = uint256(spec.outElements) * spec.elementSize;
        uint256 chunkCount = _chunkCount(totalBytes);
        g.chunkCount = uint32(chunkCount); // < 2^32: outElements is a uint32 and elementSize <= 4
        g.lastChunkLength = uint16(totalBytes - (chunkCount - 1) * ChunkMerkle.CHUNK_SIZE);
        g.height = uint8(_depth(chunkCount)); // <= 32
        g.defenderNode = defenderRoot;
        g.challengerNode = challengerRoot;
        g.specHash = keccak256(layerSpec);
        g.phase = g.height == 0 ? Phase.AwaitChunk : Phase.Bisecting;
        g.turn = Side.Defender;
    }

    /// @dev The first layer whose roots differ, with its spec proven against the layout root.
    function _firstDifference(
        uint256 requestId,
        ChallengeParams calldata p,
        IModelRegistry.Verification memory v
    ) private pure returns (uint256 k) {
        uint256 layers = v.layerCount;
        if (p.challengerRoots.length != layers) revert GameLayerCountMismatch(p.challengerRoots.length, layers);
        // Bounded: layerCount <= ModelRegistry.MAX_LAYERS.
        while (k < layers && p.defenderRoots[k] == p.challengerRoots[k]) ++k;
        if (k == layers) revert GameNoDisagreement(requestId);
        _checkLayout(v.layoutRoot, k, layers, p.layerSpec, p.layoutProof);
    }

    /// @dev Reverts unless `layerSpec` is leaf `k` of the layout tree of `layers` leaves under
    /// `layoutRoot`.
    function _checkLayout(
        bytes32 layoutRoot,
        uint256 k,
        uint256 layers,
        bytes calldata layerSpec,
        bytes32[] calldata layoutProof
    ) private pure {
        // INVARIANT: the layer's geometry is the registered one.
        if (layoutProof.length != _depth(layers) || !ChunkMerkle.verify(layoutRoot, k, layerSpec, layoutProof)) {
            revert GameLayoutProofInvalid(k);
        }
    }

    /// @dev The trace root of layer `ref` read by layer `k`: the root of the input's element
    /// bytes for -1, else the (agreed) submitted root of that earlier layer.
    function _agreedRoot(uint256 k, int32 ref, ChallengeParams calldata p) private pure returns (bytes32) {
        if (ref == LayerSpec.MODEL_INPUT) return TraceRoot.rootOf(TraceRoot.elementBytes(p.input[1:]));
        // INVARIANT: a layer reads the input or an earlier layer, on whose roots both sides agree.
        if (ref < 0 || uint256(uint32(ref)) >= k) revert GameSpecInvalid(k);
        return p.defenderRoots[uint32(ref)];
    }

    function _chunkLength(Game storage g) private view returns (uint256) {
        // Every chunk but the last is full.
        if (uint256(g.position) + 1 < g.chunkCount) return ChunkMerkle.CHUNK_SIZE;
        return g.lastChunkLength;
    }

    function _chunkCount(uint256 bytesLength) private pure returns (uint256) {
        return (bytesLength + ChunkMerkle.CHUNK_SIZE - 1) / ChunkMerkle.CHUNK_SIZE;
    }

    /// @dev `ceil(log2(n))`: the depth of a tree of `n` leaves padded to a power of two.
    function _depth(uint256 n) private pure returns (uint256 depth) {
        while ((uint256(1) << depth) < n) ++depth;
    }

    /// @dev The one hook that credits money (pull payment). Zero is a no-op. Emits {Credited}.
    function _credit(address account, uint256 amount) private {
        if (amount == 0) return;
        _balances[account] += amount;
        _owed += amount;
        emit Credited(account, amount);
    }

    /// @dev The one hook that sends money out.
    function _payOut(address to, uint256 amount) private {
        (bool ok, ) = to.call{value: amount}("");
        if (!ok) revert GameTransferFailed(to);
    }
}
