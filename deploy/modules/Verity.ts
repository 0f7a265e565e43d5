import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

/** Defaults of the module's parameters (the same as `DEFAULT_SUITE_PARAMETERS` in `oracle/chain/deploy-suite.ts`). */
export const VERITY_DEFAULTS = {
  /** Share of each fee sent to the treasury, in basis points (at most 1000). */
  protocolFeeBps: 250n,
  /** Stake a provider needs to be eligible, in wei: 1 ether. */
  minStake: 10n ** 18n,
  /**
   * Seconds between an unbond request and the withdrawal: 31 days, longer than the longest
   * request deadline (30 days), so a provider cannot claim, unbond and leave before a missed
   * deadline can be penalised.
   */
  unbondingDelay: 31n * 24n * 3600n,
  /** Slashed from a provider that claims a request and does not deliver before its deadline: 0.1 ether. */
  claimPenalty: 10n ** 17n,
  /** Bond a challenger posts to open a dispute game: 0.1 ether. */
  disputeBond: 10n ** 17n,
  /** Slashed from a provider whose optimistic result is proven wrong: 1 ether (the minimum stake). */
  disputeSlash: 10n ** 18n,
  /** Each side's chess clock in a dispute game, in seconds: 1 day. */
  disputeClock: 24n * 3600n,
  /** Share of the slash paid to a winning challenger (rest to the treasury), in basis points. */
  challengerRewardBps: 5000n,
  /** Share of a losing challenger's bond paid to the provider (rest to the treasury). */
  defenderRewardBps: 5000n,
} as const;

/**
 * Deploys ModelRegistry, ProviderRegistry, InferenceMarket and the optimistic-mode DisputeGame
 * (with its LayerStepProver), grants the market `SLASHER_ROLE` and `RECORDER_ROLE` and the game
 * `SLASHER_ROLE` on the ProviderRegistry, and sets the game on the market.
 *
 * The deployer (account 0) becomes the ProviderRegistry's `DEFAULT_ADMIN_ROLE` holder and the
 * market's owner: it has to be, to grant the roles. Hand both over afterwards if needed
 * (`grantRole`/`renounceRole`, `transferOwnership`/`acceptOwnership`).
 *
 * Parameters (all optional): `treasury` (default: the deployer), `protocolFeeBps`, `minStake`,
 * `unbondingDelay`, `claimPenalty`, `disputeBond`, `disputeSlash`, `disputeClock`,
 * `challengerRewardBps` and `defenderRewardBps` (defaults: {@link VERITY_DEFAULTS}). For example
 * `npx hardhat ignition deploy deploy/modules/Verity.ts --network sepolia --parameters params.json`
 * with `{ "Verity": { "treasury": "0x…", "minStake": "2000000000000000000n" } }`.
 */
const VerityModule = buildModule("Verity", (m) => {
  const deployer = m.getAccount(0);
  const treasury = m.getParameter("treasury", deployer);
  const protocolFeeBps = m.getParameter("protocolFeeBps", VERITY_DEFAULTS.protocolFeeBps);
  const minStake = m.getParameter("minStake", VERITY_DEFAULTS.minStake);
  const unbondingDelay = m.getParameter("unbondingDelay", VERITY_DEFAULTS.unbondingDelay);
  const claimPenalty = m.getParameter("claimPenalty", VERITY_DEFAULTS.claimPenalty);

  const modelRegistry = m.contract("ModelRegistry", [], { from: deployer });
  const providerRegistry = m.contract("ProviderRegistry", [deployer, minStake, unbondingDelay], { from: deployer });
  const inferenceMarket = m.contract(
    "InferenceMarket",
    [deployer, modelRegistry, providerRegistry, treasury, protocolFeeBps, claimPenalty],
    { from: deployer },
  );

  const slasherRole = m.staticCall(providerRegistry, "SLASHER_ROLE", [], 0, { id: "slasherRole" });
  const recorderRole = m.staticCall(providerRegistry, "RECORDER_ROLE", [], 0, { id: "recorderRole" });
  m.call(providerRegistry, "grantRole", [slasherRole, inferenceMarket], { id: "grantSlasherRole", from: deployer });
  m.call(providerRegistry, "grantRole", [recorderRole, inferenceMarket], { id: "grantRecorderRole", from: deployer });

  const prover = m.contract("LayerStepProver", [], { from: deployer });
  const disputeGame = m.contract(
    "DisputeGame",
    [
      inferenceMarket,
      modelRegistry,
      providerRegistry,
      prover,
      treasury,
      m.getParameter("disputeBond", VERITY_DEFAULTS.disputeBond),
      m.getParameter("disputeSlash", VERITY_DEFAULTS.disputeSlash),
      m.getParameter("disputeClock", VERITY_DEFAULTS.disputeClock),
      m.getParameter("challengerRewardBps", VERITY_DEFAULTS.challengerRewardBps),
      m.getParameter("defenderRewardBps", VERITY_DEFAULTS.defenderRewardBps),
    ],
    { from: deployer },
  );
  m.call(providerRegistry, "grantRole", [slasherRole, disputeGame], { id: "grantGameSlasherRole", from: deployer });
  m.call(inferenceMarket, "setDisputeGame", [disputeGame], { from: deployer });

  return { modelRegistry, providerRegistry, inferenceMarket, disputeGame };
});

export default VerityModule;
