// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {GenerationProver} from "../dispute/GenerationProver.sol";
import {IInferenceMarket} from "./IInferenceMarket.sol";

/// @notice A point in time, in seconds since the epoch.
type Timestamp is uint40;
/// @notice A length of time, in seconds.
type Duration is uint40;

/// @title IDisputeGame
/// @notice The bonded, timed bisection game over the trace of an `Optimistic` result: the
/// challenger and the defender (the provider) narrow their disagreement to the first differing
/// layer, then to one chunk of that layer's output, then to one element, which the chain
/// recomputes ({IOneStepProver}), or, for an element whose reduction is too long for one step
/// (a dot product, an argmax row, a pooling window), to one bounded range of that reduction.
/// Each side has a chess clock; the loser pays. Any number of games may be open over one result,
/// each between its own challenger and the provider; the first the provider loses refunds the
/// request, and the others become moot (their bonds are returned).
interface IDisputeGame {
    /// @notice Who moves, who won.
    enum Side {
        None,
        Defender,
        Challenger
    }

    /// @notice `Bisecting`: defender reveals the children of its node, then the challenger its own
    /// (the game descends into the first differing side); `AwaitChunk`: the defender opens its
    /// leaf; `AwaitStep`: the challenger names an element and proves the one-step (or opens the
    /// reduction phase with {openSum}); `Resolved`. The reduction phase of a dense, conv2d,
    /// argmax or maxpool2d element, over the prefix states `S_0 = 0 … S_n` of its reduction
    /// (sums of a dot product, running maximum of a row or window: {IOneStepProver}):
    /// `SumClaim`: the defender claims the final state `S_n`; `SumBisecting`: the defender posts
    /// the state at the range's midpoint, the challenger agrees or not; `AwaitSumStep`: the
    /// challenger proves the last range ({proveSumStep}). `RevealLayers` (a game over a decoder's
    /// generation, after the first differing pass `k` is found): the defender reveals its layer
    /// roots of pass `k` ({revealLayers}), then the challenger its own ({revealChallengerLayers}),
    /// and the game goes on in the first differing layer of that pass, from `Bisecting` on.
    enum Phase {
        None,
        Bisecting,
        AwaitChunk,
        AwaitStep,
        Resolved,
        SumClaim,
        SumBisecting,
        AwaitSumStep,
        RevealLayers
    }

    /// @notice A game as {getGame} returns it. `height` and `position` locate the disputed node
    /// in layer `layer`'s tree (height 0 = leaves); `defenderLeft`/`defenderRight` are the
    /// defender's revealed children while the challenger is to move. A game over a decoder's
    /// generation (`passCount` nonzero) disputes layer `layer` of pass `pass` of `passCount`;
    /// its `rootA` is the prompt's root and `rootB` the defender's generation root.
    struct GameView {
        uint256 requestId;
        address challenger;
        address defender;
        Phase phase;
        Side turn;
        Side winner;
        uint16 layer;
        uint8 height;
        uint32 position;
        uint32 chunkCount;
        uint8 elementSize;
        uint256 bond;
        Timestamp lastMoveAt;
        Duration defenderUsed;
        Duration challengerUsed;
        bytes32 defenderNode;
        bytes32 challengerNode;
        bytes32 defenderLeft;
        bytes32 defenderRight;
        bytes32 specHash;
        bytes32 rootA;
        bytes32 rootB;
        uint32 pass;
        uint32 passCount;
        uint32 promptLength;
        uint16 layerCount;
    }

    /// @notice The reduction phase as {getSum} returns it: the disputed `element` (its bytes
    /// `claimed` by the defender, left-aligned: 1 byte for int8, 4 for an int32 argmax index),
    /// its reduction length `fanIn` and the longest range one step checks (`maxRange`); the
    /// range `[lo, hi)` with the defender's prefix states `sumLo` (agreed) and `sumHi`
    /// (disputed); `mid` and `sumMid`, the defender's posted midpoint while the challenger is to
    /// pick.
    struct SumView {
        uint256 element;
        uint256 fanIn;
        uint256 maxRange;
        uint256 lo;
        uint256 hi;
        int256 sumLo;
        int256 sumHi;
        uint256 mid;
        int256 sumMid;
        bytes4 claimed;
    }

    error GameUnknown(uint256 gameId);
    error GameWrongBond(uint256 sent, uint256 required);
    error GameInputMismatch(uint256 requestId);
    error GameInputNotInline(uint256 requestId);
    error GameRootsMismatch(uint256 requestId);
    error GameLayerCountMismatch(uint256 count, uint256 expected);
    error GameNoDisagreement(uint256 requestId);
    error GameLayoutProofInvalid(uint256 layer);
    error GameSpecInvalid(uint256 layer);
    error GameWrongPhase(uint256 gameId, Phase phase);
    error GameNotYourTurn(uint256 gameId, address caller);
    error GameClockExpired(uint256 gameId, Side side);
    error GameClockRunning(uint256 gameId, Side side, Duration remaining);
    error GameNodeMismatch(uint256 gameId, bytes32 expected, bytes32 actual);
    error GameChunkLengthMismatch(uint256 gameId, uint256 length, uint256 expected);
    error GameElementOutOfRange(uint256 gameId, uint256 offset);
    error GameNothingToWithdraw(address account);
    error GameTransferFailed(address to);
    error GameUnexpectedEth(address sender);
    error GameZeroAddress();
    /// @notice The registries given are not those of `market`: the slash the market sends would
    /// come from a registry this game does not accept ETH from.
    error GameRegistryMismatch(address market);
    /// @notice A claimed prefix state at or beyond {SUM_BOUND} in absolute value.
    error GameSumOutOfRange(uint256 gameId, int256 sum);
    /// @notice `2 · clock + maxWindow` (a result's longest open time after submission) exceeds
    /// the providers' `unbondingDelay`, or the defender's reward is zero (a false challenge
    /// would then cost the defender its gas).
    error GameParametersUnsafe(uint256 clock, uint256 maxWindow, uint256 unbondingDelay);

    /// @notice The output's id `index` cannot be disputed: the model is not a decoder, the
    /// defender's pass count is not `P + N − 1` (dispute it with {challenge}), or `index ≥ N`.
    error GameOutputNotDisputable(uint256 requestId, uint256 index);
    /// @notice The opened argmax of the output's id `index` does not verify against the
    /// defender's generation.
    error GameOutputTokenInvalid(uint256 requestId, uint256 index);

    event GameStarted(
        uint256 indexed gameId,
        uint256 indexed requestId,
        address indexed challenger,
        address defender,
        uint16 layer,
        uint8 height,
        uint32 chunkCount,
        bytes32 defenderNode,
        bytes32 challengerNode,
        uint256 bond
    );
    event DefenderRevealed(uint256 indexed gameId, uint8 height, uint32 position, bytes32 left, bytes32 right);
    event ChallengerBisected(uint256 indexed gameId, uint8 height, uint32 position, bytes32 left, bytes32 right);
    event ChunkRevealed(uint256 indexed gameId, uint32 position, bytes chunk);
    event StepProved(uint256 indexed gameId, uint256 element, bytes computed, bytes claimed);
    /// @notice The challenger opened the reduction phase over `element` (length `fanIn`).
    event SumOpened(uint256 indexed gameId, uint256 element, uint256 fanIn, uint256 maxRange, bytes4 claimed);
    /// @notice The defender claimed the final reduction state; `consistent` is whether it
    /// finishes to its claimed element (if not, it has lost).
    event SumClaimed(uint256 indexed gameId, int256 total, bool consistent);
    /// @notice The defender posted prefix state `S_index = sum`.
    event SumPosted(uint256 indexed gameId, uint256 index, int256 sum);
    /// @notice The challenger agreed with the posted sum or not; the range is now `[lo, hi)`.
    event SumPicked(uint256 indexed gameId, bool agreed, uint256 lo, uint256 hi);
    /// @notice The last range was recomputed from the agreed `S_lo`: `computed` against the
    /// defender's `S_hi` (`claimed`).
    event SumStepProved(uint256 indexed gameId, uint256 lo, uint256 hi, int256 computed, int256 claimed);
    /// @notice Game `gameId` over `requestId` ended with `winner`; `slashed` was taken from the
    /// provider. `moot`: the request had already been refunded, and the bond went back to the
    /// challenger whoever won.
    event GameResolved(uint256 indexed gameId, uint256 indexed requestId, Side winner, uint256 slashed, bool moot);
    /// @notice A game over a generation of `passCount` passes (prompt length `promptLength`)
    /// disputes pass `pass`, the first whose pass roots differ.
    event GenerationDisputed(uint256 indexed gameId, uint256 pass, uint256 passCount, uint256 promptLength);
    /// @notice The defender submitted `count` pass roots where the generation has `expected`
    /// (`P + N − 1`): the challenger wins at once.
    event PassCountMismatch(uint256 indexed gameId, uint256 count, uint256 expected);
    /// @notice `side` revealed its layer roots of pass `pass`.
    event LayersRevealed(uint256 indexed gameId, Side side, uint32 pass, bytes32[] roots);
    /// @notice The game goes on in layer `layer` of pass `pass`, as {GameStarted} for a layer.
    event LayerDisputed(
        uint256 indexed gameId,
        uint32 pass,
        uint16 layer,
        uint8 height,
        uint32 chunkCount,
        bytes32 defenderNode,
        bytes32 challengerNode
    );
    /// @notice The defender's committed argmax of the output's id `index` (`committed`) is not
    /// the id it posted: the challenger won at once.
    event OutputTokenMismatch(uint256 indexed gameId, uint256 index, bytes4 committed, bytes4 posted);
    event Credited(address indexed account, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);

    /// @notice The exact ETH bond {challenge} takes for request `requestId`: at least the
    /// defender's worst-case gas for a whole game at the configured gas price, grossed up so
    /// that the defender's share of a lost bond covers it.
    function requiredBond(uint256 requestId) external view returns (uint256);

    /// @notice What is slashed from a provider that loses a game (the market reserves at least
    /// this at every Optimistic claim).
    function slashAmount() external view returns (uint256);

    /// @notice The longest a game can last before one side can be timed out: both clocks.
    function maxDuration() external view returns (uint256);

    /// @notice What {challenge} takes: `input` is the request's input envelope (inline),
    /// `defenderRoots` the provider's submitted layer roots (from {OptimisticResultSubmitted}),
    /// `challengerRoots` the challenger's; `layerSpec` and `layoutProof` open leaf `k` (the first
    /// differing layer) of the model's `layoutRoot`.
    struct ChallengeParams {
        /// The request's own parameters, from its {IInferenceMarket-InferenceRequested} event.
        IInferenceMarket.RequestParams request;
        bytes input;
        bytes32[] defenderRoots;
        bytes32[] challengerRoots;
        bytes layerSpec;
        bytes32[] layoutProof;
    }

    /// @notice Opens a game against the Submitted result of `requestId`, with exactly
    /// {requiredBond} attached. For a decoder (an int32 prompt input) the root lists are pass
    /// roots and `layerSpec`, `layoutProof` are unused: the game starts in RevealLayers at the
    /// first differing pass (or, when the defender's pass count is not `P + N − 1`, is won by
    /// the challenger at once). Emits a {GameStarted} event (and {GenerationDisputed} or
    /// {PassCountMismatch} with {GameResolved}).
    function challenge(uint256 requestId, ChallengeParams calldata params) external payable returns (uint256 gameId);

    /// @notice What {challengeOutput} takes: the request's input and the defender's pass roots,
    /// the index of a generated id, the opening of the defender's argmax layer root at pass
    /// `P − 1 + index` against its generation root, and that layer's element (4 bytes).
    struct OutputChallengeParams {
        IInferenceMarket.RequestParams request;
        bytes input;
        bytes32[] defenderRoots;
        uint256 index;
        GenerationProver.Opening argmax;
        bytes token;
    }

    /// @notice Opens and at once wins a game against a decoder's Submitted result whose output
    /// id `index` is not the argmax its trace commits at pass `P − 1 + index`, with exactly
    /// {requiredBond} attached. Emits {GameStarted}, {OutputTokenMismatch} and {GameResolved}.
    function challengeOutput(
        uint256 requestId,
        OutputChallengeParams calldata params
    ) external payable returns (uint256 gameId);

    /// @notice What {revealChallengerLayers} takes: the defender's revealed layer roots of the
    /// disputed pass, the challenger's own, and the spec of the first layer where they differ
    /// with its proof against the model's `layoutRoot`.
    struct LayerRevealParams {
        bytes32[] defenderRoots;
        bytes32[] roots;
        bytes layerSpec;
        bytes32[] layoutProof;
    }

    /// @notice The defender reveals its `L` layer roots of the disputed pass.
    /// Emits a {LayersRevealed} event.
    function revealLayers(uint256 gameId, bytes32[] calldata roots) external;

    /// @notice The challenger reveals its own layer roots of the disputed pass (with the
    /// defender's, and the spec of the first differing layer with its layout proof); the game
    /// goes on in that layer. Emits {LayersRevealed} and {LayerDisputed} events.
    function revealChallengerLayers(uint256 gameId, LayerRevealParams calldata params) external;

    /// @notice The defender reveals the two children of its current node.
    /// Emits a {DefenderRevealed} event.
    function reveal(uint256 gameId, bytes32 left, bytes32 right) external;

    /// @notice The challenger reveals the two children of its current node; the game descends
    /// into the left child if the two sides' left children differ, else the right.
    /// Emits a {ChallengerBisected} event (and {GameResolved} on a padding leaf).
    function bisect(uint256 gameId, bytes32 left, bytes32 right) external;

    /// @notice The defender opens its disputed leaf with the chunk's bytes.
    /// Emits a {ChunkRevealed} event.
    function revealChunk(uint256 gameId, bytes calldata chunk) external;

    /// @notice The challenger names element `offset` of the defender's revealed `chunk` and
    /// proves its correct value with `stepProof`; the game is resolved.
    /// Emits {StepProved} and {GameResolved} events.
    function proveStep(
        uint256 gameId,
        bytes calldata chunk,
        uint256 offset,
        bytes calldata layerSpec,
        bytes calldata stepProof
    ) external;

    /// @notice Instead of {proveStep}, the challenger names element `offset` of the defender's
    /// revealed `chunk` (dense, conv2d, argmax or maxpool2d) and opens the reduction phase over
    /// it, for a reduction too long for one step. Emits a {SumOpened} event.
    function openSum(uint256 gameId, bytes calldata chunk, uint256 offset, bytes calldata layerSpec) external;

    /// @notice The defender claims the element's final reduction state `total` (`S_n`), with the
    /// proof of what finishing it needs (a dense or conv2d channel's bias, multiplier and
    /// shift; nothing for argmax and maxpool2d); if the finished value is not its claimed
    /// element it loses at once. Emits {SumClaimed} (and {GameResolved}).
    function claimSum(uint256 gameId, int256 total, bytes calldata layerSpec, bytes calldata paramsProof) external;

    /// @notice The defender posts the prefix state at the midpoint of the disputed range.
    /// Emits a {SumPosted} event.
    function postSum(uint256 gameId, int256 sum) external;

    /// @notice The challenger agrees with the posted midpoint sum (the dispute is in the upper
    /// half) or not (the lower half). Emits a {SumPicked} event.
    function pickSum(uint256 gameId, bool agree) external;

    /// @notice The challenger proves `S_hi` from the agreed `S_lo` over the last range, from
    /// chunks of the agreed input and the weights; it wins if that differs from the defender's.
    /// Emits {SumStepProved} and {GameResolved} events.
    function proveSumStep(uint256 gameId, bytes calldata layerSpec, bytes calldata stepProof) external;

    /// @notice Anyone ends a game whose side to move has run out of time; that side loses.
    /// Emits a {GameResolved} event.
    function claimTimeout(uint256 gameId) external;

    /// @notice Pays out the caller's credits. Emits a {Withdrawn} event.
    function withdraw() external;

    function getGame(uint256 gameId) external view returns (GameView memory);

    /// @notice The partial-sum phase of `gameId` (zero before {openSum}).
    function getSum(uint256 gameId) external view returns (SumView memory);

    function gameCount() external view returns (uint256);

    function balanceOf(address account) external view returns (uint256);

    /// @notice Bonds of unresolved games held by the game.
    function bondsHeld() external view returns (uint256);

    /// @notice Time the side to move of `gameId` has left (0 once out).
    function remainingTime(uint256 gameId) external view returns (Duration);
}
