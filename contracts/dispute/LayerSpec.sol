// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title LayerSpec
/// @notice What the dispute game knows of one layer of an `Optimistic` model, committed by the
/// model's `layoutRoot`: the chunked Merkle tree (as `ChunkMerkle`) whose chunk `i` is
/// `abi.encode(Spec)` of layer `i` (one leaf per layer, whatever its length). The off-chain half
/// is `oracle/dispute/layout.ts`.
///
/// `params` by kind (dims of the input are those of the layer read):
/// - dense: `[inFeatures, outFeatures]`;
/// - conv2d: `[inChannels, height, width, outChannels, outHeight, outWidth, kh, kw, sh, sw, top, left]`;
/// - maxpool2d: `[channels, height, width, outHeight, outWidth, kh, kw, sh, sw]`;
/// - argmax: `[F]` (the last axis of its input);
/// - relu, add, reshape: `[]`.
/// `weightsOffset` is the byte offset in the weights blob of `W` (dense, conv2d) or of `ma`
/// (add), 0 for layers without parameters.
library LayerSpec {
    /// @notice Layer kinds, as docs/numeric-semantics.md lists them.
    uint8 internal constant DENSE = 0;
    uint8 internal constant CONV2D = 1;
    uint8 internal constant RELU = 2;
    uint8 internal constant ADD = 3;
    uint8 internal constant MAXPOOL2D = 4;
    uint8 internal constant RESHAPE = 5;
    uint8 internal constant ARGMAX = 6;

    /// @notice The model input, as a layer reference.
    int32 internal constant MODEL_INPUT = -1;

    struct Spec {
        uint8 kind;
        /// The layer read (the first one for add); -1 is the model input.
        int32 inputA;
        /// The second layer read by add; -1 (ignored) for the other kinds.
        int32 inputB;
        /// Elements of the layer's output.
        uint32 outElements;
        /// Bytes per output element: 1 (int8) or 4 (int32, argmax).
        uint8 elementSize;
        /// 0 none, 1 relu (dense, conv2d, add).
        uint8 activation;
        uint32 weightsOffset;
        uint32[] params;
    }

    function decode(bytes calldata encoded) internal pure returns (Spec memory) {
        return abi.decode(encoded, (Spec));
    }
}
