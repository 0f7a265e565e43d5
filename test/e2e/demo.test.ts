import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, "../..");

describe("npm start (the local demo)", function () {
  this.timeout(180_000);

  it("serves three attested requests and one ZK request end to end, each Finalized and checked", async () => {
    const { stdout } = await run(process.execPath, [path.join(root, "scripts/demo.ts")], { cwd: root });
    const settled = stdout.split("\n").filter((line) => line.startsWith("settled"));
    expect(settled).to.have.length(4);
    for (const line of settled) expect(line).to.include("status Finalized");
    const attested = settled.filter((line) => !line.includes("(ZK)"));
    const zk = settled.filter((line) => line.includes("(ZK)"));
    expect(attested).to.have.length(3);
    for (const line of attested) {
      expect(line).to.include("= local onnxruntime");
      expect(line).to.match(/fulfil \(claim\+submit\+settle\) \d+/); // claim-free (jobs.claimFree)
    }
    // The ZK request: an int8 input, settled by submitWithProof, equal to the reference executor.
    expect(zk).to.have.length(1);
    expect(zk[0]).to.match(/input int8 \[-?\d+, -?\d+, -?\d+, -?\d+\]/);
    expect(zk[0]).to.include("= reference executor");
    expect(zk[0]).to.match(/proved in \d+\.\d\d s/);
    const gas = Number(/submitWithProof \(verify\+settle\) (\d+)/.exec(zk[0]!)![1]);
    expect(gas).to.be.within(250_000, 500_000); // a Groth16 pairing check (~210k) plus settlement
    // The demo samples are held-out flowers the model classifies correctly, in floats and in integers.
    for (const line of settled) {
      const [, predicted, truth] = /predicted (\w+) \(true: (\w+)\)/.exec(line)!;
      expect(predicted).to.equal(truth);
    }
    expect(stdout).to.match(/stopped {4}daemon \(exit 0\)/);
  });
});
