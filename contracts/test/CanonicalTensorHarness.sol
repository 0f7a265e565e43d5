// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {CanonicalTensor} from "../libraries/CanonicalTensor.sol";

/// @notice Test-only: exposes {CanonicalTensor} to the mocha tests, which check it against the
/// TypeScript codec (`oracle/model/tensor-codec.ts`) on shared vectors and random tensors.
contract CanonicalTensorHarness {
    function decodeHeader(
        bytes calldata t
    ) external pure returns (uint8 dtype, uint32[] memory shape, uint256 count, uint256 dataOffset) {
        CanonicalTensor.Header memory h = CanonicalTensor.decodeHeader(t);
        return (h.dtype, h.shape, h.count, h.dataOffset);
    }

    function encodeInt8(uint32[] calldata shape, int8[] calldata data) external pure returns (bytes memory) {
        return CanonicalTensor.encodeInt8(shape, data);
    }

    function encodeUint8(uint32[] calldata shape, uint8[] calldata data) external pure returns (bytes memory) {
        return CanonicalTensor.encodeUint8(shape, data);
    }

    function encodeInt32(uint32[] calldata shape, int32[] calldata data) external pure returns (bytes memory) {
        return CanonicalTensor.encodeInt32(shape, data);
    }

    function encodeInt64(uint32[] calldata shape, int64[] calldata data) external pure returns (bytes memory) {
        return CanonicalTensor.encodeInt64(shape, data);
    }

    function encodeFloat32(uint32[] calldata shape, uint32[] calldata bits) external pure returns (bytes memory) {
        return CanonicalTensor.encodeFloat32(shape, bits);
    }

    function decodeInt8(bytes calldata t) external pure returns (uint32[] memory, int8[] memory) {
        return CanonicalTensor.decodeInt8(t);
    }

    function decodeUint8(bytes calldata t) external pure returns (uint32[] memory, uint8[] memory) {
        return CanonicalTensor.decodeUint8(t);
    }

    function decodeInt32(bytes calldata t) external pure returns (uint32[] memory, int32[] memory) {
        return CanonicalTensor.decodeInt32(t);
    }

    function decodeInt64(bytes calldata t) external pure returns (uint32[] memory, int64[] memory) {
        return CanonicalTensor.decodeInt64(t);
    }

    function decodeFloat32(bytes calldata t) external pure returns (uint32[] memory, uint32[] memory) {
        return CanonicalTensor.decodeFloat32(t);
    }

    function int8At(bytes calldata t, uint256 i) external pure returns (int8) {
        return CanonicalTensor.int8At(t, i);
    }

    function int32At(bytes calldata t, uint256 i) external pure returns (int32) {
        return CanonicalTensor.int32At(t, i);
    }

    function uint8At(bytes calldata t, uint256 i) external pure returns (uint8) {
        bytes memory m = t;
        return CanonicalTensor.uint8At(m, CanonicalTensor.decodeHeader(m), i);
    }

    function int64At(bytes calldata t, uint256 i) external pure returns (int64) {
        bytes memory m = t;
        return CanonicalTensor.int64At(m, CanonicalTensor.decodeHeader(m), i);
    }

    function float32At(bytes calldata t, uint256 i) external pure returns (uint32) {
        bytes memory m = t;
        return CanonicalTensor.float32At(m, CanonicalTensor.decodeHeader(m), i);
    }

    function argmax(bytes calldata t) external pure returns (uint256) {
        return CanonicalTensor.argmax(t);
    }

    function toInlineInput(bytes calldata t) external pure returns (bytes memory) {
        return CanonicalTensor.toInlineInput(t);
    }

    function shapeOf2(uint32 a, uint32 b) external pure returns (uint32[] memory) {
        return CanonicalTensor.shapeOf(a, b);
    }
}
