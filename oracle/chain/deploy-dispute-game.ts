import { parseEther, type Signer } from "ethers";
import { attach, type InferenceMarket, type ProviderRegistry } from "./connect.ts";
import { deployContract } from "./deploy-suite.ts";
import type { Deployment } from "./deployment.ts";

export type DeployDisputeGameParameters = {
  /** Exact ETH bond of a challenge. */
  bond?: bigint | undefined;
  /** Slashed from a provider that loses a game. */
  slashAmount?: bigint | undefined;
  /** Each side's chess clock, in seconds. */
  clockSec?: number | undefined;
  challengerRewardBps?: number | undefined;
  defenderRewardBps?: number | undefined;
  /** Defaults to the deployer. */
  treasury?: string | undefined;
};

export const DEFAULT_DISPUTE_PARAMETERS = {
  bond: parseEther("0.1"),
  slashAmount: parseEther("0.5"),
  clockSec: 1800,
  challengerRewardBps: 5000,
  defenderRewardBps: 5000,
} as const;

/**
 * Deploys the one-step prover and the DisputeGame over a deployed suite, names the game in the
 * market (once) and lets it slash providers. `signer` must be the market's owner and the
 * provider registry's admin. Returns the game's and the prover's addresses.
 */
export async function deployDisputeGame(
  signer: Signer,
  deployment: Deployment,
  parameters: DeployDisputeGameParameters = {},
): Promise<{ game: string; prover: string }> {
  const { bond, slashAmount, clockSec, challengerRewardBps, defenderRewardBps } = {
    ...DEFAULT_DISPUTE_PARAMETERS,
    ...Object.fromEntries(Object.entries(parameters).filter(([, v]) => v !== undefined)),
  };
  const { contracts } = deployment;
  const prover = await deployContract(signer, "LayerStepProver");
  const game = await deployContract(signer, "DisputeGame", [
    contracts.inferenceMarket,
    contracts.modelRegistry,
    contracts.providerRegistry,
    await prover.getAddress(),
    parameters.treasury ?? (await signer.getAddress()),
    bond,
    slashAmount,
    clockSec,
    challengerRewardBps,
    defenderRewardBps,
  ]);
  const address = await game.getAddress();
  const market = attach<InferenceMarket>("InferenceMarket", contracts.inferenceMarket, signer);
  await (await market.setDisputeGame(address)).wait();
  const providers = attach<ProviderRegistry>("ProviderRegistry", contracts.providerRegistry, signer);
  await (await providers.grantRole(await providers.SLASHER_ROLE(), address)).wait();
  return { game: address, prover: await prover.getAddress() };
}
