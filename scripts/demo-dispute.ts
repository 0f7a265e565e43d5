/**
 * `npm run demo:dispute`: Optimistic mode and the dispute game on one machine. A local chain,
 * the suite and the dispute game deployed, two small VQM models registered as Optimistic, an
 * honest provider daemon serving one, a cheating provider daemon (test-only fault injection:
 * one element of a hidden layer moved) serving the other, a watchtower watching both, and a
 * griefer: a second watchtower whose own trace is wrong (test-only fault injection too), so it
 * challenges everything it sees. Each is its own process.
 *
 * What it shows: the cheat is challenged by the watchtower AND, while that game plays, by the
 * griefer in a game of its own (any number of games may be open over one result); the cheat is
 * bisected and proven on-chain, the cheater slashed once and the requester refunded, the other
 * game over it ends moot (bond back) or lost. The griefer's false game against the honest result
 * loses its bond to the provider, and the honest result still finalizes when its window ends
 * (games never move it). Then a transformer (a random decoder of two blocks) is served
 * Optimistic by a cheating provider twice: once with one generated token changed, once with one
 * attention score of its first block changed; each time the watchtower replays the generation,
 * challenges at the first differing pass, the game narrows to that pass's layer and element and
 * proves it on-chain, and the cheater is slashed. Every move is printed with its gas.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { formatEther, parseEther, Wallet, ZeroAddress } from "ethers";
import { requestStatusName } from "../oracle/chain/request-status.ts";
import { namesDecoder } from "../oracle/devnet/names-decoder.ts";
import { startOptimisticSuite } from "../oracle/devnet/optimistic-suite.ts";
import { spawnDaemon, type DaemonLogLine, type SpawnedDaemon } from "../oracle/devnet/spawn-daemon.ts";
import type { Cheat } from "../oracle/dispute/cheat.ts";
import type { Tensor } from "../oracle/model/tensor.ts";
import { syntheticInput, syntheticMlp } from "../oracle/model/vqm/synthetic-vqm.ts";
import { sleep } from "../oracle/util/retry.ts";

const keep = process.argv.includes("--keep");
const dir = mkdtempSync(path.join(tmpdir(), "verity-dispute-demo-"));
const started = Date.now();
const say = (line: string) => console.log(line);
const WINDOW = 600;
const CHEAT: Cheat = { layer: 0, element: 2500, delta: 3 };
const GRIEF: Cheat = { layer: 0, element: 1200, delta: 2 };

say("Verity dispute demo (Optimistic mode)");
// dense 8 → 3000 (relu, 3 chunks of trace), dense 3000 → 4, argmax: one model per provider.
const models = [7, 8].map((seed) => syntheticMlp({ seed, sizes: [8, 3000, 4], argmax: true }));
// A decoder over 27 ids: prompts of up to 8, 6 generated, two blocks.
const decoder = namesDecoder(11);
/** The prompt ids 0, 13, 1, 18 (P = 4), padded with −1: passes 0 … 8, gen[k] the argmax of pass 3 + k. */
const PROMPT: Tensor = { dtype: "int32", shape: [1, 8], data: Int32Array.from([0, 13, 1, 18, -1, -1, -1, -1]) };
const firstQk = decoder.layers.findIndex((layer) => layer.kind === "qk");
const DECODER_CHEATS: { party: Party; what: string; cheat: Cheat }[] = [
  {
    party: "token-cheat",
    what: "generated token gen[2] changed",
    cheat: { pass: 5, layer: decoder.layers.length - 1, element: 0, delta: 1 },
  },
  // Head 1's score of position 2 in the first block (a middle layer), unmasked at pass 5.
  {
    party: "score-cheat",
    what: "one attention score changed",
    cheat: { pass: 5, layer: firstQk, element: 18, delta: 3 },
  },
];
const opt = await startOptimisticSuite({ dir, models: [...models, decoder], challengeWindowSec: WINDOW });
const { local, actors, game } = opt;
const [honestModel, cheatModel, decoderModel] = opt.modelIds as [bigint, bigint, bigint];
const market = local.suite.inferenceMarket;
const registry = local.suite.providerRegistry;
const griefer = new Wallet(Wallet.createRandom().privateKey, local.rpc);
await (await local.actors.deployer.sendTransaction({ to: griefer.address, value: parseEther("5") })).wait();
say(`  chain       ${local.devnet.url} (chain id ${local.deployment.chainId})`);
say(`  market      ${local.deployment.contracts.inferenceMarket}`);
say(`  game        ${await game.getAddress()}`);
const [, , slash, clock] = await game.parameters();
say(
  `              bond ${formatEther(await game.requiredBond(0))} ETH, slash ${formatEther(slash)} ETH, clock ${clock} s per side`,
);
say(`  models      #${honestModel} and #${cheatModel}: ${models[0]!.name.replace(/-7$/, "")}, window ${WINDOW} s`);
say(`  honest      ${actors.honest.address} serves #${honestModel}`);
say(`  cheater     ${actors.cheater.address} serves #${cheatModel} (TEST-ONLY cheat: layer 0, element 2500, +3)`);
say(`  transformer #${decoderModel}: ${decoder.name}, ${decoder.layers.length} layers a pass, window ${WINDOW} s`);
say(`  watchtower  ${actors.watcher.address} watches all three`);
say(`  griefer     ${griefer.address} watches both MLPs (TEST-ONLY wrong trace: layer 0, element 1200, +2)`);
type Party = "honest" | "cheater" | "watchtower" | "griefer" | "token-cheat" | "score-cheat";
const events: { party: Party; line: DaemonLogLine }[] = [];
// The cheater looks at the chain every 1.5 s, the others every 0.1 s: its game with the first
// watcher to challenge is then still open when the second one opens its own, on any machine.
const pollIntervalMs = (name: Party) => (name === "cheater" ? 1500 : 100);
const spawnParty = (name: Party, key: string, served: bigint[], watch: boolean, cheat?: Cheat) =>
  spawnDaemon({
    config: { ...opt.config(name, served, cheat), chain: { pollIntervalMs: pollIntervalMs(name) } },
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
  spawnParty("cheater", actors.cheater.privateKey, [cheatModel], false, CHEAT),
  spawnParty("watchtower", actors.watcher.privateKey, opt.modelIds, true),
  spawnParty("griefer", griefer.privateKey, [honestModel, cheatModel], true, GRIEF),
];
const [honestParty, cheaterParty, watchtower, grieferParty] = parties as [
  SpawnedDaemon,
  SpawnedDaemon,
  SpawnedDaemon,
  SpawnedDaemon,
];

function print(party: Party, line: DaemonLogLine): void {
  const who = party.padEnd(10);
  // A game over a generation starts at a pass and names its layer in RevealLayers.
  const at = [line.pass === undefined ? "" : `pass ${line.pass}`, line.layer === undefined ? "" : `layer ${line.layer}`]
    .filter(Boolean)
    .join(" ");
  const gas = line.gasUsed === undefined ? "" : `  gas ${Number(line.gasUsed).toLocaleString("en-US")}`;
  const req = line.requestId === undefined ? "" : `request ${line.requestId}: `;
  if (line.msg === "optimistic result submitted") say(`  [${who}] ${req}submitOptimistic${gas}`);
  else if (line.msg === "claimed") say(`  [${who}] ${req}claim${gas}`);
  else if (line.msg === "result checked: trace agrees") say(`  [${who}] ${req}re-executed, trace agrees`);
  else if (line.msg === "result differs from our trace, challenging")
    say(
      `  [${who}] ${req}re-executed, first differing ${line.pass === undefined ? "layer" : "pass"} ${line.pass ?? line.layer}: challenge` +
        (Number(line.openGames) > 0 ? ` (${line.openGames} game(s) already open: a game of our own)` : ""),
    );
  else if (line.msg === "our result is challenged, defending")
    say(`  [${who}] ${req}game ${line.gameId} opened by ${String(line.challenger).slice(0, 10)}…: defending`);
  else if (line.msg === "game move")
    say(
      `  [${who}] ${req}game ${line.gameId}: ${String(line.move).padEnd(12)} ${at}` +
        (line.move === "challenge" || (String(line.move).startsWith("reveal") && line.phase === "RevealLayers")
          ? ""
          : ` height ${line.height} position ${line.position}`) +
        gas,
    );
  else if (line.msg === "proving one step") say(`  [${who}] game ${line.gameId}: one-step of element ${line.element}`);
  else if (line.msg === "opening the reduction phase")
    say(`  [${who}] game ${line.gameId}: element ${line.element}'s reduction of ${line.fanIn} is beyond one step`);
  else if (line.msg === "game resolved")
    say(
      `  [${who}] ${req}game ${line.gameId}: resolved, winner ${line.winner}` +
        (line.moot === true ? " (moot: the request was already refunded, bond returned)" : ""),
    );
  else if (line.msg === "game credit withdrawn")
    say(`  [${who}] withdraw ${formatEther(BigInt(String(line.amount)))} ETH${gas}`);
  else if (line.msg === "wrong result no longer challengeable")
    say(`  [${who}] ${req}too late to challenge (${line.status})`);
  else if (line.msg === "finalized") say(`  [${who}] ${req}finalize${gas}`);
  else if (line.msg === "generated")
    say(
      `  [${who}] ${req}generated ${line.newTokens} tokens after a prompt of ${line.promptTokens}: ${line.passes} passes`,
    );
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

/** Waits until `party` has logged a line about `id` that `msg` names. */
const logged = (party: SpawnedDaemon, msg: string, id: bigint) =>
  party.waitForLog((line) => line.msg === msg && line.requestId === id.toString());

/** How many games were opened over `id`, and the most that were open at once. */
async function gamesOver(id: bigint): Promise<{ opened: number; mostAtOnce: number }> {
  const challenged = await market.queryFilter(market.filters.ResultChallenged(id));
  return { opened: challenged.length, mostAtOnce: Math.max(0, ...challenged.map((e) => Number(e.args.openGames))) };
}

let ok = false;
try {
  await Promise.all(
    parties.map((p, i) =>
      p.waitForLog((line) => line.msg === (i >= 2 ? "watchtower started" : "provider daemon started")),
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
  // Every game over both requests plays to its end; each challenger withdraws what it is owed.
  await Promise.all([
    logged(watchtower, "game resolved", cheatId),
    grieferParty.waitForLog(
      (line) =>
        line.requestId === cheatId.toString() &&
        (line.msg === "game resolved" || line.msg === "wrong result no longer challengeable"),
    ),
    logged(grieferParty, "game resolved", honestId),
    logged(watchtower, "result checked: trace agrees", honestId),
    logged(cheaterParty, "optimistic result settled", cheatId),
  ]);
  await waitFor(honestId, ["Submitted"]);
  say(`  ... ${WINDOW} s pass (evm_increaseTime)`);
  await local.rpc.send("evm_increaseTime", [WINDOW + 1]);
  await local.rpc.send("evm_mine", []);
  const honestStatus = await waitFor(honestId, ["Finalized", "Refunded"]);
  await logged(honestParty, "optimistic result finalized", honestId);

  const stakeAfter = await registry.stakeOf(actors.cheater.address);
  const userAfter = await market.balanceOf(local.actors.user.address, ZeroAddress);
  const [overCheat, overHonest] = [await gamesOver(cheatId), await gamesOver(honestId)];
  const honestWindowEnd = await market.windowEndOf(honestId);
  const [submitted] = await market.queryFilter(market.filters.OptimisticResultSubmitted(honestId));
  say("");
  say("outcome");
  say(`  request ${cheatId} (cheater)  ${cheatStatus}; requester credited ${formatEther(userAfter - userBefore)} ETH`);
  say(
    `  request ${cheatId} games     ${overCheat.opened} opened, ${overCheat.mostAtOnce} open at once ` +
      `(the watchtower's and the griefer's, each played on its own)`,
  );
  say(`  cheater stake  ${formatEther(stakeBefore)} → ${formatEther(stakeAfter)} ETH (slashed)`);
  say(`  request ${honestId} (honest)   ${honestStatus}; output ${await market.outputOf(honestId)}`);
  say(
    `  request ${honestId} games     ${overHonest.opened} opened (the griefer's, lost); ` +
      `window ${honestWindowEnd === submitted?.args.windowEnd ? "never moved" : "MOVED"}`,
  );
  say(
    `  honest fee     ${formatEther(await market.balanceOf(actors.honest.address, ZeroAddress))} ETH credited in the market`,
  );
  const moves = events.filter((e) => e.line.msg === "game move");
  const gas = (party: Party) => moves.filter((e) => e.party === party).reduce((n, e) => n + Number(e.line.gasUsed), 0);
  say(
    `  games          ${moves.length} moves; gas: watchtower ${gas("watchtower").toLocaleString("en-US")}, ` +
      `griefer ${gas("griefer").toLocaleString("en-US")}, cheater ${gas("cheater").toLocaleString("en-US")}, ` +
      `honest ${gas("honest").toLocaleString("en-US")}`,
  );
  say("");
  say("a transformer served Optimistic: one pass root per forward pass");
  await cheaterParty.stop();
  const decoderOutcomes: { what: string; status: string; before: bigint; after: bigint; id: bigint }[] = [];
  for (const { party, what, cheat } of DECODER_CHEATS) {
    say(
      `  ${party}: the cheater's account serves #${decoderModel} (TEST-ONLY cheat: pass ${cheat.pass}, layer ${cheat.layer}, element ${cheat.element}, +${cheat.delta}: ${what})`,
    );
    const cheating = spawnParty(party, actors.cheater.privateKey, [decoderModel], false, cheat);
    parties.push(cheating);
    await cheating.waitForLog((line) => line.msg === "provider daemon started");
    const before = await registry.stakeOf(actors.cheater.address);
    const id = await opt.ask(decoderModel, PROMPT);
    const status = await waitFor(id, ["Refunded", "Finalized"]);
    await Promise.all([logged(watchtower, "game resolved", id), logged(cheating, "optimistic result settled", id)]);
    await cheating.stop();
    decoderOutcomes.push({ what, status, before, after: await registry.stakeOf(actors.cheater.address), id });
  }
  for (const { what, status, before, after, id } of decoderOutcomes)
    say(`  request ${id} (${what})  ${status}; cheater stake ${formatEther(before)} → ${formatEther(after)} ETH`);
  const grieferLost = events.some(
    (e) =>
      e.party === "griefer" &&
      e.line.msg === "game resolved" &&
      e.line.requestId === honestId.toString() &&
      e.line.winner === "Defender",
  );
  ok =
    cheatStatus === "Refunded" &&
    honestStatus === "Finalized" &&
    stakeAfter < stakeBefore &&
    overCheat.mostAtOnce >= 2 &&
    grieferLost &&
    decoderOutcomes.every((o) => o.status === "Refunded" && o.after < o.before);
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
