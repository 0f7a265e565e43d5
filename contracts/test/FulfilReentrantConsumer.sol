// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IInferenceConsumer} from "../interfaces/IInferenceConsumer.sol";
import {IInferenceMarket} from "../interfaces/IInferenceMarket.sol";

/// @notice Test-only requester and consumer whose callback, run inside a claim-free fulfilment,
/// checks `balance == escrowed + owed` of ETH and then tries to re-enter the market: a
/// withdrawal of its own credit, or a fulfilment (single or batch) of request `victim`.
contract FulfilReentrantConsumer is IInferenceConsumer {
    enum Attack {
        Withdraw,
        Fulfil,
        FulfilBatch
    }

    IInferenceMarket public immutable market;
    Attack public attack;
    uint256 public victim;
    IInferenceMarket.RequestParams private _victimParams;
    uint256 public calls;
    bool public conservedInCallback;
    bool public reentered;
    bytes public reentryError;

    constructor(IInferenceMarket market_) {
        market = market_;
    }

    function setAttack(Attack attack_, uint256 victim_, IInferenceMarket.RequestParams calldata params) external {
        attack = attack_;
        victim = victim_;
        _victimParams = params;
    }

    function request(uint256 modelId, bytes calldata input, uint256 maxFee, uint64 deadline) external payable {
        market.requestInference{value: msg.value}(modelId, input, maxFee, deadline, address(this), 300_000);
    }

    receive() external payable {}

    function onInferenceResult(uint256, bytes calldata output) external {
        ++calls;
        conservedInCallback = address(market).balance == market.escrowed(address(0)) + market.owed(address(0));
        bytes memory data;
        if (attack == Attack.Withdraw) {
            data = abi.encodeCall(IInferenceMarket.withdraw, (address(0)));
        } else if (attack == Attack.Fulfil) {
            data = abi.encodeCall(IInferenceMarket.fulfil, (victim, _victimParams, output));
        } else {
            uint256[] memory ids = new uint256[](1);
            IInferenceMarket.RequestParams[] memory params = new IInferenceMarket.RequestParams[](1);
            bytes[] memory outputs = new bytes[](1);
            ids[0] = victim;
            params[0] = _victimParams;
            outputs[0] = output;
            data = abi.encodeCall(IInferenceMarket.fulfilBatch, (ids, params, outputs));
        }
        // The reentry attempt is the point of this mock.
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, bytes memory err) = address(market).call(data);
        reentered = ok;
        reentryError = err;
    }
}
