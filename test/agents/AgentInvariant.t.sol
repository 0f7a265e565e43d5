// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "../contracts/utils/Test.sol";
import {Deploy} from "../contracts/utils/Deploy.sol";
import {AgentAccount} from "../../contracts/agents/AgentAccount.sol";
import {AgentRegistry} from "../../contracts/agents/AgentRegistry.sol";
import {IAgentAccount} from "../../contracts/agents/IAgentAccount.sol";
import {IInferenceMarket} from "../../contracts/interfaces/IInferenceMarket.sol";
import {IModelRegistry} from "../../contracts/interfaces/IModelRegistry.sol";
import {IProviderRegistry} from "../../contracts/interfaces/IProviderRegistry.sol";
import {InferenceMarket} from "../../contracts/InferenceMarket.sol";
import {ModelRegistry} from "../../contracts/ModelRegistry.sol";
import {ProviderRegistry} from "../../contracts/ProviderRegistry.sol";
import {TestToken} from "../../contracts/test/TestToken.sol";
import {ProofVerifierStub} from "../../contracts/test/ProofVerifierStub.sol";
import {CanonicalTensor} from "../../contracts/libraries/CanonicalTensor.sol";

/// @notice The agent's action target: one function per decision, each recording the request id
/// it was called with, the decision, its caller, and whether the provider of that request was
/// within the agent's reputation limit when it acted.
contract ActionRecorder {
    struct Act {
        uint256 requestId;
        uint256 decision;
        address caller;
        bool providerWithinLimit;
    }

    IInferenceMarket public immutable market;
    Act[] private _acts;
    mapping(uint256 requestId => uint256) public actsOf;

    constructor(IInferenceMarket market_) {
        market = market_;
    }

    function on0(uint256 requestId) external {
        _record(requestId, 0);
    }

    function on1(uint256 requestId) external {
        _record(requestId, 1);
    }

    function on2(uint256 requestId) external {
        _record(requestId, 2);
    }

    function on3(uint256 requestId) external {
        _record(requestId, 3);
    }

    function count() external view returns (uint256) {
        return _acts.length;
    }

    function actAt(uint256 i) external view returns (Act memory) {
        return _acts[i];
    }

    function _record(uint256 requestId, uint256 decision) private {
        uint64 limit = IAgentAccount(msg.sender).policy().maxProviderSlashes;
        address provider = market.getRequest(requestId).provider;
        (, , uint64 slashes) = IProviderRegistry(market.providerRegistry()).statsOf(provider);
        _acts.push(Act(requestId, decision, msg.sender, limit == type(uint64).max || slashes <= limit));
        ++actsOf[requestId];
    }
}

/// @notice Drives one agent and the market through random wakes (by two keepers), tasks
/// (well-formed, and malformed ones a Zk model refuses), results (Finalized by `submit` or
/// `submitWithProof` with random outputs, Failed by `reportInvalidInput`, Refunded by `expire`,
/// which slashes a claiming provider), requests by strangers naming the agent as their callback,
/// policy changes (caps, fee limit, period, modes, model, reputation limit, tip), funding,
/// withdrawals, reclaims, pauses and time. Every wake either goes ahead or is refused with an
/// error its state justifies; ghost totals check spend per period against the cap, and the
/// recorder every action against the market. As in test/contracts/Conservation.t.sol, a broken
/// expectation is recorded in {failure}, which an invariant checks.
contract AgentHandler is Test {
    InferenceMarket public immutable market;
    ModelRegistry public immutable models;
    ProviderRegistry public immutable providers;
    AgentAccount public immutable agent;
    AgentRegistry public immutable registry;
    ActionRecorder public immutable recorder;
    uint256 public immutable attestedModel;
    uint256 public immutable zkModel;

    address public constant OWNER = address(0xA0);
    address public constant STRANGER = address(0xA5);
    uint256 public constant PRICE = 0.01 ether;
    uint256 public constant TIP = 0.001 ether;
    uint256 public constant TASK_FEE = 0.002 ether;

    address[2] internal keepers = [address(0xC1), address(0xC2)];
    address[2] internal provs = [address(0xB1), address(0xB2)];

    /// The agent's spend window as the policy defines it, kept apart from the agent's own.
    uint256 public windowStart;
    uint256 public windowSpend;
    /// ETH in and out of the agent.
    uint256 public funded;
    uint256 public taskFees;
    uint256 public reclaimed;
    uint256 public fees;
    uint256 public tips;
    uint256 public withdrawn;
    /// Requests the agent made, and the input of each.
    uint256[] public agentRequests;
    mapping(uint256 requestId => bytes) public inputOf;
    /// The parameters every request was made with (the market stores only their commitment).
    mapping(uint256 requestId => IInferenceMarket.RequestParams) internal _paramsOf;

    function paramsOf(uint256 requestId) external view returns (IInferenceMarket.RequestParams memory) {
        return _paramsOf[requestId];
    }
    /// Data of each task posted (to know a Zk request's input).
    mapping(uint256 taskId => bytes) internal _taskData;
    mapping(bytes32 op => uint256) public calls;
    string public failure;

    constructor(InferenceMarket market_, ModelRegistry models_, ProviderRegistry providers_) {
        market = market_;
        models = models_;
        providers = providers_;
        ProofVerifierStub verifier = new ProofVerifierStub();
        verifier.setAnswer(true);
        IModelRegistry.RegisterParams memory params = Deploy.params(address(0), PRICE, 1000);
        attestedModel = models.register(params);
        params.mode = IModelRegistry.VerificationMode.Zk;
        params.verifier = address(verifier);
        zkModel = models.register(params);
        for (uint256 i; i < provs.length; ++i) {
            vm.deal(provs[i], 1000 ether);
            vm.startPrank(provs[i]);
            providers.stake{value: 3 ether}();
            providers.optIn(attestedModel);
            providers.optIn(zkModel);
            vm.stopPrank();
        }

        registry = new AgentRegistry(address(market), address(new AgentAccount()));
        recorder = new ActionRecorder(market);
        vm.prank(OWNER);
        (, address account) = registry.createAgent("ipfs://invariant", _policy(attestedModel, 7, PRICE, 1 days, 20, 0));
        agent = AgentAccount(payable(account));
        bytes4[4] memory selectors = [
            ActionRecorder.on0.selector,
            ActionRecorder.on1.selector,
            ActionRecorder.on2.selector,
            ActionRecorder.on3.selector
        ];
        vm.startPrank(OWNER);
        for (uint256 d; d < 4; ++d) {
            agent.setAction(d, IAgentAccount.Action(address(recorder), selectors[d], IAgentAccount.ArgKind.RequestId));
        }
        vm.stopPrank();
        _fund(1 ether);
    }

    function agentRequestCount() external view returns (uint256) {
        return agentRequests.length;
    }

    /// A policy on tasks; `capUnits` wakes of fee and tip fit one period.
    function _policy(
        uint256 modelId,
        uint8 modes,
        uint256 maxFee,
        uint256 period,
        uint256 capUnits,
        uint256 maxSlashes
    ) internal pure returns (IAgentAccount.Policy memory p) {
        p.modelId = modelId;
        p.modes = modes;
        p.maxFeePerRequest = uint96(maxFee);
        p.spendPerPeriod = uint96(capUnits * (PRICE + TIP));
        p.period = uint32(period);
        p.maxKeeperTip = uint96(TIP);
        p.requestTtl = 1 hours;
        p.callbackGasLimit = 600_000;
        p.actionGasLimit = 300_000;
        p.inputKind = IAgentAccount.InputKind.TaskCalldata;
        p.minTaskFee = uint96(TASK_FEE);
        p.maxProviderSlashes = maxSlashes == 2 ? type(uint64).max : uint64(maxSlashes);
    }

    function _expect(bool ok, string memory what) internal {
        if (!ok && bytes(failure).length == 0) failure = what;
    }

    function _fund(uint256 amount) internal {
        vm.deal(address(agent), address(agent).balance + amount);
        funded += amount;
    }

    /// A keeper wakes the agent: it goes ahead (paying exactly fee and tip, within the cap of
    /// the period) or is refused with an error the state justifies.
    function wake(uint256 keeperSeed) external {
        address keeper = keepers[keeperSeed % keepers.length];
        // Half the time a task is posted first if none waits, so that more wakes go ahead.
        (uint256 head0, uint256 count0) = agent.tasks();
        if (head0 == count0 && (keeperSeed >> 8) % 2 == 0) _postTask(keeperSeed >> 16, (keeperSeed >> 12) % 8 == 0);
        IAgentAccount.Policy memory p = agent.policy();
        uint256 before = address(agent).balance;
        uint256 keeperBefore = keeper.balance;
        (uint256 head, uint256 count) = agent.tasks();
        bool waiting = head < count;
        bool reset = block.timestamp >= windowStart + p.period;
        vm.prank(keeper);
        try agent.wake() returns (uint256 id) {
            uint256 tip = keeper.balance - keeperBefore;
            // The market stores no fee: a request's fee is its model's price when it was made.
            uint256 fee = id == 0 ? 0 : models.getActiveTerms(market.getRequest(id).modelId).price;
            _expect(waiting, "a wake without a waiting task went ahead");
            _expect(before - address(agent).balance == fee + tip, "the agent paid exactly fee and tip");
            _expect(tip <= p.maxKeeperTip, "tip within the policy's maximum");
            _expect(fee <= p.maxFeePerRequest, "fee within the policy's maximum");
            if (reset) (windowStart, windowSpend) = (block.timestamp, 0);
            windowSpend += fee + tip;
            // INVARIANT under test: fees and tips within one period stay within the cap.
            _expect(windowSpend <= p.spendPerPeriod, "spend beyond the cap of the period");
            fees += fee;
            tips += tip;
            if (id != 0) {
                _recordAgentRequest(id, fee, p.callbackGasLimit, _taskData[head]);
                _expect(market.getRequest(id).modelId == p.modelId, "request of the policy's model");
                agentRequests.push(id);
                ++calls["wake: request"];
            } else {
                ++calls["wake: task dropped"];
            }
        } catch (bytes memory err) {
            _justifyRefusal(bytes4(err), p, before, waiting, reset);
        }
    }

    function _justifyRefusal(
        bytes4 selector,
        IAgentAccount.Policy memory p,
        uint256 balance,
        bool waiting,
        bool reset
    ) internal {
        IModelRegistry.ModelTerms memory terms = models.getActiveTerms(p.modelId);
        uint256 spend = (reset ? 0 : windowSpend) + terms.price + agent.keeperTip();
        if (selector == IAgentAccount.AgentPaused.selector) {
            _expect(agent.paused(), "AgentPaused while not paused");
        } else if (selector == IAgentAccount.AgentNotDue.selector) {
            _expect(!waiting && !agent.paused(), "AgentNotDue with a task waiting");
        } else if (selector == IAgentAccount.AgentModeNotAllowed.selector) {
            _expect((p.modes >> uint8(terms.mode)) & 1 == 0, "AgentModeNotAllowed for an allowed mode");
        } else if (selector == IAgentAccount.AgentFeeTooHigh.selector) {
            _expect(terms.price > p.maxFeePerRequest, "AgentFeeTooHigh within the maximum");
        } else if (selector == IAgentAccount.AgentSpendCapReached.selector) {
            _expect(spend > p.spendPerPeriod, "AgentSpendCapReached within the cap");
        } else if (selector == IAgentAccount.AgentInsufficientBudget.selector) {
            _expect(balance < terms.price + agent.keeperTip(), "AgentInsufficientBudget with the budget");
        } else {
            _expect(false, "wake: an unexpected revert");
        }
        ++calls["wake: refused"];
    }

    /// Records the input and parameters of the agent's request `id` for task data `data`, and
    /// checks that the market's commitment is that of a request the agent made for itself.
    function _recordAgentRequest(uint256 id, uint256 fee, uint32 callbackGasLimit, bytes memory data) internal {
        inputOf[id] = bytes.concat(bytes1(0x00), data);
        IInferenceMarket.RequestParams memory made = Deploy.request(
            address(agent),
            address(0),
            fee,
            address(agent),
            callbackGasLimit,
            inputOf[id]
        );
        _expect(market.commitmentOf(made) == market.getRequest(id).commitment, "request is the agent's");
        _paramsOf[id] = made;
    }

    /// A stranger posts a task (paying the task fee): the model's input, or bytes that are not.
    function postTask(uint256 seed, bool malformed) external {
        _postTask(seed, malformed);
    }

    function _postTask(uint256 seed, bool malformed) internal {
        bytes memory data = malformed ? bytes(hex"0102") : Deploy.tensor(bytes4(uint32(seed)));
        vm.deal(STRANGER, TASK_FEE);
        vm.prank(STRANGER);
        uint256 taskId = agent.postTask{value: TASK_FEE}(data);
        _taskData[taskId] = data;
        taskFees += TASK_FEE;
        ++calls["postTask"];
    }

    /// A stranger's request that names the agent as its callback.
    function foreignRequest(uint256 seed) external {
        vm.deal(STRANGER, PRICE);
        vm.prank(STRANGER);
        bytes memory input = Deploy.tensor(bytes4(uint32(seed)));
        uint256 id = market.requestInference{value: PRICE}(
            attestedModel,
            input,
            PRICE,
            uint64(block.timestamp + 1 hours),
            address(agent),
            600_000
        );
        _paramsOf[id] = Deploy.request(STRANGER, address(0), PRICE, address(agent), 600_000, input);
        ++calls["foreignRequest"];
    }

    /// A request: mostly one of the agent's (the latest ones most often), else any.
    function _pick(uint256 seed) internal view returns (uint256) {
        uint256 mine = agentRequests.length;
        if (mine != 0 && seed % 4 != 0) {
            uint256 back = (seed >> 8) % 3;
            return agentRequests[mine - 1 - (back < mine ? back : 0)];
        }
        uint256 count = market.requestCount();
        return count == 0 ? 0 : 1 + ((seed >> 16) % count);
    }

    /// A provider claims (if need be) and settles a request with a random output.
    function serve(uint256 idSeed, uint256 outputSeed, uint256 providerSeed) external {
        uint256 id = _pick(idSeed);
        if (id == 0) return;
        IInferenceMarket.Request memory r = market.getRequest(id);
        if (block.timestamp > r.deadline) return;
        if (r.status == IInferenceMarket.RequestStatus.Pending) {
            address p = provs[providerSeed % provs.length];
            if (providers.freeStakeOf(p) < 2 ether) {
                vm.prank(p);
                providers.stake{value: 2 ether}();
            }
            vm.prank(p);
            market.claim(id);
            r = market.getRequest(id);
        }
        if (r.status != IInferenceMarket.RequestStatus.Claimed) return;
        bytes memory output = Deploy.tensor(bytes4(uint32(outputSeed)));
        vm.prank(r.provider);
        if (r.modelId == zkModel) market.submitWithProof(id, _paramsOf[id], inputOf[id], output, "");
        else market.submit(id, _paramsOf[id], output);
        ++calls["serve"];
    }

    /// A wake, then the result of the agent's latest request.
    function wakeAndServe(uint256 seed) external {
        this.wake(seed);
        this.serveLatest(seed >> 32, seed >> 64);
    }

    /// The result of the agent's latest request.
    function serveLatest(uint256 outputSeed, uint256 providerSeed) public {
        if (agentRequests.length == 0) return;
        this.serve(1, outputSeed, providerSeed); // seed 1: the latest of the agent's requests
    }

    function reportInvalidInput(uint256 idSeed) external {
        uint256 id = _pick(idSeed);
        if (id == 0) return;
        IInferenceMarket.Request memory r = market.getRequest(id);
        if (r.status != IInferenceMarket.RequestStatus.Claimed || block.timestamp > r.deadline) return;
        vm.prank(r.provider);
        market.reportInvalidInput(id, _paramsOf[id], 1);
        ++calls["reportInvalidInput"];
    }

    /// Lets a request run past its deadline and expires it (a claimed one slashes its provider).
    function expire(uint256 idSeed) external {
        uint256 id = _pick(idSeed);
        if (id == 0) return;
        IInferenceMarket.Request memory r = market.getRequest(id);
        if (r.status != IInferenceMarket.RequestStatus.Pending && r.status != IInferenceMarket.RequestStatus.Claimed) {
            return;
        }
        if (block.timestamp <= r.deadline) vm.warp(uint256(r.deadline) + 1);
        market.expire(id, _paramsOf[id]);
        ++calls["expire"];
    }

    function reclaim() external {
        uint256 credit = market.balanceOf(address(agent), address(0));
        if (credit == 0) return;
        agent.reclaim(address(0));
        reclaimed += credit;
        ++calls["reclaim"];
    }

    /// A new policy: mostly one that lets wakes through (so that the rest gets exercised), at
    /// times one that refuses by mode, fee or cap.
    function setPolicy(uint256 seed) external {
        uint256 modelId = seed % 3 == 0 ? zkModel : attestedModel;
        uint8 modes = (seed >> 8) % 5 == 0 ? uint8(1 + ((seed >> 12) % 7)) : 7;
        uint256 maxFee = (seed >> 16) % 5 == 0 ? PRICE - 1 : PRICE + ((seed >> 20) % 2);
        uint256 period = bound(seed >> 24, 1 hours, 2 days);
        uint256 capUnits = (seed >> 64) % 4 == 0 ? (seed >> 68) % 4 : 20;
        uint256 maxSlashes = (seed >> 72) % 3;
        vm.prank(OWNER);
        agent.setPolicy(_policy(modelId, modes, maxFee, period, capUnits, maxSlashes));
        ++calls["setPolicy"];
    }

    function setKeeperTip(uint96 tip) external {
        tip = uint96(bound(tip, 0, agent.policy().maxKeeperTip));
        vm.prank(OWNER);
        agent.setKeeperTip(tip);
    }

    function fund(uint256 amount) external {
        _fund(bound(amount, 0, 0.1 ether));
    }

    function withdraw(uint256 amount) external {
        amount = bound(amount, 0, address(agent).balance / 2);
        vm.prank(OWNER);
        agent.withdraw(address(0), amount, OWNER);
        withdrawn += amount;
        ++calls["withdraw"];
    }

    function pause(bool on) external {
        vm.prank(OWNER);
        if (on) agent.pause();
        else agent.unpause();
    }

    function skipTime(uint256 secondsSeed) external {
        vm.warp(block.timestamp + bound(secondsSeed, 1, 1 days));
    }
}

/// @notice The agent's guarantees over random sequences (see {AgentHandler}): spend within the
/// cap of every period, every action on a Finalized result of the agent's own request (with the
/// decision its output makes, once, from a provider within the reputation limit), and its ETH
/// accounted for to the wei.
/// forge-config: default.invariant.runs = 64
/// forge-config: default.invariant.depth = 100
contract AgentInvariantTest is Test {
    AgentHandler handler;
    InferenceMarket market;
    AgentAccount agent;
    ActionRecorder recorder;

    function setUp() public {
        ModelRegistry models;
        ProviderRegistry providers;
        TestToken token;
        (models, providers, market, token) = Deploy.system(address(0x7EA), 250, 0.1 ether);
        handler = new AgentHandler(market, models, providers);
        agent = handler.agent();
        recorder = handler.recorder();
        targetContract(address(handler));
    }

    /// forge-std's `FuzzSelector`: the runner calls only these functions of the handler (not its
    /// getters).
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    function targetSelectors() public view returns (FuzzSelector[] memory targets) {
        bytes4[15] memory list = [
            AgentHandler.wake.selector,
            AgentHandler.postTask.selector,
            AgentHandler.foreignRequest.selector,
            AgentHandler.serve.selector,
            AgentHandler.reportInvalidInput.selector,
            AgentHandler.expire.selector,
            AgentHandler.reclaim.selector,
            AgentHandler.setPolicy.selector,
            AgentHandler.setKeeperTip.selector,
            AgentHandler.fund.selector,
            AgentHandler.withdraw.selector,
            AgentHandler.pause.selector,
            AgentHandler.skipTime.selector,
            // Wakes and results twice as often as the rest.
            AgentHandler.wakeAndServe.selector,
            AgentHandler.serveLatest.selector
        ];
        bytes4[] memory selectors = new bytes4[](list.length);
        for (uint256 i; i < list.length; ++i) selectors[i] = list[i];
        targets = new FuzzSelector[](1);
        targets[0] = FuzzSelector(address(handler), selectors);
    }

    function invariant_handlerExpectations() public view {
        string memory failure = handler.failure();
        assertTrue(bytes(failure).length == 0, failure);
    }

    /// Every action was called by the agent for a Finalized request the agent made (not a
    /// stranger's naming it as callback), once, with the decision the output makes, and from a
    /// provider within the reputation limit.
    function invariant_actionsFollowOwnFinalizedResults() public view {
        uint256 n = recorder.count();
        for (uint256 i; i < n; ++i) {
            ActionRecorder.Act memory a = recorder.actAt(i);
            IInferenceMarket.Request memory r = market.getRequest(a.requestId);
            assertEq(a.caller, address(agent), "acted by the agent");
            assertTrue(r.status == IInferenceMarket.RequestStatus.Finalized, "acted on a Finalized result");
            assertTrue(
                market.commitmentOf(handler.paramsOf(a.requestId)) == r.commitment,
                "the handler knows the request"
            );
            assertEq(handler.paramsOf(a.requestId).requester, address(agent), "acted on the agent's own request");
            assertEq(recorder.actsOf(a.requestId), 1, "acted once per result");
            assertEq(a.decision, CanonicalTensor.argmax(market.outputOf(a.requestId)), "the output's decision");
            assertTrue(a.providerWithinLimit, "acted on a provider beyond the reputation limit");
        }
        IAgentAccount.Record memory rec = agent.record();
        assertEq(rec.actions, n, "record.actions == actions seen");
        assertEq(rec.actionFailures, 0, "no action failed");
        assertEq(rec.actions + rec.actionFailures + rec.skipped, rec.results, "each result acted on or skipped");
    }

    /// The agent's ETH is what came in less what went out, and its record agrees.
    function invariant_agentEthAccounted() public view {
        assertEq(
            address(agent).balance + handler.fees() + handler.tips() + handler.withdrawn(),
            handler.funded() + handler.taskFees() + handler.reclaimed(),
            "balance == in - out"
        );
        IAgentAccount.Record memory rec = agent.record();
        assertEq(rec.spent, handler.fees(), "record.spent == fees paid");
        assertEq(rec.tips, handler.tips(), "record.tips == tips paid");
        assertEq(rec.requests, handler.agentRequestCount(), "record.requests == requests made");
    }
}
