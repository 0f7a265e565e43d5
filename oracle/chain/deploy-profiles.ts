import { parseEther, parseUnits } from "ethers";
import { BaseError } from "../errors.ts";

/**
 * Named deployment profiles: every parameter of the suite and its dispute game, for a local
 * chain (`devnet`: short windows and clocks so a demo settles in seconds) and for a public
 * network (`testnet`: windows and clocks long enough for an honest watcher or provider that is
 * offline for hours; Optimism's fault games give each side 3.5 days). Both keep
 * `2 · disputeClockSec + maxChallengeWindowSec <= unbondingDelaySec`, which the dispute game
 * checks at deployment.
 */
export type DeployProfile = {
  /** Share of each fee sent to the treasury, in basis points (at most 1000). */
  protocolFeeBps: number;
  /** Active stake a provider needs to claim. */
  minStake: bigint;
  /** Seconds between an unbond request and the withdrawal. */
  unbondingDelaySec: bigint;
  /** Slashed from a provider that claims and misses the deadline; reserved at every claim. */
  claimPenalty: bigint;
  /** Shortest and longest challenge window an Optimistic model may register, in seconds. */
  minChallengeWindowSec: number;
  maxChallengeWindowSec: number;
  /** Smallest bond of a challenge. */
  bondFloor: bigint;
  /** Gas price at which the bond covers the defender's worst-case gas. */
  bondGasPrice: bigint;
  /** Slashed from a provider that loses a game; reserved at every Optimistic claim. */
  slashAmount: bigint;
  /** Each side's chess clock in a game, in seconds. */
  disputeClockSec: number;
  /** Share of the slash paid to a winning challenger (rest to the treasury). */
  challengerRewardBps: number;
  /** Share of a losing challenger's bond paid to the provider (rest to the treasury). */
  defenderRewardBps: number;
};

const DAY = 24 * 3600;

export const DEPLOY_PROFILES = {
  devnet: {
    protocolFeeBps: 250,
    minStake: parseEther("1"),
    unbondingDelaySec: 31n * 86400n,
    claimPenalty: parseEther("0.1"),
    minChallengeWindowSec: 1,
    maxChallengeWindowSec: 7 * DAY,
    bondFloor: parseEther("0.1"),
    bondGasPrice: parseUnits("1", "gwei"),
    slashAmount: parseEther("0.5"),
    disputeClockSec: 1800,
    challengerRewardBps: 5000,
    defenderRewardBps: 5000,
  },
  testnet: {
    protocolFeeBps: 250,
    minStake: parseEther("1"),
    unbondingDelaySec: 31n * 86400n,
    claimPenalty: parseEther("0.1"),
    minChallengeWindowSec: DAY,
    maxChallengeWindowSec: 7 * DAY,
    bondFloor: parseEther("0.05"),
    bondGasPrice: parseUnits("20", "gwei"),
    slashAmount: parseEther("1"),
    disputeClockSec: 3.5 * DAY,
    challengerRewardBps: 5000,
    defenderRewardBps: 5000,
  },
} as const satisfies Record<string, DeployProfile>;

export type DeployProfileName = keyof typeof DEPLOY_PROFILES;

export const deployProfileNames = Object.keys(DEPLOY_PROFILES) as DeployProfileName[];

/** The profile `verity deploy` and the Ignition module use when none is named. */
export const defaultDeployProfile: DeployProfileName = "devnet";

export function isDeployProfileName(value: unknown): value is DeployProfileName {
  return typeof value === "string" && Object.hasOwn(DEPLOY_PROFILES, value);
}

/** The profile named `name` (the default when undefined); an unknown name is a one-line error naming the choices. */
export function deployProfile(name: string | undefined = defaultDeployProfile): DeployProfile & {
  name: DeployProfileName;
} {
  if (!isDeployProfileName(name))
    throw new BaseError(`Unknown deploy profile ${JSON.stringify(name)}: use ${deployProfileNames.join(" or ")}.`);
  return { name, ...DEPLOY_PROFILES[name] };
}

/**
 * What the dispute game checks at deployment (`GameParametersUnsafe`): a provider cannot
 * unbond out of a result before its window and both clocks have run out. Returns the problem,
 * or undefined when the profile is safe.
 */
export function deployProfileProblem(profile: DeployProfile): string | undefined {
  const needed = 2n * BigInt(profile.disputeClockSec) + BigInt(profile.maxChallengeWindowSec);
  if (needed > profile.unbondingDelaySec)
    return `2 × disputeClockSec + maxChallengeWindowSec = ${needed} s exceeds unbondingDelaySec = ${profile.unbondingDelaySec} s.`;
  if (profile.minChallengeWindowSec < 1 || profile.minChallengeWindowSec > profile.maxChallengeWindowSec)
    return `The challenge window bounds [${profile.minChallengeWindowSec}, ${profile.maxChallengeWindowSec}] are not 1 <= min <= max.`;
  if (profile.defenderRewardBps === 0) return "defenderRewardBps is 0: a false challenge would cost nothing.";
  return undefined;
}

/**
 * The parameters of the Ignition module `deploy/modules/Verity.ts` for a profile, as its
 * `--parameters` file holds them (`deploy/parameters/<name>.json`): amounts as `"<wei>n"`
 * strings, which Ignition reads back as bigints.
 */
export function ignitionParameters(profile: DeployProfile): { Verity: Record<keyof DeployProfile, number | string> } {
  const entries = Object.entries(profile).map(([key, value]) => [
    key,
    typeof value === "bigint" ? `${value}n` : (value as number),
  ]);
  return { Verity: Object.fromEntries(entries) as Record<keyof DeployProfile, number | string> };
}
