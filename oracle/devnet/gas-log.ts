/**
 * The gas of every transaction of in-process games (gas benchmarks and tests), by move name and
 * by who sent it, so that each script or test totals a side, finds its largest move or prints a
 * table from one record instead of keeping a tally of its own. A log made with a parent notes
 * every entry there too: one log per game and one over all games, without copying afterwards.
 */
import type { ContractTransactionReceipt, ContractTransactionResponse } from "ethers";

/** Who sent a transaction: a side of the game, a third party claiming a timeout, or anyone else. */
export type GasSender = "defender" | "challenger" | "keeper" | "other";

export type GasEntry = { name: string; side: GasSender; gas: bigint };

export class GasLog {
  /** The largest gas of each move name, in the order the names first appeared. */
  readonly max = new Map<string, bigint>();
  /** Every entry, in the order sent. */
  readonly all: GasEntry[] = [];
  readonly #parent: GasLog | undefined;

  constructor(parent?: GasLog) {
    this.#parent = parent;
  }

  /** Waits for `tx` and notes its gas under `name`; returns the receipt (to read its events). */
  async record(
    name: string,
    tx: Promise<ContractTransactionResponse>,
    side: GasSender = "other",
  ): Promise<ContractTransactionReceipt> {
    const receipt = (await (await tx).wait())!;
    this.note(name, receipt.gasUsed, side);
    return receipt;
  }

  note(name: string, gas: bigint, side: GasSender = "other"): void {
    this.all.push({ name, side, gas });
    if ((this.max.get(name) ?? 0n) < gas) this.max.set(name, gas);
    this.#parent?.note(name, gas, side);
  }

  /** Total gas sent by `side`. */
  total(side: GasSender): bigint {
    return this.all.filter((e) => e.side === side).reduce((sum, e) => sum + e.gas, 0n);
  }

  /** The largest single transaction (the first of equals). */
  largest(): GasEntry | undefined {
    let best: GasEntry | undefined;
    for (const e of this.all) if (best === undefined || e.gas > best.gas) best = e;
    return best;
  }
}
