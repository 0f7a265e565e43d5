// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IProviderRegistry} from "../interfaces/IProviderRegistry.sol";

/// @notice Test-only provider (a contract) that, when its unbonded stake is paid out, tries to
/// re-enter the registry: a second {IProviderRegistry-withdrawUnbonded} and a new
/// {IProviderRegistry-requestUnbond} of stake it no longer has free.
contract ReentrantProvider {
    IProviderRegistry public immutable registry;
    uint256 public received;
    bool public reentered;
    bytes public withdrawError;
    bytes public unbondError;

    constructor(IProviderRegistry registry_) {
        registry = registry_;
    }

    function stake() external payable {
        registry.stake{value: msg.value}();
    }

    function optIn(uint256 modelId) external {
        registry.optIn(modelId);
    }

    function requestUnbond(uint256 amount) external {
        registry.requestUnbond(amount);
    }

    function withdrawUnbonded() external {
        registry.withdrawUnbonded();
    }

    // The reentry attempts on receiving ETH are the point of this mock.
    // solhint-disable-next-line no-complex-fallback
    receive() external payable {
        received += msg.value;
        if (reentered) return;
        reentered = true;
        try registry.withdrawUnbonded() {} catch (bytes memory err) {
            withdrawError = err;
        }
        uint256 free = registry.freeStakeOf(address(this));
        try registry.requestUnbond(free + 1) {} catch (bytes memory err) {
            unbondError = err;
        }
    }
}
