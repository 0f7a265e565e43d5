/**
 * The suite's Solidity enums, in ABI order (a value is its position). One definition for the
 * modules that name them: request status, verification mode, game phase and side, and the
 * revert decoder that prints an enum argument by name.
 */

/** Mirrors `IInferenceMarket.RequestStatus`. */
export const RequestStatus = {
  None: 0,
  Pending: 1,
  Claimed: 2,
  Submitted: 3,
  Challenged: 4,
  Finalized: 5,
  Refunded: 6,
  Failed: 7,
} as const;

/** Mirrors `IModelRegistry.VerificationMode`. */
export const VerificationMode = { Attested: 0, Zk: 1, Optimistic: 2 } as const;

/** Mirrors `IDisputeGame.Phase`. */
export const GamePhase = {
  None: 0,
  Bisecting: 1,
  AwaitChunk: 2,
  AwaitStep: 3,
  Resolved: 4,
  SumClaim: 5,
  SumBisecting: 6,
  AwaitSumStep: 7,
  RevealLayers: 8,
} as const;

/** Mirrors `IDisputeGame.Side`. */
export const GameSide = { None: 0, Defender: 1, Challenger: 2 } as const;

/** The names of an enum's values, by value. */
export function enumNames(values: Readonly<Record<string, number>>): string[] {
  const names: string[] = [];
  for (const [name, value] of Object.entries(values)) names[value] = name;
  return names;
}

/** The name of `value` in `values`, or `Unknown(value)`. */
export function enumName(values: Readonly<Record<string, number>>, value: number | bigint): string {
  return enumNames(values)[Number(value)] ?? `Unknown(${value})`;
}
