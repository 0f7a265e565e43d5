import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, "../..");

describe("npm run demo:dispute", function () {
  this.timeout(180_000);

  it("catches the cheater: bisected, proven on-chain, slashed and refunded; a second challenger plays its own game; the honest result finalized", async () => {
    const { stdout } = await run(process.execPath, [path.join(root, "scripts/demo-dispute.ts")], { cwd: root });
    expect(stdout).to.match(/\[watchtower\] request 2: game \d+: proveStep .* gas [\d,]+/);
    expect(stdout).to.match(/\[watchtower\] request 2: game \d+: resolved, winner Challenger/);
    expect(stdout).to.match(/request 2 \(cheater\) +Refunded/);
    expect(stdout).to.match(/cheater stake +2\.0 → 1\.5 ETH \(slashed\)/);
    expect(stdout).to.match(/request 1 \(honest\) +Finalized/);
    // A second challenger opened its own game over the cheat while the first played.
    expect(stdout).to.match(/\[griefer +\] request 2: re-executed, first differing layer 0: challenge/);
    expect(stdout).to.match(/\[griefer +\] request 2: game \d+: challenge +layer 0 +gas [\d,]+/);
    expect(stdout).to.match(/request 2 games +2 opened, 2 open at once/);
    // Its false game against the honest result lost; the result still finalized, the window unmoved.
    expect(stdout).to.match(/\[griefer +\] request 1: game \d+: resolved, winner Defender/);
    expect(stdout).to.match(/request 1 games +1 opened \(the griefer's, lost\); window never moved/);
    expect(stdout).to.include("the cheat was caught");
  });
});
