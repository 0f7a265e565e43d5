// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IOneStepProver
/// @notice The last step of the dispute game: recomputes one output element of one layer from
/// data proven against agreed commitments (the trace roots of the layers it reads and the
/// model's `weightsRoot`), so the game can compare it with the defender's claim. An element
/// whose reduction is too long for one step (the dot product of a dense or conv2d element, the
/// row of an argmax, the window of a maxpool2d) goes through the game's reduction phase
/// instead, over its prefix states `S_0 = 0 … S_n`:
/// - dense, conv2d: `S_f` is the sum of the first `f` products (docs/numeric-semantics.md);
///   finishing is `requant(b + S_n, m, s, act)`;
/// - argmax: `S_f = (best + 128) · 2^32 + index` of the first maximum among the row's first `f`
///   elements (`S_0 = 0`: index 0, best −128); finishing gives `index` as an int32;
/// - maxpool2d: `S_f = best + 128`, the largest of the window's first `f` elements in row-major
///   window order (`S_0 = 0`: best −128); finishing gives `best` as an int8.
/// {finishSum} checks the defender's claimed `S_n` against its element and {stepSum} recomputes
/// one bounded range `S_from → S_to`.
interface IOneStepProver {
    /// @notice The element bytes (1 for int8, 4 little-endian for int32) of output element
    /// `element` of the layer whose `LayerSpec` encoding is `spec`, computed from `proof`: chunks
    /// of the inputs (`rootA`, `rootB`) and of the weights blob (`weightsRoot`) with their Merkle
    /// proofs. Reverts if the proof is incomplete or does not verify, or if the element's
    /// reduction is too long for one step (use the reduction phase).
    function computeElement(
        bytes calldata spec,
        bytes32 rootA,
        bytes32 rootB,
        bytes32 weightsRoot,
        uint256 element,
        bytes calldata proof
    ) external view returns (bytes memory value);

    /// @notice The length `n` of element `element`'s reduction (dense, conv2d, argmax or
    /// maxpool2d; reverts for other kinds) and the longest range `[a, b)` one {stepSum} may
    /// check, chosen so that every step stays under a fixed gas ceiling.
    function sumLayout(bytes calldata spec, uint256 element) external view returns (uint256 fanIn, uint256 maxRange);

    /// @notice The element bytes finished from the final state `accumulated` of element
    /// `element`'s reduction; for dense and conv2d its channel's bias, multiplier and shift
    /// are proven by `proof` against `weightsRoot` (argmax and maxpool2d read nothing).
    function finishSum(
        bytes calldata spec,
        bytes32 weightsRoot,
        uint256 element,
        int256 accumulated,
        bytes calldata proof
    ) external view returns (bytes memory value);

    /// @notice The state `S_to` of element `element`'s reduction from the state `S_from =
    /// sumFrom`, from chunks of the input (`rootA`) and of the weights blob proven by `proof`.
    /// Reverts unless `from ≤ to ≤ n` and `to − from ≤ maxRange`.
    function stepSum(
        bytes calldata spec,
        bytes32 rootA,
        bytes32 weightsRoot,
        uint256 element,
        uint256 from,
        uint256 to,
        int256 sumFrom,
        bytes calldata proof
    ) external view returns (int256 sumTo);
}
