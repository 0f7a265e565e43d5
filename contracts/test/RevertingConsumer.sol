// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IInferenceConsumer} from "../interfaces/IInferenceConsumer.sol";
import {IInferenceMarket} from "../interfaces/IInferenceMarket.sol";

/// @notice Test-only consumer whose callback always reverts and which cannot take ETH (so a
/// withdrawal to it fails).
contract RevertingConsumer is IInferenceConsumer {
    error Nope(uint256 requestId);

    function request(
        IInferenceMarket market,
        uint256 modelId,
        bytes calldata input,
        uint64 deadline
    ) external payable returns (uint256) {
        return market.requestInference{value: msg.value}(modelId, input, msg.value, deadline, address(this), 100_000);
    }

    function withdraw(IInferenceMarket market) external {
        market.withdraw(address(0));
    }

    function onInferenceResult(uint256 requestId, bytes calldata) external pure {
        revert Nope(requestId);
    }
}
