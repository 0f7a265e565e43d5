// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IInferenceConsumer} from "../interfaces/IInferenceConsumer.sol";

/// @notice Test-only consumer that records the gas it was given, then in `burn` mode burns it
/// all, in `bomb` mode returns (or reverts with) as much data as its gas allows.
contract GasBurnerConsumer is IInferenceConsumer {
    enum Mode {
        Record,
        Burn,
        ReturnBomb,
        RevertBomb
    }

    Mode public mode;
    uint256 public gasAtEntry;
    uint256 public calls;

    function setMode(Mode mode_) external {
        mode = mode_;
    }

    function onInferenceResult(uint256, bytes calldata) external {
        uint256 g = gasleft();
        Mode m = mode;
        if (m == Mode.Record) {
            gasAtEntry = g;
            ++calls;
        } else if (m == Mode.Burn) {
            while (true) {}
        } else {
            // Memory expansion costs ~ words^2/512: 2 MB costs ~8.6M gas, so pick what fits.
            uint256 size = 200_000;
            if (m == Mode.ReturnBomb) {
                assembly {
                    return(0, size)
                }
            } else {
                assembly {
                    revert(0, size)
                }
            }
        }
    }
}
