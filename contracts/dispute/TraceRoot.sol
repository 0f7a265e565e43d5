// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ChunkMerkle} from "../libraries/ChunkMerkle.sol";

/// @title TraceRoot
/// @notice The whole-tree side of {ChunkMerkle}: the chunked Merkle root of a byte string held in
/// memory (a result's output or a request's input, whose roots the market and the dispute game
/// recompute), and the element bytes of a canonical tensor (docs/protocol.md, "Canonical tensor
/// bytes": a `3 + 4 * rank` byte header, then the elements).
library TraceRoot {
    /// @notice `tensor` is shorter than its header says (or than the 3 fixed header bytes).
    error TraceRootTensorMalformed(uint256 length);

    /// @notice The chunked Merkle root of `data` (docs/numeric-semantics.md#commitments):
    /// `bytes32(0)` for no bytes, the leaf itself for one chunk.
    /// @dev Memory: one word per padded leaf. Gas grows linearly with `data.length` (about 300 gas
    /// per KiB plus 100 per leaf); callers bound the length.
    function rootOf(bytes memory data) internal pure returns (bytes32 root) {
        uint256 length = data.length;
        if (length == 0) return bytes32(0);
        uint256 chunkSize = ChunkMerkle.CHUNK_SIZE;
        uint256 chunks = (length + chunkSize - 1) / chunkSize;
        uint256 width = 1;
        while (width < chunks) width <<= 1;
        bytes32[] memory level = new bytes32[](width);
        for (uint256 i; i < chunks; ++i) {
            uint256 start = i * chunkSize;
            uint256 chunkLength = length - start < chunkSize ? length - start : chunkSize;
            bytes32 leaf;
            // The word ending where chunk i starts is overwritten with `i` so that the 5 bytes
            // before the chunk are `0x00 ‖ uint32be(i)` (chunks < 2^32 since memory is far
            // smaller), the preimage is hashed in place and the word restored.
            assembly ("memory-safe") {
                let p := add(add(data, 0x20), start)
                let w := sub(p, 0x20)
                let saved := mload(w)
                mstore(w, i)
                leaf := keccak256(sub(p, 5), add(chunkLength, 5))
                mstore(w, saved)
            }
            level[i] = leaf;
        }
        while (width > 1) {
            width >>= 1;
            for (uint256 j; j < width; ++j) level[j] = ChunkMerkle.nodeHash(level[2 * j], level[2 * j + 1]);
        }
        return level[0];
    }

    /// @notice The element bytes of the canonical tensor `tensor` (its bytes after the header).
    /// Only the header length is checked: the roots compared with these bytes commit the rest.
    function elementBytes(bytes calldata tensor) internal pure returns (bytes calldata) {
        // INVARIANT: the header (version, dtype, rank, rank dims) is present.
        if (tensor.length < 3) revert TraceRootTensorMalformed(tensor.length);
        uint256 header = 3 + 4 * uint256(uint8(tensor[2]));
        if (tensor.length < header) revert TraceRootTensorMalformed(tensor.length);
        return tensor[header:];
    }
}
