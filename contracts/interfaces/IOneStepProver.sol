// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IOneStepProver
/// @notice The last step of the dispute game: recomputes one output element of one layer from
/// data proven against agreed commitments (the trace roots of the layers it reads and the
/// model's `weightsRoot`), so the game can compare it with the defender's claim.
interface IOneStepProver {
    /// @notice The element bytes (1 for int8, 4 little-endian for int32) of output element
    /// `element` of the layer whose `LayerSpec` encoding is `spec`, computed from `proof`: chunks
    /// of the inputs (`rootA`, `rootB`) and of the weights blob (`weightsRoot`) with their Merkle
    /// proofs. Reverts if the proof is incomplete or does not verify.
    function computeElement(
        bytes calldata spec,
        bytes32 rootA,
        bytes32 rootB,
        bytes32 weightsRoot,
        uint256 element,
        bytes calldata proof
    ) external view returns (bytes memory value);
}
