import path from "node:path";
import { expect } from "chai";
import { network } from "hardhat";
import { readDeploymentParameters } from "@nomicfoundation/hardhat-ignition/helpers";
import VerityModule, { VERITY_DEFAULTS } from "../../deploy/modules/Verity.ts";
import { DEPLOY_PROFILES, type DeployProfile } from "../../oracle/chain/deploy-profiles.ts";
import type {
  DisputeGame,
  IAgentRegistry,
  InferenceMarket,
  IValidationRegistry,
  ModelRegistry,
  ProviderRegistry,
} from "../../types/ethers-contracts/index.ts";

// The default network is EDR-simulated: Ignition keeps no journal for it, so nothing is written to
// deploy/deployments/.
const { ethers, ignition, networkHelpers } = await network.create();

const parametersFile = (name: string) => path.resolve(import.meta.dirname, `../../deploy/parameters/${name}.json`);

type Deployed = Record<"modelRegistry" | "providerRegistry" | "inferenceMarket" | "disputeGame", unknown>;

function typed(deployed: Deployed) {
  return {
    models: deployed.modelRegistry as unknown as ModelRegistry,
    providers: deployed.providerRegistry as unknown as ProviderRegistry,
    market: deployed.inferenceMarket as unknown as InferenceMarket,
    game: deployed.disputeGame as unknown as DisputeGame,
  };
}

async function deployDefaults() {
  return typed(await ignition.deploy(VerityModule));
}

/** Every parameter of `profile` is what the deployed contracts hold. */
async function expectProfile({ models, providers, market, game }: ReturnType<typeof typed>, profile: DeployProfile) {
  const [fee] = await market.protocolFee();
  expect(fee).to.equal(BigInt(profile.protocolFeeBps));
  expect(await market.claimPenalty()).to.equal(profile.claimPenalty);
  expect(await providers.minStake()).to.equal(profile.minStake);
  expect(await providers.unbondingDelay()).to.equal(profile.unbondingDelaySec);
  expect(await models.challengeWindowBounds()).to.deep.equal([
    BigInt(profile.minChallengeWindowSec),
    BigInt(profile.maxChallengeWindowSec),
  ]);
  const parameters = await game.parameters();
  expect(parameters.bondFloor).to.equal(profile.bondFloor);
  expect(parameters.bondGasPrice).to.equal(profile.bondGasPrice);
  expect(parameters.slash).to.equal(profile.slashAmount);
  expect(parameters.clock).to.equal(BigInt(profile.disputeClockSec));
  expect(parameters.challengerRewardBps).to.equal(BigInt(profile.challengerRewardBps));
  expect(parameters.defenderRewardBps).to.equal(BigInt(profile.defenderRewardBps));
  expect(await game.maxDuration()).to.equal(2n * BigInt(profile.disputeClockSec));
}

describe("deploy/modules/Verity", () => {
  it("deploy: wires the market to both registries, and is owned by the deployer", async () => {
    const [deployer] = await ethers.getSigners();
    const { models, providers, market } = await networkHelpers.loadFixture(deployDefaults);
    expect(await market.modelRegistry()).to.equal(await models.getAddress());
    expect(await market.providerRegistry()).to.equal(await providers.getAddress());
    expect(await market.owner()).to.equal(deployer!.address);
    expect(await providers.owner()).to.equal(deployer!.address);
    expect((await market.protocolFee())[1]).to.equal(deployer!.address);
    expect(await models.modelCount()).to.equal(0n);
  });

  it("deploy: names the market in the provider registry and the game in the market (no roles)", async () => {
    const { providers, market, game } = await networkHelpers.loadFixture(deployDefaults);
    expect(await providers.market()).to.equal(await market.getAddress());
    expect(await market.disputeGame()).to.equal(await game.getAddress());
    expect((await game.parameters()).treasury).to.equal((await market.protocolFee())[1]);
    // The market read the game's slash: an Optimistic claim reserves at least that much.
    expect(await market.reservationOf(2)).to.equal(VERITY_DEFAULTS.slashAmount);
  });

  it("deploy: the agent contracts over the market (registry with its account implementation, validation registry, validator)", async () => {
    const deployed = (await ignition.deploy(VerityModule)) as unknown as Record<
      string,
      { getAddress(): Promise<string> }
    >;
    const registry = deployed.agentRegistry as unknown as IAgentRegistry;
    const validation = deployed.validationRegistry as unknown as IValidationRegistry;
    expect(await registry.market()).to.equal(await deployed.inferenceMarket!.getAddress());
    expect(await registry.accountImplementation()).to.equal(await deployed.agentAccount!.getAddress());
    expect(await validation.getIdentityRegistry()).to.equal(await registry.getAddress());
    const validator = await deployed.verityValidator!.getAddress();
    expect(await ethers.provider.getCode(validator)).to.not.equal("0x");
  });

  it("deploy: without parameters, every value is the devnet profile's", async () => {
    expect(VERITY_DEFAULTS).to.deep.equal(DEPLOY_PROFILES.devnet);
    await expectProfile(await networkHelpers.loadFixture(deployDefaults), DEPLOY_PROFILES.devnet);
  });

  it("deploy: with deploy/parameters/testnet.json, every value is the testnet profile's", async () => {
    const parameters = await readDeploymentParameters(parametersFile("testnet"));
    const deployed = typed(await ignition.deploy(VerityModule, { parameters }));
    await expectProfile(deployed, DEPLOY_PROFILES.testnet);
    expect(await deployed.providers.market()).to.equal(await deployed.market.getAddress());
    expect(await deployed.market.disputeGame()).to.equal(await deployed.game.getAddress());
  });

  it("deploy: applies a given treasury and parameters", async () => {
    const [deployer, treasury] = await ethers.getSigners();
    const deployed = typed(
      await ignition.deploy(VerityModule, {
        parameters: {
          Verity: {
            treasury: treasury!.address,
            protocolFeeBps: 1000,
            minStake: 3n * 10n ** 18n,
            unbondingDelaySec: 8000n,
            claimPenalty: 7n,
            maxChallengeWindowSec: 3600,
            disputeClockSec: 2000,
          },
        },
      }),
    );
    expect(await deployed.market.owner()).to.equal(deployer!.address);
    expect(await deployed.market.protocolFee()).to.deep.equal([1000n, treasury!.address]);
    expect(await deployed.market.claimPenalty()).to.equal(7n);
    expect(await deployed.providers.minStake()).to.equal(3n * 10n ** 18n);
    expect(await deployed.providers.unbondingDelay()).to.equal(8000n);
    expect((await deployed.game.parameters()).treasury).to.equal(treasury!.address);
    expect(await deployed.providers.market()).to.equal(await deployed.market.getAddress());
  });
});
