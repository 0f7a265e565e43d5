import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, "../..");

describe("npm run demo:dispute", function () {
  this.timeout(180_000);

  it("catches the cheater: bisected, proven on-chain, slashed and refunded; the honest result finalized", async () => {
    const { stdout } = await run(process.execPath, [path.join(root, "scripts/demo-dispute.ts")], { cwd: root });
    expect(stdout).to.match(/game 1: proveStep .* gas [\d,]+/);
    expect(stdout).to.match(/resolved, winner Challenger/);
    expect(stdout).to.match(/request 2 \(cheater\) +Refunded/);
    expect(stdout).to.match(/cheater stake +2\.0 → 1\.5 ETH \(slashed\)/);
    expect(stdout).to.match(/request 1 \(honest\) +Finalized/);
    expect(stdout).to.include("the cheat was caught");
  });
});
