import { expect } from "chai";
import { gamesOf } from "../../oracle/chain/dispute-game.ts";
import { startOptimisticSuite, type OptimisticSuite } from "../../oracle/devnet/optimistic-suite.ts";
import { tempDir, waitForStatus } from "./helpers.ts";
import { disputeInput, disputeModel, expectWinner, moves, startParty, type Party } from "./dispute-helpers.ts";

describe("Optimistic mode: the provider and the watchtower resume a game after a crash (real daemons)", function () {
  this.timeout(120_000);
  const temp = tempDir("verity-dispute-restart-");
  let opt: OptimisticSuite;
  const parties: Party[] = [];
  const cheat = { layer: 0, element: 2500, delta: 3 };

  before(async () => {
    opt = await startOptimisticSuite({ dir: temp.dir, models: [disputeModel], challengeWindowSec: 600 });
  });

  after(async () => {
    for (const party of parties) await party.stop();
    await opt?.close();
    temp.remove();
  });

  it("each side is killed mid-game and restarted from its state folder; the game ends as it would have", async () => {
    const start = async (watch: boolean) => {
      const party = await startParty(opt, temp.dir, {
        name: watch ? "watcher" : "cheater",
        wallet: watch ? opt.actors.watcher : opt.actors.cheater,
        watch,
        ...(watch ? {} : { cheat }),
      });
      parties.push(party);
      return party;
    };
    const cheater = await start(false);
    const watcher = await start(true);
    const market = opt.local.suite.inferenceMarket;
    const id = await opt.ask(opt.modelIds[0]!, disputeInput);

    // The provider crashes after its first reveal; the watchtower bisects and then waits for it.
    await cheater.waitForLog((line) => line.msg === "game move" && line.move === "reveal");
    await cheater.kill();
    await watcher.waitForLog((line) => line.msg === "game move" && line.move === "bisect");
    // The watchtower crashes too, while the game waits for the provider.
    await watcher.kill();
    const [started] = await gamesOf(opt.game, id, { fromBlock: 0 });
    expect((await opt.game.getGame(started!.gameId)).height).to.equal(1n);

    const cheater2 = await start(false);
    await cheater2.waitForLog((line) => line.msg === "game move" && line.move === "reveal");
    const watcher2 = await start(true);
    expect(await waitForStatus(market, id, ["Refunded", "Finalized"], 60_000)).to.equal("Refunded");
    await watcher2.waitForLog((line) => line.msg === "game credit withdrawn");
    expectWinner(watcher2, "Challenger");
    expect(moves(cheater)).to.deep.equal(["reveal"]);
    expect(moves(watcher)).to.deep.equal(["challenge", "bisect"]);
    expect(moves(cheater2)).to.deep.equal(["reveal", "revealChunk"]);
    expect(moves(watcher2)).to.deep.equal(["bisect", "proveStep"]);
    // The restarted daemon did not serve the request again.
    expect((await market.queryFilter(market.filters.OptimisticResultSubmitted(id))).length).to.equal(1);
  });
});
