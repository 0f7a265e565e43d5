// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ChunkMerkle} from "../libraries/ChunkMerkle.sol";

/// @notice Test-only: exposes {ChunkMerkle} to the mocha tests, which check the shared vectors
/// of `test/vectors/chunk-merkle.json` on-chain.
contract ChunkMerkleHarness {
    function leafHash(uint256 index, bytes calldata chunk) external pure returns (bytes32) {
        return ChunkMerkle.leafHash(index, chunk);
    }

    function nodeHash(bytes32 left, bytes32 right) external pure returns (bytes32) {
        return ChunkMerkle.nodeHash(left, right);
    }

    function computeRoot(uint256 index, bytes32 leaf, bytes32[] calldata siblings) external pure returns (bytes32) {
        return ChunkMerkle.computeRoot(index, leaf, siblings);
    }

    function verify(
        bytes32 root,
        uint256 index,
        bytes calldata chunk,
        bytes32[] calldata siblings
    ) external pure returns (bool) {
        return ChunkMerkle.verify(root, index, chunk, siblings);
    }
}
