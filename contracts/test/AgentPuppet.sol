// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice Test-only stand-in for an agent's action target and for a keeper contract: its
/// actions record their argument and caller and may first make one configured call (to come
/// back into the agent or the market); its `receive` may refuse ETH or make another configured
/// call; `exec` lets a test act as this contract (wake an agent, claim and submit as a provider).
contract AgentPuppet {
    error ConfiguredCallFailed();
    error ActionFailed();
    error EthRefused();

    struct Call {
        address target;
        bytes data;
    }

    /// Made by {act} and {actNoArg} before recording, and by `receive`.
    Call private _onAct;
    Call private _onReceive;
    /// {act} reverts when its configured call failed.
    bool public strict;
    bool public refuseEth;

    uint256 public acts;
    uint256 public lastArg;
    address public lastCaller;
    uint256 public lastGas;
    /// What the last configured call returned.
    bool public lastOk;
    bytes public lastResult;
    uint256 public received;

    event Acted(address indexed caller, uint256 arg, uint256 gasLeft);

    function setOnAct(address target, bytes calldata data, bool strict_) external {
        _onAct = Call(target, data);
        strict = strict_;
    }

    function setOnReceive(address target, bytes calldata data) external {
        _onReceive = Call(target, data);
    }

    function setRefuseEth(bool refuse) external {
        refuseEth = refuse;
    }

    /// Calls `target` with `data` and `msg.value` as this contract; bubbles a revert up.
    function exec(address target, bytes calldata data) external payable returns (bytes memory result) {
        bool ok;
        (ok, result) = target.call{value: msg.value}(data);
        if (!ok) {
            assembly {
                revert(add(result, 0x20), mload(result))
            }
        }
    }

    function act(uint256 arg) public {
        uint256 g = gasleft();
        if (_onAct.target != address(0)) {
            (lastOk, lastResult) = _onAct.target.call(_onAct.data);
            if (strict && !lastOk) revert ConfiguredCallFailed();
        }
        ++acts;
        lastArg = arg;
        lastCaller = msg.sender;
        lastGas = g;
        emit Acted(msg.sender, arg, g);
    }

    function actNoArg() external {
        act(type(uint256).max);
    }

    uint256 public pings;

    /// The simplest action worth the name: one counter (for gas figures).
    function ping(uint256) external {
        ++pings;
    }

    /// An action that always reverts.
    function fail(uint256) external pure {
        revert ActionFailed();
    }

    /// An action that burns all the gas it is given.
    function burn(uint256) external pure {
        while (true) {}
    }

    /// An action that returns 200 kB (a return bomb).
    function bomb(uint256) external pure {
        assembly {
            return(0, 200000)
        }
    }

    // solhint-disable-next-line no-complex-fallback
    receive() external payable {
        if (refuseEth) revert EthRefused();
        received += msg.value;
        if (_onReceive.target != address(0)) (lastOk, lastResult) = _onReceive.target.call(_onReceive.data);
    }
}
