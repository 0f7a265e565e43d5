import { expect } from "chai";
import { ZeroAddress } from "ethers";
import { startOptimisticSuite, type OptimisticSuite } from "../../oracle/devnet/optimistic-suite.ts";
import { tempDir, waitForStatus } from "./helpers.ts";
import { cheaterAndWatcher, disputeInput, disputeModel, expectWinner, moves, type Party } from "./dispute-helpers.ts";

describe("Optimistic mode: a one-element cheat in a middle layer is bisected and proven (real daemons)", function () {
  this.timeout(120_000);
  const temp = tempDir("verity-dispute-middle-");
  let opt: OptimisticSuite;
  const parties: Party[] = [];

  before(async () => {
    opt = await startOptimisticSuite({ dir: temp.dir, models: [disputeModel], challengeWindowSec: 600 });
  });

  after(async () => {
    for (const party of parties) await party.stop();
    await opt?.close();
    temp.remove();
  });

  it("the watchtower bisects layer 0's three chunks to the cheated chunk and wins at the one-step", async () => {
    const { cheater, watcher } = await cheaterAndWatcher(opt, temp.dir, parties, { layer: 0, element: 2500, delta: 3 });
    const market = opt.local.suite.inferenceMarket;
    const user = opt.local.actors.user.address;
    const before = await market.balanceOf(user, ZeroAddress);
    const id = await opt.ask(opt.modelIds[0]!, disputeInput);
    expect(await waitForStatus(market, id, ["Refunded", "Finalized"], 60_000)).to.equal("Refunded");
    await watcher.waitForLog((line) => line.msg === "game credit withdrawn");
    expectWinner(watcher, "Challenger");
    // Height 2 (3 chunks padded to 4): two reveal/bisect rounds, then the chunk and the step.
    expect(moves(watcher)).to.deep.equal(["challenge", "bisect", "bisect", "proveStep"]);
    expect(moves(cheater)).to.deep.equal(["reveal", "reveal", "revealChunk"]);
    const started = watcher.logs.find((line) => line.msg === "game move" && line.move === "challenge");
    expect(started?.layer).to.equal(0);
    const step = watcher.logs.find((line) => line.msg === "proving one step");
    expect(step?.element).to.equal(2500);
    expect(await market.balanceOf(user, ZeroAddress)).to.equal(before + opt.price);
    const [, , slashes] = await opt.local.suite.providerRegistry.statsOf(opt.actors.cheater.address);
    expect(slashes).to.equal(1n);
  });
});
