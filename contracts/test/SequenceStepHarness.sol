// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {OneStepExecutor} from "../dispute/OneStepExecutor.sol";
import {SequenceStep} from "../dispute/SequenceStep.sol";

/// @notice Test-only: exposes {SequenceStep} to the mocha conformance test
/// (`test/contracts/SequenceStep.test.ts`), which compares its elements with the reference
/// executor's decoder trace. The batch functions compute many elements (or reduction ranges) of
/// one layer at one pass in one `eth_call`, decoding parameters from the whole weights blob.
/// Range batches cut each range's bytes out of the whole tensor and pass them as a slice with its
/// absolute start, as the game will pass proven chunks. Attention keys and values are given as
/// the concatenation of the key (value) layer's outputs at passes `0 … t`.
contract SequenceStepHarness {
    /// @notice One reduction range `[from, to)` of element `element` from the agreed `S_from`.
    struct Range {
        uint256 element;
        uint256 from;
        uint256 to;
        int256 sumFrom;
    }

    /// @notice A pass's attention inputs: the layer's shape, the pass and the tensors it reads.
    struct Pass {
        SequenceStep.Attention g;
        uint256 t;
        /// qk: the query; softmax: the scores; av: the probabilities.
        bytes x;
        /// qk: keys at passes 0 … t; softmax: the row maxima; av: values at passes 0 … t.
        bytes y;
    }

    /// @notice A measured call reverted.
    error SequenceStepHarnessCallFailed();

    /// @notice The step limits, in the order MAX_CENTRE, NORMALIZE, QK, ROWMAX, SOFTMAX, AV.
    function limits() external pure returns (uint256[6] memory) {
        return
            [
                SequenceStep.MAX_CENTRE_STEP,
                SequenceStep.MAX_NORMALIZE_STEP,
                SequenceStep.MAX_QK_STEP,
                SequenceStep.MAX_ROWMAX_STEP,
                SequenceStep.MAX_SOFTMAX_STEP,
                SequenceStep.MAX_AV_STEP
            ];
    }

    /// @notice Execution gas of a call of this harness (`data`: its calldata), without the
    /// transaction's calldata cost: what a step costs inside a larger transaction.
    function gasOf(bytes calldata data) external view returns (uint256 used) {
        uint256 before = gasleft();
        (bool ok, ) = address(this).staticcall(data);
        used = before - gasleft();
        // INVARIANT: only a successful step is measured.
        if (!ok) revert SequenceStepHarnessCallFailed();
    }

    /// @notice {SequenceStep-isqrt} of each value.
    function isqrts(uint256[] calldata values) external pure returns (uint256[] memory out) {
        out = new uint256[](values.length);
        for (uint256 k; k < values.length; ++k) out[k] = SequenceStep.isqrt(values[k]);
    }

    /// @notice {SequenceStep-roundDiv}.
    function roundDiv(int256 a, int256 b) external pure returns (int256) {
        return SequenceStep.roundDiv(a, b);
    }

    // -------------------------------------------------------------------------------------------
    // embed, lut

    /// @notice Embed elements of table row `row`.
    function embedElements(
        bytes calldata blob,
        uint256 tableOffset,
        uint256 rows,
        uint256 width,
        uint256 row,
        uint256[] calldata elements
    ) external pure returns (int8[] memory out) {
        bytes memory b = blob;
        out = new int8[](elements.length);
        for (uint256 k; k < elements.length; ++k)
            out[k] = SequenceStep.embed(b, 0, tableOffset, rows, width, row, elements[k]);
    }

    /// @notice Lut elements of the input `x`.
    function lutElements(
        bytes calldata blob,
        uint256 tableOffset,
        bytes calldata x,
        uint256[] calldata elements
    ) external pure returns (int8[] memory out) {
        bytes memory b = blob;
        out = new int8[](elements.length);
        for (uint256 k; k < elements.length; ++k)
            out[k] = SequenceStep.lut(b, 0, tableOffset, int8(uint8(x[elements[k]])));
    }

    // -------------------------------------------------------------------------------------------
    // centre

    /// @notice Whole centre elements of the row `x`.
    function centreElements(bytes calldata x, uint256[] calldata elements) external pure returns (int32[] memory out) {
        bytes memory row = x;
        out = new int32[](elements.length);
        for (uint256 k; k < elements.length; ++k) out[k] = SequenceStep.centre(row, elements[k]);
    }

    /// @notice `S_to` of each centre range of the row `x` (width `x.length`).
    function centreRanges(bytes calldata x, Range[] calldata ranges) external pure returns (int256[] memory out) {
        out = new int256[](ranges.length);
        for (uint256 k; k < ranges.length; ++k) {
            Range calldata r = ranges[k];
            out[k] = SequenceStep.centreRange(r.sumFrom, _cut(x, r.from, r.to), r.from, x.length, r.from, r.to);
        }
    }

    /// @notice Centre elements of the row `x` from its sum `sum`.
    function centreFinishes(
        bytes calldata x,
        uint256[] calldata elements,
        int256 sum
    ) external pure returns (int32[] memory out) {
        out = new int32[](elements.length);
        for (uint256 k; k < elements.length; ++k)
            out[k] = SequenceStep.centreFinish(int8(uint8(x[elements[k]])), x.length, sum);
    }

    // -------------------------------------------------------------------------------------------
    // normalize

    /// @notice Whole normalize elements of the centre output `c` (int32 LE), parameters at
    /// `offset` of `blob`.
    function normalizeElements(
        bytes calldata c,
        bytes calldata blob,
        uint256 offset,
        OneStepExecutor.Activation act,
        uint256[] calldata elements
    ) external pure returns (int8[] memory out) {
        (bytes memory centre, bytes memory b) = (c, blob);
        out = new int8[](elements.length);
        for (uint256 k; k < elements.length; ++k) {
            uint256 i = elements[k];
            out[k] = SequenceStep.normalize(centre, _normalizeParams(b, offset, centre.length / 4, i, act), i);
        }
    }

    /// @notice `S_to` of each normalize range of the centre output `c`.
    function normalizeRanges(bytes calldata c, Range[] calldata ranges) external pure returns (int256[] memory out) {
        out = new int256[](ranges.length);
        for (uint256 k; k < ranges.length; ++k) {
            Range calldata r = ranges[k];
            bytes memory slice = _cut(c, 4 * r.from, 4 * r.to);
            out[k] = SequenceStep.normalizeRange(r.sumFrom, slice, 4 * r.from, c.length / 4, r.from, r.to);
        }
    }

    /// @notice Normalize elements of the centre output `c` from the row's `sum = Σc²`.
    function normalizeFinishes(
        bytes calldata c,
        bytes calldata blob,
        uint256 offset,
        OneStepExecutor.Activation act,
        uint256[] calldata elements,
        int256 sum
    ) external pure returns (int8[] memory out) {
        (bytes memory centre, bytes memory b) = (c, blob);
        out = new int8[](elements.length);
        for (uint256 k; k < elements.length; ++k) {
            uint256 i = elements[k];
            SequenceStep.NormalizeParams memory p = _normalizeParams(b, offset, centre.length / 4, i, act);
            out[k] = SequenceStep.normalizeFinish(
                OneStepExecutor.readInt32LE(centre, 0, 4 * i),
                p,
                centre.length / 4,
                sum
            );
        }
    }

    // -------------------------------------------------------------------------------------------
    // qk

    /// @notice Whole qk elements of pass `pass.t` (`pass.x` the query, `pass.y` the keys).
    function qkElements(
        Pass calldata pass,
        bytes calldata blob,
        uint256 offset,
        uint256[] calldata elements
    ) external pure returns (int8[] memory out) {
        (int32 m, uint8 s) = SequenceStep.attentionParams(blob, 0, offset);
        out = new int8[](elements.length);
        for (uint256 k; k < elements.length; ++k) out[k] = _qkElement(pass, elements[k], m, s);
    }

    /// @notice `S_to` of each qk range: the query and key bytes of the range only, as slices.
    function qkRanges(Pass calldata pass, Range[] calldata ranges) external pure returns (int256[] memory out) {
        out = new int256[](ranges.length);
        for (uint256 k; k < ranges.length; ++k) out[k] = _qkRange(pass, ranges[k]);
    }

    /// @notice Qk elements of pass `t` from their sums.
    function qkFinishes(
        SequenceStep.Attention calldata g,
        uint256 t,
        bytes calldata blob,
        uint256 offset,
        uint256[] calldata elements,
        int256[] calldata sums
    ) external pure returns (int8[] memory out) {
        (int32 m, uint8 s) = SequenceStep.attentionParams(blob, 0, offset);
        out = new int8[](elements.length);
        for (uint256 k; k < elements.length; ++k) out[k] = SequenceStep.qkFinish(g, t, elements[k], sums[k], m, s);
    }

    // -------------------------------------------------------------------------------------------
    // rowmax

    /// @notice Whole rowmax elements (rows of `context` elements of `x`).
    function rowmaxElements(
        bytes calldata x,
        uint256 context,
        uint256[] calldata rows
    ) external pure returns (int8[] memory out) {
        bytes memory input = x;
        out = new int8[](rows.length);
        for (uint256 k; k < rows.length; ++k) out[k] = SequenceStep.rowmax(input, context, rows[k]);
    }

    /// @notice The state after each rowmax range (`element` is the row), from its row's slice.
    function rowmaxRanges(
        bytes calldata x,
        uint256 context,
        Range[] calldata ranges
    ) external pure returns (int256[] memory out) {
        out = new int256[](ranges.length);
        for (uint256 k; k < ranges.length; ++k) {
            Range calldata r = ranges[k];
            uint256 at = r.element * context;
            out[k] = SequenceStep.rowmaxRange(
                r.sumFrom,
                _cut(x, at + r.from, at + r.to),
                at + r.from,
                context,
                r.element,
                r.from,
                r.to
            );
        }
    }

    /// @notice {SequenceStep-rowmaxFinish}.
    function rowmaxFinish(int256 state) external pure returns (int8) {
        return SequenceStep.rowmaxFinish(state);
    }

    // -------------------------------------------------------------------------------------------
    // softmax

    /// @notice Whole softmax elements of pass `pass.t` (`pass.x` the scores, `pass.y` the maxima).
    function softmaxElements(
        Pass calldata pass,
        bytes calldata blob,
        uint256 expOffset,
        uint256[] calldata elements
    ) external pure returns (int8[] memory out) {
        (bytes memory scores, bytes memory b) = (pass.x, blob);
        SequenceStep.Attention memory g = pass.g;
        out = new int8[](elements.length);
        for (uint256 k; k < elements.length; ++k) {
            int8 max = int8(uint8(pass.y[elements[k] / g.context]));
            out[k] = SequenceStep.softmax(g, pass.t, elements[k], scores, max, b, expOffset);
        }
    }

    /// @notice `S_to` of each softmax range, from the row's scores of the range as a slice.
    function softmaxRanges(
        Pass calldata pass,
        bytes calldata blob,
        uint256 expOffset,
        Range[] calldata ranges
    ) external pure returns (int256[] memory out) {
        bytes memory b = blob;
        out = new int256[](ranges.length);
        for (uint256 k; k < ranges.length; ++k) out[k] = _softmaxRange(pass, b, expOffset, ranges[k]);
    }

    /// @notice Softmax elements of pass `pass.t` from their rows' sums.
    function softmaxFinishes(
        Pass calldata pass,
        bytes calldata blob,
        uint256 expOffset,
        uint256[] calldata elements,
        int256[] calldata sums
    ) external pure returns (int8[] memory out) {
        bytes memory b = blob;
        out = new int8[](elements.length);
        for (uint256 k; k < elements.length; ++k) out[k] = _softmaxFinish(pass, b, expOffset, elements[k], sums[k]);
    }

    // -------------------------------------------------------------------------------------------
    // av

    /// @notice Whole av elements of pass `pass.t` (`pass.x` the probabilities, `pass.y` the values).
    function avElements(
        Pass calldata pass,
        bytes calldata blob,
        uint256 offset,
        uint256[] calldata elements
    ) external pure returns (int8[] memory out) {
        (int32 m, uint8 s) = SequenceStep.attentionParams(blob, 0, offset);
        SequenceStep.Attention memory g = pass.g;
        out = new int8[](elements.length);
        for (uint256 k; k < elements.length; ++k) {
            bytes memory values = _gather(pass, elements[k], 0, pass.t + 1);
            out[k] = SequenceStep.av(g, pass.t, elements[k], pass.x, values, m, s);
        }
    }

    /// @notice `S_to` of each av range, from the range's probabilities as a slice and the values
    /// of its passes gathered.
    function avRanges(Pass calldata pass, Range[] calldata ranges) external pure returns (int256[] memory out) {
        out = new int256[](ranges.length);
        for (uint256 k; k < ranges.length; ++k) {
            Range calldata r = ranges[k];
            uint256 at = (r.element / pass.g.headDim) * pass.g.context + r.from;
            SequenceStep.Step memory step = SequenceStep.Step(pass.t, r.element, r.from, r.to, r.sumFrom);
            SequenceStep.Slice memory p = SequenceStep.Slice(_cut(pass.x, at, at + r.to - r.from), at);
            out[k] = SequenceStep.avRange(pass.g, step, p, _gather(pass, r.element, r.from, r.to));
        }
    }

    /// @notice Av elements of pass `t` from their sums.
    function avFinishes(
        uint256 t,
        bytes calldata blob,
        uint256 offset,
        int256[] calldata sums
    ) external pure returns (int8[] memory out) {
        (int32 m, uint8 s) = SequenceStep.attentionParams(blob, 0, offset);
        out = new int8[](sums.length);
        for (uint256 k; k < sums.length; ++k) out[k] = SequenceStep.avFinish(t, sums[k], m, s);
    }

    // -------------------------------------------------------------------------------------------

    function _softmaxRange(
        Pass calldata pass,
        bytes memory blob,
        uint256 expOffset,
        Range calldata r
    ) private pure returns (int256) {
        uint256 at = (r.element / pass.g.context) * pass.g.context + r.from;
        int8 max = int8(uint8(pass.y[r.element / pass.g.context]));
        SequenceStep.Step memory step = SequenceStep.Step(pass.t, r.element, r.from, r.to, r.sumFrom);
        SequenceStep.Slice memory x = SequenceStep.Slice(_cut(pass.x, at, at + r.to - r.from), at);
        return SequenceStep.softmaxRange(pass.g, step, x, max, SequenceStep.Slice(blob, 0), expOffset);
    }

    function _normalizeParams(
        bytes memory blob,
        uint256 offset,
        uint256 width,
        uint256 i,
        OneStepExecutor.Activation act
    ) private pure returns (SequenceStep.NormalizeParams memory) {
        return SequenceStep.normalizeParams(blob, 0, offset, width, i, act);
    }

    function _softmaxFinish(
        Pass calldata pass,
        bytes memory blob,
        uint256 expOffset,
        uint256 e,
        int256 sum
    ) private pure returns (int8) {
        int256 term = 0;
        if (SequenceStep.softmaxTerms(pass.g, pass.t, e) != 0) {
            int8 max = int8(uint8(pass.y[e / pass.g.context]));
            term = SequenceStep.softmaxTerm(blob, 0, expOffset, int8(uint8(pass.x[e])), max);
        }
        return SequenceStep.softmaxFinish(pass.g, pass.t, e, sum, term);
    }

    function _qkElement(Pass calldata pass, uint256 element, int32 m, uint8 s) private pure returns (int8) {
        uint256 inner = pass.g.heads * pass.g.headDim;
        uint256 u = element % pass.g.context;
        bytes memory key = u > pass.t ? bytes("") : pass.y[u * inner:(u + 1) * inner];
        return SequenceStep.qk(pass.g, pass.t, element, pass.x, key, m, s);
    }

    function _qkRange(Pass calldata pass, Range calldata r) private pure returns (int256) {
        uint256 inner = pass.g.heads * pass.g.headDim;
        uint256 u = r.element % pass.g.context;
        uint256 at = (r.element / pass.g.context) * pass.g.headDim + r.from;
        uint256 count = r.to > r.from ? r.to - r.from : 0;
        SequenceStep.Slice memory q = SequenceStep.Slice(_cut(pass.x, at, at + count), at);
        // A masked key position has no key to read: an empty slice (the step must revert).
        SequenceStep.Slice memory key = SequenceStep.Slice(
            u > pass.t ? bytes("") : _cut(pass.y, u * inner + at, u * inner + at + count),
            at
        );
        SequenceStep.Step memory step = SequenceStep.Step(pass.t, r.element, r.from, r.to, r.sumFrom);
        return SequenceStep.qkRange(pass.g, step, q, key);
    }

    /// @dev Bytes `[from, to)` of `data`, cut short at its end (so that a range beyond a tensor
    /// reaches the library, which must revert on it, instead of failing in the harness).
    function _cut(bytes calldata data, uint256 from, uint256 to) private pure returns (bytes memory) {
        if (to > data.length) to = data.length;
        if (from > to) from = to;
        return data[from:to];
    }

    /// @dev `V_u[element]` for `u ∈ [from, to)` from the concatenated values of passes `0 … t`.
    function _gather(
        Pass calldata pass,
        uint256 element,
        uint256 from,
        uint256 to
    ) private pure returns (bytes memory values) {
        uint256 inner = pass.g.heads * pass.g.headDim;
        values = new bytes(to > from ? to - from : 0);
        for (uint256 u = from; u < to; ++u) {
            uint256 at = u * inner + element;
            if (at < pass.y.length) values[u - from] = pass.y[at];
        }
    }
}
