import { expect } from "chai";
import { spawnDaemon, type DaemonLogLine, type SpawnedDaemon } from "../../oracle/devnet/spawn-daemon.ts";
import type { OptimisticSuite } from "../../oracle/devnet/optimistic-suite.ts";
import type { Cheat } from "../../oracle/dispute/cheat.ts";
import type { VerityConfigInput } from "../../oracle/config/schema.ts";
import { parseEther, Wallet } from "ethers";
import { syntheticInput, syntheticMlp } from "../../oracle/model/vqm/synthetic-vqm.ts";
import { waitForStatus } from "./helpers.ts";

/** dense 8 → 3000 (relu; 3 chunks, a tree of height 2), dense 3000 → 4, argmax: three layers. */
export const disputeModel = syntheticMlp({ seed: 7, sizes: [8, 3000, 4], argmax: true });
export const disputeInput = syntheticInput(disputeModel, 3);

export type Party = SpawnedDaemon & { logs: DaemonLogLine[] };

/**
 * Starts a provider daemon (`cheat` set: the cheating one) or, with `watch`, a watchtower; of the
 * suite's models, or of `models` (config entries, model folders say) when given.
 */
export async function startParty(
  opt: OptimisticSuite,
  dir: string,
  {
    name,
    wallet,
    watch = false,
    cheat,
    models,
  }: { name: string; wallet: Wallet; watch?: boolean; cheat?: Cheat; models?: VerityConfigInput["models"] },
): Promise<Party> {
  const logs: DaemonLogLine[] = [];
  const config = opt.config(name, opt.modelIds, cheat);
  const party = spawnDaemon({
    config: models ? { ...config, models } : config,
    dir,
    name,
    privateKey: wallet.privateKey,
    command: watch ? ["watch"] : ["provider", "start"],
    env: cheat ? { VERITY_ALLOW_CHEAT: "1" } : {},
    onLog: (line) => logs.push(line),
  });
  await party.waitForLog((line) => line.msg === (watch ? "watchtower started" : "provider daemon started"));
  return Object.assign(party, { logs });
}

/** A provider cheating with `cheat` and an honest watchtower, started and added to `parties`. */
export async function cheaterAndWatcher(
  opt: OptimisticSuite,
  dir: string,
  parties: Party[],
  cheat: Cheat,
): Promise<{ cheater: Party; watcher: Party }> {
  const cheater = await startParty(opt, dir, { name: "cheater", wallet: opt.actors.cheater, cheat });
  const watcher = await startParty(opt, dir, { name: "watcher", wallet: opt.actors.watcher, watch: true });
  parties.push(cheater, watcher);
  return { cheater, watcher };
}

/**
 * An honest provider and a watchtower started (added to `parties`), a request for the first
 * model asked, its result Submitted and checked by the watchtower.
 */
export async function checkedHonestResult(
  opt: OptimisticSuite,
  dir: string,
  parties: Party[],
): Promise<{ honest: Party; watcher: Party; id: bigint }> {
  const honest = await startParty(opt, dir, { name: "honest", wallet: opt.actors.honest });
  const watcher = await startParty(opt, dir, { name: "watcher", wallet: opt.actors.watcher, watch: true });
  parties.push(honest, watcher);
  const id = await opt.ask(opt.modelIds[0]!, disputeInput);
  expect(await waitForStatus(opt.local.suite.inferenceMarket, id, ["Submitted"])).to.equal("Submitted");
  await watcher.waitForLog((line) => line.msg === "result checked: trace agrees" && line.requestId === id.toString());
  return { honest, watcher, id };
}

/** Moves the chain's clock on by `seconds` and mines a block. */
export async function advance(opt: OptimisticSuite, seconds: number): Promise<void> {
  await opt.local.rpc.send("evm_increaseTime", [seconds]);
  await opt.local.rpc.send("evm_mine", []);
}

export function moves(party: Party): string[] {
  return party.logs.filter((line) => line.msg === "game move").map((line) => String(line.move));
}

export function expectWinner(party: Party, winner: string): void {
  const resolved = party.logs.filter((line) => line.msg === "game resolved");
  expect(resolved.map((line) => line.winner)).to.include(winner);
}

/** A fresh account with `eth` ETH from the deployer (a second watchtower or a griefer). */
export async function fundedWallet(opt: OptimisticSuite, eth = "10"): Promise<Wallet> {
  const wallet = new Wallet(Wallet.createRandom().privateKey, opt.local.rpc);
  await (await opt.local.actors.deployer.sendTransaction({ to: wallet.address, value: parseEther(eth) })).wait();
  return wallet;
}

/** Every "game resolved" line of a party (of request `requestId` if given), as [gameId, winner, moot]. */
export function resolutions(party: Party, requestId?: bigint): [string, string, boolean][] {
  return party.logs
    .filter((line) => line.msg === "game resolved")
    .filter((line) => requestId === undefined || line.requestId === requestId.toString())
    .map((line) => [String(line.gameId), String(line.winner), line.moot === true]);
}
