// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";
import {IProofVerifier} from "../interfaces/IProofVerifier.sol";
import {IGroth16TensorVerifier} from "./IGroth16TensorVerifier.sol";

/// @title Groth16TensorVerifier
/// @notice The adapter between {IProofVerifier} and a snarkjs Groth16 verifier generated for a
/// Verity circuit. It checks that `input` and `output` are canonical int8 tensors of the
/// circuit's shapes, packs their elements into public signals and calls
/// `verifyProof(a, b, c, signals)`.
///
/// Packing (docs/zk.md#packing): the elements of a tensor in row-major order, each as the
/// unsigned byte `v + 128` (its two's complement byte XOR 0x80), cut into chunks of 31 bytes;
/// a chunk's signal is the big-endian integer of its bytes, so it is below 2^248 and hence below
/// the BN254 scalar field modulus. Signals: the output chunks, then the input chunks.
contract Groth16TensorVerifier is IGroth16TensorVerifier {
    /// @notice The BN254 scalar field modulus: every public signal must be below it.
    uint256 public constant FIELD_MODULUS =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// @notice Bytes per public signal chunk.
    uint256 public constant CHUNK_BYTES = 31;
    /// @notice abi.encode(uint256[2], uint256[2][2], uint256[2]).
    uint256 public constant PROOF_BYTES = 256;

    uint256 private constant _MAX_RANK = 8;
    uint256 private constant _MAX_ELEMENTS = 1 << 24;
    uint8 private constant _FORMAT_VERSION = 0x01;
    uint8 private constant _DTYPE_INT8 = 0x01;
    /// 31 bytes of 0x80, right-aligned: flips the sign bit of every packed byte.
    uint256 private constant _SIGN_BITS = 0x80808080808080808080808080808080808080808080808080808080808080;

    /// `verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[N])`, in literals of at most 32 bytes.
    string private constant _VERIFY_PROOF_PREFIX = "verifyProof(uint256[2],";
    string private constant _VERIFY_PROOF_MIDDLE = "uint256[2][2],uint256[2],";

    address private immutable _groth16;
    bytes4 private immutable _selector;
    bytes32 private immutable _inputHeaderHash;
    uint256 private immutable _inputHeaderLength;
    uint256 private immutable _inputCount;
    bytes32 private immutable _outputHeaderHash;
    uint256 private immutable _outputHeaderLength;
    uint256 private immutable _outputCount;
    uint256 private immutable _signalCount;

    /// @param groth16 The generated verifier, whose `verifyProof` takes exactly
    /// `chunks(output) + chunks(input)` public signals.
    /// @dev Requirements: both shapes valid (see {TensorVerifierShapeInvalid}).
    constructor(address groth16, uint32[] memory inputShape, uint32[] memory outputShape) {
        _groth16 = groth16;
        (bytes memory inputHeader, uint256 inputCount) = _header(inputShape);
        (bytes memory outputHeader, uint256 outputCount) = _header(outputShape);
        _inputHeaderHash = keccak256(inputHeader);
        _inputHeaderLength = inputHeader.length;
        _inputCount = inputCount;
        _outputHeaderHash = keccak256(outputHeader);
        _outputHeaderLength = outputHeader.length;
        _outputCount = outputCount;
        _signalCount = _chunks(inputCount) + _chunks(outputCount);
        _selector = bytes4(
            keccak256(
                bytes(
                    string.concat(
                        _VERIFY_PROOF_PREFIX,
                        _VERIFY_PROOF_MIDDLE,
                        "uint256[",
                        Strings.toString(_signalCount),
                        "])"
                    )
                )
            )
        );
    }

    /// @inheritdoc IGroth16TensorVerifier
    function groth16Verifier() external view returns (address) {
        return _groth16;
    }

    /// @inheritdoc IGroth16TensorVerifier
    function publicSignalCount() external view returns (uint256) {
        return _signalCount;
    }

    /// @inheritdoc IGroth16TensorVerifier
    function publicSignals(bytes calldata input, bytes calldata output) public view returns (uint256[] memory signals) {
        // INVARIANT: only canonical int8 tensors of the registered shapes have signals, so one
        // pair of tensors has exactly one list of signals and vice versa.
        uint256 inputLength = _inputHeaderLength + _inputCount;
        if (!_isCanonical(input, _inputHeaderHash, _inputHeaderLength, inputLength))
            revert TensorVerifierInputInvalid(input.length, inputLength);
        uint256 outputLength = _outputHeaderLength + _outputCount;
        if (!_isCanonical(output, _outputHeaderHash, _outputHeaderLength, outputLength))
            revert TensorVerifierOutputInvalid(output.length, outputLength);
        signals = new uint256[](_signalCount);
        uint256 next = _pack(output[_outputHeaderLength:], signals, 0);
        _pack(input[_inputHeaderLength:], signals, next);
    }

    /// @inheritdoc IProofVerifier
    /// @dev Reverts on malformed tensors or proof length; returns false for a proof that does
    /// not verify (including points off the curve: the generated verifier returns false).
    function verify(bytes calldata input, bytes calldata output, bytes calldata proof) external view returns (bool) {
        if (proof.length != PROOF_BYTES) revert TensorVerifierProofLengthInvalid(proof.length);
        uint256[] memory signals = publicSignals(input, output);
        for (uint256 i = 0; i < signals.length; ++i) {
            // INVARIANT: public signals are canonical field elements (always true for 31-byte
            // chunks; kept so that the adapter never relies on the verifier for it).
            if (signals[i] >= FIELD_MODULUS) return false;
        }
        (bool success, bytes memory result) = _groth16.staticcall(
            abi.encodePacked(_selector, proof, abi.encodePacked(signals))
        );
        return success && result.length == 32 && abi.decode(result, (bool));
    }

    /// True if `tensor` has the expected length and header.
    function _isCanonical(
        bytes calldata tensor,
        bytes32 headerHash,
        uint256 headerLength,
        uint256 length
    ) private pure returns (bool) {
        return tensor.length == length && keccak256(tensor[:headerLength]) == headerHash;
    }

    /// Packs `body` (int8 elements) into `signals[start:]`; returns the next free index.
    function _pack(bytes calldata body, uint256[] memory signals, uint256 start) private pure returns (uint256 next) {
        next = start;
        for (uint256 offset = 0; offset < body.length; offset += CHUNK_BYTES) {
            uint256 length = body.length - offset < CHUNK_BYTES ? body.length - offset : CHUNK_BYTES;
            // The chunk's bytes as a big-endian integer (bytes32 of a shorter slice is
            // left-aligned and zero-padded), then v + 128 for each byte: XOR 0x80.
            uint256 word = uint256(bytes32(body[offset:offset + length])) >> (8 * (32 - length));
            signals[next] = word ^ (_SIGN_BITS >> (8 * (CHUNK_BYTES - length)));
            ++next;
        }
    }

    /// The canonical header of an int8 tensor of `shape` and its element count.
    function _header(uint32[] memory shape) private pure returns (bytes memory header, uint256 count) {
        if (shape.length == 0 || shape.length > _MAX_RANK) revert TensorVerifierShapeInvalid();
        header = abi.encodePacked(_FORMAT_VERSION, _DTYPE_INT8, uint8(shape.length));
        count = 1;
        for (uint256 i = 0; i < shape.length; ++i) {
            if (shape[i] == 0) revert TensorVerifierShapeInvalid();
            count *= shape[i];
            if (count > _MAX_ELEMENTS) revert TensorVerifierShapeInvalid();
            header = abi.encodePacked(header, shape[i]);
        }
    }

    function _chunks(uint256 count) private pure returns (uint256) {
        return (count + CHUNK_BYTES - 1) / CHUNK_BYTES;
    }
}
