import type { Signer } from "ethers";
import { attach, type InferenceMarket } from "./connect.ts";
import { DEPLOY_PROFILES } from "./deploy-profiles.ts";
import { deployContract } from "./deploy-suite.ts";
import type { DeployedContract, Deployment } from "./deployment.ts";

export type DeployDisputeGameParameters = {
  /** Smallest ETH bond of a challenge. */
  bondFloor?: bigint | undefined;
  /** Gas price (wei) at which the bond covers the defender's worst-case gas. */
  bondGasPrice?: bigint | undefined;
  /** Slashed from a provider that loses a game (reserved at every Optimistic claim). */
  slashAmount?: bigint | undefined;
  /** Each side's chess clock, in seconds. */
  clockSec?: number | undefined;
  challengerRewardBps?: number | undefined;
  defenderRewardBps?: number | undefined;
  /** Defaults to the deployer. */
  treasury?: string | undefined;
  /** Told of each contract deployed, with what a block explorer's verification needs. */
  onDeployed?: ((contract: DeployedContract) => void) | undefined;
};

/** The `devnet` profile's game parameters (oracle/chain/deploy-profiles.ts). */
export const DEFAULT_DISPUTE_PARAMETERS = {
  bondFloor: DEPLOY_PROFILES.devnet.bondFloor,
  bondGasPrice: DEPLOY_PROFILES.devnet.bondGasPrice,
  slashAmount: DEPLOY_PROFILES.devnet.slashAmount,
  clockSec: DEPLOY_PROFILES.devnet.disputeClockSec,
  challengerRewardBps: DEPLOY_PROFILES.devnet.challengerRewardBps,
  defenderRewardBps: DEPLOY_PROFILES.devnet.defenderRewardBps,
} as const;

/**
 * Deploys the one-step prover and the DisputeGame over a deployed suite and names the game in
 * the market (once). The game needs no role: the market takes the slash out of the provider's
 * reserved stake and sends it to the game. `signer` must be the market's owner. Returns the
 * game's and the prover's addresses.
 */
export async function deployDisputeGame(
  signer: Signer,
  deployment: Deployment,
  parameters: DeployDisputeGameParameters = {},
): Promise<{ game: string; prover: string }> {
  const { bondFloor, bondGasPrice, slashAmount, clockSec, challengerRewardBps, defenderRewardBps } = {
    ...DEFAULT_DISPUTE_PARAMETERS,
    ...Object.fromEntries(Object.entries(parameters).filter(([key, v]) => v !== undefined && key !== "onDeployed")),
  };
  const { contracts } = deployment;
  const prover = await deployContract(signer, "LayerStepProver", [], parameters.onDeployed);
  const game = await deployContract(
    signer,
    "DisputeGame",
    [
      contracts.inferenceMarket,
      contracts.modelRegistry,
      contracts.providerRegistry,
      await prover.getAddress(),
      parameters.treasury ?? (await signer.getAddress()),
      bondFloor,
      bondGasPrice,
      slashAmount,
      clockSec,
      challengerRewardBps,
      defenderRewardBps,
    ],
    parameters.onDeployed,
  );
  const address = await game.getAddress();
  const market = attach<InferenceMarket>("InferenceMarket", contracts.inferenceMarket, signer);
  await (await market.setDisputeGame(address)).wait();
  return { game: address, prover: await prover.getAddress() };
}
