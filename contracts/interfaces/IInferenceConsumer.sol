// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IInferenceConsumer
/// @notice What a contract implements to be called back by the {InferenceMarket} when its
/// request is finalized.
interface IInferenceConsumer {
    /// @notice Called by the market once, with the gas limit the requester chose, when request
    /// `requestId` is Finalized. A revert here does not undo settlement.
    function onInferenceResult(uint256 requestId, bytes calldata output) external;
}
