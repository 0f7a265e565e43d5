// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice The few forge-std cheatcodes the contract tests use (Hardhat 3 / EDR implements them
/// at the standard address). A local copy, so the project needs no forge-std dependency.
interface Vm {
    function prank(address sender) external;
    function startPrank(address sender) external;
    function stopPrank() external;
    function deal(address account, uint256 newBalance) external;
    function warp(uint256 newTimestamp) external;
    function expectRevert(bytes calldata revertData) external;
    function expectRevert(bytes4 revertSelector) external;
    function assume(bool condition) external pure;
    function addr(uint256 privateKey) external pure returns (address);
    /// @dev Records the gas of the last external call as `name` in `snapshots/<group>.json`.
    function snapshotGasLastCall(string calldata group, string calldata name) external returns (uint256 gasUsed);
    function toString(uint256 value) external pure returns (string memory);
    /// @dev Records `value` as `name` in `snapshots/<group>.json`.
    function snapshotValue(string calldata group, string calldata name, uint256 value) external;
}

/// @notice Minimal test base: the cheatcode handle, assertions that revert with a message, a
/// `bound` helper and the `targetContracts` hook the invariant runner reads.
abstract contract Test {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    address[] private _targetContracts;

    function targetContract(address target) internal {
        _targetContracts.push(target);
    }

    /// @dev Read by the invariant runner (same name and shape as forge-std's StdInvariant).
    function targetContracts() public view returns (address[] memory) {
        return _targetContracts;
    }

    function assertTrue(bool condition, string memory message) internal pure {
        if (!condition) revert(message);
    }

    function assertEq(uint256 a, uint256 b, string memory message) internal pure {
        if (a != b) revert(string.concat(message, ": ", _str(a), " != ", _str(b)));
    }

    function assertEq(address a, address b, string memory message) internal pure {
        if (a != b) revert(message);
    }

    function assertLe(uint256 a, uint256 b, string memory message) internal pure {
        if (a > b) revert(string.concat(message, ": ", _str(a), " > ", _str(b)));
    }

    /// @dev Maps `x` into [min, max] (uniformly enough for tests).
    function bound(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        require(min <= max, "bound: min > max");
        uint256 size = max - min;
        if (size == type(uint256).max) return x;
        return min + (x % (size + 1));
    }

    function _str(uint256 v) private pure returns (string memory) {
        if (v == 0) return "0";
        bytes memory b = new bytes(78);
        uint256 i = 78;
        while (v != 0) {
            b[--i] = bytes1(uint8(48 + (v % 10)));
            v /= 10;
        }
        bytes memory out = new bytes(78 - i);
        for (uint256 j; j < out.length; ++j) out[j] = b[i + j];
        return string(out);
    }
}
