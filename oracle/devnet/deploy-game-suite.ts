import type { HardhatEthers, HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { deployDisputeGame } from "../chain/deploy-dispute-game.ts";
import { deploySuite } from "../chain/deploy-suite.ts";
import type * as Contracts from "../../types/ethers-contracts/index.ts";

export type GameSuiteParameters = {
  minStake: bigint;
  /** The exact bond (the game's bond floor, with a bond gas price of 0 unless `bondGasPrice` is given). */
  bond: bigint;
  slash: bigint;
  clockSec: number;
  bondGasPrice?: bigint | undefined;
  claimPenalty?: bigint | undefined;
};

/**
 * The suite and its dispute game on an in-process Hardhat network, deployed by the same code as
 * `verity deploy`, with the given stake, bond and clock, no claim penalty (unless given),
 * challenge windows of 1 s to 1 day, and typed contracts run by `admin`: for tests and gas
 * benchmarks of the game.
 */
export async function deployGameSuite(
  ethers: HardhatEthers,
  admin: HardhatEthersSigner,
  treasury: HardhatEthersSigner,
  { minStake, bond, slash, clockSec, bondGasPrice = 0n, claimPenalty = 0n }: GameSuiteParameters,
) {
  const deployment = await deploySuite(admin, {
    treasury: treasury.address,
    protocolFeeBps: 250,
    minStake,
    unbondingDelaySec: 7n * 86400n,
    claimPenalty,
    minChallengeWindowSec: 1,
    maxChallengeWindowSec: 86400,
  });
  const { game, prover } = await deployDisputeGame(admin, deployment, {
    bondFloor: bond,
    bondGasPrice,
    slashAmount: slash,
    clockSec,
    treasury: treasury.address,
  });
  const at = async <T>(name: string, address: string) =>
    (await ethers.getContractAt(name, address, admin)) as unknown as T;
  const { contracts } = deployment;
  return {
    models: await at<Contracts.ModelRegistry>("ModelRegistry", contracts.modelRegistry),
    providers: await at<Contracts.ProviderRegistry>("ProviderRegistry", contracts.providerRegistry),
    market: await at<Contracts.InferenceMarket>("InferenceMarket", contracts.inferenceMarket),
    game: await at<Contracts.DisputeGame>("DisputeGame", game),
    prover: await at<Contracts.LayerStepProver>("LayerStepProver", prover),
  };
}
