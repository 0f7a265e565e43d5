import { expect } from "chai";
import { startOptimisticSuite, type OptimisticSuite } from "../../oracle/devnet/optimistic-suite.ts";
import { tempDir, waitForStatus } from "./helpers.ts";
import { advance, disputeInput, disputeModel, expectWinner, moves, startParty, type Party } from "./dispute-helpers.ts";

const CLOCK = 1800;
const WINDOW = 600;

describe("Optimistic mode: false challenges and timeouts (real daemons)", function () {
  this.timeout(120_000);
  const temp = tempDir("verity-dispute-adv-");
  let opt: OptimisticSuite;
  const parties: Party[] = [];
  const start = async (...args: Parameters<typeof startParty>) => {
    const party = await startParty(...args);
    parties.push(party);
    return party;
  };
  const falseWatcher = { name: "liar", watch: true, cheat: { layer: 0, element: 1200, delta: 2 } };

  before(async () => {
    opt = await startOptimisticSuite({
      dir: temp.dir,
      models: [disputeModel],
      challengeWindowSec: WINDOW,
      game: { clockSec: CLOCK },
    });
  });

  after(async () => {
    for (const party of parties) await party.stop();
    await opt?.close();
    temp.remove();
  });

  it("a false challenge against an honest provider: played to the one-step, the challenger loses its bond, the result finalizes", async () => {
    const honest = await start(opt, temp.dir, { name: "honest", wallet: opt.actors.honest });
    const liar = await start(opt, temp.dir, { ...falseWatcher, wallet: opt.actors.watcher });
    const market = opt.local.suite.inferenceMarket;
    const id = await opt.ask(opt.modelIds[0]!, disputeInput);
    await liar.waitForLog((line) => line.msg === "game resolved");
    expectWinner(liar, "Defender");
    expect(moves(liar)).to.deep.equal(["challenge", "bisect", "bisect", "proveStep"]);
    expect(moves(honest)).to.deep.equal(["reveal", "reveal", "revealChunk"]);
    expect(await waitForStatus(market, id, ["Submitted"])).to.equal("Submitted");
    const withdrawn = await honest.waitForLog((line) => line.msg === "game credit withdrawn");
    expect(BigInt(String(withdrawn.amount))).to.equal((await opt.game.requiredBond(id)) / 2n); // half the bond
    // The game neither froze nor extended the window.
    const [submitted] = await market.queryFilter(market.filters.OptimisticResultSubmitted(id));
    expect(await market.windowEndOf(id)).to.equal(submitted!.args.windowEnd);
    await liar.stop();
    await advance(opt, WINDOW + 1);
    expect(await waitForStatus(market, id, ["Finalized"])).to.equal("Finalized");
    await honest.stop();
  });

  it("a silent defender: the watchtower claims the timeout and wins", async () => {
    const cheater = await start(opt, temp.dir, {
      name: "cheater",
      wallet: opt.actors.cheater,
      cheat: { layer: 0, element: 10, delta: 1 },
    });
    const market = opt.local.suite.inferenceMarket;
    const id = await opt.ask(opt.modelIds[0]!, disputeInput);
    await cheater.waitForLog((line) => line.msg === "optimistic result submitted");
    await cheater.stop();
    const watcher = await start(opt, temp.dir, { name: "watcher", wallet: opt.actors.watcher, watch: true });
    await watcher.waitForLog((line) => line.msg === "game move" && line.move === "challenge");
    await advance(opt, CLOCK + 1);
    expect(await waitForStatus(market, id, ["Refunded"])).to.equal("Refunded");
    await watcher.waitForLog((line) => line.msg === "game resolved");
    expectWinner(watcher, "Challenger");
    expect(moves(watcher)).to.deep.equal(["challenge", "claimTimeout"]);
    await watcher.stop();
  });

  it("a silent challenger: the provider claims the timeout and the result stands", async () => {
    const market = opt.local.suite.inferenceMarket;
    const registry = opt.local.suite.providerRegistry;
    const honestStake = await registry.stakeOf(opt.actors.honest.address);
    const liar = await start(opt, temp.dir, { ...falseWatcher, name: "liar2", wallet: opt.actors.watcher });
    const id = await opt.ask(opt.modelIds[0]!, disputeInput);
    const honest = await start(opt, temp.dir, { name: "honest2", wallet: opt.actors.honest });
    await liar.waitForLog((line) => line.msg === "game move" && line.move === "challenge");
    await liar.stop();
    await honest.waitForLog((line) => line.msg === "game move" && line.move === "reveal");
    await advance(opt, CLOCK + 1);
    await honest.waitForLog((line) => line.msg === "game move" && line.move === "claimTimeout");
    await honest.waitForLog((line) => line.msg === "game credit withdrawn");
    expect(await registry.stakeOf(opt.actors.honest.address)).to.equal(honestStake);
    // The clock (1800 s) outlasted the window (600 s), which the game did not move: the result
    // finalizes as soon as its last game is over.
    expect(await waitForStatus(market, id, ["Finalized"])).to.equal("Finalized");
    expect(await opt.local.rpc.getBlock("latest").then((b) => BigInt(b!.timestamp))).to.be.lessThan(
      (await market.windowEndOf(id)) + 2n * BigInt(CLOCK),
    );
  });
});
