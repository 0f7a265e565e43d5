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
    /// @notice The most layers an `Optimistic` model may have: the dispute game compares the
    /// two traces' layer roots in one loop at challenge time.
    uint32 public constant MAX_LAYERS = 1024;

    mapping(uint256 modelId => Model) private _models;
    uint256 private _modelCount;

    /// @inheritdoc IModelRegistry
    /// @dev Requirements: a non-zero `modelHash` and a non-empty `contentId`;
    /// `royaltyBps <= MAX_ROYALTY_BPS`; both shapes non-empty, of rank at most `MAX_RANK` and
    /// with no zero dimension; the verification fields fit the mode (see
    /// {ModelVerificationInvalid}). Emits a {ModelRegistered} event and, for `Zk` and
    /// `Optimistic` models, a {ModelVerificationRegistered} event.
    function register(RegisterParams calldata params) external returns (uint256 modelId) {
        // INVARIANT: a model is bound to its bytes: both commitments are present.
        if (params.modelHash == bytes32(0) || bytes(params.contentId).length == 0) revert ModelContentMissing();
        _checkVerification(params);
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
        VerificationMode mode = params.mode;
        if (mode != VerificationMode.Attested) _storeVerification(model, params);

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
        if (mode != VerificationMode.Attested) {
            emit ModelVerificationRegistered(
                modelId,
                params.verifier,
                params.weightsRoot,
                params.layoutRoot,
                params.layerCount,
                params.challengeWindow
            );
        }
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
    function verificationOf(uint256 modelId) external view returns (Verification memory v) {
        Model storage model = _existing(modelId);
        v = Verification({
            mode: model.mode,
            verifier: model.verifier,
            layerCount: model.layerCount,
            challengeWindow: model.challengeWindow,
            weightsRoot: model.weightsRoot,
            layoutRoot: model.layoutRoot
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

    /// @dev Stores the fields checked by {_checkVerification} (zero ones are skipped: cheaper).
    function _storeVerification(Model storage model, RegisterParams calldata p) private {
        if (p.mode == VerificationMode.Zk) {
            model.verifier = p.verifier;
        } else {
            model.weightsRoot = p.weightsRoot;
            model.layoutRoot = p.layoutRoot;
            model.layerCount = p.layerCount;
            model.challengeWindow = p.challengeWindow;
        }
    }

    /// @dev Reverts with {ModelVerificationInvalid} unless the verification fields fit the mode.
    function _checkVerification(RegisterParams calldata p) private pure {
        VerificationMode mode = p.mode;
        bool zkFields = p.verifier != address(0);
        bool optimisticFields =
            p.weightsRoot != bytes32(0) || p.layoutRoot != bytes32(0) || p.layerCount != 0 || p.challengeWindow != 0;
        bool ok;
        if (mode == VerificationMode.Attested) {
            ok = !zkFields && !optimisticFields;
        } else if (mode == VerificationMode.Zk) {
            // INVARIANT: a Zk result is final at submission, so a verifier must check it.
            ok = zkFields && !optimisticFields;
        } else {
            // INVARIANT: an Optimistic result can be disputed: the game needs the weights and
            // layout commitments, a bounded layer count and a window to challenge in.
            ok =
                !zkFields &&
                p.weightsRoot != bytes32(0) &&
                p.layoutRoot != bytes32(0) &&
                p.layerCount != 0 &&
                p.layerCount <= MAX_LAYERS &&
                p.challengeWindow != 0;
        }
        if (!ok) revert ModelVerificationInvalid(mode);
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
