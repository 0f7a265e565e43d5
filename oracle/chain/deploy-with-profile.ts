import type { Signer } from "ethers";
import { BaseError } from "../errors.ts";
import { deployDisputeGame } from "./deploy-dispute-game.ts";
import { deployProfileProblem, type DeployProfile } from "./deploy-profiles.ts";
import { deploySuite } from "./deploy-suite.ts";
import type { DeployedContract, Deployment } from "./deployment.ts";

export type DeployWithProfileParameters = {
  /** Every parameter of the suite and its game (a profile of `DEPLOY_PROFILES`, maybe with overrides). */
  profile: DeployProfile;
  /** Receives the protocol fee and the game's treasury share; defaults to the deployer. */
  treasury?: string | undefined;
};

export type DeployWithProfileReturnType = {
  /** With `deployed`: every contract created, in order, with its constructor arguments. */
  deployment: Deployment;
  game: string;
  prover: string;
};

/**
 * The whole suite from one profile: the registries and the market (named in the provider
 * registry), then the dispute game (named in the market). A profile the game would refuse
 * (`GameParametersUnsafe`) fails before the first transaction.
 */
export async function deployWithProfile(
  signer: Signer,
  { profile, treasury }: DeployWithProfileParameters,
): Promise<DeployWithProfileReturnType> {
  const problem = deployProfileProblem(profile);
  if (problem !== undefined)
    throw new BaseError("These deploy parameters are unsafe: the dispute game would refuse them.", {
      details: [problem, "Lengthen the unbonding delay, or shorten the clock or the longest challenge window."],
    });
  const deployed: DeployedContract[] = [];
  const onDeployed = (contract: DeployedContract) => void deployed.push(contract);
  const deployment = await deploySuite(signer, {
    onDeployed,
    treasury,
    protocolFeeBps: profile.protocolFeeBps,
    minStake: profile.minStake,
    unbondingDelaySec: profile.unbondingDelaySec,
    claimPenalty: profile.claimPenalty,
    minChallengeWindowSec: profile.minChallengeWindowSec,
    maxChallengeWindowSec: profile.maxChallengeWindowSec,
  });
  const { game, prover } = await deployDisputeGame(signer, deployment, {
    bondFloor: profile.bondFloor,
    bondGasPrice: profile.bondGasPrice,
    slashAmount: profile.slashAmount,
    clockSec: profile.disputeClockSec,
    challengerRewardBps: profile.challengerRewardBps,
    defenderRewardBps: profile.defenderRewardBps,
    treasury,
    onDeployed,
  });
  return { deployment: { ...deployment, deployed }, game, prover };
}
