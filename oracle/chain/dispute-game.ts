import { ZeroAddress, type ContractRunner } from "ethers";
import type { DisputeGame } from "../../types/ethers-contracts/index.ts";
import { BaseError } from "../errors.ts";
import { attach, type InferenceMarket } from "./connect.ts";

export type { DisputeGame };

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
} as const;
/** Mirrors `IDisputeGame.Side`. */
export const GameSide = { None: 0, Defender: 1, Challenger: 2 } as const;

const phaseNames = [
  "None",
  "Bisecting",
  "AwaitChunk",
  "AwaitStep",
  "Resolved",
  "SumClaim",
  "SumBisecting",
  "AwaitSumStep",
];
const sideNames = ["None", "Defender", "Challenger"];

export function gamePhaseName(phase: number | bigint): string {
  return phaseNames[Number(phase)] ?? `Unknown(${phase})`;
}

export function gameSideName(side: number | bigint): string {
  return sideNames[Number(side)] ?? `Unknown(${side})`;
}

/** The dispute game the market names (`InferenceMarket.disputeGame()`), as seen by `runner`. */
export async function connectDisputeGame(market: InferenceMarket, runner: ContractRunner): Promise<DisputeGame> {
  const address = await market.disputeGame();
  if (address === ZeroAddress)
    throw new BaseError("The market has no dispute game.", {
      details: ["Optimistic results cannot be challenged or defended until the owner calls setDisputeGame."],
    });
  return attach<DisputeGame>("DisputeGame", address, runner);
}
