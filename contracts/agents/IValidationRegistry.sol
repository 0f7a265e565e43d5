// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IValidationRegistry
/// @notice ERC-8004's Validation Registry as the reference contracts expose it
/// (erc-8004/erc-8004-contracts, ValidationRegistryUpgradeable): an agent's owner asks a
/// validator to validate something the agent did (`validationRequest`, identified by
/// `requestHash`), and the validator answers with a score from 0 to 100 (`validationResponse`).
interface IValidationRegistry {
    event ValidationRequest(
        address indexed validatorAddress,
        uint256 indexed agentId,
        string requestURI,
        bytes32 indexed requestHash
    );

    event ValidationResponse(
        address indexed validatorAddress,
        uint256 indexed agentId,
        bytes32 indexed requestHash,
        uint8 response,
        string responseURI,
        bytes32 responseHash,
        string tag
    );

    function validationRequest(
        address validatorAddress,
        uint256 agentId,
        string calldata requestURI,
        bytes32 requestHash
    ) external;

    function validationResponse(
        bytes32 requestHash,
        uint8 response,
        string calldata responseURI,
        bytes32 responseHash,
        string calldata tag
    ) external;

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
        );

    function getAgentValidations(uint256 agentId) external view returns (bytes32[] memory);

    function getIdentityRegistry() external view returns (address);
}
