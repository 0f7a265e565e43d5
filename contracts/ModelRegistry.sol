// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IModelRegistry} from "./interfaces/IModelRegistry.sol";

/// @title ModelRegistry
/// @notice Registry of the models Verity serves. Anyone may register a model; its owner may
/// change its price and deprecate it. Owner, royalty, fee token, mode and commitments never
/// change after registration, so requests made before a price change keep their terms.
contract ModelRegistry is IModelRegistry {
    /// @notice The largest royalty a model owner may take, in basis points.
    uint16 public constant MAX_ROYALTY_BPS = 5000;
    /// @notice The largest rank of an input or output shape.
    uint256 public constant MAX_RANK = 8;

    mapping(uint256 modelId => Model) private _models;
    uint256 private _modelCount;

    /// @inheritdoc IModelRegistry
    /// @dev Requirements: a non-zero `modelHash` and a non-empty `contentId`; `mode` is
    /// `Attested` (v1); `royaltyBps <= MAX_ROYALTY_BPS`; both shapes non-empty, of rank at most
    /// `MAX_RANK` and with no zero dimension. Emits a {ModelRegistered} event.
    function register(RegisterParams calldata params) external returns (uint256 modelId) {
        // INVARIANT: a model is bound to its bytes: both commitments are present.
        if (params.modelHash == bytes32(0) || bytes(params.contentId).length == 0) revert ModelContentMissing();
        // INVARIANT: v1 settles Attested results only; other modes need verifiers not yet built.
        if (params.mode != VerificationMode.Attested) revert ModelModeUnsupported(params.mode);
        // INVARIANT: the royalty takes at most half of every fee (with the protocol fee at its
        // 10 % cap, the provider keeps at least 40 %).
        if (params.royaltyBps > MAX_ROYALTY_BPS) revert ModelRoyaltyTooHigh(params.royaltyBps, MAX_ROYALTY_BPS);
        _checkShape(params.inputShape);
        _checkShape(params.outputShape);

        unchecked {
            // Cannot overflow: one id per transaction.
            modelId = ++_modelCount;
        }
        Model storage model = _models[modelId];
        model.owner = msg.sender;
        model.mode = params.mode;
        model.royaltyBps = params.royaltyBps;
        model.feeToken = params.feeToken;
        model.price = params.price;
        model.modelHash = params.modelHash;
        model.contentId = params.contentId;
        model.inputShape = params.inputShape;
        model.outputShape = params.outputShape;

        emit ModelRegistered(
            modelId,
            msg.sender,
            params.modelHash,
            params.contentId,
            params.mode,
            params.feeToken,
            params.price,
            params.royaltyBps
        );
    }

    /// @inheritdoc IModelRegistry
    /// @dev Requirements: the caller owns the model and it is not deprecated. Requests already
    /// made keep the fee they escrowed. Emits a {ModelPriceUpdated} event.
    function updatePrice(uint256 modelId, uint256 newPrice) external {
        Model storage model = _ownedActive(modelId);
        uint256 oldPrice = model.price;
        model.price = newPrice;
        emit ModelPriceUpdated(modelId, oldPrice, newPrice);
    }

    /// @inheritdoc IModelRegistry
    /// @dev Requirements: the caller owns the model and it is not deprecated yet. Open requests
    /// for the model can still be served and settled. Emits a {ModelDeprecated} event.
    function deprecate(uint256 modelId) external {
        Model storage model = _ownedActive(modelId);
        model.deprecated = true;
        emit ModelDeprecated(modelId);
    }

    /// @inheritdoc IModelRegistry
    function getModel(uint256 modelId) external view returns (Model memory) {
        return _existing(modelId);
    }

    /// @inheritdoc IModelRegistry
    function getActiveModel(uint256 modelId) external view returns (Model memory) {
        return _active(modelId);
    }

    /// @inheritdoc IModelRegistry
    function getActiveTerms(uint256 modelId) external view returns (ModelTerms memory terms) {
        Model storage model = _active(modelId);
        terms = ModelTerms({
            owner: model.owner,
            mode: model.mode,
            royaltyBps: model.royaltyBps,
            feeToken: model.feeToken,
            price: model.price
        });
    }

    /// @inheritdoc IModelRegistry
    function royaltyInfo(uint256 modelId) external view returns (address owner, uint16 royaltyBps) {
        Model storage model = _existing(modelId);
        return (model.owner, model.royaltyBps);
    }

    /// @inheritdoc IModelRegistry
    function modelCount() external view returns (uint256) {
        return _modelCount;
    }

    function _existing(uint256 modelId) private view returns (Model storage model) {
        model = _models[modelId];
        // INVARIANT: every registered model has an owner (the registering account).
        if (model.owner == address(0)) revert ModelUnknown(modelId);
    }

    function _active(uint256 modelId) private view returns (Model storage model) {
        model = _existing(modelId);
        // INVARIANT: a deprecated model takes no new requests.
        if (model.deprecated) revert ModelIsDeprecated(modelId);
    }

    function _ownedActive(uint256 modelId) private view returns (Model storage model) {
        model = _existing(modelId);
        // INVARIANT: only the owner changes a model.
        if (model.owner != msg.sender) revert ModelNotOwner(modelId, msg.sender);
        if (model.deprecated) revert ModelIsDeprecated(modelId);
    }

    function _checkShape(uint32[] calldata shape) private pure {
        uint256 rank = shape.length;
        // INVARIANT: a tensor has between 1 and MAX_RANK dimensions, none of them empty.
        if (rank == 0 || rank > MAX_RANK) revert ModelShapeInvalid();
        for (uint256 i; i < rank; ++i) {
            if (shape[i] == 0) revert ModelShapeInvalid();
        }
    }
}
