/**
 * `npm run demo:dispute`: Optimistic mode and the dispute game on one machine. A local chain,
 * the suite and the dispute game deployed, two small VQM models registered as Optimistic, an
 * honest provider daemon serving one, a cheating provider daemon (test-only fault injection:
 * one element of a hidden layer moved) serving the other, and a watchtower watching both, each
 * its own process. The cheat is challenged, bisected and proven on-chain, the cheater slashed
 * and the requester refunded; the honest result is checked by the watchtower and finalized
 * after the window. Every move is printed with its gas.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { formatEther, ZeroAddress } from "ethers";
import { requestStatusName } from "../oracle/chain/request-status.ts";
import { startOptimisticSuite } from "../oracle/devnet/optimistic-suite.ts";
import { spawnDaemon, type DaemonLogLine, type SpawnedDaemon } from "../oracle/devnet/spawn-daemon.ts";
import { syntheticInput, syntheticMlp } from "../oracle/model/vqm/synthetic-vqm.ts";
import { sleep } from "../oracle/util/retry.ts";

const keep = process.argv.includes("--keep");
const dir = mkdtempSync(path.join(tmpdir(), "verity-dispute-demo-"));
const started = Date.now();
const say = (line: string) => console.log(line);
const WINDOW = 600;

say("Verity dispute demo (Optimistic mode)");
// dense 8 → 3000 (relu, 3 chunks of trace), dense 3000 → 4, argmax: one model per provider.
const models = [7, 8].map((seed) => syntheticMlp({ seed, sizes: [8, 3000, 4], argmax: true }));
const opt = await startOptimisticSuite({ dir, models, challengeWindowSec: WINDOW });
const { local, actors, game } = opt;
const [honestModel, cheatModel] = opt.modelIds as [bigint, bigint];
const market = local.suite.inferenceMarket;
const registry = local.suite.providerRegistry;
say(`  chain       ${local.devnet.url} (chain id ${local.deployment.chainId})`);
say(`  market      ${local.deployment.contracts.inferenceMarket}`);
say(`  game        ${await game.getAddress()}`);
const [bond, slash, clock] = await game.parameters();
say(`              bond ${formatEther(bond)} ETH, slash ${formatEther(slash)} ETH, clock ${clock} s per side`);
say(`  models      #${honestModel} and #${cheatModel}: ${models[0]!.name.replace(/-7$/, "")}, window ${WINDOW} s`);
say(`  honest      ${actors.honest.address} serves #${honestModel}`);
say(`  cheater     ${actors.cheater.address} serves #${cheatModel} (TEST-ONLY cheat: layer 0, element 2500, +3)`);
say(`  watchtower  ${actors.watcher.address} watches both`);

const events: { party: string; line: DaemonLogLine }[] = [];
const spawnParty = (name: string, key: string, served: bigint[], watch: boolean, cheat?: boolean) =>
  spawnDaemon({
    config: opt.config(name, served, cheat ? { layer: 0, element: 2500, delta: 3 } : undefined),
    dir,
    name,
    privateKey: key,
    command: watch ? ["watch"] : ["provider", "start"],
    env: cheat ? { VERITY_ALLOW_CHEAT: "1" } : {},
    onLog: (line) => {
      events.push({ party: name, line });
      print(name, line);
    },
  });
const parties: SpawnedDaemon[] = [
  spawnParty("honest", actors.honest.privateKey, [honestModel], false),
  spawnParty("cheater", actors.cheater.privateKey, [cheatModel], false, true),
  spawnParty("watchtower", actors.watcher.privateKey, opt.modelIds, true),
];

function print(party: string, line: DaemonLogLine): void {
  const who = party.padEnd(10);
  const gas = line.gasUsed === undefined ? "" : `  gas ${Number(line.gasUsed).toLocaleString("en-US")}`;
  const req = line.requestId === undefined ? "" : `request ${line.requestId}: `;
  if (line.msg === "optimistic result submitted") say(`  [${who}] ${req}submitOptimistic${gas}`);
  else if (line.msg === "claimed") say(`  [${who}] ${req}claim${gas}`);
  else if (line.msg === "result checked: trace agrees") say(`  [${who}] ${req}re-executed, trace agrees`);
  else if (line.msg === "result differs from our trace, challenging")
    say(`  [${who}] ${req}re-executed, first differing layer ${line.layer}: challenge`);
  else if (line.msg === "game move")
    say(
      `  [${who}] game ${line.gameId}: ${String(line.move).padEnd(12)} layer ${line.layer}` +
        (line.move === "challenge" ? "" : ` height ${line.height} position ${line.position}`) +
        gas,
    );
  else if (line.msg === "proving one step") say(`  [${who}] game ${line.gameId}: one-step of element ${line.element}`);
  else if (line.msg === "game resolved") say(`  [${who}] game ${line.gameId}: resolved, winner ${line.winner}`);
  else if (line.msg === "game credit withdrawn")
    say(`  [${who}] withdraw ${formatEther(BigInt(String(line.amount)))} ETH${gas}`);
  else if (line.msg === "finalized") say(`  [${who}] ${req}finalize${gas}`);
  else if (line.level === "error") say(`  [${who}] ERROR ${line.msg} ${JSON.stringify(line.error ?? "")}`);
}

async function waitFor(id: bigint, statuses: string[], timeoutMs = 60_000): Promise<string> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const status = requestStatusName(await market.statusOf(id));
    if (statuses.includes(status)) return status;
    if (Date.now() > until) throw new Error(`request ${id} is ${status}, expected ${statuses.join(" or ")}`);
    await sleep(100);
  }
}

let ok = false;
try {
  await Promise.all(
    parties.map((p, i) =>
      p.waitForLog((line) => line.msg === (i === 2 ? "watchtower started" : "provider daemon started")),
    ),
  );
  const stakeBefore = await registry.stakeOf(actors.cheater.address);
  const userBefore = await market.balanceOf(local.actors.user.address, ZeroAddress);
  say("");
  say("requests");
  const honestId = await opt.ask(honestModel, syntheticInput(models[0]!, 3));
  const cheatId = await opt.ask(cheatModel, syntheticInput(models[1]!, 3));
  say(`  request ${honestId} for model #${honestModel}, request ${cheatId} for model #${cheatModel}`);
  const cheatStatus = await waitFor(cheatId, ["Refunded", "Finalized"]);
  await parties[2]!.waitForLog((line) => line.msg === "game credit withdrawn");
  await waitFor(honestId, ["Submitted"]);
  await parties[2]!.waitForLog(
    (line) => line.msg === "result checked: trace agrees" && line.requestId === honestId.toString(),
  );
  say(`  ... ${WINDOW} s pass (evm_increaseTime)`);
  await local.rpc.send("evm_increaseTime", [WINDOW + 1]);
  await local.rpc.send("evm_mine", []);
  const honestStatus = await waitFor(honestId, ["Finalized", "Refunded"]);
  await parties[0]!.waitForLog((line) => line.msg === "optimistic result finalized");

  const stakeAfter = await registry.stakeOf(actors.cheater.address);
  const userAfter = await market.balanceOf(local.actors.user.address, ZeroAddress);
  say("");
  say("outcome");
  say(`  request ${cheatId} (cheater)  ${cheatStatus}; requester credited ${formatEther(userAfter - userBefore)} ETH`);
  say(`  cheater stake  ${formatEther(stakeBefore)} → ${formatEther(stakeAfter)} ETH (slashed)`);
  say(`  request ${honestId} (honest)   ${honestStatus}; output ${await market.outputOf(honestId)}`);
  say(
    `  honest fee     ${formatEther(await market.balanceOf(actors.honest.address, ZeroAddress))} ETH credited in the market`,
  );
  const moves = events.filter((e) => e.line.msg === "game move");
  const gas = (party: string) => moves.filter((e) => e.party === party).reduce((n, e) => n + Number(e.line.gasUsed), 0);
  say(
    `  game           ${moves.length} moves; gas: watchtower ${gas("watchtower").toLocaleString("en-US")}, ` +
      `cheater ${gas("cheater").toLocaleString("en-US")}`,
  );
  ok = cheatStatus === "Refunded" && honestStatus === "Finalized" && stakeAfter < stakeBefore;
  say(
    `  done in ${((Date.now() - started) / 1000).toFixed(1)} s: ${ok ? "the cheat was caught" : "UNEXPECTED OUTCOME"}`,
  );
} finally {
  for (const party of parties) await party.stop();
  await opt.close();
  if (keep) say(`  files kept in ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
process.exit(ok ? 0 : 1);
