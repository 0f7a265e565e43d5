#!/usr/bin/env node
// Entry for `npx verity`: the CLI is TypeScript run by Node's type stripping (Node >= 22.13).
// npx and npm scripts put node_modules/.bin first on PATH, so they run it on the Node 24 pinned
// in devDependencies whatever the system Node is; run directly on an older Node, say so.
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 13)) {
  console.error(`error: verity needs Node 22.13 or later; this is Node ${process.versions.node}.`);
  console.error("  Run it as `npx verity ...` after `npm ci`: npx uses the Node that npm ci installs.");
  process.exit(1);
}
await import("../oracle/cli.ts");
