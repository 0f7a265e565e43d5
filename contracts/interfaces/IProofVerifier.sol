// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IProofVerifier
/// @notice What `ModelRegistry` holds for a `Zk` model: checks that `proof` shows the
/// registered model maps `input` to `output`. One adapter per model wraps the generated Groth16
/// verifier and turns the canonical tensor bytes into its public signals.
interface IProofVerifier {
    /// @notice True if `proof` is a valid proof that the model of this verifier, run on the
    /// canonical tensor bytes `input`, gives the canonical tensor bytes `output`.
    /// @dev Must return false (not revert) for a proof that does not verify; it may revert for
    /// malformed bytes. Must reject any public signal at or above the field modulus.
    function verify(bytes calldata input, bytes calldata output, bytes calldata proof) external view returns (bool);
}
