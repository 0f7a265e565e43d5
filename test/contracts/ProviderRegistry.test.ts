import { expect } from "chai";
import { network } from "hardhat";
import { deploy, MIN_STAKE, signers, UNBONDING_DELAY } from "./helpers.ts";

const { ethers, networkHelpers } = await network.create();
const ETH = 10n ** 18n;

async function fixture() {
  const [admin, provider, slasher, recorder, other] = await signers(ethers);
  const providers = await deploy(ethers, "ProviderRegistry", [admin.address, MIN_STAKE, UNBONDING_DELAY]);
  await providers.grantRole(await providers.SLASHER_ROLE(), slasher.address);
  await providers.grantRole(await providers.RECORDER_ROLE(), recorder.address);
  return { admin, provider, slasher, recorder, other, providers };
}

describe("ProviderRegistry", () => {
  it("constructor: sets admin, minimum stake and delay", async () => {
    const { admin, providers } = await networkHelpers.loadFixture(fixture);
    expect(await providers.hasRole(await providers.DEFAULT_ADMIN_ROLE(), admin.address)).to.equal(true);
    expect(await providers.minStake()).to.equal(MIN_STAKE);
    expect(await providers.unbondingDelay()).to.equal(UNBONDING_DELAY);
  });

  it("stake: adds to the stake and emits Staked", async () => {
    const { provider, providers } = await networkHelpers.loadFixture(fixture);
    await expect(providers.connect(provider).stake({ value: ETH }))
      .to.emit(providers, "Staked")
      .withArgs(provider.address, ETH, ETH);
    await expect(providers.connect(provider).stake({ value: 2n * ETH }))
      .to.emit(providers, "Staked")
      .withArgs(provider.address, 2n * ETH, 3n * ETH);
    expect(await providers.stakeOf(provider.address)).to.equal(3n * ETH);
  });

  it("stake: reverts with zero value", async () => {
    const { provider, providers } = await networkHelpers.loadFixture(fixture);
    await expect(providers.connect(provider).stake()).to.be.revertedWithCustomError(providers, "ProviderZeroAmount");
  });

  it("isEligible: needs the minimum stake and an opt-in", async () => {
    const { admin, provider, providers } = await networkHelpers.loadFixture(fixture);
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

  it("setMinStake: reverts for non-admins", async () => {
    const { other, providers } = await networkHelpers.loadFixture(fixture);
    await expect(providers.connect(other).setMinStake(1))
      .to.be.revertedWithCustomError(providers, "AccessControlUnauthorizedAccount")
      .withArgs(other.address, await providers.DEFAULT_ADMIN_ROLE());
  });

  it("requestUnbond: moves stake to unbonding and restarts the delay", async () => {
    const { provider, providers } = await networkHelpers.loadFixture(fixture);
    await providers.connect(provider).stake({ value: 3n * ETH });
    const t0 = BigInt(await networkHelpers.time.latest());
    await expect(providers.connect(provider).requestUnbond(ETH))
      .to.emit(providers, "UnbondRequested")
      .withArgs(provider.address, ETH, t0 + 1n + UNBONDING_DELAY);
    await networkHelpers.time.increase(100);
    await providers.connect(provider).requestUnbond(ETH);
    const t1 = BigInt(await networkHelpers.time.latest());
    expect(await providers.stakeOf(provider.address)).to.equal(ETH);
    expect(await providers.unbondingOf(provider.address)).to.deep.equal([2n * ETH, t1 + UNBONDING_DELAY]);
  });

  it("requestUnbond: reverts for zero and for more than the stake", async () => {
    const { provider, providers } = await networkHelpers.loadFixture(fixture);
    await providers.connect(provider).stake({ value: ETH });
    await expect(providers.connect(provider).requestUnbond(0)).to.be.revertedWithCustomError(
      providers,
      "ProviderZeroAmount",
    );
    await expect(providers.connect(provider).requestUnbond(ETH + 1n))
      .to.be.revertedWithCustomError(providers, "ProviderInsufficientStake")
      .withArgs(provider.address, ETH, ETH + 1n);
  });

  it("withdrawUnbonded: pays out only after the delay", async () => {
    const { provider, providers } = await networkHelpers.loadFixture(fixture);
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
  });

  it("slash: takes active stake first, then unbonding, and sends it to the slasher", async () => {
    const { provider, slasher, providers } = await networkHelpers.loadFixture(fixture);
    await providers.connect(provider).stake({ value: 2n * ETH });
    await providers.connect(provider).requestUnbond(ETH + ETH / 2n); // active 0.5, unbonding 1.5
    const tx = providers.connect(slasher).slash(provider.address, ETH);
    await expect(tx).to.emit(providers, "Slashed").withArgs(provider.address, slasher.address, ETH);
    await expect(tx).to.changeEtherBalances(ethers, [slasher, providers], [ETH, -ETH]);
    expect(await providers.stakeOf(provider.address)).to.equal(0n);
    expect((await providers.unbondingOf(provider.address))[0]).to.equal(ETH);
    expect((await providers.statsOf(provider.address))[2]).to.equal(1n);
  });

  it("slash: takes at most what there is, and counts a slash of nothing", async () => {
    const { provider, slasher, providers } = await networkHelpers.loadFixture(fixture);
    await providers.connect(provider).stake({ value: ETH });
    await providers.connect(provider).requestUnbond(ETH / 4n);
    expect(await providers.connect(slasher).slash.staticCall(provider.address, 5n * ETH)).to.equal(ETH);
    await expect(providers.connect(slasher).slash(provider.address, 5n * ETH)).to.changeEtherBalance(
      ethers,
      slasher,
      ETH,
    );
    expect(await providers.stakeOf(provider.address)).to.equal(0n);
    expect((await providers.unbondingOf(provider.address))[0]).to.equal(0n);
    await expect(providers.connect(slasher).slash(provider.address, ETH))
      .to.emit(providers, "Slashed")
      .withArgs(provider.address, slasher.address, 0n);
    expect((await providers.statsOf(provider.address))[2]).to.equal(2n);
  });

  it("slash: slashes unbonding stake during the delay", async () => {
    const { provider, slasher, providers } = await networkHelpers.loadFixture(fixture);
    await providers.connect(provider).stake({ value: ETH });
    await providers.connect(provider).requestUnbond(ETH);
    await networkHelpers.time.increase(UNBONDING_DELAY / 2n);
    await providers.connect(slasher).slash(provider.address, ETH / 4n);
    await networkHelpers.time.increase(UNBONDING_DELAY);
    await expect(providers.connect(provider).withdrawUnbonded())
      .to.emit(providers, "UnbondedWithdrawn")
      .withArgs(provider.address, (ETH * 3n) / 4n);
  });

  it("slash: reverts for accounts without the slasher role and for zero", async () => {
    const { provider, slasher, recorder, providers } = await networkHelpers.loadFixture(fixture);
    await expect(providers.connect(recorder).slash(provider.address, 1))
      .to.be.revertedWithCustomError(providers, "AccessControlUnauthorizedAccount")
      .withArgs(recorder.address, await providers.SLASHER_ROLE());
    await expect(providers.connect(slasher).slash(provider.address, 0)).to.be.revertedWithCustomError(
      providers,
      "ProviderZeroAmount",
    );
  });

  it("recordJob: counts served and failed jobs", async () => {
    const { provider, recorder, providers } = await networkHelpers.loadFixture(fixture);
    await expect(providers.connect(recorder).recordJob(provider.address, true))
      .to.emit(providers, "JobRecorded")
      .withArgs(provider.address, true);
    await providers.connect(recorder).recordJob(provider.address, true);
    await providers.connect(recorder).recordJob(provider.address, false);
    expect(await providers.statsOf(provider.address)).to.deep.equal([2n, 1n, 0n]);
  });

  it("recordJob: reverts for accounts without the recorder role", async () => {
    const { provider, slasher, providers } = await networkHelpers.loadFixture(fixture);
    await expect(providers.connect(slasher).recordJob(provider.address, true))
      .to.be.revertedWithCustomError(providers, "AccessControlUnauthorizedAccount")
      .withArgs(slasher.address, await providers.RECORDER_ROLE());
  });
});
