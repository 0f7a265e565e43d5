import { parseEther, parseUnits } from "ethers";

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
