// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {ERC721URIStorage} from "@openzeppelin/contracts/token/ERC721/extensions/ERC721URIStorage.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {IAgentAccount} from "./IAgentAccount.sol";
import {IAgentRegistry} from "./IAgentRegistry.sol";

/// @title AgentRegistry
/// @notice Agent identities as ERC-721 tokens ("AgentIdentity", "AGENT"), compatible with
/// ERC-8004's Identity Registry — `register`, `setAgentURI`, `getMetadata`/`setMetadata`,
/// `isAuthorizedOrOwner`, the `Registered`, `URIUpdated` and `MetadataSet` events, `tokenURI`
/// as the agent's URI — and the factory of their accounts: each agent's {IAgentAccount} is a
/// clone of one implementation at an address fixed by the agent id ({predictAccount}).
///
/// Differences from the reference contract (erc-8004/erc-8004-contracts,
/// IdentityRegistryUpgradeable), all because the agent's wallet here is its account contract:
/// ids start at 1; `agentWallet` is the account (read as 20 bytes; empty until the account
/// exists), not stored, and neither set by signature nor cleared on transfer — the account
/// belongs to the agent, and a transfer hands it to the new owner; operators are kept per owner,
/// so a transfer leaves the new owner with none. Not upgradeable.
///
/// @dev Clones carry `registry (20) ‖ market (20) ‖ agentId (12)` as immutable arguments after
/// the ERC-1167 proxy (see {AgentAccount}) and are deployed with CREATE2, salt the agent id, so
/// the address depends on the registry, the implementation and the id only. Ids fit 96 bits.
contract AgentRegistry is IAgentRegistry, ERC721URIStorage {
    /// @dev keccak256("agentWallet"): the reserved metadata key.
    bytes32 private constant _AGENT_WALLET = keccak256("agentWallet");

    address private immutable _market;
    address private immutable _implementation;

    uint256 private _lastId;
    mapping(uint256 agentId => mapping(string key => bytes)) private _metadata;
    mapping(uint256 agentId => mapping(address owner => mapping(address operator => bool))) private _operators;

    /// @param market_ the InferenceMarket every account requests from.
    /// @param accountImplementation_ the {AgentAccount} every account clones.
    constructor(address market_, address accountImplementation_) ERC721("AgentIdentity", "AGENT") {
        _market = market_;
        _implementation = accountImplementation_;
    }

    // ------------------------------------------------------------------------------------------
    // Identities and accounts
    // ------------------------------------------------------------------------------------------

    /// @inheritdoc IAgentRegistry
    /// @dev The policy is validated by the account ({IAgentAccount-AgentPolicyInvalid}). The
    /// token is minted last, with ERC-721's safe-transfer check (a contract owner must accept it).
    /// Emits {Registered}, {AccountCreated}, {MetadataSet} (`agentWallet`), the account's
    /// {IAgentAccount-Initialized} and {IAgentAccount-PolicyUpdated}, and ERC-721's `Transfer`.
    function createAgent(
        string calldata agentURI,
        IAgentAccount.Policy calldata policy
    ) external returns (uint256 agentId, address account) {
        agentId = _newIdentity(agentURI);
        account = _createAccount(agentId, policy);
        _safeMint(msg.sender, agentId);
    }

    /// @inheritdoc IAgentRegistry
    /// @dev Emits {Registered} and ERC-721's `Transfer`. `agentWallet` reads empty until
    /// {createAccount}.
    function register(string calldata agentURI) external returns (uint256 agentId) {
        agentId = _newIdentity(agentURI);
        _safeMint(msg.sender, agentId);
    }

    /// @inheritdoc IAgentRegistry
    /// @dev Requirements: the agent exists ({AgentRegistryUnknownAgent}); the caller owns it
    /// ({AgentRegistryNotOwner}); it has no account yet ({AgentRegistryAccountExists}).
    /// Emits {AccountCreated} and {MetadataSet} (`agentWallet`), and the account's events.
    function createAccount(uint256 agentId, IAgentAccount.Policy calldata policy) external returns (address account) {
        // INVARIANT: only the owner gives its agent an account and a policy.
        if (msg.sender != _existing(agentId)) revert AgentRegistryNotOwner(agentId, msg.sender);
        address existing = predictAccount(agentId);
        // INVARIANT: one account per agent, for good.
        if (existing.code.length != 0) revert AgentRegistryAccountExists(agentId, existing);
        account = _createAccount(agentId, policy);
    }

    /// @inheritdoc IAgentRegistry
    /// @dev Requirements: the agent exists ({AgentRegistryUnknownAgent}); the caller owns it or
    /// is approved for it ({AgentRegistryNotOwner}). Emits {URIUpdated} and ERC-4906's
    /// `MetadataUpdate`.
    function setAgentURI(uint256 agentId, string calldata newURI) external {
        _onlyAuthorized(agentId);
        _setTokenURI(agentId, newURI);
        emit URIUpdated(agentId, newURI, msg.sender);
    }

    /// @inheritdoc IAgentRegistry
    /// @dev Requirements: the agent exists ({AgentRegistryUnknownAgent}); the caller owns it or
    /// is approved for it ({AgentRegistryNotOwner}); the key is not `agentWallet`
    /// ({AgentRegistryReservedKey}). Emits {MetadataSet}.
    function setMetadata(uint256 agentId, string calldata metadataKey, bytes calldata metadataValue) external {
        _onlyAuthorized(agentId);
        // INVARIANT: the agent's wallet is its account, which nobody can redirect.
        if (keccak256(bytes(metadataKey)) == _AGENT_WALLET) revert AgentRegistryReservedKey(metadataKey);
        _metadata[agentId][metadataKey] = metadataValue;
        emit MetadataSet(agentId, metadataKey, metadataKey, metadataValue);
    }

    /// @inheritdoc IAgentRegistry
    /// @dev Requirements: the agent exists ({AgentRegistryUnknownAgent}); the caller owns it
    /// ({AgentRegistryNotOwner}). Operators are the current owner's: they lapse when the agent
    /// is transferred. Emits {OperatorSet}.
    function setOperator(uint256 agentId, address operator, bool allowed) external {
        address owner = _existing(agentId);
        // INVARIANT: only the owner chooses who acts for its agent.
        if (msg.sender != owner) revert AgentRegistryNotOwner(agentId, msg.sender);
        _operators[agentId][owner][operator] = allowed;
        emit OperatorSet(agentId, operator, allowed);
    }

    // ------------------------------------------------------------------------------------------
    // Views
    // ------------------------------------------------------------------------------------------

    /// @inheritdoc IAgentRegistry
    /// @dev `agentWallet` reads as the account's 20 address bytes, or empty while there is none.
    function getMetadata(uint256 agentId, string calldata metadataKey) external view returns (bytes memory) {
        if (keccak256(bytes(metadataKey)) == _AGENT_WALLET) {
            address account = accountOf(agentId);
            return account == address(0) ? bytes("") : abi.encodePacked(account);
        }
        return _metadata[agentId][metadataKey];
    }

    /// @inheritdoc IAgentRegistry
    /// @dev False for an agent that does not exist.
    function isOperator(uint256 agentId, address account) external view returns (bool) {
        address owner = _ownerOf(agentId);
        return owner != address(0) && _operators[agentId][owner][account];
    }

    /// @inheritdoc IAgentRegistry
    /// @dev Reverts with ERC-721's `ERC721NonexistentToken` for an agent that does not exist,
    /// as the reference does.
    function isAuthorizedOrOwner(address spender, uint256 agentId) external view returns (bool) {
        return _isAuthorized(_requireOwned(agentId), spender, agentId);
    }

    /// @inheritdoc IAgentRegistry
    function accountOf(uint256 agentId) public view returns (address account) {
        account = predictAccount(agentId);
        if (account.code.length == 0) account = address(0);
    }

    /// @inheritdoc IAgentRegistry
    function predictAccount(uint256 agentId) public view returns (address) {
        return Clones.predictDeterministicAddressWithImmutableArgs(_implementation, _argsOf(agentId), bytes32(agentId));
    }

    /// @inheritdoc IAgentRegistry
    function accountImplementation() external view returns (address) {
        return _implementation;
    }

    /// @inheritdoc IAgentRegistry
    function market() external view returns (address) {
        return _market;
    }

    /// @inheritdoc IAgentRegistry
    function ownerOf(uint256 agentId) public view override(ERC721, IERC721, IAgentRegistry) returns (address) {
        return super.ownerOf(agentId);
    }

    /// @notice The number of agents registered (the highest id).
    function agentCount() external view returns (uint256) {
        return _lastId;
    }

    // ------------------------------------------------------------------------------------------
    // Internal
    // ------------------------------------------------------------------------------------------

    /// @dev A new id with its URI (the token is minted by the caller). Emits {Registered} and
    /// ERC-4906's `MetadataUpdate`.
    function _newIdentity(string calldata agentURI) private returns (uint256 agentId) {
        unchecked {
            // Cannot overflow: one id per call.
            agentId = ++_lastId;
        }
        _setTokenURI(agentId, agentURI);
        emit Registered(agentId, agentURI, msg.sender);
    }

    /// @dev Clones the account of `agentId` (which has none: CREATE2 to its address would fail)
    /// and initialises it with `policy`. Emits {AccountCreated} and {MetadataSet} (`agentWallet`).
    function _createAccount(uint256 agentId, IAgentAccount.Policy calldata policy) private returns (address account) {
        account = Clones.cloneDeterministicWithImmutableArgs(_implementation, _argsOf(agentId), bytes32(agentId));
        IAgentAccount(account).initialize(address(this), agentId, _market, policy);
        emit AccountCreated(agentId, account);
        emit MetadataSet(agentId, "agentWallet", "agentWallet", abi.encodePacked(account));
    }

    /// @dev The immutable arguments of `agentId`'s clone.
    function _argsOf(uint256 agentId) private view returns (bytes memory) {
        return abi.encodePacked(address(this), _market, uint96(agentId));
    }

    /// @dev The owner of `agentId`, which must exist ({AgentRegistryUnknownAgent}).
    function _existing(uint256 agentId) private view returns (address owner) {
        owner = _ownerOf(agentId);
        if (owner == address(0)) revert AgentRegistryUnknownAgent(agentId);
    }

    function _onlyAuthorized(uint256 agentId) private view {
        // INVARIANT: ERC-8004: the owner or an address it approved manages the identity.
        if (!_isAuthorized(_existing(agentId), msg.sender, agentId)) revert AgentRegistryNotOwner(agentId, msg.sender);
    }
}
