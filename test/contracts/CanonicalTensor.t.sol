// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "./utils/Test.sol";
import {CanonicalTensorVectors} from "./utils/CanonicalTensorVectors.sol";
import {CanonicalTensor} from "../../contracts/libraries/CanonicalTensor.sol";
import {CanonicalTensorHarness} from "../../contracts/test/CanonicalTensorHarness.sol";

/// @notice {CanonicalTensor} on the TypeScript codec's vectors (`CanonicalTensorVectors`, made by
/// scripts/gen-tensor-vectors.ts from oracle/model/tensor-codec.ts), and fuzzed against the
/// format written out with abi.encodePacked. CanonicalTensor.test.ts fuzzes it against the
/// codec itself, on-chain.
contract CanonicalTensorTest is Test {
    CanonicalTensorHarness harness;

    function setUp() public {
        harness = new CanonicalTensorHarness();
    }

    // ------------------------------------------------------------------ the codec's vectors

    function test_decodeHeader_codecVectors_succeeds() public view {
        CanonicalTensorVectors.Valid[] memory vectors = CanonicalTensorVectors.valid();
        for (uint256 k; k < vectors.length; ++k) {
            CanonicalTensorVectors.Valid memory v = vectors[k];
            (uint8 dtype, uint32[] memory shape, uint256 count, uint256 dataOffset) = harness.decodeHeader(v.encoded);
            assertEq(dtype, v.dtype, v.name);
            _assertShape(shape, v.shape, v.name);
            assertEq(count, v.values.length, v.name);
            assertEq(dataOffset, 3 + 4 * v.shape.length, v.name);
            assertEq(harness.argmax(v.encoded), v.argmax, v.name);
        }
    }

    function test_decode_codecVectors_succeeds() public view {
        CanonicalTensorVectors.Valid[] memory vectors = CanonicalTensorVectors.valid();
        for (uint256 k; k < vectors.length; ++k) {
            CanonicalTensorVectors.Valid memory v = vectors[k];
            int256[] memory values = _decodeValues(v.dtype, v.encoded);
            assertEq(values.length, v.values.length, v.name);
            for (uint256 i; i < values.length; ++i) assertTrue(values[i] == v.values[i], v.name);
        }
    }

    function test_encode_codecVectors_succeeds() public view {
        CanonicalTensorVectors.Valid[] memory vectors = CanonicalTensorVectors.valid();
        for (uint256 k; k < vectors.length; ++k) {
            CanonicalTensorVectors.Valid memory v = vectors[k];
            assertTrue(keccak256(_encode(v.dtype, v.shape, v.values)) == keccak256(v.encoded), v.name);
        }
    }

    function test_decodeHeader_codecRefusals_reverts() public view {
        CanonicalTensorVectors.Invalid[] memory vectors = CanonicalTensorVectors.invalid();
        for (uint256 k; k < vectors.length; ++k) {
            try harness.decodeHeader(vectors[k].encoded) {
                revert(string.concat(vectors[k].name, ": accepted"));
            } catch (bytes memory reason) {
                assertTrue(reason.length >= 4 && bytes4(reason) == vectors[k].selector, vectors[k].name);
            }
        }
    }

    function test_toInlineInput_irisSample_succeeds() public view {
        CanonicalTensorVectors.Valid memory iris = CanonicalTensorVectors.valid()[0];
        uint32[] memory bits = new uint32[](4);
        for (uint256 i; i < 4; ++i) bits[i] = uint32(uint256(iris.values[i]));
        bytes memory input = harness.toInlineInput(harness.encodeFloat32(harness.shapeOf2(1, 4), bits));
        assertTrue(keccak256(input) == keccak256(bytes.concat(hex"00", iris.encoded)), "iris envelope");
    }

    // ------------------------------------------------------------------ fuzzed against the format

    function testFuzz_encodeInt8_matchesPacked_succeeds(uint256 seed) public view {
        uint32[] memory shape = _shape(seed);
        uint256 n = _count(shape);
        int8[] memory data = new int8[](n);
        bytes memory body;
        for (uint256 i; i < n; ++i) {
            data[i] = int8(uint8(uint256(keccak256(abi.encode(seed, i)))));
            body = bytes.concat(body, abi.encodePacked(data[i]));
        }
        bytes memory t = harness.encodeInt8(shape, data);
        assertTrue(keccak256(t) == keccak256(bytes.concat(_header(1, shape), body)), "int8 layout");
        (uint32[] memory shapeBack, int8[] memory back) = harness.decodeInt8(t);
        _assertShape(shapeBack, shape, "int8 shape");
        for (uint256 i; i < n; ++i) assertTrue(back[i] == data[i], "int8 element");
        uint256 best;
        for (uint256 i = 1; i < n; ++i) if (data[i] > data[best]) best = i;
        assertEq(harness.argmax(t), best, "int8 argmax");
        uint256 probe = seed % n;
        assertTrue(harness.int8At(t, probe) == data[probe], "int8At");
    }

    function testFuzz_encodeInt32_matchesPacked_succeeds(uint256 seed) public view {
        uint32[] memory shape = _shape(seed);
        uint256 n = _count(shape);
        int32[] memory data = new int32[](n);
        bytes memory body;
        for (uint256 i; i < n; ++i) {
            data[i] = int32(uint32(uint256(keccak256(abi.encode(seed, i)))));
            body = bytes.concat(body, _littleEndian(uint32(data[i]), 4));
        }
        bytes memory t = harness.encodeInt32(shape, data);
        assertTrue(keccak256(t) == keccak256(bytes.concat(_header(2, shape), body)), "int32 layout");
        (, int32[] memory back) = harness.decodeInt32(t);
        for (uint256 i; i < n; ++i) assertTrue(back[i] == data[i], "int32 element");
        uint256 best;
        for (uint256 i = 1; i < n; ++i) if (data[i] > data[best]) best = i;
        assertEq(harness.argmax(t), best, "int32 argmax");
        uint256 probe = seed % n;
        assertTrue(harness.int32At(t, probe) == data[probe], "int32At");
    }

    function testFuzz_encodeInt64_matchesPacked_succeeds(uint256 seed) public view {
        uint32[] memory shape = _shape(seed);
        uint256 n = _count(shape);
        int64[] memory data = new int64[](n);
        bytes memory body;
        for (uint256 i; i < n; ++i) {
            data[i] = int64(uint64(uint256(keccak256(abi.encode(seed, i)))));
            body = bytes.concat(body, _littleEndian(uint64(data[i]), 8));
        }
        bytes memory t = harness.encodeInt64(shape, data);
        assertTrue(keccak256(t) == keccak256(bytes.concat(_header(4, shape), body)), "int64 layout");
        (, int64[] memory back) = harness.decodeInt64(t);
        for (uint256 i; i < n; ++i) assertTrue(back[i] == data[i], "int64 element");
    }

    function testFuzz_encodeFloat32_roundTrip_succeeds(uint256 seed) public view {
        uint32[] memory shape = _shape(seed);
        uint256 n = _count(shape);
        uint32[] memory bits = new uint32[](n);
        bytes memory body;
        for (uint256 i; i < n; ++i) {
            uint32 b = uint32(uint256(keccak256(abi.encode(seed, i))));
            // An all-ones exponent (NaN, infinity) is not canonical: clear its top bit.
            if (b & 0x7f800000 == 0x7f800000) b &= ~uint32(0x40000000);
            bits[i] = b;
            body = bytes.concat(body, _littleEndian(b, 4));
        }
        bytes memory t = harness.encodeFloat32(shape, bits);
        assertTrue(keccak256(t) == keccak256(bytes.concat(_header(3, shape), body)), "float32 layout");
        (, uint32[] memory back) = harness.decodeFloat32(t);
        for (uint256 i; i < n; ++i) assertEq(back[i], bits[i], "float32 bits");
        uint256 probe = seed % n;
        assertEq(harness.float32At(t, probe), bits[probe], "float32At");
    }

    function testFuzz_encodeFloat32_nonFinite_reverts(uint256 seed, uint32 mantissa, bool negative) public {
        uint32[] memory shape = _shape(seed);
        uint256 n = _count(shape);
        uint32[] memory bits = new uint32[](n);
        uint256 bad = seed % n;
        bits[bad] = (negative ? 0x80000000 : 0) | 0x7f800000 | (mantissa & 0x007fffff);
        vm.expectRevert(abi.encodeWithSelector(CanonicalTensor.CanonicalTensorNonFinite.selector, bad, bits[bad]));
        harness.encodeFloat32(shape, bits);
    }

    function testFuzz_decodeHeader_wrongLength_reverts(uint256 seed, bool extend) public {
        uint32[] memory shape = _shape(seed);
        uint8[] memory data = new uint8[](_count(shape));
        bytes memory t = harness.encodeUint8(shape, data);
        bytes memory wrong = extend ? bytes.concat(t, hex"00") : _truncate(t, t.length - 1);
        vm.expectRevert(
            abi.encodeWithSelector(CanonicalTensor.CanonicalTensorLengthMismatch.selector, wrong.length, t.length)
        );
        harness.decodeHeader(wrong);
    }

    function testFuzz_decodeHeader_nonFinite_reverts(uint256 seed, uint32 mantissa) public {
        uint32[] memory shape = _shape(seed);
        uint256 n = _count(shape);
        bytes memory t = harness.encodeFloat32(shape, new uint32[](n));
        uint256 bad = seed % n;
        uint32 nan = 0x7f800000 | (mantissa & 0x007fffff);
        bytes memory le = _littleEndian(nan, 4);
        for (uint256 k; k < 4; ++k) t[3 + 4 * shape.length + 4 * bad + k] = le[k];
        vm.expectRevert(abi.encodeWithSelector(CanonicalTensor.CanonicalTensorNonFinite.selector, bad, nan));
        harness.decodeHeader(t);
    }

    function test_int8At_wrongDtype_reverts() public {
        bytes memory t = harness.encodeInt32(CanonicalTensor.shapeOf(1, 1), new int32[](1));
        vm.expectRevert(abi.encodeWithSelector(CanonicalTensor.CanonicalTensorWrongDtype.selector, 2, 1));
        harness.int8At(t, 0);
    }

    function test_int32At_indexOutOfRange_reverts() public {
        bytes memory t = harness.encodeInt32(CanonicalTensor.shapeOf(1, 2), new int32[](2));
        vm.expectRevert(abi.encodeWithSelector(CanonicalTensor.CanonicalTensorIndexOutOfRange.selector, 2, 2));
        harness.int32At(t, 2);
    }

    function test_encodeInt8_dataMismatch_reverts() public {
        uint32[] memory shape = CanonicalTensor.shapeOf(2, 2);
        vm.expectRevert(abi.encodeWithSelector(CanonicalTensor.CanonicalTensorDataMismatch.selector, 3, 4));
        harness.encodeInt8(shape, new int8[](3));
    }

    function test_encodeInt8_badShape_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(CanonicalTensor.CanonicalTensorBadRank.selector, 0));
        harness.encodeInt8(new uint32[](0), new int8[](0));
        uint32[] memory zeroDim = CanonicalTensor.shapeOf(1, 0);
        vm.expectRevert(abi.encodeWithSelector(CanonicalTensor.CanonicalTensorZeroDim.selector, 1));
        harness.encodeInt8(zeroDim, new int8[](0));
        uint32[] memory tooLarge = CanonicalTensor.shapeOf(4097, 4097);
        vm.expectRevert(abi.encodeWithSelector(CanonicalTensor.CanonicalTensorTooLarge.selector, 1, 4097 * 4097));
        harness.encodeInt8(tooLarge, new int8[](0));
    }

    // ------------------------------------------------------------------ helpers

    /// @dev A shape of rank 1..4 with dims 1..5, from `seed`.
    function _shape(uint256 seed) internal pure returns (uint32[] memory shape) {
        shape = new uint32[](bound(seed, 1, 4));
        for (uint256 axis; axis < shape.length; ++axis)
            shape[axis] = uint32(bound(uint256(keccak256(abi.encode(seed, "dim", axis))), 1, 5));
    }

    function _count(uint32[] memory shape) internal pure returns (uint256 n) {
        n = 1;
        for (uint256 axis; axis < shape.length; ++axis) n *= shape[axis];
    }

    /// @dev The header as the format defines it: version, dtype, rank, big-endian dims.
    function _header(uint8 dtype, uint32[] memory shape) internal pure returns (bytes memory h) {
        h = abi.encodePacked(uint8(1), dtype, uint8(shape.length));
        for (uint256 axis; axis < shape.length; ++axis) h = bytes.concat(h, abi.encodePacked(shape[axis]));
    }

    function _littleEndian(uint256 value, uint256 size) internal pure returns (bytes memory out) {
        out = new bytes(size);
        for (uint256 k; k < size; ++k) out[k] = bytes1(uint8(value >> (8 * k)));
    }

    function _truncate(bytes memory t, uint256 length) internal pure returns (bytes memory out) {
        out = new bytes(length);
        for (uint256 i; i < length; ++i) out[i] = t[i];
    }

    function _assertShape(uint32[] memory a, uint32[] memory b, string memory name) internal pure {
        assertEq(a.length, b.length, name);
        for (uint256 axis; axis < a.length; ++axis) assertEq(a[axis], b[axis], name);
    }

    function _decodeValues(uint8 dtype, bytes memory t) internal view returns (int256[] memory values) {
        if (dtype == 1) {
            (, int8[] memory d) = harness.decodeInt8(t);
            values = new int256[](d.length);
            for (uint256 i; i < d.length; ++i) values[i] = d[i];
        } else if (dtype == 2) {
            (, int32[] memory d) = harness.decodeInt32(t);
            values = new int256[](d.length);
            for (uint256 i; i < d.length; ++i) values[i] = d[i];
        } else if (dtype == 3) {
            (, uint32[] memory d) = harness.decodeFloat32(t);
            values = new int256[](d.length);
            for (uint256 i; i < d.length; ++i) values[i] = int256(uint256(d[i]));
        } else if (dtype == 4) {
            (, int64[] memory d) = harness.decodeInt64(t);
            values = new int256[](d.length);
            for (uint256 i; i < d.length; ++i) values[i] = d[i];
        } else {
            (, uint8[] memory d) = harness.decodeUint8(t);
            values = new int256[](d.length);
            for (uint256 i; i < d.length; ++i) values[i] = int256(uint256(d[i]));
        }
    }

    function _encode(uint8 dtype, uint32[] memory shape, int256[] memory v) internal view returns (bytes memory) {
        uint256 n = v.length;
        if (dtype == 1) {
            int8[] memory d = new int8[](n);
            for (uint256 i; i < n; ++i) d[i] = int8(v[i]);
            return harness.encodeInt8(shape, d);
        } else if (dtype == 2) {
            int32[] memory d = new int32[](n);
            for (uint256 i; i < n; ++i) d[i] = int32(v[i]);
            return harness.encodeInt32(shape, d);
        } else if (dtype == 3) {
            uint32[] memory d = new uint32[](n);
            for (uint256 i; i < n; ++i) d[i] = uint32(uint256(v[i]));
            return harness.encodeFloat32(shape, d);
        } else if (dtype == 4) {
            int64[] memory d = new int64[](n);
            for (uint256 i; i < n; ++i) d[i] = int64(v[i]);
            return harness.encodeInt64(shape, d);
        }
        uint8[] memory u = new uint8[](n);
        for (uint256 i; i < n; ++i) u[i] = uint8(uint256(v[i]));
        return harness.encodeUint8(shape, u);
    }
}
