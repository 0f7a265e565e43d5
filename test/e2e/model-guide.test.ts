/**
 * Plays docs/model-guide.md, command for command, in a folder laid out as a clone (the repo's
 * node_modules, build output, contracts, circuits and models linked in): compiles the iris
 * classifier and the names decoder, inspects and runs them, builds iris's Zk artifacts, registers
 * iris as Zk and names as Optimistic on a devnet, serves both from their folders and requests a
 * classification and a generated text. The commands come from the document's fenced blocks
 * (doc-blocks.ts), and the figures the page shows must be the ones the commands print.
 * Test-only: the devnet the page starts in the background is started here on a free port.
 */
import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { readOnnx } from "../../oracle/model/onnx/read-onnx.ts";
import { writeOnnx } from "../../oracle/model/onnx/write-onnx.ts";
import { createTensor } from "../../oracle/model/tensor.ts";
import { tempDir } from "../node/helpers.ts";
import { commandsOf, docBlocks, type ShellBlock } from "./doc-blocks.ts";
import { background, PRELUDE, readerEnv, runShell, waitForOutput } from "./doc-shell.ts";

const root = path.resolve(import.meta.dirname, "../..");
const docFile = path.join(root, "docs/model-guide.md");

/** The blocks the document has, in order: adding, removing or moving a step is a change to this test. */
const STEPS = [
  "export-hf:skip",
  "compile-classifier:run",
  "compile-decoder:run",
  "inspect:run",
  "zk:run",
  "devnet:env",
  "register:run",
  "provider:background",
  "request:run",
];

/** What a clone has that the commands read: packages, the Hardhat build and config, sources, models. */
const CLONE = [
  "node_modules",
  "package.json",
  "hardhat.config.ts",
  "tsconfig.json",
  ".prettierrc.json",
  "artifacts",
  "contracts",
  "circuits",
  "models",
];

describe("docs/model-guide.md, played on a devnet with the iris classifier and the names decoder", function () {
  this.timeout(180_000);
  const scratch = tempDir("verity-model-guide-");
  const dir = scratch.dir;
  const children: ChildProcess[] = [];
  const doc = readFileSync(docFile, "utf8");
  const blocks = docBlocks(doc, "docs/model-guide.md");
  const shell = blocks.filter((block): block is ShellBlock => block.kind === "sh");
  const step = (id: string) => shell.find((block) => block.id === id)!;
  const env = readerEnv(root);
  const run = async (id: string): Promise<string> => {
    const ran = await runShell(PRELUDE + step(id).body, dir, env);
    if (ran.code !== 0)
      throw new Error(
        `step ${id} (docs/model-guide.md:${step(id).line}) exited ${ran.code}\n${ran.stdout}\n${ran.stderr}`,
      );
    return ran.stdout;
  };
  /** A line the page shows as output: the command printed it too. */
  const shown = (output: string, line: string) => {
    expect(doc, "the page shows it").to.include(line);
    expect(output).to.include(line);
  };

  before(() => {
    for (const name of CLONE) symlinkSync(path.join(root, name), path.join(dir, name));
    for (const block of blocks) if (block.kind === "file") writeFileSync(path.join(dir, block.name), block.body);
  });

  after(() => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    scratch.remove();
  });

  it("compiles, inspects, proves, registers, serves and requests both models", async () => {
    expect(shell.map((block) => `${block.id}:${block.mode}`)).to.deep.equal(STEPS);

    // 2. Compile: the reports the page shows.
    const classifier = await run("compile-classifier");
    shown(
      classifier,
      "chain limits (Zk, Optimistic): input 15 of 32768 bytes, output 14 of 4096 bytes, 2 of 1024 layers",
    );
    shown(classifier, "  top-1 agreement   100.00 %");
    const decoder = await run("compile-decoder");
    shown(
      decoder,
      "names-gpt: decoder, 41 layers per pass, 60539 parameters, context 16, vocabulary 27, prompt 8, new tokens 6, bos 0",
    );
    shown(decoder, "agreement with the float model on 24 sequences (166 positions):");
    shown(decoder, "  top-1 next token   98.19 %");
    shown(decoder, "  greedy after [0]: float [1,12,12,9,19,0], integer [1,12,12,9,14,0]");
    expect(readFileSync(path.join(dir, "build/names/vqm/tokenizer.json"))).to.deep.equal(
      readFileSync(path.join(root, "models/names/tokenizer.json")),
    );

    // 3. Inspect and run: both engines give the integers the request gets back in step 5.
    const inspected = await run("inspect");
    expect(inspected.match(/^output int8 \[1, 3\]: 55 -28 -22$/gm), inspected).to.have.length(2);
    await run("zk");
    for (const file of ["circuit.zkey", "vkey.json", "Verifier.sol"])
      expect(existsSync(path.join(dir, "build/iris/zk", file)), file).to.equal(true);

    // 4. The devnet the page starts in the background, on a free port here; its key.
    const [devnet, key] = commandsOf(step("devnet"));
    expect(devnet).to.equal("npx verity devnet --block-time 1 &");
    const exported = /^export VERITY_PRIVATE_KEY=(0x[0-9a-f]{64})$/.exec(key ?? "");
    expect(exported, key).to.not.equal(null);
    const chain = spawn(
      process.execPath,
      [path.join(root, "bin/verity.js"), "devnet", "--block-time", "1", "--port", "0"],
      { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] },
    );
    children.push(chain);
    env.VERITY_RPC_URL = await waitForOutput(chain, (text) => /^chain\s+(http:\/\/\S+)/m.exec(text)?.[1], 60_000);
    env.VERITY_PRIVATE_KEY = exported![1];

    const registered = await run("register");
    expect(registered).to.match(/^model 1 registered \(Zk, verifier 0x[0-9a-fA-F]{40}\)/m);
    expect(registered).to.match(/^model 2 registered \(Optimistic, window 5 s, 41 layers\)/m);
    expect(registered).to.include('"models": [{ "id": "2", "folder": ');

    // 5. Serve from the folders; request a class and a text.
    const provider = background(step("provider"), dir, env, children);
    await provider.waitForLog("provider daemon started");
    const requested = await run("request");
    shown(requested, "request 1 Finalized: int8[1, 3] = [55, -28, -22]");
    shown(requested, 'prompt "mar": ids 0, 13, 1, 18 (padded with -1 to 8)');
    expect(requested).to.match(/^argmax 0;/m);
    // "mar" → "marie", as the float model writes it.
    shown(requested, "request 2 Finalized: int32[1, 6] = [9, 5, 0, 8, 0, 8]");
    shown(requested, 'generated "ie" (it ends at the boundary "."; every token: "ie.h.h")');
    expect(await provider.stop()).to.equal(0);
  });

  it("refuses a causal mask built with Where as the page shows", async () => {
    // The names model with its first block's additive mask replaced by a Where (as newer exporters write it).
    const onnx = readOnnx(new Uint8Array(readFileSync(path.join(root, "models/names/names.onnx"))));
    const graph = onnx.graph;
    const mask = graph.nodes.find((node) => node.name === "/transformer/h.0/attn/causal_mask/Add")!;
    graph.initializers.push({ name: "cond", tensor: createTensor("uint8", [1, 1, 16, 16], new Array(256).fill(1)) });
    Object.assign(mask, { opType: "Where", inputs: ["cond", mask.inputs[0]!, "attn.causal_mask"] });
    writeFileSync(path.join(dir, "where.onnx"), writeOnnx({ graph }));

    const ran = await runShell(
      `${PRELUDE}npx verity model compile where.onnx --calibration names-prompts.json --out build/where`,
      dir,
      env,
    );
    expect(ran.code).to.equal(1);
    const first = ran.stderr.split("\n")[0]!;
    expect(first).to.match(/^error: Unsupported op Where at node "\/transformer\/h\.0\/attn\/causal_mask\/Add"/);
    expect(doc).to.include(first);
    expect(existsSync(path.join(dir, "build/where"))).to.equal(false);
  });
});
