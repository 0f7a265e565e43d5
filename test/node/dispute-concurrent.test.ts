import { expect } from "chai";
import { ZeroAddress } from "ethers";
import { gamesOf } from "../../oracle/chain/dispute-game.ts";
import type { DaemonLogLine } from "../../oracle/devnet/spawn-daemon.ts";
import { startOptimisticSuite, type OptimisticSuite } from "../../oracle/devnet/optimistic-suite.ts";
import { sleep } from "../../oracle/util/retry.ts";
import { tempDir, waitForStatus } from "./helpers.ts";
import {
  advance,
  disputeInput,
  disputeModel,
  fundedWallet,
  moves,
  resolutions,
  startParty,
  type Party,
} from "./dispute-helpers.ts";

const WINDOW = 600;

/** The ETH a party withdrew from the game, from its logs. */
function withdrawn(party: Party): bigint {
  return party.logs
    .filter((line) => line.msg === "game credit withdrawn")
    .reduce((n, line) => n + BigInt(String(line.amount)), 0n);
}

async function eventually(check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out: ${what}`);
    await sleep(100);
  }
}

describe("Optimistic mode: concurrent games over one result (real daemons)", function () {
  this.timeout(180_000);
  const temp = tempDir("verity-dispute-concurrent-");
  let opt: OptimisticSuite;
  const parties: Party[] = [];
  const start = async (...args: Parameters<typeof startParty>) => {
    const party = await startParty(...args);
    parties.push(party);
    return party;
  };

  before(async () => {
    opt = await startOptimisticSuite({ dir: temp.dir, models: [disputeModel], challengeWindowSec: WINDOW });
  });

  after(async () => {
    for (const party of parties) await party.stop();
    await opt?.close();
    temp.remove();
  });

  it("two watchtowers each open and play their own game against one cheat: one slash, the other game moot, both bonds back", async () => {
    const cheater = await start(opt, temp.dir, {
      name: "cheater",
      wallet: opt.actors.cheater,
      cheat: { layer: 0, element: 2500, delta: 3 },
    });
    const second = await fundedWallet(opt);
    const [w1, w2] = await Promise.all([
      start(opt, temp.dir, { name: "watcher", wallet: opt.actors.watcher, watch: true }),
      start(opt, temp.dir, { name: "watcher2", wallet: second, watch: true }),
    ]);
    const market = opt.local.suite.inferenceMarket;
    const registry = opt.local.suite.providerRegistry;
    const user = opt.local.actors.user.address;
    const stake = await registry.stakeOf(opt.actors.cheater.address);
    const refundBefore = await market.balanceOf(user, ZeroAddress);
    const id = await opt.ask(opt.modelIds[0]!, disputeInput);
    // Hold the defender back until both watchtowers have opened their games, so that the second
    // game is opened while the first is open however loaded the machine is; the restarted daemon
    // picks both games up from the chain.
    await cheater.waitForLog((line) => line.msg === "optimistic result submitted" && line.requestId === id.toString());
    await cheater.stop();
    let open = 0n;
    const until = Date.now() + 60_000;
    while ((open = await market.openGamesOf(id)) < 2n && Date.now() < until) await sleep(100);
    expect(open, "both watchtowers opened a game while the defender was away").to.equal(2n);
    const resumed = await start(opt, temp.dir, {
      name: "cheater",
      wallet: opt.actors.cheater,
      cheat: { layer: 0, element: 2500, delta: 3 },
    });
    expect(await waitForStatus(market, id, ["Refunded", "Finalized"], 60_000)).to.equal("Refunded");
    // Each watchtower plays its own game to the end and withdraws (its reward, or its bond back).
    await Promise.all([w1, w2].map((w) => w.waitForLog((line) => line.msg === "game credit withdrawn", 60_000)));
    const started = await gamesOf(opt.game, id, { fromBlock: 0 });
    expect(started.map((g) => g.challenger).sort()).to.deep.equal([opt.actors.watcher.address, second.address].sort());
    // The second game was opened while the first was open: the result took two games at once.
    const challenged = await market.queryFilter(market.filters.ResultChallenged(id));
    expect(challenged.map((log) => log.args.openGames)).to.deep.equal([1n, 2n]);
    for (const w of [w1, w2]) expect(moves(w)).to.deep.equal(["challenge", "bisect", "bisect", "proveStep"]);
    // The cheater defended both games, each from its own state.
    expect([...moves(cheater), ...moves(resumed)].filter((m) => m === "revealChunk")).to.have.length(2);
    const outcomes = [...resolutions(w1), ...resolutions(w2)].map(([, winner, moot]) => [winner, moot]);
    expect(outcomes).to.have.deep.members([
      ["Challenger", false],
      ["Challenger", true],
    ]);
    // One slash, one refund, whatever the number of games.
    const [, , slashes] = await registry.statsOf(opt.actors.cheater.address);
    expect(slashes).to.equal(1n);
    expect(await registry.stakeOf(opt.actors.cheater.address)).to.equal(stake - (await opt.game.slashAmount()));
    expect(await market.balanceOf(user, ZeroAddress)).to.equal(refundBefore + opt.price);
    expect(await opt.game.bondsHeld()).to.equal(0n);
    for (const w of [opt.actors.watcher.address, second.address]) expect(await opt.game.balanceOf(w)).to.equal(0n);
    await resumed.waitForLog((line) => line.msg === "optimistic result settled" && line.requestId === id.toString());
    await Promise.all([resumed.stop(), w1.stop(), w2.stop()]);
  });

  it("two griefers open false games against an honest result: the provider defends both at once, wins both, and finalizes", async () => {
    const honest = await start(opt, temp.dir, { name: "honest", wallet: opt.actors.honest });
    const [griefer1, griefer2] = [await fundedWallet(opt), await fundedWallet(opt)];
    const [g1, g2] = await Promise.all([
      start(opt, temp.dir, {
        name: "griefer1",
        wallet: griefer1,
        watch: true,
        cheat: { layer: 0, element: 1200, delta: 2 },
      }),
      start(opt, temp.dir, {
        name: "griefer2",
        wallet: griefer2,
        watch: true,
        cheat: { layer: 2, element: 0, delta: 1 },
      }),
    ]);
    const market = opt.local.suite.inferenceMarket;
    const registry = opt.local.suite.providerRegistry;
    const stake = await registry.stakeOf(opt.actors.honest.address);
    const id = await opt.ask(opt.modelIds[0]!, disputeInput);
    const resolved = (line: DaemonLogLine) => line.msg === "game resolved" && line.requestId === id.toString();
    await Promise.all([g1, g2].map((g) => g.waitForLog(resolved, 60_000)));
    expect(resolutions(g1, id).map(([, winner]) => winner)).to.deep.equal(["Defender"]);
    expect(resolutions(g2, id).map(([, winner]) => winner)).to.deep.equal(["Defender"]);
    expect(moves(g1)).to.deep.equal(["challenge", "bisect", "bisect", "proveStep"]);
    expect(moves(g2)).to.deep.equal(["challenge", "proveStep"]);
    // Both games were defended by the one daemon, each answered from its own state.
    const defended = honest.logs.filter((line) => line.msg === "our result is challenged, defending");
    expect(defended.map((line) => String(line.gameId)).sort()).to.deep.equal(
      (await gamesOf(opt.game, id, { fromBlock: 0 })).map((g) => String(g.gameId)).sort(),
    );
    expect(moves(honest).sort()).to.deep.equal(["reveal", "reveal", "revealChunk", "revealChunk"]);
    await eventually(() => resolutions(honest, id).length === 2, "the provider sees both games resolved");
    expect(resolutions(honest, id).map(([, winner, moot]) => [winner, moot])).to.deep.equal([
      ["Defender", false],
      ["Defender", false],
    ]);
    expect(await waitForStatus(market, id, ["Submitted"])).to.equal("Submitted");
    // Half of each lost bond, withdrawn; no stake lost; the window never moved.
    const bond = await opt.game.requiredBond(id);
    await eventually(() => withdrawn(honest) === bond, "the provider withdraws half of each bond");
    expect(await opt.game.balanceOf(opt.actors.honest.address)).to.equal(0n);
    expect(await registry.stakeOf(opt.actors.honest.address)).to.equal(stake);
    await advance(opt, WINDOW + 1);
    expect(await waitForStatus(market, id, ["Finalized"])).to.equal("Finalized");
    await honest.waitForLog((line) => line.msg === "optimistic result finalized" && line.requestId === id.toString());
  });
});
