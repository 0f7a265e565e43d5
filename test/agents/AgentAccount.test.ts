/**
 * The agent account against the real market and registries: every policy refusal by its named
 * error, budget exhaustion, keepers racing, results turned into decisions and actions (and
 * every reason a result is skipped), re-entrancy from action targets and keepers into the agent
 * and the market, and the refund paths. Models are Attested (settled with `submit`) or Zk with
 * a stub verifier; the Optimistic path has its own fixture at the end.
 */
import { expect } from "chai";
import { concat, getBytes, hexlify, keccak256, toUtf8Bytes } from "ethers";
import { network } from "hardhat";
import { ACTION_GAS_RESERVE, CALLBACK_GAS_OVERHEAD, minCallbackGas } from "../../oracle/agents/policy.ts";
import { findRequestParams } from "../../oracle/chain/request-params.ts";
import { merkleRoot } from "../../oracle/model/vqm/commitments.ts";
import {
  CLAIM_PENALTY,
  ETH_PRICE,
  modelParams,
  outputBytes,
  Status,
  tensorHex,
  TOKEN_PRICE,
  ZERO,
} from "../contracts/helpers.ts";
import {
  ArgKind,
  argmaxOutput,
  basePolicy,
  createAgent,
  DecisionKind,
  deployAgents,
  ETH,
  FEATURES,
  INPUT_TENSOR,
  InputKind,
  Model,
  Modes,
  MAX_UINT64,
  selectorOf,
  serve,
  TIP,
  uintArg,
  wokenRequestId,
  type AgentAccount,
  type AgentEnv,
  type PolicyStruct,
} from "./agent-helpers.ts";

const { ethers, networkHelpers } = await network.create();
const { time } = networkHelpers;
const FEE_AND_TIP = ETH_PRICE + TIP;
const ACT = selectorOf("act");

async function fixture() {
  return deployAgents(ethers);
}

/** A funded agent (1 ETH) whose decision 2 calls `puppet.act(taskArg)`. */
async function agentWith(env: AgentEnv, overrides: Partial<PolicyStruct> = {}, fund = ETH) {
  const agent = await createAgent(ethers, env, basePolicy(overrides));
  await agent.account.setAction(2, { target: env.puppetAddress, selector: ACT, arg: ArgKind.TaskArg });
  if (fund > 0n) await env.owner.sendTransaction({ to: agent.address, value: fund });
  return agent;
}

/** Posts `data` as a task (by the owner: free) and wakes the agent as `env.keeper`. */
async function postAndWake(env: AgentEnv, account: AgentAccount, data: string = INPUT_TENSOR) {
  await (await account.postTask(data)).wait();
  return wokenRequestId(account, await account.connect(env.keeper).wake());
}

/** A signer standing in for the market (to call the callback the way only the market can). */
async function asMarket(env: AgentEnv) {
  await networkHelpers.impersonateAccount(env.marketAddress);
  await networkHelpers.setBalance(env.marketAddress, ETH);
  return ethers.getSigner(env.marketAddress);
}

describe("AgentAccount", () => {
  describe("wake: policy refusals, in order, each by its error", () => {
    it("AgentPaused: an operator pauses; only the owner unpauses", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { account, agentId } = await agentWith(env);
      await env.registry.connect(env.owner).setOperator(agentId, env.operator.address, true);
      await expect(account.connect(env.operator).pause()).to.emit(account, "Paused").withArgs(env.operator.address);
      await account.postTask(INPUT_TENSOR);
      await expect(account.connect(env.keeper).wake()).to.be.revertedWithCustomError(account, "AgentPaused");
      expect((await account.isDue())[0]).to.equal(false);
      await expect(account.connect(env.operator).unpause())
        .to.be.revertedWithCustomError(account, "AgentNotOwner")
        .withArgs(env.operator.address);
      await expect(account.unpause()).to.emit(account, "Unpaused").withArgs(env.owner.address);
      await expect(account.connect(env.keeper).wake()).to.emit(account, "Woken");
    });

    it("AgentNotDue: no task and no schedule (dueAt 0), or before the interval has passed (dueAt)", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const tasksOnly = await agentWith(env);
      await expect(tasksOnly.account.connect(env.keeper).wake())
        .to.be.revertedWithCustomError(tasksOnly.account, "AgentNotDue")
        .withArgs(0);
      expect(await tasksOnly.account.isDue()).to.deep.equal([false, 0n]);

      const scheduled = await agentWith(env, {
        inputKind: InputKind.ViewCall,
        inputTarget: env.sourceAddress,
        inputSelector: FEATURES,
        interval: 600,
      });
      // Never woken: due at once.
      expect((await scheduled.account.isDue())[0]).to.equal(true);
      await scheduled.account.connect(env.keeper).wake();
      const next = BigInt(await time.latest()) + 600n;
      await expect(scheduled.account.connect(env.keeper).wake())
        .to.be.revertedWithCustomError(scheduled.account, "AgentNotDue")
        .withArgs(next);
      expect(await scheduled.account.isDue()).to.deep.equal([false, next]);
      await time.increaseTo(next);
      await expect(scheduled.account.connect(env.keeper).wake()).to.emit(scheduled.account, "Woken");
    });

    it("AgentModeNotAllowed: the policy accepts Zk only, the model is Attested", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { account } = await agentWith(env, { modes: Modes.Zk });
      await account.postTask(INPUT_TENSOR);
      await expect(account.connect(env.keeper).wake())
        .to.be.revertedWithCustomError(account, "AgentModeNotAllowed")
        .withArgs(Model.Argmax, 0);
    });

    it("a deprecated model: the registry's ModelIsDeprecated bubbles up", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { account } = await agentWith(env);
      await account.postTask(INPUT_TENSOR);
      await env.models.connect(env.modelOwner).deprecate(Model.Argmax);
      await expect(account.connect(env.keeper).wake())
        .to.be.revertedWithCustomError(env.models, "ModelIsDeprecated")
        .withArgs(Model.Argmax);
    });

    it("AgentFeeTooHigh: the model's fee is above maxFeePerRequest", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { account } = await agentWith(env, { maxFeePerRequest: ETH_PRICE - 1n });
      await account.postTask(INPUT_TENSOR);
      await expect(account.connect(env.keeper).wake())
        .to.be.revertedWithCustomError(account, "AgentFeeTooHigh")
        .withArgs(ETH_PRICE, ETH_PRICE - 1n);
    });

    it("AgentSpendCapReached: fees and tips within one period; the window restarts after it", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const cap = 2n * FEE_AND_TIP;
      const { account } = await agentWith(env, { spendPerPeriod: cap, period: 3600 });
      for (let i = 0; i < 3; i++) await account.postTask(INPUT_TENSOR);
      await account.connect(env.keeper).wake();
      await time.increase(1800);
      await account.connect(env.keeper).wake();
      await expect(account.connect(env.keeper).wake())
        .to.be.revertedWithCustomError(account, "AgentSpendCapReached")
        .withArgs(3n * FEE_AND_TIP, cap);
      // The window started at the first wake: 3600 s after it, the spend starts over.
      await time.increase(1800);
      await expect(account.connect(env.keeper).wake()).to.emit(account, "Woken");
    });

    it("AgentInsufficientBudget: ETH for fee and tip; for an ERC-20 model, tokens for the fee and ETH for the tip", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const eth = await agentWith(env, {}, FEE_AND_TIP - 1n);
      await eth.account.postTask(INPUT_TENSOR);
      await expect(eth.account.connect(env.keeper).wake())
        .to.be.revertedWithCustomError(eth.account, "AgentInsufficientBudget")
        .withArgs(FEE_AND_TIP, FEE_AND_TIP - 1n);

      const erc20 = await agentWith(
        env,
        { modelId: Model.Token, maxFeePerRequest: TOKEN_PRICE, spendPerPeriod: 10n * TOKEN_PRICE },
        0n,
      );
      await erc20.account.postTask(INPUT_TENSOR);
      await env.token.mint(erc20.address, TOKEN_PRICE - 1n);
      await expect(erc20.account.connect(env.keeper).wake())
        .to.be.revertedWithCustomError(erc20.account, "AgentInsufficientBudget")
        .withArgs(TOKEN_PRICE, TOKEN_PRICE - 1n);
      await env.token.mint(erc20.address, 1n);
      await expect(erc20.account.connect(env.keeper).wake())
        .to.be.revertedWithCustomError(erc20.account, "AgentInsufficientBudget")
        .withArgs(TIP, 0);
    });

    it("the checks run in order: paused before due, due before mode, mode before fee, fee before cap, cap before budget", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { account } = await agentWith(env, { modes: Modes.Zk, maxFeePerRequest: 0, spendPerPeriod: 0 }, 0n);
      await account.pause();
      await expect(account.connect(env.keeper).wake()).to.be.revertedWithCustomError(account, "AgentPaused");
      await account.unpause();
      await expect(account.connect(env.keeper).wake()).to.be.revertedWithCustomError(account, "AgentNotDue");
      await account.postTask(INPUT_TENSOR);
      await expect(account.connect(env.keeper).wake()).to.be.revertedWithCustomError(account, "AgentModeNotAllowed");
      await account.setPolicy(basePolicy({ maxFeePerRequest: 0, spendPerPeriod: 0 }));
      await expect(account.connect(env.keeper).wake()).to.be.revertedWithCustomError(account, "AgentFeeTooHigh");
      await account.setPolicy(basePolicy({ spendPerPeriod: 0 }));
      await expect(account.connect(env.keeper).wake()).to.be.revertedWithCustomError(account, "AgentSpendCapReached");
      await account.setPolicy(basePolicy());
      await expect(account.connect(env.keeper).wake()).to.be.revertedWithCustomError(
        account,
        "AgentInsufficientBudget",
      );
    });
  });

  describe("tasks, tips and roles", () => {
    it("AgentTaskFeeTooLow: strangers pay minTaskFee (it joins the budget); the owner and operators post free", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const fee = ETH / 200n;
      const { account, agentId, address } = await agentWith(env, { minTaskFee: fee }, 0n);
      await expect(account.connect(env.stranger).postTask(INPUT_TENSOR, { value: fee - 1n }))
        .to.be.revertedWithCustomError(account, "AgentTaskFeeTooLow")
        .withArgs(fee - 1n, fee);
      await expect(account.connect(env.stranger).postTask(INPUT_TENSOR, { value: fee }))
        .to.emit(account, "TaskPosted")
        .withArgs(0, env.stranger.address, fee, INPUT_TENSOR);
      expect(await ethers.provider.getBalance(address)).to.equal(fee);
      await env.registry.connect(env.owner).setOperator(agentId, env.operator.address, true);
      await expect(account.connect(env.operator).postTask(INPUT_TENSOR)).to.emit(account, "TaskPosted");
      await expect(account.postTask(INPUT_TENSOR)).to.emit(account, "TaskPosted");
      expect(await account.tasks()).to.deep.equal([0n, 3n]);
    });

    it("AgentTipTooHigh / AgentNotOwnerOrOperator: operators set the tip up to the policy's maximum", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { account, agentId } = await agentWith(env);
      expect(await account.keeperTip()).to.equal(TIP);
      await expect(account.connect(env.stranger).setKeeperTip(1))
        .to.be.revertedWithCustomError(account, "AgentNotOwnerOrOperator")
        .withArgs(env.stranger.address);
      await env.registry.connect(env.owner).setOperator(agentId, env.operator.address, true);
      await expect(account.connect(env.operator).setKeeperTip(TIP + 1n))
        .to.be.revertedWithCustomError(account, "AgentTipTooHigh")
        .withArgs(TIP + 1n, TIP);
      await expect(account.connect(env.operator).setKeeperTip(TIP / 2n))
        .to.emit(account, "KeeperTipSet")
        .withArgs(TIP / 2n);
      await expect(account.connect(env.stranger).pause())
        .to.be.revertedWithCustomError(account, "AgentNotOwnerOrOperator")
        .withArgs(env.stranger.address);
    });

    it("AgentNotOwner: only the owner sets the policy and actions, unpauses and withdraws", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { account, agentId } = await agentWith(env);
      await env.registry.connect(env.owner).setOperator(agentId, env.operator.address, true);
      const op = account.connect(env.operator);
      const refusals = [
        () => op.setPolicy(basePolicy()),
        () => op.setAction(1, { target: env.puppetAddress, selector: ACT, arg: 0 }),
        () => op.unpause(),
        () => op.withdraw(ZERO, 1, env.operator.address),
      ];
      for (const call of refusals)
        await expect(call()).to.be.revertedWithCustomError(account, "AgentNotOwner").withArgs(env.operator.address);
    });

    it("ownership follows the identity token; operators lapse with a transfer", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { account, agentId } = await agentWith(env);
      await env.registry.connect(env.owner).setOperator(agentId, env.operator.address, true);
      await env.registry.connect(env.owner).transferFrom(env.owner.address, env.stranger.address, agentId);
      expect(await env.registry.isOperator(agentId, env.operator.address)).to.equal(false);
      await expect(account.connect(env.operator).pause()).to.be.revertedWithCustomError(
        account,
        "AgentNotOwnerOrOperator",
      );
      await expect(account.withdraw(ZERO, 1, env.owner.address))
        .to.be.revertedWithCustomError(account, "AgentNotOwner")
        .withArgs(env.owner.address);
      await expect(account.connect(env.stranger).withdraw(ZERO, 1, env.stranger.address))
        .to.emit(account, "Withdrawn")
        .withArgs(ZERO, env.stranger.address, 1);
    });

    it("AgentPolicyInvalid: a policy that could never work, and actions on the account or the market", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { account } = await agentWith(env);
      expect(await account.MAX_CALLBACK_GAS()).to.equal(await env.market.MAX_CALLBACK_GAS());
      expect(await account.MAX_REQUEST_TTL()).to.equal(await env.market.MAX_DEADLINE_DELAY());
      const overhead = (await account.ACTION_GAS_RESERVE()) + (await account.CALLBACK_GAS_OVERHEAD());
      // The CLI checks a policy file with the same numbers before it sends anything.
      expect([await account.ACTION_GAS_RESERVE(), await account.CALLBACK_GAS_OVERHEAD()]).to.deep.equal([
        BigInt(ACTION_GAS_RESERVE),
        BigInt(CALLBACK_GAS_OVERHEAD),
      ]);
      expect(BigInt(minCallbackGas(100_000))).to.equal(100_000n + 100_000n / 63n + overhead);
      const tightCallback = 100_000n + 100_000n / 63n + overhead;
      const invalid: Partial<PolicyStruct>[] = [
        { modelId: 0 },
        { modelId: 2n ** 48n },
        { modes: 0 },
        { modes: 8 },
        { period: 0 },
        { requestTtl: 0 },
        { requestTtl: 30 * 86400 + 1 },
        { callbackGasLimit: 2_000_001, actionGasLimit: 100_000 },
        { callbackGasLimit: tightCallback - 1n },
        { inputKind: InputKind.ViewCall, inputTarget: env.stranger.address, inputSelector: FEATURES },
        { interval: 60 },
      ];
      for (const overrides of invalid)
        await expect(account.setPolicy(basePolicy(overrides))).to.be.revertedWithCustomError(
          account,
          "AgentPolicyInvalid",
        );
      await expect(account.setPolicy(basePolicy({ callbackGasLimit: tightCallback }))).to.emit(
        account,
        "PolicyUpdated",
      );
      for (const target of [await account.getAddress(), env.marketAddress, env.stranger.address])
        await expect(account.setAction(1, { target, selector: ACT, arg: 0 })).to.be.revertedWithCustomError(
          account,
          "AgentPolicyInvalid",
        );
      await expect(account.setAction(1, { target: ZERO, selector: "0x00000000", arg: 0 }))
        .to.emit(account, "ActionSet")
        .withArgs(1, [ZERO, "0x00000000", 0]);
    });

    it("setPolicy: the trail, the tip lowered to a new maximum, the schedule re-armed by a new interval", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const viewCall = {
        inputKind: InputKind.ViewCall,
        inputTarget: env.sourceAddress,
        inputSelector: FEATURES,
        interval: 3600,
      };
      const { account } = await agentWith(env, viewCall);
      await account.connect(env.keeper).wake();
      expect((await account.isDue())[0]).to.equal(false);
      const next = basePolicy({ ...viewCall, interval: 7200, maxKeeperTip: TIP / 4n, maxProviderSlashes: 3 });
      await expect(account.setPolicy(next))
        .to.emit(account, "PolicyUpdated")
        .and.to.emit(account, "KeeperTipSet")
        .withArgs(TIP / 4n);
      expect(await account.keeperTip()).to.equal(TIP / 4n);
      expect((await account.isDue())[0]).to.equal(true);
      const stored = await account.policy();
      expect(stored.interval).to.equal(7200n);
      expect(stored.maxProviderSlashes).to.equal(3n);
      await account.setPolicy(basePolicy({ ...viewCall, interval: 7200, maxProviderSlashes: MAX_UINT64 - 5n }));
      // Any limit from 2^56 - 1 up means "any provider" and reads back as the maximum.
      expect((await account.policy()).maxProviderSlashes).to.equal(MAX_UINT64);
    });
  });

  describe("inputs", () => {
    const viewCall = (env: AgentEnv, overrides: Partial<PolicyStruct> = {}) => ({
      inputKind: InputKind.ViewCall,
      inputTarget: env.sourceAddress,
      inputSelector: FEATURES,
      ...overrides,
    });

    it("ViewCall: a scheduled wake calls the source with the wake count; a task with its argument", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { account } = await agentWith(env, viewCall(env, { interval: 60 }));
      const inputs: string[] = [];
      for (const [arg, values] of [
        [0, [1, 1, 1, 1]],
        [1, [2, 2, 2, 2]],
        [42, [4, 2, 4, 2]],
      ] as const)
        await env.source.set(arg, tensorHex("int8", [1, 4], [...values]));
      const requestInput = async (tx: Promise<unknown>) => {
        const receipt = await ((await tx) as { wait: () => Promise<{ logs: unknown[] }> }).wait();
        for (const log of receipt.logs as Parameters<typeof env.market.interface.parseLog>[0][]) {
          const parsed = env.market.interface.parseLog(log);
          if (parsed?.name === "InferenceRequested") return parsed.args.input as string;
        }
        throw new Error("no request");
      };
      inputs.push(await requestInput(account.connect(env.keeper).wake()));
      await time.increase(60);
      inputs.push(await requestInput(account.connect(env.keeper).wake()));
      await account.postTask(uintArg(42));
      inputs.push(await requestInput(account.connect(env.keeper).wake()));
      expect(inputs).to.deep.equal([
        "0x00" + tensorHex("int8", [1, 4], [1, 1, 1, 1]).slice(2),
        "0x00" + tensorHex("int8", [1, 4], [2, 2, 2, 2]).slice(2),
        "0x00" + tensorHex("int8", [1, 4], [4, 2, 4, 2]).slice(2),
      ]);
    });

    it("AgentInputUnavailable: a scheduled wake whose source reverts, returns nothing or no ABI bytes", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { account } = await agentWith(env, viewCall(env, { interval: 60 }));
      for (const behaviour of [1, 2, 4]) {
        await env.source.setBehaviour(0, behaviour);
        await expect(account.connect(env.keeper).wake())
          .to.be.revertedWithCustomError(account, "AgentInputUnavailable")
          .withArgs(env.sourceAddress, FEATURES);
      }
    });

    it("TaskDropped: a task whose input cannot be had is consumed, the keeper paid, so the queue moves on", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { account } = await agentWith(env, viewCall(env));
      await env.source.setBehaviour(5, 1); // reverts
      await env.source.setBehaviour(6, 2); // empty
      await env.source.setBehaviour(7, 4); // garbage
      for (const data of [uintArg(5), uintArg(6), uintArg(7), "0x1234", uintArg(8)]) await account.postTask(data);
      for (let taskId = 0; taskId < 4; taskId++) {
        const wake = account.connect(env.keeper).wake();
        await expect(wake).to.emit(account, "TaskDropped").withArgs(taskId, env.keeper.address, 1, TIP);
        await expect(wake).to.changeEtherBalance(ethers, env.keeper, TIP, { includeFee: false });
      }
      await expect(account.connect(env.keeper).wake()).to.emit(account, "Woken");
      const record = await account.record();
      expect([record.wakes, record.requests, record.tips, record.spent]).to.deep.equal([5n, 1n, 5n * TIP, ETH_PRICE]);
    });

    it("a keeper cannot get a task dropped by starving the input call of gas", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { account, address } = await agentWith(env, viewCall(env));
      await env.source.setBehaviour(9, 3); // costs about 300k gas, then answers
      await account.postTask(uintArg(9));
      const data = account.interface.encodeFunctionData("wake");
      let woken = false;
      for (let gasLimit = 60_000; gasLimit <= 900_000 && !woken; gasLimit += 40_000) {
        const tx = await env.keeper
          .sendTransaction({ to: address, data, gasLimit, maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 1n })
          .catch(() => undefined);
        const receipt = tx ? await tx.wait().catch(() => undefined) : undefined;
        const names = (receipt?.logs ?? []).map((log) => account.interface.parseLog(log)?.name);
        expect(names).to.not.include("TaskDropped");
        woken = names.includes("Woken");
        if (!woken) expect(await account.tasks()).to.deep.equal([0n, 1n]);
      }
      expect(woken).to.equal(true);
    });

    it("a Zk model: a task that is not the model's canonical input is dropped (reason 2); a scheduled one reverts", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { account } = await agentWith(env, { modelId: Model.Zk });
      await account.postTask(tensorHex("int8", [1, 5], [1, 2, 3, 4, 5]));
      await account.postTask(INPUT_TENSOR);
      await expect(account.connect(env.keeper).wake())
        .to.emit(account, "TaskDropped")
        .withArgs(0, env.keeper.address, 2, TIP);
      await expect(account.connect(env.keeper).wake()).to.emit(account, "Woken");

      const scheduled = await agentWith(env, viewCall(env, { modelId: Model.Zk, interval: 60 }));
      await env.source.set(0, tensorHex("int8", [1, 5], [1, 2, 3, 4, 5]));
      await expect(scheduled.account.connect(env.keeper).wake())
        .to.be.revertedWithCustomError(scheduled.account, "AgentInputUnavailable")
        .withArgs(env.sourceAddress, FEATURES);
    });
    it("TaskContentId: an Attested model is asked with the task's content id (0x01 ‖ CID); a task that is no content id is dropped", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { account } = await agentWith(env, {
        modelId: Model.Argmax,
        modes: Modes.Attested,
        inputKind: InputKind.TaskContentId,
      });
      const cid = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";
      const requestId = await postAndWake(env, account, hexlify(toUtf8Bytes(cid)));
      // The market commits to the input's hash; the event's input is checked against it.
      const request = await findRequestParams(env.market, requestId);
      expect(request.inputHash).to.equal(keccak256(concat(["0x01", toUtf8Bytes(cid)])));
      await expect(serve(env, requestId, argmaxOutput(2))).to.emit(account, "ActionExecuted");

      // Not printable ASCII, too long, empty: each consumed without a request, the keeper paid.
      for (const data of [hexlify(toUtf8Bytes("bafy kreih")), hexlify(new Uint8Array(257).fill(0x61)), "0x"]) {
        await account.postTask(data);
        await expect(account.connect(env.keeper).wake())
          .to.emit(account, "TaskDropped")
          .withArgs((await account.tasks())[1] - 1n, env.keeper.address, 2, TIP)
          .and.not.to.emit(env.market, "InferenceRequested");
      }
    });

    it("TaskContentId: a policy that accepts another mode than Attested, or a schedule, is refused", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { account } = await agentWith(env);
      for (const overrides of [
        { inputKind: InputKind.TaskContentId, modes: Modes.Zk },
        { inputKind: InputKind.TaskContentId, modes: Modes.All },
        { inputKind: InputKind.TaskContentId, modes: Modes.Attested, interval: 60 },
      ])
        await expect(account.setPolicy(basePolicy(overrides))).to.be.revertedWithCustomError(
          account,
          "AgentPolicyInvalid",
        );
      await expect(
        account.setPolicy(basePolicy({ inputKind: InputKind.TaskContentId, modes: Modes.Attested })),
      ).to.emit(account, "PolicyUpdated");
    });
  });

  describe("results, decisions and actions", () => {
    it("a task end to end: request paid from the budget, tip to the keeper, action on the Finalized result", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { account, address } = await agentWith(env);
      await expect(account.connect(env.stranger).postTask(INPUT_TENSOR)).to.emit(account, "TaskPosted");
      expect(await account.isDue()).to.deep.equal([true, 0n]);
      const wake = account.connect(env.keeper).wake();
      await expect(wake).to.changeEtherBalances(ethers, [address, env.keeper], [-FEE_AND_TIP, TIP], {
        includeFee: false,
      });
      const requestId = await env.market.requestCount();
      await expect(wake).to.emit(account, "Woken").withArgs(requestId, 0, env.keeper.address, ETH_PRICE, TIP);
      const request = await findRequestParams(env.market, requestId);
      expect([request.requester, request.callback, request.callbackGasLimit, request.fee]).to.deep.equal([
        address,
        address,
        300_000n,
        ETH_PRICE,
      ]);
      expect(await account.requestOf(requestId)).to.deep.equal([0n, true]);

      await env.market.connect(env.provider).claim(requestId);
      const submit = env.market.connect(env.provider).submit(requestId, request, argmaxOutput(2));
      await expect(submit).to.emit(account, "DecisionMade").withArgs(requestId, 2);
      await expect(submit)
        .to.emit(account, "ActionExecuted")
        .withArgs(requestId, 2, env.puppetAddress, ACT, true)
        .and.to.emit(env.market, "CallbackResult")
        .withArgs(requestId, true);
      // A TaskCalldata task's argument is its task id.
      expect([await env.puppet.acts(), await env.puppet.lastArg(), await env.puppet.lastCaller()]).to.deep.equal([
        1n,
        0n,
        address,
      ]);
      expect(await account.requestOf(requestId)).to.deep.equal([0n, false]);
      const record = await account.record();
      expect([...record]).to.deep.equal([1n, 1n, 1n, 1n, 0n, 0n, ETH_PRICE, TIP]);
    });

    it("the action gets exactly actionGasLimit; its argument: none, the task's argument, the request id", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { account } = await agentWith(env, {
        inputKind: InputKind.ViewCall,
        inputTarget: env.sourceAddress,
        inputSelector: FEATURES,
      });
      await account.setAction(0, { target: env.puppetAddress, selector: selectorOf("actNoArg"), arg: ArgKind.None });
      await account.setAction(1, { target: env.puppetAddress, selector: ACT, arg: ArgKind.RequestId });
      const args: bigint[] = [];
      for (const decision of [0, 1, 2]) {
        const requestId = await postAndWake(env, account, uintArg(1000 + decision));
        await serve(env, requestId, argmaxOutput(decision));
        args.push(await env.puppet.lastArg());
        if (decision === 1) expect(args[1]).to.equal(requestId);
        // What the target saw at entry: the limit less its own dispatch.
        expect(100_000n - (await env.puppet.lastGas())).to.be.lessThan(1000n);
      }
      expect(args[0]).to.equal(2n ** 256n - 1n);
      expect(args[2]).to.equal(1002n);
    });

    it("decisions: argmax of int8 (first on ties), the class of an int32 scalar, a threshold on one element", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const cases: [Partial<PolicyStruct>, string, bigint][] = [
        [{}, tensorHex("int8", [1, 3], [-5, 7, 7]), 1n],
        [{}, tensorHex("int8", [1, 3], [-128, -128, -128]), 0n],
        [{ modelId: Model.Class }, tensorHex("int32", [1], [70000]), 70000n],
        [{ decisionKind: DecisionKind.Threshold, decisionIndex: 1, decisionThreshold: 50 }, argmaxOutput(1), 1n],
        [
          { decisionKind: DecisionKind.Threshold, decisionIndex: 2, decisionThreshold: -3 },
          tensorHex("int8", [1, 3], [0, 0, -4]),
          0n,
        ],
      ];
      for (const [overrides, output, decision] of cases) {
        const { account } = await agentWith(env, overrides);
        const requestId = await postAndWake(env, account);
        await expect(serve(env, requestId, output))
          .to.emit(account, "DecisionMade")
          .withArgs(requestId, decision);
      }
    });

    it("DecisionSkipped 1: the provider has been slashed more than the policy allows", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      // provider2 lets a claimed request expire: the claim penalty is slashed (one slash).
      const deadline = BigInt(await time.latest()) + 100n;
      await env.market
        .connect(env.requester)
        .requestInference(Model.Argmax, "0x01", ETH_PRICE, deadline, ZERO, 0, { value: ETH_PRICE });
      const plain = await env.market.requestCount();
      await env.market.connect(env.provider2).claim(plain);
      await time.increase(200);
      await env.market.expire(plain, await findRequestParams(env.market, plain));
      expect((await env.providers.statsOf(env.provider2.address)).slashes).to.equal(1n);

      const { account } = await agentWith(env, { maxProviderSlashes: 0 });
      const bySlashed = await postAndWake(env, account);
      await expect(serve(env, bySlashed, argmaxOutput(2), env.provider2))
        .to.emit(account, "DecisionSkipped")
        .withArgs(bySlashed, 1)
        .and.not.to.emit(account, "ActionExecuted");
      const byClean = await postAndWake(env, account);
      await expect(serve(env, byClean, argmaxOutput(2))).to.emit(account, "ActionExecuted");
      const record = await account.record();
      expect([record.results, record.actions, record.skipped]).to.deep.equal([2n, 1n, 1n]);
    });

    it("DecisionSkipped 2 and 3: an output no decision can be read from; a decision without an action", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const float = await agentWith(env, { modelId: Model.Float });
      const id1 = await postAndWake(env, float.account, "0x01");
      await expect(serve(env, id1, outputBytes([1, 2, 3])))
        .to.emit(float.account, "DecisionSkipped")
        .withArgs(id1, 2);
      const negativeClass = await agentWith(env, { modelId: Model.Class });
      const id2 = await postAndWake(env, negativeClass.account);
      await expect(serve(env, id2, tensorHex("int32", [1], [-1])))
        .to.emit(negativeClass.account, "DecisionSkipped")
        .withArgs(id2, 2);
      const { account } = await agentWith(env);
      const id3 = await postAndWake(env, account);
      await expect(serve(env, id3, argmaxOutput(0)))
        .to.emit(account, "DecisionSkipped")
        .withArgs(id3, 3)
        .and.to.emit(account, "DecisionMade")
        .withArgs(id3, 0);
    });

    it("DecisionSkipped 4: a decision that leaves the action less than its whole limit skips it", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      // Argmax over 3000 elements (about 275k gas) leaves less than the action's 200k (and 1/63,
      // and the reserve) of a 450k callback.
      const callbackGasLimit = 450_000;
      const { account } = await agentWith(env, { modelId: Model.Big, callbackGasLimit, actionGasLimit: 200_000 });
      await account.setAction(2999, { target: env.puppetAddress, selector: ACT, arg: ArgKind.TaskArg });
      const values = new Array<number>(3000).fill(0);
      values[2999] = 1;
      const requestId = await postAndWake(env, account);
      await expect(serve(env, requestId, tensorHex("int8", [1, 3000], values)))
        .to.emit(account, "DecisionSkipped")
        .withArgs(requestId, 4)
        .and.to.emit(env.market, "CallbackResult")
        .withArgs(requestId, true);
      expect(await env.puppet.acts()).to.equal(0n);
    });

    it("a failing action is recorded, not retried, and does not block the agent (revert, out of gas, return bomb)", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { account } = await agentWith(env);
      const outcomes: boolean[] = [];
      for (const name of ["fail", "burn", "bomb"]) {
        await account.setAction(2, { target: env.puppetAddress, selector: selectorOf(name), arg: ArgKind.TaskArg });
        const requestId = await postAndWake(env, account);
        const receipt = (await serve(env, requestId, argmaxOutput(2)))!;
        for (const log of receipt.logs) {
          const parsed = account.interface.parseLog(log);
          if (parsed?.name === "ActionExecuted") outcomes.push(parsed.args.success as boolean);
        }
        // The market's callback never fails for a failing action.
        expect(receipt.logs.some((log) => env.market.interface.parseLog(log)?.name === "CallbackResult")).to.equal(
          true,
        );
        expect(receipt.gasUsed).to.be.lessThan(600_000n);
      }
      expect(outcomes).to.deep.equal([false, false, true]);
      const record = await account.record();
      expect([record.actions, record.actionFailures]).to.deep.equal([1n, 2n]);
      await account.setAction(2, { target: env.puppetAddress, selector: ACT, arg: ArgKind.TaskArg });
      await expect(serve(env, await postAndWake(env, account), argmaxOutput(2))).to.emit(account, "ActionExecuted");
    });

    it("AgentNotMarket, AgentUnknownRequest, AgentResultNotFinal: only the market, only its own pending request, only Finalized", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { account, address } = await agentWith(env);
      await expect(account.connect(env.stranger).onInferenceResult(1, argmaxOutput(2)))
        .to.be.revertedWithCustomError(account, "AgentNotMarket")
        .withArgs(env.stranger.address);

      // A stranger's request naming the agent as its callback: the market calls, the agent refuses.
      const deadline = BigInt(await time.latest()) + 3600n;
      await env.market
        .connect(env.requester)
        .requestInference(Model.Argmax, "0x01", ETH_PRICE, deadline, address, 300_000, { value: ETH_PRICE });
      const foreign = await env.market.requestCount();
      await expect(serve(env, foreign, argmaxOutput(2)))
        .to.emit(env.market, "CallbackResult")
        .withArgs(foreign, false);
      expect(await env.puppet.acts()).to.equal(0n);

      const market = await asMarket(env);
      await expect(account.connect(market).onInferenceResult(foreign, argmaxOutput(2)))
        .to.be.revertedWithCustomError(account, "AgentUnknownRequest")
        .withArgs(foreign);
      const pending = await postAndWake(env, account);
      await expect(account.connect(market).onInferenceResult(pending, argmaxOutput(2)))
        .to.be.revertedWithCustomError(account, "AgentResultNotFinal")
        .withArgs(pending);
      await serve(env, pending, argmaxOutput(2));
      await expect(account.connect(market).onInferenceResult(pending, argmaxOutput(2)))
        .to.be.revertedWithCustomError(account, "AgentUnknownRequest")
        .withArgs(pending);
      expect(await env.puppet.acts()).to.equal(1n);
      await networkHelpers.stopImpersonatingAccount(env.marketAddress);
    });
  });

  describe("budget, withdrawals and refunds", () => {
    it("BudgetExhausted: the wake that leaves too little for another pauses the agent", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { account, address } = await agentWith(env, {}, 2n * FEE_AND_TIP);
      for (let i = 0; i < 3; i++) await account.postTask(INPUT_TENSOR);
      await expect(account.connect(env.keeper).wake()).not.to.emit(account, "BudgetExhausted");
      await expect(account.connect(env.keeper).wake())
        .to.emit(account, "BudgetExhausted")
        .withArgs(0, FEE_AND_TIP)
        .and.to.emit(account, "Woken");
      expect(await account.paused()).to.equal(true);
      await expect(account.connect(env.keeper).wake()).to.be.revertedWithCustomError(account, "AgentPaused");
      await env.owner.sendTransaction({ to: address, value: FEE_AND_TIP });
      await account.unpause();
      await expect(account.connect(env.keeper).wake()).to.emit(account, "Woken");
    });

    it("an ERC-20 model: exactly the fee is approved and taken; the token budget runs out and pauses the agent", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { account, address } = await agentWith(
        env,
        { modelId: Model.Token, maxFeePerRequest: TOKEN_PRICE, spendPerPeriod: 10n * TOKEN_PRICE },
        ETH / 10n,
      );
      await env.token.mint(address, 2n * TOKEN_PRICE);
      await account.postTask(INPUT_TENSOR);
      await account.postTask(INPUT_TENSOR);
      await expect(account.connect(env.keeper).wake()).to.changeTokenBalances(
        ethers,
        env.token,
        [address, env.marketAddress],
        [-TOKEN_PRICE, TOKEN_PRICE],
      );
      expect(await env.token.allowance(address, env.marketAddress)).to.equal(0n);
      await expect(account.connect(env.keeper).wake()).to.emit(account, "BudgetExhausted").withArgs(0, TOKEN_PRICE);
      expect((await account.record()).spent).to.equal(2n * TOKEN_PRICE);
    });

    it("withdraw: the owner takes ETH and tokens; AgentInsufficientBudget beyond them; AgentTransferFailed to a refuser", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { account, address } = await agentWith(env, {}, ETH);
      await env.token.mint(address, 5n);
      const withdrawal = account.withdraw(ZERO, ETH / 4n, env.owner.address);
      await expect(withdrawal)
        .to.emit(account, "Withdrawn")
        .withArgs(ZERO, env.owner.address, ETH / 4n);
      await expect(withdrawal).to.changeEtherBalances(ethers, [address, env.owner], [-ETH / 4n, ETH / 4n], {
        includeFee: false,
      });
      await expect(account.withdraw(env.tokenAddress, 5n, env.owner.address)).to.changeTokenBalances(
        ethers,
        env.token,
        [address, env.owner],
        [-5n, 5n],
      );
      await expect(account.withdraw(ZERO, ETH, env.owner.address))
        .to.be.revertedWithCustomError(account, "AgentInsufficientBudget")
        .withArgs(ETH, (ETH * 3n) / 4n);
      await env.puppet.setRefuseEth(true);
      await expect(account.withdraw(ZERO, 1n, env.puppetAddress))
        .to.be.revertedWithCustomError(account, "AgentTransferFailed")
        .withArgs(env.puppetAddress);
    });

    it("refunds: a Failed request (reportInvalidInput) and a Refunded one (expire) come back with reclaim", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { account, address } = await agentWith(env);
      const failed = await postAndWake(env, account);
      await env.market.connect(env.provider).claim(failed);
      await env.market.connect(env.provider).reportInvalidInput(failed, await findRequestParams(env.market, failed), 1);
      expect(await env.market.statusOf(failed)).to.equal(Status.Failed);
      expect(await account.requestOf(failed)).to.deep.equal([0n, false]);
      const reclaim = account.connect(env.stranger).reclaim(ZERO);
      await expect(reclaim).to.emit(account, "RefundsReclaimed").withArgs(ZERO, ETH_PRICE);
      await expect(reclaim).to.changeEtherBalance(ethers, address, ETH_PRICE);

      const unclaimed = await postAndWake(env, account);
      const claimed = await postAndWake(env, account);
      await env.market.connect(env.provider).claim(claimed);
      await time.increase(3601);
      await env.market.expire(unclaimed, await findRequestParams(env.market, unclaimed));
      await env.market.expire(claimed, await findRequestParams(env.market, claimed));
      expect(await env.market.statusOf(unclaimed)).to.equal(Status.Refunded);
      // Both fees, and the claim penalty of the claimed one.
      await expect(account.reclaim(ZERO))
        .to.emit(account, "RefundsReclaimed")
        .withArgs(ZERO, 2n * ETH_PRICE + CLAIM_PENALTY);
      await expect(account.reclaim(ZERO)).to.be.revertedWithCustomError(env.market, "MarketNothingToWithdraw");
      const record = await account.record();
      expect([record.requests, record.results, record.actions]).to.deep.equal([3n, 0n, 0n]);
    });

    it("refunds in the model's ERC-20 come back with reclaim(token)", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { account, address } = await agentWith(
        env,
        { modelId: Model.Token, maxFeePerRequest: TOKEN_PRICE, spendPerPeriod: 10n * TOKEN_PRICE },
        ETH / 10n,
      );
      await env.token.mint(address, 2n * TOKEN_PRICE);
      const requestId = await postAndWake(env, account);
      await time.increase(3601);
      await env.market.expire(requestId, await findRequestParams(env.market, requestId));
      await expect(account.reclaim(env.tokenAddress)).to.changeTokenBalance(ethers, env.token, address, TOKEN_PRICE);
    });
  });

  describe("keepers", () => {
    it("two keepers race for one wake: one is paid, the other reverts AgentNotDue cheaply", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { account, address } = await agentWith(env);
      await account.postTask(INPUT_TENSOR);
      const data = account.interface.encodeFunctionData("wake");
      await ethers.provider.send("evm_setAutomine", [false]);
      let hashes: string[];
      try {
        const sent = await Promise.all(
          [env.keeper, env.keeper2].map((k) => k.sendTransaction({ to: address, data, gasLimit: 600_000 })),
        );
        hashes = sent.map((tx) => tx.hash);
        await networkHelpers.mine();
      } finally {
        await ethers.provider.send("evm_setAutomine", [true]);
      }
      const receipts = await Promise.all(hashes.map((h) => ethers.provider.getTransactionReceipt(h)));
      expect(receipts.map((r) => r!.status)).to.deep.equal([1, 0]);
      const loser = receipts[1]!;
      console.log(`      losing keeper's wake: ${loser.gasUsed} gas (winner ${receipts[0]!.gasUsed})`);
      expect(loser.gasUsed).to.be.lessThan(30_000n);
      await expect(account.connect(env.keeper2).wake.staticCall())
        .to.be.revertedWithCustomError(account, "AgentNotDue")
        .withArgs(0);
      expect((await account.record()).tips).to.equal(TIP);
    });

    it("AgentTransferFailed: a keeper that refuses the tip makes its own wake revert", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { account, address } = await agentWith(env);
      await account.postTask(INPUT_TENSOR);
      await env.puppet.setRefuseEth(true);
      await expect(env.puppet.exec(address, account.interface.encodeFunctionData("wake")))
        .to.be.revertedWithCustomError(account, "AgentTransferFailed")
        .withArgs(env.puppetAddress);
      expect(await account.tasks()).to.deep.equal([0n, 1n]);
    });
  });

  describe("re-entrancy", () => {
    it("an action re-entering wake, withdraw or reclaim is refused (the action is recorded all the same)", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { account, address, agentId } = await agentWith(env, {
        callbackGasLimit: 600_000,
        actionGasLimit: 400_000,
      });
      // Even as the owner's operator and with a due task waiting, the action cannot come back in.
      await env.registry.connect(env.owner).setOperator(agentId, env.puppetAddress, true);
      const guard = account.interface.getError("ReentrancyGuardReentrantCall")!.selector;
      for (const call of [
        account.interface.encodeFunctionData("wake"),
        account.interface.encodeFunctionData("withdraw", [ZERO, 1, env.puppetAddress]),
        account.interface.encodeFunctionData("reclaim", [ZERO]),
      ]) {
        await env.puppet.setOnAct(address, call, false);
        const requestId = await postAndWake(env, account);
        await account.postTask(INPUT_TENSOR); // a due task the re-entrant wake could take
        await expect(serve(env, requestId, argmaxOutput(2)))
          .to.emit(account, "ActionExecuted")
          .withArgs(requestId, 2, env.puppetAddress, ACT, true);
        expect(await env.puppet.lastOk()).to.equal(false);
        expect(await env.puppet.lastResult()).to.equal(guard);
        await account.connect(env.keeper).wake(); // consume the spare task
      }
      const record = await account.record();
      expect([record.wakes, record.actions]).to.deep.equal([6n, 3n]);
    });

    it("an action re-entering the market: its own request naming the agent as callback is refused", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { account, address } = await agentWith(env, { callbackGasLimit: 600_000, actionGasLimit: 400_000 });
      // A free model, so that the action (which sends no ETH) can make a request.
      await env.models
        .connect(env.modelOwner)
        .register(modelParams({ price: 0, inputDtype: 1, outputDtype: 1, outputShape: [1, 3] }));
      const free = await env.models.modelCount();
      await env.providers.connect(env.provider).optIn(free);
      const deadline = BigInt(await time.latest()) + 86400n;
      await env.puppet.setOnAct(
        env.marketAddress,
        env.market.interface.encodeFunctionData("requestInference", [free, "0x01", 0, deadline, address, 300_000]),
        true,
      );
      const requestId = await postAndWake(env, account);
      await expect(serve(env, requestId, argmaxOutput(2)))
        .to.emit(account, "ActionExecuted")
        .withArgs(requestId, 2, env.puppetAddress, ACT, true);
      const smuggled = await env.market.requestCount();
      expect((await findRequestParams(env.market, smuggled)).requester).to.equal(env.puppetAddress);
      await env.puppet.setOnAct(ZERO, "0x", false);
      await expect(serve(env, smuggled, argmaxOutput(2)))
        .to.emit(env.market, "CallbackResult")
        .withArgs(smuggled, false);
      expect(await env.puppet.acts()).to.equal(1n);
    });

    it("a keeper re-entering wake from its tip is refused; its own wake goes through", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { account, address } = await agentWith(env);
      await account.postTask(INPUT_TENSOR);
      await account.postTask(INPUT_TENSOR);
      await env.puppet.setOnReceive(address, account.interface.encodeFunctionData("wake"));
      await expect(env.puppet.exec(address, account.interface.encodeFunctionData("wake"))).to.emit(account, "Woken");
      expect(await env.puppet.lastOk()).to.equal(false);
      expect((await account.record()).wakes).to.equal(1n);
    });

    it("a provider that is also the keeper cannot make the agent miss a result by settling it inside a wake", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { account, address } = await agentWith(env);
      const target = (await ethers.deployContract("AgentPuppet")) as unknown as typeof env.puppet;
      await account.setAction(2, { target: await target.getAddress(), selector: ACT, arg: ArgKind.TaskArg });
      // The keeper contract stakes and serves the model.
      await env.puppet.exec(await env.providers.getAddress(), env.providers.interface.encodeFunctionData("stake"), {
        value: 2n * ETH,
      });
      await env.puppet.exec(
        await env.providers.getAddress(),
        env.providers.interface.encodeFunctionData("optIn", [Model.Argmax]),
      );
      const first = await postAndWake(env, account);
      await env.puppet.exec(env.marketAddress, env.market.interface.encodeFunctionData("claim", [first]));
      // It submits the first result from inside the tip of the next wake.
      await env.puppet.setOnReceive(
        env.marketAddress,
        env.market.interface.encodeFunctionData("submit", [
          first,
          await findRequestParams(env.market, first),
          argmaxOutput(2),
        ]),
      );
      await account.postTask(INPUT_TENSOR);
      const wake = env.puppet.exec(address, account.interface.encodeFunctionData("wake"), { gasLimit: 2_000_000 });
      await expect(wake)
        .to.emit(account, "ActionExecuted")
        .withArgs(first, 2, await target.getAddress(), ACT, true);
      await expect(wake).to.emit(account, "Woken");
      expect(await env.puppet.lastOk()).to.equal(true);
      expect(await target.acts()).to.equal(1n);
    });
  });

  describe("modes", () => {
    it("a Zk model: requested with the inline canonical input, acted on when the proof settles it", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { account } = await agentWith(env, { modelId: Model.Zk, modes: Modes.Zk });
      const requestId = await postAndWake(env, account);
      await env.market.connect(env.provider).claim(requestId);
      await expect(
        env.market
          .connect(env.provider)
          .submitWithProof(
            requestId,
            await findRequestParams(env.market, requestId),
            "0x00" + INPUT_TENSOR.slice(2),
            argmaxOutput(2),
            "0x",
          ),
      )
        .to.emit(account, "ActionExecuted")
        .withArgs(requestId, 2, env.puppetAddress, ACT, true);
    });
  });
});

describe("AgentAccount: an Optimistic model", () => {
  const WINDOW = 600n;

  async function optimisticFixture() {
    const env = await deployAgents(ethers);
    const prover = await ethers.deployContract("LayerStepProver");
    const game = await ethers.deployContract("DisputeGame", [
      env.marketAddress,
      await env.models.getAddress(),
      await env.providers.getAddress(),
      await prover.getAddress(),
      env.treasury.address,
      ETH / 10n,
      0,
      8n * 10n ** 17n,
      3600,
      5000,
      5000,
    ]);
    await env.market.connect(env.admin).setDisputeGame(await game.getAddress());
    await env.models.connect(env.modelOwner).register(
      modelParams({
        mode: 2,
        inputDtype: 1,
        outputDtype: 1,
        outputShape: [1, 3],
        weightsRoot: "0x" + "aa".repeat(32),
        layoutRoot: "0x" + "bb".repeat(32),
        layerCount: 1,
        challengeWindow: WINDOW,
      }),
    );
    const optimistic = await env.models.modelCount();
    await env.providers.connect(env.provider).optIn(optimistic);
    return { ...env, optimistic };
  }

  it("acts only once the window has passed and the result is Finalized; a Zk-only agent refuses the model", async () => {
    const env = await networkHelpers.loadFixture(optimisticFixture);
    const zkOnly = await agentWith(env, { modelId: env.optimistic, modes: Modes.Zk });
    await zkOnly.account.postTask(INPUT_TENSOR);
    await expect(zkOnly.account.connect(env.keeper).wake())
      .to.be.revertedWithCustomError(zkOnly.account, "AgentModeNotAllowed")
      .withArgs(env.optimistic, 2);

    const { account } = await agentWith(env, { modelId: env.optimistic, modes: Modes.Zk | Modes.Optimistic });
    const requestId = await postAndWake(env, account);
    const output = argmaxOutput(2);
    await env.market.connect(env.provider).claim(requestId);
    await expect(
      env.market.connect(env.provider).submitOptimistic(requestId, output, [merkleRoot(getBytes(output).subarray(11))]),
    ).not.to.emit(account, "DecisionMade");
    expect(await env.puppet.acts()).to.equal(0n);
    await time.increase(WINDOW);
    await expect(env.market.connect(env.keeper).finalize(requestId, await findRequestParams(env.market, requestId)))
      .to.emit(account, "ActionExecuted")
      .withArgs(requestId, 2, env.puppetAddress, ACT, true);
  });
});
