// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IProofVerifier} from "../interfaces/IProofVerifier.sol";

/// @title IGroth16TensorVerifier
/// @notice An {IProofVerifier} for a circuit made by `verity zk build`: int8 input and output
/// tensors of fixed shapes, packed into the public signals of a generated Groth16 verifier
/// (docs/zk.md#packing).
interface IGroth16TensorVerifier is IProofVerifier {
    /// @notice The shape is empty, longer than 8, has a zero dimension or more than 2^24 elements.
    error TensorVerifierShapeInvalid();
    /// @notice `input` is not the canonical bytes of an int8 tensor of the input shape.
    error TensorVerifierInputInvalid(uint256 length, uint256 expectedLength);
    /// @notice `output` is not the canonical bytes of an int8 tensor of the output shape.
    error TensorVerifierOutputInvalid(uint256 length, uint256 expectedLength);
    /// @notice `proof` is not `abi.encode(uint256[2] a, uint256[2][2] b, uint256[2] c)`.
    error TensorVerifierProofLengthInvalid(uint256 length);

    /// @notice The generated Groth16 verifier this adapter calls; its verifying key identifies
    /// the model (the weights are constants of the circuit).
    function groth16Verifier() external view returns (address);

    /// @notice The number of public signals: output chunks, then input chunks.
    function publicSignalCount() external view returns (uint256);

    /// @notice The public signals the proof must match for these canonical tensors.
    /// @dev Reverts like {verify} on malformed tensors.
    function publicSignals(bytes calldata input, bytes calldata output) external view returns (uint256[] memory);
}
