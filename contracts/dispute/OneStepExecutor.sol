// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title OneStepExecutor
/// @notice The Solidity engine of `docs/numeric-semantics.md`: computes ONE output element of one
/// VQM layer, bit for bit as the TypeScript reference executor
/// (`oracle/model/vqm/reference-executor.ts`) does, for the dispute game's last step. Every
/// layer kind is covered: `dense` (element `j`), `conv2d` (element `(o, r, c)`), `relu`, `add`,
/// `maxpool2d`, `reshape` (an index identity) and `argmax` (first index of the largest element of
/// one row of the last axis).
///
/// Inputs are plain bytes the game has proven against Merkle roots (`ChunkMerkle`): slices of the
/// previous layer's output (int8, one byte each) and slices of the weights blob, decoded here
/// with {readInt8}, {readInt32LE}, {readUint8}, {channelParams} and {addParams}. A slice is a
/// byte string together with the absolute offset of its first byte (`sliceStart`) in the tensor
/// or blob it was cut from, so the game can pass concatenated proven chunks as they are
/// (`sliceStart = firstChunk * CHUNK_SIZE`); a read outside the slice reverts with
/// {OneStepSliceOutOfRange}.
///
/// ## Partial sums: bounded gas for any fan-in
///
/// A dense or conv2d element with fan-in `n` costs O(n) multiply-adds, so one step cannot
/// recompute it whatever the layer size. The game instead bisects over claimed **prefix sums**
/// of the element's dot product, in fan-in order:
///
/// - `S_0 = 0`, `S_f = Σ_{i < f} x_i · w_i` for `f = 1 … n` (dense: `x_i = x[i]`,
///   `w_i = W[j][i]`; conv2d: fan-in index `f = (i · kh + u) · kw + v`, `x_f` the input element
///   that `W[o][i][u][v]` meets, 0 in the padding), so the element is
///   `y = requant(b + S_n, m, s, act)`.
/// - The defender claims `S_n` and the output `y`; whoever disagrees with the final requant
///   ({finishDense} / {finishConv2d}: O(1)) loses there. Otherwise the parties bisect `[0, n]`
///   on claimed `S_mid` until a range `[a, b)` with `S_a` agreed and `S_b` disputed has
///   `b − a ≤ MAX_STEP`; the one-step then checks `S_b − S_a == partialDot(x[a:b], W[j][a:b])`
///   ({partialDot}, or {partialConv2d} for a conv window), O(MAX_STEP).
/// - The honest prefix sums are bounded by bound 1 of the spec: `|S_f| ≤ 128 · Σ|W[j][·]| < 2^31`,
///   so a claim with `|S_f| ≥ ACCUMULATOR_BOUND` is false on its face and the game may reject it
///   without a step.
///
/// Gas (library execution, arguments in memory; `OneStepExecutor.t.sol` records it in
/// `snapshots/OneStepExecutor.json`): {partialDot} costs about 22 gas per multiply-add (eight
/// products per MUL), so a dense range of `MAX_STEP = 16384` costs about 0.37M gas; with its two
/// 16 KiB slices as calldata (16–40 gas a byte under EIP-7623) and their chunk proofs a step
/// stays near 2M, well under 5,000,000. A conv2d range is dominated by per-kernel-row overhead
/// (about 1,400 gas per element for 3-wide kernel rows with padding), hence
/// `MAX_CONV_STEP = 1024` (about 1.5M gas).
///
/// `argmax` rows bisect the same way on a running state `(index, value)` of the first maximum so
/// far: `T_0 = (0, −128)`, `T_b = argmaxStep(T_a, x[a:b])`, the output is `T_F`'s index.
///
/// @dev Arithmetic is int256 throughout. Integer bounds of the spec (`m < 2^31`, `s ≤ 62`) are
/// checked where parameters enter ({requant}, {add}); accumulators are accepted up to
/// `|acc| < 2^223`, where `acc · m + 2^(s−1)` cannot overflow int256.
library OneStepExecutor {
    /// @notice Most fan-in elements of a dense prefix-sum range checked in one step.
    uint256 internal constant MAX_STEP = 16384;

    /// @notice Most fan-in elements of a conv2d prefix-sum range checked in one step.
    uint256 internal constant MAX_CONV_STEP = 1024;

    /// @notice Largest requantisation shift (`s ∈ [0, 62]`).
    uint256 internal constant MAX_SHIFT = 62;

    /// @notice Multipliers lie in `[0, 2^31)`.
    int256 internal constant MULTIPLIER_LIMIT = 2 ** 31;

    /// @notice Every honest accumulator and prefix sum satisfies `|S| < ACCUMULATOR_BOUND`
    /// (bound 1 of the spec).
    int256 internal constant ACCUMULATOR_BOUND = 2 ** 31;

    /// @dev Accumulators given to {requant} must satisfy `|acc| < _REQUANT_INPUT_LIMIT`:
    /// `2^223 · (2^31 − 1) + 2^61 < 2^255`, so the product and rounding term fit an int256.
    int256 private constant _REQUANT_INPUT_LIMIT = 2 ** 223;

    /// @notice The activation fused into a dense, conv2d or add layer: it sets the clamp's lower
    /// end (`lo = 0` for `Relu`, else −128).
    enum Activation {
        None,
        Relu
    }

    /// @notice Where a dense or conv2d layer's parameters sit in the weights blob
    /// (`weightsLayout` of `oracle/model/vqm/commitments.ts`): `W` (int8 `[rows][rowLength]`) at
    /// `weightsOffset`, then `b` (int32 LE per row), `m` (int32 LE per row), `s` (one byte per
    /// row), contiguous.
    struct WeightedLayerLayout {
        uint256 weightsOffset;
        /// Output channels: dense `outFeatures`, conv2d `outChannels`.
        uint256 rows;
        /// Weights per output channel: dense `inFeatures`, conv2d `inChannels · kh · kw`.
        uint256 rowLength;
    }

    /// @notice A conv2d layer's input shape `[1, inChannels, height, width]`, kernel, stride and
    /// the top/left padding (bottom/right padding only changes the output shape).
    struct Conv2dGeometry {
        uint256 inChannels;
        uint256 height;
        uint256 width;
        uint256 kernelH;
        uint256 kernelW;
        uint256 strideH;
        uint256 strideW;
        uint256 padTop;
        uint256 padLeft;
    }

    /// @notice A maxpool2d layer's input `[1, channels, height, width]`, kernel and stride (no
    /// padding).
    struct Pool2dGeometry {
        uint256 channels;
        uint256 height;
        uint256 width;
        uint256 kernelH;
        uint256 kernelW;
        uint256 strideH;
        uint256 strideW;
    }

    /// @dev Padded coordinates of a conv2d window's top-left corner and where the slices start.
    struct ConvCursor {
        uint256 row0;
        uint256 col0;
        uint256 xStart;
        /// The fan-in index of the weights range's first byte.
        uint256 from;
    }

    /// @notice Bytes `[offset, offset + length)` are not all inside the slice that holds
    /// `[sliceStart, sliceStart + sliceLength)`.
    error OneStepSliceOutOfRange(uint256 offset, uint256 length, uint256 sliceStart, uint256 sliceLength);

    /// @notice A requantisation multiplier outside `[0, 2^31)` or a shift above 62.
    error OneStepInvalidRequant(int256 multiplier, uint256 shift);

    /// @notice An accumulator too large for {requant} (honest ones are below 2^31).
    error OneStepAccumulatorOutOfRange(int256 accumulator);

    /// @notice A fan-in range `[from, to)` that is empty-reversed or ends beyond the fan-in.
    error OneStepRangeOutOfBounds(uint256 from, uint256 to, uint256 fanIn);

    /// @notice A range longer than one step may check.
    error OneStepRangeTooLong(uint256 length, uint256 maxLength);

    /// @notice A kernel or stride of 0.
    error OneStepInvalidGeometry();

    /// @notice `argmax` of an empty row.
    error OneStepEmptyRow();

    // -----------------------------------------------------------------------------------------
    // Arithmetic primitives

    /// @notice `roundShift(v, s)`: `v` when `s = 0`, else `floor((v + 2^(s−1)) / 2^s)`, i.e.
    /// `v / 2^s` rounded to nearest with ties toward +∞ (`roundShift(5, 1) = 3`,
    /// `roundShift(-5, 1) = -2`, `roundShift(-6, 2) = -1`).
    ///
    /// Requirements:
    ///
    /// - `s ≤ 62`; `v + 2^(s−1)` does not overflow int256.
    function roundShift(int256 v, uint256 s) internal pure returns (int256) {
        if (s > MAX_SHIFT) revert OneStepInvalidRequant(0, s);
        if (s == 0) return v;
        // Checked addition: reverts only for v within 2^61 of type(int256).max.
        return (v + (int256(1) << (s - 1))) >> s;
    }

    /// @notice `clamp(v, lo, 127)` with `lo = 0` for {Activation.Relu}, else −128: saturation.
    function clamp(int256 v, Activation act) internal pure returns (int8) {
        int256 lo = act == Activation.Relu ? int256(0) : int256(-128);
        if (v < lo) return int8(lo);
        if (v > 127) return 127;
        // lo <= v <= 127: fits int8.
        return int8(v);
    }

    /// @notice `requant(acc, m, s, act) = clamp(roundShift(acc · m, s), lo, 127)`.
    ///
    /// Requirements:
    ///
    /// - `0 ≤ m < 2^31`, `s ≤ 62`;
    /// - `|acc| < 2^223` (honest accumulators are below 2^31).
    function requant(int256 acc, int256 m, uint256 s, Activation act) internal pure returns (int8) {
        // INVARIANT: the spec's parameter ranges, which the int256 bound below relies on.
        if (m < 0 || m >= MULTIPLIER_LIMIT || s > MAX_SHIFT) revert OneStepInvalidRequant(m, s);
        // INVARIANT: acc · m + 2^(s−1) fits an int256.
        if (acc >= _REQUANT_INPUT_LIMIT || acc <= -_REQUANT_INPUT_LIMIT) revert OneStepAccumulatorOutOfRange(acc);
        unchecked {
            // |acc · m| < 2^223 · 2^31 = 2^254 and 2^(s−1) ≤ 2^61: the sum stays below 2^255.
            return clamp(_roundShift(acc * m, s), act);
        }
    }

    /// @dev {roundShift} without checks, for `s ≤ 62` and `|v| < 2^254`.
    function _roundShift(int256 v, uint256 s) private pure returns (int256) {
        if (s == 0) return v;
        unchecked {
            // `>>` on a signed integer is an arithmetic shift: Solidity defines `x >> y` for
            // signed x as `x / 2**y` rounded toward −∞ (SAR), which is exactly the spec's
            // floor division by 2^s. (`/` would truncate toward zero and round negative ties the
            // wrong way.) No overflow: |v| < 2^254 and 2^(s−1) ≤ 2^61.
            return (v + (int256(1) << (s - 1))) >> s;
        }
    }

    // -----------------------------------------------------------------------------------------
    // Weights blob and slices

    /// @notice The int8 at absolute offset `offset` of a tensor or blob, read from `slice` whose
    /// first byte sits at `sliceStart`.
    function readInt8(bytes memory slice, uint256 sliceStart, uint256 offset) internal pure returns (int8 value) {
        uint256 at = _position(slice, sliceStart, offset, 1);
        assembly ("memory-safe") {
            value := signextend(0, byte(0, mload(add(add(slice, 0x20), at))))
        }
    }

    /// @notice The byte at absolute offset `offset`, unsigned (shifts).
    function readUint8(bytes memory slice, uint256 sliceStart, uint256 offset) internal pure returns (uint8 value) {
        uint256 at = _position(slice, sliceStart, offset, 1);
        assembly ("memory-safe") {
            value := byte(0, mload(add(add(slice, 0x20), at)))
        }
    }

    /// @notice The little-endian int32 at absolute offset `offset` (biases, multipliers).
    function readInt32LE(bytes memory slice, uint256 sliceStart, uint256 offset) internal pure returns (int32 value) {
        uint256 at = _position(slice, sliceStart, offset, 4);
        assembly ("memory-safe") {
            let word := mload(add(add(slice, 0x20), at))
            // The four bytes are the word's most significant ones: byte 0 is the least
            // significant of the little-endian value.
            let u := or(or(byte(0, word), shl(8, byte(1, word))), or(shl(16, byte(2, word)), shl(24, byte(3, word))))
            value := signextend(3, u)
        }
    }

    /// @notice Absolute blob offsets of output channel `channel`'s parameters: its weights row,
    /// bias, multiplier and shift.
    function channelOffsets(
        WeightedLayerLayout memory layout,
        uint256 channel
    ) internal pure returns (uint256 row, uint256 bias, uint256 multiplier, uint256 shift) {
        uint256 biasStart = layout.weightsOffset + layout.rows * layout.rowLength;
        row = layout.weightsOffset + channel * layout.rowLength;
        bias = biasStart + 4 * channel;
        multiplier = biasStart + 4 * layout.rows + 4 * channel;
        shift = biasStart + 8 * layout.rows + channel;
    }

    /// @notice Bias, multiplier and shift of output channel `channel`, read from a blob slice
    /// starting at `sliceStart` that holds all three.
    function channelParams(
        bytes memory slice,
        uint256 sliceStart,
        WeightedLayerLayout memory layout,
        uint256 channel
    ) internal pure returns (int32 bias, int32 multiplier, uint8 shift) {
        (, uint256 b, uint256 m, uint256 s) = channelOffsets(layout, channel);
        bias = readInt32LE(slice, sliceStart, b);
        multiplier = readInt32LE(slice, sliceStart, m);
        shift = readUint8(slice, sliceStart, s);
    }

    /// @notice An `add` layer's `ma`, `mb` (int32 LE) and `s` (one byte), 9 bytes at `offset`.
    function addParams(
        bytes memory slice,
        uint256 sliceStart,
        uint256 offset
    ) internal pure returns (int32 multiplierA, int32 multiplierB, uint8 shift) {
        multiplierA = readInt32LE(slice, sliceStart, offset);
        multiplierB = readInt32LE(slice, sliceStart, offset + 4);
        shift = readUint8(slice, sliceStart, offset + 8);
    }

    /// @dev Position in `slice` of absolute offset `offset`, after checking that
    /// `[offset, offset + length)` lies inside it.
    function _position(
        bytes memory slice,
        uint256 sliceStart,
        uint256 offset,
        uint256 length
    ) private pure returns (uint256) {
        // INVARIANT: reads stay inside the proven bytes (written so that nothing can overflow).
        if (offset < sliceStart || offset - sliceStart > slice.length || length > slice.length - (offset - sliceStart))
            revert OneStepSliceOutOfRange(offset, length, sliceStart, slice.length);
        return offset - sliceStart;
    }

    // -----------------------------------------------------------------------------------------
    // dense (and the dot products of every weighted layer)

    /// @notice `Σ_{k < count} x[xFrom + k] · w[wFrom + k]` over int8 bytes: one prefix-sum range
    /// of a dense element (`S_b − S_a` for `count = b − a`). O(count); the game bounds `count` by
    /// {MAX_STEP} ({checkStep}).
    ///
    /// Requirements:
    ///
    /// - both ranges lie inside their byte strings.
    // solhint-disable-next-line function-max-lines
    function partialDot(
        bytes memory x,
        uint256 xFrom,
        bytes memory w,
        uint256 wFrom,
        uint256 count
    ) internal pure returns (int256 sum) {
        _position(x, 0, xFrom, count);
        _position(w, 0, wFrom, count);
        assembly ("memory-safe") {
            // Eight products per MUL (SWAR). With u = x + 128 and v = w + 128 (bytes in
            // [0, 255], from XOR 0x80), every fourth byte of a word, masked in place, is a word
            // of eight u's in 32-bit lanes. Byte-reversing the w word puts the matching v's in
            // the opposite lane order, so lane 7 of the product (bits 224..255) is
            // Σ_{i+j=7} A_i·B_j = the sum of those eight u·v ≤ 8·255² < 2^19; no lower lane (each
            // < 2^19) carries into it and the lanes above 7 fall off the word harmlessly. The
            // signed sum follows from Σ x·w = Σ u·v − 128·Σ (u + v) + 128²·n.
            let px := add(add(x, 0x20), xFrom)
            let pw := add(add(w, 0x20), wFrom)
            let end := add(px, count)
            let uv := 0
            let uPlusV := 0
            let lanes := 0x000000ff000000ff000000ff000000ff000000ff000000ff000000ff000000ff
            // No overflow anywhere: per 32 elements uv grows by < 2^21 and uPlusV by < 2^14,
            // and there are fewer than 2^64 elements.
            for {} iszero(gt(add(px, 32), end)) {} {
                let a := xor(mload(px), 0x8080808080808080808080808080808080808080808080808080808080808080)
                let b := xor(mload(pw), 0x8080808080808080808080808080808080808080808080808080808080808080)
                // Σ (u + v) of the 32 elements: sixteen 16-bit lanes of pair sums (each ≤ 1020),
                // added up by one MUL into the top lane (total ≤ 16320 < 2^16: no carry).
                let pairs := add(
                    add(
                        and(a, 0x00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff),
                        and(shr(8, a), 0x00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff)
                    ),
                    add(
                        and(b, 0x00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff),
                        and(shr(8, b), 0x00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff)
                    )
                )
                uPlusV := add(
                    uPlusV,
                    shr(240, mul(pairs, 0x0001000100010001000100010001000100010001000100010001000100010001))
                )
                // Reverse the 32 bytes of b: swap bytes, then 2-, 4-, 8- and 16-byte groups.
                b := or(
                    shl(8, and(b, 0x00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff)),
                    and(shr(8, b), 0x00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff)
                )
                b := or(
                    shl(16, and(b, 0x0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff)),
                    and(shr(16, b), 0x0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff)
                )
                b := or(
                    shl(32, and(b, 0x00000000ffffffff00000000ffffffff00000000ffffffff00000000ffffffff)),
                    and(shr(32, b), 0x00000000ffffffff00000000ffffffff00000000ffffffff00000000ffffffff)
                )
                b := or(
                    shl(64, and(b, 0x0000000000000000ffffffffffffffff0000000000000000ffffffffffffffff)),
                    and(shr(64, b), 0x0000000000000000ffffffffffffffff0000000000000000ffffffffffffffff)
                )
                b := or(shl(128, b), shr(128, b))
                // Byte k of a sits in lane (31 − k) / 4 of `shr(8·(3 − k mod 4), a)`; byte k of
                // the reversed b in lane k / 4 of `shr(8·(k mod 4), b)`: the lanes add up to 7.
                uv := add(
                    uv,
                    add(
                        add(
                            shr(224, mul(and(a, lanes), and(shr(24, b), lanes))),
                            shr(224, mul(and(shr(8, a), lanes), and(shr(16, b), lanes)))
                        ),
                        add(
                            shr(224, mul(and(shr(16, a), lanes), and(shr(8, b), lanes))),
                            shr(224, mul(and(shr(24, a), lanes), and(b, lanes)))
                        )
                    )
                )
                px := add(px, 32)
                pw := add(pw, 32)
            }
            // Two's complement: the true value is small, wrapping intermediate terms are exact.
            sum := sub(add(uv, shl(14, sub(count, sub(end, px)))), shl(7, uPlusV))
            // The tail (fewer than 32 elements): reading a word past the end is harmless, only
            // its first byte is used.
            for {} lt(px, end) {
                px := add(px, 1)
                pw := add(pw, 1)
            } {
                sum := add(sum, mul(signextend(0, byte(0, mload(px))), signextend(0, byte(0, mload(pw)))))
            }
        }
    }

    /// @notice {partialDot} over two whole slices of equal length.
    function partialDot(bytes memory x, bytes memory w) internal pure returns (int256) {
        if (x.length != w.length) revert OneStepSliceOutOfRange(0, x.length, 0, w.length);
        return partialDot(x, 0, w, 0, x.length);
    }

    /// @notice Reverts unless a range of `length` elements fits one step of a dense (`conv =
    /// false`, {MAX_STEP}) or conv2d ({MAX_CONV_STEP}) dot product.
    function checkStep(uint256 length, bool conv) internal pure {
        uint256 maxLength = conv ? MAX_CONV_STEP : MAX_STEP;
        // INVARIANT: one step's gas is bounded whatever the layer size.
        if (length > maxLength) revert OneStepRangeTooLong(length, maxLength);
    }

    /// @notice Dense element from its dot product `accumulated = S_n`:
    /// `requant(b[j] + S_n, m[j], s[j], act)`.
    function finishDense(
        int256 accumulated,
        int32 bias,
        int32 multiplier,
        uint8 shift,
        Activation act
    ) internal pure returns (int8) {
        if (accumulated >= _REQUANT_INPUT_LIMIT || accumulated <= -_REQUANT_INPUT_LIMIT)
            revert OneStepAccumulatorOutOfRange(accumulated);
        // |accumulated| < 2^223 and |bias| ≤ 2^31: the checked sum cannot overflow.
        return requant(accumulated + bias, multiplier, shift, act);
    }

    /// @notice Dense element `y[j] = requant(b[j] + Σ_i x[i]·W[j][i], m[j], s[j], act)` from the
    /// whole input `x` and weights row `wRow` (`W[j][·]`). O(in): use the prefix-sum scheme
    /// when `in > MAX_STEP`.
    function dense(
        bytes memory x,
        bytes memory wRow,
        int32 bias,
        int32 multiplier,
        uint8 shift,
        Activation act
    ) internal pure returns (int8) {
        return finishDense(partialDot(x, wRow), bias, multiplier, shift, act);
    }

    // -----------------------------------------------------------------------------------------
    // conv2d

    /// @notice Where fan-in element `f = (i · kh + u) · kw + v` of output position `(r, c)` reads
    /// the input: `inside = false` in the padding (the value is 0), else the flat input index
    /// `(i · H + r·sh + u − top) · W + c·sw + v − left`.
    function conv2dInputIndex(
        Conv2dGeometry memory g,
        uint256 r,
        uint256 c,
        uint256 f
    ) internal pure returns (bool inside, uint256 index) {
        _checkConv(g);
        uint256 window = g.kernelH * g.kernelW;
        // INVARIANT: f is a fan-in element.
        if (f >= g.inChannels * window) revert OneStepRangeOutOfBounds(f, f + 1, g.inChannels * window);
        uint256 i = f / window;
        uint256 u = (f % window) / g.kernelW;
        uint256 v = f % g.kernelW;
        return _convIndex(g, r * g.strideH + u, c * g.strideW + v, i);
    }

    /// @notice One prefix-sum range `[from, from + wRange.length)` of conv2d element `(o, r, c)`:
    /// `Σ_k x_{from+k} · wRange[k]` where `wRange = W[o][from : from + length]` and `x_f` is the
    /// input element that fan-in element `f` meets ({conv2dInputIndex}), read from the input
    /// slice `x` whose first byte is flat index `xStart` (padding reads 0). O(length); the game
    /// bounds it by {MAX_CONV_STEP}. The kernel rows of the range are contiguous in the input, so
    /// `x` may be just the rows the range touches.
    ///
    /// Requirements:
    ///
    /// - `from + wRange.length ≤ inChannels · kh · kw`; every input element read lies in `x`.
    function partialConv2d(
        Conv2dGeometry memory g,
        uint256 r,
        uint256 c,
        bytes memory x,
        uint256 xStart,
        bytes memory wRange,
        uint256 from
    ) internal pure returns (int256 sum) {
        _checkConv(g);
        uint256 to = from + wRange.length;
        {
            uint256 fanIn = g.inChannels * g.kernelH * g.kernelW;
            // INVARIANT: the range is part of the fan-in.
            if (to > fanIn) revert OneStepRangeOutOfBounds(from, to, fanIn);
        }
        ConvCursor memory at = ConvCursor(r * g.strideH, c * g.strideW, xStart, from);
        // One kernel row (fixed channel i and kernel row u) at a time: its elements are
        // contiguous both in W[o] and, apart from the padding, in the input row they meet.
        while (from < to) {
            uint256 end = (from / g.kernelW + 1) * g.kernelW;
            if (end > to) end = to;
            sum += _kernelRowDot(g, at, x, wRange, from, end);
            from = end;
        }
    }

    /// @notice Conv2d element from its dot product: `requant(b[o] + S_n, m[o], s[o], act)`.
    function finishConv2d(
        int256 accumulated,
        int32 bias,
        int32 multiplier,
        uint8 shift,
        Activation act
    ) internal pure returns (int8) {
        return finishDense(accumulated, bias, multiplier, shift, act);
    }

    /// @notice Conv2d element `y[o][r][c]` from the input slice `x` (first byte at flat index
    /// `xStart`, holding the whole receptive field) and the weights row `wRow = W[o][·]`
    /// (`inChannels · kh · kw` bytes). O(fan-in): use the prefix-sum scheme beyond
    /// {MAX_CONV_STEP}.
    function conv2d(
        Conv2dGeometry memory g,
        bytes memory x,
        uint256 xStart,
        bytes memory wRow,
        int32 bias,
        int32 multiplier,
        uint8 shift,
        Activation act,
        uint256 r,
        uint256 c
    ) internal pure returns (int8) {
        int256 sum = partialConv2d(g, r, c, x, xStart, wRow, 0);
        return finishConv2d(sum, bias, multiplier, shift, act);
    }

    /// @dev Input index of padded coordinates (`row`, `col`) in channel `i`, or outside.
    function _convIndex(
        Conv2dGeometry memory g,
        uint256 row,
        uint256 col,
        uint256 i
    ) private pure returns (bool inside, uint256 index) {
        if (row < g.padTop || col < g.padLeft) return (false, 0);
        row -= g.padTop;
        col -= g.padLeft;
        if (row >= g.height || col >= g.width) return (false, 0);
        return (true, (i * g.height + row) * g.width + col);
    }

    /// @dev `Σ_{f ∈ [f, end)} x_f · W[o][f]` for a piece `[f, end)` of one kernel row: the
    /// padding columns at either end are skipped, the rest is one contiguous {partialDot}.
    function _kernelRowDot(
        Conv2dGeometry memory g,
        ConvCursor memory at,
        bytes memory x,
        bytes memory w,
        uint256 f,
        uint256 end
    ) private pure returns (int256) {
        uint256 row = at.row0 + (f % (g.kernelH * g.kernelW)) / g.kernelW;
        if (row < g.padTop || row - g.padTop >= g.height) return 0; // a padding row
        uint256 col = at.col0 + (f % g.kernelW);
        if (col < g.padLeft) {
            // Skip the leading padding columns (still the same kernel row).
            uint256 skip = g.padLeft - col;
            if (skip >= end - f) return 0;
            f += skip;
            col = 0;
        } else col -= g.padLeft;
        if (col >= g.width) return 0;
        uint256 count = end - f;
        if (count > g.width - col) count = g.width - col; // trailing padding columns
        // The flat input index of the first element read.
        col += ((f / (g.kernelH * g.kernelW)) * g.height + row - g.padTop) * g.width;
        return partialDot(x, _position(x, at.xStart, col, count), w, f - at.from, count);
    }

    function _checkConv(Conv2dGeometry memory g) private pure {
        // INVARIANT: no division by zero, no empty kernel.
        if (g.kernelH == 0 || g.kernelW == 0 || g.strideH == 0 || g.strideW == 0) revert OneStepInvalidGeometry();
    }

    /// @dev The int8 at position `at` of `data` (bounds checked by the caller), widened.
    function _int8At(bytes memory data, uint256 at) private pure returns (int256 value) {
        assembly ("memory-safe") {
            value := signextend(0, byte(0, mload(add(add(data, 0x20), at))))
        }
    }

    // -----------------------------------------------------------------------------------------
    // Element-wise and index layers

    /// @notice `relu`: `max(x, 0)`.
    function relu(int8 x) internal pure returns (int8) {
        return x < 0 ? int8(0) : x;
    }

    /// @notice `add`: `clamp(roundShift(a·ma + b·mb, s), lo, 127)`.
    ///
    /// Requirements:
    ///
    /// - `0 ≤ ma, mb < 2^31`, `s ≤ 62`.
    function add(
        int8 a,
        int8 b,
        int32 multiplierA,
        int32 multiplierB,
        uint8 shift,
        Activation act
    ) internal pure returns (int8) {
        // INVARIANT: the spec's parameter ranges (bound 3 then holds).
        if (multiplierA < 0) revert OneStepInvalidRequant(multiplierA, shift);
        if (multiplierB < 0 || shift > MAX_SHIFT) revert OneStepInvalidRequant(multiplierB, shift);
        unchecked {
            // |a·ma + b·mb| ≤ 128 · 2 · 2^31 = 2^39: far inside int256.
            int256 v = int256(a) * multiplierA + int256(b) * multiplierB;
            return clamp(_roundShift(v, shift), act);
        }
    }

    /// @notice Flat input index of window element `(u, v)` of maxpool2d output `(ch, r, c)`:
    /// `(ch · H + r·sh + u) · W + c·sw + v`.
    function maxpool2dInputIndex(
        Pool2dGeometry memory g,
        uint256 ch,
        uint256 r,
        uint256 c,
        uint256 u,
        uint256 v
    ) internal pure returns (uint256) {
        return (ch * g.height + r * g.strideH + u) * g.width + c * g.strideW + v;
    }

    /// @notice `maxpool2d` element `(ch, r, c)`: the largest element of its `kh × kw` window,
    /// read from the input slice `x` whose first byte is flat index `xStart`.
    function maxpool2d(
        Pool2dGeometry memory g,
        bytes memory x,
        uint256 xStart,
        uint256 ch,
        uint256 r,
        uint256 c
    ) internal pure returns (int8 best) {
        // INVARIANT: a non-empty window.
        if (g.kernelH == 0 || g.kernelW == 0) revert OneStepInvalidGeometry();
        best = -128;
        for (uint256 u; u < g.kernelH; ++u) {
            uint256 base = maxpool2dInputIndex(g, ch, r, c, u, 0);
            for (uint256 v; v < g.kernelW; ++v) {
                int8 value = readInt8(x, xStart, base + v);
                if (value > best) best = value;
            }
        }
    }

    /// @notice `reshape` keeps every element in place: output element `index` is input element
    /// `index` (the shapes differ, the row-major order does not).
    function reshape(uint256 index) internal pure returns (uint256) {
        return index;
    }

    /// @notice One step of a row's argmax: continues the running first maximum `(bestIndex,
    /// bestValue)` over the row elements held by `slice`, whose first byte is row position
    /// `sliceStart`. Only a strictly larger value moves the index (the first index wins ties).
    /// Start from `(0, −128)`: the row's argmax is `argmaxStep(0, −128, row, 0)`'s index.
    function argmaxStep(
        uint256 bestIndex,
        int8 bestValue,
        bytes memory slice,
        uint256 sliceStart
    ) internal pure returns (uint256, int8) {
        for (uint256 k; k < slice.length; ++k) {
            int8 value = int8(_int8At(slice, k));
            if (value > bestValue) (bestIndex, bestValue) = (sliceStart + k, value);
        }
        return (bestIndex, bestValue);
    }

    /// @notice `argmax` of one row of the last axis: the index of its largest element, the first
    /// one on ties (the output element is an int32; the index is below the row length).
    function argmax(bytes memory row) internal pure returns (uint256 index) {
        // INVARIANT: a row has an element.
        if (row.length == 0) revert OneStepEmptyRow();
        (index, ) = argmaxStep(0, -128, row, 0);
    }
}
