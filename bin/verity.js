#!/usr/bin/env node
// Entry for `npx verity`: the CLI is TypeScript run by Node's type stripping (Node >= 22.13;
// npm scripts and npx use the Node 24 pinned in devDependencies).
await import("../oracle/cli.ts");
