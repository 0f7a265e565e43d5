// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AgentDecision} from "../agents/AgentDecision.sol";

/// @notice Test-only: {AgentDecision-decide} on calldata, with the gas it took.
contract AgentDecisionHarness {
    function decide(
        bytes calldata output,
        uint8 kind,
        uint256 index,
        int256 threshold
    ) external view returns (bool ok, uint256 decision, uint256 gasUsed) {
        uint256 before = gasleft();
        (ok, decision) = AgentDecision.decide(output, kind, index, threshold);
        gasUsed = before - gasleft();
    }
}
