// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {OneStepExecutor} from "../dispute/OneStepExecutor.sol";

/// @notice Test-only: exposes {OneStepExecutor} to the mocha conformance test
/// (`test/contracts/OneStepExecutor.test.ts`), which compares its elements with the reference
/// executor's trace. The batch functions compute many elements of one layer in one `eth_call`,
/// decoding the parameters from the whole weights blob as the dispute game decodes them from
/// proven chunks; `step > 0` splits each dot product into prefix-sum ranges of `step` elements
/// (the dispute scheme), `step = 0` computes it in one piece.
contract OneStepExecutorHarness {
    // -------------------------------------------------------------------------------------------
    // Batches of one layer's elements

    function denseElements(
        bytes calldata x,
        bytes calldata blob,
        OneStepExecutor.WeightedLayerLayout calldata layout,
        OneStepExecutor.Activation act,
        uint256 step,
        uint256[] calldata channels
    ) external pure returns (int8[] memory out) {
        bytes memory input = x;
        bytes memory weights = blob;
        OneStepExecutor.WeightedLayerLayout memory weightsLayout = layout;
        out = new int8[](channels.length);
        for (uint256 k; k < channels.length; ++k)
            out[k] = _denseElement(input, weights, weightsLayout, act, step, channels[k]);
    }

    function conv2dElements(
        OneStepExecutor.Conv2dGeometry calldata geometry,
        bytes calldata x,
        bytes calldata blob,
        OneStepExecutor.WeightedLayerLayout calldata layout,
        OneStepExecutor.Activation act,
        uint256 step,
        uint256[3][] calldata positions
    ) external pure returns (int8[] memory out) {
        OneStepExecutor.Conv2dGeometry memory g = geometry;
        bytes memory input = x;
        bytes memory weights = blob;
        OneStepExecutor.WeightedLayerLayout memory weightsLayout = layout;
        out = new int8[](positions.length);
        for (uint256 k; k < positions.length; ++k)
            out[k] = _conv2dElement(g, input, weights, weightsLayout, act, step, positions[k]);
    }

    function reluElements(bytes calldata x, uint256[] calldata indices) external pure returns (int8[] memory out) {
        bytes memory input = x;
        out = new int8[](indices.length);
        for (uint256 k; k < indices.length; ++k)
            out[k] = OneStepExecutor.relu(OneStepExecutor.readInt8(input, 0, indices[k]));
    }

    function addElements(
        bytes calldata a,
        bytes calldata b,
        bytes calldata blob,
        uint256 offset,
        OneStepExecutor.Activation act,
        uint256[] calldata indices
    ) external pure returns (int8[] memory out) {
        (int32 ma, int32 mb, uint8 s) = OneStepExecutor.addParams(blob, 0, offset);
        (bytes memory inputA, bytes memory inputB) = (a, b);
        out = new int8[](indices.length);
        for (uint256 k; k < indices.length; ++k) out[k] = _addElement(inputA, inputB, ma, mb, s, act, indices[k]);
    }

    function maxpool2dElements(
        OneStepExecutor.Pool2dGeometry calldata geometry,
        bytes calldata x,
        uint256[3][] calldata positions
    ) external pure returns (int8[] memory out) {
        OneStepExecutor.Pool2dGeometry memory g = geometry;
        bytes memory input = x;
        out = new int8[](positions.length);
        for (uint256 k; k < positions.length; ++k)
            out[k] = OneStepExecutor.maxpool2d(g, input, 0, positions[k][0], positions[k][1], positions[k][2]);
    }

    function reshapeElements(bytes calldata x, uint256[] calldata indices) external pure returns (int8[] memory out) {
        bytes memory input = x;
        out = new int8[](indices.length);
        for (uint256 k; k < indices.length; ++k)
            out[k] = OneStepExecutor.readInt8(input, 0, OneStepExecutor.reshape(indices[k]));
    }

    /// @dev Argmax of rows of `rowLength` elements; `step > 0` chains {OneStepExecutor.argmaxStep}.
    function argmaxRows(
        bytes calldata x,
        uint256 rowLength,
        uint256 step,
        uint256[] calldata rows
    ) external pure returns (uint256[] memory out) {
        out = new uint256[](rows.length);
        for (uint256 k; k < rows.length; ++k) {
            bytes calldata row = x[rows[k] * rowLength:(rows[k] + 1) * rowLength];
            if (step == 0) {
                out[k] = OneStepExecutor.argmax(row);
                continue;
            }
            (uint256 index, int8 value) = (0, -128);
            for (uint256 from; from < rowLength; from += step) {
                uint256 to = from + step < rowLength ? from + step : rowLength;
                (index, value) = OneStepExecutor.argmaxStep(index, value, row[from:to], from);
            }
            out[k] = index;
        }
    }

    /// @dev `S_to − S_from` of the dot product of `x` and `w` for each range.
    function partialDots(
        bytes calldata x,
        bytes calldata w,
        uint256[] calldata from,
        uint256[] calldata to
    ) external pure returns (int256[] memory out) {
        (bytes memory input, bytes memory weights) = (x, w);
        out = new int256[](from.length);
        for (uint256 k; k < from.length; ++k)
            out[k] = OneStepExecutor.partialDot(input, from[k], weights, from[k], to[k] - from[k]);
    }

    // -------------------------------------------------------------------------------------------
    // Single calls (edge cases, gas)

    function dense(
        bytes calldata x,
        bytes calldata wRow,
        int32 bias,
        int32 multiplier,
        uint8 shift,
        OneStepExecutor.Activation act
    ) external pure returns (int8) {
        return OneStepExecutor.dense(x, wRow, bias, multiplier, shift, act);
    }

    function partialDot(bytes calldata x, bytes calldata w) external pure returns (int256) {
        return OneStepExecutor.partialDot(x, w);
    }

    function partialConv2d(
        OneStepExecutor.Conv2dGeometry calldata g,
        bytes calldata x,
        uint256 xStart,
        bytes calldata wRange,
        uint256[3] calldata rcFrom
    ) external pure returns (int256) {
        return OneStepExecutor.partialConv2d(g, rcFrom[0], rcFrom[1], x, xStart, wRange, rcFrom[2]);
    }

    function conv2dInputIndex(
        OneStepExecutor.Conv2dGeometry calldata g,
        uint256 r,
        uint256 c,
        uint256 f
    ) external pure returns (bool inside, uint256 index) {
        return OneStepExecutor.conv2dInputIndex(g, r, c, f);
    }

    function finishDense(
        int256 accumulated,
        int32 bias,
        int32 multiplier,
        uint8 shift,
        OneStepExecutor.Activation act
    ) external pure returns (int8) {
        return OneStepExecutor.finishDense(accumulated, bias, multiplier, shift, act);
    }

    function roundShift(int256 v, uint256 s) external pure returns (int256) {
        return OneStepExecutor.roundShift(v, s);
    }

    function requant(int256 acc, int256 m, uint256 s, OneStepExecutor.Activation act) external pure returns (int8) {
        return OneStepExecutor.requant(acc, m, s, act);
    }

    function add(
        int8 a,
        int8 b,
        int32 ma,
        int32 mb,
        uint8 s,
        OneStepExecutor.Activation act
    ) external pure returns (int8) {
        return OneStepExecutor.add(a, b, ma, mb, s, act);
    }

    function readInt32LE(bytes calldata slice, uint256 sliceStart, uint256 offset) external pure returns (int32) {
        return OneStepExecutor.readInt32LE(slice, sliceStart, offset);
    }

    function argmax(bytes calldata row) external pure returns (uint256) {
        return OneStepExecutor.argmax(row);
    }

    function checkStep(uint256 length, bool conv) external pure {
        OneStepExecutor.checkStep(length, conv);
    }

    // -------------------------------------------------------------------------------------------

    function _denseElement(
        bytes memory x,
        bytes memory blob,
        OneStepExecutor.WeightedLayerLayout memory layout,
        OneStepExecutor.Activation act,
        uint256 step,
        uint256 channel
    ) private pure returns (int8) {
        (uint256 row, , , ) = OneStepExecutor.channelOffsets(layout, channel);
        (int32 bias, int32 m, uint8 s) = OneStepExecutor.channelParams(blob, 0, layout, channel);
        uint256 n = layout.rowLength;
        if (step == 0) return OneStepExecutor.dense(x, _copy(blob, row, n), bias, m, s, act);
        return OneStepExecutor.finishDense(_denseSum(x, blob, row, n, step), bias, m, s, act);
    }

    /// @dev The prefix-sum scheme: `x · W[j]` (row at blob offset `row`) as ranges of `step`.
    function _denseSum(
        bytes memory x,
        bytes memory blob,
        uint256 row,
        uint256 n,
        uint256 step
    ) private pure returns (int256 sum) {
        for (uint256 from; from < n; from += step) {
            uint256 count = from + step < n ? step : n - from;
            sum += OneStepExecutor.partialDot(x, from, blob, row + from, count);
        }
    }

    function _conv2dElement(
        OneStepExecutor.Conv2dGeometry memory g,
        bytes memory x,
        bytes memory blob,
        OneStepExecutor.WeightedLayerLayout memory layout,
        OneStepExecutor.Activation act,
        uint256 step,
        uint256[3] calldata position
    ) private pure returns (int8) {
        (uint256 row, , , ) = OneStepExecutor.channelOffsets(layout, position[0]);
        (int32 bias, int32 m, uint8 s) = OneStepExecutor.channelParams(blob, 0, layout, position[0]);
        uint256 n = layout.rowLength;
        if (step == 0) return _conv2dWhole(g, x, _copy(blob, row, n), bias, m, s, act, position[1], position[2]);
        int256 sum = _conv2dSum(g, x, _copy(blob, row, n), step, position[1], position[2]);
        return OneStepExecutor.finishConv2d(sum, bias, m, s, act);
    }

    /// @dev The prefix-sum scheme: the dot product as a sum of ranges of `step` elements.
    function _conv2dSum(
        OneStepExecutor.Conv2dGeometry memory g,
        bytes memory x,
        bytes memory wRow,
        uint256 step,
        uint256 r,
        uint256 c
    ) private pure returns (int256 sum) {
        for (uint256 from; from < wRow.length; from += step) {
            uint256 to = from + step < wRow.length ? from + step : wRow.length;
            sum += OneStepExecutor.partialConv2d(g, r, c, x, 0, _copy(wRow, from, to - from), from);
        }
    }

    function _conv2dWhole(
        OneStepExecutor.Conv2dGeometry memory g,
        bytes memory x,
        bytes memory wRow,
        int32 bias,
        int32 m,
        uint8 s,
        OneStepExecutor.Activation act,
        uint256 r,
        uint256 c
    ) private pure returns (int8) {
        return OneStepExecutor.conv2d(g, x, 0, wRow, bias, m, s, act, r, c);
    }

    function _addElement(
        bytes memory a,
        bytes memory b,
        int32 ma,
        int32 mb,
        uint8 s,
        OneStepExecutor.Activation act,
        uint256 index
    ) private pure returns (int8) {
        return
            OneStepExecutor.add(
                OneStepExecutor.readInt8(a, 0, index),
                OneStepExecutor.readInt8(b, 0, index),
                ma,
                mb,
                s,
                act
            );
    }

    function _copy(bytes memory data, uint256 offset, uint256 length) private pure returns (bytes memory out) {
        require(offset + length <= data.length, OneStepExecutor.OneStepSliceOutOfRange(offset, length, 0, data.length));
        out = new bytes(length);
        assembly ("memory-safe") {
            mcopy(add(out, 0x20), add(add(data, 0x20), offset), length)
        }
    }
}
