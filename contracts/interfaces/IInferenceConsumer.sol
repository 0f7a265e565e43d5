// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IInferenceConsumer
/// @notice What a contract implements to be called back by the {InferenceMarket} when its
/// request is finalized.
/// @dev Anyone may make a request naming any contract as its callback, with any input and any
/// model, so a call from the market proves only that *some* request settled. An implementation
/// must check `msg.sender == market` and that `requestId` is one of its own requests (recorded
/// when it made them), or it will act on results of inputs and models an attacker chose.
interface IInferenceConsumer {
    /// @notice Called by the market once, with the gas limit the requester chose, when request
    /// `requestId` is Finalized. A revert here does not undo settlement. Check that the caller is
    /// the market and that `requestId` is a request you made.
    function onInferenceResult(uint256 requestId, bytes calldata output) external;
}
