import { expect } from "chai";
import { network } from "hardhat";
import { deploy, MIN_STAKE, signers, UNBONDING_DELAY, ZERO } from "./helpers.ts";

const { ethers, networkHelpers } = await network.create();
const ETH = 10n ** 18n;

/** A registry owned by `admin` with no market named yet. */
async function bare() {
  const [admin, provider, market, other, beneficiary, provider2] = await signers(ethers);
  const providers = await deploy(ethers, "ProviderRegistry", [admin.address, MIN_STAKE, UNBONDING_DELAY]);
  return { admin, provider, market, other, beneficiary, provider2, providers };
}

/** The registry with the `market` account named as its market (it stands in for InferenceMarket,
 *  whose use of these calls test/contracts/InferenceMarket.test.ts covers), and `provider` staked
 *  at 2 ETH serving model 1. */
async function fixture() {
  const env = await bare();
  await env.providers.connect(env.admin).setMarket(env.market.address);
  await env.providers.connect(env.provider).stake({ value: 2n * ETH });
  await env.providers.connect(env.provider).optIn(1);
  return env;
}

describe("ProviderRegistry", () => {
  describe("owner", () => {
    it("constructor: sets owner, minimum stake and delay, and no market", async () => {
      const { admin, providers } = await networkHelpers.loadFixture(bare);
      expect(await providers.owner()).to.equal(admin.address);
      expect(await providers.minStake()).to.equal(MIN_STAKE);
      expect(await providers.unbondingDelay()).to.equal(UNBONDING_DELAY);
      expect(await providers.market()).to.equal(ZERO);
      const deployment = providers.deploymentTransaction()!;
      await expect(deployment).to.emit(providers, "MinStakeUpdated").withArgs(0n, MIN_STAKE);
    });

    it("setMarket: the owner names the market once", async () => {
      const { admin, market, other, providers } = await networkHelpers.loadFixture(bare);
      await expect(providers.connect(admin).setMarket(market.address))
        .to.emit(providers, "MarketSet")
        .withArgs(market.address);
      expect(await providers.market()).to.equal(market.address);
      for (const again of [other.address, market.address])
        await expect(providers.connect(admin).setMarket(again))
          .to.be.revertedWithCustomError(providers, "ProviderMarketAlreadySet")
          .withArgs(market.address);
    });

    it("setMarket: reverts for others and for the zero address", async () => {
      const { admin, market, other, providers } = await networkHelpers.loadFixture(bare);
      await expect(providers.connect(other).setMarket(market.address))
        .to.be.revertedWithCustomError(providers, "OwnableUnauthorizedAccount")
        .withArgs(other.address);
      await expect(providers.connect(admin).setMarket(ZERO)).to.be.revertedWithCustomError(
        providers,
        "ProviderZeroAddress",
      );
      expect(await providers.market()).to.equal(ZERO);
    });

    it("transferOwnership: takes two steps, and only the accepted owner may name the market", async () => {
      const { admin, market, other, providers } = await networkHelpers.loadFixture(bare);
      await providers.connect(admin).transferOwnership(other.address);
      expect(await providers.pendingOwner()).to.equal(other.address);
      await expect(providers.connect(other).setMarket(market.address))
        .to.be.revertedWithCustomError(providers, "OwnableUnauthorizedAccount")
        .withArgs(other.address);
      await providers.connect(other).acceptOwnership();
      await expect(providers.connect(admin).setMarket(market.address))
        .to.be.revertedWithCustomError(providers, "OwnableUnauthorizedAccount")
        .withArgs(admin.address);
      await expect(providers.connect(other).setMarket(market.address)).to.emit(providers, "MarketSet");
    });

    it("setMinStake: reverts for others", async () => {
      const { other, providers } = await networkHelpers.loadFixture(bare);
      await expect(providers.connect(other).setMinStake(1))
        .to.be.revertedWithCustomError(providers, "OwnableUnauthorizedAccount")
        .withArgs(other.address);
    });

    it("reserve, release, completeJob, failJob: revert with ProviderNotMarket for anyone but the market", async () => {
      const { admin, provider, other, providers } = await networkHelpers.loadFixture(fixture);
      for (const caller of [admin, provider, other]) {
        const p = providers.connect(caller);
        for (const call of [
          p.reserve(provider.address, 1, 0),
          p.release(provider.address, 0),
          p.completeJob(provider.address, 0),
          p.failJob(provider.address, 0, 0, caller.address),
        ])
          await expect(call).to.be.revertedWithCustomError(providers, "ProviderNotMarket").withArgs(caller.address);
      }
    });

    it("reserve: reverts with ProviderNotMarket for everyone while no market is named", async () => {
      const { admin, provider, providers } = await networkHelpers.loadFixture(bare);
      await providers.connect(provider).stake({ value: ETH });
      await providers.connect(provider).optIn(1);
      for (const caller of [admin, provider])
        await expect(providers.connect(caller).reserve(provider.address, 1, 1))
          .to.be.revertedWithCustomError(providers, "ProviderNotMarket")
          .withArgs(caller.address);
    });
  });

  describe("staking", () => {
    it("stake: adds to the stake and emits Staked", async () => {
      const { provider, providers } = await networkHelpers.loadFixture(bare);
      await expect(providers.connect(provider).stake({ value: ETH }))
        .to.emit(providers, "Staked")
        .withArgs(provider.address, ETH, ETH);
      await expect(providers.connect(provider).stake({ value: 2n * ETH }))
        .to.emit(providers, "Staked")
        .withArgs(provider.address, 2n * ETH, 3n * ETH);
      expect(await providers.stakeOf(provider.address)).to.equal(3n * ETH);
      expect(await providers.freeStakeOf(provider.address)).to.equal(3n * ETH);
    });

    it("stake: reverts with zero value", async () => {
      const { provider, providers } = await networkHelpers.loadFixture(bare);
      await expect(providers.connect(provider).stake()).to.be.revertedWithCustomError(providers, "ProviderZeroAmount");
    });

    it("isEligible: needs the minimum stake and an opt-in", async () => {
      const { admin, provider, providers } = await networkHelpers.loadFixture(bare);
      expect(await providers.isEligible(provider.address, 1)).to.equal(false);
      await expect(providers.connect(provider).optIn(1)).to.emit(providers, "OptedIn").withArgs(provider.address, 1n);
      expect(await providers.servesModel(provider.address, 1)).to.equal(true);
      expect(await providers.isEligible(provider.address, 1)).to.equal(false);
      await providers.connect(provider).stake({ value: MIN_STAKE });
      expect(await providers.isEligible(provider.address, 1)).to.equal(true);
      expect(await providers.isEligible(provider.address, 2)).to.equal(false);
      await expect(providers.connect(admin).setMinStake(MIN_STAKE + 1n))
        .to.emit(providers, "MinStakeUpdated")
        .withArgs(MIN_STAKE, MIN_STAKE + 1n);
      expect(await providers.isEligible(provider.address, 1)).to.equal(false);
      await providers.connect(admin).setMinStake(MIN_STAKE);
      await expect(providers.connect(provider).optOut(1)).to.emit(providers, "OptedOut").withArgs(provider.address, 1n);
      expect(await providers.isEligible(provider.address, 1)).to.equal(false);
    });

    it("isEligible: reserved stake still counts toward the minimum", async () => {
      const { market, provider, providers } = await networkHelpers.loadFixture(fixture);
      await providers.connect(market).reserve(provider.address, 1, 2n * ETH - MIN_STAKE / 2n);
      expect(await providers.freeStakeOf(provider.address)).to.equal(MIN_STAKE / 2n);
      expect(await providers.isEligible(provider.address, 1)).to.equal(true);
    });

    it("requestUnbond: moves free stake to unbonding and restarts the delay", async () => {
      const { provider, providers } = await networkHelpers.loadFixture(bare);
      await providers.connect(provider).stake({ value: 3n * ETH });
      const t0 = BigInt(await networkHelpers.time.latest());
      await expect(providers.connect(provider).requestUnbond(ETH))
        .to.emit(providers, "UnbondRequested")
        .withArgs(provider.address, ETH, t0 + 1n + UNBONDING_DELAY);
      await networkHelpers.time.increase(100);
      await providers.connect(provider).requestUnbond(ETH);
      const t1 = BigInt(await networkHelpers.time.latest());
      expect(await providers.stakeOf(provider.address)).to.equal(ETH);
      expect(await providers.freeStakeOf(provider.address)).to.equal(ETH);
      expect(await providers.unbondingOf(provider.address)).to.deep.equal([2n * ETH, t1 + UNBONDING_DELAY]);
    });

    it("requestUnbond: reverts for zero and for more than the free stake", async () => {
      const { provider, providers } = await networkHelpers.loadFixture(bare);
      await providers.connect(provider).stake({ value: ETH });
      await expect(providers.connect(provider).requestUnbond(0)).to.be.revertedWithCustomError(
        providers,
        "ProviderZeroAmount",
      );
      await expect(providers.connect(provider).requestUnbond(ETH + 1n))
        .to.be.revertedWithCustomError(providers, "ProviderInsufficientFreeStake")
        .withArgs(provider.address, ETH, ETH + 1n);
    });

    it("requestUnbond: refuses reserved stake until the market releases it", async () => {
      const { market, provider, providers } = await networkHelpers.loadFixture(fixture);
      const reserved = ETH + ETH / 2n;
      await providers.connect(market).reserve(provider.address, 1, reserved);
      await expect(providers.connect(provider).requestUnbond(ETH / 2n + 1n))
        .to.be.revertedWithCustomError(providers, "ProviderInsufficientFreeStake")
        .withArgs(provider.address, ETH / 2n, ETH / 2n + 1n);
      await providers.connect(provider).requestUnbond(ETH / 2n);
      await expect(providers.connect(provider).requestUnbond(1))
        .to.be.revertedWithCustomError(providers, "ProviderInsufficientFreeStake")
        .withArgs(provider.address, 0n, 1n);
      expect(await providers.stakeOf(provider.address)).to.equal(reserved);
      await providers.connect(market).release(provider.address, reserved);
      await providers.connect(provider).requestUnbond(reserved);
      expect(await providers.stakeOf(provider.address)).to.equal(0n);
      expect((await providers.unbondingOf(provider.address))[0]).to.equal(2n * ETH);
    });

    it("withdrawUnbonded: pays out only after the delay", async () => {
      const { provider, providers } = await networkHelpers.loadFixture(bare);
      await expect(providers.connect(provider).withdrawUnbonded())
        .to.be.revertedWithCustomError(providers, "ProviderNothingToWithdraw")
        .withArgs(provider.address);
      await providers.connect(provider).stake({ value: 2n * ETH });
      await providers.connect(provider).requestUnbond(ETH);
      const [, releaseTime] = await providers.unbondingOf(provider.address);
      await expect(providers.connect(provider).withdrawUnbonded())
        .to.be.revertedWithCustomError(providers, "ProviderUnbondingLocked")
        .withArgs(provider.address, releaseTime);
      await networkHelpers.time.increaseTo(releaseTime - 2n); // the next block is at releaseTime - 1
      await expect(providers.connect(provider).withdrawUnbonded()).to.be.revertedWithCustomError(
        providers,
        "ProviderUnbondingLocked",
      );
      await networkHelpers.time.increaseTo(releaseTime - 1n); // the next block is at releaseTime
      const tx = providers.connect(provider).withdrawUnbonded();
      await expect(tx).to.emit(providers, "UnbondedWithdrawn").withArgs(provider.address, ETH);
      await expect(tx).to.changeEtherBalances(ethers, [provider, providers], [ETH, -ETH]);
      expect(await providers.unbondingOf(provider.address)).to.deep.equal([0n, 0n]);
      expect(await providers.stakeOf(provider.address)).to.equal(ETH);
      await expect(providers.connect(provider).withdrawUnbonded())
        .to.be.revertedWithCustomError(providers, "ProviderNothingToWithdraw")
        .withArgs(provider.address);
    });

    it("withdrawUnbonded: pays the unbonded stake while the reserved stake stays behind", async () => {
      const { market, provider, providers } = await networkHelpers.loadFixture(fixture);
      await providers.connect(market).reserve(provider.address, 1, ETH / 2n);
      await providers.connect(provider).requestUnbond(ETH + ETH / 2n);
      await networkHelpers.time.increase(UNBONDING_DELAY);
      await expect(providers.connect(provider).withdrawUnbonded()).to.changeEtherBalances(
        ethers,
        [provider, providers],
        [ETH + ETH / 2n, -(ETH + ETH / 2n)],
      );
      expect(await providers.stakeOf(provider.address)).to.equal(ETH / 2n);
      expect(await providers.reservedOf(provider.address)).to.equal(ETH / 2n);
      expect(await ethers.provider.getBalance(await providers.getAddress())).to.equal(ETH / 2n);
    });

    it("withdrawUnbonded: a re-entrant provider contract is paid once and cannot unbond reserved stake", async () => {
      const { market, providers } = await networkHelpers.loadFixture(fixture);
      const attacker = await deploy(ethers, "ReentrantProvider", [await providers.getAddress()]);
      const a = await attacker.getAddress();
      await attacker.stake({ value: 3n * ETH });
      await attacker.optIn(1);
      await providers.connect(market).reserve(a, 1, ETH);
      await attacker.requestUnbond(ETH);
      await networkHelpers.time.increase(UNBONDING_DELAY);
      await expect(attacker.withdrawUnbonded()).to.changeEtherBalances(ethers, [attacker, providers], [ETH, -ETH]);
      expect(await attacker.received()).to.equal(ETH);
      expect(await attacker.reentered()).to.equal(true);
      expect(await attacker.withdrawError()).to.equal(
        providers.interface.getError("ReentrancyGuardReentrantCall")!.selector,
      );
      expect(await attacker.unbondError()).to.equal(
        providers.interface.encodeErrorResult("ProviderInsufficientFreeStake", [a, ETH, ETH + 1n]),
      );
      expect(await providers.stakeOf(a)).to.equal(2n * ETH);
      expect(await providers.reservedOf(a)).to.equal(ETH);
      expect(await providers.unbondingOf(a)).to.deep.equal([0n, 0n]);
    });
  });

  describe("market", () => {
    it("reserve: reserves free stake and emits StakeReserved", async () => {
      const { market, provider, providers } = await networkHelpers.loadFixture(fixture);
      const before = await ethers.provider.getBalance(await providers.getAddress());
      await expect(providers.connect(market).reserve(provider.address, 1, ETH / 2n))
        .to.emit(providers, "StakeReserved")
        .withArgs(provider.address, ETH / 2n, ETH / 2n);
      await expect(providers.connect(market).reserve(provider.address, 1, (ETH * 7n) / 10n))
        .to.emit(providers, "StakeReserved")
        .withArgs(provider.address, (ETH * 7n) / 10n, (ETH * 12n) / 10n);
      expect(await providers.reservedOf(provider.address)).to.equal((ETH * 12n) / 10n);
      expect(await providers.freeStakeOf(provider.address)).to.equal((ETH * 8n) / 10n);
      expect(await providers.stakeOf(provider.address)).to.equal(2n * ETH);
      expect(await ethers.provider.getBalance(await providers.getAddress())).to.equal(before);
    });

    it("reserve: takes all the free stake, and not one wei more", async () => {
      const { market, provider, providers } = await networkHelpers.loadFixture(fixture);
      await expect(providers.connect(market).reserve(provider.address, 1, 2n * ETH + 1n))
        .to.be.revertedWithCustomError(providers, "ProviderInsufficientFreeStake")
        .withArgs(provider.address, 2n * ETH, 2n * ETH + 1n);
      await providers.connect(market).reserve(provider.address, 1, 2n * ETH);
      await expect(providers.connect(market).reserve(provider.address, 1, 1))
        .to.be.revertedWithCustomError(providers, "ProviderInsufficientFreeStake")
        .withArgs(provider.address, 0n, 1n);
      await providers.connect(provider).stake({ value: 1 });
      await expect(providers.connect(market).reserve(provider.address, 1, 1))
        .to.emit(providers, "StakeReserved")
        .withArgs(provider.address, 1n, 2n * ETH + 1n);
    });

    it("reserve: reverts with ProviderNotEligible unless the provider serves the model at the minimum stake", async () => {
      const { admin, market, provider, provider2, providers } = await networkHelpers.loadFixture(fixture);
      await expect(providers.connect(market).reserve(provider.address, 2, 0))
        .to.be.revertedWithCustomError(providers, "ProviderNotEligible")
        .withArgs(provider.address, 2n);
      await providers.connect(provider2).optIn(1);
      await expect(providers.connect(market).reserve(provider2.address, 1, 0))
        .to.be.revertedWithCustomError(providers, "ProviderNotEligible")
        .withArgs(provider2.address, 1n);
      await providers.connect(provider2).stake({ value: MIN_STAKE - 1n });
      await expect(providers.connect(market).reserve(provider2.address, 1, 1))
        .to.be.revertedWithCustomError(providers, "ProviderNotEligible")
        .withArgs(provider2.address, 1n);
      await providers.connect(admin).setMinStake(2n * ETH + 1n);
      await expect(providers.connect(market).reserve(provider.address, 1, 1))
        .to.be.revertedWithCustomError(providers, "ProviderNotEligible")
        .withArgs(provider.address, 1n);
      await providers.connect(provider).optOut(1);
      await providers.connect(admin).setMinStake(MIN_STAKE);
      await expect(providers.connect(market).reserve(provider.address, 1, 1))
        .to.be.revertedWithCustomError(providers, "ProviderNotEligible")
        .withArgs(provider.address, 1n);
    });

    it("reserve: a zero amount only checks eligibility", async () => {
      const { market, provider, providers } = await networkHelpers.loadFixture(fixture);
      await providers.connect(market).reserve(provider.address, 1, 2n * ETH);
      await expect(providers.connect(market).reserve(provider.address, 1, 0)).not.to.emit(providers, "StakeReserved");
      expect(await providers.reservedOf(provider.address)).to.equal(2n * ETH);
    });

    it("release: ends a reservation without touching stake or stats", async () => {
      const { market, provider, providers } = await networkHelpers.loadFixture(fixture);
      await providers.connect(market).reserve(provider.address, 1, ETH);
      await expect(providers.connect(market).release(provider.address, ETH / 4n))
        .to.emit(providers, "StakeReleased")
        .withArgs(provider.address, ETH / 4n, (ETH * 3n) / 4n);
      await expect(providers.connect(market).release(provider.address, 0)).not.to.emit(providers, "StakeReleased");
      expect(await providers.reservedOf(provider.address)).to.equal((ETH * 3n) / 4n);
      expect(await providers.stakeOf(provider.address)).to.equal(2n * ETH);
      expect(await providers.statsOf(provider.address)).to.deep.equal([0n, 0n, 0n]);
    });

    it("release, completeJob, failJob: revert with ProviderReservationInvalid for more than is reserved", async () => {
      const { market, provider, provider2, beneficiary, providers } = await networkHelpers.loadFixture(fixture);
      await providers.connect(market).reserve(provider.address, 1, ETH);
      const m = providers.connect(market);
      for (const call of [
        m.release(provider.address, ETH + 1n),
        m.completeJob(provider.address, ETH + 1n),
        m.failJob(provider.address, ETH + 1n, 0, beneficiary.address),
      ])
        await expect(call)
          .to.be.revertedWithCustomError(providers, "ProviderReservationInvalid")
          .withArgs(provider.address, ETH + 1n, ETH);
      // Nothing reserved for another provider: its stake cannot be released or slashed through ours.
      await providers.connect(provider2).stake({ value: ETH });
      await expect(m.failJob(provider2.address, 1, 1, beneficiary.address))
        .to.be.revertedWithCustomError(providers, "ProviderReservationInvalid")
        .withArgs(provider2.address, 1n, 0n);
      expect(await providers.reservedOf(provider.address)).to.equal(ETH);
      expect(await providers.stakeOf(provider2.address)).to.equal(ETH);
    });

    it("completeJob: releases the reservation and counts a served job", async () => {
      const { market, provider, providers } = await networkHelpers.loadFixture(fixture);
      await providers.connect(market).reserve(provider.address, 1, ETH);
      const tx = providers.connect(market).completeJob(provider.address, ETH);
      await expect(tx).to.emit(providers, "StakeReleased").withArgs(provider.address, ETH, 0n);
      await expect(tx).to.emit(providers, "JobRecorded").withArgs(provider.address, true);
      await expect(providers.connect(market).completeJob(provider.address, 0))
        .to.emit(providers, "JobRecorded")
        .withArgs(provider.address, true);
      expect(await providers.statsOf(provider.address)).to.deep.equal([2n, 0n, 0n]);
      expect(await providers.reservedOf(provider.address)).to.equal(0n);
      expect(await providers.stakeOf(provider.address)).to.equal(2n * ETH);
    });

    it("failJob: releases the reservation, counts a failure and sends the slash to `to`", async () => {
      const { market, provider, beneficiary, providers } = await networkHelpers.loadFixture(fixture);
      await providers.connect(market).reserve(provider.address, 1, ETH);
      const slash = (ETH * 4n) / 10n;
      const tx = providers.connect(market).failJob(provider.address, ETH, slash, beneficiary.address);
      await expect(tx).to.emit(providers, "StakeReleased").withArgs(provider.address, ETH, 0n);
      await expect(tx).to.emit(providers, "JobRecorded").withArgs(provider.address, false);
      await expect(tx).to.emit(providers, "Slashed").withArgs(provider.address, beneficiary.address, slash);
      await expect(tx).to.changeEtherBalances(ethers, [beneficiary, providers, market], [slash, -slash, 0n]);
      expect(await providers.stakeOf(provider.address)).to.equal(2n * ETH - slash);
      expect(await providers.reservedOf(provider.address)).to.equal(0n);
      expect(await providers.freeStakeOf(provider.address)).to.equal(2n * ETH - slash);
      expect(await providers.statsOf(provider.address)).to.deep.equal([0n, 1n, 1n]);
    });

    it("failJob: a partial release keeps the rest reserved", async () => {
      const { market, provider, beneficiary, providers } = await networkHelpers.loadFixture(fixture);
      await providers.connect(market).reserve(provider.address, 1, 2n * ETH);
      await providers.connect(market).failJob(provider.address, ETH, ETH, beneficiary.address);
      expect(await providers.stakeOf(provider.address)).to.equal(ETH);
      expect(await providers.reservedOf(provider.address)).to.equal(ETH);
      expect(await providers.freeStakeOf(provider.address)).to.equal(0n);
    });

    it("failJob: a zero slash counts the failure without a Slashed event or a transfer", async () => {
      const { market, provider, beneficiary, providers } = await networkHelpers.loadFixture(fixture);
      await providers.connect(market).reserve(provider.address, 1, ETH);
      const tx = providers.connect(market).failJob(provider.address, ETH, 0, beneficiary.address);
      await expect(tx).to.emit(providers, "JobRecorded").withArgs(provider.address, false);
      await expect(tx).not.to.emit(providers, "Slashed");
      await expect(tx).to.changeEtherBalances(ethers, [beneficiary, providers], [0n, 0n]);
      expect(await providers.statsOf(provider.address)).to.deep.equal([0n, 1n, 0n]);
      expect(await providers.stakeOf(provider.address)).to.equal(2n * ETH);
    });

    it("failJob: reverts with ProviderReservationInvalid when the slash exceeds the amount released", async () => {
      const { market, provider, beneficiary, providers } = await networkHelpers.loadFixture(fixture);
      await providers.connect(market).reserve(provider.address, 1, 2n * ETH);
      await expect(providers.connect(market).failJob(provider.address, ETH, ETH + 1n, beneficiary.address))
        .to.be.revertedWithCustomError(providers, "ProviderReservationInvalid")
        .withArgs(provider.address, ETH + 1n, ETH);
    });

    it("failJob: takes the slash from active stake while the provider unbonds everything else", async () => {
      const { market, provider, beneficiary, providers } = await networkHelpers.loadFixture(fixture);
      await providers.connect(market).reserve(provider.address, 1, ETH / 2n);
      await providers.connect(provider).requestUnbond(ETH + ETH / 2n); // all the free stake
      await networkHelpers.time.increase(UNBONDING_DELAY / 2n);
      await expect(
        providers.connect(market).failJob(provider.address, ETH / 2n, ETH / 2n, beneficiary.address),
      ).to.changeEtherBalance(ethers, beneficiary, ETH / 2n);
      expect(await providers.stakeOf(provider.address)).to.equal(0n);
      expect((await providers.unbondingOf(provider.address))[0]).to.equal(ETH + ETH / 2n);
      await networkHelpers.time.increase(UNBONDING_DELAY);
      await expect(providers.connect(provider).withdrawUnbonded())
        .to.emit(providers, "UnbondedWithdrawn")
        .withArgs(provider.address, ETH + ETH / 2n);
      expect(await ethers.provider.getBalance(await providers.getAddress())).to.equal(0n);
    });

    it("failJob: reverts with ProviderTransferFailed when `to` takes no ETH, and changes nothing", async () => {
      const { market, provider, providers } = await networkHelpers.loadFixture(fixture);
      const sink = await deploy(ethers, "RevertingConsumer");
      await providers.connect(market).reserve(provider.address, 1, ETH);
      await expect(providers.connect(market).failJob(provider.address, ETH, ETH, await sink.getAddress()))
        .to.be.revertedWithCustomError(providers, "ProviderTransferFailed")
        .withArgs(await sink.getAddress());
      expect(await providers.stakeOf(provider.address)).to.equal(2n * ETH);
      expect(await providers.reservedOf(provider.address)).to.equal(ETH);
      expect(await providers.statsOf(provider.address)).to.deep.equal([0n, 0n, 0n]);
    });
  });
});
