/**
 * One model folder from compilation to serving, through the CLI a model author runs:
 * `model compile --out DIR` (DIR/vqm) → `zk build DIR` (DIR/zk, with the committed development
 * powers of tau: a few seconds for iris) → `model register DIR --mode zk|optimistic` on a local
 * chain → the config lines it prints, with which a real provider daemon serves both and a
 * watchtower checks the Optimistic result. And the refusals of `model register` before anything
 * is sent.
 */
import { execFile } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { connectSuite } from "../../oracle/chain/connect.ts";
import { parseConfig } from "../../oracle/config/load-config.ts";
import { startOptimisticSuite, type OptimisticSuite } from "../../oracle/devnet/optimistic-suite.ts";
import { spawnDaemon, type SpawnedDaemon } from "../../oracle/devnet/spawn-daemon.ts";
import { layerSpecs, layoutRoot } from "../../oracle/dispute/layout.ts";
import { readModelFolder, resolveModelFolder } from "../../oracle/model/model-folder.ts";
import { writeOnnx } from "../../oracle/model/onnx/write-onnx.ts";
import { quantiseInput } from "../../oracle/model/quantise/fixed-point.ts";
import { createTensor } from "../../oracle/model/tensor.ts";
import { weightsRoot } from "../../oracle/model/vqm/commitments.ts";
import { readZkManifest } from "../../oracle/zk/zk-files.ts";
import { tempDir, waitForStatus } from "../node/helpers.ts";

const exec = promisify(execFile);
const root = path.resolve(import.meta.dirname, "../..");

type Run = { stdout: string; stderr: string; code: number };

describe("a model folder from compile to a serving daemon (CLI, local chain, real daemons)", function () {
  this.timeout(180_000);
  const temp = tempDir("verity-model-folder-");
  /** Named so the ZK build folder (build/zk/<name>) and the verifier's name are this test's own. */
  const dir = path.join(temp.dir, "iris-folder");
  let opt: OptimisticSuite;
  let chain: string[];
  const daemons: SpawnedDaemon[] = [];
  const ids: { zk?: bigint; optimistic?: bigint } = {};
  const printed: { zk?: string; optimistic?: string } = {};

  /** `verity ...args` as the model owner, from the repository root. */
  async function verity(args: string[]): Promise<Run> {
    try {
      const { stdout, stderr } = await exec(process.execPath, [path.join(root, "bin/verity.js"), ...args], {
        cwd: root,
        env: { ...process.env, VERITY_PRIVATE_KEY: opt.local.actors.modelOwner.privateKey, VERITY_DEBUG: "" },
      });
      return { stdout, stderr, code: 0 };
    } catch (error) {
      const failed = error as Run;
      return { stdout: failed.stdout, stderr: failed.stderr, code: failed.code };
    }
  }

  before(async () => {
    opt = await startOptimisticSuite({ dir: temp.dir, models: [] });
    chain = ["--rpc", opt.local.devnet.url, "--deployment", opt.local.deploymentFile, "--dir", opt.local.contentDir];
  });

  after(async () => {
    for (const daemon of daemons) await daemon.stop();
    await opt?.close();
    temp.remove();
    rmSync(path.join(root, "build/zk", path.basename(dir)), { recursive: true, force: true });
  });

  it("model register refuses a non-ONNX file, a contradicting manifest and an unresolved dynamic dim, sending nothing", async () => {
    const nonce = await opt.local.rpc.getTransactionCount(opt.local.actors.modelOwner.address);
    const manifest = path.join(temp.dir, "contradicting.json");
    writeFileSync(manifest, JSON.stringify({ input: { shape: [1, 4] }, output: { shape: [1, 3], dtype: "int32" } }));
    const dynamic = path.join(temp.dir, "dynamic.onnx");
    writeFileSync(dynamic, dynamicOnnx());
    const price = ["--price", "0.01", ...chain];
    const [notOnnx, contradicting, unresolved] = await Promise.all([
      verity(["model", "register", "models/iris/iris.json", ...price]),
      verity(["model", "register", "models/iris/iris.onnx", "--manifest", manifest, ...price]),
      verity(["model", "register", dynamic, ...price]),
    ]);
    expect(notOnnx.stderr.split("\n")[0]).to.equal(
      "error: models/iris/iris.json is not an ONNX model: it holds JSON text.",
    );
    expect(contradicting.stderr.split("\n")[0]).to.equal(
      `error: The manifest's output dtype "int32" is not the ONNX file's float32.`,
    );
    expect(unresolved.stderr.trimEnd().split("\n")).to.deep.equal([
      `error: ${dynamic}'s input "x" [batch, 4] has a dynamic dim 0 ("batch"); the chain registers fixed sizes.`,
      "  Fix it with --dim batch=SIZE (e.g. --dim batch=1: one row per request), or give the input shape in --manifest.",
    ]);
    for (const refused of [notOnnx, contradicting, unresolved]) {
      expect(refused.code).to.equal(1);
      expect(refused.stderr).to.not.match(/^\s+at /m); // no stack trace
    }
    expect(await opt.local.rpc.getTransactionCount(opt.local.actors.modelOwner.address)).to.equal(nonce);
    // Resolved with --dim, it registers as float32 [1, 4] → float32 [1, 3].
    const resolved = await verity(["model", "register", dynamic, "--dim", "batch=1", ...price]);
    expect(resolved.stderr).to.equal("");
    const id = BigInt(/^model (\d+) registered: /m.exec(resolved.stdout)![1]!);
    const registered = await opt.local.suite.modelRegistry.getModel(id);
    expect([registered.inputShape, registered.outputShape]).to.deep.equal([
      [1n, 4n],
      [1n, 3n],
    ]);
  });

  it("compile --out DIR → zk build DIR → register DIR --mode zk: the iris folder round trip", async () => {
    const compiled = await verity([
      "model",
      "compile",
      "models/iris/iris.onnx",
      "--calibration",
      "models/iris/calibration.json",
      "--out",
      dir,
      "--name",
      "iris-vqm",
      "--labels",
      "setosa,versicolor,virginica",
    ]);
    expect(compiled.stderr).to.equal("");
    expect(compiled.stdout).to.include(`wrote ${path.join(dir, "vqm")} in `);
    // The folder holds exactly the committed iris VQM.
    for (const file of ["model.onnx", "manifest.json"])
      expect(readFileSync(path.join(dir, "vqm", file))).to.deep.equal(readFileSync(`models/iris/vqm/${file}`));
    // The VQM folder itself names its model folder.
    expect(resolveModelFolder(path.join(dir, "vqm")).root).to.equal(dir);

    const built = await verity(["zk", "build", dir]);
    expect(built.stderr).to.equal("");
    expect(built.stdout).to.match(/^built .+: 984 constraints, 2 public signals/m);
    expect(built.stdout).to.include(`register it: verity model register ${dir} --mode zk --price ETH`);
    const { manifest } = await readModelFolder(dir);
    expect((await readZkManifest(path.join(dir, "zk"))).modelHash).to.equal(manifest.modelHash);

    const registered = await verity(["model", "register", dir, "--mode", "zk", "--price", "0.01", ...chain]);
    expect(registered.stderr).to.equal("");
    const [, id] =
      /^model (\d+) registered \(Zk, verifier 0x[0-9a-fA-F]{40}\): content bafk\w+, modelHash (0x[0-9a-f]{64})$/m.exec(
        registered.stdout,
      )!;
    ids.zk = BigInt(id!);
    expect(registered.stdout).to.include(
      "  input int8 [1, 4], output int8 [1, 3], labels setosa, versicolor, virginica",
    );
    printed.zk = configLine(registered.stdout, "serve it with, in the provider config:");
    expect(printed.zk).to.equal(`"models": [{ "id": "${id}", "folder": ${JSON.stringify(dir)} }]`);
    const model = await opt.local.suite.modelRegistry.getModel(ids.zk);
    expect(model.modelHash).to.equal(manifest.modelHash);
  });

  it("register DIR --mode optimistic: the roots layout.ts and commitments.ts compute, a window within the bounds", async () => {
    const registry = opt.local.suite.modelRegistry;
    const [min, max] = await registry.challengeWindowBounds();
    const nonce = await opt.local.rpc.getTransactionCount(opt.local.actors.modelOwner.address);
    const outside = await verity([
      "model",
      "register",
      dir,
      "--mode",
      "optimistic",
      "--window",
      `${max + 1n}`,
      "--price",
      "0.01",
      ...chain,
    ]);
    expect(outside.code).to.equal(1);
    expect(outside.stderr.split("\n")[0]).to.equal(
      `error: --window ${max + 1n} is outside this deployment's challenge window bounds, ${min} to ${max} s.`,
    );
    expect(await opt.local.rpc.getTransactionCount(opt.local.actors.modelOwner.address)).to.equal(nonce);

    const registered = await verity(["model", "register", dir, "--mode", "optimistic", "--price", "0.01", ...chain]);
    expect(registered.stderr).to.equal("");
    const { model, manifest } = await readModelFolder(dir);
    const specs = layerSpecs(model);
    const [, id] =
      /^model (\d+) registered \(Optimistic, window 600 s, 2 layers\): content bafk\w+, modelHash (0x[0-9a-f]{64})$/m.exec(
        registered.stdout,
      )!;
    ids.optimistic = BigInt(id!);
    const verification = await registry.verificationOf(ids.optimistic);
    expect(verification.mode).to.equal(2n); // Optimistic
    expect(verification.weightsRoot).to.equal(weightsRoot(model)).and.equal(manifest.weightsRoot);
    expect(verification.layoutRoot).to.equal(layoutRoot(specs));
    expect(verification.layerCount).to.equal(BigInt(specs.length));
    expect(verification.challengeWindow).to.equal(600n); // the default, within [min, max]
    const entry = await registry.getModel(ids.optimistic);
    expect([entry.modelHash, entry.inputDtype, entry.outputDtype]).to.deep.equal([manifest.modelHash, 1n, 1n]); // int8
    // The manifest is in the content store under the printed id.
    const manifestId = /, manifest (bafk\w+)$/m.exec(registered.stdout)![1]!;
    expect(new TextDecoder().decode(await opt.local.content.get(manifestId))).to.equal(
      readFileSync(path.join(dir, "vqm/manifest.json"), "utf8"),
    );
    printed.optimistic = configLine(
      registered.stdout,
      "serve it (provider config) and watch it (watchtower config) with:",
    );
    expect(printed.optimistic).to.equal(`"models": [{ "id": "${id}", "folder": ${JSON.stringify(dir)} }]`);
    expect(configLine(registered.stdout, "or, from the content store alone:")).to.equal(
      `"models": ["${id}"], "dispute": { "manifests": { "${id}": "${manifestId}" } }`,
    );

    // Without --mode the folder's integer ONNX registers as Attested, int8 in and out.
    const attested = await verity(["model", "register", dir, "--price", "0.01", ...chain]);
    const attestedId = BigInt(/^model (\d+) registered: /m.exec(attested.stdout)![1]!);
    expect((await registry.verificationOf(attestedId)).mode).to.equal(0n);
    expect(configLine(attested.stdout, "serve it with, in the provider config:")).to.equal(
      `"models": ["${attestedId}"]   (or [] for every model you opted in to)`,
    );
  });

  it("a provider serves both from the printed folder entries; a watchtower checks the Optimistic result", async () => {
    const zk = ids.zk!;
    const optimistic = ids.optimistic!;
    const folderEntries = (line: string) => (JSON.parse(`{${line}}`) as { models: unknown[] }).models;
    const models = [...folderEntries(printed.zk!), ...folderEntries(printed.optimistic!)];
    // The printed entries are a valid config: both folders taken.
    const parsed = parseConfig({
      text: JSON.stringify({ rpcUrl: opt.local.devnet.url, models }),
      env: {},
      cwd: root,
      baseDir: root,
    });
    expect(parsed.modelFolders).to.deep.equal({ [zk.toString()]: dir, [optimistic.toString()]: dir });

    const honest = connectSuite(opt.local.deployment, opt.actors.honest).providerRegistry;
    for (const id of [zk, optimistic]) await (await honest.optIn(id)).wait();
    const provider = spawnDaemon({
      config: { ...opt.local.daemonConfig(), models, stateDir: path.join(temp.dir, "provider") },
      dir: temp.dir,
      privateKey: opt.actors.honest.privateKey,
    });
    daemons.push(provider);
    const watcher = spawnDaemon({
      config: {
        ...opt.local.daemonConfig(),
        models: folderEntries(printed.optimistic!),
        stateDir: path.join(temp.dir, "watcher"),
      },
      dir: temp.dir,
      name: "watcher",
      privateKey: opt.actors.watcher.privateKey,
      command: ["watch"],
    });
    daemons.push(watcher);
    await Promise.all([
      provider.waitForLog((line) => line.msg === "provider daemon started"),
      watcher.waitForLog((line) => line.msg === "watchtower started"),
    ]);

    const { model } = await readModelFolder(dir);
    const sample = (JSON.parse(readFileSync("models/iris/iris.json", "utf8")) as { samples: { input: number[] }[] })
      .samples[2]!;
    const input = createTensor("int8", [1, 4], quantiseInput(sample.input, model.input.scale));
    const market = opt.local.suite.inferenceMarket;
    const [zkRequest, optimisticRequest] = [await opt.ask(zk, input), await opt.ask(optimistic, input)];
    expect(await waitForStatus(market, zkRequest, ["Finalized"])).to.equal("Finalized");
    await provider.waitForLog((line) => line.msg === "zk model loaded" && line.dir === dir);
    await provider.waitForLog((line) => line.msg === "optimistic model loaded" && line.folder === dir);
    await watcher.waitForLog(
      (line) => line.msg === "result checked: trace agrees" && line.requestId === optimisticRequest.toString(),
    );
    await opt.local.rpc.send("evm_increaseTime", [601]);
    await opt.local.rpc.send("evm_mine", []);
    expect(await waitForStatus(market, optimisticRequest, ["Finalized"])).to.equal("Finalized");
    // Both results are the model's: the same int8 logits.
    const [zkOutput, optimisticOutput] = [await market.outputOf(zkRequest), await market.outputOf(optimisticRequest)];
    expect(zkOutput).to.equal(optimisticOutput);
  });
});

/** The config line printed under `heading` (the next line, trimmed). */
function configLine(stdout: string, heading: string): string {
  const lines = stdout.split("\n");
  const at = lines.indexOf(heading);
  expect(at, `no line "${heading}" in:\n${stdout}`).to.be.greaterThan(-1);
  return lines[at + 1]!.trim();
}

/** A float ONNX model x [batch, 4] → y [batch, 3] (one MatMul), its batch dim left dynamic as exporters leave it. */
function dynamicOnnx(): Uint8Array {
  return writeOnnx({
    graph: {
      name: "dynamic",
      inputs: [{ name: "x", dtype: "float32", shape: ["batch", 4] }],
      outputs: [{ name: "y", dtype: "float32", shape: ["batch", 3] }],
      initializers: [{ name: "w", tensor: createTensor("float32", [4, 3], new Array(12).fill(0.25)) }],
      nodes: [{ name: "mm", opType: "MatMul", inputs: ["x", "w"], outputs: ["y"] }],
    },
  });
}
