import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, "../..");

describe("npm run demo:llm", function () {
  this.timeout(240_000);

  it("compiles the names GPT, serves six text prompts on-chain, each Finalized and equal to the reference executor", async () => {
    const { stdout } = await run(process.execPath, [path.join(root, "scripts/demo-llm.ts")], { cwd: root });
    const agreement = Number(/top-1 agreement with float ([\d.]+) %/.exec(stdout)?.[1]);
    expect(agreement, stdout).to.be.within(97, 100); // measured 97.5 % (docs/numeric-semantics.md)
    const requests = [
      ...stdout.matchAll(
        /^ {2}request \d+ {2}"([a-z]*)" → "([a-z]*)…?" {2}\(float: "([a-z]*)"\) {2}Finalized in [\d.]+ s, request gas [\d,]+ {2}(.*)$/gm,
      ),
    ];
    expect(requests, stdout).to.have.length(6);
    for (const [, prompt, generated, float, check] of requests) {
      expect(check).to.equal("= reference executor");
      expect(generated!.startsWith(prompt!)).to.equal(true);
      expect(generated!.length).to.be.above(prompt!.length); // a name goes on after its prompt
      expect(float!.startsWith(prompt!)).to.equal(true);
    }
    expect(stdout).to.match(/stopped {5}daemon \(exit 0\) and chain/);
  });
});
