// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {OneStepExecutor} from "./OneStepExecutor.sol";

/// @title SequenceStep
/// @notice The Solidity one-step semantics of a decoder's layer kinds (docs/numeric-semantics.md,
/// "Sequence models"): `embed`, `lut`, `centre`, `normalize`, `qk`, `rowmax`, `softmax` and `av`,
/// bit for bit as the reference executor (`oracle/model/vqm/sequence-executor.ts`) computes them.
/// Pure functions of bytes the dispute game has proven against Merkle roots; the game's wiring
/// (which roots, which passes) is not here.
///
/// Every kind that reads a row or a dot product is a **reduction** with prefix states
/// `S_0 = 0, …, S_n`, defined in the reductions table of the spec and mirrored by
/// `oracle/dispute/sequence-reduction.ts`. Each has three functions: `xRange` computes `S_to` from
/// an agreed `S_from` over one bounded range `[from, to)` of terms (at most `MAX_X_STEP` of them,
/// so one step's gas is bounded whatever the width or context), `xFinish` computes the element
/// from `S_n`, and `x` is the whole element (`xRange(0, n)` then `xFinish`) when `n` fits one step:
///
/// - centre, element `i` of width `D`: terms `x[k]`, `k < D`; `S_f = Σ_{k<f} x[k]`;
///   `c[i] = D·x[i] − S_D` (int32).
/// - normalize, element `i`: terms `c[k]²` (int32 `c`), `S_f = Σ_{k<f} c[k]²`; with
///   `r = isqrt(S_D + ε)`: `requant(gamma[i]·roundDiv(c[i]·2^16, r) + beta[i], m[i], s[i], act)`.
/// - qk, element `h·C + u` of pass `t`: `n = 0` for `u > t` (the element is −128, nothing is
///   read); else terms `q[h·dh+d]·K_u[h·dh+d]`, `d < dh`, finished by `requant(S, m, s, none)`.
/// - rowmax, element `h`: terms `x[h·C + v]`, `v < C` (every entry of the row, masked ones too);
///   `S_f = best + 128` of the first `f` (`S_0 = 0`: best −128); the element `(S_C mod 2^8) − 128`.
/// - softmax, element `h·C + u` of pass `t`: `n = 0` for `u > t` (the element is 0); else terms
///   `e[v] = exp[clamp(x[h·C+v] − M + 255, 0, 255)]` for `v = 0 … t` (`M` the rowmax element `h`;
///   the masked `v > t` contribute 0 and are not terms); `S_f = Σ_{v<f} e[v]`; the element
///   `S == 0 ? 0 : roundDiv(127·e[u], S)`.
/// - av, element `h·dh + d` of pass `t`: terms `p[h·C+u]·V_u[h·dh+d]`, `u = 0 … t`;
///   `S_f = Σ_{u<f}`; the element `requant(S, m, s, none)`.
///
/// `embed` and `lut` have no reduction: one table byte each.
///
/// States outside their kind's bound ({centreBound} …) are malformed, not merely wrong: every
/// honest state is inside, so the range and finish functions revert on them
/// ({SequenceStateOutOfRange}) and the game may refuse such a claim when it is posted.
///
/// @dev Input slices follow {OneStepExecutor}: a byte string with the absolute offset
/// (`...Start`) of its first byte in the tensor or blob it was cut from. Arithmetic is int256; the
/// bounds stated at each function keep it far from overflow.
library SequenceStep {
    /// @notice Most terms of one centre range (int8 row elements).
    uint256 internal constant MAX_CENTRE_STEP = 8192;
    /// @notice Most terms of one normalize range (int32 squares: 4 bytes each).
    uint256 internal constant MAX_NORMALIZE_STEP = 2048;
    /// @notice Most terms of one qk range (products of int8 from two contiguous vectors).
    uint256 internal constant MAX_QK_STEP = 8192;
    /// @notice Most terms of one rowmax range.
    uint256 internal constant MAX_ROWMAX_STEP = 8192;
    /// @notice Most terms of one softmax range (a table lookup each).
    uint256 internal constant MAX_SOFTMAX_STEP = 4096;
    /// @notice Most terms of one av range: each term reads a value of a different pass, i.e. a
    /// chunk proven against a different root, so this bound is set by the proofs, not the
    /// arithmetic.
    uint256 internal constant MAX_AV_STEP = 16;

    /// @notice Largest centre/normalize width `D` (spec: `D ≤ 2^15`).
    uint256 internal constant MAX_WIDTH = 2 ** 15;
    /// @notice Context lengths are below `2^17` (spec: `C < 2^17`).
    uint256 internal constant CONTEXT_LIMIT = 2 ** 17;
    /// @notice Head widths are below `2^17` (spec: `dh · 2^14 < 2^31`).
    uint256 internal constant HEAD_DIM_LIMIT = 2 ** 17;
    /// @notice `epsilon` lies in `[1, 2^62)`.
    uint256 internal constant EPSILON_LIMIT = 2 ** 62;

    /// @notice Rows of a `qk`, `softmax` or `av` layer: `heads` of `headDim`, context `C`.
    struct Attention {
        uint256 heads;
        uint256 headDim;
        uint256 context;
    }

    /// @notice One step of an attention element's reduction: pass `t`, output element `element`,
    /// the range `[from, to)` of its terms and the agreed state `S_from = sumFrom`.
    struct Step {
        uint256 t;
        uint256 element;
        uint256 from;
        uint256 to;
        int256 sumFrom;
    }

    /// @notice Proven bytes: `data` is bytes `[start, start + data.length)` of a tensor or blob.
    struct Slice {
        bytes data;
        uint256 start;
    }

    /// @notice One channel's parameters of a normalize layer, decoded from the weights blob.
    struct NormalizeParams {
        int8 gamma;
        int32 beta;
        uint64 epsilon;
        int32 multiplier;
        uint8 shift;
        OneStepExecutor.Activation act;
    }

    /// @notice Bytes `[offset, offset + length)` are not all inside the slice that holds
    /// `[sliceStart, sliceStart + sliceLength)`.
    error SequenceSliceOutOfRange(uint256 offset, uint256 length, uint256 sliceStart, uint256 sliceLength);
    /// @notice An element index not below the layer's element count.
    error SequenceElementOutOfRange(uint256 element, uint256 count);
    /// @notice A range `[from, to)` that is reversed or ends beyond the element's `n` terms.
    error SequenceRangeOutOfBounds(uint256 from, uint256 to, uint256 terms);
    /// @notice A range longer than one step of its kind may check.
    error SequenceRangeTooLong(uint256 length, uint256 maxLength);
    /// @notice A prefix state outside the bound every honest state of its kind satisfies.
    error SequenceStateOutOfRange(int256 state);
    /// @notice A shape beyond the spec's bounds (zero or too large width, heads, context) or a
    /// pass outside the context.
    error SequenceInvalidShape();
    /// @notice A table row outside the table (`row ≥ rows`).
    error SequenceRowOutOfRange(uint256 row, uint256 rows);
    /// @notice A normalize `epsilon` outside `[1, 2^62)`.
    error SequenceInvalidEpsilon(uint256 epsilon);
    /// @notice Gathered values whose count is not the range's length.
    error SequenceLengthMismatch(uint256 length, uint256 expected);

    // -----------------------------------------------------------------------------------------
    // Primitives

    /// @notice `isqrt(n) = ⌊√n⌋`, exact: OpenZeppelin's {Math-sqrt}, which rounds toward zero
    /// for every uint256 (its Newton iteration ends within one of the root and corrects down).
    function isqrt(uint256 n) internal pure returns (uint256) {
        return Math.sqrt(n);
    }

    /// @notice `roundDiv(a, b) = ⌊(2a + b) / (2b)⌋` for `b > 0`: `a / b` rounded to nearest, ties
    /// toward +∞ (`roundDiv(5, 2) = 3`, `roundDiv(-5, 2) = -2`).
    ///
    /// Requirements:
    ///
    /// - `b > 0`; `2a + b` fits an int256 (checked).
    function roundDiv(int256 a, int256 b) internal pure returns (int256 q) {
        // INVARIANT: the divisor is positive (the spec's r ≥ 1 and S > 0).
        if (b <= 0) revert SequenceStateOutOfRange(b);
        int256 n = 2 * a + b;
        int256 d = 2 * b;
        q = n / d;
        // `/` truncates toward zero: a negative non-multiple goes one down to the floor.
        if (n < 0 && q * d != n) --q;
    }

    // -----------------------------------------------------------------------------------------
    // embed, lut

    /// @notice `embed` element `i` of table row `row` (the pass's token, or its position): the
    /// int8 at `tableOffset + row · width + i` of the weights blob slice `blob` (first byte at
    /// `blobStart`).
    ///
    /// Requirements:
    ///
    /// - `row < rows`, `i < width`; the byte lies in the slice.
    function embed(
        bytes memory blob,
        uint256 blobStart,
        uint256 tableOffset,
        uint256 rows,
        uint256 width,
        uint256 row,
        uint256 i
    ) internal pure returns (int8) {
        // INVARIANT: the element and the row are inside the table.
        if (i >= width) revert SequenceElementOutOfRange(i, width);
        if (row >= rows) revert SequenceRowOutOfRange(row, rows);
        return OneStepExecutor.readInt8(blob, blobStart, tableOffset + row * width + i);
    }

    /// @notice `lut`: `table[x + 128]`, the table's 256 int8 entries at `tableOffset` of the blob
    /// slice `blob` (first byte at `blobStart`).
    function lut(bytes memory blob, uint256 blobStart, uint256 tableOffset, int8 x) internal pure returns (int8) {
        // x + 128 ∈ [0, 255]: a byte of the table.
        return OneStepExecutor.readInt8(blob, blobStart, tableOffset + uint256(int256(x) + 128));
    }

    // -----------------------------------------------------------------------------------------
    // centre

    /// @notice The bound of honest centre states: `|S| ≤ 128 · D`.
    function centreBound(uint256 width) internal pure returns (int256) {
        return int256(128 * width);
    }

    /// @notice `S_to` of a centre row of width `width` from `S_from = sumFrom`: `sumFrom + Σ x[k]`
    /// for `k ∈ [from, to)`, read from the input slice `x` whose first byte is row element
    /// `xStart`.
    ///
    /// Requirements:
    ///
    /// - `0 < width ≤ 2^15`; `from ≤ to ≤ width`, `to − from ≤ MAX_CENTRE_STEP`;
    /// - `|sumFrom| ≤ 128 · width`; the elements lie in the slice.
    function centreRange(
        int256 sumFrom,
        bytes memory x,
        uint256 xStart,
        uint256 width,
        uint256 from,
        uint256 to
    ) internal pure returns (int256) {
        _checkWidth(width);
        _checkRange(from, to, width, MAX_CENTRE_STEP);
        _checkState(sumFrom, -centreBound(width), centreBound(width));
        // |sumFrom| ≤ 2^22 and the range adds at most 2^20 in absolute value.
        return sumFrom + _sumInt8(x, _position(x, xStart, from, to - from), to - from);
    }

    /// @notice Centre element `c[i] = D · x[i] − S_D` from the row's sum `sum = S_D`.
    ///
    /// Requirements:
    ///
    /// - `0 < width ≤ 2^15`; `|sum| ≤ 128 · width` (then `|c| ≤ 2^23`: an int32).
    function centreFinish(int8 xi, uint256 width, int256 sum) internal pure returns (int32) {
        _checkWidth(width);
        _checkState(sum, -centreBound(width), centreBound(width));
        // |D · x| ≤ 2^22 and |sum| ≤ 2^22: the difference fits an int32.
        return int32(int256(width) * xi - sum);
    }

    /// @notice Whole centre element `i` of the row `x` (all `D` elements, `D ≤ MAX_CENTRE_STEP`).
    function centre(bytes memory x, uint256 i) internal pure returns (int32) {
        uint256 width = x.length;
        if (i >= width) revert SequenceElementOutOfRange(i, width);
        int256 sum = centreRange(0, x, 0, width, 0, width);
        return centreFinish(OneStepExecutor.readInt8(x, 0, i), width, sum);
    }

    // -----------------------------------------------------------------------------------------
    // normalize

    /// @notice The bound of normalize states, for any int32 centre output: `0 ≤ S ≤ D · 2^62`
    /// (honest ones are below `2^62`).
    function normalizeBound(uint256 width) internal pure returns (int256) {
        return int256(width) << 62;
    }

    /// @notice Channel `i`'s normalize parameters from the blob slice `blob` (first byte at
    /// `blobStart`): the layer's parameters start at `offset` with `gamma` (int8 `[D]`), then
    /// `beta` (int32 LE `[D]`), `epsilon` (uint64 LE), `m` (int32 LE `[D]`), `s` (byte `[D]`).
    function normalizeParams(
        bytes memory blob,
        uint256 blobStart,
        uint256 offset,
        uint256 width,
        uint256 i,
        OneStepExecutor.Activation act
    ) internal pure returns (NormalizeParams memory p) {
        if (i >= width) revert SequenceElementOutOfRange(i, width);
        p.gamma = OneStepExecutor.readInt8(blob, blobStart, offset + i);
        p.beta = OneStepExecutor.readInt32LE(blob, blobStart, offset + width + 4 * i);
        p.epsilon = uint64(_readUintLE(blob, _position(blob, blobStart, offset + 5 * width, 8), 8));
        p.multiplier = OneStepExecutor.readInt32LE(blob, blobStart, offset + 5 * width + 8 + 4 * i);
        p.shift = OneStepExecutor.readUint8(blob, blobStart, offset + 9 * width + 8 + i);
        p.act = act;
    }

    /// @notice `S_to` of a normalize row from `S_from = sumFrom`: `sumFrom + Σ c[k]²` for
    /// `k ∈ [from, to)`, the int32 LE centre outputs read from the slice `c` whose first byte is
    /// byte `cStart` of the centre output (element `k` at byte `4k`).
    ///
    /// Requirements:
    ///
    /// - `0 < width ≤ 2^15`; `from ≤ to ≤ width`, `to − from ≤ MAX_NORMALIZE_STEP`;
    /// - `0 ≤ sumFrom ≤ width · 2^62`; the elements lie in the slice.
    function normalizeRange(
        int256 sumFrom,
        bytes memory c,
        uint256 cStart,
        uint256 width,
        uint256 from,
        uint256 to
    ) internal pure returns (int256) {
        _checkWidth(width);
        _checkRange(from, to, width, MAX_NORMALIZE_STEP);
        _checkState(sumFrom, 0, normalizeBound(width));
        uint256 count = to - from;
        // Each square is at most 2^62 and there are at most 2^11 of them: no overflow.
        return sumFrom + _sumSquaresInt32LE(c, _position(c, cStart, 4 * from, 4 * count), count);
    }

    /// @notice Normalize element from the centre output `ci = c[i]`, its channel's parameters and
    /// the row's `sum = S_D = Σ c²`: `r = isqrt(S_D + ε)`, `z = roundDiv(c[i] · 2^16, r)`,
    /// `requant(gamma · z + beta, m, s, act)`.
    ///
    /// Requirements:
    ///
    /// - `0 < width ≤ 2^15`; `0 ≤ sum ≤ width · 2^62`; `1 ≤ ε < 2^62`; `m`, `s` in range.
    function normalizeFinish(
        int32 ci,
        NormalizeParams memory p,
        uint256 width,
        int256 sum
    ) internal pure returns (int8) {
        _checkWidth(width);
        _checkState(sum, 0, normalizeBound(width));
        // INVARIANT: ε ≥ 1 keeps r ≥ 1 (no division by zero); below 2^62 as validated.
        if (p.epsilon == 0 || p.epsilon >= EPSILON_LIMIT) revert SequenceInvalidEpsilon(p.epsilon);
        // sum + ε < 2^78: r < 2^39. |c · 2^16| < 2^48, so |z| < 2^48 and |gamma · z + beta| < 2^56.
        int256 r = int256(isqrt(uint256(sum) + p.epsilon));
        int256 z = roundDiv(int256(ci) * 65536, r);
        return OneStepExecutor.requant(int256(p.gamma) * z + p.beta, p.multiplier, p.shift, p.act);
    }

    /// @notice Whole normalize element `i` from the centre output `c` (all `D` int32 LE elements,
    /// `D ≤ MAX_NORMALIZE_STEP`) and channel `i`'s parameters.
    function normalize(bytes memory c, NormalizeParams memory p, uint256 i) internal pure returns (int8) {
        uint256 width = c.length / 4;
        // INVARIANT: c holds whole int32 elements and i is one of them.
        if (c.length % 4 != 0) revert SequenceSliceOutOfRange(0, c.length, 0, 4 * width);
        if (i >= width) revert SequenceElementOutOfRange(i, width);
        int256 sum = normalizeRange(0, c, 0, width, 0, width);
        return normalizeFinish(OneStepExecutor.readInt32LE(c, 0, 4 * i), p, width, sum);
    }

    // -----------------------------------------------------------------------------------------
    // qk

    /// @notice The terms of qk element `element = h·C + u` at pass `t`: `dh`, or 0 when masked
    /// (`u > t`).
    function qkTerms(Attention memory g, uint256 t, uint256 element) internal pure returns (uint256) {
        (, uint256 u) = _attentionCell(g, t, element);
        return u > t ? 0 : g.headDim;
    }

    /// @notice The bound of qk states: `|S| ≤ dh · 2^14`.
    function qkBound(Attention memory g) internal pure returns (int256) {
        return int256(g.headDim << 14);
    }

    /// @notice `S_to` of qk element `s.element = h·C + u` at pass `s.t` from `S_from = s.sumFrom`:
    /// `S_from + Σ_d q[h·dh+d] · K_u[h·dh+d]` for `d ∈ [s.from, s.to)`. `q` is a slice of the
    /// pass's query, `key` of the key layer's output at pass `u`.
    ///
    /// Requirements:
    ///
    /// - the shape is valid, `t < C`; `u ≤ t` (a masked element has no terms);
    /// - `from ≤ to ≤ dh`, `to − from ≤ MAX_QK_STEP`; `|S_from| ≤ dh · 2^14`; bytes in the slices.
    function qkRange(
        Attention memory g,
        Step memory s,
        Slice memory q,
        Slice memory key
    ) internal pure returns (int256) {
        (uint256 h, ) = _attentionCell(g, s.t, s.element);
        _checkRange(s.from, s.to, qkTerms(g, s.t, s.element), MAX_QK_STEP);
        _checkState(s.sumFrom, -qkBound(g), qkBound(g));
        uint256 at = h * g.headDim + s.from;
        uint256 count = s.to - s.from;
        uint256 qAt = _position(q.data, q.start, at, count);
        uint256 keyAt = _position(key.data, key.start, at, count);
        return s.sumFrom + OneStepExecutor.partialDot(q.data, qAt, key.data, keyAt, count);
    }

    /// @notice qk element `h·C + u` at pass `t` from `S_dh = sum`: −128 when `u > t` (whatever
    /// `sum`, which is then `S_0 = 0`), else `requant(sum, m, s, none)`.
    function qkFinish(
        Attention memory g,
        uint256 t,
        uint256 element,
        int256 sum,
        int32 multiplier,
        uint8 shift
    ) internal pure returns (int8) {
        if (qkTerms(g, t, element) == 0) return -128;
        _checkState(sum, -qkBound(g), qkBound(g));
        return OneStepExecutor.requant(sum, multiplier, shift, OneStepExecutor.Activation.None);
    }

    /// @notice Whole qk element `h·C + u` at pass `t` from the pass's query `q` and the key
    /// layer's output `key` at pass `u` (both whole `[1, H·dh]` vectors; ignored when masked).
    function qk(
        Attention memory g,
        uint256 t,
        uint256 element,
        bytes memory q,
        bytes memory key,
        int32 multiplier,
        uint8 shift
    ) internal pure returns (int8) {
        uint256 n = qkTerms(g, t, element);
        int256 sum = n == 0 ? int256(0) : qkRange(g, Step(t, element, 0, n, 0), Slice(q, 0), Slice(key, 0));
        return qkFinish(g, t, element, sum, multiplier, shift);
    }

    /// @notice A qk or av layer's one multiplier (int32 LE) and shift (one byte) at `offset` of
    /// the blob slice `blob` (first byte at `blobStart`).
    function attentionParams(
        bytes memory blob,
        uint256 blobStart,
        uint256 offset
    ) internal pure returns (int32 multiplier, uint8 shift) {
        multiplier = OneStepExecutor.readInt32LE(blob, blobStart, offset);
        shift = OneStepExecutor.readUint8(blob, blobStart, offset + 4);
    }

    // -----------------------------------------------------------------------------------------
    // rowmax

    /// @notice The state of rowmax row `row` (rows of `context` elements) after its elements
    /// `[from, to)`, from `state = best + 128` of the first `from`: `best + 128` of the first
    /// `to`. The row elements are read from the slice `x` whose first byte is input element
    /// `xStart`.
    ///
    /// Requirements:
    ///
    /// - `0 < context < 2^17`; `from ≤ to ≤ context`, `to − from ≤ MAX_ROWMAX_STEP`;
    /// - `0 ≤ state ≤ 255`; the elements lie in the slice.
    function rowmaxRange(
        int256 state,
        bytes memory x,
        uint256 xStart,
        uint256 context,
        uint256 row,
        uint256 from,
        uint256 to
    ) internal pure returns (int256) {
        // INVARIANT: a row has elements and the context is within the spec's bound.
        if (context == 0 || context >= CONTEXT_LIMIT) revert SequenceInvalidShape();
        _checkRange(from, to, context, MAX_ROWMAX_STEP);
        _checkState(state, 0, 255);
        uint256 count = to - from;
        return _maxInt8(x, _position(x, xStart, row * context + from, count), count, state - 128) + 128;
    }

    /// @notice Rowmax element from the row's final state: `(S_C mod 2^8) − 128`.
    function rowmaxFinish(int256 state) internal pure returns (int8) {
        _checkState(state, 0, 255);
        return int8(state - 128);
    }

    /// @notice Whole rowmax element `row` of the input `x` (rows of `context` elements,
    /// `context ≤ MAX_ROWMAX_STEP`).
    function rowmax(bytes memory x, uint256 context, uint256 row) internal pure returns (int8) {
        return rowmaxFinish(rowmaxRange(0, x, 0, context, row, 0, context));
    }

    // -----------------------------------------------------------------------------------------
    // softmax

    /// @notice The terms of softmax element `h·C + u` at pass `t`: `t + 1`, or 0 when masked
    /// (`u > t`: the element is 0).
    function softmaxTerms(Attention memory g, uint256 t, uint256 element) internal pure returns (uint256) {
        (, uint256 u) = _attentionCell(g, t, element);
        return u > t ? 0 : t + 1;
    }

    /// @notice The bound of softmax states at pass `t`, for any uint32 table: `0 ≤ S ≤ (t + 1) ·
    /// (2^32 − 1)` (honest ones are at most `(t + 1) · 2^16`).
    function softmaxBound(uint256 t) internal pure returns (int256) {
        return int256((t + 1) * type(uint32).max);
    }

    /// @notice `e = exp[clamp(x − max + 255, 0, 255)]`: the uint32 LE table entry of `x` against
    /// the row maximum `max`, the table's 256 entries at `expOffset` of the blob slice `blob`.
    function softmaxTerm(
        bytes memory blob,
        uint256 blobStart,
        uint256 expOffset,
        int8 x,
        int8 max
    ) internal pure returns (int256) {
        uint256 table = _position(blob, blobStart, expOffset, 1024);
        return int256(_readUintLE(blob, table + 4 * _expIndex(x, max), 4));
    }

    /// @notice `S_to` of the softmax row of element `s.element = h·C + u` at pass `s.t` from
    /// `S_from = s.sumFrom`: `S_from + Σ_v e[v]` for `v ∈ [s.from, s.to)`, with the scores
    /// `x[h·C + v]` read from the slice `x`, the row's maximum `max` (rowmax element `h`) and the
    /// exp table at `expOffset` of the blob slice `blob`.
    ///
    /// Requirements:
    ///
    /// - the shape is valid, `t < C`; `u ≤ t`; `from ≤ to ≤ t + 1`, `to − from ≤ MAX_SOFTMAX_STEP`;
    /// - `0 ≤ S_from ≤ (t + 1) · (2^32 − 1)`; the scores and the table lie in their slices.
    function softmaxRange(
        Attention memory g,
        Step memory s,
        Slice memory x,
        int8 max,
        Slice memory blob,
        uint256 expOffset
    ) internal pure returns (int256) {
        (uint256 h, ) = _attentionCell(g, s.t, s.element);
        _checkRange(s.from, s.to, softmaxTerms(g, s.t, s.element), MAX_SOFTMAX_STEP);
        _checkState(s.sumFrom, 0, softmaxBound(s.t));
        uint256 count = s.to - s.from;
        uint256 at = _position(x.data, x.start, h * g.context + s.from, count);
        uint256 table = _position(blob.data, blob.start, expOffset, 1024);
        // At most 4096 terms below 2^32 each: far inside int256.
        return s.sumFrom + int256(_sumExp(x.data, at, count, blob.data, table, max));
    }

    /// @notice Softmax element `h·C + u` at pass `t` from the row's `S = sum` and the element's
    /// own term `e = e[u]` ({softmaxTerm}): 0 when `u > t` (nothing read) or `S = 0`, else
    /// `roundDiv(127 · e, S)` ∈ [0, 127].
    ///
    /// Requirements:
    ///
    /// - for `u ≤ t`: `e ≤ sum ≤ (t + 1) · (2^32 − 1)` (a row's sum includes each of its terms).
    function softmaxFinish(
        Attention memory g,
        uint256 t,
        uint256 element,
        int256 sum,
        int256 e
    ) internal pure returns (int8) {
        if (softmaxTerms(g, t, element) == 0) return 0;
        _checkState(sum, 0, softmaxBound(t));
        // INVARIANT: S ≥ e[u] for a sum that includes e[u], so the quotient is at most 127.
        if (e < 0 || e > sum) revert SequenceStateOutOfRange(sum);
        if (sum == 0) return 0;
        return int8(roundDiv(127 * e, sum));
    }

    /// @notice Whole softmax element `h·C + u` at pass `t` from the pass's scores `x` (the whole
    /// `[1, H, C]` tensor), the row maximum `max` and the exp table at `expOffset` of `blob`
    /// (`t + 1 ≤ MAX_SOFTMAX_STEP`).
    function softmax(
        Attention memory g,
        uint256 t,
        uint256 element,
        bytes memory x,
        int8 max,
        bytes memory blob,
        uint256 expOffset
    ) internal pure returns (int8) {
        uint256 n = softmaxTerms(g, t, element);
        if (n == 0) return 0;
        int256 sum = softmaxRange(g, Step(t, element, 0, n, 0), Slice(x, 0), max, Slice(blob, 0), expOffset);
        int256 e = softmaxTerm(blob, 0, expOffset, OneStepExecutor.readInt8(x, 0, element), max);
        return softmaxFinish(g, t, element, sum, e);
    }

    // -----------------------------------------------------------------------------------------
    // av

    /// @notice The terms of av element `h·dh + d` at pass `t`: `t + 1`.
    function avTerms(Attention memory g, uint256 t, uint256 element) internal pure returns (uint256) {
        _checkAttention(g, t);
        if (element >= g.heads * g.headDim) revert SequenceElementOutOfRange(element, g.heads * g.headDim);
        return t + 1;
    }

    /// @notice The bound of av states at pass `t`: `|S| ≤ (t + 1) · 2^14`.
    function avBound(uint256 t) internal pure returns (int256) {
        return int256((t + 1) << 14);
    }

    /// @notice `S_to` of av element `s.element = j = h·dh + d` at pass `s.t` from
    /// `S_from = s.sumFrom`: `S_from + Σ_u p[h·C + u] · V_u[j]` for `u ∈ [s.from, s.to)`, with the
    /// probabilities read from the slice `p` of the pass's softmax output and
    /// `values[k] = V_{from+k}[j]`, the value layer's element `j` at pass `from + k`, gathered
    /// (each from its own pass's trace).
    ///
    /// Requirements:
    ///
    /// - the shape is valid, `t < C`; `from ≤ to ≤ t + 1`, `to − from ≤ MAX_AV_STEP`;
    /// - `values.length == to − from`; `|S_from| ≤ (t + 1) · 2^14`; the probabilities in `p`.
    function avRange(
        Attention memory g,
        Step memory s,
        Slice memory p,
        bytes memory values
    ) internal pure returns (int256) {
        _checkRange(s.from, s.to, avTerms(g, s.t, s.element), MAX_AV_STEP);
        _checkState(s.sumFrom, -avBound(s.t), avBound(s.t));
        uint256 count = s.to - s.from;
        if (values.length != count) revert SequenceLengthMismatch(values.length, count);
        uint256 at = _position(p.data, p.start, (s.element / g.headDim) * g.context + s.from, count);
        return s.sumFrom + OneStepExecutor.partialDot(p.data, at, values, 0, count);
    }

    /// @notice Av element from `S_{t+1} = sum`: `requant(sum, m, s, none)`.
    function avFinish(uint256 t, int256 sum, int32 multiplier, uint8 shift) internal pure returns (int8) {
        _checkState(sum, -avBound(t), avBound(t));
        return OneStepExecutor.requant(sum, multiplier, shift, OneStepExecutor.Activation.None);
    }

    /// @notice Whole av element `j` at pass `t` from the pass's probabilities `p` (the whole
    /// `[1, H, C]` tensor) and the value layer's element `j` at passes `0 … t` (`values[u]`),
    /// `t + 1 ≤ MAX_AV_STEP`.
    function av(
        Attention memory g,
        uint256 t,
        uint256 element,
        bytes memory p,
        bytes memory values,
        int32 multiplier,
        uint8 shift
    ) internal pure returns (int8) {
        int256 sum = avRange(g, Step(t, element, 0, avTerms(g, t, element), 0), Slice(p, 0), values);
        return avFinish(t, sum, multiplier, shift);
    }

    // -----------------------------------------------------------------------------------------
    // Checks and byte loops

    function _checkWidth(uint256 width) private pure {
        // INVARIANT: the spec's D ≤ 2^15, which every state bound relies on.
        if (width == 0 || width > MAX_WIDTH) revert SequenceInvalidShape();
    }

    function _checkAttention(Attention memory g, uint256 t) private pure {
        // INVARIANT: the spec's shape bounds (C < 2^17, dh · 2^14 < 2^31), and a pass in the context.
        if (
            g.heads == 0 ||
            g.headDim == 0 ||
            g.headDim >= HEAD_DIM_LIMIT ||
            g.context == 0 ||
            g.context >= CONTEXT_LIMIT ||
            g.heads > type(uint32).max ||
            t >= g.context
        ) revert SequenceInvalidShape();
    }

    /// @dev Head `h` and key position `u` of a `[1, H, C]` element, after checking the shape.
    function _attentionCell(
        Attention memory g,
        uint256 t,
        uint256 element
    ) private pure returns (uint256 h, uint256 u) {
        _checkAttention(g, t);
        // INVARIANT: the element is one of the layer's H · C.
        if (element >= g.heads * g.context) revert SequenceElementOutOfRange(element, g.heads * g.context);
        return (element / g.context, element % g.context);
    }

    function _checkRange(uint256 from, uint256 to, uint256 terms, uint256 maxLength) private pure {
        // INVARIANT: one step checks one bounded range of the element's terms.
        if (from > to || to > terms) revert SequenceRangeOutOfBounds(from, to, terms);
        if (to - from > maxLength) revert SequenceRangeTooLong(to - from, maxLength);
    }

    function _checkState(int256 state, int256 lo, int256 hi) private pure {
        // INVARIANT: every honest state lies in [lo, hi]; the arithmetic relies on it.
        if (state < lo || state > hi) revert SequenceStateOutOfRange(state);
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
            revert SequenceSliceOutOfRange(offset, length, sliceStart, slice.length);
        return offset - sliceStart;
    }

    /// @dev `clamp(x − max + 255, 0, 255)`.
    function _expIndex(int8 x, int8 max) private pure returns (uint256) {
        int256 k = int256(x) - max + 255; // in [0, 510]
        return k > 255 ? 255 : uint256(k);
    }

    /// @dev The unsigned little-endian integer of `length ≤ 32` bytes at position `at` of `data`
    /// (bounds checked by the caller).
    function _readUintLE(bytes memory data, uint256 at, uint256 length) private pure returns (uint256 value) {
        assembly ("memory-safe") {
            let p := add(add(data, 0x20), at)
            for {
                let k := 0
            } lt(k, length) {
                k := add(k, 1)
            } {
                value := or(value, shl(mul(8, k), byte(0, mload(add(p, k)))))
            }
        }
    }

    /// @dev `Σ` of the `count` int8 at position `at` of `data` (bounds checked by the caller).
    function _sumInt8(bytes memory data, uint256 at, uint256 count) private pure returns (int256 sum) {
        assembly ("memory-safe") {
            let p := add(add(data, 0x20), at)
            let end := add(p, count)
            for {} lt(p, end) {
                p := add(p, 1)
            } {
                sum := add(sum, signextend(0, byte(0, mload(p))))
            }
        }
    }

    /// @dev `Σ c²` of the `count` int32 LE at position `at` of `data` (bounds checked by the
    /// caller). Each square is below 2^62 and `count ≤ 2^11`: no overflow.
    function _sumSquaresInt32LE(bytes memory data, uint256 at, uint256 count) private pure returns (int256 sum) {
        assembly ("memory-safe") {
            let p := add(add(data, 0x20), at)
            let end := add(p, mul(4, count))
            for {} lt(p, end) {
                p := add(p, 4)
            } {
                let w := mload(p)
                let u := or(or(byte(0, w), shl(8, byte(1, w))), or(shl(16, byte(2, w)), shl(24, byte(3, w))))
                let c := signextend(3, u)
                sum := add(sum, mul(c, c))
            }
        }
    }

    /// @dev The largest of `best` and the `count` int8 at position `at` of `data`.
    function _maxInt8(bytes memory data, uint256 at, uint256 count, int256 best) private pure returns (int256) {
        assembly ("memory-safe") {
            let p := add(add(data, 0x20), at)
            let end := add(p, count)
            for {} lt(p, end) {
                p := add(p, 1)
            } {
                let v := signextend(0, byte(0, mload(p)))
                if sgt(v, best) {
                    best := v
                }
            }
        }
        return best;
    }

    /// @dev `Σ exp[clamp(x − max + 255, 0, 255)]` over the `count` int8 scores at position `at`
    /// of `x`, the uint32 LE table at position `table` of `blob` (bounds checked by the caller).
    function _sumExp(
        bytes memory x,
        uint256 at,
        uint256 count,
        bytes memory blob,
        uint256 table,
        int8 max
    ) private pure returns (uint256 sum) {
        assembly ("memory-safe") {
            let p := add(add(x, 0x20), at)
            let end := add(p, count)
            let base := add(add(blob, 0x20), table)
            let offset := sub(255, signextend(0, max))
            for {} lt(p, end) {
                p := add(p, 1)
            } {
                // k = x − max + 255 ∈ [0, 510], clamped to 255.
                let k := add(signextend(0, byte(0, mload(p))), offset)
                if gt(k, 255) {
                    k := 255
                }
                let w := mload(add(base, mul(4, k)))
                sum := add(sum, or(or(byte(0, w), shl(8, byte(1, w))), or(shl(16, byte(2, w)), shl(24, byte(3, w)))))
            }
        }
    }
}
