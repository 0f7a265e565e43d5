// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IInferenceMarket} from "../../../contracts/interfaces/IInferenceMarket.sol";
import {IModelRegistry} from "../../../contracts/interfaces/IModelRegistry.sol";
import {InferenceMarket} from "../../../contracts/InferenceMarket.sol";
import {ModelRegistry} from "../../../contracts/ModelRegistry.sol";
import {ProviderRegistry} from "../../../contracts/ProviderRegistry.sol";
import {TestToken} from "../../../contracts/test/TestToken.sol";

/// @notice Deploys registries, market (named by the provider registry) and a token, all
/// administered by `this`.
library Deploy {
    /// @notice The canonical header of the int8 [4] tensors of {params}' models: version 1,
    /// dtype 1 (int8), rank 1, dim 4 (big-endian).
    bytes internal constant HEADER = hex"01_01_01_00000004";

    function system(
        address treasury,
        uint16 protocolFeeBps,
        uint256 claimPenalty
    ) internal returns (ModelRegistry models, ProviderRegistry providers, InferenceMarket market, TestToken token) {
        models = new ModelRegistry(1, 1 days);
        providers = new ProviderRegistry(address(this), 1 ether, 7 days);
        market = new InferenceMarket(
            address(this),
            address(models),
            address(providers),
            treasury,
            protocolFeeBps,
            claimPenalty
        );
        providers.setMarket(address(market));
        token = new TestToken();
    }

    function params(
        address feeToken,
        uint256 price,
        uint16 royaltyBps
    ) internal pure returns (IModelRegistry.RegisterParams memory p) {
        uint32[] memory shape = new uint32[](1);
        shape[0] = 4;
        p = IModelRegistry.RegisterParams({
            modelHash: keccak256("model"),
            contentId: "bafy-model",
            mode: IModelRegistry.VerificationMode.Attested,
            feeToken: feeToken,
            price: price,
            royaltyBps: royaltyBps,
            inputShape: shape,
            outputShape: shape,
            inputDtype: 1,
            outputDtype: 1,
            verifier: address(0),
            weightsRoot: bytes32(0),
            layoutRoot: bytes32(0),
            layerCount: 0,
            challengeWindow: 0
        });
    }

    /// @notice The canonical int8 [4] tensor of `elements` (an input or output of {params}' models).
    function tensor(bytes4 elements) internal pure returns (bytes memory) {
        return abi.encodePacked(HEADER, elements);
    }

    /// @notice The {IInferenceMarket.RequestParams} of a request made by `requester` with
    /// `input`, a fee of `fee` in `token` (the model's price) and the callback given.
    function request(
        address requester,
        address token,
        uint256 fee,
        address callback,
        uint32 callbackGasLimit,
        bytes memory input
    ) internal pure returns (IInferenceMarket.RequestParams memory) {
        return
            IInferenceMarket.RequestParams({
                requester: requester,
                feeToken: token,
                fee: uint96(fee),
                callback: callback,
                callbackGasLimit: callbackGasLimit,
                inputHash: keccak256(input)
            });
    }
}
