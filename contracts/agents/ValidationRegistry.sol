// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IValidationRegistry} from "./IValidationRegistry.sol";

/// @title ValidationRegistry
/// @notice ERC-8004's Validation Registry: the owner of an agent (or an address approved for
/// its identity token) asks a validator to validate something the agent did, naming it by
/// `requestHash`; the validator answers with a score from 0 (failed) to 100 (passed), as often
/// as it likes (the last answer stands), and anyone reads the answers back, per request, per
/// agent and per validator.
/// @dev A non-upgradeable port of the reference `ValidationRegistryUpgradeable`
/// (erc-8004/erc-8004-contracts, version 2.0.0): the same functions, events, storage of answers
/// and checks, in the same order, with named errors instead of revert strings and the identity
/// registry fixed at construction instead of by `initialize`. The identity registry is any
/// ERC-721 whose tokens are agents (Verity's {IAgentRegistry}).
contract ValidationRegistry is IValidationRegistry {
    /// @notice What is stored of a request: its validator and agent, and the last answer.
    /// @dev Validator, response, answered flag and time share one slot, so an answer rewrites
    /// that slot rather than filling new ones (the reference keeps seven slots).
    struct ValidationStatus {
        address validatorAddress;
        /// 0..100
        uint8 response;
        bool hasResponse;
        uint64 lastUpdate;
        uint256 agentId;
        bytes32 responseHash;
        string tag;
    }

    /// @notice The identity registry given to the constructor is the zero address.
    error ValidationZeroIdentityRegistry();
    /// @notice A request names the zero address as its validator.
    error ValidationZeroValidator();
    /// @notice A request with this hash was already made (requests are never replaced).
    error ValidationRequestExists(bytes32 requestHash);
    /// @notice `caller` is neither the owner of agent `agentId` nor approved for it.
    error ValidationNotAuthorized(uint256 agentId, address caller);
    /// @notice No request has this hash.
    error ValidationUnknownRequest(bytes32 requestHash);
    /// @notice `caller` is not the validator the request names.
    error ValidationNotValidator(bytes32 requestHash, address caller);
    /// @notice A response above 100.
    error ValidationResponseTooHigh(uint8 response);

    IERC721 private immutable _identityRegistry;

    mapping(bytes32 requestHash => ValidationStatus) private _validations;
    mapping(uint256 agentId => bytes32[]) private _agentValidations;
    mapping(address validatorAddress => bytes32[]) private _validatorRequests;

    /// @param identityRegistry the agent registry: the ERC-721 whose token owners (and approved
    /// addresses) may ask for validations of their agents.
    constructor(address identityRegistry) {
        if (identityRegistry == address(0)) revert ValidationZeroIdentityRegistry();
        _identityRegistry = IERC721(identityRegistry);
    }

    /// @notice The agent registry whose agents this registry validates.
    function getIdentityRegistry() external view returns (address) {
        return address(_identityRegistry);
    }

    /// @notice The owner of agent `agentId`, or an address approved for its token (by
    /// `approve` or `setApprovalForAll`), asks `validatorAddress` to validate what `requestHash`
    /// commits to (`requestURI` points to the data, if any). A hash can be requested once.
    /// Reverts with the identity registry's error if the agent does not exist.
    /// Emits {ValidationRequest}.
    function validationRequest(
        address validatorAddress,
        uint256 agentId,
        string calldata requestURI,
        bytes32 requestHash
    ) external {
        // INVARIANT: every stored request names a validator, so `validatorAddress != 0` marks
        // an existing request.
        if (validatorAddress == address(0)) revert ValidationZeroValidator();
        // INVARIANT: a request is never replaced: its validator and agent are fixed.
        if (_validations[requestHash].validatorAddress != address(0)) revert ValidationRequestExists(requestHash);
        // INVARIANT: only the agent's owner or an address it approved asks on its behalf.
        address owner = _identityRegistry.ownerOf(agentId);
        if (
            msg.sender != owner &&
            !_identityRegistry.isApprovedForAll(owner, msg.sender) &&
            _identityRegistry.getApproved(agentId) != msg.sender
        ) revert ValidationNotAuthorized(agentId, msg.sender);

        _validations[requestHash] = ValidationStatus({
            validatorAddress: validatorAddress,
            response: 0,
            hasResponse: false,
            lastUpdate: uint64(block.timestamp),
            agentId: agentId,
            responseHash: bytes32(0),
            tag: ""
        });
        _agentValidations[agentId].push(requestHash);
        _validatorRequests[validatorAddress].push(requestHash);

        emit ValidationRequest(validatorAddress, agentId, requestURI, requestHash);
    }

    /// @notice The validator a request names answers it: `response` from 0 to 100, with
    /// optional evidence (`responseURI`, its commitment `responseHash`) and `tag`. It may answer
    /// again (e.g. soft, then hard finality); the last answer is the one stored.
    /// Emits {ValidationResponse}.
    function validationResponse(
        bytes32 requestHash,
        uint8 response,
        string calldata responseURI,
        bytes32 responseHash,
        string calldata tag
    ) external {
        ValidationStatus storage s = _validations[requestHash];
        if (s.validatorAddress == address(0)) revert ValidationUnknownRequest(requestHash);
        // INVARIANT: only the validator the agent's owner chose answers.
        if (msg.sender != s.validatorAddress) revert ValidationNotValidator(requestHash, msg.sender);
        // INVARIANT: answers are scores from 0 to 100.
        if (response > 100) revert ValidationResponseTooHigh(response);
        s.response = response;
        s.responseHash = responseHash;
        s.tag = tag;
        s.lastUpdate = uint64(block.timestamp);
        s.hasResponse = true;
        emit ValidationResponse(s.validatorAddress, s.agentId, requestHash, response, responseURI, responseHash, tag);
    }

    /// @notice The request `requestHash` and its last answer (`response` 0, `tag` empty and
    /// `lastUpdate` the request's time while unanswered). Reverts if there is no such request.
    function getValidationStatus(
        bytes32 requestHash
    )
        external
        view
        returns (
            address validatorAddress,
            uint256 agentId,
            uint8 response,
            bytes32 responseHash,
            string memory tag,
            uint256 lastUpdate
        )
    {
        ValidationStatus storage s = _validations[requestHash];
        if (s.validatorAddress == address(0)) revert ValidationUnknownRequest(requestHash);
        return (s.validatorAddress, s.agentId, s.response, s.responseHash, s.tag, s.lastUpdate);
    }

    /// @notice How many of agent `agentId`'s requests have an answer, and their average
    /// response (rounded down), counting only answers from `validatorAddresses` (all if empty)
    /// with tag `tag` (any if empty).
    /// @dev As the reference: it walks every request of the agent, for off-chain reads (a long
    /// history can exceed a call's gas; {getAgentValidations} pages nothing either).
    function getSummary(
        uint256 agentId,
        address[] calldata validatorAddresses,
        string calldata tag
    ) external view returns (uint64 count, uint8 avgResponse) {
        uint256 totalResponse;
        bytes32[] storage requestHashes = _agentValidations[agentId];
        bool anyTag = bytes(tag).length == 0;
        bytes32 tagHash = keccak256(bytes(tag));
        for (uint256 i; i < requestHashes.length; ++i) {
            ValidationStatus storage s = _validations[requestHashes[i]];
            bool matchValidator = validatorAddresses.length == 0;
            for (uint256 j; !matchValidator && j < validatorAddresses.length; ++j) {
                matchValidator = s.validatorAddress == validatorAddresses[j];
            }
            bool matchTag = anyTag || keccak256(bytes(s.tag)) == tagHash;
            if (matchValidator && matchTag && s.hasResponse) {
                totalResponse += s.response;
                ++count;
            }
        }
        avgResponse = count > 0 ? uint8(totalResponse / count) : 0;
    }

    /// @notice Every request hash made for agent `agentId`, oldest first.
    function getAgentValidations(uint256 agentId) external view returns (bytes32[] memory) {
        return _agentValidations[agentId];
    }

    /// @notice Every request hash addressed to `validatorAddress`, oldest first.
    function getValidatorRequests(address validatorAddress) external view returns (bytes32[] memory) {
        return _validatorRequests[validatorAddress];
    }

    /// @notice The version of the reference contract this one ports.
    function getVersion() external pure returns (string memory) {
        return "2.0.0";
    }
}
