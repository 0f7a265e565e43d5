/** Mirrors `IInferenceMarket.RequestStatus`; the order is the ABI encoding. */
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

export type RequestStatus = (typeof RequestStatus)[keyof typeof RequestStatus];

const names = Object.fromEntries(Object.entries(RequestStatus).map(([name, code]) => [code, name]));

export function requestStatusName(status: number | bigint): string {
  return names[Number(status)] ?? `Unknown(${status})`;
}
