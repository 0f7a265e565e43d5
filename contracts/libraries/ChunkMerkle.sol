// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title ChunkMerkle
/// @notice Proofs of one chunk of a byte string committed by the chunked keccak Merkle tree of
/// `docs/numeric-semantics.md#commitments` (the weights blob's `weightsRoot` and every layer's
/// trace root). The off-chain half is `oracle/model/vqm/commitments.ts`; both are pinned by the
/// shared vectors in `test/vectors/chunk-merkle.json`.
///
/// The tree: bytes are cut into chunks of {CHUNK_SIZE} bytes (the last one shorter);
/// `leaf_i = keccak256(0x00 ‖ uint32be(i) ‖ chunk_i)`; `node = keccak256(0x01 ‖ left ‖ right)`;
/// the leaf count is padded to a power of two with `bytes32(0)` leaves; one chunk's root is its
/// leaf; the empty string's root is `bytes32(0)` (it has no chunk to prove).
///
/// A proof lists the siblings bottom-up: `siblings[k]` sits at height `k` (0 = the leaves), and
/// bit `k` of the chunk index says on which side: 0 means the path node is the left child.
///
/// @dev The 0x00 / 0x01 prefixes separate leaves from nodes, and no keccak output is the zero
/// padding leaf, so a proof of a different length than the tree's depth cannot verify against a
/// root. Callers that know the committed length should still require
/// `siblings.length == depth` to reject malformed proofs early and get a clearer error.
library ChunkMerkle {
    /// @notice Bytes per chunk; the last chunk of a byte string may be shorter.
    uint256 internal constant CHUNK_SIZE = 1024;

    /// @notice `index` is not a leaf of a tree with `2 ** depth` leaves (leaf indices are uint32,
    /// so `depth` is 32 when the index itself is too large).
    error ChunkMerkleIndexOutOfRange(uint256 index, uint256 depth);

    /// @notice The leaf of chunk `index`: `keccak256(0x00 ‖ uint32be(index) ‖ chunk)`.
    ///
    /// Requirements:
    ///
    /// - `index` fits a uint32.
    function leafHash(uint256 index, bytes memory chunk) internal pure returns (bytes32 leaf) {
        // INVARIANT: leaf indices are encoded as uint32.
        if (index > type(uint32).max) revert ChunkMerkleIndexOutOfRange(index, 32);
        // The 5 bytes right before the chunk's data are the low bytes of its length word. Writing
        // the index over that word puts exactly `0x00 ‖ uint32be(index)` there (index < 2^32), so
        // the preimage is hashed in place and the length is restored after: this saves copying
        // up to 1 KiB into fresh memory (and the memory expansion) as abi.encodePacked would.
        assembly ("memory-safe") {
            let length := mload(chunk)
            mstore(chunk, index)
            leaf := keccak256(add(chunk, 27), add(length, 5))
            mstore(chunk, length)
        }
    }

    /// @notice An inner node: `keccak256(0x01 ‖ left ‖ right)`.
    function nodeHash(bytes32 left, bytes32 right) internal pure returns (bytes32 node) {
        // The 65-byte preimage is written past the free memory pointer without allocating it
        // (abi.encodePacked would allocate fresh memory on every call).
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore8(p, 0x01)
            mstore(add(p, 1), left)
            mstore(add(p, 33), right)
            node := keccak256(p, 65)
        }
    }

    /// @notice The root reached from leaf `leaf` at position `index` with the bottom-up
    /// `siblings`.
    ///
    /// Requirements:
    ///
    /// - `index < 2 ** siblings.length`.
    function computeRoot(uint256 index, bytes32 leaf, bytes32[] memory siblings) internal pure returns (bytes32 root) {
        _checkIndex(index, siblings.length);
        // One loop in assembly: one scratch buffer past the free memory pointer for every level,
        // no bounds checks on `siblings` (the loop stays within its length) and no allocation.
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore8(p, 0x01)
            root := leaf
            let s := add(siblings, 0x20)
            let end := add(s, shl(5, mload(siblings)))
            for {} lt(s, end) {
                s := add(s, 0x20)
            } {
                switch and(index, 1)
                case 0 {
                    mstore(add(p, 1), root)
                    mstore(add(p, 33), mload(s))
                }
                default {
                    mstore(add(p, 1), mload(s))
                    mstore(add(p, 33), root)
                }
                root := keccak256(p, 65)
                index := shr(1, index)
            }
        }
    }

    /// @notice Whether `chunk` is chunk `index` of the bytes committed by `root`, proved by the
    /// bottom-up `siblings`. The chunk's length is not checked: a chunk of another length has
    /// another leaf.
    ///
    /// Requirements:
    ///
    /// - `index < 2 ** siblings.length` (and `index < 2 ** 32`).
    function verify(
        bytes32 root,
        uint256 index,
        bytes memory chunk,
        bytes32[] memory siblings
    ) internal pure returns (bool) {
        _checkIndex(index, siblings.length);
        return computeRoot(index, leafHash(index, chunk), siblings) == root;
    }

    /// @dev Reverts unless `index < 2 ** depth`.
    function _checkIndex(uint256 index, uint256 depth) private pure {
        // INVARIANT: the index names a leaf of a tree of 2^depth leaves (`>>` by 256 or more
        // gives 0, so any depth >= 256 admits every index).
        if (index >> depth != 0) revert ChunkMerkleIndexOutOfRange(index, depth);
    }
}
