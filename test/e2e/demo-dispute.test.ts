import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, "../..");

describe("npm run demo:dispute", function () {
  this.timeout(180_000);

  it("catches the cheater: bisected, proven on-chain, slashed and refunded; a second challenger plays its own game; the honest result finalized; a transformer's changed token and attention score slashed", async () => {
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
    // A transformer: a changed generated token and a changed attention score (layer 8, the first
    // block's scores), each challenged at pass 5, narrowed to its layer and proven on-chain.
    expect(stdout).to.match(/\[watchtower *\] request 3: re-executed, first differing pass 5: challenge/);
    expect(stdout).to.match(/\[token-cheat\] request 3: game \d+: revealLayers +pass 5 +gas [\d,]+/);
    expect(stdout).to.match(/\[watchtower *\] request 3: game \d+: revealChallengerLayers pass 5 layer 40 +gas/);
    expect(stdout).to.match(
      /\[watchtower *\] request 3: game \d+: proveStep +pass 5 layer 40 height 0 position 0 +gas/,
    );
    expect(stdout).to.match(/\[watchtower *\] request 4: game \d+: proveStep +pass 5 layer 8 height 0 position 0 +gas/);
    expect(stdout).to.match(/request 3 \(generated token gen\[2\] changed\) +Refunded; cheater stake 1\.5 → 1\.0 ETH/);
    expect(stdout).to.match(/request 4 \(one attention score changed\) +Refunded; cheater stake 1\.0 → 0\.5 ETH/);
    expect(stdout).to.include("the cheat was caught");
  });
});
