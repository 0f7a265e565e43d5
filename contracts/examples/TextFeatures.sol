// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {SpamInputTable} from "./SpamInputTable.sol";

/// @title TextFeatures
/// @notice The spam model's input computed on-chain from a text, so that anyone can check what
/// an agent asked the model about: the hashed bag-of-words features of
/// `oracle/model/text/featurise-text.ts`, quantised as the model's int8 input
/// (`quantiseInput(featuriseText(text), scale)`, models/spam/vqm/manifest.json), returned as the
/// canonical int8 `[1, 512]` tensor bytes a request carries.
///
/// - Tokens: maximal runs of ASCII letters and digits, letters lower-cased; tokens of 2 to 24
///   characters are kept.
/// - Hashing: 32-bit FNV-1a over the token's bytes; bucket = hash mod 512.
/// - Value of a bucket: the int8 input of `log1p(count)`, read from {SpamInputTable} (the count
///   is an integer, so the value is a function of the count alone).
///
/// On ASCII text this equals the TypeScript featuriser followed by the model's input
/// quantisation, byte for byte (test/agents/featurise.test.ts checks it on held-out mails). A
/// byte of 0x80 or above separates tokens here, where the TypeScript featuriser keeps Unicode
/// letters in tokens: on other text the two differ, and this function is the definition.
/// @dev Gas is linear in the text: one pass over its bytes (about 110 to 130 gas a byte on mail
/// text), then one step per bucket some token fell into; see docs/agents.md for the figures.
library TextFeatures {
    /// @notice Buckets of the hashed bag of words (the model's input width).
    uint256 internal constant BUCKETS = 512;
    /// @notice Kept token lengths, inclusive.
    uint256 internal constant MIN_TOKEN_LENGTH = 2;
    uint256 internal constant MAX_TOKEN_LENGTH = 24;
    /// @notice The canonical header of an int8 `[1, 512]` tensor (version 1, dtype 1 (int8),
    /// rank 2, dims 1 and 512 as uint32 big-endian), and the tensor's whole length.
    bytes11 internal constant HEADER = 0x01010200000001_00000200;
    uint256 internal constant TENSOR_LENGTH = 11 + BUCKETS;

    /// @dev Bit c is set for the ASCII codes of '0'-'9', 'A'-'Z' and 'a'-'z'.
    uint256 private constant _ALNUM = 0x7fffffe07fffffe03ff000000000000;
    uint256 private constant _FNV_OFFSET = 0x811c9dc5;
    uint256 private constant _FNV_PRIME = 0x01000193;
    /// @dev `(_FNV_OFFSET * _FNV_PRIME^-1 mod 2^32) ^ 0x20`: one FNV step on the byte 0 takes
    /// it to `_FNV_OFFSET` (modulo 2^32).
    uint256 private constant _FNV_RESTART = 0xb347da67;

    /// @notice The canonical int8 `[1, 512]` tensor of `text`: the spam model's input.
    function tensorOf(bytes memory text) internal pure returns (bytes memory tensor) {
        tensor = new bytes(TENSOR_LENGTH);
        bytes11 header = HEADER;
        assembly ("memory-safe") {
            // The 11 header bytes, then zeros: the elements of the buckets no token fell into.
            mstore(add(tensor, 0x20), header)
        }
        (uint256[] memory counts, uint256 first, uint256 last) = _tally(text);
        // Only the buckets some token fell into, each once.
        for (uint256 e = first; e < last; e += 0x20) {
            uint256 slot;
            uint256 count;
            assembly ("memory-safe") {
                slot := mload(e)
                count := mload(slot)
            }
            uint256 value = quantise(count);
            assembly ("memory-safe") {
                mstore8(add(add(tensor, 0x2b), shr(5, sub(slot, add(counts, 0x20)))), value)
            }
        }
    }

    /// @notice How many kept tokens of `text` hash into each of the 512 buckets.
    function countsOf(bytes memory text) internal pure returns (uint256[] memory counts) {
        (counts, , ) = _tally(text);
    }

    /// @dev The bucket counts of `text`, and the list of the buckets some token fell into (the
    /// memory addresses of their counts, one word each, in the words from `first` to `last`).
    // solhint-disable-next-line function-max-lines
    function _tally(bytes memory text) private pure returns (uint256[] memory counts, uint256 first, uint256 last) {
        counts = new uint256[](BUCKETS);
        assembly ("memory-safe") {
            // One pass, 32 bytes per word and 8 bytes per round, unrolled: this loop is what a
            // text costs. `h` is the FNV-1a state of the token being read, in its low 32 bits
            // (XOR with a byte and multiplication modulo 2^256 keep them exact, so they are
            // masked only when the token ends); `start` is where the token began. A byte that
            // is not an ASCII letter or digit ends the token, which is counted when its length
            // `pos - start` is MIN_TOKEN_LENGTH to MAX_TOKEN_LENGTH, i.e. `length - 2 < 23`
            // (`length - 2` wraps around below 2). Every byte then
            // goes through the same FNV step, `h = (h ^ (c | 0x20)) * prime`: `c | 0x20`
            // lower-cases a letter and leaves a digit as it is, and a separator sets `h` to
            // {_FNV_RESTART} and `c` to 0, which that step takes to the FNV offset basis: the
            // next token starts from it (a branch fewer on the common path).
            let base := add(counts, 0x20)
            first := mload(0x40)
            let list := first
            let p := add(text, 0x20)
            let end := add(p, mload(text))
            let h := _FNV_OFFSET
            let start := p
            for {} lt(p, end) {
                p := add(p, 32)
            } {
                let w := mload(p)
                // Bytes past the end read as 0, a separator: they end the last token.
                let rest := sub(end, p)
                if lt(rest, 32) {
                    w := and(w, not(shr(shl(3, rest), not(0))))
                }
                for {
                    let q := p
                } lt(q, add(p, 32)) {
                    q := add(q, 8)
                } {
                    {
                        let c := byte(0, w)
                        if iszero(and(shr(c, _ALNUM), 1)) {
                            if lt(sub(sub(q, start), 2), 23) {
                                let s := add(base, shl(5, and(h, 511)))
                                let n := mload(s)
                                if iszero(n) {
                                    mstore(list, s)
                                    list := add(list, 0x20)
                                }
                                mstore(s, add(n, 1))
                            }
                            start := add(q, 1)
                            h := _FNV_RESTART
                            c := 0
                        }
                        h := mul(xor(h, or(c, 0x20)), _FNV_PRIME)
                    }
                    {
                        let c := byte(1, w)
                        if iszero(and(shr(c, _ALNUM), 1)) {
                            if lt(sub(sub(add(q, 1), start), 2), 23) {
                                let s := add(base, shl(5, and(h, 511)))
                                let n := mload(s)
                                if iszero(n) {
                                    mstore(list, s)
                                    list := add(list, 0x20)
                                }
                                mstore(s, add(n, 1))
                            }
                            start := add(q, 2)
                            h := _FNV_RESTART
                            c := 0
                        }
                        h := mul(xor(h, or(c, 0x20)), _FNV_PRIME)
                    }
                    {
                        let c := byte(2, w)
                        if iszero(and(shr(c, _ALNUM), 1)) {
                            if lt(sub(sub(add(q, 2), start), 2), 23) {
                                let s := add(base, shl(5, and(h, 511)))
                                let n := mload(s)
                                if iszero(n) {
                                    mstore(list, s)
                                    list := add(list, 0x20)
                                }
                                mstore(s, add(n, 1))
                            }
                            start := add(q, 3)
                            h := _FNV_RESTART
                            c := 0
                        }
                        h := mul(xor(h, or(c, 0x20)), _FNV_PRIME)
                    }
                    {
                        let c := byte(3, w)
                        if iszero(and(shr(c, _ALNUM), 1)) {
                            if lt(sub(sub(add(q, 3), start), 2), 23) {
                                let s := add(base, shl(5, and(h, 511)))
                                let n := mload(s)
                                if iszero(n) {
                                    mstore(list, s)
                                    list := add(list, 0x20)
                                }
                                mstore(s, add(n, 1))
                            }
                            start := add(q, 4)
                            h := _FNV_RESTART
                            c := 0
                        }
                        h := mul(xor(h, or(c, 0x20)), _FNV_PRIME)
                    }
                    {
                        let c := byte(4, w)
                        if iszero(and(shr(c, _ALNUM), 1)) {
                            if lt(sub(sub(add(q, 4), start), 2), 23) {
                                let s := add(base, shl(5, and(h, 511)))
                                let n := mload(s)
                                if iszero(n) {
                                    mstore(list, s)
                                    list := add(list, 0x20)
                                }
                                mstore(s, add(n, 1))
                            }
                            start := add(q, 5)
                            h := _FNV_RESTART
                            c := 0
                        }
                        h := mul(xor(h, or(c, 0x20)), _FNV_PRIME)
                    }
                    {
                        let c := byte(5, w)
                        if iszero(and(shr(c, _ALNUM), 1)) {
                            if lt(sub(sub(add(q, 5), start), 2), 23) {
                                let s := add(base, shl(5, and(h, 511)))
                                let n := mload(s)
                                if iszero(n) {
                                    mstore(list, s)
                                    list := add(list, 0x20)
                                }
                                mstore(s, add(n, 1))
                            }
                            start := add(q, 6)
                            h := _FNV_RESTART
                            c := 0
                        }
                        h := mul(xor(h, or(c, 0x20)), _FNV_PRIME)
                    }
                    {
                        let c := byte(6, w)
                        if iszero(and(shr(c, _ALNUM), 1)) {
                            if lt(sub(sub(add(q, 6), start), 2), 23) {
                                let s := add(base, shl(5, and(h, 511)))
                                let n := mload(s)
                                if iszero(n) {
                                    mstore(list, s)
                                    list := add(list, 0x20)
                                }
                                mstore(s, add(n, 1))
                            }
                            start := add(q, 7)
                            h := _FNV_RESTART
                            c := 0
                        }
                        h := mul(xor(h, or(c, 0x20)), _FNV_PRIME)
                    }
                    {
                        let c := byte(7, w)
                        if iszero(and(shr(c, _ALNUM), 1)) {
                            if lt(sub(sub(add(q, 7), start), 2), 23) {
                                let s := add(base, shl(5, and(h, 511)))
                                let n := mload(s)
                                if iszero(n) {
                                    mstore(list, s)
                                    list := add(list, 0x20)
                                }
                                mstore(s, add(n, 1))
                            }
                            start := add(q, 8)
                            h := _FNV_RESTART
                            c := 0
                        }
                        h := mul(xor(h, or(c, 0x20)), _FNV_PRIME)
                    }
                    w := shl(64, w)
                }
            }
            // A token running to the very end (when the text fills its last word).
            if lt(sub(sub(end, start), 2), 23) {
                let s := add(base, shl(5, and(h, 511)))
                let n := mload(s)
                if iszero(n) {
                    mstore(list, s)
                    list := add(list, 0x20)
                }
                mstore(s, add(n, 1))
            }
            last := list
            mstore(0x40, last)
        }
    }

    /// @notice The spam model's int8 input for a bucket that `count` tokens fell into (0..127).
    function quantise(uint256 count) internal pure returns (uint256 value) {
        if (count < SpamInputTable.SMALL_COUNTS) return (SpamInputTable.SMALL >> ((31 - count) << 3)) & 0xff;
        if (count >= SpamInputTable.SATURATION) return 127;
        // The largest v with threshold(v) <= count: threshold(0) = 0 <= count < threshold(127).
        uint256 lo = 0;
        uint256 hi = 127;
        while (hi - lo > 1) {
            uint256 mid = (lo + hi) >> 1;
            if (_threshold(mid) <= count) lo = mid;
            else hi = mid;
        }
        return lo;
    }

    /// @dev The least count whose value is at least `v` (v < 128).
    function _threshold(uint256 v) private pure returns (uint256) {
        uint256 w = v >> 4;
        uint256 word =
            w < 4
                ? (
                    w < 2
                        ? (w == 0 ? SpamInputTable.THRESHOLDS_0 : SpamInputTable.THRESHOLDS_1)
                        : (w == 2 ? SpamInputTable.THRESHOLDS_2 : SpamInputTable.THRESHOLDS_3)
                )
                : (
                    w < 6
                        ? (w == 4 ? SpamInputTable.THRESHOLDS_4 : SpamInputTable.THRESHOLDS_5)
                        : (w == 6 ? SpamInputTable.THRESHOLDS_6 : SpamInputTable.THRESHOLDS_7)
                );
        return (word >> ((15 - (v & 15)) << 4)) & 0xffff;
    }
}
