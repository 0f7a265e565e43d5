import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { DEPLOY_PROFILES, defaultDeployProfile, type DeployProfile } from "../../oracle/chain/deploy-profiles.ts";

/**
 * The module's defaults: the `devnet` profile of `oracle/chain/deploy-profiles.ts`, the one
 * source of every deploy parameter (`verity deploy --profile` reads the same table).
 */
export const VERITY_DEFAULTS: DeployProfile = DEPLOY_PROFILES[defaultDeployProfile];

/**
 * Deploys ModelRegistry (with the profile's challenge-window bounds), ProviderRegistry,
 * InferenceMarket and the optimistic-mode DisputeGame (with its LayerStepProver), names the
 * market in the ProviderRegistry (the one account that reserves, releases and slashes stake)
 * and the game in the market, then the agent contracts: the AgentAccount implementation,
 * AgentRegistry(market, implementation), ValidationRegistry(agentRegistry) and
 * VerityValidator(market, validationRegistry). No role is granted anywhere: both links are set once.
 *
 * The deployer (account 0) owns the ProviderRegistry and the market; hand them over
 * afterwards if needed (`transferOwnership`, then `acceptOwnership` by the new owner).
 *
 * Parameters: `treasury` (default: the deployer) and every field of a deploy profile
 * (defaults: the `devnet` profile). Deploy a named profile with its parameter file, generated
 * from the profiles table and checked against it by test/deploy/Verity.test.ts:
 * `npx hardhat ignition deploy deploy/modules/Verity.ts --network sepolia --parameters deploy/parameters/testnet.json`.
 */
const VerityModule = buildModule("Verity", (m) => {
  const deployer = m.getAccount(0);
  const treasury = m.getParameter("treasury", deployer);
  const p = <K extends keyof DeployProfile>(name: K) => m.getParameter(name, VERITY_DEFAULTS[name]);

  const modelRegistry = m.contract("ModelRegistry", [p("minChallengeWindowSec"), p("maxChallengeWindowSec")], {
    from: deployer,
  });
  const providerRegistry = m.contract("ProviderRegistry", [deployer, p("minStake"), p("unbondingDelaySec")], {
    from: deployer,
  });
  const inferenceMarket = m.contract(
    "InferenceMarket",
    [deployer, modelRegistry, providerRegistry, treasury, p("protocolFeeBps"), p("claimPenalty")],
    { from: deployer },
  );
  m.call(providerRegistry, "setMarket", [inferenceMarket], { from: deployer });

  const prover = m.contract("LayerStepProver", [], { from: deployer });
  const disputeGame = m.contract(
    "DisputeGame",
    [
      inferenceMarket,
      modelRegistry,
      providerRegistry,
      prover,
      treasury,
      p("bondFloor"),
      p("bondGasPrice"),
      p("slashAmount"),
      p("disputeClockSec"),
      p("challengerRewardBps"),
      p("defenderRewardBps"),
    ],
    { from: deployer },
  );
  m.call(inferenceMarket, "setDisputeGame", [disputeGame], { from: deployer });

  // The agent contracts (docs/agents.md): each takes what it reads in its constructor.
  const agentAccount = m.contract("AgentAccount", [], { from: deployer });
  const agentRegistry = m.contract("AgentRegistry", [inferenceMarket, agentAccount], { from: deployer });
  const validationRegistry = m.contract("ValidationRegistry", [agentRegistry], { from: deployer });
  const verityValidator = m.contract("VerityValidator", [inferenceMarket, validationRegistry], { from: deployer });

  return {
    modelRegistry,
    providerRegistry,
    inferenceMarket,
    disputeGame,
    agentAccount,
    agentRegistry,
    validationRegistry,
    verityValidator,
  };
});

export default VerityModule;
