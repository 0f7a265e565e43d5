import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, "../..");

describe("npm start (the local demo)", function () {
  this.timeout(180_000);

  it("serves three requests end to end, each Finalized and equal to a local onnxruntime run", async () => {
    const { stdout } = await run(process.execPath, [path.join(root, "scripts/demo.ts")], { cwd: root });
    const settled = stdout.split("\n").filter((line) => line.startsWith("settled"));
    expect(settled).to.have.length(3);
    for (const line of settled) {
      expect(line).to.include("status Finalized");
      expect(line).to.include("= local onnxruntime");
    }
    // The demo samples are held-out flowers the model classifies correctly.
    for (const line of settled) {
      const [, predicted, truth] = /predicted (\w+) \(true: (\w+)\)/.exec(line)!;
      expect(predicted).to.equal(truth);
    }
    expect(stdout).to.match(/stopped {4}daemon \(exit 0\)/);
  });
});
