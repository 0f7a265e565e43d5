// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ChunkMerkle} from "../libraries/ChunkMerkle.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";

/// @title Generation
/// @notice What the market and the dispute game read of a decoder's generation
/// (docs/numeric-semantics.md, "Generation"): a decoder is an `Optimistic` model whose canonical
/// input is int32 `[1, P_max]` (the prompt ids); its output is int32 `[1, N]` (the generated
/// ids); a result commits `T = P + N − 1` pass roots, pass `t`'s root being {rootOfRoots} of its
/// `L` layer trace roots.
library Generation {
    /// @notice The most passes of a generation an Optimistic decoder may have (`P_max + N − 1`,
    /// checked at registration): a challenge lists both sides' pass roots, 64 KiB at most.
    uint256 internal constant MAX_PASSES = 1024;

    /// @dev Canonical tensor header (docs/protocol.md): version 1, dtype int32 (2), rank 2,
    /// then the dims as uint32 big-endian.
    uint8 private constant _VERSION = 0x01;
    uint8 private constant _INT32 = 2;
    uint256 private constant _HEADER = 11;

    /// @notice `P_max` when `f` is the format of an int32 `[1, P_max]` tensor (a decoder's
    /// prompt), 0 otherwise: the registry stores only the header's hash, so the candidate
    /// header is rebuilt from the length and compared.
    function promptMax(IModelRegistry.TensorFormat memory f) internal pure returns (uint256) {
        if (f.headerLength != _HEADER || f.byteLength <= _HEADER || (f.byteLength - _HEADER) % 4 != 0) return 0;
        uint256 pMax = (f.byteLength - _HEADER) / 4;
        if (pMax > type(uint32).max) return 0;
        bytes32 header = keccak256(abi.encodePacked(_VERSION, _INT32, uint8(2), uint32(1), uint32(pMax)));
        return header == f.headerHash ? pMax : 0;
    }

    /// @notice Whether the canonical tensor `tensor` (header included) is int32 `[1, P]`: the
    /// same rule as {promptMax}, read from the bytes of a request's input.
    function isPrompt(bytes calldata tensor) internal pure returns (bool) {
        return
            tensor.length > _HEADER &&
            uint8(tensor[0]) == _VERSION &&
            uint8(tensor[1]) == _INT32 &&
            uint8(tensor[2]) == 2 &&
            uint32(bytes4(tensor[3:7])) == 1;
    }

    /// @notice The prompt length `P` of the prompt ids `ids` (int32 little-endian): the ids
    /// before the first negative one, and 1 (`[bos]`) when that leaves none.
    /// @dev Bounded by the registry's largest input.
    function promptLength(bytes calldata ids) internal pure returns (uint256 p) {
        uint256 count = ids.length / 4;
        // An int32 (little-endian) is negative exactly when the high bit of its last byte is set.
        while (p < count && uint8(ids[4 * p + 3]) < 0x80) ++p;
        if (p == 0) p = 1;
    }

    /// @notice Element `i` of the int32 little-endian bytes `data`.
    function int32At(bytes memory data, uint256 i) internal pure returns (int32) {
        uint256 at = 4 * i;
        return
            int32(
                uint32(uint8(data[at])) |
                    (uint32(uint8(data[at + 1])) << 8) |
                    (uint32(uint8(data[at + 2])) << 16) |
                    (uint32(uint8(data[at + 3])) << 24)
            );
    }

    /// @notice The Merkle root of 32-byte roots by the chunked tree's node rule, the roots being
    /// the leaves as they are, padded with `bytes32(0)` to a power of two (commitments.ts
    /// `rootOfRoots`): a pass root over its layer roots, a generation root over pass roots.
    /// @dev Memory: one word per padded leaf; callers bound the length.
    function rootOfRoots(bytes32[] memory roots) internal pure returns (bytes32) {
        uint256 n = roots.length;
        if (n == 0) return bytes32(0);
        uint256 width = 1;
        while (width < n) width <<= 1;
        bytes32[] memory level = new bytes32[](width);
        for (uint256 i; i < n; ++i) level[i] = roots[i];
        while (width > 1) {
            width >>= 1;
            for (uint256 j; j < width; ++j) level[j] = ChunkMerkle.nodeHash(level[2 * j], level[2 * j + 1]);
        }
        return level[0];
    }

    /// @notice `ceil(log2(n))`: the depth of a tree of `n` leaves padded to a power of two.
    function depth(uint256 n) internal pure returns (uint256 d) {
        while ((uint256(1) << d) < n) ++d;
    }
}
