import { expect } from "chai";
import { getBytes, type ContractTransactionResponse, type Log } from "ethers";
import { network } from "hardhat";
import { commitmentOf } from "../../oracle/chain/request-params.ts";
import { merkleRoot } from "../../oracle/model/vqm/commitments.ts";
import {
  CLAIM_PENALTY,
  deploy,
  deployAll,
  ETH_PRICE,
  ETH_ROYALTY_BPS,
  HOUR,
  inline,
  MIN_STAKE,
  modelParams,
  NO_PARAMS,
  outputBytes,
  paramsOf,
  paramsOfAll,
  PROTOCOL_FEE_BPS,
  Status,
  tensorHex,
  TOKEN_PRICE,
  TOKEN_ROYALTY_BPS,
  ZERO,
} from "./helpers.ts";

const { ethers, networkHelpers } = await network.create();
const { time } = networkHelpers;
const ETH = 10n ** 18n;
const MAX_UINT96 = 2n ** 96n - 1n;
/** Attested inputs are not checked by the market (inline or by content id alike). */
const INPUT = "0x0102030405";
/** The canonical float32 [1, 3] output of the Attested models of `deployAll` (23 bytes). */
const OUTPUT = outputBytes([1.5, -2, 0.25]);
/** Model 3 of the Zk and Optimistic fixtures: int8 [1, 4] in; int32 [1, 2] (Zk) or int8 [1, 4]
 *  (Optimistic) out. */
const TENSOR_IN = tensorHex("int8", [1, 4], [-52, 67, -93, -107]);
const ZK_OUTPUT = tensorHex("int32", [1, 2], [7, -7]);
/** The elements 7f7fed3a as int8 [1, 4] (issue 8, attack 1). */
const OPT_OUTPUT = tensorHex("int8", [1, 4], [127, 127, -19, 58]);
const GAME_SLASH = 8n * 10n ** 17n;
const WINDOW = 600n;

async function fixture() {
  return deployAll(ethers);
}

type Env = Awaited<ReturnType<typeof fixture>>;

/** `deployAll` plus a Zk model (id 3: int8 [1, 4] → int32 [1, 2]) whose verifier accepts exactly
 *  the bytes a test sets, served by `provider`. */
async function zkFixture() {
  const env = await deployAll(ethers);
  const verifier = await deploy(ethers, "ExpectingProofVerifier");
  await env.models.connect(env.modelOwner).register(
    modelParams({
      mode: 1,
      verifier: await verifier.getAddress(),
      inputDtype: 1,
      outputDtype: 2,
      outputShape: [1, 2],
    }),
  );
  await env.providers.connect(env.provider).optIn(3);
  return { ...env, verifier };
}

/** `deployAll` plus a real DisputeGame (slash GAME_SLASH > CLAIM_PENALTY, clock 1 h) named by the
 *  market, and an Optimistic model (id 3: int8 [1, 4] → int8 [1, 4], one layer, WINDOW s)
 *  served by `provider`. */
async function optimisticFixture() {
  const env = await deployAll(ethers);
  const prover = await deploy(ethers, "LayerStepProver");
  const game = await deploy(ethers, "DisputeGame", [
    env.marketAddress,
    await env.models.getAddress(),
    await env.providers.getAddress(),
    await prover.getAddress(),
    env.treasury.address,
    ETH / 10n,
    0,
    GAME_SLASH,
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
      outputShape: [1, 4],
      weightsRoot: "0x" + "aa".repeat(32),
      layoutRoot: "0x" + "bb".repeat(32),
      layerCount: 1,
      challengeWindow: WINDOW,
    }),
  );
  await env.providers.connect(env.provider).optIn(3);
  return { ...env, game, prover };
}

/** An ETH request for model 3 (Zk or Optimistic) with `input`, returning its id. */
async function requestModel3(env: Env, input: string = inline(TENSOR_IN), deadline?: bigint) {
  const id = (await env.market.requestCount()) + 1n;
  await env.market
    .connect(env.requester)
    .requestInference(3, input, ETH_PRICE, deadline ?? (await deadlineIn()), ZERO, 0, { value: ETH_PRICE });
  return id;
}

/** The one layer root of an Optimistic result: the chunked Merkle root of the output's elements. */
function layerRoots(output: string, headerLength = 11): string[] {
  return [merkleRoot(getBytes(output).subarray(headerLength))];
}

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
  // The registry holds exactly the stakes (active, reserved included, and unbonding).
  let staked = 0n;
  for (const p of [env.provider, env.provider2]) {
    staked += (await env.providers.stakeOf(p.address)) + (await env.providers.unbondingOf(p.address))[0];
    expect(await env.providers.reservedOf(p.address)).to.be.lte(await env.providers.stakeOf(p.address));
  }
  expect(await ethers.provider.getBalance(await env.providers.getAddress())).to.equal(staked);
  await expectReservations(env);
}

/** Each provider's reserved stake is the sum of the reservations of its open requests. */
async function expectReservations(env: Env) {
  const open = new Set<bigint>([BigInt(Status.Claimed), BigInt(Status.Submitted), BigInt(Status.Challenged)]);
  const sums = new Map<string, bigint>();
  for (let id = 1n; id <= (await env.market.requestCount()); id++) {
    const r = await env.market.getRequest(id);
    if (!open.has(r.status)) continue;
    sums.set(r.provider, (sums.get(r.provider) ?? 0n) + r.reservedStake);
  }
  for (const p of [env.provider, env.provider2])
    expect(await env.providers.reservedOf(p.address)).to.equal(sums.get(p.address) ?? 0n);
}

/** FulfilSkipReason */
const NOT_OPEN = 0n;
const CLAIMED_BY_OTHER = 1n;
const DEADLINE_PASSED = 2n;

/** The market's events of `name` in the receipt of `tx`. */
async function eventsOf(env: Env, tx: ContractTransactionResponse, name: string) {
  const receipt = await tx.wait();
  return receipt!.logs
    .filter((l: Log) => l.address === env.marketAddress)
    .map((l: Log) => env.market.interface.parseLog(l)!)
    .filter((e) => e.name === name);
}

/** The fee split of `submit`: royalty and protocol fee rounded down, the provider the rest. */
function split(fee: bigint, royaltyBps: bigint) {
  const royalty = (fee * royaltyBps) / 10_000n;
  const protocol = (fee * PROTOCOL_FEE_BPS) / 10_000n;
  return { provider: fee - royalty - protocol, royalty, protocol };
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
    it("requestInference: escrows the ETH fee, stores the commitment to its parameters and emits InferenceRequested", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { market, requester } = env;
      const deadline = await deadlineIn();
      await expect(
        market.connect(requester).requestInference(1, INPUT, ETH_PRICE, deadline, ZERO, 0, { value: ETH_PRICE }),
      )
        .to.emit(market, "InferenceRequested")
        .withArgs(1n, 1n, requester.address, INPUT, ZERO, ETH_PRICE, deadline, ZERO, 0);
      const r = await market.getRequest(1);
      expect(r.status).to.equal(BigInt(Status.Pending));
      expect(r.mode).to.equal(0n);
      expect(r.deadline).to.equal(deadline);
      expect(r.modelId).to.equal(1n);
      expect(r.provider).to.equal(ZERO);
      // Requester, fee, token and input hash are stored only through the commitment.
      const sent = {
        requester: requester.address,
        feeToken: ZERO,
        fee: ETH_PRICE,
        callback: ZERO,
        callbackGasLimit: 0n,
        inputHash: ethers.keccak256(INPUT),
      };
      expect(r.commitment).to.equal(commitmentOf(sent));
      expect(await paramsOf(market, 1)).to.deep.equal(sent);
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
      expect((await paramsOf(env.market, 3)).requester).to.equal(env.other.address);
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
      await models
        .connect(modelOwner)
        .register(
          modelParams({ feeToken: fotAddress, price: 1000n, royaltyBps: 0, inputShape: [1], outputShape: [1] }),
        );
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
        .to.be.revertedWithCustomError(providers, "ProviderNotEligible")
        .withArgs(provider2.address, 1n);
      await providers.connect(provider2).stake({ value: MIN_STAKE });
      await expect(market.connect(provider2).claim(id))
        .to.be.revertedWithCustomError(providers, "ProviderNotEligible")
        .withArgs(provider2.address, 1n);
      await providers.connect(admin).setMinStake(MIN_STAKE * 2n);
      await expect(market.connect(provider).claim(id))
        .to.be.revertedWithCustomError(providers, "ProviderNotEligible")
        .withArgs(provider.address, 1n);
      expect(await market.statusOf(id)).to.equal(BigInt(Status.Pending));
      expect(await providers.reservedOf(provider.address)).to.equal(0n);
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
      const tx = market.connect(provider).submit(id, await paramsOf(market, id), OUTPUT);
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
      await expect(market.connect(provider).submit(id, await paramsOf(market, id), OUTPUT))
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
      await market.connect(provider).submit(id, await paramsOf(market, id), OUTPUT);
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
      await expect(market.connect(provider).submit(7, await paramsOf(market, 7), OUTPUT))
        .to.be.revertedWithCustomError(market, "MarketRequestUnknown")
        .withArgs(7n);
      const id = await requestEth(env);
      await expect(market.connect(provider).submit(id, await paramsOf(market, id), OUTPUT))
        .to.be.revertedWithCustomError(market, "MarketWrongStatus")
        .withArgs(id, Status.Pending);
      await market.connect(provider).claim(id);
      await expect(market.connect(other).submit(id, await paramsOf(market, id), OUTPUT))
        .to.be.revertedWithCustomError(market, "MarketNotProvider")
        .withArgs(id, other.address);
      await market.connect(provider).submit(id, await paramsOf(market, id), OUTPUT);
      await expect(market.connect(provider).submit(id, await paramsOf(market, id), OUTPUT))
        .to.be.revertedWithCustomError(market, "MarketWrongStatus")
        .withArgs(id, Status.Finalized);
      const deadline = await deadlineIn(50n);
      const id2 = await requestEth(env, { deadline });
      await market.connect(provider).claim(id2);
      await time.increaseTo(deadline);
      await expect(market.connect(provider).submit(id2, await paramsOf(market, id2), OUTPUT))
        .to.be.revertedWithCustomError(market, "MarketDeadlinePassed")
        .withArgs(id2, deadline);
    });

    it("submit: calls the consumer back with exactly its gas limit", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const consumer = await deploy(ethers, "GasBurnerConsumer");
      const limit = 100_000;
      const id = await requestEth(env, { callback: await consumer.getAddress(), gas: limit });
      await env.market.connect(env.provider).claim(id);
      await expect(env.market.connect(env.provider).submit(id, await paramsOf(env.market, id), OUTPUT))
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
        await expect(market.connect(provider).submit(id, await paramsOf(market, id), OUTPUT))
          .to.emit(market, "CallbackResult")
          .withArgs(id, false);
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
      await expect(
        market.connect(provider).submit(id, await paramsOf(market, id), OUTPUT, { gasLimit: 900_000 }),
      ).to.be.revertedWithCustomError(market, "MarketInsufficientGasForCallback");
      const needed = limit + limit / 63n + 5000n + 1n;
      await expect(
        market.connect(provider).submit(id, await paramsOf(market, id), OUTPUT, { gasLimit: 1_000_000 + 150_000 }),
      )
        .to.be.revertedWithCustomError(market, "MarketInsufficientGasForCallback")
        .withArgs((g: bigint) => g < needed, needed);
      expect(await market.statusOf(id)).to.equal(BigInt(Status.Claimed));
      const est = await market.connect(provider).submit.estimateGas(id, await paramsOf(market, id), OUTPUT);
      expect(est).to.be.gte(needed);
      await expect(market.connect(provider).submit(id, await paramsOf(market, id), OUTPUT, { gasLimit: est }))
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
        const tx = await market
          .connect(provider)
          .submit(id, await paramsOf(market, id), OUTPUT, { gasLimit: 3_000_000 });
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
      await expect(market.connect(provider).submit(1, await paramsOf(market, 1), OUTPUT))
        .to.emit(market, "CallbackResult")
        .withArgs(1n, true);
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
      const tx = market.connect(provider).reportInvalidInput(id, await paramsOf(market, id), 3);
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
      await expect(market.connect(other).reportInvalidInput(id, await paramsOf(market, id), 1))
        .to.be.revertedWithCustomError(market, "MarketNotProvider")
        .withArgs(id, other.address);
      await market.connect(provider).submit(id, await paramsOf(market, id), OUTPUT);
      await expect(market.connect(provider).reportInvalidInput(id, await paramsOf(market, id), 1))
        .to.be.revertedWithCustomError(market, "MarketWrongStatus")
        .withArgs(id, Status.Finalized);
      const deadline = await deadlineIn(30n);
      const id2 = await requestEth(env, { deadline });
      await market.connect(provider).claim(id2);
      await time.increaseTo(deadline);
      await expect(market.connect(provider).reportInvalidInput(id2, await paramsOf(market, id2), 1))
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
      await expect(market.connect(other).expire(id, await paramsOf(market, id)))
        .to.be.revertedWithCustomError(market, "MarketDeadlineNotPassed")
        .withArgs(id, deadline);
      await time.increaseTo(deadline);
      const tx = market.connect(other).expire(id, await paramsOf(market, id));
      await expect(tx).to.emit(market, "RequestRefunded").withArgs(id, ETH_PRICE, 0n);
      await expect(tx).to.emit(market, "Credited").withArgs(requester.address, ZERO, ETH_PRICE);
      expect(await market.statusOf(id)).to.equal(BigInt(Status.Refunded));
      await expect(market.connect(other).expire(id, await paramsOf(market, id)))
        .to.be.revertedWithCustomError(market, "MarketWrongStatus")
        .withArgs(id, Status.Refunded);
      await expect(market.connect(other).expire(99, await paramsOf(market, 99)))
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
      const tx = market.expire(id2, await paramsOf(market, id2));
      await expect(tx).to.emit(providers, "Slashed").withArgs(provider.address, marketAddress, CLAIM_PENALTY);
      await expect(tx).to.emit(market, "RequestRefunded").withArgs(id2, ETH_PRICE, CLAIM_PENALTY);
      await expect(tx).to.emit(providers, "JobRecorded").withArgs(provider.address, false);
      await expect(tx).to.emit(providers, "StakeReleased").withArgs(provider.address, CLAIM_PENALTY, 0n);
      expect(await providers.reservedOf(provider.address)).to.equal(0n);
      expect(await market.balanceOf(requester.address, ZERO)).to.equal(ETH_PRICE + CLAIM_PENALTY);
      expect(await providers.stakeOf(provider.address)).to.equal(MIN_STAKE - CLAIM_PENALTY);
      expect(await providers.statsOf(provider.address)).to.deep.equal([0n, 1n, 1n]);
      await expectConservation(env);
      expect(await market.statusOf(id)).to.equal(BigInt(Status.Pending));
    });

    it("expire: a penalty raised after the claim takes at most what the claim reserved", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { market, providers, provider, requester, admin } = env;
      const deadline = await deadlineIn(60n);
      const id = await requestEth(env, { deadline });
      await market.connect(provider).claim(id);
      await market.connect(admin).setClaimPenalty(MIN_STAKE * 5n);
      await time.increaseTo(deadline + 1n);
      const tx = market.expire(id, await paramsOf(market, id));
      await expect(tx).to.emit(market, "RequestRefunded").withArgs(id, ETH_PRICE, CLAIM_PENALTY);
      await expect(tx).to.emit(providers, "StakeReleased").withArgs(provider.address, CLAIM_PENALTY, 0n);
      expect(await providers.stakeOf(provider.address)).to.equal(MIN_STAKE - CLAIM_PENALTY);
      expect(await providers.reservedOf(provider.address)).to.equal(0n);
      expect(await market.balanceOf(requester.address, ZERO)).to.equal(ETH_PRICE + CLAIM_PENALTY);
      await expectConservation(env);
      await expect(market.connect(requester).withdraw(ZERO)).to.changeEtherBalance(
        ethers,
        requester,
        ETH_PRICE + CLAIM_PENALTY,
      );
      await expectConservation(env);
    });

    it("expire: a penalty lowered after the claim takes the lower penalty and releases the rest", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { market, providers, provider, admin, marketAddress } = env;
      const deadline = await deadlineIn(60n);
      const id = await requestEth(env, { deadline });
      await market.connect(provider).claim(id);
      const lower = CLAIM_PENALTY / 5n;
      await market.connect(admin).setClaimPenalty(lower);
      await time.increaseTo(deadline + 1n);
      const tx = market.expire(id, await paramsOf(market, id));
      await expect(tx).to.emit(market, "RequestRefunded").withArgs(id, ETH_PRICE, lower);
      await expect(tx).to.emit(providers, "Slashed").withArgs(provider.address, marketAddress, lower);
      await expect(tx).to.emit(providers, "StakeReleased").withArgs(provider.address, CLAIM_PENALTY, 0n);
      expect(await providers.stakeOf(provider.address)).to.equal(MIN_STAKE - lower);
      expect(await providers.freeStakeOf(provider.address)).to.equal(MIN_STAKE - lower);
      await expectConservation(env);
    });

    it("expire: a claim made with no penalty reserves nothing and is not slashed after a raise", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { market, providers, provider, admin } = env;
      await market.connect(admin).setClaimPenalty(0);
      const deadline = await deadlineIn(60n);
      const id = await requestEth(env, { deadline });
      await expect(market.connect(provider).claim(id)).not.to.emit(providers, "StakeReserved");
      expect((await market.getRequest(id)).reservedStake).to.equal(0n);
      await market.connect(admin).setClaimPenalty(CLAIM_PENALTY);
      await time.increaseTo(deadline + 1n);
      const tx = market.expire(id, await paramsOf(market, id));
      await expect(tx).to.emit(market, "RequestRefunded").withArgs(id, ETH_PRICE, 0n);
      await expect(tx).not.to.emit(providers, "Slashed");
      expect(await providers.stakeOf(provider.address)).to.equal(MIN_STAKE);
      expect(await providers.statsOf(provider.address)).to.deep.equal([0n, 1n, 0n]);
      await expectConservation(env);
    });

    it("expire: takes the penalty from the reservation even after the provider unbonded all its free stake", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { market, providers, provider, requester } = env;
      const deadline = await deadlineIn(60n);
      const id = await requestEth(env, { deadline });
      await market.connect(provider).claim(id);
      await expect(providers.connect(provider).requestUnbond(MIN_STAKE))
        .to.be.revertedWithCustomError(providers, "ProviderInsufficientFreeStake")
        .withArgs(provider.address, MIN_STAKE - CLAIM_PENALTY, MIN_STAKE);
      await providers.connect(provider).requestUnbond(MIN_STAKE - CLAIM_PENALTY);
      await time.increaseTo(deadline + 1n);
      await expect(market.expire(id, await paramsOf(market, id)))
        .to.emit(market, "RequestRefunded")
        .withArgs(id, ETH_PRICE, CLAIM_PENALTY);
      expect(await providers.stakeOf(provider.address)).to.equal(0n);
      expect((await providers.unbondingOf(provider.address))[0]).to.equal(MIN_STAKE - CLAIM_PENALTY);
      expect(await market.balanceOf(requester.address, ZERO)).to.equal(ETH_PRICE + CLAIM_PENALTY);
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
      const tx = market.expire(id, await paramsOf(market, id));
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
      await market.connect(provider).submit(a, await paramsOf(market, a), OUTPUT);
      await market.connect(provider).reportInvalidInput(b, await paramsOf(market, b), 2);
      await time.increaseTo(deadline + 1n);
      await expect(market.expire(a, await paramsOf(market, a)))
        .to.be.revertedWithCustomError(market, "MarketWrongStatus")
        .withArgs(a, Status.Finalized);
      await expect(market.expire(b, await paramsOf(market, b)))
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
      expect((await paramsOf(market, 1)).callback).to.equal(cAddress);
      await market.connect(provider).claim(1);
      await expect(market.connect(provider).submit(1, await paramsOf(market, 1), OUTPUT))
        .to.emit(c, "ResultReceived")
        .withArgs(1n, OUTPUT);
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
      await market.expire(2, await paramsOf(market, 2));
      await expect(c.connect(other).withdrawRefund()).to.changeEtherBalance(ethers, admin, ETH_PRICE * 2n);
      await expect(c.withdrawRefund()).to.be.revertedWithCustomError(market, "MarketNothingToWithdraw");
      await expectConservation(env);
    });

    it("ExampleClassifierConsumer: refuses the result of a request it did not make", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { market, provider, other } = env;
      const c = await deploy(ethers, "ExampleClassifierConsumer", [env.marketAddress, 1]);
      const cAddress = await c.getAddress();
      // Anyone can name the consumer as the callback of a request of their own.
      const id = await requestEth(env, { callback: cAddress, gas: 200_000 });
      await market.connect(provider).claim(id);
      const tx = market.connect(provider).submit(id, await paramsOf(market, id), OUTPUT);
      await expect(tx).to.emit(market, "CallbackResult").withArgs(id, false);
      await expect(tx).not.to.emit(c, "ResultReceived");
      expect(await c.resultOf(id)).to.equal("0x");
      expect(await market.statusOf(id)).to.equal(BigInt(Status.Finalized));
      await expect(c.connect(other).onInferenceResult(id, OUTPUT))
        .to.be.revertedWithCustomError(c, "ConsumerNotMarket")
        .withArgs(other.address);
      // Its own request, asked next, is delivered.
      await c.connect(other).ask(INPUT, await deadlineIn(), { value: ETH_PRICE });
      await market.connect(provider).claim(id + 1n);
      await expect(market.connect(provider).submit(id + 1n, await paramsOf(market, id + 1n), OUTPUT))
        .to.emit(c, "ResultReceived")
        .withArgs(id + 1n, OUTPUT);
    });
  });

  describe("claim penalty bounds", () => {
    it("setClaimPenalty: refuses a penalty beyond 96 bits (MarketPenaltyTooHigh)", async () => {
      const { admin, market } = await networkHelpers.loadFixture(fixture);
      await expect(market.connect(admin).setClaimPenalty(MAX_UINT96 + 1n))
        .to.be.revertedWithCustomError(market, "MarketPenaltyTooHigh")
        .withArgs(MAX_UINT96 + 1n, MAX_UINT96);
      expect(await market.claimPenalty()).to.equal(CLAIM_PENALTY);
      await expect(market.connect(admin).setClaimPenalty(MAX_UINT96))
        .to.emit(market, "ClaimPenaltyUpdated")
        .withArgs(MAX_UINT96);
      expect(await market.reservationOf(0)).to.equal(MAX_UINT96);
    });

    it("constructor: refuses a claim penalty beyond 96 bits", async () => {
      const { admin, models, providers, treasury } = await networkHelpers.loadFixture(fixture);
      const M = await ethers.getContractFactory("InferenceMarket");
      const args = [admin.address, await models.getAddress(), await providers.getAddress(), treasury.address, 0];
      await expect(M.deploy(...args, MAX_UINT96 + 1n))
        .to.be.revertedWithCustomError(M, "MarketPenaltyTooHigh")
        .withArgs(MAX_UINT96 + 1n, MAX_UINT96);
    });

    it("claim: a penalty above the provider's stake cannot be claimed against (ProviderInsufficientFreeStake)", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { market, providers, provider, admin } = env;
      await market.connect(admin).setClaimPenalty(MAX_UINT96);
      const id = await requestEth(env);
      await expect(market.connect(provider).claim(id))
        .to.be.revertedWithCustomError(providers, "ProviderInsufficientFreeStake")
        .withArgs(provider.address, MIN_STAKE, MAX_UINT96);
      expect(await market.statusOf(id)).to.equal(BigInt(Status.Pending));
    });
  });

  describe("stake reservations", () => {
    it("claim: reserves reservationOf(mode) of the provider's stake and records it in the request", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { market, providers, provider } = env;
      for (const mode of [0, 1, 2]) expect(await market.reservationOf(mode)).to.equal(CLAIM_PENALTY);
      const id = await requestEth(env);
      expect((await market.getRequest(id)).reservedStake).to.equal(0n);
      await expect(market.connect(provider).claim(id))
        .to.emit(providers, "StakeReserved")
        .withArgs(provider.address, CLAIM_PENALTY, CLAIM_PENALTY);
      expect((await market.getRequest(id)).reservedStake).to.equal(CLAIM_PENALTY);
      expect(await providers.reservedOf(provider.address)).to.equal(CLAIM_PENALTY);
      expect(await providers.freeStakeOf(provider.address)).to.equal(MIN_STAKE - CLAIM_PENALTY);
      expect(await providers.stakeOf(provider.address)).to.equal(MIN_STAKE);
      await expectConservation(env);
      await market.connect(provider).submit(id, await paramsOf(market, id), outputBytes());
      expect((await market.getRequest(id)).reservedStake, "not reported once the job has ended").to.equal(0n);
      expect(await providers.reservedOf(provider.address)).to.equal(0n);
    });

    it("claim: a provider whose free stake does not cover a second reservation can claim it once the first settles", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { market, providers, provider, admin } = env;
      const penalty = (ETH * 6n) / 10n; // 1 ETH backs one job at a time
      await market.connect(admin).setClaimPenalty(penalty);
      const a = await requestEth(env);
      const b = await requestToken(env);
      await market.connect(provider).claim(a);
      await expect(market.connect(provider).claim(b))
        .to.be.revertedWithCustomError(providers, "ProviderInsufficientFreeStake")
        .withArgs(provider.address, MIN_STAKE - penalty, penalty);
      expect(await market.statusOf(b)).to.equal(BigInt(Status.Pending));
      await expectReservations(env);
      await market.connect(provider).submit(a, await paramsOf(market, a), OUTPUT);
      await expect(market.connect(provider).claim(b))
        .to.emit(providers, "StakeReserved")
        .withArgs(provider.address, penalty, penalty);
      await expectConservation(env);
    });

    it("claim: any number of jobs fit while their reservations do", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { market, providers, provider } = env;
      const ids = [await requestEth(env), await requestEth(env), await requestEth(env)];
      await market.connect(provider).claim(ids[0]!);
      await market.connect(provider).claim(ids[1]!); // 2 x 0.5 ETH: all of the 1 ETH stake
      await expect(market.connect(provider).claim(ids[2]!))
        .to.be.revertedWithCustomError(providers, "ProviderInsufficientFreeStake")
        .withArgs(provider.address, 0n, CLAIM_PENALTY);
      await providers.connect(provider).stake({ value: CLAIM_PENALTY });
      await market.connect(provider).claim(ids[2]!);
      expect(await providers.reservedOf(provider.address)).to.equal(3n * CLAIM_PENALTY);
      await expectConservation(env);
    });

    it("release: returns the reservation and clears it from the request", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { market, providers, provider } = env;
      const id = await requestEth(env);
      await market.connect(provider).claim(id);
      const tx = market.connect(provider).release(id);
      await expect(tx).to.emit(providers, "StakeReleased").withArgs(provider.address, CLAIM_PENALTY, 0n);
      await expect(tx).not.to.emit(providers, "JobRecorded");
      expect((await market.getRequest(id)).reservedStake).to.equal(0n);
      expect(await providers.reservedOf(provider.address)).to.equal(0n);
      expect(await providers.statsOf(provider.address)).to.deep.equal([0n, 0n, 0n]);
      // Claimed again (at a new penalty), it reserves the penalty of the new claim.
      await market.connect(env.admin).setClaimPenalty(CLAIM_PENALTY / 2n);
      await market.connect(provider).claim(id);
      expect((await market.getRequest(id)).reservedStake).to.equal(CLAIM_PENALTY / 2n);
      await expectConservation(env);
    });

    it("reportInvalidInput: returns the reservation without a penalty or a failed job", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { market, providers, provider } = env;
      const id = await requestEth(env);
      await market.connect(provider).claim(id);
      const tx = market.connect(provider).reportInvalidInput(id, await paramsOf(market, id), 3);
      await expect(tx).to.emit(providers, "StakeReleased").withArgs(provider.address, CLAIM_PENALTY, 0n);
      await expect(tx).not.to.emit(providers, "Slashed");
      expect(await providers.reservedOf(provider.address)).to.equal(0n);
      expect(await providers.stakeOf(provider.address)).to.equal(MIN_STAKE);
      await expectConservation(env);
    });

    it("submit: returns the reservation and counts the job served", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { market, providers, provider } = env;
      const id = await requestEth(env);
      await market.connect(provider).claim(id);
      const tx = market.connect(provider).submit(id, await paramsOf(market, id), OUTPUT);
      await expect(tx).to.emit(providers, "StakeReleased").withArgs(provider.address, CLAIM_PENALTY, 0n);
      await expect(tx).to.emit(providers, "JobRecorded").withArgs(provider.address, true);
      expect(await providers.reservedOf(provider.address)).to.equal(0n);
      expect(await providers.stakeOf(provider.address)).to.equal(MIN_STAKE);
      await expectConservation(env);
    });

    it("expire: a provider slashed below the minimum stake can no longer claim", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { market, providers, provider } = env;
      const deadline = await deadlineIn(60n);
      const id = await requestEth(env, { deadline });
      await market.connect(provider).claim(id);
      await time.increaseTo(deadline + 1n);
      await market.expire(id, await paramsOf(market, id));
      const next = await requestEth(env);
      await expect(market.connect(provider).claim(next))
        .to.be.revertedWithCustomError(providers, "ProviderNotEligible")
        .withArgs(provider.address, 1n);
      await providers.connect(provider).stake({ value: CLAIM_PENALTY });
      await market.connect(provider).claim(next);
      await expectConservation(env);
    });

    it("settled requests cannot be settled again nor release their stake twice", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { market, providers, provider, provider2 } = env;
      await providers.connect(provider2).stake({ value: MIN_STAKE });
      await providers.connect(provider2).optIn(1);
      const deadline = await deadlineIn(60n);
      const [a, b, c] = [
        await requestEth(env, { deadline }),
        await requestEth(env, { deadline }),
        await requestEth(env, { deadline }),
      ];
      await market.connect(provider).claim(a);
      await market.connect(provider2).claim(b);
      await market.connect(provider2).claim(c);
      await market.connect(provider).submit(a, await paramsOf(market, a), OUTPUT);
      await market.connect(provider2).reportInvalidInput(b, await paramsOf(market, b), 1);
      // provider2 still holds c: the settled requests must not release c's reservation.
      for (const [id, status] of [
        [a, Status.Finalized],
        [b, Status.Failed],
      ] as const) {
        const params = await paramsOf(market, id);
        for (const who of [provider, provider2]) {
          const m = market.connect(who);
          for (const call of [m.release(id), m.submit(id, params, OUTPUT), m.reportInvalidInput(id, params, 1)])
            await expect(call).to.be.revertedWithCustomError(market, "MarketWrongStatus").withArgs(id, status);
        }
      }
      expect(await providers.reservedOf(provider2.address)).to.equal(CLAIM_PENALTY);
      await time.increaseTo(deadline + 1n);
      await market.expire(c, await paramsOf(market, c));
      await expect(market.expire(c, await paramsOf(market, c)))
        .to.be.revertedWithCustomError(market, "MarketWrongStatus")
        .withArgs(c, Status.Refunded);
      expect(await providers.stakeOf(provider2.address)).to.equal(MIN_STAKE - CLAIM_PENALTY);
      expect(await providers.reservedOf(provider2.address)).to.equal(0n);
      await expectConservation(env);
    });
  });

  describe("outputs", () => {
    it("submit: refuses an output that is not the model's canonical output tensor (MarketOutputMalformed)", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { market, provider } = env;
      const id = await requestEth(env);
      await market.connect(provider).claim(id);
      const body = OUTPUT.slice(2 + 22); // the 12 element bytes after the 11-byte header
      for (const [output, length] of [
        ["0x", 0],
        ["0xaabbccdd", 4], // the bytes any output was before issue 8
        [OUTPUT.slice(0, -2), 22],
        [OUTPUT + "00", 24],
        ["0x010302" + "00000003" + "00000001" + body, 23], // right length, dims [3, 1]
        ["0x010202" + "00000001" + "00000003" + body, 23], // right length, int32
        ["0x020302" + "00000001" + "00000003" + body, 23], // right length, version 2
        [tensorHex("int8", [1, 12]), 23], // right length, another dtype and shape
      ] as const)
        await expect(market.connect(provider).submit(id, await paramsOf(market, id), output))
          .to.be.revertedWithCustomError(market, "MarketOutputMalformed")
          .withArgs(id, length, 23);
      expect(await market.statusOf(id)).to.equal(BigInt(Status.Claimed));
      await expect(market.connect(provider).submit(id, await paramsOf(market, id), OUTPUT)).to.emit(
        market,
        "RequestFinalized",
      );
    });

    it("submit: checks the output against the request's own model", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      const { market, models, modelOwner, provider, providers } = env;
      await models.connect(modelOwner).register(modelParams({ outputShape: [2], outputDtype: 5 })); // uint8 [2]
      await providers.connect(provider).optIn(3);
      const id = (await market.requestCount()) + 1n;
      await market
        .connect(env.requester)
        .requestInference(3, INPUT, ETH_PRICE, await deadlineIn(), ZERO, 0, { value: ETH_PRICE });
      await market.connect(provider).claim(id);
      await expect(market.connect(provider).submit(id, await paramsOf(market, id), OUTPUT))
        .to.be.revertedWithCustomError(market, "MarketOutputMalformed")
        .withArgs(id, 23, 9);
      const own = tensorHex("uint8", [2], [200, 7]);
      await market.connect(provider).submit(id, await paramsOf(market, id), own);
      expect(await market.outputOf(id)).to.equal(own);
    });

    it("requestInference: takes any Attested input (inline or content id) unchecked", async () => {
      const env = await networkHelpers.loadFixture(fixture);
      for (const input of ["0x01" + Buffer.from("bafybeigdyrzt").toString("hex"), "0x00", inline(OUTPUT), "0xff"])
        await env.market
          .connect(env.requester)
          .requestInference(1, input, ETH_PRICE, await deadlineIn(), ZERO, 0, { value: ETH_PRICE });
      expect(await env.market.requestCount()).to.equal(4n);
    });
  });

  describe("Zk mode", () => {
    it("requestInference: a Zk input must be an inline envelope (MarketInputNotInline)", async () => {
      const env = await networkHelpers.loadFixture(zkFixture);
      // The bare tensor (what a Zk request carried before issue 8), a content id, a bad kind byte.
      for (const input of [TENSOR_IN, "0x01" + Buffer.from("bafy").toString("hex"), "0x02" + TENSOR_IN.slice(2)])
        await expect(requestModel3(env, input))
          .to.be.revertedWithCustomError(env.market, "MarketInputNotInline")
          .withArgs(3n);
    });

    it("requestInference: a Zk input must be exactly the registered input tensor (MarketInputMalformed)", async () => {
      const env = await networkHelpers.loadFixture(zkFixture);
      const body = TENSOR_IN.slice(2 + 22);
      for (const [tensor, length] of [
        ["0x", 0],
        [TENSOR_IN.slice(0, -2), 14],
        [TENSOR_IN + "00", 16],
        ["0x010102" + "00000004" + "00000001" + body, 15], // dims [4, 1]
        ["0x010502" + "00000001" + "00000004" + body, 15], // uint8
        ["0x010101" + "00000008" + body + "00000000", 15], // int8 [8]: canonical, but not the model's
        ["0x010109" + "00000001" + "00000004" + body, 15], // rank byte 9 (issue 8, attack 2)
        ["0x000101", 3], // the malformed input of issue 8, attack 2
      ] as const)
        await expect(requestModel3(env, inline(tensor)))
          .to.be.revertedWithCustomError(env.market, "MarketInputMalformed")
          .withArgs(3n, length, 15n);
      const id = await requestModel3(env);
      const params = await paramsOf(env.market, id);
      expect(params.inputHash).to.equal(ethers.keccak256(inline(TENSOR_IN)));
      expect((await env.market.getRequest(id)).commitment).to.equal(commitmentOf(params));
    });

    it("claim: a Zk claim reserves the claim penalty", async () => {
      const env = await networkHelpers.loadFixture(zkFixture);
      const id = await requestModel3(env);
      await env.market.connect(env.provider).claim(id);
      expect((await env.market.getRequest(id)).reservedStake).to.equal(await env.market.reservationOf(1));
      expect(await env.providers.reservedOf(env.provider.address)).to.equal(CLAIM_PENALTY);
    });

    it("submitWithProof: passes the tensor after the envelope byte to the verifier and settles", async () => {
      const env = await networkHelpers.loadFixture(zkFixture);
      const { market, providers, provider, verifier } = env;
      const proof = "0x" + "5a".repeat(64);
      const id = await requestModel3(env);
      await market.connect(provider).claim(id);
      // A verifier that wants the whole envelope rejects: the market does not pass it.
      await verifier.setExpected(inline(TENSOR_IN), ZK_OUTPUT, proof);
      expect(await verifier.verify(inline(TENSOR_IN), ZK_OUTPUT, proof)).to.equal(true);
      await expect(
        market.connect(provider).submitWithProof(id, await paramsOf(market, id), inline(TENSOR_IN), ZK_OUTPUT, proof),
      )
        .to.be.revertedWithCustomError(market, "MarketProofInvalid")
        .withArgs(id);
      await verifier.setExpected(TENSOR_IN, ZK_OUTPUT, proof);
      const tx = market
        .connect(provider)
        .submitWithProof(id, await paramsOf(market, id), inline(TENSOR_IN), ZK_OUTPUT, proof);
      await expect(tx).to.emit(market, "RequestFinalized");
      await expect(tx).to.emit(providers, "StakeReleased").withArgs(provider.address, CLAIM_PENALTY, 0n);
      await expect(tx).to.emit(providers, "JobRecorded").withArgs(provider.address, true);
      expect(await market.outputOf(id)).to.equal(ZK_OUTPUT);
      await expectConservation(env);
    });

    it("submitWithProof: refuses another input, a malformed output, a rejected proof and the wrong mode", async () => {
      const env = await networkHelpers.loadFixture(zkFixture);
      const { market, provider, verifier } = env;
      const proof = "0x01";
      const id = await requestModel3(env);
      await market.connect(provider).claim(id);
      await verifier.setExpected(TENSOR_IN, ZK_OUTPUT, proof);
      const other = inline(tensorHex("int8", [1, 4], [1, 2, 3, 4]));
      const inputHash = ethers.keccak256(inline(TENSOR_IN));
      for (const input of [other, TENSOR_IN])
        await expect(market.connect(provider).submitWithProof(id, await paramsOf(market, id), input, ZK_OUTPUT, proof))
          .to.be.revertedWithCustomError(market, "MarketInputMismatch")
          .withArgs(id, inputHash);
      const wrongOutput = tensorHex("int8", [1, 8], [7, 0, 0, 0, -7, -1, -1, -1]); // same 19 bytes, int8 [1, 8]
      await verifier.setExpected(TENSOR_IN, wrongOutput, proof);
      for (const [output, length] of [
        [wrongOutput, 19],
        [ZK_OUTPUT + "00", 20],
      ] as const)
        await expect(
          market.connect(provider).submitWithProof(id, await paramsOf(market, id), inline(TENSOR_IN), output, proof),
        )
          .to.be.revertedWithCustomError(market, "MarketOutputMalformed")
          .withArgs(id, length, 19);
      await expect(
        market.connect(provider).submitWithProof(id, await paramsOf(market, id), inline(TENSOR_IN), ZK_OUTPUT, proof),
      )
        .to.be.revertedWithCustomError(market, "MarketProofInvalid")
        .withArgs(id);
      await expect(market.connect(provider).submit(id, await paramsOf(market, id), ZK_OUTPUT))
        .to.be.revertedWithCustomError(market, "MarketWrongMode")
        .withArgs(id, 1);
      const attested = await requestEth(env);
      await market.connect(provider).claim(attested);
      await expect(
        market.connect(provider).submitWithProof(attested, await paramsOf(market, attested), INPUT, OUTPUT, proof),
      )
        .to.be.revertedWithCustomError(market, "MarketWrongMode")
        .withArgs(attested, 0);
      expect(await market.statusOf(id)).to.equal(BigInt(Status.Claimed));
    });
  });

  describe("Optimistic mode", () => {
    it("setDisputeGame: the owner names the game once; it fixes the Optimistic reservation and the refund bound", async () => {
      const env = await networkHelpers.loadFixture(optimisticFixture);
      const { market, game, admin, other } = env;
      expect(await market.disputeGame()).to.equal(await game.getAddress());
      expect(await market.reservationOf(2)).to.equal(GAME_SLASH);
      expect(await market.reservationOf(0)).to.equal(CLAIM_PENALTY);
      await expect(market.connect(admin).setDisputeGame(other.address))
        .to.be.revertedWithCustomError(market, "MarketDisputeGameAlreadySet")
        .withArgs(await game.getAddress());
      await expect(market.connect(other).setDisputeGame(other.address))
        .to.be.revertedWithCustomError(market, "OwnableUnauthorizedAccount")
        .withArgs(other.address);
      // The reservation follows the penalty when the penalty is the larger.
      await market.connect(admin).setClaimPenalty(GAME_SLASH + 1n);
      expect(await market.reservationOf(2)).to.equal(GAME_SLASH + 1n);
    });

    it("setDisputeGame: refuses the zero address and a game whose slash does not fit 96 bits", async () => {
      const { admin, models, providers, treasury } = await networkHelpers.loadFixture(fixture);
      const market = await deploy(ethers, "InferenceMarket", [
        admin.address,
        await models.getAddress(),
        await providers.getAddress(),
        treasury.address,
        0,
        0,
      ]);
      await expect(market.connect(admin).setDisputeGame(ZERO)).to.be.revertedWithCustomError(
        market,
        "MarketZeroAddress",
      );
      const prover = await deploy(ethers, "LayerStepProver");
      const game = await deploy(ethers, "DisputeGame", [
        await market.getAddress(),
        await models.getAddress(),
        await providers.getAddress(),
        await prover.getAddress(),
        treasury.address,
        1,
        0,
        MAX_UINT96 + 1n,
        3600,
        5000,
        5000,
      ]);
      await expect(market.connect(admin).setDisputeGame(await game.getAddress()))
        .to.be.revertedWithCustomError(market, "MarketPenaltyTooHigh")
        .withArgs(MAX_UINT96 + 1n, MAX_UINT96);
      expect(await market.disputeGame()).to.equal(ZERO);
    });

    it("requestInference: an Optimistic input must be the inline registered input tensor", async () => {
      const env = await networkHelpers.loadFixture(optimisticFixture);
      await expect(requestModel3(env, TENSOR_IN))
        .to.be.revertedWithCustomError(env.market, "MarketInputNotInline")
        .withArgs(3n);
      for (const [input, length] of [
        [inline("0x000101"), 3], // issue 8, attack 2
        [inline(tensorHex("int8", [4, 1], [1, 2, 3, 4])), 15],
        [inline(tensorHex("int8", [1, 5])), 16],
      ] as const)
        await expect(requestModel3(env, input))
          .to.be.revertedWithCustomError(env.market, "MarketInputMalformed")
          .withArgs(3n, length, 15n);
      await requestModel3(env);
    });

    it("claim: an Optimistic claim reserves the larger of the claim penalty and the game's slash", async () => {
      const env = await networkHelpers.loadFixture(optimisticFixture);
      const { market, providers, provider } = env;
      const a = await requestModel3(env);
      const b = await requestModel3(env);
      await expect(market.connect(provider).claim(a))
        .to.emit(providers, "StakeReserved")
        .withArgs(provider.address, GAME_SLASH, GAME_SLASH);
      expect((await market.getRequest(a)).reservedStake).to.equal(GAME_SLASH);
      // 1 ETH backs one Optimistic job: a second one would leave a lost game unpaid.
      await expect(market.connect(provider).claim(b))
        .to.be.revertedWithCustomError(providers, "ProviderInsufficientFreeStake")
        .withArgs(provider.address, MIN_STAKE - GAME_SLASH, GAME_SLASH);
      // An Attested job still fits only if its penalty does.
      const attested = await requestEth(env);
      await expect(market.connect(provider).claim(attested))
        .to.be.revertedWithCustomError(providers, "ProviderInsufficientFreeStake")
        .withArgs(provider.address, MIN_STAKE - GAME_SLASH, CLAIM_PENALTY);
      await expectConservation(env);
    });

    it("submitOptimistic: refuses an output relabelled under another header with the same element root (issue 8, attack 1)", async () => {
      const env = await networkHelpers.loadFixture(optimisticFixture);
      const { market, provider } = env;
      const id = await requestModel3(env);
      await market.connect(provider).claim(id);
      const relabelled = tensorHex("uint8", [2, 2], [0x7f, 0x7f, 0xed, 0x3a]);
      expect(layerRoots(relabelled)).to.deep.equal(layerRoots(OPT_OUTPUT));
      await expect(market.connect(provider).submitOptimistic(id, relabelled, layerRoots(relabelled)))
        .to.be.revertedWithCustomError(market, "MarketOutputMalformed")
        .withArgs(id, 15, 15);
      const longer = tensorHex("int8", [1, 5], [127, 127, -19, 58, 0]);
      await expect(market.connect(provider).submitOptimistic(id, longer, layerRoots(longer)))
        .to.be.revertedWithCustomError(market, "MarketOutputMalformed")
        .withArgs(id, 16, 15);
      await expect(market.connect(provider).submit(id, await paramsOf(market, id), OPT_OUTPUT))
        .to.be.revertedWithCustomError(market, "MarketWrongMode")
        .withArgs(id, 2);
      await expect(market.connect(provider).submitOptimistic(id, OPT_OUTPUT, layerRoots(OPT_OUTPUT))).to.emit(
        market,
        "OptimisticResultSubmitted",
      );
      expect(await market.statusOf(id)).to.equal(BigInt(Status.Submitted));
    });

    it("finalize: returns the reservation once the window has passed and counts the job served", async () => {
      const env = await networkHelpers.loadFixture(optimisticFixture);
      const { market, providers, provider, other } = env;
      const id = await requestModel3(env);
      const next = await requestModel3(env);
      await market.connect(provider).claim(id);
      await market.connect(provider).submitOptimistic(id, OPT_OUTPUT, layerRoots(OPT_OUTPUT));
      // Submitted, not final: the reservation stays (a game may still slash it) and cannot be unbonded.
      expect(await providers.reservedOf(provider.address)).to.equal(GAME_SLASH);
      await expect(providers.connect(provider).requestUnbond(MIN_STAKE))
        .to.be.revertedWithCustomError(providers, "ProviderInsufficientFreeStake")
        .withArgs(provider.address, MIN_STAKE - GAME_SLASH, MIN_STAKE);
      await expectConservation(env);
      const windowEnd = await market.windowEndOf(id);
      expect(windowEnd).to.equal(BigInt(await time.latest()) + WINDOW);
      // The last-resort refund bound: the window plus twice a game's longest run (2 x 1 h clocks).
      expect(await market.refundableAfter(id)).to.equal(windowEnd + 2n * 7200n);
      await time.increaseTo(windowEnd - 1n); // the next block is at windowEnd
      const tx = market.connect(other).finalize(id, await paramsOf(market, id));
      await expect(tx).to.emit(providers, "StakeReleased").withArgs(provider.address, GAME_SLASH, 0n);
      await expect(tx).to.emit(providers, "JobRecorded").withArgs(provider.address, true);
      expect(await market.outputOf(id)).to.equal(OPT_OUTPUT);
      await market.connect(provider).claim(next);
      await expectConservation(env);
    });

    it("expire: a claimed Optimistic request takes the claim penalty, not the game's slash, and releases the rest", async () => {
      const env = await networkHelpers.loadFixture(optimisticFixture);
      const { market, providers, provider, requester } = env;
      const deadline = await deadlineIn(60n);
      const id = await requestModel3(env, inline(TENSOR_IN), deadline);
      await market.connect(provider).claim(id);
      await time.increaseTo(deadline + 1n);
      const tx = market.expire(id, await paramsOf(market, id));
      await expect(tx).to.emit(market, "RequestRefunded").withArgs(id, ETH_PRICE, CLAIM_PENALTY);
      await expect(tx).to.emit(providers, "StakeReleased").withArgs(provider.address, GAME_SLASH, 0n);
      expect(await providers.stakeOf(provider.address)).to.equal(MIN_STAKE - CLAIM_PENALTY);
      expect(await market.balanceOf(requester.address, ZERO)).to.equal(ETH_PRICE + CLAIM_PENALTY);
      await expectConservation(env);
    });

    it("openChallenge, resolveChallenge: only the dispute game may call them", async () => {
      const env = await networkHelpers.loadFixture(optimisticFixture);
      const { market, provider, other } = env;
      const id = await requestModel3(env);
      await market.connect(provider).claim(id);
      await market.connect(provider).submitOptimistic(id, OPT_OUTPUT, layerRoots(OPT_OUTPUT));
      for (const who of [other, provider, env.admin]) {
        await expect(market.connect(who).openChallenge(id, await paramsOf(market, id)))
          .to.be.revertedWithCustomError(market, "MarketNotDisputeGame")
          .withArgs(who.address);
        await expect(market.connect(who).resolveChallenge(id, true))
          .to.be.revertedWithCustomError(market, "MarketNotDisputeGame")
          .withArgs(who.address);
      }
      expect(await market.statusOf(id)).to.equal(BigInt(Status.Submitted));
    });
  });

  describe("claim-free fulfilment (issue 12)", () => {
    describe("fulfil", () => {
      it("fulfil: serves a Pending request in one call, reserving nothing", async () => {
        const env = await networkHelpers.loadFixture(fixture);
        const { market, providers, provider, modelOwner, treasury } = env;
        const consumer = await deploy(ethers, "GasBurnerConsumer");
        const id = await requestEth(env, { callback: await consumer.getAddress(), gas: 100_000 });
        const tx = market.connect(provider).fulfil(id, await paramsOf(market, id), OUTPUT);
        const s = split(ETH_PRICE, ETH_ROYALTY_BPS);
        await expect(tx).to.emit(market, "ResultSubmitted").withArgs(id, provider.address, OUTPUT);
        await expect(tx).to.emit(market, "RequestFinalized").withArgs(id, s.provider, s.royalty, s.protocol);
        await expect(tx).to.emit(market, "CallbackResult").withArgs(id, true);
        await expect(tx).to.emit(providers, "JobRecorded").withArgs(provider.address, true);
        await expect(tx).not.to.emit(providers, "StakeReserved");
        await expect(tx).not.to.emit(market, "RequestClaimed");
        expect(await market.statusOf(id)).to.equal(BigInt(Status.Finalized));
        expect((await market.getRequest(id)).provider).to.equal(provider.address);
        expect(await market.outputOf(id)).to.equal(OUTPUT);
        expect(await market.balanceOf(provider.address, ZERO)).to.equal(s.provider);
        expect(await market.balanceOf(modelOwner.address, ZERO)).to.equal(s.royalty);
        expect(await market.balanceOf(treasury.address, ZERO)).to.equal(s.protocol);
        expect(await providers.statsOf(provider.address)).to.deep.equal([1n, 0n, 0n]);
        expect(await providers.reservedOf(provider.address)).to.equal(0n);
        expect(await consumer.calls()).to.equal(1n);
        await expectConservation(env);
      });

      it("fulfil: a request the caller claimed is submitted and its reservation released", async () => {
        const env = await networkHelpers.loadFixture(fixture);
        const { market, providers, provider } = env;
        const id = await requestEth(env);
        await market.connect(provider).claim(id);
        expect(await providers.reservedOf(provider.address)).to.equal(CLAIM_PENALTY);
        await expect(market.connect(provider).fulfil(id, await paramsOf(market, id), OUTPUT))
          .to.emit(providers, "StakeReleased")
          .withArgs(provider.address, CLAIM_PENALTY, 0n);
        expect(await providers.reservedOf(provider.address)).to.equal(0n);
        expect(await market.statusOf(id)).to.equal(BigInt(Status.Finalized));
      });

      it("fulfil: double settlement reverts with MarketWrongStatus", async () => {
        const env = await networkHelpers.loadFixture(fixture);
        const { market, provider } = env;
        const id = await requestEth(env);
        await market.connect(provider).fulfil(id, await paramsOf(market, id), OUTPUT);
        await expect(market.connect(provider).fulfil(id, await paramsOf(market, id), OUTPUT))
          .to.be.revertedWithCustomError(market, "MarketWrongStatus")
          .withArgs(id, Status.Finalized);
        await expect(market.connect(provider).fulfil(99, await paramsOf(market, 99), OUTPUT))
          .to.be.revertedWithCustomError(market, "MarketRequestUnknown")
          .withArgs(99);
      });

      it("fulfil: another provider's claim reverts with MarketNotProvider", async () => {
        const env = await networkHelpers.loadFixture(fixture);
        const { market, providers, provider, provider2 } = env;
        await providers.connect(provider2).stake({ value: MIN_STAKE });
        await providers.connect(provider2).optIn(1);
        const id = await requestEth(env);
        await market.connect(provider2).claim(id);
        await expect(market.connect(provider).fulfil(id, await paramsOf(market, id), OUTPUT))
          .to.be.revertedWithCustomError(market, "MarketNotProvider")
          .withArgs(id, provider.address);
      });

      it("fulfil: an unstaked, under-staked or not opted-in caller reverts with MarketProviderNotEligible", async () => {
        const env = await networkHelpers.loadFixture(fixture);
        const { market, providers, provider, provider2 } = env;
        const id = await requestEth(env);
        await expect(market.connect(provider2).fulfil(id, await paramsOf(market, id), OUTPUT))
          .to.be.revertedWithCustomError(market, "MarketProviderNotEligible")
          .withArgs(id, provider2.address, 1);
        await providers.connect(provider2).stake({ value: MIN_STAKE });
        await expect(market.connect(provider2).fulfil(id, await paramsOf(market, id), OUTPUT))
          .to.be.revertedWithCustomError(market, "MarketProviderNotEligible")
          .withArgs(id, provider2.address, 1);
        // Below the minimum after unbonding half.
        await providers.connect(provider).requestUnbond(MIN_STAKE / 2n);
        await expect(market.connect(provider).fulfil(id, await paramsOf(market, id), OUTPUT))
          .to.be.revertedWithCustomError(market, "MarketProviderNotEligible")
          .withArgs(id, provider.address, 1);
      });

      it("fulfil: a passed deadline, a malformed output or a non-Attested model reverts", async () => {
        const env = await networkHelpers.loadFixture(zkFixture);
        const { market, provider } = env;
        const deadline = await deadlineIn(60n);
        const late = await requestEth(env, { deadline });
        const id = await requestEth(env);
        await expect(market.connect(provider).fulfil(id, await paramsOf(market, id), OUTPUT + "00"))
          .to.be.revertedWithCustomError(market, "MarketOutputMalformed")
          .withArgs(id, 24, 23);
        const zk = await requestModel3(env);
        await expect(market.connect(provider).fulfil(zk, await paramsOf(market, zk), ZK_OUTPUT))
          .to.be.revertedWithCustomError(market, "MarketWrongMode")
          .withArgs(zk, 1);
        await time.increaseTo(deadline + 1n);
        await expect(market.connect(provider).fulfil(late, await paramsOf(market, late), OUTPUT))
          .to.be.revertedWithCustomError(market, "MarketDeadlinePassed")
          .withArgs(late, deadline);
      });
    });

    describe("fulfilBatch", () => {
      it("fulfilBatch: the same id twice settles once, the repeat skipped as NotOpen", async () => {
        const env = await networkHelpers.loadFixture(fixture);
        const { market, provider } = env;
        const id = await requestEth(env);
        const tx = await market
          .connect(provider)
          .fulfilBatch([id, id], await paramsOfAll(market, [id, id]), [OUTPUT, OUTPUT]);
        await expect(tx).to.emit(market, "FulfilSkipped").withArgs(id, provider.address, NOT_OPEN);
        expect(await eventsOf(env, tx, "RequestFinalized")).to.have.length(1);
        expect(await market.balanceOf(provider.address, ZERO)).to.equal(split(ETH_PRICE, ETH_ROYALTY_BPS).provider);
        expect(await market.escrowed(ZERO)).to.equal(0n);
        await expectConservation(env);
      });

      it("fulfilBatch: racing another provider's claim skips that item and serves the rest", async () => {
        const env = await networkHelpers.loadFixture(fixture);
        const { market, providers, provider, provider2 } = env;
        await providers.connect(provider2).stake({ value: MIN_STAKE });
        await providers.connect(provider2).optIn(1);
        const ids = [await requestEth(env), await requestEth(env), await requestEth(env)];
        await market.connect(provider2).claim(ids[1]!);
        const served = await market
          .connect(provider)
          .fulfilBatch.staticCall(ids, await paramsOfAll(market, ids), [OUTPUT, OUTPUT, OUTPUT]);
        expect(served).to.equal(2n);
        const tx = await market
          .connect(provider)
          .fulfilBatch(ids, await paramsOfAll(market, ids), [OUTPUT, OUTPUT, OUTPUT]);
        await expect(tx).to.emit(market, "FulfilSkipped").withArgs(ids[1], provider.address, CLAIMED_BY_OTHER);
        expect(await market.statusOf(ids[0]!)).to.equal(BigInt(Status.Finalized));
        expect(await market.statusOf(ids[2]!)).to.equal(BigInt(Status.Finalized));
        const other = await market.getRequest(ids[1]!);
        expect(other.status).to.equal(BigInt(Status.Claimed));
        expect(other.provider).to.equal(provider2.address);
        expect(await providers.reservedOf(provider2.address)).to.equal(CLAIM_PENALTY);
        await expect(tx).to.emit(providers, "JobsServed").withArgs(provider.address, 2n);
        expect((await providers.statsOf(provider.address))[0]).to.equal(2n);
        await expectConservation(env);
      });

      it("fulfilBatch: a passed deadline or a settled request is skipped, and a batch of only those serves none", async () => {
        const env = await networkHelpers.loadFixture(fixture);
        const { market, provider } = env;
        const deadline = await deadlineIn(60n);
        const late = await requestEth(env, { deadline });
        const done = await requestEth(env);
        await market.connect(provider).fulfil(done, await paramsOf(market, done), OUTPUT);
        await time.increaseTo(deadline + 1n);
        const tx = await market
          .connect(provider)
          .fulfilBatch([late, done], await paramsOfAll(market, [late, done]), [OUTPUT, OUTPUT]);
        await expect(tx).to.emit(market, "FulfilSkipped").withArgs(late, provider.address, DEADLINE_PASSED);
        await expect(tx).to.emit(market, "FulfilSkipped").withArgs(done, provider.address, NOT_OPEN);
        await expect(tx).not.to.emit(env.providers, "JobsServed");
        expect(await market.statusOf(late)).to.equal(BigInt(Status.Pending));
      });

      it("fulfilBatch: a malformed output, an unknown id or an ineligible caller reverts the whole batch", async () => {
        const env = await networkHelpers.loadFixture(fixture);
        const { market, provider, provider2 } = env;
        const a = await requestEth(env);
        const b = await requestEth(env);
        await expect(market.connect(provider).fulfilBatch([a, b], await paramsOfAll(market, [a, b]), [OUTPUT, "0x01"]))
          .to.be.revertedWithCustomError(market, "MarketOutputMalformed")
          .withArgs(b, 1, 23);
        await expect(
          market.connect(provider).fulfilBatch([a, 77], await paramsOfAll(market, [a, 77]), [OUTPUT, OUTPUT]),
        )
          .to.be.revertedWithCustomError(market, "MarketRequestUnknown")
          .withArgs(77);
        await expect(market.connect(provider2).fulfilBatch([a, b], await paramsOfAll(market, [a, b]), [OUTPUT, OUTPUT]))
          .to.be.revertedWithCustomError(market, "MarketProviderNotEligible")
          .withArgs(a, provider2.address, 1);
        expect(await market.statusOf(a)).to.equal(BigInt(Status.Pending));
        expect(await market.statusOf(b)).to.equal(BigInt(Status.Pending));
      });

      it("fulfilBatch: reverts on mismatched lengths, an empty batch and more than MAX_BATCH items", async () => {
        const env = await networkHelpers.loadFixture(fixture);
        const { market, provider } = env;
        const max = await market.MAX_BATCH();
        await expect(market.connect(provider).fulfilBatch([1, 2], await paramsOfAll(market, [1, 2]), [OUTPUT]))
          .to.be.revertedWithCustomError(market, "MarketBatchLengthMismatch")
          .withArgs(2, 1);
        await expect(market.connect(provider).fulfilBatch([], await paramsOfAll(market, []), []))
          .to.be.revertedWithCustomError(market, "MarketBatchSizeInvalid")
          .withArgs(0, max);
        const n = Number(max) + 1;
        await expect(
          market.connect(provider).fulfilBatch(
            Array.from({ length: n }, (_, i) => i + 1),
            Array.from({ length: n }, () => NO_PARAMS),
            Array.from({ length: n }, () => OUTPUT),
          ),
        )
          .to.be.revertedWithCustomError(market, "MarketBatchSizeInvalid")
          .withArgs(n, max);
      });

      it("fulfilBatch: ERC-20 and ETH fees in one batch credit each party once per token (the owner once per run)", async () => {
        const env = await networkHelpers.loadFixture(fixture);
        const { market, provider, modelOwner, treasury, tokenAddress } = env;
        const ids = [await requestEth(env), await requestEth(env), await requestToken(env), await requestEth(env)];
        const tx = await market
          .connect(provider)
          .fulfilBatch(ids, await paramsOfAll(market, ids), [OUTPUT, OUTPUT, OUTPUT, OUTPUT]);
        const credits = (await eventsOf(env, tx, "Credited")).map((e) => [e.args[0], e.args[1], e.args[2]]);
        const eth = split(ETH_PRICE, ETH_ROYALTY_BPS);
        const tok = split(TOKEN_PRICE, TOKEN_ROYALTY_BPS);
        expect(credits).to.have.deep.members([
          [modelOwner.address, ZERO, eth.royalty * 2n], // run 1: two ETH items
          [modelOwner.address, tokenAddress, tok.royalty], // run 2: the token item
          [modelOwner.address, ZERO, eth.royalty], // run 3: the last ETH item
          [provider.address, ZERO, eth.provider * 3n],
          [treasury.address, ZERO, eth.protocol * 3n],
          [provider.address, tokenAddress, tok.provider],
          [treasury.address, tokenAddress, tok.protocol],
        ]);
        expect(credits).to.have.length(7);
        expect(await market.escrowed(ZERO)).to.equal(0n);
        expect(await market.escrowed(tokenAddress)).to.equal(0n);
        await expectConservation(env);
      });

      it("fulfilBatch: aggregated credits equal the sum of the per-item splits, rounding included", async () => {
        const env = await networkHelpers.loadFixture(fixture);
        const { market, models, provider, modelOwner, treasury } = env;
        // Prices that do not divide by 10 000: each item rounds its royalty and protocol fee down.
        const prices = [9_999n, 1n, 12_345n, 7n, 10_001n, 333n];
        const ids: bigint[] = [];
        for (const p of prices) {
          await models.connect(modelOwner).updatePrice(1, p);
          const id = (await market.requestCount()) + 1n;
          await market.connect(env.requester).requestInference(1, INPUT, p, await deadlineIn(), ZERO, 0, { value: p });
          ids.push(id);
        }
        const tx = await market.connect(provider).fulfilBatch(
          ids,
          await paramsOfAll(market, ids),
          ids.map(() => OUTPUT),
        );
        const finalized = await eventsOf(env, tx, "RequestFinalized");
        const sum = (k: number) => finalized.reduce((acc, e) => acc + (e.args[k] as bigint), 0n);
        const expected = prices.map((p) => split(p, ETH_ROYALTY_BPS));
        expect(sum(1)).to.equal(expected.reduce((a, s) => a + s.provider, 0n));
        expect(sum(2)).to.equal(expected.reduce((a, s) => a + s.royalty, 0n));
        expect(sum(3)).to.equal(expected.reduce((a, s) => a + s.protocol, 0n));
        expect(await market.balanceOf(provider.address, ZERO)).to.equal(sum(1));
        expect(await market.balanceOf(modelOwner.address, ZERO)).to.equal(sum(2));
        expect(await market.balanceOf(treasury.address, ZERO)).to.equal(sum(3));
        expect(sum(1) + sum(2) + sum(3)).to.equal(prices.reduce((a, p) => a + p, 0n));
        await expectConservation(env);
      });

      it("fulfilBatch: a callback that reverts or burns its gas does not undo the batch or the other callbacks", async () => {
        const env = await networkHelpers.loadFixture(fixture);
        const { market, provider } = env;
        const reverting = await deploy(ethers, "RevertingConsumer");
        const burner = await deploy(ethers, "GasBurnerConsumer");
        await burner.setMode(1);
        const recorder = await deploy(ethers, "GasBurnerConsumer");
        const ids = [
          await requestEth(env, { callback: await reverting.getAddress(), gas: 200_000 }),
          await requestEth(env, { callback: await burner.getAddress(), gas: 300_000 }),
          await requestEth(env, { callback: await recorder.getAddress(), gas: 100_000 }),
        ];
        const tx = await market
          .connect(provider)
          .fulfilBatch(ids, await paramsOfAll(market, ids), [OUTPUT, OUTPUT, OUTPUT], { gasLimit: 2_000_000 });
        await expect(tx).to.emit(market, "CallbackResult").withArgs(ids[0], false);
        await expect(tx).to.emit(market, "CallbackResult").withArgs(ids[1], false);
        await expect(tx).to.emit(market, "CallbackResult").withArgs(ids[2], true);
        expect(await recorder.gasAtEntry()).to.be.gte(100_000n - 500n);
        for (const id of ids) expect(await market.statusOf(id)).to.equal(BigInt(Status.Finalized));
        await expectConservation(env);
      });

      it("fulfilBatch: a provider starving a callback reverts the batch with MarketInsufficientGasForCallback", async () => {
        const env = await networkHelpers.loadFixture(fixture);
        const { market, provider } = env;
        const recorder = await deploy(ethers, "GasBurnerConsumer");
        const ids = [
          await requestEth(env),
          await requestEth(env, { callback: await recorder.getAddress(), gas: 1_000_000 }),
        ];
        await expect(
          market
            .connect(provider)
            .fulfilBatch(ids, await paramsOfAll(market, ids), [OUTPUT, OUTPUT], { gasLimit: 900_000 }),
        ).to.be.revertedWithCustomError(market, "MarketInsufficientGasForCallback");
        expect(await market.statusOf(ids[0]!)).to.equal(BigInt(Status.Pending));
      });

      for (const [attack, name] of [
        [0, "withdraw"],
        [1, "fulfil"],
        [2, "fulfilBatch"],
      ] as const) {
        it(`reentrancy: a callback re-entering ${name} is refused, and it sees balance == escrowed + owed`, async () => {
          const env = await networkHelpers.loadFixture(fixture);
          const { market, provider } = env;
          const c = await deploy(ethers, "FulfilReentrantConsumer", [env.marketAddress]);
          // Twice the price: the excess is the consumer's own credit, there to withdraw.
          await c.request(1, INPUT, ETH_PRICE * 2n, await deadlineIn(), { value: ETH_PRICE * 2n });
          const victim = await requestEth(env);
          await c.setAttack(attack, victim, await paramsOf(market, victim));
          const other = await requestEth(env);
          const tx = await market
            .connect(provider)
            .fulfilBatch([1n, other], await paramsOfAll(market, [1n, other]), [OUTPUT, OUTPUT]);
          await expect(tx).to.emit(market, "CallbackResult").withArgs(1n, true);
          expect(await c.calls()).to.equal(1n);
          expect(await c.reentered()).to.equal(false);
          const guard = market.interface.encodeErrorResult("ReentrancyGuardReentrantCall", []);
          expect(await c.reentryError()).to.equal(guard);
          expect(await c.conservedInCallback()).to.equal(true);
          expect(await market.balanceOf(await c.getAddress(), ZERO)).to.equal(ETH_PRICE);
          expect(await market.statusOf(victim)).to.equal(BigInt(Status.Pending));
          // The same through the single fulfil.
          await c.request(1, INPUT, ETH_PRICE * 2n, await deadlineIn(), { value: ETH_PRICE * 2n });
          const second = await market.requestCount();
          await expect(market.connect(provider).fulfil(second, await paramsOf(market, second), OUTPUT))
            .to.emit(market, "CallbackResult")
            .withArgs(second, true);
          expect(await c.reentered()).to.equal(false);
          expect(await c.reentryError()).to.equal(guard);
          expect(await c.conservedInCallback()).to.equal(true);
          await expectConservation(env);
        });
      }
    });
  });
});
