// Builds @verity/sdk from the repository's sources (runs as `prepack`, on Node 20 or later):
// compiles index.ts and everything it imports (oracle/sdk, oracle/chain, oracle/model) to
// JavaScript and declarations with the repository's TypeScript, and copies the ABIs and
// bytecode the SDK reads at run time from Hardhat's artifacts. Needs `npx hardhat build` in the
// repository first (artifacts/ and the typechain types/).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "../..");
const dist = path.join(here, "dist");

function fail(message, ...details) {
  console.error(`error: ${message}`);
  for (const line of details) console.error(line);
  process.exit(1);
}

const artifactsDir = path.join(repoRoot, "artifacts", "contracts");
if (!existsSync(artifactsDir) || !existsSync(path.join(repoRoot, "types", "ethers-contracts")))
  fail("No compiled contracts in the repository.", "Run `npx hardhat build` at the repository root first.");

let tsc;
try {
  tsc = createRequire(path.join(repoRoot, "package.json")).resolve("typescript/bin/tsc");
} catch {
  fail("The repository's TypeScript is not installed.", "Run `npm ci` at the repository root first.");
}

rmSync(dist, { recursive: true, force: true });
try {
  execFileSync(process.execPath, [tsc, "-p", path.join(here, "tsconfig.build.json")], { stdio: "inherit" });
} catch {
  fail("TypeScript could not compile the SDK (see above).");
}

// Declarations keep the sources' `.ts` import paths; point them at the emitted `.js`/`.d.ts`.
for (const file of walk(dist))
  if (file.endsWith(".d.ts"))
    writeFileSync(
      file,
      readFileSync(file, "utf8").replace(/(from\s+|import\()(["'])(\.{1,2}\/[^"']*?)\.ts\2/g, "$1$2$3.js$2"),
    );

// The contracts the SDK reads artifacts of: every one `oracle/chain/artifacts.ts` names, test
// contracts aside. Only what the SDK uses is kept (no sources, no build info).
const artifactsSource = readFileSync(path.join(repoRoot, "oracle", "chain", "artifacts.ts"), "utf8");
const named = [...artifactsSource.matchAll(/^\s+(\w+): "(contracts\/[^"]+\.sol)",$/gm)].filter(
  ([, , source]) => !source.startsWith("contracts/test/"),
);
if (named.length === 0) fail("Found no contract names in oracle/chain/artifacts.ts.");
for (const [, name, source] of named) {
  const from = path.join(repoRoot, "artifacts", source, `${name}.json`);
  if (!existsSync(from)) fail(`No artifact for ${name} (${from}).`, "Run `npx hardhat build` first.");
  const { _format, contractName, sourceName, abi, bytecode, deployedBytecode } = JSON.parse(readFileSync(from, "utf8"));
  const to = path.join(dist, "artifacts", source, `${name}.json`);
  mkdirSync(path.dirname(to), { recursive: true });
  writeFileSync(to, JSON.stringify({ _format, contractName, sourceName, abi, bytecode, deployedBytecode }));
}
console.log(`built ${path.relative(process.cwd(), dist) || "dist"} (${named.length} contract artifacts)`);

function* walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(full);
    else yield full;
  }
}
