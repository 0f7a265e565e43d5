/**
 * `verity provider doctor` as an operator runs it, against a local chain with the iris model
 * registered (served from its registered content) and an Attested decoder served from its model
 * folder: on this CPU-only machine every node of both is listed on CPUExecutionProvider and the
 * command exits 0; with cuda configured it exits 1 with one line naming the CPU fallback and the
 * loader's reason; --json parses to the same findings; without a reachable chain it still shows
 * which providers load before its one-line error.
 */
import { existsSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { expect } from "chai";
import { keccak256 } from "ethers";
import { connectSuite } from "../../oracle/chain/connect.ts";
import { formatsOf, registerModel } from "../../oracle/chain/register-model.ts";
import { startLocalSuite, type LocalSuite } from "../../oracle/devnet/local-suite.ts";
import { DEV_PRIVATE_KEYS } from "../../oracle/devnet/start-devnet.ts";
import { readVqm, writeVqm } from "../../oracle/model/vqm/vqm-files.ts";
import type { DoctorReport } from "../../oracle/node/provider-doctor.ts";
import { integerGraphPinnedReason } from "../../oracle/runtime/integer-graph.ts";
import { namesDecoder, namesTokenizer } from "../../oracle/devnet/names-decoder.ts";
import { tempDir } from "../node/helpers.ts";
import { expectCleanFailure, verity } from "./run-verity.ts";

/** The CUDA provider library the install script adds; this machine's install skips it. */
const cudaLibrary = path.join(
  path.dirname(createRequire(import.meta.url).resolve("onnxruntime-node/package.json")),
  "bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so",
);

describe("verity provider doctor (real onnxruntime, local chain)", function () {
  this.timeout(120_000);
  const temp = tempDir("verity-doctor-");
  let local: LocalSuite;
  let decoderId: bigint;
  const env = { VERITY_PRIVATE_KEY: DEV_PRIVATE_KEYS[2] };

  /** A config file for the provider account serving iris and the decoder; `runtime` as given. */
  const configFile = (name: string, runtime: object): string => {
    const file = path.join(temp.dir, name);
    const decoderFolder = path.join(temp.dir, "decoder");
    const config = local.daemonConfig({
      models: [local.iris.modelId.toString(), { id: decoderId.toString(), folder: decoderFolder }],
      runtime,
    });
    writeFileSync(file, JSON.stringify(config));
    return file;
  };

  before(async () => {
    local = await startLocalSuite({ dir: temp.dir });
    const folder = path.join(temp.dir, "decoder");
    await writeVqm(path.join(folder, "vqm"), namesDecoder(7), { tokenizer: namesTokenizer });
    const { onnx, manifest } = await readVqm(path.join(folder, "vqm"));
    decoderId = await registerModel(connectSuite(local.deployment, local.actors.modelOwner).modelRegistry, {
      modelHash: keccak256(onnx),
      contentId: await local.content.add(onnx),
      price: 10n ** 15n,
      royaltyBps: 500,
      ...formatsOf(manifest),
    });
  });

  after(async () => {
    await local?.close();
    temp.remove();
  });

  it("on the CPU provider: lists every node of iris and of the decoder on CPUExecutionProvider, exit 0", async () => {
    const result = await verity(
      ["provider", "doctor", "--config", configFile("cpu.json", { executionProvider: "cpu" })],
      {
        env,
      },
    );
    const context = `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
    expect(result.code, context).to.equal(0);
    const lines = result.stdout.split("\n");
    expect(lines[0]).to.equal("onnxruntime-node 1.30.0, runtime.executionProvider = cpu");
    expect(lines[1]).to.equal("  cpu   loads");
    expect(lines[2]).to.match(
      /^ {2}cuda {2}does not load: Failed to load library \S+libonnxruntime_providers_shared\.so/,
    );
    const iris = lines.indexOf(
      `model ${local.iris.modelId} (Attested, registered content ${local.iris.contentId}): onnxruntime on cpu`,
    );
    expect(iris, context).to.be.greaterThan(0);
    expect(lines.slice(iris + 1, iris + 4)).to.deep.equal([
      "  CPUExecutionProvider: 2 nodes",
      "    FusedGemm  fused fc1",
      "    Gemm       fc2",
    ]);
    const decoder = lines.findIndex((line) => line.startsWith(`model ${decoderId} (Attested, model folder `));
    expect(lines[decoder]).to.match(/: onnxruntime on cpu$/);
    const count = Number(/^ {2}CPUExecutionProvider: (\d+) nodes$/.exec(lines[decoder + 1]!)?.[1]);
    expect(count).to.be.greaterThan(10);
    const nodes = lines.slice(decoder + 2, decoder + 2 + count);
    expect(
      nodes.every((line) => /^ {4}\S+ +\S/.test(line)),
      nodes.join("\n"),
    ).to.equal(true);
    expect(nodes.some((line) => line.trim().startsWith("MatMulInteger"))).to.equal(true);
  });

  it("--json parses to the same findings", async () => {
    const result = await verity(
      ["provider", "doctor", "--json", "--config", configFile("cpu-json.json", { executionProvider: "cpu" })],
      { env },
    );
    expect(result.code, result.stderr).to.equal(0);
    const report = JSON.parse(result.stdout) as DoctorReport & { ok: boolean };
    expect(report.ok).to.equal(true);
    expect(report.configured).to.equal("cpu");
    expect(report.providers.map((status) => [status.provider, status.loads])).to.deep.equal([
      ["cpu", true],
      ["cuda", false],
    ]);
    expect(report.models.map((model) => model.modelId)).to.deep.equal([
      local.iris.modelId.toString(),
      decoderId.toString(),
    ]);
    for (const model of report.models) {
      const [placement, ...others] = model.placement!.placements;
      expect(others).to.deep.equal([]);
      expect(placement!.provider).to.equal("CPUExecutionProvider");
      expect(placement!.nodes).to.have.length(placement!.count);
    }
  });

  it("without a reachable chain: still shows what loads here, then fails in one line", async () => {
    const file = path.join(temp.dir, "no-chain.json");
    writeFileSync(file, JSON.stringify(local.daemonConfig({ rpcUrl: "http://127.0.0.1:9" })));
    const result = await verity(["provider", "doctor", "--config", file], { env });
    expectCleanFailure(result, "Cannot reach the JSON-RPC node at http://127.0.0.1:9.");
    expect(result.stdout.split("\n").slice(0, 2)).to.deep.equal([
      "onnxruntime-node 1.30.0, runtime.executionProvider = cpu",
      "  cpu   loads",
    ]);
  });

  it("with cuda configured on this machine: exit 1, one line naming the CPU fallback and why", async function () {
    if (existsSync(cudaLibrary)) this.skip(); // a machine with the CUDA provider installed answers otherwise
    const result = await verity(
      ["provider", "doctor", "--config", configFile("cuda.json", { executionProvider: "cuda" })],
      { env },
    );
    expectCleanFailure(
      result,
      /^error: runtime\.executionProvider is cuda but the CUDA provider does not load here, so the daemon falls back to the CPU provider: Failed to load library \S+libonnxruntime_providers_shared\.so with error: .*cannot open shared object file/,
    );
    expect(result.stderr.split("\n")[1]).to.include('docs/operator-guide.md, "CPU or CUDA"');
    // The report still shows what the daemon would run: iris on the CPU after the failed CUDA
    // load, the integer decoder on the CPU by design.
    expect(result.stdout).to.include("  not cuda: CUDA provider unavailable");
    expect(result.stdout).to.include(`  not cuda: ${integerGraphPinnedReason}`);
  });
});
