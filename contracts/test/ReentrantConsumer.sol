// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IInferenceConsumer} from "../interfaces/IInferenceConsumer.sol";
import {IInferenceMarket} from "../interfaces/IInferenceMarket.sol";

/// @notice Test-only requester and consumer that tries to re-enter the market: from its ETH
/// `receive` during {IInferenceMarket.withdraw} (a second withdrawal) and from its callback
/// (a withdrawal of its own credit, which is allowed: settlement is complete by then).
contract ReentrantConsumer is IInferenceConsumer {
    IInferenceMarket public immutable market;
    bool public reentered;
    bool public reentryBlocked;
    bytes public reentryError;
    uint256 public received;
    bool public withdrawInCallback;
    bool public callbackWithdrew;

    constructor(IInferenceMarket market_) {
        market = market_;
    }

    function request(
        uint256 modelId,
        bytes calldata input,
        uint256 maxFee,
        uint64 deadline,
        uint32 gasLimit
    ) external payable returns (uint256) {
        return market.requestInference{value: msg.value}(modelId, input, maxFee, deadline, address(this), gasLimit);
    }

    function setWithdrawInCallback(bool on) external {
        withdrawInCallback = on;
    }

    function withdraw() external {
        market.withdraw(address(0));
    }

    // The reentry attempt on receiving ETH is the point of this mock.
    // solhint-disable-next-line no-complex-fallback
    receive() external payable {
        received += msg.value;
        if (!reentered) {
            reentered = true;
            try market.withdraw(address(0)) {} catch (bytes memory err) {
                reentryBlocked = true;
                reentryError = err;
            }
        }
    }

    function onInferenceResult(uint256, bytes calldata) external {
        if (withdrawInCallback) {
            market.withdraw(address(0));
            callbackWithdrew = true;
        }
    }
}
