// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice Test-only input source of a `ViewCall` agent: `features(arg)` returns the tensor set
/// for `arg` (else the default one), or misbehaves as set per argument.
contract AgentInputSource {
    error NoSuchInput(uint256 arg);

    enum Behaviour {
        Normal,
        Revert,
        Empty,
        /// Burns about 300k gas, then answers normally.
        Expensive,
        /// Returns 5 raw bytes that are no ABI encoding of `bytes`.
        Garbage
    }

    bytes public defaultTensor;
    mapping(uint256 arg => bytes) private _tensors;
    mapping(uint256 arg => Behaviour) public behaviour;

    function setDefault(bytes calldata tensor) external {
        defaultTensor = tensor;
    }

    function set(uint256 arg, bytes calldata tensor) external {
        _tensors[arg] = tensor;
    }

    function setBehaviour(uint256 arg, Behaviour b) external {
        behaviour[arg] = b;
    }

    function features(uint256 arg) external view returns (bytes memory) {
        Behaviour b = behaviour[arg];
        if (b == Behaviour.Revert) revert NoSuchInput(arg);
        if (b == Behaviour.Empty) return "";
        if (b == Behaviour.Garbage) {
            assembly {
                mstore(0, 0x0102030405000000000000000000000000000000000000000000000000000000)
                return(0, 5)
            }
        }
        if (b == Behaviour.Expensive) {
            bytes32 h;
            for (uint256 i; i < 1200; ++i) h = keccak256(abi.encode(h, i));
            if (h == bytes32(0)) return "";
        }
        bytes memory t = _tensors[arg];
        return t.length != 0 ? t : defaultTensor;
    }
}
