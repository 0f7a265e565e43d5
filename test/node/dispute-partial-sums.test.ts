import { expect } from "chai";
import { ZeroAddress } from "ethers";
import { gamesOf } from "../../oracle/chain/dispute-game.ts";
import { startOptimisticSuite, type OptimisticSuite } from "../../oracle/devnet/optimistic-suite.ts";
import { syntheticInput, syntheticMlp } from "../../oracle/model/vqm/synthetic-vqm.ts";
import { tempDir, waitForStatus } from "./helpers.ts";
import { cheaterAndWatcher, expectWinner, moves, startParty, type Party } from "./dispute-helpers.ts";

/** dense 8 → 20000 (relu), dense 20000 → 2: layer 1's fan-in exceeds one step (16384). */
const FAN_IN = 20000;
const wideModel = syntheticMlp({ seed: 11, sizes: [8, FAN_IN, 2] });
const wideInput = syntheticInput(wideModel, 5);
/** dense 8 → 20000, argmax: layer 1's row exceeds one step too. */
const argmaxModel = syntheticMlp({ seed: 12, sizes: [8, FAN_IN], argmax: true });
const argmaxInput = syntheticInput(argmaxModel, 5);

async function gameOf(opt: OptimisticSuite, id: bigint): Promise<bigint> {
  const [game] = await gamesOf(opt.game, id, { fromBlock: 0 });
  return game!.gameId;
}

describe("Optimistic mode: the reduction phase over a dense fan-in and an argmax row of 20000 (real daemons)", function () {
  this.timeout(120_000);
  const temp = tempDir("verity-dispute-sums-");
  let opt: OptimisticSuite;
  const parties: Party[] = [];

  before(async () => {
    opt = await startOptimisticSuite({ dir: temp.dir, models: [wideModel, argmaxModel], challengeWindowSec: 600 });
  });

  after(async () => {
    for (const party of parties) await party.stop();
    await opt?.close();
    temp.remove();
  });

  it("a cheat in the wide layer: the watchtower opens the sums, the cheater's own S_n gives it away at claimSum", async () => {
    const { cheater, watcher } = await cheaterAndWatcher(opt, temp.dir, parties, { layer: 1, element: 0, delta: 1 });
    const market = opt.local.suite.inferenceMarket;
    const registry = opt.local.suite.providerRegistry;
    const user = opt.local.actors.user.address;
    const stake = await registry.stakeOf(opt.actors.cheater.address);
    const before = await market.balanceOf(user, ZeroAddress);
    const id = await opt.ask(opt.modelIds[0]!, wideInput);
    expect(await waitForStatus(market, id, ["Refunded", "Finalized"], 60_000)).to.equal("Refunded");
    await watcher.waitForLog((line) => line.msg === "game credit withdrawn");
    expectWinner(watcher, "Challenger");
    expect(moves(watcher)).to.deep.equal(["challenge", "openSum"]);
    expect(moves(cheater)).to.deep.equal(["revealChunk", "claimSum"]);
    const opened = watcher.logs.find((line) => line.msg === "opening the reduction phase");
    expect([opened?.layer, opened?.element, opened?.fanIn]).to.deep.equal([1, 0, FAN_IN]);
    const gameId = await gameOf(opt, id);
    const claimed = await opt.game.queryFilter(opt.game.filters.SumClaimed(gameId));
    expect(claimed.map((log) => log.args.consistent)).to.deep.equal([false]);
    expect(await registry.stakeOf(opt.actors.cheater.address)).to.be.lessThan(stake);
    const [, , slashes] = await registry.statsOf(opt.actors.cheater.address);
    expect(slashes).to.equal(1n);
    expect(await market.balanceOf(user, ZeroAddress)).to.equal(before + opt.price);
    await cheater.waitForLog((line) => line.msg === "optimistic result settled");
    await Promise.all([cheater.stop(), watcher.stop()]);
  });

  it("a wrong watchtower against an honest provider: sums bisected across a restart, the last range proven, the provider wins", async () => {
    const honest = await startParty(opt, temp.dir, { name: "honest", wallet: opt.actors.honest });
    // A watchtower whose own layer 1 is wrong (TEST-ONLY cheat): it agrees with every honest sum.
    const liar = await startParty(opt, temp.dir, {
      name: "liar",
      wallet: opt.actors.watcher,
      watch: true,
      cheat: { layer: 1, element: 1, delta: 2 },
    });
    parties.push(honest, liar);
    const market = opt.local.suite.inferenceMarket;
    const id = await opt.ask(opt.modelIds[0]!, wideInput);
    // The watchtower crashes once it has opened the sums; restarted, it re-reads the game and goes on.
    await liar.waitForLog((line) => line.msg === "game move" && line.move === "openSum");
    await liar.kill();
    await honest.waitForLog((line) => line.msg === "game move" && line.move === "postSum");
    const liar2 = await startParty(opt, temp.dir, {
      name: "liar",
      wallet: opt.actors.watcher,
      watch: true,
      cheat: { layer: 1, element: 1, delta: 2 },
    });
    parties.push(liar2);
    await liar2.waitForLog((line) => line.msg === "game resolved" && line.requestId === id.toString(), 60_000);
    expectWinner(liar2, "Defender");
    expect(moves(liar)).to.deep.equal(["challenge", "openSum"]);
    expect(moves(liar2)).to.deep.equal(["pickSum", "proveSumStep"]);
    // The game over, the provider's result is Submitted again; it takes its share of the bond.
    await honest.waitForLog((line) => line.msg === "game credit withdrawn", 30_000);
    expect(moves(honest)).to.deep.equal(["revealChunk", "claimSum", "postSum"]);
    const gameId = await gameOf(opt, id);
    const [proved] = await opt.game.queryFilter(opt.game.filters.SumStepProved(gameId));
    expect([proved!.args.lo, proved!.args.hi]).to.deep.equal([10000n, BigInt(FAN_IN)]);
    expect(proved!.args.computed).to.equal(proved!.args.claimed);
    expect(await waitForStatus(market, id, ["Submitted"])).to.equal("Submitted");
    const [, , slashes] = await opt.local.suite.providerRegistry.statsOf(opt.actors.honest.address);
    expect(slashes).to.equal(0n);
    await Promise.all([honest.stop(), liar2.stop()]);
  });

  it("a cheat in an argmax row of 20000: the watchtower opens the reduction, the cheater's S_n gives it away", async () => {
    const { cheater, watcher } = await cheaterAndWatcher(opt, temp.dir, parties, { layer: 1, element: 0, delta: 1 });
    const market = opt.local.suite.inferenceMarket;
    const id = await opt.ask(opt.modelIds[1]!, argmaxInput);
    expect(await waitForStatus(market, id, ["Refunded", "Finalized"], 60_000)).to.equal("Refunded");
    await watcher.waitForLog((line) => line.msg === "game resolved" && line.requestId === id.toString());
    expectWinner(watcher, "Challenger");
    expect(moves(watcher)).to.deep.equal(["challenge", "openSum"]);
    expect(moves(cheater)).to.deep.equal(["revealChunk", "claimSum"]);
    const opened = watcher.logs.find((line) => line.msg === "opening the reduction phase");
    expect([opened?.layer, opened?.element, opened?.fanIn]).to.deep.equal([1, 0, FAN_IN]);
    const gameId = await gameOf(opt, id);
    const [sum] = await opt.game.queryFilter(opt.game.filters.SumOpened(gameId));
    expect(sum!.args.claimed.length).to.equal(10); // bytes4: the int32 index, little-endian
    const claimed = await opt.game.queryFilter(opt.game.filters.SumClaimed(gameId));
    expect(claimed.map((log) => log.args.consistent)).to.deep.equal([false]);
    const [, , slashes] = await opt.local.suite.providerRegistry.statsOf(opt.actors.cheater.address);
    expect(slashes).to.equal(2n);
  });
});
