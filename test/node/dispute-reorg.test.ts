import { expect } from "chai";
import { startOptimisticSuite, type OptimisticSuite } from "../../oracle/devnet/optimistic-suite.ts";
import { tempDir, waitForStatus } from "./helpers.ts";
import { advance, checkedHonestResult, disputeModel, type Party } from "./dispute-helpers.ts";

const FINALIZED = "optimistic result finalized";
const REORG = "chain reorganised, rewinding to the fork";

/**
 * A reorg that drops the provider's `finalize` of an Optimistic result: the result is open on
 * the chain again (Submitted), and the provider (and the watchtower, which follows the same
 * blocks) must take it up again rather than keep it settled in its state file.
 */
describe("Optimistic mode under a reorg (real daemons)", function () {
  this.timeout(180_000);
  const temp = tempDir("verity-dispute-reorg-");
  let opt: OptimisticSuite;
  const parties: Party[] = [];
  const count = (party: Party, msg: string) => party.logs.filter((line) => line.msg === msg).length;

  before(async () => {
    opt = await startOptimisticSuite({ dir: temp.dir, models: [disputeModel], challengeWindowSec: 600 });
  });

  after(async () => {
    for (const party of parties) await party.stop();
    await opt?.close();
    if (!process.env.KEEP_TEMP) temp.remove();
  });

  it("reorg after the finalize was mined: the provider finalizes again, the result is submitted once", async () => {
    const { honest, watcher, id } = await checkedHonestResult(opt, temp.dir, parties);
    const market = opt.local.suite.inferenceMarket;

    const mark = (await opt.local.rpc.send("evm_snapshot", [])) as string;
    await advance(opt, 601);
    expect(await waitForStatus(market, id, ["Finalized"])).to.equal("Finalized");
    await honest.waitForLog((line) => line.msg === FINALIZED);
    await new Promise((resolve) => setTimeout(resolve, 500)); // both daemons read the new head

    expect(await opt.local.rpc.send("evm_revert", [mark])).to.equal(true);
    expect(await waitForStatus(market, id, ["Submitted"])).to.equal("Submitted");
    for (let i = 0; i < 4; i++) {
      await opt.local.rpc.send("evm_mine", []);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    const reorg = await honest.waitForLog((line) => line.msg === REORG, 30_000);
    expect(Number(reorg.resultsReopened)).to.be.greaterThan(0);
    await watcher.waitForLog((line) => line.msg === REORG, 30_000);

    await advance(opt, 601);
    expect(await waitForStatus(market, id, ["Finalized"])).to.equal("Finalized");
    for (const until = Date.now() + 30_000; count(honest, FINALIZED) < 2 && Date.now() < until;)
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect(count(honest, FINALIZED)).to.equal(2);
    expect(await market.queryFilter(market.filters.OptimisticResultSubmitted(id))).to.have.length(1);
  });
});
