import { expect } from "chai";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../../oracle/config/load-config.ts";
import { schemaKeyPaths } from "../../oracle/config/schema.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const example = path.join(root, "config/verity.example.jsonc");
const docs = path.join(root, "docs/configuration.md");

// The example and the reference table must not drift from the schema.
describe("config/verity.example.jsonc and docs/configuration.md", () => {
  it("the example validates", async () => {
    const config = loadConfig({ file: example, env: {} });
    expect(config.rpcUrl).to.equal("http://127.0.0.1:8545");
  });

  it("the example names every schema key (commented-out ones included) with a comment", async () => {
    const text = await readFile(example, "utf8");
    for (const keyPath of schemaKeyPaths()) {
      const leaf = keyPath.split(".").at(-1)!;
      expect(text, `missing key ${keyPath}`).to.match(new RegExp(`"${leaf}"\\s*:`));
    }
  });

  it("the docs table has a row for every schema key", async () => {
    const text = await readFile(docs, "utf8");
    for (const keyPath of schemaKeyPaths()) {
      expect(text, `missing row ${keyPath}`).to.contain(`| \`${keyPath}\``);
    }
  });
});
