// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IInferenceMarket} from "../interfaces/IInferenceMarket.sol";
import {ExampleClassifierConsumer} from "../examples/ExampleClassifierConsumer.sol";

/// @notice Test-only: the example consumer, callback unchanged, with a request that names its
/// own `callbackGasLimit`, so a test can settle it with exactly the gas the SDK's
/// `estimateCallbackGas` measured, and one less.
contract ExampleConsumerGasHarness is ExampleClassifierConsumer {
    constructor(IInferenceMarket market_, uint256 modelId_) ExampleClassifierConsumer(market_, modelId_) {}

    function askWithGas(
        bytes calldata input,
        uint64 deadline,
        uint32 callbackGasLimit
    ) external payable returns (uint256 requestId) {
        requestId = _requestInference(modelId, input, msg.value, deadline, callbackGasLimit, msg.value);
    }
}
