// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IModelRegistry} from "./interfaces/IModelRegistry.sol";
import {Generation} from "./dispute/Generation.sol";

/// @title ModelRegistry
/// @notice Registry of the models Verity serves. Anyone may register a model; its owner may
/// change its price and deprecate it. Owner, royalty, fee token, mode, tensor formats and
/// commitments never change after registration, so requests made before a price change keep
/// their terms. The registry refuses what no honest owner would register: shapes or tensors too
/// large for the chain to take, float tensors for a verified mode, a Zk verifier without code,
/// an Optimistic window outside the deployment's bounds.
contract ModelRegistry is IModelRegistry {
    /// @notice The largest royalty a model owner may take, in basis points.
    uint16 public constant MAX_ROYALTY_BPS = 5000;
    /// @notice The largest rank of an input or output shape.
    uint256 public constant MAX_RANK = 8;
    /// @notice The most elements of an input or output tensor (the canonical format's limit).
    uint256 public constant MAX_ELEMENTS = 1 << 24;
    /// @notice The most layers an `Optimistic` model may have: the dispute game compares the
    /// two traces' layer roots in one loop at challenge time.
    uint32 public constant MAX_LAYERS = 1024;
    /// @notice The longest input (canonical bytes, header included) of a `Zk` or `Optimistic`
    /// model: such inputs travel inline, are checked at request and re-read by a challenge, which
    /// must stay under the game's `MOVE_GAS_CEILING` with the roots of `MAX_LAYERS` layers too
    /// (calldata costs up to 40 gas a byte under EIP-7623).
    uint256 public constant MAX_INPUT_BYTES = 32_768;
    /// @notice The longest output of a `Zk` or `Optimistic` model: the market stores it and
    /// checks it whole at submission.
    uint256 public constant MAX_OUTPUT_BYTES = 4096;

    uint8 private constant _FORMAT_VERSION = 0x01;
    uint8 private constant _DTYPE_INT8 = 1;
    uint8 private constant _DTYPE_INT32 = 2;
    uint8 private constant _DTYPE_FLOAT32 = 3;
    uint8 private constant _DTYPE_INT64 = 4;
    uint8 private constant _DTYPE_UINT8 = 5;

    /// @dev The canonical formats of a model's input and output, fixed at registration.
    struct Formats {
        TensorFormat input;
        TensorFormat output;
    }

    mapping(uint256 modelId => Model) private _models;
    mapping(uint256 modelId => Formats) private _formats;
    uint256 private _modelCount;
    uint32 private immutable _minChallengeWindow;
    uint32 private immutable _maxChallengeWindow;

    /// @param minChallengeWindow_ the shortest challenge window an Optimistic model may have
    /// (at least 1 s; hours on a public chain, so that watchers offline for a while still see
    /// every result).
    /// @param maxChallengeWindow_ the longest one: the dispute game checks at deployment that
    /// the providers' unbonding delay covers it plus a game's two clocks.
    constructor(uint32 minChallengeWindow_, uint32 maxChallengeWindow_) {
        if (minChallengeWindow_ == 0 || minChallengeWindow_ > maxChallengeWindow_) {
            revert ModelChallengeWindowBoundsInvalid(minChallengeWindow_, maxChallengeWindow_);
        }
        _minChallengeWindow = minChallengeWindow_;
        _maxChallengeWindow = maxChallengeWindow_;
    }

    /// @inheritdoc IModelRegistry
    /// @dev Requirements: a non-zero `modelHash` and a non-empty `contentId`;
    /// `royaltyBps <= MAX_ROYALTY_BPS`; both shapes non-empty, of rank at most `MAX_RANK`, with
    /// no zero dimension and at most `MAX_ELEMENTS` elements; both dtypes known
    /// ({ModelDtypeInvalid}); the verification fields fit the mode (see
    /// {ModelVerificationInvalid}); for `Zk` and `Optimistic` models integer dtypes, tensors of
    /// at most `MAX_INPUT_BYTES` / `MAX_OUTPUT_BYTES` ({ModelTensorTooLarge}), a verifier with code
    /// ({ModelVerifierHasNoCode}) or a window within {challengeWindowBounds}
    /// ({ModelChallengeWindowInvalid}); an `Optimistic` decoder (int32 `[1, P_max]` input) at most
    /// `Generation.MAX_PASSES` passes, `P_max + N − 1` ({ModelGenerationTooLong}). Emits a {ModelRegistered} event and, for `Zk` and
    /// `Optimistic` models, a {ModelVerificationRegistered} event.
    function register(RegisterParams calldata params) external returns (uint256 modelId) {
        // INVARIANT: a model is bound to its bytes: both commitments are present.
        if (params.modelHash == bytes32(0) || bytes(params.contentId).length == 0) revert ModelContentMissing();
        _checkVerification(params);
        // INVARIANT: the royalty takes at most half of every fee (with the protocol fee at its
        // 10 % cap, the provider keeps at least 40 %).
        if (params.royaltyBps > MAX_ROYALTY_BPS) revert ModelRoyaltyTooHigh(params.royaltyBps, MAX_ROYALTY_BPS);

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
        model.inputDtype = params.inputDtype;
        model.outputDtype = params.outputDtype;
        _storeFormats(modelId, params);
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
    function inputFormatOf(uint256 modelId) external view returns (TensorFormat memory) {
        _existing(modelId);
        return _formats[modelId].input;
    }

    /// @inheritdoc IModelRegistry
    function outputFormatOf(uint256 modelId) external view returns (TensorFormat memory) {
        _existing(modelId);
        return _formats[modelId].output;
    }

    /// @inheritdoc IModelRegistry
    function challengeWindowBounds() external view returns (uint32 minWindow, uint32 maxWindow) {
        return (_minChallengeWindow, _maxChallengeWindow);
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

    /// @dev Reverts with {ModelVerificationInvalid} unless the verification fields fit the mode,
    /// and with {ModelVerifierHasNoCode} or {ModelChallengeWindowInvalid} for values no honest
    /// owner would register.
    function _checkVerification(RegisterParams calldata p) private view {
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
        // INVARIANT: a Zk result can be proven at all.
        if (mode == VerificationMode.Zk && p.verifier.code.length == 0) revert ModelVerifierHasNoCode(p.verifier);
        // INVARIANT: watchers get a window long enough to see every result, and the providers'
        // unbonding delay covers it (checked against the maximum when the game is deployed).
        if (
            mode == VerificationMode.Optimistic &&
            (p.challengeWindow < _minChallengeWindow || p.challengeWindow > _maxChallengeWindow)
        ) {
            revert ModelChallengeWindowInvalid(p.challengeWindow, _minChallengeWindow, _maxChallengeWindow);
        }
    }

    /// @dev Checks and stores the canonical formats of a new model's input and output.
    function _storeFormats(uint256 modelId, RegisterParams calldata params) private {
        bool verified = params.mode != VerificationMode.Attested;
        TensorFormat memory input = _format(params.inputShape, params.inputDtype, verified);
        TensorFormat memory output = _format(params.outputShape, params.outputDtype, verified);
        // INVARIANT: what a proof or a game reads fits a transaction: inputs travel inline and are
        // re-read by a challenge, outputs are stored and checked whole at submission.
        if (verified && input.byteLength > MAX_INPUT_BYTES) {
            revert ModelTensorTooLarge(false, input.byteLength, MAX_INPUT_BYTES);
        }
        if (verified && output.byteLength > MAX_OUTPUT_BYTES) {
            revert ModelTensorTooLarge(true, output.byteLength, MAX_OUTPUT_BYTES);
        }
        uint256 promptMax = Generation.promptMax(input);
        if (params.mode == VerificationMode.Optimistic && promptMax != 0) {
            // INVARIANT: a decoder's game lists one root per pass, T <= P_max + N − 1, in one
            // challenge's calldata; a longer generation could not be disputed under the move ceiling.
            uint256 passes = promptMax + (output.byteLength - output.headerLength) / 4 - 1;
            if (passes > Generation.MAX_PASSES) revert ModelGenerationTooLong(passes, Generation.MAX_PASSES);
        }
        Formats storage formats = _formats[modelId];
        formats.input = input;
        formats.output = output;
    }

    /// @dev The canonical format of a tensor of `shape` and `dtype`: its header's hash and
    /// length, and its whole length. Reverts with {ModelShapeInvalid} or {ModelDtypeInvalid}.
    function _format(
        uint32[] calldata shape,
        uint8 dtype,
        bool verified
    ) private pure returns (TensorFormat memory format) {
        uint256 rank = shape.length;
        // INVARIANT: a tensor has between 1 and MAX_RANK dimensions, none of them empty.
        if (rank == 0 || rank > MAX_RANK) revert ModelShapeInvalid();
        uint256 size = _dtypeSize(dtype);
        // INVARIANT: a verified mode pins every bit: no floats.
        if (size == 0 || (verified && dtype == _DTYPE_FLOAT32)) revert ModelDtypeInvalid(dtype);
        bytes memory header = abi.encodePacked(_FORMAT_VERSION, dtype, uint8(rank));
        uint256 count = 1;
        // Bounded: rank <= MAX_RANK.
        for (uint256 i; i < rank; ++i) {
            uint32 dim = shape[i];
            if (dim == 0) revert ModelShapeInvalid();
            count *= dim; // < 2^24 · 2^32 per step: no overflow before the check below
            if (count > MAX_ELEMENTS) revert ModelShapeInvalid();
            header = abi.encodePacked(header, dim);
        }
        format = TensorFormat({
            headerHash: keccak256(header),
            headerLength: uint32(header.length), // 3 + 4 · rank <= 35
            byteLength: uint64(header.length + count * size) // < 2^27
        });
    }

    /// @dev Bytes per element of a dtype code, 0 if the code is unknown.
    function _dtypeSize(uint8 dtype) private pure returns (uint256) {
        if (dtype == _DTYPE_INT8 || dtype == _DTYPE_UINT8) return 1;
        if (dtype == _DTYPE_INT32 || dtype == _DTYPE_FLOAT32) return 4;
        if (dtype == _DTYPE_INT64) return 8;
        return 0;
    }
}
