// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title CallbackGasProbe
/// @notice Never deployed: the SDK's `estimateCallbackGas` (`oracle/sdk/estimate-callback-gas.ts`)
/// runs this code in an `eth_call` whose state override puts it at the market's address and the
/// market's own code at {MARKET_CODE}. The consumer is then called back from the market's
/// address, as in a real settlement, and every other call to the market (a consumer that reads
/// or withdraws from it in its callback) runs the market's code on the market's storage.
/// {verityMeasureCallback} finds the least gas the callback succeeds with, which is the least
/// `callbackGasLimit` that works: the market gives the callback exactly its limit.
/// @dev Every trial runs in a frame that reverts ({verityProbeTrial}), so no trial warms an
/// account or a slot for the next (EIP-2929 access lists roll back with the frame) and each one
/// sees the cold state of a real settlement.
contract CallbackGasProbe {
    /// @notice Where the state override puts the market's code (no key is known for it).
    address public constant MARKET_CODE = address(uint160(uint256(keccak256("verity.probe.market"))));
    /// @notice The market's cap on `callbackGasLimit` (`InferenceMarket.MAX_CALLBACK_GAS`).
    uint256 public constant MAX_CALLBACK_GAS = 2_000_000;

    /// @notice {verityProbeTrial} was called from outside the probe.
    error ProbeOnlySelf();

    /// @notice Calls `callback` with `data` (an encoded `onInferenceResult`) from this address
    /// and returns the least gas it succeeds with (`success`), or `success = false` and what it
    /// reverted with at {MAX_CALLBACK_GAS}. A callback without code needs 0.
    function verityMeasureCallback(
        address callback,
        bytes calldata data
    ) external returns (bool success, uint256 gasNeeded, bytes memory revertData) {
        if (callback.code.length == 0) return (true, 0, "");
        uint256 used;
        (success, used, revertData) = _trial(callback, data, MAX_CALLBACK_GAS);
        if (!success) return (false, 0, revertData);
        // `used` is what the call cost the caller (the callback's gas and the call's own cost):
        // the answer is usually a little below it, above it when the callback makes calls of
        // its own (it must keep 1/64 of its gas back) or stores near its last 2,300 gas.
        uint256 lo;
        uint256 hi = MAX_CALLBACK_GAS;
        if (used < MAX_CALLBACK_GAS) {
            (bool ok, , ) = _trial(callback, data, used);
            if (ok) {
                hi = used;
                lo = used > 10_000 ? used - 10_000 : 0;
                (ok, , ) = _trial(callback, data, lo);
                if (ok) (hi, lo) = (lo, 0);
            } else {
                lo = used;
            }
        }
        // INVARIANT: the callback fails with `lo` gas and succeeds with `hi` (or lo == 0).
        while (hi - lo > 1) {
            uint256 mid = (lo + hi) / 2;
            (bool ok, , ) = _trial(callback, data, mid);
            if (ok) hi = mid;
            else lo = mid;
        }
        return (true, hi, "");
    }

    /// @notice One trial: calls `callback` with `data` and exactly `gas` gas, then reverts with
    /// `abi.encode(success, gasUsed, returnData)` so that nothing it did stays. Only the probe
    /// itself may call it.
    function verityProbeTrial(address callback, bytes calldata data, uint256 gas) external {
        if (msg.sender != address(this)) revert ProbeOnlySelf();
        uint256 before = gasleft();
        (bool ok, bytes memory returnData) = callback.call{gas: gas}(data);
        uint256 used = before - gasleft();
        bytes memory result = abi.encode(ok, used, returnData);
        assembly ("memory-safe") {
            revert(add(result, 32), mload(result))
        }
    }

    /// @notice Every other call is the market's: its code, run on its storage.
    fallback() external payable {
        _delegateToMarket();
    }

    /// @notice ETH sent to the market (a refund to it, say) is the market's too.
    receive() external payable {
        _delegateToMarket();
    }

    function _delegateToMarket() private {
        address target = MARKET_CODE;
        assembly {
            calldatacopy(0, 0, calldatasize())
            let ok := delegatecall(gas(), target, 0, calldatasize(), 0, 0)
            returndatacopy(0, 0, returndatasize())
            if iszero(ok) {
                revert(0, returndatasize())
            }
            return(0, returndatasize())
        }
    }

    function _trial(
        address callback,
        bytes calldata data,
        uint256 gas
    ) private returns (bool success, uint256 used, bytes memory returnData) {
        try this.verityProbeTrial(callback, data, gas) {
            // unreachable: a trial always reverts
        } catch (bytes memory result) {
            if (result.length < 96) return (false, 0, result);
            (success, used, returnData) = abi.decode(result, (bool, uint256, bytes));
        }
    }
}
