import { expect } from "chai";
import { ZeroAddress, parseEther, type Contract } from "ethers";
import { connectSuite, type Suite } from "../../oracle/chain/connect.ts";
import { deployContract } from "../../oracle/chain/deploy-suite.ts";
import { registerModel } from "../../oracle/chain/register-model.ts";
import { decodeRevert, type ChainRevertError } from "../../oracle/chain/revert-error.ts";
import { startLocalSuite, type LocalSuite } from "../../oracle/devnet/local-suite.ts";
import { FailureReason } from "../../oracle/model/failure-reason.ts";
import { createTensor } from "../../oracle/model/tensor.ts";
import { encodeTensor } from "../../oracle/model/tensor-codec.ts";
import { encodeRequestInput } from "../../oracle/sdk/encode-request-input.ts";
import { expireHints, expireRequest } from "../../oracle/sdk/expire-request.ts";
import { getBalances } from "../../oracle/sdk/get-balances.ts";
import { getRequestOutcome } from "../../oracle/sdk/get-request-outcome.ts";
import { requestInference } from "../../oracle/sdk/request-inference.ts";
import { WaitTimeoutError, waitForFinal } from "../../oracle/sdk/wait-for-final.ts";
import { withdraw } from "../../oracle/sdk/withdraw.ts";
import { tempDir } from "../node/helpers.ts";
import { rejection } from "../util/rejection.ts";

/**
 * The SDK's side of "money never stranded": the outcome of a request that failed (its reason and
 * credit), a failed callback, expiry by anyone, balances and withdrawal. The provider is played
 * in-process (claim, report, submit), so no daemon is needed.
 */
describe("sdk: outcomes, balances, withdraw and expire against a local chain", function () {
  this.timeout(120_000);
  const temp = tempDir("verity-sdk-money-");
  let local: LocalSuite;
  let user: Suite;
  let provider: Suite;
  const input = encodeRequestInput(createTensor("float32", [1, 4], [6.3, 3.3, 6.0, 2.5]));
  const output = encodeTensor(createTensor("float32", [1, 3], [0, 0, 1]));

  before(async () => {
    local = await startLocalSuite({ dir: temp.dir });
    user = connectSuite(local.deployment, local.actors.user);
    provider = connectSuite(local.deployment, local.actors.provider);
  });

  after(async () => {
    await local?.close();
    temp.remove();
  });

  const ask = async (options: { ttlSec?: number; callback?: { address: string; gasLimit: number } } = {}) =>
    requestInference(user.inferenceMarket, user.modelRegistry, { modelId: local.iris.modelId, input, ...options });

  it("waitForFinal gives a Failed request's reason by name and its credit; withdraw pays it out", async () => {
    const { requestId, params, receipt } = await ask();
    await (await provider.inferenceMarket.claim(requestId)).wait();
    await (
      await provider.inferenceMarket.reportInvalidInput(requestId, params, FailureReason.InputShapeMismatch)
    ).wait();
    const statuses: string[] = [];
    const outcome = await waitForFinal(user.inferenceMarket, requestId, {
      fromBlock: receipt.blockNumber,
      onStatus: (status) => statuses.push(status),
    });
    expect(statuses).to.deep.equal(["Failed"]);
    expect(outcome.status).to.equal("Failed");
    if (outcome.status !== "Failed") return;
    expect(outcome.failure).to.deep.equal({
      code: 2,
      name: "InputShapeMismatch",
      description: "input shape mismatch",
      provider: local.actors.provider.address,
    });
    expect(outcome.credits).to.deep.equal([{ token: ZeroAddress, amount: local.iris.price }]);

    const balances = await getBalances(user, { account: local.actors.user.address });
    expect(balances.market).to.deep.equal([
      { token: ZeroAddress, symbol: "ETH", decimals: 18, amount: local.iris.price },
    ]);
    expect(balances.stake).to.equal(undefined);
    const { payouts } = await withdraw(user);
    expect(payouts.map(({ source, amount }) => ({ source, amount }))).to.deep.equal([
      { source: "market", amount: local.iris.price },
    ]);
    expect(await user.inferenceMarket.balanceOf(local.actors.user.address, ZeroAddress)).to.equal(0n);
    expect((await withdraw(user)).payouts).to.deep.equal([]);
  });

  it("waitForFinal shows a callback that ran out of gas", async () => {
    const burner = (await deployContract(local.actors.user, "GasBurnerConsumer")) as unknown as Contract;
    await (await burner.getFunction("setMode")(1)).wait();
    const address = await burner.getAddress();
    const { requestId, params } = await ask({ callback: { address, gasLimit: 50_000 } });
    await (await provider.inferenceMarket.claim(requestId)).wait();
    await (await provider.inferenceMarket.submit(requestId, params, output, { gasLimit: 1_000_000 })).wait();
    const outcome = await waitForFinal(user.inferenceMarket, requestId);
    expect(outcome.status).to.equal("Finalized");
    expect(outcome.callback).to.deep.equal({ address, gasLimit: 50_000, success: false });
  });

  it("expireRequest refunds after the deadline only, with the claim penalty of a provider that did not deliver", async () => {
    const { requestId, params } = await ask({ ttlSec: 30 });
    await (await provider.inferenceMarket.claim(requestId)).wait();
    const anyone = connectSuite(local.deployment, local.actors.deployer).inferenceMarket;
    const early = await expireRequest(anyone, { requestId });
    expect(early).to.include({ outcome: "not-yet", status: "Claimed" });

    await local.rpc.send("evm_increaseTime", [31]);
    await local.rpc.send("evm_mine", []);
    const penalty = await local.suite.inferenceMarket.claimPenalty();
    // Parameters that are not the request's (a refund redirected to another account) are refused, decoded.
    const forged = { ...params, requester: local.actors.deployer.address };
    const refused = (await rejection(expireRequest(anyone, { requestId, params: forged }))) as ChainRevertError;
    expect(refused.shortMessage).to.equal(
      `expire request ${requestId} reverted with MarketRequestParamsMismatch(${requestId}).`,
    );
    expect(refused.details).to.deep.equal([expireHints.MarketRequestParamsMismatch]);
    const expired = await expireRequest(anyone, { requestId });
    expect(expired).to.include({ outcome: "expired", amount: local.iris.price, penalty });
    expect(await expireRequest(anyone, { requestId })).to.include({ outcome: "final", status: "Refunded" });
    expect(await expireRequest(anyone, { requestId: 999n })).to.include({ outcome: "unknown" });

    const outcome = await getRequestOutcome(user.inferenceMarket, requestId);
    expect(outcome?.status).to.equal("Refunded");
    if (outcome?.status !== "Refunded") return;
    expect(outcome.refund).to.deep.equal({ amount: local.iris.price, penalty, cause: "claim-expired" });
    expect(outcome.credits).to.deep.equal([{ token: ZeroAddress, amount: local.iris.price + penalty }]);

    // The provider's stake paid the penalty; balances says so and withdraw pays the requester.
    const stake = (await getBalances(provider, { account: local.actors.provider.address })).stake!;
    expect(stake).to.include({ stake: parseEther("2") - penalty, reserved: 0n, unbonding: 0n, withdrawableNow: false });
    const { payouts } = await withdraw(user);
    expect(payouts[0]!.amount).to.equal(local.iris.price + penalty);
  });

  it("waitForFinal times out naming the status; reverts decode with enum names", async () => {
    const { requestId, params } = await ask();
    const timeout = await rejection(waitForFinal(user.inferenceMarket, requestId, { timeoutMs: 300 }));
    expect(timeout).to.be.instanceOf(WaitTimeoutError);
    expect((timeout as WaitTimeoutError).shortMessage).to.equal(`Request ${requestId} is still Pending after 0 s.`);

    const nothing = await rejection(user.inferenceMarket.withdraw(ZeroAddress));
    const decoded = decodeRevert("withdraw", nothing) as ChainRevertError;
    expect(decoded.shortMessage).to.equal(
      `withdraw reverted with MarketNothingToWithdraw(${local.actors.user.address}, ${ZeroAddress}).`,
    );
    await (await provider.inferenceMarket.claim(requestId)).wait();
    await (await provider.inferenceMarket.submit(requestId, params, output)).wait();
    const wrong = decodeRevert("claim", await rejection(provider.inferenceMarket.claim(requestId))) as ChainRevertError;
    expect(wrong.shortMessage).to.equal(`claim reverted with MarketWrongStatus(${requestId}, Finalized).`);
    expect(wrong.args).to.deep.equal([requestId, 5n]);
  });

  it("an ERC-20 model: requestInference approves the fee, a failure credits the token, withdraw pays it back", async () => {
    const token = (await deployContract(local.actors.deployer, "TestToken")) as unknown as Contract;
    const tokenAddress = await token.getAddress();
    const price = 5n * 10n ** 18n;
    await (await token.getFunction("mint")(local.actors.user.address, price)).wait();
    const modelId = await registerModel(connectSuite(local.deployment, local.actors.modelOwner).modelRegistry, {
      modelHash: local.iris.manifest.modelHash,
      contentId: local.iris.contentId,
      price,
      royaltyBps: 0,
      feeToken: tokenAddress,
      inputShape: [1, 4],
      outputShape: [1, 3],
      inputDtype: "float32",
      outputDtype: "float32",
    });
    await (await provider.providerRegistry.optIn(modelId)).wait();
    const { requestId, params } = await requestInference(user.inferenceMarket, user.modelRegistry, { modelId, input });
    expect(params).to.include({ requester: local.actors.user.address, feeToken: tokenAddress, fee: price });
    expect(await token.getFunction("balanceOf")(local.actors.user.address)).to.equal(0n);
    await (await provider.inferenceMarket.claim(requestId)).wait();
    await (await provider.inferenceMarket.reportInvalidInput(requestId, params, FailureReason.InputUndecodable)).wait();
    const outcome = await waitForFinal(user.inferenceMarket, requestId);
    expect(outcome.status === "Failed" && outcome.failure.name).to.equal("InputUndecodable");
    expect(outcome.credits).to.deep.equal([{ token: tokenAddress, amount: price }]);

    const balances = await getBalances(user, { account: local.actors.user.address });
    expect(balances.market).to.deep.include({ token: tokenAddress, symbol: "TEST", decimals: 18, amount: price });
    const { payouts } = await withdraw(user, { tokens: [tokenAddress] });
    expect(payouts.map(({ source, token, amount }) => ({ source, token, amount }))).to.deep.equal([
      { source: "market", token: tokenAddress, amount: price },
    ]);
    expect(await token.getFunction("balanceOf")(local.actors.user.address)).to.equal(price);
  });
});
