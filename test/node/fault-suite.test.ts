/**
 * The short fault suite in `npm test` (the long one: `npm run bench:faults`): one mixed run with
 * kill -9, SIGTERM + restart, the node down and hanging, a reorg (snapshot, revert a few blocks
 * later, the dropped requests re-sent with other inputs under the same ids), and requests whose
 * input content is in no store; then every request is Finalized or Refunded, nobody honest
 * slashed, none served twice, no claim/release loop, every output the reference one for its own
 * input, and the market's ETH balance is escrowed + owed.
 */
import { expect } from "chai";
import { runScenario } from "../../scripts/fault-suite.ts";

describe("fault suite (short): kill -9, SIGTERM, RPC down and hanging, reorg, content missing", function () {
  this.timeout(180_000);

  it("every request ends Finalized or Refunded, none twice, no honest slash, and the books balance", async () => {
    const result = await runScenario(
      {
        name: "short mix",
        faults: ["kill9", "sigterm", "rpc-down", "rpc-hang", "reorg", "content-missing"],
        requests: 12,
        missing: 2,
        providers: 1,
        accounts: 3,
        streamSec: 16,
        outageSec: 2,
      },
      { seed: 7, log: () => undefined },
    );
    expect(result.failures).to.deep.equal([]);
    expect(result.finalized).to.equal(12);
    expect(result.refunded).to.equal(2);
    expect(result.wrongOutputs).to.equal(0);
    expect(result.faults.split(", ")).to.have.length(6);
  });
});
