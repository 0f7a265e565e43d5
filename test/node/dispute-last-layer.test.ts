import { expect } from "chai";
import { ZeroAddress } from "ethers";
import { startOptimisticSuite, type OptimisticSuite } from "../../oracle/devnet/optimistic-suite.ts";
import { tempDir, waitForStatus } from "./helpers.ts";
import {
  advance,
  checkedHonestResult,
  disputeInput,
  disputeModel,
  expectWinner,
  moves,
  startParty,
  type Party,
} from "./dispute-helpers.ts";

describe("Optimistic mode: an honest result finalizes, a last-layer cheat is caught (real daemons)", function () {
  this.timeout(120_000);
  const temp = tempDir("verity-dispute-last-");
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

  it("an honest provider's result is checked by the watchtower and finalized by the provider after the window", async () => {
    const { honest, id } = await checkedHonestResult(opt, temp.dir, parties);
    const market = opt.local.suite.inferenceMarket;
    await advance(opt, 601);
    expect(await waitForStatus(market, id, ["Finalized"])).to.equal("Finalized");
    const [, provider] = await Promise.all([
      honest.waitForLog((line) => line.msg === "optimistic result finalized"),
      market.balanceOf(opt.actors.honest.address, ZeroAddress),
    ]);
    expect(provider).to.be.greaterThan(0n);
    await honest.stop();
  });

  it("a cheat in the last layer: challenged, proven on-chain, the cheater slashed, the requester refunded", async () => {
    const cheater = await startParty(opt, temp.dir, {
      name: "cheater",
      wallet: opt.actors.cheater,
      cheat: { layer: 2, element: 0, delta: 1 },
    });
    parties.push(cheater);
    const watcher = parties[1]!;
    const market = opt.local.suite.inferenceMarket;
    const stake = await opt.local.suite.providerRegistry.stakeOf(opt.actors.cheater.address);
    const refundBefore = await market.balanceOf(opt.local.actors.user.address, ZeroAddress);
    const id = await opt.ask(opt.modelIds[0]!, disputeInput);
    expect(await waitForStatus(market, id, ["Refunded", "Finalized"], 60_000)).to.equal("Refunded");
    await watcher.waitForLog((line) => line.msg === "game credit withdrawn");
    expectWinner(watcher, "Challenger");
    expect(moves(watcher)).to.deep.equal(["challenge", "proveStep"]);
    expect(moves(cheater)).to.deep.equal(["revealChunk"]);
    expect(await opt.local.suite.providerRegistry.stakeOf(opt.actors.cheater.address)).to.be.lessThan(stake);
    expect(await market.balanceOf(opt.local.actors.user.address, ZeroAddress)).to.equal(refundBefore + opt.price);
    await cheater.waitForLog((line) => line.msg === "optimistic result settled");
  });
});
