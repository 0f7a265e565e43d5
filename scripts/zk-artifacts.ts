/**
 * Rebuilds the committed ZK artifacts (never run by the tests, which use the committed files):
 * - models/iris/zk/ and contracts/verify/IrisVerifier.sol (the demo model);
 * - test/zk/fixtures/other-4-8-3/ and contracts/test/OtherGroth16Verifier.sol: a synthetic
 *   model with iris' shapes and different weights, whose proofs the iris verifier must refuse.
 * Both use the development powers of tau circuits/ptau/verity-dev-12.ptau (made if missing).
 *
 *   node scripts/zk-artifacts.ts
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import * as prettier from "prettier";
import { syntheticMlp } from "../oracle/model/vqm/synthetic-vqm.ts";
import { writeVqm } from "../oracle/model/vqm/vqm-files.ts";
import { buildZk } from "../oracle/zk/build-zk.ts";
import { projectRoot } from "../oracle/zk/compile-circuit.ts";

const progress = (line: string) => console.log(line);
const at = (...parts: string[]) => join(projectRoot, ...parts);

console.log("== iris ==");
console.log(
  await buildZk({
    modelDir: at("models", "iris"),
    solidityOut: at("contracts", "verify", "IrisVerifier.sol"),
    contractName: "IrisGroth16Verifier",
    progress,
  }),
);

console.log("== other-4-8-3 (test fixture) ==");
const otherDir = at("test", "zk", "fixtures", "other-4-8-3");
await writeVqm(join(otherDir, "vqm"), { ...syntheticMlp({ seed: 4083, sizes: [4, 8, 3] }), name: "other-4-8-3" });
console.log(
  await buildZk({
    modelDir: otherDir,
    solidityOut: at("contracts", "test", "OtherGroth16Verifier.sol"),
    contractName: "OtherGroth16Verifier",
    verifierInZkDir: false,
    progress,
  }),
);

// The fixture's JSON files sit outside prettier's ignored models/ folder: keep them formatted.
for (const file of [
  join(otherDir, "vqm", "manifest.json"),
  join(otherDir, "zk", "vkey.json"),
  join(otherDir, "zk", "zk.json"),
]) {
  const options = (await prettier.resolveConfig(file)) ?? {};
  await writeFile(file, await prettier.format(await readFile(file, "utf8"), { ...options, filepath: file }));
}
