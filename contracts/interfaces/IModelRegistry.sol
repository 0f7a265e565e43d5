// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IModelRegistry
/// @notice Registry of models that providers serve: who owns a model, what its bytes are, how
/// its results are verified and what a request for it costs.
interface IModelRegistry {
    /// @notice How results of a model are checked: `Attested` on the provider's word, `Zk` by a
    /// proof checked at submission by the model's {IProofVerifier}, `Optimistic` by a challenge
    /// window and the dispute game over the trace roots.
    enum VerificationMode {
        Attested,
        Zk,
        Optimistic
    }

    /// @notice A registered model.
    /// @dev `feeToken == address(0)` means the fee is paid in ETH. `verifier` is the
    /// {IProofVerifier} of a `Zk` model (zero otherwise). `weightsRoot`, `layoutRoot`,
    /// `layerCount` and `challengeWindow` are the dispute commitments of an `Optimistic` model
    /// (zero otherwise): `weightsRoot` (chunked Merkle root of the weights blob), `layoutRoot`
    /// (chunked Merkle root whose chunk `i` is the ABI-encoded `LayerSpec` of layer `i`, see
    /// `contracts/dispute/LayerSpec.sol`), `layerCount` and `challengeWindow` (seconds a result
    /// stays open to challenge). `inputDtype`/`outputDtype` with the shapes fix the one canonical
    /// encoding of inputs and outputs ({inputFormatOf}, {outputFormatOf}).
    struct Model {
        address owner;
        VerificationMode mode;
        bool deprecated;
        uint16 royaltyBps;
        address feeToken;
        address verifier;
        uint256 price;
        bytes32 modelHash;
        string contentId;
        uint32[] inputShape;
        uint32[] outputShape;
        bytes32 weightsRoot;
        bytes32 layoutRoot;
        uint32 layerCount;
        uint32 challengeWindow;
        uint8 inputDtype;
        uint8 outputDtype;
    }

    /// @notice The one canonical encoding (docs/protocol.md, "Canonical tensor bytes") of a
    /// model's input or output tensor: `keccak256` of its `headerLength`-byte header (version,
    /// dtype code, rank, big-endian dims) and its whole length in bytes, header included.
    struct TensorFormat {
        bytes32 headerHash;
        uint32 headerLength;
        uint64 byteLength;
    }

    /// @notice What the market and the dispute game read to check a result: see {Model}.
    struct Verification {
        VerificationMode mode;
        address verifier;
        uint32 layerCount;
        uint32 challengeWindow;
        bytes32 weightsRoot;
        bytes32 layoutRoot;
    }

    /// @notice The part of a model that prices and pays a request: what {getActiveTerms} returns.
    /// @dev Added for the market: reading it costs three storage reads where {getActiveModel}
    /// copies the content id and both shapes.
    struct ModelTerms {
        address owner;
        VerificationMode mode;
        uint16 royaltyBps;
        address feeToken;
        uint256 price;
    }

    /// @notice What {register} takes. The last five fields are for `Zk` (`verifier`) and
    /// `Optimistic` (the rest) models and must be zero for the other modes.
    struct RegisterParams {
        bytes32 modelHash;
        string contentId;
        VerificationMode mode;
        address feeToken;
        uint256 price;
        uint16 royaltyBps;
        uint32[] inputShape;
        uint32[] outputShape;
        /// Dtype codes of the canonical tensor format: 1 int8, 2 int32, 3 float32, 4 int64, 5 uint8.
        uint8 inputDtype;
        uint8 outputDtype;
        address verifier;
        bytes32 weightsRoot;
        bytes32 layoutRoot;
        uint32 layerCount;
        uint32 challengeWindow;
    }

    /// @notice The model `modelId` does not exist.
    error ModelUnknown(uint256 modelId);
    /// @notice The model `modelId` is deprecated and takes no new requests.
    error ModelIsDeprecated(uint256 modelId);
    /// @notice `caller` is not the owner of model `modelId`.
    error ModelNotOwner(uint256 modelId, address caller);
    /// @notice The royalty `royaltyBps` is above the maximum `maxBps`.
    error ModelRoyaltyTooHigh(uint16 royaltyBps, uint16 maxBps);
    /// @notice The model hash is zero or the content id is empty.
    error ModelContentMissing();
    /// @notice A shape is empty, longer than `maxRank`, has a zero dimension or more than
    /// 2^24 elements.
    error ModelShapeInvalid();
    /// @notice `dtype` is not a dtype code of the canonical tensor format, or (`Zk` and
    /// `Optimistic` models) is float32, whose bits no verifier or game can pin down.
    error ModelDtypeInvalid(uint8 dtype);
    /// @notice A `Zk` or `Optimistic` model's input (`isOutput` false) or output tensor takes
    /// `byteLength` bytes, more than `maxBytes`: the chain could not take or check it.
    error ModelTensorTooLarge(bool isOutput, uint256 byteLength, uint256 maxBytes);
    /// @notice An Optimistic decoder (int32 `[1, P_max]` input) whose longest generation,
    /// `P_max + N − 1` passes, exceeds `Generation.MAX_PASSES`.
    error ModelGenerationTooLong(uint256 passes, uint256 maxPasses);
    /// @notice An `Optimistic` model's challenge window `window` is outside `[minWindow, maxWindow]`.
    error ModelChallengeWindowInvalid(uint32 window, uint32 minWindow, uint32 maxWindow);
    /// @notice Deployment: challenge window bounds with `minWindow == 0` or `minWindow > maxWindow`.
    error ModelChallengeWindowBoundsInvalid(uint32 minWindow, uint32 maxWindow);
    /// @notice A `Zk` model's verifier `verifier` has no code: no proof could ever be checked.
    error ModelVerifierHasNoCode(address verifier);
    /// @notice The verification fields do not fit `mode`: a `Zk` model needs a verifier, an
    /// `Optimistic` one a weights root, a layout root, `1 <= layerCount <= MAX_LAYERS` and a
    /// challenge window; fields of other modes must be zero.
    error ModelVerificationInvalid(VerificationMode mode);

    /// @notice Emitted when a model is registered.
    event ModelRegistered(
        uint256 indexed modelId,
        address indexed owner,
        bytes32 modelHash,
        string contentId,
        VerificationMode mode,
        address feeToken,
        uint256 price,
        uint16 royaltyBps
    );
    /// @notice Emitted with {ModelRegistered} for a `Zk` or `Optimistic` model: its verification
    /// fields (see {Model}).
    event ModelVerificationRegistered(
        uint256 indexed modelId,
        address verifier,
        bytes32 weightsRoot,
        bytes32 layoutRoot,
        uint32 layerCount,
        uint32 challengeWindow
    );
    /// @notice Emitted when the owner changes the price of a model.
    event ModelPriceUpdated(uint256 indexed modelId, uint256 oldPrice, uint256 newPrice);
    /// @notice Emitted when the owner deprecates a model.
    event ModelDeprecated(uint256 indexed modelId);

    /// @notice Registers a model owned by the caller and returns its id (ids start at 1).
    function register(RegisterParams calldata params) external returns (uint256 modelId);

    /// @notice Sets the price of a request for model `modelId`. Only the owner may.
    function updatePrice(uint256 modelId, uint256 newPrice) external;

    /// @notice Deprecates model `modelId` for good: it takes no new requests. Only the owner may.
    function deprecate(uint256 modelId) external;

    /// @notice Returns model `modelId`; reverts with {ModelUnknown} if there is none.
    function getModel(uint256 modelId) external view returns (Model memory);

    /// @notice Returns model `modelId` if it exists and is not deprecated, and reverts otherwise.
    function getActiveModel(uint256 modelId) external view returns (Model memory);

    /// @notice Returns the terms of model `modelId` if it exists and is not deprecated, and
    /// reverts with {ModelUnknown} or {ModelIsDeprecated} otherwise.
    function getActiveTerms(uint256 modelId) external view returns (ModelTerms memory);

    /// @notice How results of model `modelId` (deprecated or not) are checked; reverts with
    /// {ModelUnknown} if there is none. Never changes after registration.
    function verificationOf(uint256 modelId) external view returns (Verification memory);

    /// @notice Owner and royalty of model `modelId`, deprecated or not; reverts with
    /// {ModelUnknown} if there is none. Neither changes after registration.
    function royaltyInfo(uint256 modelId) external view returns (address owner, uint16 royaltyBps);

    /// @notice The canonical format of model `modelId`'s input tensor (deprecated or not);
    /// reverts with {ModelUnknown} if there is none.
    function inputFormatOf(uint256 modelId) external view returns (TensorFormat memory);

    /// @notice The canonical format of model `modelId`'s output tensor (deprecated or not);
    /// reverts with {ModelUnknown} if there is none.
    function outputFormatOf(uint256 modelId) external view returns (TensorFormat memory);

    /// @notice The shortest and longest challenge window an `Optimistic` model may register.
    function challengeWindowBounds() external view returns (uint32 minWindow, uint32 maxWindow);

    /// @notice The number of models registered so far (the highest id).
    function modelCount() external view returns (uint256);
}
