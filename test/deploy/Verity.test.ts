import { expect } from "chai";
import { network } from "hardhat";
import VerityModule, { VERITY_DEFAULTS } from "../../deploy/modules/Verity.ts";
import type {
  DisputeGame,
  InferenceMarket,
  ModelRegistry,
  ProviderRegistry,
} from "../../types/ethers-contracts/index.ts";

// The default network is EDR-simulated: Ignition keeps no journal for it, so nothing is written to
// deploy/deployments/.
const { ethers, ignition, networkHelpers } = await network.create();

async function deployDefaults() {
  const deployed = await ignition.deploy(VerityModule);
  return {
    models: deployed.modelRegistry as unknown as ModelRegistry,
    providers: deployed.providerRegistry as unknown as ProviderRegistry,
    market: deployed.inferenceMarket as unknown as InferenceMarket,
    game: deployed.disputeGame as unknown as DisputeGame,
  };
}

describe("deploy/modules/Verity", () => {
  it("deploy: wires the market to both registries with the default parameters", async () => {
    const [deployer] = await ethers.getSigners();
    const { models, providers, market } = await networkHelpers.loadFixture(deployDefaults);
    expect(await market.modelRegistry()).to.equal(await models.getAddress());
    expect(await market.providerRegistry()).to.equal(await providers.getAddress());
    expect(await market.owner()).to.equal(deployer!.address);
    expect(await market.protocolFee()).to.deep.equal([VERITY_DEFAULTS.protocolFeeBps, deployer!.address]);
    expect(await market.claimPenalty()).to.equal(VERITY_DEFAULTS.claimPenalty);
    expect(await providers.minStake()).to.equal(VERITY_DEFAULTS.minStake);
    expect(await providers.unbondingDelay()).to.equal(VERITY_DEFAULTS.unbondingDelay);
    expect(await models.modelCount()).to.equal(0n);
  });

  it("deploy: grants the market SLASHER_ROLE and RECORDER_ROLE, and the deployer the admin role", async () => {
    const [deployer] = await ethers.getSigners();
    const { providers, market } = await networkHelpers.loadFixture(deployDefaults);
    const marketAddress = await market.getAddress();
    expect(await providers.hasRole(await providers.SLASHER_ROLE(), marketAddress)).to.equal(true);
    expect(await providers.hasRole(await providers.RECORDER_ROLE(), marketAddress)).to.equal(true);
    expect(await providers.hasRole(await providers.DEFAULT_ADMIN_ROLE(), marketAddress)).to.equal(false);
    expect(await providers.hasRole(await providers.DEFAULT_ADMIN_ROLE(), deployer!.address)).to.equal(true);
  });

  it("deploy: sets the dispute game on the market and lets it slash", async () => {
    const { providers, market, game } = await networkHelpers.loadFixture(deployDefaults);
    const gameAddress = await game.getAddress();
    expect(await market.disputeGame()).to.equal(gameAddress);
    expect(await providers.hasRole(await providers.SLASHER_ROLE(), gameAddress)).to.equal(true);
    expect(await providers.hasRole(await providers.RECORDER_ROLE(), gameAddress)).to.equal(false);
  });

  it("deploy: applies the given parameters", async () => {
    const [deployer, treasury] = await ethers.getSigners();
    const { inferenceMarket, providerRegistry } = await ignition.deploy(VerityModule, {
      parameters: {
        Verity: {
          treasury: treasury!.address,
          protocolFeeBps: 1000n,
          minStake: 3n * 10n ** 18n,
          unbondingDelay: 3600n,
          claimPenalty: 7n,
        },
      },
    });
    const market = inferenceMarket as unknown as InferenceMarket;
    const providers = providerRegistry as unknown as ProviderRegistry;
    expect(await market.owner()).to.equal(deployer!.address);
    expect(await market.protocolFee()).to.deep.equal([1000n, treasury!.address]);
    expect(await market.claimPenalty()).to.equal(7n);
    expect(await providers.minStake()).to.equal(3n * 10n ** 18n);
    expect(await providers.unbondingDelay()).to.equal(3600n);
    expect(await providers.hasRole(await providers.SLASHER_ROLE(), await market.getAddress())).to.equal(true);
  });
});
