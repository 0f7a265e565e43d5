import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, "../..");

describe("npm run demo:agent", function () {
  this.timeout(240_000);

  it("the guard agent hides every post the model finds spam and keeps the others, within its budget; record and validation consistent", async () => {
    const { stdout } = await run(process.execPath, [path.join(root, "scripts/demo-agent.ts")], { cwd: root });
    const posts = [...stdout.matchAll(/^ {9}label (ham|spam) +model (ham|spam|none) +→ (HIDDEN|kept)(.*)$/gm)];
    expect(posts, stdout).to.have.length(6);
    let hidden = 0;
    let previousBudget = Infinity;
    for (const [, label, model, outcome, rest] of posts) {
      // Every spam decision hidden, every ham decision kept: as the model decided.
      expect(outcome, stdout).to.equal(model === "spam" ? "HIDDEN" : "kept");
      if (model === "spam") {
        hidden++;
        expect(rest).to.include("(action hide: done)");
      } else expect(rest).to.not.include("action hide");
      expect(label).to.be.oneOf(["ham", "spam"]);
      expect(rest).to.match(/wake [\d,]+ gas \(tip 0\.001 ETH to the keeper\)/);
      const wakeGas = Number(/wake ([\d,]+) gas/.exec(rest!)![1]!.replaceAll(",", ""));
      // A wake pays the request and featurises the post on-chain (≈ 47.6k + 132 gas a byte, posts up
      // to 1,200 bytes): 368k–452k today.
      expect(wakeGas).to.be.within(200_000, 600_000);
      const budget = Number(/budget left ([\d.]+) ETH/.exec(rest!)![1]);
      expect(budget).to.be.below(previousBudget); // each post paid a fee and a tip
      previousBudget = budget;
    }
    expect(hidden, stdout).to.be.within(1, 5); // the demo posts spam and ham
    // The off-chain reference executor agreed with every decision (the demo checks it and exits 1 otherwise).
    const [, wakes, requests, results, actions, failed] =
      /wakes (\d+), requests (\d+), results (\d+), actions (\d+) \((\d+) failed\)/.exec(stdout)!;
    expect([wakes, requests, results].map(Number)).to.deep.equal([6, 6, 6]);
    expect(Number(actions)).to.equal(hidden);
    expect(Number(failed)).to.equal(0);
    expect(stdout).to.match(/spent 0\.006 ETH in fees, 0\.006 ETH in keeper tips/);
    expect(stdout).to.match(/keeper: 6 wakes/);
    expect(stdout).to.match(/ERC-8004 validation of the action on post \d+ \(request \d+\): response 100 "zk"/);
    expect(stdout).to.match(/posts hidden, \d+ kept, each as the model decided/);
    expect(stdout).to.match(/stopped {5}daemon \(exit 0\)/);
  });
});
