// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title AgentDecision
/// @notice Turns a model's output, canonical tensor bytes (docs/protocol.md, "Canonical tensor
/// bytes"), into an agent's decision, reading the bytes where they are (calldata: the market's
/// callback) and never reverting: an output it cannot read gives `ok == false`, which the
/// agent records as a skipped decision.
///
/// - Argmax: the index of the largest element of an int8 or int32 output (the first on ties),
///   except an int32 output of one element, whose value is the decision (an argmax layer's
///   class; a negative value cannot be one).
/// - Threshold: 1 if element `index` (row-major) of an int8 or int32 output is at least
///   `threshold`, else 0.
///
/// Any other dtype, a header that breaks the format (version, rank 1..8, no zero dim, at most
/// 2^24 elements) or a length that does not match the header is unreadable. The market has
/// already checked that the output is the model's registered output format; these checks make
/// the decision safe whatever the market accepted.
library AgentDecision {
    uint256 private constant _INT8 = 1;
    uint256 private constant _INT32 = 2;
    uint256 private constant _MAX_RANK = 8;
    uint256 private constant _MAX_ELEMENTS = 1 << 24;

    /// @notice The decision `output` makes under `kind` (0 Argmax, 1 Threshold) with
    /// `index` and `threshold` (Threshold only); `ok` false if `output` cannot be read.
    function decide(
        bytes calldata output,
        uint8 kind,
        uint256 index,
        int256 threshold
    ) internal pure returns (bool ok, uint256 decision) {
        (bool readable, uint256 size, uint256 offset, uint256 count) = _header(output);
        if (!readable) return (false, 0);
        if (kind == 1) {
            if (index >= count) return (false, 0);
            return (true, _element(output, offset, index, size) >= threshold ? 1 : 0);
        }
        if (size == 4 && count == 1) {
            int256 value = _element(output, offset, 0, 4);
            if (value < 0) return (false, 0);
            return (true, uint256(value));
        }
        return (true, _argmax(output, offset, count, size));
    }

    /// @dev Reads the header of an int8 or int32 tensor: element size, offset of the first
    /// element and element count; `readable` false if it is not a well-formed one of those.
    function _header(
        bytes calldata t
    ) private pure returns (bool readable, uint256 size, uint256 offset, uint256 count) {
        if (t.length < 3 || uint8(t[0]) != 1) return (false, 0, 0, 0);
        uint256 dtype = uint8(t[1]);
        if (dtype == _INT8) size = 1;
        else if (dtype == _INT32) size = 4;
        else return (false, 0, 0, 0);
        uint256 rank = uint8(t[2]);
        if (rank == 0 || rank > _MAX_RANK) return (false, 0, 0, 0);
        offset = 3 + 4 * rank;
        if (t.length < offset) return (false, 0, 0, 0);
        count = 1;
        for (uint256 axis; axis < rank; ++axis) {
            uint256 dim = uint32(bytes4(t[3 + 4 * axis:7 + 4 * axis]));
            if (dim == 0) return (false, 0, 0, 0);
            // unchecked: count <= 2^24 before the product (checked below each time) and dim <
            // 2^32, so the product stays below 2^56.
            unchecked {
                count *= dim;
            }
            if (count > _MAX_ELEMENTS) return (false, 0, 0, 0);
        }
        // count * size <= 2^26: no overflow.
        readable = t.length == offset + count * size;
    }

    /// @dev Index of the largest of the `count` elements (int8 for `size` 1, little-endian int32
    /// for `size` 4) that start at `offset` of `t` (the first on ties); the caller has checked
    /// that they are within `t`. About 90 gas an element (the loop's jumps, mostly).
    function _argmax(
        bytes calldata t,
        uint256 offset,
        uint256 count,
        uint256 size
    ) private pure returns (uint256 best) {
        assembly ("memory-safe") {
            let at := add(t.offset, offset)
            let bestValue := not(0x7fffffff) // below every int32
            switch size
            case 1 {
                best := at
                for {
                    let p := at
                    let end := add(at, count)
                } lt(p, end) {
                    p := add(p, 1)
                } {
                    let value := signextend(0, shr(248, calldataload(p)))
                    if sgt(value, bestValue) {
                        bestValue := value
                        best := p
                    }
                }
                best := sub(best, at)
            }
            default {
                for {
                    let i := 0
                } lt(i, count) {
                    i := add(i, 1)
                } {
                    let word := calldataload(add(at, mul(i, 4)))
                    let raw := or(
                        or(byte(0, word), shl(8, byte(1, word))),
                        or(shl(16, byte(2, word)), shl(24, byte(3, word)))
                    )
                    let value := signextend(3, raw)
                    if sgt(value, bestValue) {
                        bestValue := value
                        best := i
                    }
                }
            }
        }
    }

    /// @dev Element `i` of an int8 (`size` 1) or int32 (`size` 4, little-endian) tensor whose
    /// elements start at `offset`; the caller has checked that it is within `t`.
    function _element(bytes calldata t, uint256 offset, uint256 i, uint256 size) private pure returns (int256) {
        uint256 at = offset + i * size;
        if (size == 1) return int8(uint8(t[at]));
        uint32 raw =
            uint32(uint8(t[at])) |
                (uint32(uint8(t[at + 1])) << 8) |
                (uint32(uint8(t[at + 2])) << 16) |
                (uint32(uint8(t[at + 3])) << 24);
        return int32(raw);
    }
}
