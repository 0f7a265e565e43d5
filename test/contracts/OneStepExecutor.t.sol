// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "./utils/Test.sol";
import {OneStepExecutor} from "../../contracts/dispute/OneStepExecutor.sol";

/// @dev The forge-std cheatcode that records a measured figure (not in the shared Test base).
interface ISnapshotValue {
    function snapshotValue(string calldata group, string calldata name, uint256 value) external;
}

/// @notice {OneStepExecutor.partialDot} (SWAR, eight products per MUL) against the dot product
/// written out byte by byte, fuzzed over offsets and lengths; the prefix-sum identity of the
/// dispute scheme; and the library's execution gas of one dense element and of one MAX_STEP
/// range (memory arguments in place, no calldata), recorded in `snapshots/OneStepExecutor.json`
/// with `npx hardhat test solidity --snapshot`. Conformance with the reference executor is
/// `OneStepExecutor.test.ts`.
contract OneStepExecutorTest is Test {
    function _bytes(uint256 seed, uint256 length) internal pure returns (bytes memory data) {
        data = new bytes(length);
        for (uint256 i; i < length; i += 32) {
            bytes32 word = keccak256(abi.encode(seed, i));
            for (uint256 k; k < 32 && i + k < length; ++k) data[i + k] = word[k];
        }
    }

    function _naiveDot(
        bytes memory x,
        uint256 xFrom,
        bytes memory w,
        uint256 wFrom,
        uint256 count
    ) internal pure returns (int256 sum) {
        for (uint256 k; k < count; ++k) sum += int256(int8(uint8(x[xFrom + k]))) * int256(int8(uint8(w[wFrom + k])));
    }

    function testFuzz_partialDot_matchesNaive_succeeds(
        uint256 seed,
        uint256 xFrom,
        uint256 wFrom,
        uint256 count
    ) public pure {
        count = bound(count, 0, 300);
        xFrom = bound(xFrom, 0, 40);
        wFrom = bound(wFrom, 0, 40);
        bytes memory x = _bytes(seed, xFrom + count);
        bytes memory w = _bytes(seed ^ 1, wFrom + count);
        int256 expected = _naiveDot(x, xFrom, w, wFrom, count);
        int256 actual = OneStepExecutor.partialDot(x, xFrom, w, wFrom, count);
        assertTrue(actual == expected, "partialDot");
    }

    function test_partialDot_extremes_succeeds() public pure {
        // All −128 · −128 (the largest products), all −128 · 127 (the most negative), mixed.
        bytes memory low = new bytes(100);
        bytes memory high = new bytes(100);
        for (uint256 k; k < 100; ++k) (low[k], high[k]) = (bytes1(0x80), bytes1(0x7f));
        assertTrue(OneStepExecutor.partialDot(low, low) == 100 * 16384, "(-128)^2");
        assertTrue(OneStepExecutor.partialDot(low, high) == -100 * 16256, "-128 * 127");
        assertTrue(OneStepExecutor.partialDot(high, high) == 100 * 16129, "127^2");
    }

    function testFuzz_partialDot_prefixSums_succeeds(uint256 seed, uint256 a, uint256 b) public pure {
        uint256 n = 200;
        a = bound(a, 0, n);
        b = bound(b, a, n);
        bytes memory x = _bytes(seed, n);
        bytes memory w = _bytes(seed ^ 2, n);
        int256 sa = OneStepExecutor.partialDot(x, 0, w, 0, a);
        int256 sb = OneStepExecutor.partialDot(x, 0, w, 0, b);
        assertTrue(sb - sa == OneStepExecutor.partialDot(x, a, w, a, b - a), "S_b - S_a");
        assertTrue(sb + OneStepExecutor.partialDot(x, b, w, b, n - b) == _naiveDot(x, 0, w, 0, n), "S_n");
    }

    /// @dev Library execution gas of one dense element (fan-in 64, 1024, 4096) and of a range
    /// of MAX_STEP multiply-adds, arguments already in memory.
    function test_gas_denseElement_succeeds() public {
        uint256[4] memory fanIns = [uint256(64), 1024, 4096, OneStepExecutor.MAX_STEP];
        string[4] memory names = ["dense_fanIn_64", "dense_fanIn_1024", "dense_fanIn_4096", "dense_fanIn_16384"];
        for (uint256 k; k < fanIns.length; ++k) {
            bytes memory x = _bytes(k, fanIns[k]);
            bytes memory w = _bytes(k + 100, fanIns[k]);
            uint256 start = gasleft();
            int8 y = OneStepExecutor.dense(x, w, 1000, 2 ** 30, 40, OneStepExecutor.Activation.None);
            uint256 used = start - gasleft();
            assertTrue(y >= -128, "element");
            ISnapshotValue(address(vm)).snapshotValue("OneStepExecutor", names[k], used);
        }
        // INVARIANT checked: a whole MAX_STEP range stays far below the 5M gas of one step.
        bytes memory xs = _bytes(7, OneStepExecutor.MAX_STEP);
        bytes memory ws = _bytes(8, OneStepExecutor.MAX_STEP);
        uint256 before = gasleft();
        OneStepExecutor.partialDot(xs, 0, ws, 0, OneStepExecutor.MAX_STEP);
        uint256 stepGas = before - gasleft();
        assertLe(stepGas, 1_000_000, "MAX_STEP range execution gas");
        ISnapshotValue(address(vm)).snapshotValue("OneStepExecutor", "partialDot_MAX_STEP", stepGas);
    }

    /// @dev Library execution gas of one conv2d range of MAX_CONV_STEP fan-in elements: 3×3
    /// kernels over 114 channels of a 16×16 input (the worst case: short kernel rows, padding).
    function test_gas_conv2dRange_succeeds() public {
        OneStepExecutor.Conv2dGeometry memory g = OneStepExecutor.Conv2dGeometry({
            inChannels: 114,
            height: 16,
            width: 16,
            kernelH: 3,
            kernelW: 3,
            strideH: 1,
            strideW: 1,
            padTop: 1,
            padLeft: 1
        });
        bytes memory x = _bytes(1, 114 * 256);
        bytes memory w = _bytes(2, OneStepExecutor.MAX_CONV_STEP);
        uint256 start = gasleft();
        OneStepExecutor.partialConv2d(g, 5, 0, x, 0, w, 0);
        uint256 used = start - gasleft();
        assertLe(used, 2_000_000, "MAX_CONV_STEP range execution gas");
        ISnapshotValue(address(vm)).snapshotValue("OneStepExecutor", "partialConv2d_MAX_CONV_STEP", used);
    }

    function test_checkStep_tooLong_reverts() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                OneStepExecutor.OneStepRangeTooLong.selector,
                OneStepExecutor.MAX_STEP + 1,
                OneStepExecutor.MAX_STEP
            )
        );
        this.checkStep(OneStepExecutor.MAX_STEP + 1);
    }

    function checkStep(uint256 length) external pure {
        OneStepExecutor.checkStep(length, false);
    }
}
