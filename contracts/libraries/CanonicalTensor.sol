// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title CanonicalTensor
/// @notice Encodes and decodes canonical tensor bytes, version 1 (docs/protocol.md, "Canonical
/// tensor bytes"), so a contract can build a request's input on-chain and read the output it is
/// called back with:
///
///     offset    size      field
///     0         1         format version, 0x01
///     1         1         dtype code: 1 int8, 2 int32, 3 float32, 4 int64, 5 uint8
///     2         1         rank r, 1..8
///     3         4 * r     dims, each uint32 big-endian, each >= 1
///     3 + 4r    n * size  the n = product(dims) elements in row-major order, little-endian
///                         (two's complement integers, IEEE 754 binary32 floats), no padding
///
/// Decoding enforces the rules of the TypeScript codec (`oracle/model/tensor-codec.ts`), in the
/// same order, so both accept exactly the same bytes: the length is exactly `3 + 4r + n * size`,
/// `n <= 2^24`, and float32 elements are finite. Solidity has no floats: float32 elements are
/// read and written as their raw IEEE 754 bits (`uint32`). Everything works on `memory` bytes;
/// `bytes calldata` (a callback's `output`) is copied when passed in.
///
/// Example: the iris input `float32 [1, 4]` built on-chain and wrapped as a request input:
///
///     bytes memory input = CanonicalTensor.toInlineInput(
///         CanonicalTensor.encodeFloat32(CanonicalTensor.shapeOf(1, 4), featureBits)
///     );
///
/// and the class of a `[1, classes]` logits output: `CanonicalTensor.argmax(output)`.
library CanonicalTensor {
    /// @notice What {decodeHeader} reads of a tensor: its dtype code, its dims, the number of
    /// elements (the product of the dims) and the offset of the first element (`3 + 4 * rank`).
    struct Header {
        uint8 dtype;
        uint32[] shape;
        uint256 count;
        uint256 dataOffset;
    }

    /// @notice The format version byte.
    uint8 internal constant VERSION = 0x01;
    /// @notice Dtype codes (byte 1).
    uint8 internal constant INT8 = 1;
    uint8 internal constant INT32 = 2;
    uint8 internal constant FLOAT32 = 3;
    uint8 internal constant INT64 = 4;
    uint8 internal constant UINT8 = 5;
    /// @notice Most dims of a tensor (`ModelRegistry.MAX_RANK`).
    uint256 internal constant MAX_RANK = 8;
    /// @notice Most elements of a tensor (`ModelRegistry.MAX_ELEMENTS`).
    uint256 internal constant MAX_ELEMENTS = 1 << 24;
    /// @notice Kind byte of the input envelope that carries a tensor inline.
    bytes1 internal constant INLINE_INPUT = 0x00;

    /// @dev Version, dtype and rank bytes.
    uint256 private constant _FIXED_HEADER = 3;
    uint32 private constant _SIGN_BIT = 0x80000000;
    uint32 private constant _EXPONENT_MASK = 0x7f800000;

    /// @notice `length` bytes where at least `needed` are due (a header, or the dims of its rank).
    error CanonicalTensorTooShort(uint256 length, uint256 needed);
    /// @notice The version byte is not 0x01.
    error CanonicalTensorBadVersion(uint8 version);
    /// @notice `dtype` is not a known dtype code.
    error CanonicalTensorUnknownDtype(uint8 dtype);
    /// @notice The rank is not 1..8.
    error CanonicalTensorBadRank(uint256 rank);
    /// @notice Dim `axis` is zero.
    error CanonicalTensorZeroDim(uint256 axis);
    /// @notice The dims up to `axis` already make more than `MAX_ELEMENTS` elements.
    error CanonicalTensorTooLarge(uint256 axis, uint256 count);
    /// @notice `length` bytes where the header makes `expected` due.
    error CanonicalTensorLengthMismatch(uint256 length, uint256 expected);
    /// @notice Float32 element `index` (raw bits `bits`) is NaN or infinite.
    error CanonicalTensorNonFinite(uint256 index, uint32 bits);
    /// @notice {encodeInt8} and the others got `length` elements for a shape of `count`.
    error CanonicalTensorDataMismatch(uint256 length, uint256 count);
    /// @notice The tensor's dtype is `dtype`; the accessor reads `expected`.
    error CanonicalTensorWrongDtype(uint8 dtype, uint8 expected);
    /// @notice Element `index` of a tensor of `count` elements.
    error CanonicalTensorIndexOutOfRange(uint256 index, uint256 count);

    // ------------------------------------------------------------------ shapes and sizes

    /// @notice Bytes per element of dtype `dtype`. Reverts with {CanonicalTensorUnknownDtype}.
    function elementSize(uint8 dtype) internal pure returns (uint256) {
        if (dtype == INT8 || dtype == UINT8) return 1;
        if (dtype == INT32 || dtype == FLOAT32) return 4;
        if (dtype == INT64) return 8;
        revert CanonicalTensorUnknownDtype(dtype);
    }

    /// @notice The shape `[a]`.
    function shapeOf(uint32 a) internal pure returns (uint32[] memory shape) {
        shape = new uint32[](1);
        shape[0] = a;
    }

    /// @notice The shape `[a, b]` (a batch of one row: `shapeOf(1, n)`).
    function shapeOf(uint32 a, uint32 b) internal pure returns (uint32[] memory shape) {
        shape = new uint32[](2);
        shape[0] = a;
        shape[1] = b;
    }

    // ------------------------------------------------------------------ encoding

    /// @notice The canonical bytes of an int8 tensor of `shape` holding `data` (row-major).
    /// Requirements: rank 1..8, no zero dim, at most 2^24 elements, `data.length` elements.
    function encodeInt8(uint32[] memory shape, int8[] memory data) internal pure returns (bytes memory t) {
        uint256 offset;
        (t, offset) = _allocate(INT8, shape, data.length);
        for (uint256 i; i < data.length; ++i) _putLittleEndian(t, offset + i, uint8(data[i]), 1);
    }

    /// @notice The canonical bytes of a uint8 tensor; see {encodeInt8}.
    function encodeUint8(uint32[] memory shape, uint8[] memory data) internal pure returns (bytes memory t) {
        uint256 offset;
        (t, offset) = _allocate(UINT8, shape, data.length);
        for (uint256 i; i < data.length; ++i) _putLittleEndian(t, offset + i, data[i], 1);
    }

    /// @notice The canonical bytes of an int32 tensor; see {encodeInt8}.
    function encodeInt32(uint32[] memory shape, int32[] memory data) internal pure returns (bytes memory t) {
        uint256 offset;
        (t, offset) = _allocate(INT32, shape, data.length);
        for (uint256 i; i < data.length; ++i) _putLittleEndian(t, offset + 4 * i, uint32(data[i]), 4);
    }

    /// @notice The canonical bytes of an int64 tensor; see {encodeInt8}.
    function encodeInt64(uint32[] memory shape, int64[] memory data) internal pure returns (bytes memory t) {
        uint256 offset;
        (t, offset) = _allocate(INT64, shape, data.length);
        for (uint256 i; i < data.length; ++i) _putLittleEndian(t, offset + 8 * i, uint64(data[i]), 8);
    }

    /// @notice The canonical bytes of a float32 tensor whose elements have the IEEE 754 bits
    /// `bits` (`0x3f800000` is 1.0); see {encodeInt8}. Requirements: every element finite
    /// ({CanonicalTensorNonFinite}).
    function encodeFloat32(uint32[] memory shape, uint32[] memory bits) internal pure returns (bytes memory t) {
        uint256 offset;
        (t, offset) = _allocate(FLOAT32, shape, bits.length);
        for (uint256 i; i < bits.length; ++i) {
            // INVARIANT: canonical tensors hold finite floats only.
            if (bits[i] & _EXPONENT_MASK == _EXPONENT_MASK) revert CanonicalTensorNonFinite(i, bits[i]);
            _putLittleEndian(t, offset + 4 * i, bits[i], 4);
        }
    }

    /// @notice The request input carrying `tensor` inline: the envelope `0x00 ‖ tensor`, the
    /// one form every mode takes.
    function toInlineInput(bytes memory tensor) internal pure returns (bytes memory) {
        return bytes.concat(INLINE_INPUT, tensor);
    }

    // ------------------------------------------------------------------ decoding

    /// @notice Reads and checks the header of canonical tensor bytes `t`, and every rule of the
    /// format: the length matches the header exactly and float32 elements are finite.
    /// Reverts, in the TypeScript codec's order, with {CanonicalTensorTooShort},
    /// {CanonicalTensorBadVersion}, {CanonicalTensorUnknownDtype}, {CanonicalTensorBadRank},
    /// {CanonicalTensorZeroDim}, {CanonicalTensorTooLarge}, {CanonicalTensorLengthMismatch} or
    /// {CanonicalTensorNonFinite}.
    function decodeHeader(bytes memory t) internal pure returns (Header memory h) {
        if (t.length < _FIXED_HEADER) revert CanonicalTensorTooShort(t.length, _FIXED_HEADER);
        if (uint8(t[0]) != VERSION) revert CanonicalTensorBadVersion(uint8(t[0]));
        h.dtype = uint8(t[1]);
        uint256 size = elementSize(h.dtype);
        uint256 rank = uint8(t[2]);
        if (rank == 0 || rank > MAX_RANK) revert CanonicalTensorBadRank(rank);
        h.dataOffset = _FIXED_HEADER + 4 * rank;
        if (t.length < h.dataOffset) revert CanonicalTensorTooShort(t.length, h.dataOffset);
        h.shape = new uint32[](rank);
        h.count = 1;
        for (uint256 axis; axis < rank; ++axis) {
            uint32 dim = uint32(_getBigEndian32(t, _FIXED_HEADER + 4 * axis));
            // INVARIANT: every dim is at least 1 and the tensor holds at most 2^24 elements.
            if (dim == 0) revert CanonicalTensorZeroDim(axis);
            h.shape[axis] = dim;
            // unchecked: count <= 2^24 before the product and dim < 2^32, so it stays below 2^56.
            unchecked {
                h.count *= dim;
            }
            if (h.count > MAX_ELEMENTS) revert CanonicalTensorTooLarge(axis, h.count);
        }
        uint256 expected = h.dataOffset + h.count * size;
        if (t.length != expected) revert CanonicalTensorLengthMismatch(t.length, expected);
        if (h.dtype == FLOAT32) {
            for (uint256 i; i < h.count; ++i) {
                uint32 bits = uint32(_getLittleEndian(t, h.dataOffset + 4 * i, 4));
                if (bits & _EXPONENT_MASK == _EXPONENT_MASK) revert CanonicalTensorNonFinite(i, bits);
            }
        }
    }

    /// @notice Element `i` (row-major) of int8 tensor `t` whose header `h` {decodeHeader} read.
    /// Reverts with {CanonicalTensorWrongDtype} or {CanonicalTensorIndexOutOfRange}.
    function int8At(bytes memory t, Header memory h, uint256 i) internal pure returns (int8) {
        return int8(uint8(_element(t, h, i, INT8)));
    }

    /// @notice Element `i` of a uint8 tensor; see {int8At}.
    function uint8At(bytes memory t, Header memory h, uint256 i) internal pure returns (uint8) {
        return uint8(_element(t, h, i, UINT8));
    }

    /// @notice Element `i` of an int32 tensor; see {int8At}.
    function int32At(bytes memory t, Header memory h, uint256 i) internal pure returns (int32) {
        return int32(uint32(_element(t, h, i, INT32)));
    }

    /// @notice Element `i` of an int64 tensor; see {int8At}.
    function int64At(bytes memory t, Header memory h, uint256 i) internal pure returns (int64) {
        return int64(uint64(_element(t, h, i, INT64)));
    }

    /// @notice The IEEE 754 bits of element `i` of a float32 tensor; see {int8At}.
    function float32At(bytes memory t, Header memory h, uint256 i) internal pure returns (uint32) {
        return uint32(_element(t, h, i, FLOAT32));
    }

    /// @notice Element `i` of int8 tensor `t`, header checked first (one read: {int8At} with a
    /// header decoded once is cheaper for several).
    function int8At(bytes memory t, uint256 i) internal pure returns (int8) {
        return int8At(t, decodeHeader(t), i);
    }

    /// @notice Element `i` of int32 tensor `t`, header checked first; see {int8At}.
    function int32At(bytes memory t, uint256 i) internal pure returns (int32) {
        return int32At(t, decodeHeader(t), i);
    }

    /// @notice The shape and elements of int8 tensor `t`. Reverts as {decodeHeader} does, or
    /// with {CanonicalTensorWrongDtype}.
    function decodeInt8(bytes memory t) internal pure returns (uint32[] memory shape, int8[] memory data) {
        Header memory h = _expect(t, INT8);
        data = new int8[](h.count);
        for (uint256 i; i < h.count; ++i) data[i] = int8(uint8(_getLittleEndian(t, h.dataOffset + i, 1)));
        shape = h.shape;
    }

    /// @notice The shape and elements of uint8 tensor `t`; see {decodeInt8}.
    function decodeUint8(bytes memory t) internal pure returns (uint32[] memory shape, uint8[] memory data) {
        Header memory h = _expect(t, UINT8);
        data = new uint8[](h.count);
        for (uint256 i; i < h.count; ++i) data[i] = uint8(_getLittleEndian(t, h.dataOffset + i, 1));
        shape = h.shape;
    }

    /// @notice The shape and elements of int32 tensor `t`; see {decodeInt8}.
    function decodeInt32(bytes memory t) internal pure returns (uint32[] memory shape, int32[] memory data) {
        Header memory h = _expect(t, INT32);
        data = new int32[](h.count);
        for (uint256 i; i < h.count; ++i) data[i] = int32(uint32(_getLittleEndian(t, h.dataOffset + 4 * i, 4)));
        shape = h.shape;
    }

    /// @notice The shape and elements of int64 tensor `t`; see {decodeInt8}.
    function decodeInt64(bytes memory t) internal pure returns (uint32[] memory shape, int64[] memory data) {
        Header memory h = _expect(t, INT64);
        data = new int64[](h.count);
        for (uint256 i; i < h.count; ++i) data[i] = int64(uint64(_getLittleEndian(t, h.dataOffset + 8 * i, 8)));
        shape = h.shape;
    }

    /// @notice The shape and the IEEE 754 bits of the elements of float32 tensor `t`; see
    /// {decodeInt8}.
    function decodeFloat32(bytes memory t) internal pure returns (uint32[] memory shape, uint32[] memory bits) {
        Header memory h = _expect(t, FLOAT32);
        bits = new uint32[](h.count);
        for (uint256 i; i < h.count; ++i) bits[i] = uint32(_getLittleEndian(t, h.dataOffset + 4 * i, 4));
        shape = h.shape;
    }

    /// @notice Index (row-major) of the largest element of tensor `t`, of any dtype: the class
    /// of a `[1, classes]` logits output. Ties go to the lowest index, and float32 `-0` equals
    /// `+0`, as in the oracle's `argmax` (`oracle/model/argmax.ts`). Reverts as {decodeHeader}.
    function argmax(bytes memory t) internal pure returns (uint256 best) {
        Header memory h = decodeHeader(t);
        uint256 size = elementSize(h.dtype);
        uint256 bestKey = _orderKey(h.dtype, _getLittleEndian(t, h.dataOffset, size));
        for (uint256 i = 1; i < h.count; ++i) {
            uint256 key = _orderKey(h.dtype, _getLittleEndian(t, h.dataOffset + i * size, size));
            if (key > bestKey) (best, bestKey) = (i, key);
        }
    }

    // ------------------------------------------------------------------ private helpers

    /// @dev New bytes with the header of a `dtype` tensor of `shape` written, sized for `length`
    /// elements; returns them and the offset of the first element.
    function _allocate(
        uint8 dtype,
        uint32[] memory shape,
        uint256 length
    ) private pure returns (bytes memory t, uint256 dataOffset) {
        uint256 size = elementSize(dtype);
        uint256 rank = shape.length;
        // INVARIANT: only tensors the decoder accepts are encoded.
        if (rank == 0 || rank > MAX_RANK) revert CanonicalTensorBadRank(rank);
        uint256 count = 1;
        for (uint256 axis; axis < rank; ++axis) {
            if (shape[axis] == 0) revert CanonicalTensorZeroDim(axis);
            // unchecked: count <= 2^24 before the product and a dim < 2^32.
            unchecked {
                count *= shape[axis];
            }
            if (count > MAX_ELEMENTS) revert CanonicalTensorTooLarge(axis, count);
        }
        if (length != count) revert CanonicalTensorDataMismatch(length, count);
        dataOffset = _FIXED_HEADER + 4 * rank;
        t = new bytes(dataOffset + count * size);
        t[0] = bytes1(VERSION);
        t[1] = bytes1(dtype);
        t[2] = bytes1(uint8(rank));
        for (uint256 axis; axis < rank; ++axis) {
            uint32 dim = shape[axis];
            for (uint256 k; k < 4; ++k) t[_FIXED_HEADER + 4 * axis + k] = bytes1(uint8(dim >> (8 * (3 - k))));
        }
    }

    /// @dev Decodes `t`'s header and requires dtype `dtype`.
    function _expect(bytes memory t, uint8 dtype) private pure returns (Header memory h) {
        h = decodeHeader(t);
        if (h.dtype != dtype) revert CanonicalTensorWrongDtype(h.dtype, dtype);
    }

    /// @dev The raw little-endian value of element `i` of a `dtype` tensor.
    function _element(bytes memory t, Header memory h, uint256 i, uint8 dtype) private pure returns (uint256) {
        if (h.dtype != dtype) revert CanonicalTensorWrongDtype(h.dtype, dtype);
        if (i >= h.count) revert CanonicalTensorIndexOutOfRange(i, h.count);
        uint256 size = elementSize(dtype);
        return _getLittleEndian(t, h.dataOffset + i * size, size);
    }

    /// @dev A key whose unsigned order is the numeric order of the `dtype` element with raw bits
    /// `raw`: signed integers are biased by 2^63; float32 bits are flipped (all bits of a
    /// negative, the sign bit of a positive), with -0 read as +0.
    function _orderKey(uint8 dtype, uint256 raw) private pure returns (uint256) {
        if (dtype == UINT8) return raw;
        if (dtype == FLOAT32) {
            uint32 bits = uint32(raw);
            if (bits == _SIGN_BIT) bits = 0;
            return bits & _SIGN_BIT != 0 ? uint256(~bits) : uint256(bits | _SIGN_BIT);
        }
        int256 value;
        if (dtype == INT8) value = int8(uint8(raw));
        else if (dtype == INT32) value = int32(uint32(raw));
        else value = int64(uint64(raw));
        // unchecked: |value| < 2^63, so value + 2^63 is in [0, 2^64).
        unchecked {
            return uint256(value + int256(1 << 63));
        }
    }

    /// @dev Reads `size` (1..32) bytes of `t` from `offset` as a little-endian number. The
    /// caller has checked that they are within `t`.
    function _getLittleEndian(bytes memory t, uint256 offset, uint256 size) private pure returns (uint256 value) {
        bytes32 word;
        assembly ("memory-safe") {
            word := mload(add(add(t, 32), offset))
        }
        for (uint256 k; k < size; ++k) value |= uint256(uint8(word[k])) << (8 * k);
    }

    /// @dev Reads 4 bytes of `t` from `offset` as a big-endian number (a dim).
    function _getBigEndian32(bytes memory t, uint256 offset) private pure returns (uint256) {
        bytes32 word;
        assembly ("memory-safe") {
            word := mload(add(add(t, 32), offset))
        }
        return uint256(word) >> 224;
    }

    /// @dev Writes the `size` low bytes of `value` little-endian at `offset` of `t`, which the
    /// caller sized to hold them.
    function _putLittleEndian(bytes memory t, uint256 offset, uint256 value, uint256 size) private pure {
        for (uint256 k; k < size; ++k) {
            assembly ("memory-safe") {
                mstore8(add(add(add(t, 32), offset), k), shr(mul(8, k), value))
            }
        }
    }
}
