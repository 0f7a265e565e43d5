/**
 * `node scripts/bench-dispute.ts`: the dispute game on synthetic dense models of about 10
 * thousand, 1 million and 10 million parameters, each on a fresh local chain with a cheating
 * provider daemon and a watchtower as processes (test-only fault injection: one element of the
 * widest hidden layer, the last one, so bisection walks the whole height of its tree). Prints a
 * markdown table: rounds, gas of each side, the largest transaction, wall times.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startOptimisticSuite } from "../oracle/devnet/optimistic-suite.ts";
import { spawnDaemon, type DaemonLogLine } from "../oracle/devnet/spawn-daemon.ts";
import { syntheticInput, syntheticMlp } from "../oracle/model/vqm/synthetic-vqm.ts";
import { sleep } from "../oracle/util/retry.ts";

type Case = { label: string; sizes: number[]; cheatLayer: number };

const cases: Case[] = [
  { label: "~10k", sizes: [64, 128, 10], cheatLayer: 0 },
  { label: "~1M", sizes: [256, 2048, 256, 10], cheatLayer: 0 },
  { label: "~10M", sizes: [160, 32768, 160, 10], cheatLayer: 0 },
];
const only = process.argv.slice(2);

type Row = {
  label: string;
  parameters: number;
  layers: number;
  chunks: number;
  rounds: number;
  challengerGas: number;
  defenderGas: number;
  largest: string;
  submitSec: number;
  gameSec: number;
};

const rows: Row[] = [];
for (const c of cases.filter((c) => only.length === 0 || only.includes(c.label))) rows.push(await run(c));

console.log("");
console.log(
  "| model | parameters | layers | chunks of the disputed layer | bisection rounds | challenger gas (incl. challenge) | defender gas | largest transaction | request → submitted | challenge → resolved |",
);
console.log("|---|---:|---:|---:|---:|---:|---:|---|---:|---:|");
for (const r of rows)
  console.log(
    `| ${r.label} | ${r.parameters.toLocaleString("en-US")} | ${r.layers} | ${r.chunks} | ${r.rounds} | ` +
      `${r.challengerGas.toLocaleString("en-US")} | ${r.defenderGas.toLocaleString("en-US")} | ${r.largest} | ` +
      `${r.submitSec.toFixed(1)} s | ${r.gameSec.toFixed(1)} s |`,
  );

async function run({ label, sizes, cheatLayer }: Case): Promise<Row> {
  const dir = mkdtempSync(path.join(tmpdir(), "verity-bench-dispute-"));
  const model = syntheticMlp({ seed: 11, sizes, argmax: true });
  const parameters = sizes.slice(1).reduce((n, out, i) => n + out * sizes[i]! + out, 0);
  const width = sizes[cheatLayer + 1]!;
  console.error(`${label}: ${parameters} parameters, setting up`);
  const opt = await startOptimisticSuite({ dir, models: [model], challengeWindowSec: 3600 });
  const events: { party: string; line: DaemonLogLine; at: number }[] = [];
  const spawnParty = (name: string, key: string, watch: boolean) =>
    spawnDaemon({
      config: opt.config(name, opt.modelIds, watch ? undefined : { layer: cheatLayer, element: width - 1, delta: 1 }),
      dir,
      name,
      privateKey: key,
      command: watch ? ["watch"] : ["provider", "start"],
      env: watch ? {} : { VERITY_ALLOW_CHEAT: "1" },
      onLog: (line) => events.push({ party: name, line, at: Date.now() }),
    });
  const cheater = spawnParty("cheater", opt.actors.cheater.privateKey, false);
  const watcher = spawnParty("watchtower", opt.actors.watcher.privateKey, true);
  try {
    await cheater.waitForLog((l) => l.msg === "provider daemon started");
    await watcher.waitForLog((l) => l.msg === "watchtower started");
    const asked = Date.now();
    const id = await opt.ask(opt.modelIds[0]!, syntheticInput(model, 1));
    const submitted = await cheater.waitForLog((l) => l.msg === "optimistic result submitted", 600_000);
    const submittedAt = events.find((e) => e.line === submitted)!.at;
    await watcher.waitForLog((l) => l.msg === "game resolved", 600_000);
    const moves = events.filter((e) => e.line.msg === "game move");
    const gas = (party: string) =>
      moves.filter((e) => e.party === party).reduce((n, e) => n + Number(e.line.gasUsed), 0);
    const largest = moves.reduce((a, b) => (Number(b.line.gasUsed) > Number(a.line.gasUsed) ? b : a));
    const startAt = moves.find((e) => e.line.move === "challenge")!.at;
    const endAt = events.find((e) => e.line.msg === "game resolved")!.at;
    const status = Number(await opt.local.suite.inferenceMarket.statusOf(id));
    if (status !== 6) throw new Error(`${label}: request ${id} ended with status ${status}, expected Refunded`);
    await sleep(100);
    return {
      label,
      parameters,
      layers: model.layers.length,
      chunks: Math.ceil(width / 1024),
      rounds: moves.filter((e) => e.line.move === "bisect").length,
      challengerGas: gas("watchtower"),
      defenderGas: gas("cheater"),
      largest: `${largest.line.move} ${Number(largest.line.gasUsed).toLocaleString("en-US")}`,
      submitSec: (submittedAt - asked) / 1000,
      gameSec: (endAt - startAt) / 1000,
    };
  } finally {
    await cheater.stop();
    await watcher.stop();
    await opt.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
