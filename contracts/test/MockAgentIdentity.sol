// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";

/// @notice Test-only identity registry for the validator's tests: ERC-721 agents whose account
/// (`accountOf`, as {IAgentRegistry} has it) the test sets, so that a plain account stands in
/// for an agent's account without the agent contracts.
contract MockAgentIdentity is ERC721 {
    uint256 public count;
    mapping(uint256 agentId => address) public accountOf;

    constructor() ERC721("Mock agents", "MAGENT") {}

    function mint(address owner, address account) external returns (uint256 agentId) {
        agentId = ++count;
        _mint(owner, agentId);
        accountOf[agentId] = account;
    }
}
