// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {TextFeatures} from "../examples/TextFeatures.sol";

/// @notice Test-only: exposes {TextFeatures} to the featuriser's tests.
contract TextFeaturesHarness {
    function tensorOf(bytes calldata text) external pure returns (bytes memory) {
        return TextFeatures.tensorOf(text);
    }

    function countsOf(bytes calldata text) external pure returns (uint256[] memory) {
        return TextFeatures.countsOf(text);
    }

    /// @notice The quantised value of every count in [from, to), one byte each.
    function quantiseRange(uint256 from, uint256 to) external pure returns (bytes memory values) {
        values = new bytes(to - from);
        for (uint256 c = from; c < to; ++c) values[c - from] = bytes1(uint8(TextFeatures.quantise(c)));
    }
}
