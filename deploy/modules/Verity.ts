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
} as const;

/**
 * Deploys ModelRegistry, ProviderRegistry and InferenceMarket, and grants the market
 * `SLASHER_ROLE` and `RECORDER_ROLE` on the ProviderRegistry.
 *
 * The deployer (account 0) becomes the ProviderRegistry's `DEFAULT_ADMIN_ROLE` holder and the
 * market's owner: it has to be, to grant the roles. Hand both over afterwards if needed
 * (`grantRole`/`renounceRole`, `transferOwnership`/`acceptOwnership`).
 *
 * Parameters (all optional): `treasury` (default: the deployer), `protocolFeeBps`, `minStake`,
 * `unbondingDelay` and `claimPenalty` (defaults: {@link VERITY_DEFAULTS}). For example
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

  return { modelRegistry, providerRegistry, inferenceMarket };
});

export default VerityModule;
