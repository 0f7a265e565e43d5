import { expect } from "chai";
import { network } from "hardhat";
import {
  CLAIM_PENALTY,
  deploy,
  deployAll,
  ETH_PRICE,
  ETH_ROYALTY_BPS,
  HOUR,
  MIN_STAKE,
  PROTOCOL_FEE_BPS,
  Status,
  TOKEN_PRICE,
  TOKEN_ROYALTY_BPS,
  ZERO,
} from "./helpers.ts";

const { ethers, networkHelpers } = await network.create();
const { time } = networkHelpers;
const INPUT = "0x0102030405";
const OUTPUT = "0xaabbccdd";

async function fixture() {
  return deployAll(ethers);
}

type Env = Awaited<ReturnType<typeof fixture>>;

async function deadlineIn(seconds: bigint = HOUR): Promise<bigint> {
  return BigInt(await time.latest()) + seconds;
}

/** An ETH request for model 1 by `requester`, returning its id. */
async function requestEth(
  env: Env,
  opts: { maxFee?: bigint; callback?: string; gas?: number; deadline?: bigint } = {},
) {
  const maxFee = opts.maxFee ?? ETH_PRICE;
  const deadline = opts.deadline ?? (await deadlineIn());
  const id = (await env.market.requestCount()) + 1n;
  await env.market
    .connect(env.requester)
    .requestInference(1, INPUT, maxFee, deadline, opts.callback ?? ZERO, opts.gas ?? 0, { value: maxFee });
  return id;
}

async function requestToken(env: Env) {
  const id = (await env.market.requestCount()) + 1n;
  await env.market.connect(env.requester).requestInference(2, INPUT, TOKEN_PRICE, await deadlineIn(), ZERO, 0);
  return id;
}

/** balance(market) == escrowed + owed, for ETH and the token. */
async function expectConservation(env: Env) {
  const ethBalance = await ethers.provider.getBalance(env.marketAddress);
  expect(ethBalance).to.equal((await env.market.escrowed(ZERO)) + (await env.market.owed(ZERO)));
  const tokenBalance = await env.token.balanceOf(env.marketAddress);
  expect(tokenBalance).to.equal(
    (await env.market.escrowed(env.tokenAddress)) + (await env.market.owed(env.tokenAddress)),
  );
}

describe("InferenceMarket", () => {
  describe("constructor and owner", () => {
    it("constructor: reverts on zero addresses and a too high fee", async () => {
      const { admin, models, providers, treasury } = await networkHelpers.loadFixture(fixture);
      const M = await ethers.getContractFactory("InferenceMarket");
      const m = await models.getAddress();
      const p = await providers.getAddress();
      await expect(M.deploy(admin.address, ZERO, p, treasury.address, 0, 0)).to.be.revertedWithCustomError(
        M,
        "MarketZeroAddress",
      );
      await expect(M.deploy(admin.address, m, ZERO, treasury.address, 0, 0)).to.be.revertedWithCustomError(
        M,
        "MarketZeroAddress",
      );
      await expect(M.deploy(admin.address, m, p, ZERO, 0, 0)).to.be.revertedWithCustomError(M, "MarketZeroAddress");
      await expect(M.deploy(admin.address, m, p, treasury.address, 1001, 0))
        .to.be.revertedWithCustomError(M, "MarketProtocolFeeTooHigh")
        .withArgs(1001, 1000);
    });

    it("setProtocolFee: the owner sets fee and treasury", async () => {
      const { admin, other, market } = await networkHelpers.loadFixture(fixture);
      await expect(market.connect(admin).setProtocolFee(1000, other.address))
        .to.emit(market, "ProtocolFeeUpdated")
        .withArgs(1000, other.address);
      expect(await market.protocolFee()).to.deep.equal([1000n, other.address]);
      await expect(market.connect(admin).setProtocolFee(1001, other.address))
        .to.be.revertedWithCustomError(market, "MarketProtocolFeeTooHigh")
        .withArgs(1001, 1000);
      await expect(market.connect(admin).setProtocolFee(0, ZERO)).to.be.revertedWithCustomError(
        market,
        "MarketZeroAddress",
      );
      await expect(market.connect(other).setProtocolFee(0, other.address))
        .to.be.revertedWithCustomError(market, "OwnableUnauthorizedAccount")
        .withArgs(other.address);
    });

    it("setClaimPenalty: the owner sets the penalty", async () => {
      const { admin, other, market } = await networkHelpers.loadFixture(fixture);
      await expect(market.connect(admin).setClaimPenalty(7)).to.emit(market, "ClaimPenaltyUpdated").withArgs(7n);
      expect(await market.claimPenalty()).to.equal(7n);
      await expect(market.connect(other).setClaimPenalty(1))
        .to.be.revertedWithCustomError(market, "OwnableUnauthorizedAccount")
        .withArgs(other.address);
    });

    it("receive: rejects ETH from anyone but the provider registry", async () => {
      const { other, market, marketAddress } = await networkHelpers.loadFixture(fixture);
      await expect(other.sendTransaction({ to: marketAddress, value: 1 }))
        .to.be.revertedWithCustomError(market, "MarketUnexpectedEth")
        .withArgs(other.address);
    });
  });

  describe("requestInference", () => {
    it("requestInference: escrows the ETH fee, stores the input hash and emits InferenceRequested", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { market, requester } = env;
      const deadline = await deadlineIn();
      await expect(
        market.connect(requester).requestInference(1, INPUT, ETH_PRICE, deadline, ZERO, 0, { value: ETH_PRICE }),
      )
        .to.emit(market, "InferenceRequested")
        .withArgs(1n, 1n, requester.address, INPUT, ZERO, ETH_PRICE, deadline, ZERO, 0);
      const r = await market.getRequest(1);
      expect(r.requester).to.equal(requester.address);
      expect(r.status).to.equal(BigInt(Status.Pending));
      expect(r.deadline).to.equal(deadline);
      expect(r.modelId).to.equal(1n);
      expect(r.fee).to.equal(ETH_PRICE);
      expect(r.feeToken).to.equal(ZERO);
      expect(r.provider).to.equal(ZERO);
      expect(r.inputHash).to.equal(ethers.keccak256(INPUT));
      expect(await market.escrowed(ZERO)).to.equal(ETH_PRICE);
      expect(await market.statusOf(1)).to.equal(BigInt(Status.Pending));
      expect(await market.statusOf(2)).to.equal(BigInt(Status.None));
      await expectConservation(env);
    });

    it("requestInference: credits ETH above the price back to the requester", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { market, requester } = env;
      const maxFee = ETH_PRICE * 3n;
      await expect(
        market.connect(requester).requestInference(1, INPUT, maxFee, await deadlineIn(), ZERO, 0, { value: maxFee }),
      )
        .to.emit(market, "Credited")
        .withArgs(requester.address, ZERO, maxFee - ETH_PRICE);
      expect(await market.balanceOf(requester.address, ZERO)).to.equal(maxFee - ETH_PRICE);
      expect(await market.escrowed(ZERO)).to.equal(ETH_PRICE);
      await expectConservation(env);
      await expect(market.connect(requester).withdraw(ZERO)).to.changeEtherBalance(
        ethers,
        requester,
        maxFee - ETH_PRICE,
      );
      await expectConservation(env);
    });

    it("requestInference: ids are sequential and unique across requesters and tokens", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const ids = [await requestEth(env), await requestToken(env)];
      await env.market
        .connect(env.other)
        .requestInference(1, INPUT, ETH_PRICE, await deadlineIn(), ZERO, 0, { value: ETH_PRICE });
      ids.push(3n);
      expect(ids).to.deep.equal([1n, 2n, 3n]);
      expect(await env.market.requestCount()).to.equal(3n);
      expect((await env.market.getRequest(3)).requester).to.equal(env.other.address);
    });

    it("requestInference: pulls exactly the price of an ERC-20 model", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { market, token, requester, marketAddress } = env;
      await expect(
        market.connect(requester).requestInference(2, INPUT, TOKEN_PRICE * 2n, await deadlineIn(), ZERO, 0),
      ).to.changeTokenBalances(ethers, token, [requester, marketAddress], [-TOKEN_PRICE, TOKEN_PRICE]);
      expect(await market.escrowed(env.tokenAddress)).to.equal(TOKEN_PRICE);
      await expectConservation(env);
    });

    it("requestInference: bubbles ModelUnknown and ModelIsDeprecated from the registry", async () => {
      const { market, models, modelOwner, requester } = await networkHelpers.loadFixture(fixture);
      const d = await deadlineIn();
      await expect(market.connect(requester).requestInference(9, INPUT, 0, d, ZERO, 0))
        .to.be.revertedWithCustomError(models, "ModelUnknown")
        .withArgs(9n);
      await models.connect(modelOwner).deprecate(1);
      await expect(market.connect(requester).requestInference(1, INPUT, ETH_PRICE, d, ZERO, 0, { value: ETH_PRICE }))
        .to.be.revertedWithCustomError(models, "ModelIsDeprecated")
        .withArgs(1n);
    });

    it("requestInference: reverts on empty input, bad deadlines and too much callback gas", async () => {
      const { market, requester } = await networkHelpers.loadFixture(fixture);
      const v = { value: ETH_PRICE };
      await expect(
        market.connect(requester).requestInference(1, "0x", ETH_PRICE, await deadlineIn(), ZERO, 0, v),
      ).to.be.revertedWithCustomError(market, "MarketEmptyInput");
      const now = BigInt(await time.latest());
      await expect(market.connect(requester).requestInference(1, INPUT, ETH_PRICE, now + 1n, ZERO, 0, v))
        .to.be.revertedWithCustomError(market, "MarketDeadlineInvalid")
        .withArgs(now + 1n); // the transaction's block is at now + 1
      const far = now + 30n * 24n * HOUR + 2n;
      await expect(market.connect(requester).requestInference(1, INPUT, ETH_PRICE, far, ZERO, 0, v))
        .to.be.revertedWithCustomError(market, "MarketDeadlineInvalid")
        .withArgs(far);
      await expect(
        market.connect(requester).requestInference(1, INPUT, ETH_PRICE, await deadlineIn(), ZERO, 2_000_001, v),
      )
        .to.be.revertedWithCustomError(market, "MarketCallbackGasTooHigh")
        .withArgs(2_000_001, 2_000_000);
    });

    it("requestInference: reverts when the price exceeds maxFee or the value is wrong", async () => {
      const { market, requester } = await networkHelpers.loadFixture(fixture);
      const d = await deadlineIn();
      await expect(
        market.connect(requester).requestInference(1, INPUT, ETH_PRICE - 1n, d, ZERO, 0, { value: ETH_PRICE - 1n }),
      )
        .to.be.revertedWithCustomError(market, "MarketFeeTooHigh")
        .withArgs(ETH_PRICE, ETH_PRICE - 1n);
      await expect(
        market.connect(requester).requestInference(1, INPUT, ETH_PRICE, d, ZERO, 0, { value: ETH_PRICE + 1n }),
      )
        .to.be.revertedWithCustomError(market, "MarketWrongValue")
        .withArgs(ETH_PRICE + 1n, ETH_PRICE);
      await expect(market.connect(requester).requestInference(2, INPUT, TOKEN_PRICE, d, ZERO, 0, { value: 1 }))
        .to.be.revertedWithCustomError(market, "MarketWrongValue")
        .withArgs(1n, 0n);
    });

    it("requestInference: rejects fee-on-transfer tokens", async () => {
      const { market, models, modelOwner, requester, marketAddress } = await networkHelpers.loadFixture(fixture);
      const fot = await deploy(ethers, "FeeOnTransferToken");
      const fotAddress = await fot.getAddress();
      await fot.mint(requester.address, 10_000n);
      await fot.connect(requester).approve(marketAddress, 10_000n);
      await models.connect(modelOwner).register({
        modelHash: "0x" + "22".repeat(32),
        contentId: "x",
        mode: 0,
        feeToken: fotAddress,
        price: 1000n,
        royaltyBps: 0,
        inputShape: [1],
        outputShape: [1],
        verifier: ZERO,
        weightsRoot: ethers.ZeroHash,
        layoutRoot: ethers.ZeroHash,
        layerCount: 0,
        challengeWindow: 0,
      });
      await expect(market.connect(requester).requestInference(3, INPUT, 1000n, await deadlineIn(), ZERO, 0))
        .to.be.revertedWithCustomError(market, "MarketTokenTransferMismatch")
        .withArgs(fotAddress, 990n, 1000n);
    });

    it("requestInference: reverts for Optimistic models without a dispute game and fees beyond 96 bits", async () => {
      const { admin, providers, treasury, requester, token, tokenAddress } = await networkHelpers.loadFixture(fixture);
      const mock = await deploy(ethers, "MockTermsRegistry");
      const market = await deploy(ethers, "InferenceMarket", [
        admin.address,
        await mock.getAddress(),
        await providers.getAddress(),
        treasury.address,
        0,
        0,
      ]);
      await mock.setTerms({ owner: admin.address, mode: 2, royaltyBps: 0, feeToken: ZERO, price: 1 });
      await expect(market.connect(requester).requestInference(4, INPUT, 1, await deadlineIn(), ZERO, 0, { value: 1 }))
        .to.be.revertedWithCustomError(market, "MarketModeUnsupported")
        .withArgs(4n);
      const huge = 2n ** 96n;
      await mock.setTerms({ owner: admin.address, mode: 0, royaltyBps: 0, feeToken: tokenAddress, price: huge });
      await token.mint(requester.address, huge);
      await expect(market.connect(requester).requestInference(4, INPUT, huge, await deadlineIn(), ZERO, 0))
        .to.be.revertedWithCustomError(market, "MarketFeeOverflow")
        .withArgs(huge);
    });
  });

  describe("claim and release", () => {
    it("claim: an eligible provider takes a pending request", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const id = await requestEth(env);
      await expect(env.market.connect(env.provider).claim(id))
        .to.emit(env.market, "RequestClaimed")
        .withArgs(id, env.provider.address);
      const r = await env.market.getRequest(id);
      expect(r.status).to.equal(BigInt(Status.Claimed));
      expect(r.provider).to.equal(env.provider.address);
    });

    it("claim: reverts for unknown, already claimed and expired requests", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { market, provider } = env;
      await expect(market.connect(provider).claim(42))
        .to.be.revertedWithCustomError(market, "MarketRequestUnknown")
        .withArgs(42n);
      const id = await requestEth(env);
      await market.connect(provider).claim(id);
      await expect(market.connect(provider).claim(id))
        .to.be.revertedWithCustomError(market, "MarketWrongStatus")
        .withArgs(id, Status.Claimed);
      const deadline = await deadlineIn(10n);
      const id2 = await requestEth(env, { deadline });
      await time.increaseTo(deadline);
      await expect(market.connect(provider).claim(id2))
        .to.be.revertedWithCustomError(market, "MarketDeadlinePassed")
        .withArgs(id2, deadline);
    });

    it("claim: reverts for providers that are not staked or do not serve the model", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { market, providers, provider, provider2, admin } = env;
      const id = await requestEth(env);
      await expect(market.connect(provider2).claim(id))
        .to.be.revertedWithCustomError(market, "MarketProviderNotEligible")
        .withArgs(provider2.address, 1n);
      await providers.connect(provider2).stake({ value: MIN_STAKE });
      await expect(market.connect(provider2).claim(id)).to.be.revertedWithCustomError(
        market,
        "MarketProviderNotEligible",
      );
      await providers.connect(admin).setMinStake(MIN_STAKE * 2n);
      await expect(market.connect(provider).claim(id))
        .to.be.revertedWithCustomError(market, "MarketProviderNotEligible")
        .withArgs(provider.address, 1n);
    });

    it("release: the claimant gives the request back and another provider can claim it", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { market, providers, provider, provider2 } = env;
      await providers.connect(provider2).stake({ value: MIN_STAKE });
      await providers.connect(provider2).optIn(1);
      const id = await requestEth(env);
      await market.connect(provider).claim(id);
      await expect(market.connect(provider2).release(id))
        .to.be.revertedWithCustomError(market, "MarketNotProvider")
        .withArgs(id, provider2.address);
      await expect(market.connect(provider).release(id))
        .to.emit(market, "RequestReleased")
        .withArgs(id, provider.address);
      expect((await market.getRequest(id)).provider).to.equal(ZERO);
      expect(await market.statusOf(id)).to.equal(BigInt(Status.Pending));
      await expect(market.connect(provider).release(id))
        .to.be.revertedWithCustomError(market, "MarketWrongStatus")
        .withArgs(id, Status.Pending);
      await market.connect(provider2).claim(id);
      expect((await market.getRequest(id)).provider).to.equal(provider2.address);
    });

    it("release: reverts after the deadline", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const deadline = await deadlineIn(100n);
      const id = await requestEth(env, { deadline });
      await env.market.connect(env.provider).claim(id);
      await time.increaseTo(deadline);
      await expect(env.market.connect(env.provider).release(id))
        .to.be.revertedWithCustomError(env.market, "MarketDeadlinePassed")
        .withArgs(id, deadline);
    });
  });

  describe("submit", () => {
    it("submit: settles and splits the fee", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { market, providers, provider, modelOwner, treasury } = env;
      const id = await requestEth(env);
      await market.connect(provider).claim(id);
      const royalty = (ETH_PRICE * ETH_ROYALTY_BPS) / 10_000n;
      const protocol = (ETH_PRICE * PROTOCOL_FEE_BPS) / 10_000n;
      const providerFee = ETH_PRICE - royalty - protocol;
      const tx = market.connect(provider).submit(id, OUTPUT);
      await expect(tx).to.emit(market, "ResultSubmitted").withArgs(id, provider.address, OUTPUT);
      await expect(tx).to.emit(market, "RequestFinalized").withArgs(id, providerFee, royalty, protocol);
      await expect(tx).to.emit(market, "Credited").withArgs(modelOwner.address, ZERO, royalty);
      await expect(tx).to.emit(providers, "JobRecorded").withArgs(provider.address, true);
      await expect(tx).not.to.emit(market, "CallbackResult");
      expect(await market.statusOf(id)).to.equal(BigInt(Status.Finalized));
      expect(await market.outputOf(id)).to.equal(OUTPUT);
      expect(await market.balanceOf(provider.address, ZERO)).to.equal(providerFee);
      expect(await market.balanceOf(modelOwner.address, ZERO)).to.equal(royalty);
      expect(await market.balanceOf(treasury.address, ZERO)).to.equal(protocol);
      expect(await market.escrowed(ZERO)).to.equal(0n);
      expect(await market.owed(ZERO)).to.equal(ETH_PRICE);
      expect(await providers.statsOf(provider.address)).to.deep.equal([1n, 0n, 0n]);
      await expectConservation(env);
      for (const who of [provider, modelOwner, treasury]) await market.connect(who).withdraw(ZERO);
      expect(await ethers.provider.getBalance(env.marketAddress)).to.equal(0n);
      await expectConservation(env);
    });

    it("submit: rounding goes to the provider and the parts sum to the fee", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { market, models, modelOwner, provider } = env;
      await models.connect(modelOwner).updatePrice(1, 999n);
      const id = await requestEth(env, { maxFee: 999n });
      await market.connect(provider).claim(id);
      // royalty 999 * 1000 / 10000 = 99 (99.9), protocol 999 * 250 / 10000 = 24 (24.975)
      await expect(market.connect(provider).submit(id, OUTPUT))
        .to.emit(market, "RequestFinalized")
        .withArgs(id, 876n, 99n, 24n);
      expect(876n + 99n + 24n).to.equal(999n);
      await expectConservation(env);
    });

    it("submit: settles ERC-20 fees and pays them out", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { market, token, tokenAddress, provider, modelOwner, treasury } = env;
      const id = await requestToken(env);
      await market.connect(provider).claim(id);
      await market.connect(provider).submit(id, OUTPUT);
      const royalty = (TOKEN_PRICE * TOKEN_ROYALTY_BPS) / 10_000n;
      const protocol = (TOKEN_PRICE * PROTOCOL_FEE_BPS) / 10_000n;
      expect(await market.balanceOf(modelOwner.address, tokenAddress)).to.equal(royalty);
      expect(await market.balanceOf(treasury.address, tokenAddress)).to.equal(protocol);
      await expectConservation(env);
      await expect(market.connect(provider).withdraw(tokenAddress))
        .to.emit(market, "Withdrawn")
        .withArgs(provider.address, tokenAddress, TOKEN_PRICE - royalty - protocol);
      expect(await token.balanceOf(provider.address)).to.equal(TOKEN_PRICE - royalty - protocol);
      await expectConservation(env);
    });

    it("submit: reverts for others, twice, unclaimed and after the deadline", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { market, provider, other } = env;
      await expect(market.connect(provider).submit(7, OUTPUT))
        .to.be.revertedWithCustomError(market, "MarketRequestUnknown")
        .withArgs(7n);
      const id = await requestEth(env);
      await expect(market.connect(provider).submit(id, OUTPUT))
        .to.be.revertedWithCustomError(market, "MarketWrongStatus")
        .withArgs(id, Status.Pending);
      await market.connect(provider).claim(id);
      await expect(market.connect(other).submit(id, OUTPUT))
        .to.be.revertedWithCustomError(market, "MarketNotProvider")
        .withArgs(id, other.address);
      await market.connect(provider).submit(id, OUTPUT);
      await expect(market.connect(provider).submit(id, OUTPUT))
        .to.be.revertedWithCustomError(market, "MarketWrongStatus")
        .withArgs(id, Status.Finalized);
      const deadline = await deadlineIn(50n);
      const id2 = await requestEth(env, { deadline });
      await market.connect(provider).claim(id2);
      await time.increaseTo(deadline);
      await expect(market.connect(provider).submit(id2, OUTPUT))
        .to.be.revertedWithCustomError(market, "MarketDeadlinePassed")
        .withArgs(id2, deadline);
    });

    it("submit: calls the consumer back with exactly its gas limit", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const consumer = await deploy(ethers, "GasBurnerConsumer");
      const limit = 100_000;
      const id = await requestEth(env, { callback: await consumer.getAddress(), gas: limit });
      await env.market.connect(env.provider).claim(id);
      await expect(env.market.connect(env.provider).submit(id, OUTPUT))
        .to.emit(env.market, "CallbackResult")
        .withArgs(id, true);
      expect(await consumer.calls()).to.equal(1n);
      const g = await consumer.gasAtEntry();
      expect(g).to.be.lte(BigInt(limit));
      expect(g).to.be.gte(BigInt(limit) - 500n); // what the callee spends before reading gasleft()
    });

    it("submit: a reverting or gas-burning callback does not undo settlement", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { market, provider } = env;
      const reverting = await deploy(ethers, "RevertingConsumer");
      const burner = await deploy(ethers, "GasBurnerConsumer");
      await burner.setMode(1);
      for (const c of [reverting, burner]) {
        const id = await requestEth(env, { callback: await c.getAddress(), gas: 300_000 });
        await market.connect(provider).claim(id);
        await expect(market.connect(provider).submit(id, OUTPUT)).to.emit(market, "CallbackResult").withArgs(id, false);
        expect(await market.statusOf(id)).to.equal(BigInt(Status.Finalized));
        expect(await market.outputOf(id)).to.equal(OUTPUT);
      }
      await expectConservation(env);
    });

    it("submit: reverts with MarketInsufficientGasForCallback when the provider starves the callback", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { market, provider } = env;
      // Record mode: EDR's gas estimation refuses transactions with an inner out-of-gas call.
      const burner = await deploy(ethers, "GasBurnerConsumer");
      const limit = 1_000_000n;
      const id = await requestEth(env, { callback: await burner.getAddress(), gas: Number(limit) });
      await market.connect(provider).claim(id);
      // Enough for everything but the callback's full allowance.
      await expect(market.connect(provider).submit(id, OUTPUT, { gasLimit: 900_000 })).to.be.revertedWithCustomError(
        market,
        "MarketInsufficientGasForCallback",
      );
      const needed = limit + limit / 63n + 5000n + 1n;
      await expect(market.connect(provider).submit(id, OUTPUT, { gasLimit: 1_000_000 + 150_000 }))
        .to.be.revertedWithCustomError(market, "MarketInsufficientGasForCallback")
        .withArgs((g: bigint) => g < needed, needed);
      expect(await market.statusOf(id)).to.equal(BigInt(Status.Claimed));
      const est = await market.connect(provider).submit.estimateGas(id, OUTPUT);
      expect(est).to.be.gte(needed);
      await expect(market.connect(provider).submit(id, OUTPUT, { gasLimit: est }))
        .to.emit(market, "CallbackResult")
        .withArgs(id, true);
      expect(await burner.gasAtEntry()).to.be.gte(limit - 500n);
    });

    it("submit: a return bomb or revert bomb costs the market nothing to copy", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { market, provider } = env;
      const bomb = await deploy(ethers, "GasBurnerConsumer");
      const limit = 2_000_000;
      const used: bigint[] = [];
      for (const [mode, ok] of [
        [2, true],
        [3, false],
      ] as const) {
        await bomb.setMode(mode);
        const id = await requestEth(env, { callback: await bomb.getAddress(), gas: limit });
        await market.connect(provider).claim(id);
        const tx = await market.connect(provider).submit(id, OUTPUT, { gasLimit: 3_000_000 });
        await expect(tx).to.emit(market, "CallbackResult").withArgs(id, ok);
        used.push((await tx.wait())!.gasUsed);
      }
      // Copying 200 kB of return data would cost the caller another ~80k gas of memory at least;
      // settlement plus a callback bounded by its limit stays under limit + 250k.
      for (const u of used) expect(u).to.be.lt(BigInt(limit) + 250_000n);
    });

    it("submit: the callback may re-enter to withdraw its own credit", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { market, provider } = env;
      const c = await deploy(ethers, "ReentrantConsumer", [env.marketAddress]);
      await c.request(1, INPUT, ETH_PRICE * 2n, await deadlineIn(), 200_000, { value: ETH_PRICE * 2n });
      await c.setWithdrawInCallback(true);
      await market.connect(provider).claim(1);
      await expect(market.connect(provider).submit(1, OUTPUT)).to.emit(market, "CallbackResult").withArgs(1n, true);
      expect(await c.callbackWithdrew()).to.equal(true);
      expect(await c.received()).to.equal(ETH_PRICE);
      await expectConservation(env);
    });
  });

  describe("reportInvalidInput", () => {
    it("reportInvalidInput: fails the request and credits the fee to the requester", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { market, providers, provider, requester } = env;
      const id = await requestEth(env);
      await market.connect(provider).claim(id);
      const tx = market.connect(provider).reportInvalidInput(id, 3);
      await expect(tx).to.emit(market, "RequestFailed").withArgs(id, provider.address, 3);
      await expect(tx).to.emit(market, "Credited").withArgs(requester.address, ZERO, ETH_PRICE);
      expect(await market.statusOf(id)).to.equal(BigInt(Status.Failed));
      expect(await market.escrowed(ZERO)).to.equal(0n);
      expect(await providers.statsOf(provider.address)).to.deep.equal([0n, 0n, 0n]);
      await expectConservation(env);
    });

    it("reportInvalidInput: reverts for others, after finalize and after the deadline", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { market, provider, other } = env;
      const id = await requestEth(env);
      await market.connect(provider).claim(id);
      await expect(market.connect(other).reportInvalidInput(id, 1))
        .to.be.revertedWithCustomError(market, "MarketNotProvider")
        .withArgs(id, other.address);
      await market.connect(provider).submit(id, OUTPUT);
      await expect(market.connect(provider).reportInvalidInput(id, 1))
        .to.be.revertedWithCustomError(market, "MarketWrongStatus")
        .withArgs(id, Status.Finalized);
      const deadline = await deadlineIn(30n);
      const id2 = await requestEth(env, { deadline });
      await market.connect(provider).claim(id2);
      await time.increaseTo(deadline);
      await expect(market.connect(provider).reportInvalidInput(id2, 1))
        .to.be.revertedWithCustomError(market, "MarketDeadlinePassed")
        .withArgs(id2, deadline);
    });
  });

  describe("expire", () => {
    it("expire: refunds a pending request after its deadline without penalty", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { market, requester, other } = env;
      const deadline = await deadlineIn(60n);
      const id = await requestEth(env, { deadline });
      await time.increaseTo(deadline - 1n); // the next block is at the deadline: still open
      await expect(market.connect(other).expire(id))
        .to.be.revertedWithCustomError(market, "MarketDeadlineNotPassed")
        .withArgs(id, deadline);
      await time.increaseTo(deadline);
      const tx = market.connect(other).expire(id);
      await expect(tx).to.emit(market, "RequestRefunded").withArgs(id, ETH_PRICE, 0n);
      await expect(tx).to.emit(market, "Credited").withArgs(requester.address, ZERO, ETH_PRICE);
      expect(await market.statusOf(id)).to.equal(BigInt(Status.Refunded));
      await expect(market.connect(other).expire(id))
        .to.be.revertedWithCustomError(market, "MarketWrongStatus")
        .withArgs(id, Status.Refunded);
      await expect(market.connect(other).expire(99))
        .to.be.revertedWithCustomError(market, "MarketRequestUnknown")
        .withArgs(99n);
      await expectConservation(env);
    });

    it("expire: slashes the claim penalty from a provider that did not deliver", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { market, providers, provider, requester, marketAddress } = env;
      const deadline = await deadlineIn(60n);
      const id = await requestToken(env);
      const id2 = await requestEth(env, { deadline });
      await market.connect(provider).claim(id2);
      await time.increaseTo(deadline + 1n);
      const tx = market.expire(id2);
      await expect(tx).to.emit(providers, "Slashed").withArgs(provider.address, marketAddress, CLAIM_PENALTY);
      await expect(tx).to.emit(market, "RequestRefunded").withArgs(id2, ETH_PRICE, CLAIM_PENALTY);
      await expect(tx).to.emit(providers, "JobRecorded").withArgs(provider.address, false);
      expect(await market.balanceOf(requester.address, ZERO)).to.equal(ETH_PRICE + CLAIM_PENALTY);
      expect(await providers.stakeOf(provider.address)).to.equal(MIN_STAKE - CLAIM_PENALTY);
      expect(await providers.statsOf(provider.address)).to.deep.equal([0n, 1n, 1n]);
      await expectConservation(env);
      expect(await market.statusOf(id)).to.equal(BigInt(Status.Pending));
    });

    it("expire: a penalty larger than the stake takes active then unbonding stake, up to all of it", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { market, providers, provider, requester, admin } = env;
      await providers.connect(admin).setMinStake(MIN_STAKE / 10n);
      await providers.connect(provider).requestUnbond((MIN_STAKE * 8n) / 10n); // active 0.2, unbonding 0.8
      await market.connect(admin).setClaimPenalty(MIN_STAKE * 5n);
      const deadline = await deadlineIn(60n);
      const id = await requestEth(env, { deadline });
      await market.connect(provider).claim(id);
      await time.increaseTo(deadline + 1n);
      await expect(market.expire(id)).to.emit(market, "RequestRefunded").withArgs(id, ETH_PRICE, MIN_STAKE);
      expect(await providers.stakeOf(provider.address)).to.equal(0n);
      expect((await providers.unbondingOf(provider.address))[0]).to.equal(0n);
      expect(await market.balanceOf(requester.address, ZERO)).to.equal(ETH_PRICE + MIN_STAKE);
      await expectConservation(env);
      await expect(market.connect(requester).withdraw(ZERO)).to.changeEtherBalance(
        ethers,
        requester,
        ETH_PRICE + MIN_STAKE,
      );
      await expectConservation(env);
    });

    it("expire: with a zero penalty still records the failure", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { market, providers, provider, admin } = env;
      await market.connect(admin).setClaimPenalty(0);
      const deadline = await deadlineIn(60n);
      const id = await requestEth(env, { deadline });
      await market.connect(provider).claim(id);
      await time.increaseTo(deadline + 1n);
      const tx = market.expire(id);
      await expect(tx).to.emit(market, "RequestRefunded").withArgs(id, ETH_PRICE, 0n);
      await expect(tx).not.to.emit(providers, "Slashed");
      expect(await providers.statsOf(provider.address)).to.deep.equal([0n, 1n, 0n]);
    });

    it("expire: reverts after finalize and after reportInvalidInput", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { market, provider } = env;
      const deadline = await deadlineIn(60n);
      const a = await requestEth(env, { deadline });
      const b = await requestEth(env, { deadline });
      await market.connect(provider).claim(a);
      await market.connect(provider).claim(b);
      await market.connect(provider).submit(a, OUTPUT);
      await market.connect(provider).reportInvalidInput(b, 2);
      await time.increaseTo(deadline + 1n);
      await expect(market.expire(a))
        .to.be.revertedWithCustomError(market, "MarketWrongStatus")
        .withArgs(a, Status.Finalized);
      await expect(market.expire(b))
        .to.be.revertedWithCustomError(market, "MarketWrongStatus")
        .withArgs(b, Status.Failed);
      await expectConservation(env);
    });
  });

  describe("withdraw", () => {
    it("withdraw: reverts when there is nothing to withdraw", async () => {
      const { market, other, tokenAddress } = await networkHelpers.loadFixture(fixture);
      await expect(market.connect(other).withdraw(tokenAddress))
        .to.be.revertedWithCustomError(market, "MarketNothingToWithdraw")
        .withArgs(other.address, tokenAddress);
    });

    it("withdraw: a re-entrant recipient is paid once", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { market, marketAddress } = env;
      const c = await deploy(ethers, "ReentrantConsumer", [marketAddress]);
      const excess = ETH_PRICE * 4n;
      await c.request(1, INPUT, ETH_PRICE + excess, await deadlineIn(), 0, { value: ETH_PRICE + excess });
      expect(await market.balanceOf(await c.getAddress(), ZERO)).to.equal(excess);
      await expect(c.withdraw()).to.changeEtherBalances(ethers, [c, market], [excess, -excess]);
      expect(await c.reentered()).to.equal(true);
      expect(await c.reentryBlocked()).to.equal(true);
      expect(await c.reentryError()).to.equal(market.interface.getError("ReentrancyGuardReentrantCall")!.selector);
      expect(await market.balanceOf(await c.getAddress(), ZERO)).to.equal(0n);
      await expectConservation(env);
    });

    it("withdraw: a recipient that rejects ETH keeps its credit", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { market, marketAddress } = env;
      const c = await deploy(ethers, "RevertingConsumer");
      await c.request(marketAddress, 1, INPUT, await deadlineIn(), { value: ETH_PRICE * 2n });
      await expect(c.withdraw(marketAddress))
        .to.be.revertedWithCustomError(market, "MarketTransferFailed")
        .withArgs(await c.getAddress());
      expect(await market.balanceOf(await c.getAddress(), ZERO)).to.equal(ETH_PRICE);
    });
  });

  describe("ExampleClassifierConsumer", () => {
    it("ExampleClassifierConsumer: asks, receives the result and forwards refunds to its owner", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { market, provider, other, admin } = env;
      const c = await deploy(ethers, "ExampleClassifierConsumer", [env.marketAddress, 1]);
      const cAddress = await c.getAddress();
      await c.connect(other).ask(INPUT, await deadlineIn(), { value: ETH_PRICE * 2n });
      expect((await market.getRequest(1)).callback).to.equal(cAddress);
      await market.connect(provider).claim(1);
      await expect(market.connect(provider).submit(1, OUTPUT)).to.emit(c, "ResultReceived").withArgs(1n, OUTPUT);
      expect(await c.resultOf(1)).to.equal(OUTPUT);
      await expect(c.connect(other).onInferenceResult(1, "0x00"))
        .to.be.revertedWithCustomError(c, "ConsumerNotMarket")
        .withArgs(other.address);
      await expect(other.sendTransaction({ to: cAddress, value: 1 })).to.be.revertedWithCustomError(
        c,
        "ConsumerNotMarket",
      );
      // The excess of the first ask, and a refund of an expired second one, go to the owner.
      const deadline = await deadlineIn(60n);
      await c.connect(other).ask(INPUT, deadline, { value: ETH_PRICE });
      await time.increaseTo(deadline + 1n);
      await market.expire(2);
      await expect(c.connect(other).withdrawRefund()).to.changeEtherBalance(ethers, admin, ETH_PRICE * 2n);
      await expect(c.withdrawRefund()).to.be.revertedWithCustomError(market, "MarketNothingToWithdraw");
      await expectConservation(env);
    });
  });
});
