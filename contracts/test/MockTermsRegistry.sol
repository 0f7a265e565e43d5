// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IModelRegistry} from "../interfaces/IModelRegistry.sol";

/// @notice Test-only stand-in for the two model-registry views the market reads, returning
/// whatever terms the test sets (a Zk-mode model, a price beyond 96 bits...).
contract MockTermsRegistry {
    IModelRegistry.ModelTerms private _terms;

    function setTerms(IModelRegistry.ModelTerms calldata terms) external {
        _terms = terms;
    }

    function getActiveTerms(uint256) external view returns (IModelRegistry.ModelTerms memory) {
        return _terms;
    }

    function royaltyInfo(uint256) external view returns (address, uint16) {
        return (_terms.owner, _terms.royaltyBps);
    }
}
