// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IProofVerifier} from "../interfaces/IProofVerifier.sol";

/// @notice Test-only {IProofVerifier} that answers what the test sets, for any proof.
contract ProofVerifierStub is IProofVerifier {
    bool public answer;

    function setAnswer(bool answer_) external {
        answer = answer_;
    }

    /// @inheritdoc IProofVerifier
    function verify(bytes calldata, bytes calldata, bytes calldata) external view returns (bool) {
        return answer;
    }
}
