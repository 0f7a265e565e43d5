// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ChunkMerkle} from "../libraries/ChunkMerkle.sol";
import {Generation} from "./Generation.sol";
import {LayerSpec} from "./LayerSpec.sol";
import {LayerStepProver} from "./LayerStepProver.sol";
import {SequenceStep} from "./SequenceStep.sol";

/// @title GenerationProver
/// @notice The steps of a dispute over a decoder's generation (docs/protocol.md, "Games over a
/// generation"): the {DisputeGame} has narrowed the dispute to layer `l` of pass `k`; every root
/// a step of that layer reads (layers `inputA`, `inputB` of pass `k`; the key of pass `u` for
/// qk; the values of passes `from … to − 1` for av; the argmax of pass `k − 1` or the prompt for
/// embed's token) is opened here against the agreed data before {LayerStepProver}'s decoder
/// entries are called with it. Deployed by the game itself (its constructor), stateless.
///
/// Agreed data: the defender's generation root (over its `T` pass roots, each over its `L`
/// layer roots) commits layer `r` of pass `u` at index `u · 2^depth(L) + r` of one tree of depth
/// `depth(L) + depth(T)`; both sides agree on every pass before `k` and on layers `0 … l − 1`
/// of pass `k`, so exactly those leaves may be read. The prompt's root is the root of the
/// request's input elements, which both sides share.
///
/// A decoder's layers of the one-pass kinds (dense, add, argmax, …) are stepped by the prover's
/// {IOneStepProver} entries, with the roots of pass `k` read the same way.
contract GenerationProver {
    /// @notice Where the dispute stands, from the game's storage.
    struct PassContext {
        uint256 pass;
        uint256 layer;
        uint256 layerCount;
        uint256 passCount;
        uint256 promptLength;
        bytes32 promptRoot;
        bytes32 generationRoot;
        bytes32 weightsRoot;
    }

    /// @notice A layer's trace root and its path to the generation root.
    struct Opening {
        bytes32 root;
        bytes32[] siblings;
    }

    /// @notice What a step takes (abi-encoded as the game's `stepProof`): the openings of the
    /// roots it reads, in the order of {computeElement}; for a token embedding, the chunk holding
    /// tok(k) (a prompt chunk with `tokenSiblings`, or the 4 bytes of the argmax of pass `k − 1`);
    /// and the {LayerStepProver} proof of the step.
    struct StepProof {
        Opening[] reads;
        bytes token;
        bytes32[] tokenSiblings;
        bytes proof;
    }

    /// @notice Layer `layer` of pass `pass` is not agreed data at the disputed pass and layer
    /// (only earlier passes, and earlier layers of the disputed pass, are).
    error GenerationReadNotAgreed(uint256 pass, uint256 layer);
    /// @notice The opening of layer `layer` of pass `pass` does not verify against the
    /// generation root, or the step proof lacks it.
    error GenerationReadInvalid(uint256 pass, uint256 layer);
    /// @notice The chunk given for tok(pass) does not verify.
    error GenerationTokenInvalid(uint256 pass);

    LayerStepProver private immutable _prover;

    /// @param prover the one-step prover whose decoder entries compute the steps.
    constructor(LayerStepProver prover) {
        _prover = prover;
    }

    /// @notice The disputed element, computed by the prover from the agreed roots it reads.
    /// Reads, in order: `inputA` at pass `k`; then `inputB` at pass `k` (softmax, add), the key at
    /// pass `u` (qk element `h·C + u`, when `u ≤ k`) or the value at every pass `0 … k` (av);
    /// for a token embed at `k ≥ P`, the argmax of pass `k − 1`.
    function computeElement(
        bytes calldata spec,
        PassContext calldata c,
        uint256 element,
        bytes calldata stepProof
    ) external view returns (bytes memory) {
        LayerSpec.Spec memory s = LayerSpec.decode(spec);
        StepProof memory p = abi.decode(stepProof, (StepProof));
        uint8 kind = s.kind;
        if (kind == LayerSpec.EMBED) {
            int256 token = s.params[2] == 0 ? _token(s, c, p) : int256(0);
            return _prover.computeEmbedElement(spec, c.pass, token, c.weightsRoot, element, p.proof);
        }
        if (kind == LayerSpec.QK || kind == LayerSpec.AV) {
            (LayerStepProver.PassRoots memory roots, bytes32[] memory values) = _attentionRoots(
                s,
                c,
                p,
                element,
                0,
                c.pass + 1
            );
            return _prover.computeAttentionElement(spec, c.pass, roots, values, element, p.proof);
        }
        LayerStepProver.PassRoots memory r = _passRoots(s, c, p);
        if (kind < LayerSpec.EMBED) {
            return _prover.computeElement(spec, r.rootA, r.rootB, c.weightsRoot, element, p.proof);
        }
        return _prover.computePassElement(spec, c.pass, r, element, p.proof);
    }

    /// @notice The terms of the disputed element's reduction at pass `pass` and one step's
    /// longest range (the prover's {LayerStepProver-passSumLayout} or
    /// {LayerStepProver-attentionSumLayout}); reverts for kinds without a reduction.
    function sumLayout(
        bytes calldata spec,
        uint256 pass,
        uint256 element
    ) external view returns (uint256 fanIn, uint256 maxRange) {
        uint8 kind = LayerSpec.decode(spec).kind;
        if (kind < LayerSpec.EMBED) return _prover.sumLayout(spec, element);
        if (kind == LayerSpec.QK || kind == LayerSpec.AV) return _prover.attentionSumLayout(spec, pass, element);
        return _prover.passSumLayout(spec, pass, element);
    }

    /// @notice The element the final state `total` finishes to. Reads: the decoder's pass-local
    /// kinds as {computeElement}; qk, av and the one-pass kinds none (only the weights).
    function finishSum(
        bytes calldata spec,
        PassContext calldata c,
        uint256 element,
        int256 total,
        bytes calldata stepProof
    ) external view returns (bytes memory) {
        LayerSpec.Spec memory s = LayerSpec.decode(spec);
        StepProof memory p = abi.decode(stepProof, (StepProof));
        if (s.kind < LayerSpec.EMBED) return _prover.finishSum(spec, c.weightsRoot, element, total, p.proof);
        if (s.kind == LayerSpec.QK || s.kind == LayerSpec.AV) {
            return _prover.finishAttentionSum(spec, c.weightsRoot, c.pass, element, total, p.proof);
        }
        return _prover.finishPassSum(spec, _passRoots(s, c, p), c.pass, element, total, p.proof);
    }

    /// @notice `S_to` from the agreed `S_from = step.sumFrom` over terms `[step.from, step.to)` of
    /// element `step.element` at the disputed pass (`step.t` is taken from `c`). Reads as
    /// {computeElement}, except that av reads the values of passes `from … to − 1` only and the
    /// one-pass kinds (dense, argmax, …) `inputA` only.
    function stepSum(
        bytes calldata spec,
        PassContext calldata c,
        SequenceStep.Step memory step,
        bytes calldata stepProof
    ) external view returns (int256) {
        LayerSpec.Spec memory s = LayerSpec.decode(spec);
        StepProof memory p = abi.decode(stepProof, (StepProof));
        step.t = c.pass;
        if (s.kind < LayerSpec.EMBED) {
            bytes32 rootA = _read(c, p, 0, c.pass, s.inputA);
            return _prover.stepSum(spec, rootA, c.weightsRoot, step.element, step.from, step.to, step.sumFrom, p.proof);
        }
        if (s.kind != LayerSpec.QK && s.kind != LayerSpec.AV) {
            return _prover.stepPassSum(spec, _passRoots(s, c, p), step, p.proof);
        }
        (LayerStepProver.PassRoots memory roots, bytes32[] memory values) = _attentionRoots(
            s,
            c,
            p,
            step.element,
            step.from,
            step.to
        );
        return _prover.stepAttentionSum(spec, roots, values, step, p.proof);
    }

    /// @notice The prompt length of a request's input tensor (header included), or 0 when it is
    /// not an int32 `[1, P_max]` prompt (the model is not a decoder).
    function promptLengthOf(bytes calldata tensor) external pure returns (uint256) {
        if (!Generation.isPrompt(tensor)) return 0;
        return Generation.promptLength(tensor[11:]);
    }

    /// @notice {Generation-rootOfRoots} of `roots`.
    function rootOfRoots(bytes32[] calldata roots) external pure returns (bytes32) {
        return Generation.rootOfRoots(roots);
    }

    /// @notice The trace root of layer `layer` at pass `pass` in the defender's generation:
    /// `o.root`, once its path verifies and the leaf is agreed.
    function layerRoot(
        PassContext calldata c,
        uint256 pass,
        uint256 layer,
        Opening memory o
    ) public pure returns (bytes32) {
        // INVARIANT: a step reads only what both sides committed alike: earlier passes, and the
        // layers of the disputed pass before the disputed one.
        if (!(pass < c.pass || (pass == c.pass && layer < c.layer))) revert GenerationReadNotAgreed(pass, layer);
        uint256 layerDepth = Generation.depth(c.layerCount);
        if (
            layer >= c.layerCount ||
            o.siblings.length != layerDepth + Generation.depth(c.passCount) ||
            ChunkMerkle.computeRoot((pass << layerDepth) | layer, o.root, o.siblings) != c.generationRoot
        ) revert GenerationReadInvalid(pass, layer);
        return o.root;
    }

    /// @dev The roots of a pass-local step: `inputA` and (when read) `inputB` at pass `k`.
    function _passRoots(
        LayerSpec.Spec memory s,
        PassContext calldata c,
        StepProof memory p
    ) private pure returns (LayerStepProver.PassRoots memory roots) {
        roots.weightsRoot = c.weightsRoot;
        roots.rootA = _read(c, p, 0, c.pass, s.inputA);
        if (s.inputB >= 0) roots.rootB = _read(c, p, 1, c.pass, s.inputB);
    }

    /// @dev The roots of a qk or av step: the query or probabilities at pass `k`; qk's key at
    /// pass `u` (none when masked), av's values at passes `from … to − 1`.
    function _attentionRoots(
        LayerSpec.Spec memory s,
        PassContext calldata c,
        StepProof memory p,
        uint256 element,
        uint256 from,
        uint256 to
    ) private pure returns (LayerStepProver.PassRoots memory roots, bytes32[] memory values) {
        roots.weightsRoot = c.weightsRoot;
        roots.rootA = _read(c, p, 0, c.pass, s.inputA);
        if (s.kind == LayerSpec.QK) {
            uint256 u = element % s.params[2];
            if (u <= c.pass) roots.rootB = _read(c, p, 1, u, s.inputB);
            return (roots, values);
        }
        // The prover checks the range (at most `MAX_AV_STEP` passes); a reversed one reads none.
        uint256 n = to > from ? to - from : 0;
        values = new bytes32[](n);
        for (uint256 j; j < n; ++j) values[j] = _read(c, p, 1 + j, from + j, s.inputB);
    }

    /// @dev Opening `i` of the proof, as layer `ref` at pass `pass`.
    function _read(
        PassContext calldata c,
        StepProof memory p,
        uint256 i,
        uint256 pass,
        int32 ref
    ) private pure returns (bytes32) {
        if (ref < 0 || i >= p.reads.length) revert GenerationReadInvalid(pass, uint256(int256(ref)));
        return layerRoot(c, pass, uint32(ref), p.reads[i]);
    }

    /// @dev tok(k): the prompt's id `k` (bos, `params[3]`, for an empty prompt) while `k < P`,
    /// else the argmax of pass `k − 1` (its one int32 element, under the opened root).
    function _token(LayerSpec.Spec memory s, PassContext calldata c, StepProof memory p) private pure returns (int256) {
        uint256 k = c.pass;
        bytes memory chunk = p.token;
        if (k < c.promptLength) {
            uint256 at = 4 * k;
            uint256 size = ChunkMerkle.CHUNK_SIZE;
            uint256 offset = at % size;
            // INVARIANT: the id is read from the request's input, which both sides share.
            if (chunk.length < offset + 4 || !ChunkMerkle.verify(c.promptRoot, at / size, chunk, p.tokenSiblings))
                revert GenerationTokenInvalid(k);
            int32 id = Generation.int32At(chunk, offset / 4);
            return id < 0 ? int256(uint256(s.params[3])) : int256(id);
        }
        bytes32 argmax = _read(c, p, 0, k - 1, int32(int256(c.layerCount - 1)));
        // INVARIANT: the token is the agreed argmax of the previous pass (one int32, one chunk).
        if (chunk.length != 4 || ChunkMerkle.leafHash(0, chunk) != argmax) revert GenerationTokenInvalid(k);
        return Generation.int32At(chunk, 0);
    }
}
