// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice Test-only stand-in for the guard agent of {Guestbook}: takes tasks as
/// {IAgentAccount-postTask} does (or refuses them, as a paused agent would), and hides posts as
/// the agent's action would.
contract GuestbookGuardStub {
    error StubRefused();

    event TaskTaken(uint256 indexed taskId, address indexed poster, uint256 fee, bytes data);

    bool public refuse;
    uint256 public taskCount;

    function setRefuse(bool refuse_) external {
        refuse = refuse_;
    }

    function postTask(bytes calldata data) external payable returns (uint256 taskId) {
        if (refuse) revert StubRefused();
        taskId = taskCount;
        ++taskCount;
        emit TaskTaken(taskId, msg.sender, msg.value, data);
    }

    function hide(address guestbook, uint256 postId) external {
        (bool ok, bytes memory ret) = guestbook.call(abi.encodeWithSignature("hide(uint256)", postId));
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret))
            }
        }
    }
}
