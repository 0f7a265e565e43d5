// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IOneStepProver
/// @notice The last step of the dispute game: recomputes one output element of one layer from
/// data proven against agreed commitments (the trace roots of the layers it reads and the
/// model's `weightsRoot`), so the game can compare it with the defender's claim. For dense and
/// conv2d elements of any fan-in, the game's partial-sum phase instead checks the final
/// requantisation of a claimed dot product ({finishSum}) and one bounded range of it
/// ({partialSum}).
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

    /// @notice The fan-in `n` of element `element`'s dot product (dense or conv2d; reverts for
    /// other kinds) and the longest prefix-sum range `[a, b)` one {partialSum} step may check.
    function sumLayout(bytes calldata spec, uint256 element) external view returns (uint256 fanIn, uint256 maxRange);

    /// @notice The element bytes of `requant(b + accumulated, m, s, act)` for element `element`,
    /// its channel's bias, multiplier and shift proven by `proof` against `weightsRoot`.
    function finishSum(
        bytes calldata spec,
        bytes32 weightsRoot,
        uint256 element,
        int256 accumulated,
        bytes calldata proof
    ) external view returns (bytes memory value);

    /// @notice `S_to − S_from` of element `element`'s dot product (prefix sums in fan-in order,
    /// docs/numeric-semantics.md), from chunks of the input (`rootA`) and of the weights blob
    /// proven by `proof`. Reverts unless `from ≤ to ≤ fanIn` and `to − from ≤ maxRange`.
    function partialSum(
        bytes calldata spec,
        bytes32 rootA,
        bytes32 weightsRoot,
        uint256 element,
        uint256 from,
        uint256 to,
        bytes calldata proof
    ) external view returns (int256 sum);
}
