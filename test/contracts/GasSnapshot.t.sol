// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "./utils/Test.sol";
import {Deploy} from "./utils/Deploy.sol";
import {IInferenceMarket} from "../../contracts/interfaces/IInferenceMarket.sol";
import {IModelRegistry} from "../../contracts/interfaces/IModelRegistry.sol";
import {InferenceMarket} from "../../contracts/InferenceMarket.sol";
import {ModelRegistry} from "../../contracts/ModelRegistry.sol";
import {ProviderRegistry} from "../../contracts/ProviderRegistry.sol";
import {TestToken} from "../../contracts/test/TestToken.sol";
import {ProofVerifierStub} from "../../contracts/test/ProofVerifierStub.sol";

/// @notice Gas of the main entry points along one request's life, recorded by name in the
/// committed `snapshots/*.json` (as in Uniswap v4). Refresh with
/// `npx hardhat test solidity --snapshot && npx prettier --write snapshots`; CI-style
/// comparison with `npx hardhat test solidity --snapshot-check`. Each figure is the execution gas of
/// one external call (without the 21000 base and calldata costs) after setup.
contract GasSnapshotTest is Test {
    ModelRegistry models;
    ProviderRegistry providers;
    InferenceMarket market;
    TestToken token;

    address constant TREASURY = address(0x7EA);
    address constant MODEL_OWNER = address(0x0A11);
    address constant PROVIDER = address(0xB0B);
    address constant REQUESTER = address(0xCAFE);
    uint256 constant PRICE = 0.01 ether;

    uint256 ethModel;
    uint256 tokenModel;
    uint256 zkModel;

    function setUp() public {
        (models, providers, market, token) = Deploy.system(TREASURY, 250, 0.5 ether);
        vm.prank(MODEL_OWNER);
        ethModel = models.register(Deploy.params(address(0), PRICE, 1000));
        vm.prank(MODEL_OWNER);
        tokenModel = models.register(Deploy.params(address(token), PRICE, 1000));
        ProofVerifierStub verifier = new ProofVerifierStub();
        verifier.setAnswer(true);
        IModelRegistry.RegisterParams memory zk = Deploy.params(address(0), PRICE, 1000);
        zk.mode = IModelRegistry.VerificationMode.Zk;
        zk.verifier = address(verifier);
        vm.prank(MODEL_OWNER);
        zkModel = models.register(zk);
        vm.deal(PROVIDER, 10 ether);
        vm.startPrank(PROVIDER);
        providers.stake{value: 1 ether}();
        providers.optIn(ethModel);
        providers.optIn(tokenModel);
        providers.optIn(zkModel);
        vm.stopPrank();
        vm.deal(REQUESTER, 10 ether);
        token.mint(REQUESTER, 100 * PRICE);
        vm.prank(REQUESTER);
        token.approve(address(market), type(uint256).max);
    }

    function _requestEth() internal returns (uint256 id) {
        vm.prank(REQUESTER);
        id = market.requestInference{value: PRICE}(
            ethModel,
            hex"0102030405",
            PRICE,
            uint64(block.timestamp + 1 hours),
            address(0),
            0
        );
    }

    /// The parameters of {_requestEth}'s requests (and, with the token, of ERC-20 ones).
    function _ethParams() internal pure returns (IInferenceMarket.RequestParams memory) {
        return Deploy.request(REQUESTER, address(0), PRICE, address(0), 0, hex"0102030405");
    }

    /// The inline input envelope of the Zk model's requests: kind 0x00, then the int8 [4] tensor.
    function _zkInput() internal pure returns (bytes memory) {
        return abi.encodePacked(hex"00", Deploy.tensor(hex"01020304"));
    }

    function _requestZk() internal returns (uint256 id) {
        vm.prank(REQUESTER);
        id = market.requestInference{value: PRICE}(
            zkModel,
            _zkInput(),
            PRICE,
            uint64(block.timestamp + 1 hours),
            address(0),
            0
        );
    }

    function test_register_succeeds() public {
        vm.prank(MODEL_OWNER);
        models.register(Deploy.params(address(0), PRICE, 1000));
        vm.snapshotGasLastCall("ModelRegistry", "register");
    }

    function test_stake_succeeds() public {
        vm.prank(PROVIDER);
        providers.stake{value: 1 ether}();
        vm.snapshotGasLastCall("ProviderRegistry", "stake (top-up)");
    }

    function test_requestInference_eth_succeeds() public {
        _requestEth();
        vm.snapshotGasLastCall("InferenceMarket", "requestInference (ETH)");
    }

    function test_requestInference_token_succeeds() public {
        vm.prank(REQUESTER);
        market.requestInference(tokenModel, hex"0102030405", PRICE, uint64(block.timestamp + 1 hours), address(0), 0);
        vm.snapshotGasLastCall("InferenceMarket", "requestInference (ERC-20)");
    }

    function test_claim_succeeds() public {
        uint256 id = _requestEth();
        vm.prank(PROVIDER);
        market.claim(id);
        vm.snapshotGasLastCall("InferenceMarket", "claim");
    }

    function test_submit_succeeds() public {
        uint256 id = _requestEth();
        vm.prank(PROVIDER);
        market.claim(id);
        vm.prank(PROVIDER);
        market.submit(id, _ethParams(), Deploy.tensor(hex"aabbccdd"));
        vm.snapshotGasLastCall("InferenceMarket", "submit (no callback)");
    }

    function test_fulfil_succeeds() public {
        uint256 id = _requestEth();
        vm.prank(PROVIDER);
        market.fulfil(id, _ethParams(), Deploy.tensor(hex"aabbccdd"));
        vm.snapshotGasLastCall("InferenceMarket", "fulfil (claim-free, no callback)");
    }

    /// A batch of `count` ETH requests served claim-free: the call's gas and its share per request.
    function _fulfilBatch(uint256 count) internal {
        uint256[] memory ids = new uint256[](count);
        IInferenceMarket.RequestParams[] memory params = new IInferenceMarket.RequestParams[](count);
        bytes[] memory outputs = new bytes[](count);
        for (uint256 i; i < count; ++i) {
            ids[i] = _requestEth();
            params[i] = _ethParams();
            outputs[i] = Deploy.tensor(hex"aabbccdd");
        }
        vm.prank(PROVIDER);
        market.fulfilBatch(ids, params, outputs);
        string memory name = string.concat("fulfilBatch (", vm.toString(count), " items");
        uint256 gasUsed = vm.snapshotGasLastCall("InferenceMarket", string.concat(name, ")"));
        vm.snapshotValue("InferenceMarket", string.concat(name, ", per request)"), gasUsed / count);
    }

    function test_fulfilBatch_1_succeeds() public {
        _fulfilBatch(1);
    }

    function test_fulfilBatch_8_succeeds() public {
        _fulfilBatch(8);
    }

    function test_fulfilBatch_32_succeeds() public {
        _fulfilBatch(32);
    }

    function test_expire_succeeds() public {
        uint256 id = _requestEth();
        vm.prank(PROVIDER);
        market.claim(id);
        vm.warp(block.timestamp + 1 hours + 1);
        market.expire(id, _ethParams());
        vm.snapshotGasLastCall("InferenceMarket", "expire (claimed, slashes)");
    }

    function test_withdraw_succeeds() public {
        uint256 id = _requestEth();
        vm.prank(PROVIDER);
        market.claim(id);
        vm.prank(PROVIDER);
        market.submit(id, _ethParams(), Deploy.tensor(hex"aabbccdd"));
        vm.prank(PROVIDER);
        market.withdraw(address(0));
        vm.snapshotGasLastCall("InferenceMarket", "withdraw (ETH)");
    }

    function test_requestInference_zk_succeeds() public {
        _requestZk();
        vm.snapshotGasLastCall("InferenceMarket", "requestInference (Zk, inline input checked)");
    }

    function test_release_succeeds() public {
        uint256 id = _requestEth();
        vm.prank(PROVIDER);
        market.claim(id);
        vm.prank(PROVIDER);
        market.release(id);
        vm.snapshotGasLastCall("InferenceMarket", "release");
    }

    function test_submitWithProof_succeeds() public {
        uint256 id = _requestZk();
        vm.prank(PROVIDER);
        market.claim(id);
        vm.prank(PROVIDER);
        market.submitWithProof(
            id,
            Deploy.request(REQUESTER, address(0), PRICE, address(0), 0, _zkInput()),
            _zkInput(),
            Deploy.tensor(hex"aabbccdd"),
            hex"00"
        );
        vm.snapshotGasLastCall("InferenceMarket", "submitWithProof (stub verifier, no callback)");
    }

    function test_requestUnbond_succeeds() public {
        vm.prank(PROVIDER);
        providers.requestUnbond(0.5 ether);
        vm.snapshotGasLastCall("ProviderRegistry", "requestUnbond");
    }

    function test_withdrawUnbonded_succeeds() public {
        vm.prank(PROVIDER);
        providers.requestUnbond(0.5 ether);
        vm.warp(block.timestamp + 7 days);
        vm.prank(PROVIDER);
        providers.withdrawUnbonded();
        vm.snapshotGasLastCall("ProviderRegistry", "withdrawUnbonded");
    }
}
