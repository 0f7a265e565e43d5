// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IAgentAccount} from "./IAgentAccount.sol";

/// @title IAgentRegistry
/// @notice Agent identities as ERC-721 tokens, compatible with ERC-8004's Identity Registry
/// (`register`, `setAgentURI`, `getMetadata`/`setMetadata`, the `Registered`, `URIUpdated` and
/// `MetadataSet` events; `agentURI` resolves to the agent's registration file: name,
/// description, services, supported trust models), and the factory of their accounts: each
/// agent has one {IAgentAccount}, a minimal clone at an address derivable before creation
/// ({predictAccount}), recorded as the agent's ERC-8004 `agentWallet` metadata. The token's
/// owner owns the agent; operators act for it within the policy.
interface IAgentRegistry {
    struct MetadataEntry {
        string metadataKey;
        bytes metadataValue;
    }

    error AgentRegistryNotOwner(uint256 agentId, address caller);
    error AgentRegistryUnknownAgent(uint256 agentId);
    error AgentRegistryReservedKey(string key);
    /// @notice `agentId` already has its account, at `account`.
    error AgentRegistryAccountExists(uint256 agentId, address account);

    event Registered(uint256 indexed agentId, string agentURI, address indexed owner);
    event URIUpdated(uint256 indexed agentId, string newURI, address indexed updatedBy);
    event MetadataSet(
        uint256 indexed agentId,
        string indexed indexedMetadataKey,
        string metadataKey,
        bytes metadataValue
    );
    /// @notice The account of `agentId` was created at `account`.
    event AccountCreated(uint256 indexed agentId, address indexed account);
    event OperatorSet(uint256 indexed agentId, address indexed operator, bool allowed);

    /// @notice Registers an agent owned by the caller with its registration file's URI, creates
    /// its account with `policy` and returns both. Emits {Registered}, {AccountCreated},
    /// {MetadataSet} (`agentWallet`).
    function createAgent(
        string calldata agentURI,
        IAgentAccount.Policy calldata policy
    ) external returns (uint256 agentId, address account);

    /// @notice ERC-8004: registers an identity without an account (one can be created later with
    /// {createAccount}).
    function register(string calldata agentURI) external returns (uint256 agentId);

    /// @notice Creates the account of an identity that has none. Only its owner.
    function createAccount(uint256 agentId, IAgentAccount.Policy calldata policy) external returns (address account);

    /// @notice ERC-8004: the owner (or an approved address) sets the agent's URI.
    function setAgentURI(uint256 agentId, string calldata newURI) external;

    /// @notice ERC-8004: the owner sets a metadata entry (`agentWallet` is reserved: the account).
    function setMetadata(uint256 agentId, string calldata metadataKey, bytes calldata metadataValue) external;

    function getMetadata(uint256 agentId, string calldata metadataKey) external view returns (bytes memory);

    /// @notice The owner allows or stops `operator` acting for `agentId`.
    function setOperator(uint256 agentId, address operator, bool allowed) external;

    function isOperator(uint256 agentId, address account) external view returns (bool);

    /// @notice ERC-8004: whether `spender` is the agent's owner or approved for it.
    function isAuthorizedOrOwner(address spender, uint256 agentId) external view returns (bool);

    /// @notice The account of `agentId` (zero if none yet).
    function accountOf(uint256 agentId) external view returns (address);

    /// @notice Where the account of `agentId` is (or will be) deployed.
    function predictAccount(uint256 agentId) external view returns (address);

    /// @notice The account implementation every clone delegates to, and the market they use.
    function accountImplementation() external view returns (address);

    function market() external view returns (address);

    function ownerOf(uint256 agentId) external view returns (address);
}
