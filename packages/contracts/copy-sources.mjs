// Copies the package's Solidity files from the repository's contracts/ (runs as `prepack`;
// `postpack` removes the copies again). The repository's files are the only source: the package
// cannot drift from what the repository compiles and tests, and test/packages/packages.test.ts
// checks the packed files against them byte for byte.
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const contracts = path.resolve(here, "../../contracts");

/** Package path → repository path (under contracts/). Every interface (the agents' too), the consumer base, the tensor library. */
export function packageSources() {
  const interfaces = readdirSync(path.join(contracts, "interfaces"))
    .filter((name) => name.endsWith(".sol"))
    .sort();
  return [
    ...interfaces.map((name) => `interfaces/${name}`),
    "agents/IAgentAccount.sol",
    "agents/IAgentRegistry.sol",
    "agents/IValidationRegistry.sol",
    "consumer/VerityConsumer.sol",
    "libraries/CanonicalTensor.sol",
  ];
}

/** The folders the copies go to (removed whole by `postpack`). */
export const copiedFolders = ["interfaces", "agents", "consumer", "libraries"];

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const clean = process.argv.includes("--clean");
  for (const folder of copiedFolders) rmSync(path.join(here, folder), { recursive: true, force: true });
  if (!clean) {
    for (const file of packageSources()) {
      const from = path.join(contracts, file);
      if (!existsSync(from)) {
        console.error(`error: ${from} is missing: the package is built from the repository's contracts/.`);
        process.exit(1);
      }
      mkdirSync(path.dirname(path.join(here, file)), { recursive: true });
      copyFileSync(from, path.join(here, file));
    }
    console.log(`copied ${packageSources().length} Solidity files from contracts/`);
  }
}
