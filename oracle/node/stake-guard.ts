import { formatEther } from "ethers";
import type { InferenceMarket, ProviderRegistry } from "../chain/connect.ts";
import type { Logger } from "../log/logger.ts";

/** The account's stake as the registry sees it, and what one claim would reserve. */
export type StakeReading = {
  stake: bigint;
  reserved: bigint;
  free: bigint;
  minStake: bigint;
  /** What a claim of a request in the mode asked about reserves (`reservationOf(mode)`). */
  needed: bigint;
};

export type StakeGuard = {
  /**
   * True if the account's stake lets it claim a request of a model in `mode` now: active stake
   * at least the minimum, and free stake (not reserved by open jobs) covering the claim's
   * reservation. When it does not, the daemon leaves requests unclaimed (they stay open to
   * it) and this logs one warning with the numbers and the fix, not one per request or poll;
   * it logs once more when claiming can resume.
   */
  canClaim(mode: number): Promise<boolean>;
};

export type CreateStakeGuardParameters = {
  providers: ProviderRegistry;
  market: InferenceMarket;
  account: string;
  logger: Logger;
};

export async function readStake(
  providers: ProviderRegistry,
  market: InferenceMarket,
  account: string,
  mode: number,
): Promise<StakeReading> {
  const [stake, reserved, minStake, needed] = await Promise.all([
    providers.stakeOf(account),
    providers.reservedOf(account),
    providers.minStake(),
    market.reservationOf(mode),
  ]);
  return { stake, reserved, free: stake - reserved, minStake, needed };
}

/** Why `reading` does not allow a claim, or undefined if it does. */
export function stakeShortfall(reading: StakeReading): { problem: string; fix: string } | undefined {
  const { stake, free, minStake, needed } = reading;
  if (stake < minStake)
    return {
      problem: "active stake below the minimum",
      fix: `stake at least ${formatEther(minStake - stake)} ETH more: npx verity provider stake --amount ${formatEther(minStake - stake)}`,
    };
  if (free < needed)
    return {
      problem: "not enough free stake to claim",
      fix: `each claim reserves ${formatEther(needed)} ETH until its job ends; stake more (npx verity provider stake --amount ${formatEther(needed - free)}) or wait for open jobs to end`,
    };
  return undefined;
}

/** How long one reading of the stake answers for every job (a burst of requests reads it once). */
const READING_TTL_MS = 1000;

export function createStakeGuard({ providers, market, account, logger }: CreateStakeGuardParameters): StakeGuard {
  let short: string | undefined;
  const readings = new Map<number, { at: number; reading: Promise<StakeReading> }>();
  /** A reading at most READING_TTL_MS old: a claim it lets through that the stake no longer
   *  covers is refused by the chain and the job waits, as for any lost race. */
  function read(mode: number): Promise<StakeReading> {
    const cached = readings.get(mode);
    if (cached && Date.now() - cached.at < READING_TTL_MS) return cached.reading;
    const reading = readStake(providers, market, account, mode);
    readings.set(mode, { at: Date.now(), reading });
    reading.catch(() => readings.delete(mode));
    return reading;
  }
  return {
    async canClaim(mode) {
      const reading = await read(mode);
      const shortfall = stakeShortfall(reading);
      if (shortfall) {
        // One warning per episode (and per kind of problem): a provider short of stake sees
        // every new request, and a line per request would bury the one that says what to do.
        if (short !== shortfall.problem)
          logger.warn(`${shortfall.problem}, not claiming`, { ...reading, ...shortfall });
        short = shortfall.problem;
        return false;
      }
      if (short !== undefined) logger.info("stake covers claims again, claiming", { ...reading });
      short = undefined;
      return true;
    },
  };
}
