// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ChunkMerkle} from "../libraries/ChunkMerkle.sol";
import {IOneStepProver} from "../interfaces/IOneStepProver.sol";
import {LayerSpec} from "./LayerSpec.sol";

/// @title LayerStepProver
/// @notice The {IOneStepProver} of the dispute game: checks the chunks of a step proof against
/// their roots, reads the bytes the element depends on and recomputes it exactly as
/// docs/numeric-semantics.md defines it. Kinds: dense (fan-in up to {MAX_FAN_IN}), relu, add,
/// reshape, argmax (rows up to {MAX_FAN_IN}). conv2d and maxpool2d, and dense beyond the
/// ceiling, revert with {StepUnsupported} until the partial-sum bisection of
/// `OneStepExecutor` is wired in.
/// @dev A proof is `abi.encode(ChunkProof[])`; it may hold at most {MAX_CHUNKS} chunks, so the
/// work of one step is bounded whatever the model.
contract LayerStepProver is IOneStepProver {
    /// @notice Most multiply-adds recomputed in one step.
    uint256 public constant MAX_FAN_IN = 4096;
    /// @notice Most chunks in one proof.
    uint256 public constant MAX_CHUNKS = 16;

    uint8 internal constant SOURCE_WEIGHTS = 0;
    uint8 internal constant SOURCE_A = 1;
    uint8 internal constant SOURCE_B = 2;

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

    /// @inheritdoc IOneStepProver
    function computeElement(
        bytes calldata spec,
        bytes32 rootA,
        bytes32 rootB,
        bytes32 weightsRoot,
        uint256 element,
        bytes calldata proof
    ) external pure returns (bytes memory value) {
        LayerSpec.Spec memory s = LayerSpec.decode(spec);
        if (element >= s.outElements) revert StepElementOutOfRange(element, s.outElements);
        ChunkProof[] memory chunks = abi.decode(proof, (ChunkProof[]));
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
        uint8 kind = s.kind;
        if (kind == LayerSpec.DENSE) return _int8(_dense(s, chunks, element));
        if (kind == LayerSpec.RELU) {
            int256 x = _int8At(chunks, SOURCE_A, element);
            return _int8(x > 0 ? x : int256(0));
        }
        if (kind == LayerSpec.RESHAPE) return _int8(_int8At(chunks, SOURCE_A, element));
        if (kind == LayerSpec.ADD) return _int8(_add(s, chunks, element));
        if (kind == LayerSpec.ARGMAX) return _int32(_argmax(s, chunks, element));
        revert StepUnsupported(kind, 0);
    }

    function _dense(LayerSpec.Spec memory s, ChunkProof[] memory chunks, uint256 j) private pure returns (int256) {
        uint256 fanIn = s.params[0];
        uint256 rows = s.params[1];
        if (fanIn > MAX_FAN_IN) revert StepUnsupported(LayerSpec.DENSE, fanIn);
        bytes memory x = _read(chunks, SOURCE_A, 0, fanIn);
        uint256 w0 = s.weightsOffset;
        bytes memory w = _read(chunks, SOURCE_WEIGHTS, w0 + j * fanIn, fanIn);
        uint256 params = w0 + rows * fanIn;
        int256 acc = _int32LE(_read(chunks, SOURCE_WEIGHTS, params + 4 * j, 4));
        for (uint256 i; i < fanIn; ++i) {
            acc += int256(int8(uint8(x[i]))) * int256(int8(uint8(w[i])));
        }
        int256 m = _int32LE(_read(chunks, SOURCE_WEIGHTS, params + 4 * rows + 4 * j, 4));
        uint256 shift = uint8(_read(chunks, SOURCE_WEIGHTS, params + 8 * rows + j, 1)[0]);
        return _clamp(_roundShift(acc * m, shift), s.activation);
    }

    function _add(LayerSpec.Spec memory s, ChunkProof[] memory chunks, uint256 e) private pure returns (int256) {
        int256 a = _int8At(chunks, SOURCE_A, e);
        int256 b = _int8At(chunks, SOURCE_B, e);
        bytes memory p = _read(chunks, SOURCE_WEIGHTS, s.weightsOffset, 9);
        int256 ma = _int32LE(_slice(p, 0, 4));
        int256 mb = _int32LE(_slice(p, 4, 4));
        return _clamp(_roundShift(a * ma + b * mb, uint8(p[8])), s.activation);
    }

    function _argmax(LayerSpec.Spec memory s, ChunkProof[] memory chunks, uint256 e) private pure returns (int256) {
        uint256 f = s.params[0];
        if (f > MAX_FAN_IN) revert StepUnsupported(LayerSpec.ARGMAX, f);
        bytes memory row = _read(chunks, SOURCE_A, e * f, f);
        uint256 best;
        int256 bestValue = type(int256).min;
        for (uint256 i; i < f; ++i) {
            int256 v = int8(uint8(row[i]));
            // Strictly greater: the first index wins ties.
            if (v > bestValue) {
                bestValue = v;
                best = i;
            }
        }
        return int256(best);
    }

    /// @dev `roundShift(v, s)`: `v` for `s = 0`, else `floor((v + 2^(s-1)) / 2^s)` (`>>` on a
    /// signed integer is an arithmetic shift, i.e. floor division). Shifts above 62 are not in
    /// the spec: they are clamped to 255 by the byte and still floor-divide exactly.
    function _roundShift(int256 v, uint256 s) private pure returns (int256) {
        if (s == 0) return v;
        return (v + int256(1 << (s - 1))) >> s;
    }

    function _clamp(int256 v, uint8 activation) private pure returns (int256) {
        int256 lo = activation == 1 ? int256(0) : int256(-128);
        return
            v < lo
                ? lo
                : v > 127
                    ? int256(127)
                    : v;
    }

    function _int8At(ChunkProof[] memory chunks, uint8 source, uint256 offset) private pure returns (int256) {
        return int8(uint8(_read(chunks, source, offset, 1)[0]));
    }

    function _int32LE(bytes memory b) private pure returns (int256) {
        uint32 u =
            uint32(uint8(b[0])) |
                (uint32(uint8(b[1])) << 8) |
                (uint32(uint8(b[2])) << 16) |
                (uint32(uint8(b[3])) << 24);
        return int32(u);
    }

    function _int8(int256 v) private pure returns (bytes memory) {
        return abi.encodePacked(int8(v));
    }

    function _int32(int256 v) private pure returns (bytes memory out) {
        uint32 u = uint32(int32(v));
        out = new bytes(4);
        for (uint256 i; i < 4; ++i) out[i] = bytes1(uint8(u >> (8 * i)));
    }

    function _slice(bytes memory b, uint256 start, uint256 length) private pure returns (bytes memory out) {
        out = new bytes(length);
        for (uint256 i; i < length; ++i) out[i] = b[start + i];
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
