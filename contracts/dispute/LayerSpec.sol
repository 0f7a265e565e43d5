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
///
/// A decoder's layers (docs/numeric-semantics.md, "Sequence models") are those of ONE pass; the
/// layout has one leaf per layer of a pass, the same at every pass. Their `params`:
/// - embed: `[rows, width, 0, bos]` of the pass's token (bos the token of an empty prompt),
///   `[rows, width, 1]` of its position (`inputA` -1);
/// - lut: `[elements]`;
/// - centre, normalize: `[D]` (the row width; centre's output is int32, `elementSize` 4;
///   normalize's `inputA` is its centre and `activation` its requant's);
/// - qk: `[H, dh, C]` (`inputA` the query, `inputB` the key, read at passes `u ≤ t`);
/// - rowmax: `[H, C]`;
/// - softmax: `[H, C]` (`inputA` the scores, `inputB` their rowmax);
/// - av: `[H, dh, C]` (`inputA` the probabilities, `inputB` the value, read at passes `u ≤ t`).
///
/// `weightsOffset` is the byte offset in the weights blob of `W` (dense, conv2d) or of `ma`
/// (add), of the table (embed, lut; softmax's uint32 exp table), of `gamma` (normalize, whose
/// `beta`, `epsilon`, `m`, `s` follow as commitments.ts lays them out) or of the multiplier (qk,
/// av: int32 `m` then the shift byte); 0 for layers without parameters (centre, rowmax).
library LayerSpec {
    /// @notice Layer kinds, as docs/numeric-semantics.md lists them.
    uint8 internal constant DENSE = 0;
    uint8 internal constant CONV2D = 1;
    uint8 internal constant RELU = 2;
    uint8 internal constant ADD = 3;
    uint8 internal constant MAXPOOL2D = 4;
    uint8 internal constant RESHAPE = 5;
    uint8 internal constant ARGMAX = 6;
    /// @notice Decoder kinds (one pass of a sequence model).
    uint8 internal constant EMBED = 7;
    uint8 internal constant LUT = 8;
    uint8 internal constant CENTRE = 9;
    uint8 internal constant NORMALIZE = 10;
    uint8 internal constant QK = 11;
    uint8 internal constant ROWMAX = 12;
    uint8 internal constant SOFTMAX = 13;
    uint8 internal constant AV = 14;

    /// @notice The model input, as a layer reference.
    int32 internal constant MODEL_INPUT = -1;

    struct Spec {
        uint8 kind;
        /// The layer read (the first one for add); -1 is the model input.
        int32 inputA;
        /// The second layer read by add, qk (key), softmax (rowmax) and av (value); -1 (ignored)
        /// for the other kinds.
        int32 inputB;
        /// Elements of the layer's output.
        uint32 outElements;
        /// Bytes per output element: 1 (int8) or 4 (int32: argmax, centre).
        uint8 elementSize;
        /// 0 none, 1 relu (dense, conv2d, add, normalize).
        uint8 activation;
        uint32 weightsOffset;
        uint32[] params;
    }

    function decode(bytes calldata encoded) internal pure returns (Spec memory) {
        return abi.decode(encoded, (Spec));
    }
}
