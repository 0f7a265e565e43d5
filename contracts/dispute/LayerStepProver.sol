// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ChunkMerkle} from "../libraries/ChunkMerkle.sol";
import {IOneStepProver} from "../interfaces/IOneStepProver.sol";
import {LayerSpec} from "./LayerSpec.sol";
import {OneStepExecutor} from "./OneStepExecutor.sol";
import {SequenceStep} from "./SequenceStep.sol";

/// @title LayerStepProver
/// @notice The {IOneStepProver} of the dispute game: checks the chunks of a step proof against
/// their roots, reads the bytes the element depends on and hands them to {OneStepExecutor}, the
/// one on-chain implementation of docs/numeric-semantics.md. Every kind has a whole-element step
/// ({computeElement}); dense, conv2d, argmax and maxpool2d elements of any size also have the
/// steps of the game's reduction phase ({sumLayout}, {finishSum}, {stepSum}).
///
/// Bounds of one step, whatever the model: a proof holds at most {MAX_CHUNKS} chunks; a dense
/// range at most `OneStepExecutor.MAX_STEP` multiply-adds, a conv2d range at most
/// `OneStepExecutor.MAX_CONV_STEP` and few enough kernel rows that its receptive field fits
/// {INPUT_CHUNKS} input chunks; an argmax or maxpool2d range at most {MAX_MAX_STEP}
/// elements read from at most {INPUT_CHUNKS} input chunks ({sumLayout}). A whole element beyond
/// {MAX_FAN_IN} (dense, argmax, maxpool2d) or `MAX_CONV_STEP` (conv2d) reverts with
/// {StepUnsupported}: the game's reduction phase covers it. Every step therefore stays under the
/// game's `MOVE_GAS_CEILING` (test/dispute/GasCeiling.test.ts).
///
/// Decoders (docs/numeric-semantics.md, "Sequence models"): the pass-local kinds
/// lut, centre, normalize, rowmax and softmax have their steps ({computePassElement},
/// {passSumLayout}, {stepPassSum}, {finishPassSum}) over layers of the same pass `t`, computed by
/// {SequenceStep}; there embed, qk and av, which read the pass's token or other passes, revert
/// with {StepReadsOtherPasses}. Those three have their own entries, given the token or the roots
/// of the other passes by the caller ({computeEmbedElement}; qk and av: {computeAttentionElement},
/// {attentionSumLayout}, {stepAttentionSum}, {finishAttentionSum}). Like `rootA`/`rootB`, the
/// prover trusts its caller for which root belongs to which pass and for the token: the dispute
/// game's {GenerationProver} opens them against the agreed passes first.
/// @dev A proof is `abi.encode(ChunkProof[])`. Input elements of conv2d and maxpool2d may come
/// from several chunks of the previous layer; every byte read is looked up in the proven chunks
/// ({_read}), one kernel row at a time, so a missing one reverts with {StepChunkMissing} and
/// nothing unproven is ever read.
contract LayerStepProver is IOneStepProver {
    /// @notice Most multiply-adds (dense) or row elements (argmax) of a whole-element step.
    uint256 public constant MAX_FAN_IN = OneStepExecutor.MAX_STEP;
    /// @notice Most chunks in one proof: a {MAX_FAN_IN} range reads at most 17 input and 17
    /// weights chunks, plus 3 for a channel's bias, multiplier and shift.
    uint256 public constant MAX_CHUNKS = 40;
    /// @notice Most input chunks one conv2d, argmax or maxpool2d reduction range may read.
    uint256 public constant INPUT_CHUNKS = 16;
    /// @notice Most elements of one argmax or maxpool2d reduction range.
    uint256 public constant MAX_MAX_STEP = 8192;
    /// @notice Most kernel or window rows one conv2d or maxpool2d step reads: each row is a
    /// separate read of the proven chunks (about 6k gas), so a step of 1024 one-element rows
    /// would need about 6M gas however few elements it has.
    uint256 public constant MAX_STEP_ROWS = 256;

    /// @dev Argmax states: `(best + 128) · 2^32 + index`.
    uint256 private constant _INDEX_BITS = 32;
    uint256 private constant _INDEX_MASK = type(uint32).max;

    uint8 internal constant SOURCE_WEIGHTS = 0;
    uint8 internal constant SOURCE_A = 1;
    uint8 internal constant SOURCE_B = 2;
    /// @dev Chunks of the value layer at the `k`-th pass of an av range: source `3 + k`.
    uint256 internal constant SOURCE_VALUES = 3;

    /// @dev One conv2d prefix-sum step: geometry, output position, the weights of the range
    /// and the fan-in index of their first byte.
    struct ConvStep {
        OneStepExecutor.Conv2dGeometry g;
        uint256 r;
        uint256 c;
        bytes w;
        uint256 from;
    }

    /// @notice The agreed roots a decoder step reads, all of the same pass: the spec's `inputA`
    /// and `inputB` layers' trace roots and the weights root.
    struct PassRoots {
        bytes32 rootA;
        bytes32 rootB;
        bytes32 weightsRoot;
    }

    /// @notice One proven chunk: `source` 0 = weights blob, 1 = first input, 2 = second input,
    /// `3 + k` = an av step's value layer at its `k`-th pass ({stepAttentionSum}).
    struct ChunkProof {
        uint8 source;
        uint32 index;
        bytes data;
        bytes32[] siblings;
    }

    /// @notice Chunk `index` of `source` does not verify against its root.
    error StepChunkInvalid(uint8 source, uint256 index);
    /// @notice The proof holds no chunk `index` of `source`, which the element needs.
    error StepChunkMissing(uint8 source, uint256 index);
    /// @notice The proof holds `count` chunks, more than {MAX_CHUNKS}.
    error StepTooManyChunks(uint256 count);
    /// @notice The element index is not below the layer's element count.
    error StepElementOutOfRange(uint256 element, uint256 count);
    /// @notice This prover cannot recompute an element of this kind (or this fan-in) in one step.
    error StepUnsupported(uint8 kind, uint256 fanIn);
    /// @notice A prefix-sum range `[from, to)` that is reversed, beyond the fan-in or too long.
    error StepRangeInvalid(uint256 from, uint256 to, uint256 fanIn);

    /// @notice A decoder kind (embed, qk, av) whose element reads the pass's token or layers of
    /// other passes: not a pass-local step.
    error StepReadsOtherPasses(uint8 kind);
    /// @notice `given` value-layer roots where the step reads `expected` passes (an av range's
    /// length; none for qk).
    error StepPassRootsMismatch(uint256 given, uint256 expected);

    /// @inheritdoc IOneStepProver
    function computeElement(
        bytes calldata spec,
        bytes32 rootA,
        bytes32 rootB,
        bytes32 weightsRoot,
        uint256 element,
        bytes calldata proof
    ) external pure returns (bytes memory value) {
        LayerSpec.Spec memory s = _spec(spec, element);
        uint8 kind = s.kind;
        uint256 fanIn =
            kind == LayerSpec.DENSE || kind == LayerSpec.ARGMAX
                ? s.params[0]
                : kind == LayerSpec.CONV2D
                    ? uint256(s.params[0]) * s.params[6] * s.params[7]
                    : kind == LayerSpec.MAXPOOL2D
                        ? uint256(s.params[5]) * s.params[6]
                        : 0;
        // INVARIANT: one step's work is bounded (elements, and rows read one at a time); longer
        // reductions go through the reduction phase.
        if (
            fanIn > (kind == LayerSpec.CONV2D ? OneStepExecutor.MAX_CONV_STEP : MAX_FAN_IN) ||
            _rowsOfWholeStep(s) > MAX_STEP_ROWS
        ) {
            revert StepUnsupported(kind, fanIn);
        }
        ChunkProof[] memory chunks = _verified(proof, rootA, rootB, weightsRoot);
        if (kind == LayerSpec.DENSE) {
            return _int8(_finish(s, chunks, element, _denseRange(s, chunks, element, 0, fanIn)));
        }
        if (kind == LayerSpec.CONV2D) {
            return _int8(_finish(s, chunks, element, _convRange(s, chunks, element, 0, fanIn)));
        }
        if (kind == LayerSpec.RELU) return _int8(OneStepExecutor.relu(_int8At(chunks, SOURCE_A, element)));
        if (kind == LayerSpec.RESHAPE) {
            return _int8(_int8At(chunks, SOURCE_A, OneStepExecutor.reshape(element)));
        }
        if (kind == LayerSpec.ADD) return _int8(_add(s, chunks, element));
        if (kind == LayerSpec.MAXPOOL2D)
            return _int8(int8(int256(_maxpoolRange(s, chunks, element, 0, fanIn, 0)) - 128));
        if (kind == LayerSpec.ARGMAX) {
            return _int32(OneStepExecutor.argmax(_read(chunks, SOURCE_A, element * fanIn, fanIn)));
        }
        revert StepUnsupported(kind, 0);
    }

    /// @inheritdoc IOneStepProver
    function sumLayout(bytes calldata spec, uint256 element) external pure returns (uint256 fanIn, uint256 maxRange) {
        return _sumLayout(_spec(spec, element));
    }

    /// @inheritdoc IOneStepProver
    function finishSum(
        bytes calldata spec,
        bytes32 weightsRoot,
        uint256 element,
        int256 accumulated,
        bytes calldata proof
    ) external pure returns (bytes memory value) {
        LayerSpec.Spec memory s = _spec(spec, element);
        _sumLayout(s); // a kind with a reduction
        // Any state finishes to some value (honest states are in range; a dishonest one only
        // has to disagree with the challenger's to lose later).
        if (s.kind == LayerSpec.ARGMAX) return _int32(uint256(accumulated) & _INDEX_MASK);
        if (s.kind == LayerSpec.MAXPOOL2D) return _int8(int8(int256(uint256(accumulated) & 0xff) - 128));
        ChunkProof[] memory chunks = _verified(proof, bytes32(0), bytes32(0), weightsRoot);
        return _int8(_finish(s, chunks, element, accumulated));
    }

    /// @inheritdoc IOneStepProver
    function stepSum(
        bytes calldata spec,
        bytes32 rootA,
        bytes32 weightsRoot,
        uint256 element,
        uint256 from,
        uint256 to,
        int256 sumFrom,
        bytes calldata proof
    ) external pure returns (int256 sumTo) {
        LayerSpec.Spec memory s = _spec(spec, element);
        _checkRange(s, from, to);
        return _reduce(s, _verified(proof, rootA, bytes32(0), weightsRoot), element, from, to, sumFrom);
    }

    // ------------------------------------------------------------------------------------------
    // Decoders: pass-local steps

    /// @notice Element `element` of a pass-local decoder layer (lut, centre, normalize, rowmax,
    /// softmax) at pass `pass`, from the agreed layers `inputA`, `inputB` of the same pass and the
    /// weights blob, as {SequenceStep} computes it: the bytes of the value (int8; centre int32 LE).
    /// A reduction longer than one step ({passSumLayout}) reverts with {StepUnsupported}: the
    /// reduction phase ({stepPassSum}, {finishPassSum}) covers it.
    /// @param proof `abi.encode(ChunkProof[])`: every chunk the element reads (sources 0 weights,
    /// 1 `inputA`, 2 `inputB`), each checked against its root in `roots`.
    function computePassElement(
        bytes calldata spec,
        uint256 pass,
        PassRoots calldata roots,
        uint256 element,
        bytes calldata proof
    ) external pure returns (bytes memory value) {
        LayerSpec.Spec memory s = _passSpec(spec, element);
        ChunkProof[] memory chunks;
        if (s.kind == LayerSpec.LUT) {
            chunks = _verified(proof, roots.rootA, roots.rootB, roots.weightsRoot);
            return _int8(_lut(s, chunks, element));
        }
        (uint256 terms, uint256 maxRange) = _passSumLayout(s, pass, element);
        // INVARIANT: one step's work is bounded; longer reductions go through the reduction phase.
        if (terms > maxRange) revert StepUnsupported(s.kind, terms);
        chunks = _verified(proof, roots.rootA, roots.rootB, roots.weightsRoot);
        // A masked softmax element has no terms and reads nothing.
        int256 sum = terms == 0 ? int256(0) : _passReduce(s, chunks, SequenceStep.Step(pass, element, 0, terms, 0));
        return _passFinish(s, chunks, pass, element, sum);
    }

    /// @notice The terms of element `element`'s reduction at pass `pass` and the longest range of
    /// one step: centre and normalize `D`, rowmax `C`, softmax `t + 1` (0 when masked), with
    /// {SequenceStep}'s `MAX_*_STEP` ranges. Reverts for kinds without a pass-local reduction.
    function passSumLayout(
        bytes calldata spec,
        uint256 pass,
        uint256 element
    ) external pure returns (uint256 terms, uint256 maxRange) {
        return _passSumLayout(_passSpec(spec, element), pass, element);
    }

    /// @notice `S_to` of a pass-local reduction from the agreed `S_from = step.sumFrom`, over terms
    /// `[step.from, step.to)` of element `step.element` at pass `step.t` (SequenceStep's `xRange`).
    function stepPassSum(
        bytes calldata spec,
        PassRoots calldata roots,
        SequenceStep.Step calldata step,
        bytes calldata proof
    ) external pure returns (int256 sumTo) {
        LayerSpec.Spec memory s = _passSpec(spec, step.element);
        (uint256 terms, uint256 maxRange) = _passSumLayout(s, step.t, step.element);
        // INVARIANT: one step checks one bounded range of the element's reduction.
        if (step.from > step.to || step.to > terms || step.to - step.from > maxRange) {
            revert StepRangeInvalid(step.from, step.to, terms);
        }
        return _passReduce(s, _verified(proof, roots.rootA, roots.rootB, roots.weightsRoot), step);
    }

    /// @notice The element that the agreed final state `accumulated = S_n` of element `element`'s
    /// reduction at pass `pass` finishes to (SequenceStep's `xFinish`), reading the element's own
    /// input (centre `x[i]`, normalize `c[i]` and its channel's parameters, softmax `x[u]`, the
    /// row's maximum and the exp table). A state outside its kind's bound reverts
    /// (`SequenceStateOutOfRange`).
    function finishPassSum(
        bytes calldata spec,
        PassRoots calldata roots,
        uint256 pass,
        uint256 element,
        int256 accumulated,
        bytes calldata proof
    ) external pure returns (bytes memory value) {
        LayerSpec.Spec memory s = _passSpec(spec, element);
        _passSumLayout(s, pass, element); // a kind with a reduction
        ChunkProof[] memory chunks = _verified(proof, roots.rootA, roots.rootB, roots.weightsRoot);
        return _passFinish(s, chunks, pass, element, accumulated);
    }

    /// @dev Decodes a pass-local decoder spec; embed, qk and av revert with
    /// {StepReadsOtherPasses}, non-decoder kinds with {StepUnsupported}.
    function _passSpec(bytes calldata spec, uint256 element) private pure returns (LayerSpec.Spec memory s) {
        s = _spec(spec, element);
        uint8 kind = s.kind;
        if (kind == LayerSpec.EMBED || kind == LayerSpec.QK || kind == LayerSpec.AV) revert StepReadsOtherPasses(kind);
        if (kind < LayerSpec.EMBED || kind > LayerSpec.AV) revert StepUnsupported(kind, 0);
    }

    /// @dev Terms and longest step range of a pass-local reduction (see {passSumLayout}).
    function _passSumLayout(
        LayerSpec.Spec memory s,
        uint256 pass,
        uint256 element
    ) private pure returns (uint256 terms, uint256 maxRange) {
        uint8 kind = s.kind;
        if (kind == LayerSpec.CENTRE) return (s.params[0], SequenceStep.MAX_CENTRE_STEP);
        if (kind == LayerSpec.NORMALIZE) return (s.params[0], SequenceStep.MAX_NORMALIZE_STEP);
        if (kind == LayerSpec.ROWMAX) return (s.params[1], SequenceStep.MAX_ROWMAX_STEP);
        if (kind == LayerSpec.SOFTMAX) {
            return (SequenceStep.softmaxTerms(_scores(s), pass, element), SequenceStep.MAX_SOFTMAX_STEP);
        }
        revert StepUnsupported(kind, 0);
    }

    /// @dev The `[1, H, C]` rows of a softmax (its head width does not matter: 1).
    function _scores(LayerSpec.Spec memory s) private pure returns (SequenceStep.Attention memory) {
        return SequenceStep.Attention(s.params[0], 1, s.params[1]);
    }

    /// @dev `lut` element `e`: the table byte of `x[e]`.
    function _lut(LayerSpec.Spec memory s, ChunkProof[] memory chunks, uint256 e) private pure returns (int8) {
        int8 x = _int8At(chunks, SOURCE_A, e);
        uint256 at = s.weightsOffset + uint256(int256(x) + 128);
        return SequenceStep.lut(_read(chunks, SOURCE_WEIGHTS, at, 1), at, s.weightsOffset, x);
    }

    /// @dev `S_to` of a pass-local reduction over `[st.from, st.to)` (range checked by the caller
    /// or, for a whole element, `[0, terms)`), from the proven bytes of the range's terms.
    function _passReduce(
        LayerSpec.Spec memory s,
        ChunkProof[] memory chunks,
        SequenceStep.Step memory st
    ) private pure returns (int256) {
        uint8 kind = s.kind;
        uint256 from = st.from;
        uint256 count = st.to - from;
        if (kind == LayerSpec.CENTRE) {
            bytes memory x = _read(chunks, SOURCE_A, from, count);
            return SequenceStep.centreRange(st.sumFrom, x, from, s.params[0], from, st.to);
        }
        if (kind == LayerSpec.NORMALIZE) {
            bytes memory c = _read(chunks, SOURCE_A, 4 * from, 4 * count);
            return SequenceStep.normalizeRange(st.sumFrom, c, 4 * from, s.params[0], from, st.to);
        }
        if (kind == LayerSpec.ROWMAX) {
            uint256 context = s.params[1];
            uint256 at = st.element * context + from;
            bytes memory row = _read(chunks, SOURCE_A, at, count);
            return SequenceStep.rowmaxRange(st.sumFrom, row, at, context, st.element, from, st.to);
        }
        return _softmaxReduce(s, chunks, st); // the only other kind _passSumLayout accepts
    }

    /// @dev `S_to` of a softmax row over `[st.from, st.to)`: the scores of the range, the row's
    /// maximum (`inputB` element `h`) and the exp table.
    function _softmaxReduce(
        LayerSpec.Spec memory s,
        ChunkProof[] memory chunks,
        SequenceStep.Step memory st
    ) private pure returns (int256) {
        SequenceStep.Attention memory g = _scores(s);
        uint256 h = st.element / g.context;
        uint256 first = h * g.context + st.from;
        SequenceStep.Slice memory scores = SequenceStep.Slice(_read(chunks, SOURCE_A, first, st.to - st.from), first);
        int8 max = _int8At(chunks, SOURCE_B, h);
        uint256 table = s.weightsOffset;
        SequenceStep.Slice memory exp = SequenceStep.Slice(_read(chunks, SOURCE_WEIGHTS, table, 1024), table);
        return SequenceStep.softmaxRange(g, st, scores, max, exp, table);
    }

    /// @dev The element a pass-local reduction's final state `sum` finishes to.
    function _passFinish(
        LayerSpec.Spec memory s,
        ChunkProof[] memory chunks,
        uint256 pass,
        uint256 e,
        int256 sum
    ) private pure returns (bytes memory) {
        uint8 kind = s.kind;
        if (kind == LayerSpec.CENTRE) {
            int32 c = SequenceStep.centreFinish(_int8At(chunks, SOURCE_A, e), s.params[0], sum);
            return _int32(uint32(c));
        }
        if (kind == LayerSpec.NORMALIZE) {
            uint256 at = 4 * e;
            int32 ci = OneStepExecutor.readInt32LE(_read(chunks, SOURCE_A, at, 4), at, at);
            return _int8(SequenceStep.normalizeFinish(ci, _normalizeParams(s, chunks, e), s.params[0], sum));
        }
        if (kind == LayerSpec.ROWMAX) return _int8(SequenceStep.rowmaxFinish(sum));
        // softmax: a masked element is 0 and reads nothing.
        SequenceStep.Attention memory g = _scores(s);
        if (SequenceStep.softmaxTerms(g, pass, e) == 0) return _int8(0);
        uint256 table = s.weightsOffset;
        int256 term = SequenceStep.softmaxTerm(
            _read(chunks, SOURCE_WEIGHTS, table, 1024),
            table,
            table,
            _int8At(chunks, SOURCE_A, e),
            _int8At(chunks, SOURCE_B, e / g.context)
        );
        return _int8(SequenceStep.softmaxFinish(g, pass, e, sum, term));
    }

    /// @dev Channel `i`'s normalize parameters, each field read on its own from the proven
    /// chunks (commitments.ts's layout from `gamma` at `weightsOffset`: gamma int8 `[D]`, beta
    /// int32 `[D]`, epsilon uint64, m int32 `[D]`, s byte `[D]`). {SequenceStep-normalizeParams}
    /// wants them in one contiguous slice of `9D + 8` bytes, which a step proof cannot afford
    /// for wide rows.
    function _normalizeParams(
        LayerSpec.Spec memory s,
        ChunkProof[] memory chunks,
        uint256 i
    ) private pure returns (SequenceStep.NormalizeParams memory p) {
        uint256 width = s.params[0];
        uint256 at = s.weightsOffset + i;
        p.gamma = OneStepExecutor.readInt8(_read(chunks, SOURCE_WEIGHTS, at, 1), at, at);
        at = s.weightsOffset + width + 4 * i;
        p.beta = OneStepExecutor.readInt32LE(_read(chunks, SOURCE_WEIGHTS, at, 4), at, at);
        bytes memory epsilon = _read(chunks, SOURCE_WEIGHTS, s.weightsOffset + 5 * width, 8);
        for (uint256 k; k < 8; ++k) p.epsilon |= uint64(uint8(epsilon[k])) << uint64(8 * k);
        at = s.weightsOffset + 5 * width + 8 + 4 * i;
        p.multiplier = OneStepExecutor.readInt32LE(_read(chunks, SOURCE_WEIGHTS, at, 4), at, at);
        at = s.weightsOffset + 9 * width + 8 + i;
        p.shift = OneStepExecutor.readUint8(_read(chunks, SOURCE_WEIGHTS, at, 1), at, at);
        p.act = _act(s);
    }

    // ------------------------------------------------------------------------------------------
    // Decoders: steps that read the pass's token or other passes

    /// @notice Element `element` of a qk or av layer at pass `pass`, as {SequenceStep} computes
    /// it (int8), when its reduction fits one step ({attentionSumLayout}; longer ones revert with
    /// {StepUnsupported} and go through {stepAttentionSum}, {finishAttentionSum}).
    ///
    /// The prover trusts its caller for which root belongs to which pass, as it does for the
    /// pass-local steps: the dispute game checks each root against the agreed roots of its pass.
    /// - qk, element `h·C + u`: `roots.rootA` is the query layer's trace root at pass `pass`,
    ///   `roots.rootB` the key layer's at pass `u` (the pass the element names); `valueRoots`
    ///   is empty. A masked element (`u > pass`) is −128 and reads nothing.
    /// - av, element `h·dh + d`: `roots.rootA` is the probabilities' trace root at pass `pass`
    ///   (`rootB` unused); `valueRoots[u]` the value layer's at pass `u`, for `u = 0 … pass`.
    /// @param proof `abi.encode(ChunkProof[])`: sources 0 weights, 1 `rootA`, 2 `rootB`, and
    /// `3 + k` the value layer against `valueRoots[k]`.
    function computeAttentionElement(
        bytes calldata spec,
        uint256 pass,
        PassRoots calldata roots,
        bytes32[] calldata valueRoots,
        uint256 element,
        bytes calldata proof
    ) external pure returns (bytes memory value) {
        LayerSpec.Spec memory s = _spec(spec, element);
        (uint256 terms, uint256 maxRange) = _attentionLayout(s, pass, element);
        // INVARIANT: one step's work is bounded; longer reductions go through the reduction phase.
        if (terms > maxRange) revert StepUnsupported(s.kind, terms);
        ChunkProof[] memory chunks = _verifiedPasses(proof, roots, valueRoots, s.kind == LayerSpec.AV ? terms : 0);
        return _attentionWhole(s, chunks, pass, element, terms);
    }

    /// @notice The terms of qk or av element `element`'s reduction at pass `pass` and the longest
    /// range of one step: qk `dh` (0 when masked) by `MAX_QK_STEP`, av `pass + 1` by `MAX_AV_STEP`.
    function attentionSumLayout(
        bytes calldata spec,
        uint256 pass,
        uint256 element
    ) external pure returns (uint256 terms, uint256 maxRange) {
        return _attentionLayout(_spec(spec, element), pass, element);
    }

    /// @notice `S_to` of a qk or av reduction from the agreed `S_from = step.sumFrom` over terms
    /// `[step.from, step.to)` (SequenceStep's `qkRange`, `avRange`). Roots as in
    /// {computeAttentionElement}, except that av's `valueRoots` are those of passes
    /// `step.from … step.to − 1` (length checked: `step.to − step.from`, at most `MAX_AV_STEP`).
    function stepAttentionSum(
        bytes calldata spec,
        PassRoots calldata roots,
        bytes32[] calldata valueRoots,
        SequenceStep.Step calldata step,
        bytes calldata proof
    ) external pure returns (int256 sumTo) {
        LayerSpec.Spec memory s = _spec(spec, step.element);
        (uint256 terms, uint256 maxRange) = _attentionLayout(s, step.t, step.element);
        // INVARIANT: one step checks one bounded range of the element's reduction.
        if (step.from > step.to || step.to > terms || step.to - step.from > maxRange) {
            revert StepRangeInvalid(step.from, step.to, terms);
        }
        uint256 passes = s.kind == LayerSpec.AV ? step.to - step.from : 0;
        return _attentionReduce(s, _verifiedPasses(proof, roots, valueRoots, passes), step);
    }

    /// @notice The qk or av element that the agreed final state `accumulated` finishes to:
    /// `requant(S, m, s, none)` with the layer's `m`, `s` from the weights blob (the only chunks
    /// read); a masked qk element is −128 (nothing read). A state outside its kind's bound
    /// reverts (`SequenceStateOutOfRange`).
    function finishAttentionSum(
        bytes calldata spec,
        bytes32 weightsRoot,
        uint256 pass,
        uint256 element,
        int256 accumulated,
        bytes calldata proof
    ) external pure returns (bytes memory value) {
        LayerSpec.Spec memory s = _spec(spec, element);
        _attentionLayout(s, pass, element); // a qk or av layer, a valid shape and pass
        ChunkProof[] memory chunks = _verified(proof, bytes32(0), bytes32(0), weightsRoot);
        return _attentionFinish(s, chunks, pass, element, accumulated);
    }

    /// @notice Element `element` of an embed layer at pass `pass`: the int8 of table row `row` at
    /// `weightsOffset + row · width + element` of the weights blob, `row = min(max(token, 0),
    /// rows − 1)` for a token embedding, `pass` for a position one (then `token` is ignored).
    /// @param token tok(pass), which the caller proves (the dispute game: the prompt's id or the
    /// argmax of pass `pass − 1`); the prover trusts it as it trusts the roots.
    /// @param proof `abi.encode(ChunkProof[])`: the weights chunk of the element (source 0).
    function computeEmbedElement(
        bytes calldata spec,
        uint256 pass,
        int256 token,
        bytes32 weightsRoot,
        uint256 element,
        bytes calldata proof
    ) external pure returns (bytes memory value) {
        LayerSpec.Spec memory s = _spec(spec, element);
        if (s.kind != LayerSpec.EMBED) revert StepUnsupported(s.kind, 0);
        ChunkProof[] memory chunks = _verified(proof, bytes32(0), bytes32(0), weightsRoot);
        return _int8(_embed(s, s.params[2] == 0 ? _clampToken(token, s.params[0]) : pass, element, chunks));
    }

    /// @dev Embed element `i` of table row `row`; a row outside the table reverts in
    /// SequenceStep.embed, before any offset is computed.
    function _embed(
        LayerSpec.Spec memory s,
        uint256 row,
        uint256 i,
        ChunkProof[] memory chunks
    ) private pure returns (int8) {
        (uint256 rows, uint256 width) = (s.params[0], s.params[1]);
        bytes memory cell;
        uint256 at;
        if (row < rows && i < width) {
            at = s.weightsOffset + row * width + i;
            cell = _read(chunks, SOURCE_WEIGHTS, at, 1);
        }
        return SequenceStep.embed(cell, at, s.weightsOffset, rows, width, row, i);
    }

    /// @dev `min(max(token, 0), rows − 1)` (the semantics' reading of an id; `rows ≥ 1`).
    function _clampToken(int256 token, uint256 rows) private pure returns (uint256) {
        if (token <= 0 || rows == 0) return 0;
        return uint256(token) >= rows ? rows - 1 : uint256(token);
    }

    /// @dev `[1, H, C]` qk / `[1, H·dh]` av geometry, then terms and longest step range.
    function _attentionLayout(
        LayerSpec.Spec memory s,
        uint256 pass,
        uint256 element
    ) private pure returns (uint256 terms, uint256 maxRange) {
        uint8 kind = s.kind;
        if (kind == LayerSpec.QK) return (SequenceStep.qkTerms(_heads(s), pass, element), SequenceStep.MAX_QK_STEP);
        if (kind == LayerSpec.AV) return (SequenceStep.avTerms(_heads(s), pass, element), SequenceStep.MAX_AV_STEP);
        revert StepUnsupported(kind, 0);
    }

    function _heads(LayerSpec.Spec memory s) private pure returns (SequenceStep.Attention memory) {
        return SequenceStep.Attention(s.params[0], s.params[1], s.params[2]);
    }

    /// @dev `S_to` of a qk or av reduction over `[st.from, st.to)` (range checked by the caller).
    function _attentionReduce(
        LayerSpec.Spec memory s,
        ChunkProof[] memory chunks,
        SequenceStep.Step memory st
    ) private pure returns (int256) {
        SequenceStep.Attention memory g = _heads(s);
        uint256 count = st.to - st.from;
        if (s.kind == LayerSpec.QK) {
            uint256 at = (st.element / g.context) * g.headDim + st.from;
            SequenceStep.Slice memory q = SequenceStep.Slice(_read(chunks, SOURCE_A, at, count), at);
            SequenceStep.Slice memory key = SequenceStep.Slice(_read(chunks, SOURCE_B, at, count), at);
            return SequenceStep.qkRange(g, st, q, key);
        }
        uint256 first = (st.element / g.headDim) * g.context + st.from;
        SequenceStep.Slice memory p = SequenceStep.Slice(_read(chunks, SOURCE_A, first, count), first);
        bytes memory values = new bytes(count);
        for (uint256 k; k < count; ++k)
            values[k] = bytes1(uint8(_int8At(chunks, uint8(SOURCE_VALUES + k), st.element)));
        return SequenceStep.avRange(g, st, p, values);
    }

    /// @dev A whole qk or av element of `terms` terms (a masked qk element has none).
    function _attentionWhole(
        LayerSpec.Spec memory s,
        ChunkProof[] memory chunks,
        uint256 pass,
        uint256 e,
        uint256 terms
    ) private pure returns (bytes memory) {
        int256 sum = terms == 0 ? int256(0) : _attentionReduce(s, chunks, SequenceStep.Step(pass, e, 0, terms, 0));
        return _attentionFinish(s, chunks, pass, e, sum);
    }

    /// @dev The qk or av element `sum` finishes to; a masked qk element is −128 and reads nothing.
    function _attentionFinish(
        LayerSpec.Spec memory s,
        ChunkProof[] memory chunks,
        uint256 pass,
        uint256 e,
        int256 sum
    ) private pure returns (bytes memory) {
        SequenceStep.Attention memory g = _heads(s);
        if (s.kind == LayerSpec.QK && SequenceStep.qkTerms(g, pass, e) == 0) return _int8(-128);
        uint256 at = s.weightsOffset;
        (int32 m, uint8 shift) = SequenceStep.attentionParams(_read(chunks, SOURCE_WEIGHTS, at, 5), at, at);
        if (s.kind == LayerSpec.QK) return _int8(SequenceStep.qkFinish(g, pass, e, sum, m, shift));
        return _int8(SequenceStep.avFinish(pass, sum, m, shift));
    }

    /// @dev {_verified} with the value layer's roots of `passes` passes: a chunk of source
    /// `3 + k` is checked against `valueRoots[k]`.
    function _verifiedPasses(
        bytes calldata proof,
        PassRoots calldata roots,
        bytes32[] calldata valueRoots,
        uint256 passes
    ) private pure returns (ChunkProof[] memory chunks) {
        // INVARIANT: one root per pass the range reads (none for qk), at most one av step's.
        if (valueRoots.length != passes) revert StepPassRootsMismatch(valueRoots.length, passes);
        chunks = abi.decode(proof, (ChunkProof[]));
        if (chunks.length > MAX_CHUNKS) revert StepTooManyChunks(chunks.length);
        for (uint256 i; i < chunks.length; ++i) {
            ChunkProof memory c = chunks[i];
            uint256 source = c.source;
            bytes32 root;
            if (source == SOURCE_WEIGHTS) root = roots.weightsRoot;
            else if (source == SOURCE_A) root = roots.rootA;
            else if (source == SOURCE_B) root = roots.rootB;
            else if (source - SOURCE_VALUES < passes) root = valueRoots[source - SOURCE_VALUES];
            else revert StepChunkInvalid(c.source, c.index);
            // INVARIANT: every byte the step reads is committed by a root the caller vouches for.
            if (!ChunkMerkle.verify(root, c.index, c.data, c.siblings)) revert StepChunkInvalid(c.source, c.index);
        }
    }

    // ------------------------------------------------------------------------------------------
    // Kinds

    /// @dev Fan-in and longest prefix-sum range of one step of a dense or conv2d element. For
    /// conv2d the range is also short enough that its receptive field spans at most
    /// {INPUT_CHUNKS} input chunks: a range of `(c − 1) · kh · kw` elements meets at most
    /// `c` input channels, each within `kh` input rows (`kh · W` contiguous bytes, at most
    /// `ceil(kh · W / 1024) + 1` chunks); when even two channels do not fit, a range of
    /// `(r − 1) · kw` elements meets at most `r` kernel rows of `kw` contiguous bytes each.
    /// Conv2d ranges also meet at most {MAX_STEP_ROWS} kernel row pieces.
    /// Argmax: a range reads its row's elements, contiguous. Maxpool2d: a range of
    /// `(r − 1) · kw` window elements meets at most `r` window rows of `kw` contiguous bytes,
    /// each in at most `ceil(kw / 1024) + 1` chunks; for rows too wide for two to fit, a range
    /// of `(INPUT_CHUNKS / 2 − 1) · 1024` elements meets at most two row pieces.
    /// `sumLayout` of `oracle/dispute/moves.ts` mirrors it.
    function _sumLayout(LayerSpec.Spec memory s) private pure returns (uint256 fanIn, uint256 maxRange) {
        uint8 kind = s.kind;
        uint32[] memory p = s.params;
        uint256 size = ChunkMerkle.CHUNK_SIZE;
        if (kind == LayerSpec.DENSE) return (p[0], OneStepExecutor.MAX_STEP);
        if (kind == LayerSpec.ARGMAX) return (p[0], MAX_MAX_STEP);
        if (kind == LayerSpec.MAXPOOL2D) {
            uint256 pw = p[6];
            if (p[5] == 0 || pw == 0) revert OneStepExecutor.OneStepInvalidGeometry();
            uint256 poolRow = (pw + size - 1) / size + 1;
            maxRange = 2 * poolRow <= INPUT_CHUNKS ? (INPUT_CHUNKS / poolRow - 1) * pw : (INPUT_CHUNKS / 2 - 1) * size;
            return (uint256(p[5]) * pw, maxRange > MAX_MAX_STEP ? MAX_MAX_STEP : maxRange);
        }
        if (kind != LayerSpec.CONV2D) revert StepUnsupported(kind, 0);
        uint256 kh = p[6];
        uint256 kw = p[7];
        if (kh == 0 || kw == 0) revert OneStepExecutor.OneStepInvalidGeometry();
        fanIn = p[0] * kh * kw;
        uint256 perChannel = (kh * p[2] + size - 1) / size + 1;
        uint256 perRow = (kw + size - 1) / size + 1;
        if (2 * perChannel <= INPUT_CHUNKS) maxRange = (INPUT_CHUNKS / perChannel - 1) * kh * kw;
        else if (2 * perRow <= INPUT_CHUNKS) maxRange = (INPUT_CHUNKS / perRow - 1) * kw;
        else maxRange = 1;
        if (maxRange > OneStepExecutor.MAX_CONV_STEP) maxRange = OneStepExecutor.MAX_CONV_STEP;
        // A range of `(r − 1) · kw` elements meets at most `r` kernel row pieces.
        if (maxRange > (MAX_STEP_ROWS - 1) * kw) maxRange = (MAX_STEP_ROWS - 1) * kw;
    }

    /// @dev The kernel or window rows a whole-element step of `s` reads one at a time: conv2d
    /// `inChannels · kh`, maxpool2d `kh`; 0 for the kinds that read contiguous bytes.
    function _rowsOfWholeStep(LayerSpec.Spec memory s) private pure returns (uint256) {
        if (s.kind == LayerSpec.CONV2D) return uint256(s.params[0]) * s.params[6];
        if (s.kind == LayerSpec.MAXPOOL2D) return s.params[5];
        return 0;
    }

    /// @dev Reverts unless `[from, to)` is one step's range of the reduction of a `s` element.
    function _checkRange(LayerSpec.Spec memory s, uint256 from, uint256 to) private pure {
        (uint256 fanIn, uint256 maxRange) = _sumLayout(s);
        // INVARIANT: one step checks one bounded range of the element's reduction.
        if (from > to || to > fanIn || to - from > maxRange) revert StepRangeInvalid(from, to, fanIn);
    }

    /// @dev The state `S_to` of element `element`'s reduction from `S_from = sumFrom`.
    function _reduce(
        LayerSpec.Spec memory s,
        ChunkProof[] memory chunks,
        uint256 element,
        uint256 from,
        uint256 to,
        int256 sumFrom
    ) private pure returns (int256) {
        uint8 kind = s.kind;
        if (kind == LayerSpec.DENSE) return sumFrom + _denseRange(s, chunks, element, from, to);
        if (kind == LayerSpec.CONV2D) return sumFrom + _convRange(s, chunks, element, from, to);
        // The agreed state is an honest one; its fields are decoded by masks all the same.
        if (kind == LayerSpec.MAXPOOL2D) {
            return int256(_maxpoolRange(s, chunks, element, from, to, uint256(sumFrom) & 0xff));
        }
        bytes memory row = _read(chunks, SOURCE_A, element * s.params[0] + from, to - from);
        return _argmaxRange(uint256(sumFrom), row, from);
    }

    /// @dev The argmax state after the row elements `row`, the first at row position `from`.
    function _argmaxRange(uint256 state, bytes memory row, uint256 from) private pure returns (int256) {
        (uint256 index, int8 best) = OneStepExecutor.argmaxStep(
            state & _INDEX_MASK,
            int8(int256((state >> _INDEX_BITS) & 0xff) - 128),
            row,
            from
        );
        return int256((uint256(int256(best) + 128) << _INDEX_BITS) | index);
    }

    /// @dev `S_to − S_from` of dense element `j`: `Σ_{from ≤ i < to} x[i] · W[j][i]`.
    function _denseRange(
        LayerSpec.Spec memory s,
        ChunkProof[] memory chunks,
        uint256 j,
        uint256 from,
        uint256 to
    ) private pure returns (int256) {
        uint256 fanIn = s.params[0];
        bytes memory x = _read(chunks, SOURCE_A, from, to - from);
        bytes memory w = _read(chunks, SOURCE_WEIGHTS, s.weightsOffset + j * fanIn + from, to - from);
        return OneStepExecutor.partialDot(x, w);
    }

    /// @dev `S_to − S_from` of conv2d element `(o, r, c)`, one kernel row piece at a time: each
    /// piece meets contiguous input bytes (its padding columns and rows read 0), which are
    /// read from the proven chunks wherever they lie.
    function _convRange(
        LayerSpec.Spec memory s,
        ChunkProof[] memory chunks,
        uint256 element,
        uint256 from,
        uint256 to
    ) private pure returns (int256 sum) {
        ConvStep memory step;
        step.g = _convGeometry(s.params);
        uint256 outPlane = uint256(s.params[4]) * s.params[5];
        step.r = (element % outPlane) / s.params[5];
        step.c = element % s.params[5];
        step.from = from;
        uint256 rowStart =
            s.weightsOffset + (element / outPlane) * (step.g.inChannels * step.g.kernelH * step.g.kernelW);
        step.w = _read(chunks, SOURCE_WEIGHTS, rowStart + from, to - from);
        uint256 kw = step.g.kernelW;
        // Bounded: at most maxRange elements, so at most that many pieces.
        while (from < to) {
            uint256 end = (from / kw + 1) * kw;
            if (end > to) end = to;
            sum += _convPiece(step, chunks, from, end);
            from = end;
        }
    }

    /// @dev The piece `[f, end)` of one kernel row: its inside columns form one contiguous run
    /// of the input (located with {OneStepExecutor-conv2dInputIndex}), dotted with the matching
    /// weights.
    function _convPiece(
        ConvStep memory step,
        ChunkProof[] memory chunks,
        uint256 f,
        uint256 end
    ) private pure returns (int256) {
        OneStepExecutor.Conv2dGeometry memory g = step.g;
        // Skip leading padding columns; a padding row, or the right padding, is all zero.
        for (; f < end; ++f) {
            (bool inside, uint256 index) = OneStepExecutor.conv2dInputIndex(g, step.r, step.c, f);
            if (inside) {
                // The run ends at the piece's end or at the input row's right edge.
                uint256 count = end - f;
                uint256 col = index % g.width;
                if (count > g.width - col) count = g.width - col;
                bytes memory x = _read(chunks, SOURCE_A, index, count);
                return OneStepExecutor.partialDot(x, 0, step.w, f - step.from, count);
            }
            uint256 row = step.r * g.strideH + (f % (g.kernelH * g.kernelW)) / g.kernelW;
            if (row < g.padTop || row - g.padTop >= g.height) return 0;
        }
        return 0;
    }

    function _convGeometry(uint32[] memory p) private pure returns (OneStepExecutor.Conv2dGeometry memory) {
        return OneStepExecutor.Conv2dGeometry(p[0], p[1], p[2], p[6], p[7], p[8], p[9], p[10], p[11]);
    }

    /// @dev `requant(b + accumulated, m, s, act)` with the channel's parameters from the blob.
    function _finish(
        LayerSpec.Spec memory s,
        ChunkProof[] memory chunks,
        uint256 element,
        int256 accumulated
    ) private pure returns (int8) {
        (int32 bias, int32 multiplier, uint8 shift) = _channelParams(s, chunks, element);
        return OneStepExecutor.finishDense(accumulated, bias, multiplier, shift, _act(s));
    }

    /// @dev Bias, multiplier and shift of the output channel of dense or conv2d element `element`.
    function _channelParams(
        LayerSpec.Spec memory s,
        ChunkProof[] memory chunks,
        uint256 element
    ) private pure returns (int32 bias, int32 multiplier, uint8 shift) {
        OneStepExecutor.WeightedLayerLayout memory layout;
        uint256 channel;
        uint32[] memory p = s.params;
        if (s.kind == LayerSpec.DENSE) {
            layout = OneStepExecutor.WeightedLayerLayout(s.weightsOffset, p[1], p[0]);
            channel = element;
        } else {
            layout = OneStepExecutor.WeightedLayerLayout(s.weightsOffset, p[3], uint256(p[0]) * p[6] * p[7]);
            channel = element / (uint256(p[4]) * p[5]);
        }
        (, uint256 b, uint256 m, uint256 sh) = OneStepExecutor.channelOffsets(layout, channel);
        bias = OneStepExecutor.readInt32LE(_read(chunks, SOURCE_WEIGHTS, b, 4), b, b);
        multiplier = OneStepExecutor.readInt32LE(_read(chunks, SOURCE_WEIGHTS, m, 4), m, m);
        shift = OneStepExecutor.readUint8(_read(chunks, SOURCE_WEIGHTS, sh, 1), sh, sh);
    }

    function _add(LayerSpec.Spec memory s, ChunkProof[] memory chunks, uint256 e) private pure returns (int8) {
        uint256 at = s.weightsOffset;
        (int32 ma, int32 mb, uint8 shift) = OneStepExecutor.addParams(_read(chunks, SOURCE_WEIGHTS, at, 9), at, at);
        return OneStepExecutor.add(_int8At(chunks, SOURCE_A, e), _int8At(chunks, SOURCE_B, e), ma, mb, shift, _act(s));
    }

    /// @dev The running maximum state (`best + 128`) of maxpool2d element `(ch, r, c)` over
    /// window positions `[from, to)` in row-major window order, from `state`. Each window row
    /// piece is `kw` contiguous input bytes at most, read from the proven chunks on its own, so
    /// the bytes between window rows are never needed.
    function _maxpoolRange(
        LayerSpec.Spec memory s,
        ChunkProof[] memory chunks,
        uint256 e,
        uint256 from,
        uint256 to,
        uint256 state
    ) private pure returns (uint256) {
        (uint256 first, uint256 width, uint256 kw) = _poolWindow(s, e);
        int8 best = int8(int256(state & 0xff) - 128);
        // Bounded: at most maxRange elements, so at most that many pieces.
        while (from < to) {
            uint256 u = from / kw;
            uint256 end = (u + 1) * kw;
            if (end > to) end = to;
            bytes memory piece = _read(chunks, SOURCE_A, first + u * width + (from % kw), end - from);
            (, best) = OneStepExecutor.argmaxStep(0, best, piece, 0);
            from = end;
        }
        return uint256(int256(best) + 128);
    }

    /// @dev Input index of the top-left element of maxpool2d element `e`'s window (window
    /// element `(u, v)` is at `first + u · width + v`), the input's width and the kernel width.
    function _poolWindow(
        LayerSpec.Spec memory s,
        uint256 e
    ) private pure returns (uint256 first, uint256 width, uint256 kw) {
        uint32[] memory p = s.params;
        OneStepExecutor.Pool2dGeometry memory g = OneStepExecutor.Pool2dGeometry(
            p[0],
            p[1],
            p[2],
            p[5],
            p[6],
            p[7],
            p[8]
        );
        if (g.kernelH == 0 || g.kernelW == 0) revert OneStepExecutor.OneStepInvalidGeometry();
        uint256 outPlane = uint256(p[3]) * p[4];
        first = OneStepExecutor.maxpool2dInputIndex(g, e / outPlane, (e % outPlane) / p[4], e % p[4], 0, 0);
        return (first, g.width, g.kernelW);
    }

    // ------------------------------------------------------------------------------------------
    // Proof handling

    function _spec(bytes calldata spec, uint256 element) private pure returns (LayerSpec.Spec memory s) {
        s = LayerSpec.decode(spec);
        if (element >= s.outElements) revert StepElementOutOfRange(element, s.outElements);
    }

    /// @dev Decodes `proof` and checks every chunk against its source's root.
    function _verified(
        bytes calldata proof,
        bytes32 rootA,
        bytes32 rootB,
        bytes32 weightsRoot
    ) private pure returns (ChunkProof[] memory chunks) {
        chunks = abi.decode(proof, (ChunkProof[]));
        if (chunks.length > MAX_CHUNKS) revert StepTooManyChunks(chunks.length);
        for (uint256 i; i < chunks.length; ++i) {
            ChunkProof memory c = chunks[i];
            bytes32 root =
                c.source == SOURCE_WEIGHTS
                    ? weightsRoot
                    : c.source == SOURCE_A
                        ? rootA
                        : rootB;
            // INVARIANT: every byte the step reads is committed by an agreed root.
            if (c.source > SOURCE_B || !ChunkMerkle.verify(root, c.index, c.data, c.siblings)) {
                revert StepChunkInvalid(c.source, c.index);
            }
        }
    }

    function _act(LayerSpec.Spec memory s) private pure returns (OneStepExecutor.Activation) {
        return s.activation == 1 ? OneStepExecutor.Activation.Relu : OneStepExecutor.Activation.None;
    }

    function _int8At(ChunkProof[] memory chunks, uint8 source, uint256 offset) private pure returns (int8) {
        return OneStepExecutor.readInt8(_read(chunks, source, offset, 1), offset, offset);
    }

    function _int8(int8 v) private pure returns (bytes memory) {
        return abi.encodePacked(v);
    }

    function _int32(uint256 v) private pure returns (bytes memory out) {
        uint32 u = uint32(v); // an argmax index: below the row length
        out = new bytes(4);
        for (uint256 i; i < 4; ++i) out[i] = bytes1(uint8(u >> (8 * i)));
    }

    /// @dev Bytes `[offset, offset + length)` of `source`, assembled from the proven chunks.
    function _read(
        ChunkProof[] memory chunks,
        uint8 source,
        uint256 offset,
        uint256 length
    ) private pure returns (bytes memory out) {
        out = new bytes(length);
        uint256 size = ChunkMerkle.CHUNK_SIZE;
        uint256 done;
        while (done < length) {
            uint256 at = offset + done;
            uint256 index = at / size;
            bytes memory data = _find(chunks, source, index);
            uint256 from = at - index * size;
            uint256 take = length - done;
            if (from + take > data.length) take = data.length > from ? data.length - from : 0;
            if (take == 0) revert StepChunkMissing(source, index);
            assembly ("memory-safe") {
                mcopy(add(add(out, 0x20), done), add(add(data, 0x20), from), take)
            }
            done += take;
        }
    }

    function _find(ChunkProof[] memory chunks, uint8 source, uint256 index) private pure returns (bytes memory) {
        for (uint256 i; i < chunks.length; ++i) {
            if (chunks[i].source == source && chunks[i].index == index) return chunks[i].data;
        }
        revert StepChunkMissing(source, index);
    }
}
