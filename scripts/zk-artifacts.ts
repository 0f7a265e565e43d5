/**
 * Rebuilds the committed ZK artifacts (never run by the tests, which use the committed files):
 * - models/iris/zk/ and contracts/verify/IrisVerifier.sol (the demo model);
 * - test/zk/fixtures/other-4-8-3/ and contracts/test/OtherGroth16Verifier.sol: a synthetic
 *   model with iris' shapes and different weights, whose proofs the iris verifier must refuse.
 * Both use the development powers of tau circuits/ptau/verity-dev-12.ptau (made if missing).
 * - models/spam/zk/ and contracts/verify/SpamVerifier.sol (the agent demo's model): only what a
 *   prover and the chain need (circuit.wasm, circuit.zkey, vkey.json, Verifier.sol, zk.json; not
 *   the circuit source, r1cs or symbols, which `verity zk build models/spam` remakes). Its 7.9k
 *   constraints need the development powers of tau 2^13, made locally under build/zk/ptau/ if
 *   missing (about 3 min; never downloaded, never committed).
 *
 *   node scripts/zk-artifacts.ts [iris] [other] [spam]    (default: all three)
 */
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import * as prettier from "prettier";
import { syntheticMlp } from "../oracle/model/vqm/synthetic-vqm.ts";
import { writeVqm } from "../oracle/model/vqm/vqm-files.ts";
import { buildZk } from "../oracle/zk/build-zk.ts";
import { projectRoot } from "../oracle/zk/compile-circuit.ts";
import { zkPath } from "../oracle/zk/zk-files.ts";

const progress = (line: string) => console.log(line);
const at = (...parts: string[]) => join(projectRoot, ...parts);
const targets = ["iris", "other", "spam"];
const selected = process.argv.slice(2);
for (const name of selected)
  if (!targets.includes(name)) throw new Error(`Unknown target ${name}: choose among ${targets.join(", ")}.`);
const wanted = (name: string) => selected.length === 0 || selected.includes(name);

if (wanted("iris")) {
  console.log("== iris ==");
  console.log(
    await buildZk({
      modelDir: at("models", "iris"),
      solidityOut: at("contracts", "verify", "IrisVerifier.sol"),
      contractName: "IrisGroth16Verifier",
      progress,
    }),
  );
}

if (wanted("other")) {
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
}

if (wanted("spam")) {
  console.log("== spam ==");
  const spamZk = at("models", "spam", "zk");
  console.log(
    await buildZk({
      modelDir: at("models", "spam"),
      solidityOut: at("contracts", "verify", "SpamVerifier.sol"),
      contractName: "SpamGroth16Verifier",
      progress,
    }),
  );
  // What neither the prover nor the chain reads stays in build/zk/spam: the circuit source
  // (150 kB), the constraint system and the symbols (MBs).
  for (const file of ["circuit", "r1cs", "sym"] as const) await rm(zkPath(spamZk, file));
}
