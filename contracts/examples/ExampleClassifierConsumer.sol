// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IInferenceMarket} from "../interfaces/IInferenceMarket.sol";
import {VerityConsumer} from "../consumer/VerityConsumer.sol";

/// @title ExampleClassifierConsumer
/// @notice A minimal dApp contract to copy: it asks the {InferenceMarket} to run one model
/// (priced in ETH) and keeps each result it is called back with.
/// @dev {VerityConsumer} makes the requests, records their ids and checks every callback: only
/// the market may deliver a result, and only for a request this contract made (anyone can make
/// a request naming this contract as its callback, with an input and a model of their choosing,
/// so the market's call proves only that some request settled, not that it is one of ours).
/// The contract is the requester of every request it makes, so the market credits refunds
/// (expired or failed requests, the part of `msg.value` above the price, claim penalties) to
/// it. {withdraw} pulls them from the market and forwards them to `owner`, whoever asked:
/// a dApp that lets strangers ask and wants to refund them should track who paid for what.
contract ExampleClassifierConsumer is VerityConsumer {
    using SafeERC20 for IERC20;

    /// @notice Forwarding ETH to `to` failed.
    error ConsumerTransferFailed(address to);

    /// @notice A result arrived for `requestId`.
    event ResultReceived(uint256 indexed requestId, bytes output);
    /// @notice Refunds in `token` (address(0) for ETH) were forwarded to the owner.
    event RefundForwarded(address indexed token, uint256 amount);

    /// @notice Gas the market gives {onInferenceResult}. Measured (the SDK's `estimateCallbackGas`,
    /// test/sdk/estimate-callback-gas.test.ts): 30,600 for an output of up to 31 bytes (the iris
    /// logits are 23), 30,600 + 22,200 per 32-byte word from 32 bytes on (storing the output);
    /// 200,000 covers outputs of up to 160 bytes with a 25 % margin.
    uint32 public constant CALLBACK_GAS_LIMIT = 200_000;

    uint256 public immutable modelId;
    /// @notice Receives every refund; the deployer.
    address public immutable owner;

    mapping(uint256 requestId => bytes) private _results;

    constructor(IInferenceMarket market_, uint256 modelId_) VerityConsumer(market_) {
        modelId = modelId_;
        owner = msg.sender;
    }

    /// @notice Only the market's refunds: everything else would be stuck.
    receive() external payable {
        if (msg.sender != address(market)) revert ConsumerNotMarket(msg.sender);
    }

    /// @notice Asks for a classification of `input`, paying up to `msg.value` (the market
    /// credits back what the model's price falls short of it), answered by `deadline`.
    /// @dev Emits the market's {IInferenceMarket.InferenceRequested} event.
    function ask(bytes calldata input, uint64 deadline) external payable returns (uint256 requestId) {
        requestId = _requestInference(modelId, input, msg.value, deadline, CALLBACK_GAS_LIMIT, msg.value);
    }

    /// @inheritdoc VerityConsumer
    /// @dev Keeps the output. Emits a {ResultReceived} event.
    function _onInferenceResult(uint256 requestId, bytes calldata output) internal override {
        _results[requestId] = output;
        emit ResultReceived(requestId, output);
    }

    /// @notice The output delivered for `requestId` (empty until it is Finalized).
    function resultOf(uint256 requestId) external view returns (bytes memory) {
        return _results[requestId];
    }

    /// @notice Pulls this contract's ETH credit from the market and forwards it to the owner.
    function withdrawRefund() external {
        withdraw(address(0));
    }

    /// @notice Pulls this contract's credit in `token` (address(0) for ETH) from the market and
    /// forwards what it holds of it to the owner. Anyone may call it; the money only goes to
    /// the owner. Reverts with the market's {IInferenceMarket.MarketNothingToWithdraw} if there
    /// is nothing. Emits a {RefundForwarded} event.
    function withdraw(address token) public {
        market.withdraw(token);
        uint256 amount;
        if (token == address(0)) {
            amount = address(this).balance;
            emit RefundForwarded(token, amount);
            (bool ok, ) = owner.call{value: amount}("");
            if (!ok) revert ConsumerTransferFailed(owner);
        } else {
            amount = IERC20(token).balanceOf(address(this));
            emit RefundForwarded(token, amount);
            IERC20(token).safeTransfer(owner, amount);
        }
    }
}
