// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "./utils/Test.sol";
import {ChunkMerkle} from "../../contracts/libraries/ChunkMerkle.sol";
import {ChunkMerkleHarness} from "../../contracts/test/ChunkMerkleHarness.sol";

/// @dev The forge-std cheatcode that records a measured figure (not in the shared Test base).
interface ISnapshotValue {
    function snapshotValue(string calldata group, string calldata name, uint256 value) external;
}

/// @notice {ChunkMerkle} against its definition written out with abi.encodePacked, fuzzed, plus
/// the gas of a 16-level proof of a full 1 KiB chunk (the shared TypeScript vectors are checked
/// on-chain by ChunkMerkle.test.ts). Gas figures go to `snapshots/ChunkMerkle.json` with
/// `npx hardhat test solidity --snapshot`.
contract ChunkMerkleTest is Test {
    ChunkMerkleHarness harness;

    function setUp() public {
        harness = new ChunkMerkleHarness();
    }

    function _chunk(uint256 seed, uint256 length) internal pure returns (bytes memory chunk) {
        chunk = new bytes(length);
        for (uint256 i; i < length; ++i)
            chunk[i] = bytes1(uint8(uint256(keccak256(abi.encode(seed, i / 32))) >> i % 32));
    }

    function _siblings(uint256 seed, uint256 depth) internal pure returns (bytes32[] memory siblings) {
        siblings = new bytes32[](depth);
        for (uint256 i; i < depth; ++i) siblings[i] = keccak256(abi.encode(seed, "sibling", i));
    }

    /// @dev The tree's definition, level by level, with abi.encodePacked.
    function _referenceRoot(
        uint256 index,
        bytes memory chunk,
        bytes32[] memory siblings
    ) internal pure returns (bytes32) {
        bytes32 node = keccak256(abi.encodePacked(bytes1(0x00), uint32(index), chunk));
        for (uint256 k; k < siblings.length; ++k) {
            node =
                (index >> k) & 1 == 0
                    ? keccak256(abi.encodePacked(bytes1(0x01), node, siblings[k]))
                    : keccak256(abi.encodePacked(bytes1(0x01), siblings[k], node));
        }
        return node;
    }

    function test_leafHash_knownVector_succeeds() public pure {
        // The "1 byte" case of test/vectors/chunk-merkle.json: its root is its only leaf.
        assertEq(
            uint256(ChunkMerkle.leafHash(0, hex"01")),
            uint256(0x08a37d58af7dd64d460b418c3799e7bd249a2aed7584fc6e8d0e6049ebc305b0),
            "leaf of the 1-byte vector"
        );
    }

    function testFuzz_leafHash_matchesDefinitionAndKeepsChunk_succeeds(
        uint256 seed,
        uint32 index,
        uint256 length
    ) public pure {
        length = bound(length, 0, 2 * ChunkMerkle.CHUNK_SIZE);
        bytes memory chunk = _chunk(seed, length);
        bytes32 before = keccak256(chunk);
        bytes32 leaf = ChunkMerkle.leafHash(index, chunk);
        assertEq(uint256(leaf), uint256(keccak256(abi.encodePacked(bytes1(0x00), index, chunk))), "leaf");
        // The in-place hashing restored the chunk's length word.
        assertEq(chunk.length, length, "chunk length restored");
        assertEq(uint256(keccak256(chunk)), uint256(before), "chunk bytes untouched");
    }

    function testFuzz_nodeHash_matchesDefinition_succeeds(bytes32 left, bytes32 right) public pure {
        bytes memory allocatedBefore = new bytes(1);
        bytes32 node = ChunkMerkle.nodeHash(left, right);
        assertEq(uint256(node), uint256(keccak256(abi.encodePacked(bytes1(0x01), left, right))), "node");
        assertEq(allocatedBefore.length, 1, "memory untouched");
    }

    function testFuzz_verify_roundTrip_succeeds(
        uint256 seed,
        uint256 index,
        uint256 depth,
        uint256 length
    ) public pure {
        depth = bound(depth, 0, 20);
        index = bound(index, 0, (1 << depth) - 1);
        length = bound(length, 0, ChunkMerkle.CHUNK_SIZE);
        bytes memory chunk = _chunk(seed, length);
        bytes32[] memory siblings = _siblings(seed, depth);
        bytes32 root = _referenceRoot(index, chunk, siblings);
        assertEq(
            uint256(ChunkMerkle.computeRoot(index, ChunkMerkle.leafHash(index, chunk), siblings)),
            uint256(root),
            "root"
        );
        assertTrue(ChunkMerkle.verify(root, index, chunk, siblings), "valid proof");
        if (depth > 0) {
            assertTrue(!ChunkMerkle.verify(root, index ^ 1, chunk, siblings), "neighbour index");
            uint256 k = seed % depth;
            siblings[k] = bytes32(uint256(siblings[k]) ^ 1);
            assertTrue(!ChunkMerkle.verify(root, index, chunk, siblings), "wrong sibling");
            siblings[k] = bytes32(uint256(siblings[k]) ^ 1);
        }
        bytes memory other = _chunk(seed ^ 1, length + 1);
        assertTrue(!ChunkMerkle.verify(root, index, other, siblings), "wrong chunk");
    }

    function testFuzz_verify_indexOutOfRange_reverts(uint256 index, uint256 depth) public {
        depth = bound(depth, 0, 16);
        index = bound(index, 1 << depth, type(uint256).max);
        bytes32[] memory siblings = _siblings(0, depth);
        vm.expectRevert(abi.encodeWithSelector(ChunkMerkle.ChunkMerkleIndexOutOfRange.selector, index, depth));
        harness.verify(bytes32(0), index, hex"00", siblings);
    }

    function test_leafHash_indexAboveUint32_reverts() public {
        uint256 index = uint256(type(uint32).max) + 1;
        vm.expectRevert(abi.encodeWithSelector(ChunkMerkle.ChunkMerkleIndexOutOfRange.selector, index, 32));
        harness.leafHash(index, hex"00");
    }

    /// @dev A full 1 KiB chunk proved through 16 levels (65536 leaves, a 64 MiB blob).
    function test_verify_sixteenLevels_succeeds() public {
        bytes memory chunk = _chunk(7, ChunkMerkle.CHUNK_SIZE);
        bytes32[] memory siblings = _siblings(7, 16);
        uint256 index = 0xb5a3;
        bytes32 root = _referenceRoot(index, chunk, siblings);

        uint256 start = gasleft();
        bool valid = ChunkMerkle.verify(root, index, chunk, siblings);
        uint256 used = start - gasleft();
        assertTrue(valid, "valid proof");
        // Library only (memory arguments already in place): about 3k gas.
        assertLe(used, 5_000, "verify gas, 16 levels, library");
        ISnapshotValue(address(vm)).snapshotValue("ChunkMerkle", "verify_16_levels_1KiB_chunk_library", used);

        // Through the harness: plus ABI decoding of the chunk and siblings into memory.
        assertTrue(harness.verify(root, index, chunk, siblings), "valid proof via harness");
        vm.snapshotGasLastCall("ChunkMerkle", "verify_16_levels_1KiB_chunk");
    }
}
