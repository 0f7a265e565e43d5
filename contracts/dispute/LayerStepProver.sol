// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ChunkMerkle} from "../libraries/ChunkMerkle.sol";
import {IOneStepProver} from "../interfaces/IOneStepProver.sol";
import {LayerSpec} from "./LayerSpec.sol";
import {OneStepExecutor} from "./OneStepExecutor.sol";

/// @title LayerStepProver
/// @notice The {IOneStepProver} of the dispute game: checks the chunks of a step proof against
/// their roots, reads the bytes the element depends on and hands them to {OneStepExecutor}, the
/// one on-chain implementation of docs/numeric-semantics.md. Every kind has a whole-element step
/// ({computeElement}); dense and conv2d elements of any fan-in also have the prefix-sum steps of
/// the game's partial-sum phase ({sumLayout}, {finishSum}, {partialSum}).
///
/// Bounds of one step, whatever the model: a proof holds at most {MAX_CHUNKS} chunks; a dense
/// range at most `OneStepExecutor.MAX_STEP` multiply-adds, a conv2d range at most
/// `OneStepExecutor.MAX_CONV_STEP` and few enough kernel rows that its receptive field fits
/// {CONV_INPUT_CHUNKS} input chunks ({sumLayout}). A whole dense or argmax element beyond
/// {MAX_FAN_IN} reverts with {StepUnsupported}: the game's partial-sum phase covers it.
/// @dev A proof is `abi.encode(ChunkProof[])`. Input elements of conv2d and maxpool2d may come
/// from several chunks of the previous layer; every byte read is looked up in the proven chunks
/// ({_read}), so a missing one reverts with {StepChunkMissing} and nothing unproven is ever read.
contract LayerStepProver is IOneStepProver {
    /// @notice Most multiply-adds (dense) or row elements (argmax) of a whole-element step.
    uint256 public constant MAX_FAN_IN = OneStepExecutor.MAX_STEP;
    /// @notice Most chunks in one proof: a {MAX_FAN_IN} range reads at most 17 input and 17
    /// weights chunks, plus 3 for a channel's bias, multiplier and shift.
    uint256 public constant MAX_CHUNKS = 40;
    /// @notice Most input chunks the receptive field of one conv2d range may span.
    uint256 public constant CONV_INPUT_CHUNKS = 16;

    uint8 internal constant SOURCE_WEIGHTS = 0;
    uint8 internal constant SOURCE_A = 1;
    uint8 internal constant SOURCE_B = 2;

    /// @dev One conv2d prefix-sum step: geometry, output position, the weights of the range
    /// and the fan-in index of their first byte.
    struct ConvStep {
        OneStepExecutor.Conv2dGeometry g;
        uint256 r;
        uint256 c;
        bytes w;
        uint256 from;
    }

    /// @notice One proven chunk: `source` 0 = weights blob, 1 = first input, 2 = second input.
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
                    : 0;
        // INVARIANT: one step's work is bounded; larger dot products go through partial sums.
        if (fanIn > (kind == LayerSpec.CONV2D ? OneStepExecutor.MAX_CONV_STEP : MAX_FAN_IN)) {
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
        if (kind == LayerSpec.MAXPOOL2D) return _int8(_maxpool(s, chunks, element));
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
        _sumLayout(s); // dense or conv2d only
        ChunkProof[] memory chunks = _verified(proof, bytes32(0), bytes32(0), weightsRoot);
        return _int8(_finish(s, chunks, element, accumulated));
    }

    /// @inheritdoc IOneStepProver
    function partialSum(
        bytes calldata spec,
        bytes32 rootA,
        bytes32 weightsRoot,
        uint256 element,
        uint256 from,
        uint256 to,
        bytes calldata proof
    ) external pure returns (int256 sum) {
        LayerSpec.Spec memory s = _spec(spec, element);
        (uint256 fanIn, uint256 maxRange) = _sumLayout(s);
        // INVARIANT: one step checks one bounded range of the element's fan-in.
        if (from > to || to > fanIn || to - from > maxRange) revert StepRangeInvalid(from, to, fanIn);
        ChunkProof[] memory chunks = _verified(proof, rootA, bytes32(0), weightsRoot);
        return
            s.kind == LayerSpec.DENSE
                ? _denseRange(s, chunks, element, from, to)
                : _convRange(s, chunks, element, from, to);
    }

    // ------------------------------------------------------------------------------------------
    // Kinds

    /// @dev Fan-in and longest prefix-sum range of one step of a dense or conv2d element. For
    /// conv2d the range is also short enough that its receptive field spans at most
    /// {CONV_INPUT_CHUNKS} input chunks: a range of `(c − 1) · kh · kw` elements meets at most
    /// `c` input channels, each within `kh` input rows (`kh · W` contiguous bytes, at most
    /// `ceil(kh · W / 1024) + 1` chunks); when even two channels do not fit, a range of
    /// `(r − 1) · kw` elements meets at most `r` kernel rows of `kw` contiguous bytes each.
    /// `sumLayout` of `oracle/dispute/moves.ts` mirrors it.
    function _sumLayout(LayerSpec.Spec memory s) private pure returns (uint256 fanIn, uint256 maxRange) {
        if (s.kind == LayerSpec.DENSE) return (s.params[0], OneStepExecutor.MAX_STEP);
        if (s.kind != LayerSpec.CONV2D) revert StepUnsupported(s.kind, 0);
        uint32[] memory p = s.params;
        uint256 kh = p[6];
        uint256 kw = p[7];
        if (kh == 0 || kw == 0) revert OneStepExecutor.OneStepInvalidGeometry();
        fanIn = p[0] * kh * kw;
        uint256 size = ChunkMerkle.CHUNK_SIZE;
        uint256 perChannel = (kh * p[2] + size - 1) / size + 1;
        uint256 perRow = (kw + size - 1) / size + 1;
        if (2 * perChannel <= CONV_INPUT_CHUNKS) maxRange = (CONV_INPUT_CHUNKS / perChannel - 1) * kh * kw;
        else if (2 * perRow <= CONV_INPUT_CHUNKS) maxRange = (CONV_INPUT_CHUNKS / perRow - 1) * kw;
        else maxRange = 1;
        if (maxRange > OneStepExecutor.MAX_CONV_STEP) maxRange = OneStepExecutor.MAX_CONV_STEP;
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

    /// @dev The window of maxpool2d element `(ch, r, c)` spans `(kh − 1) · W + kw` contiguous
    /// input bytes from its top-left element; they are read from the proven chunks.
    function _maxpool(LayerSpec.Spec memory s, ChunkProof[] memory chunks, uint256 e) private pure returns (int8) {
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
        uint256 ch = e / outPlane;
        uint256 r = (e % outPlane) / p[4];
        uint256 c = e % p[4];
        uint256 first = OneStepExecutor.maxpool2dInputIndex(g, ch, r, c, 0, 0);
        uint256 span = (g.kernelH - 1) * g.width + g.kernelW;
        return OneStepExecutor.maxpool2d(g, _read(chunks, SOURCE_A, first, span), first, ch, r, c);
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
