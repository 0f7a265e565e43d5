// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IProofVerifier} from "../interfaces/IProofVerifier.sol";

/// @notice Test-only {IProofVerifier} that accepts exactly the input, output and proof bytes the
/// test set with {expect} (and nothing else), so a test sees which bytes the market passed on.
contract ExpectingProofVerifier is IProofVerifier {
    bytes32 public inputHash;
    bytes32 public outputHash;
    bytes32 public proofHash;

    function setExpected(bytes calldata input, bytes calldata output, bytes calldata proof) external {
        inputHash = keccak256(input);
        outputHash = keccak256(output);
        proofHash = keccak256(proof);
    }

    /// @inheritdoc IProofVerifier
    function verify(bytes calldata input, bytes calldata output, bytes calldata proof) external view returns (bool) {
        return keccak256(input) == inputHash && keccak256(output) == outputHash && keccak256(proof) == proofHash;
    }
}
