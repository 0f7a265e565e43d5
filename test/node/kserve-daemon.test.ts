/**
 * A provider daemon with `runtime.backend: "kserve"` on a real local chain, its models on
 * `verity runtime serve`'s server: while the server is down the request waits unserved and
 * `/health` says why; once the server is up the request is Finalized with onnxruntime's output.
 * `verity provider doctor` names the backend, the server's readiness and each model's name.
 */
import { expect } from "chai";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { hexlify } from "ethers";
import { startLocalSuite, type LocalSuite } from "../../oracle/devnet/local-suite.ts";
import type { SpawnedDaemon } from "../../oracle/devnet/spawn-daemon.ts";
import { encodeInlineInput } from "../../oracle/model/input-envelope.ts";
import { encodeTensor } from "../../oracle/model/tensor-codec.ts";
import { createTensor } from "../../oracle/model/tensor.ts";
import { emitOnnx } from "../../oracle/model/vqm/emit-onnx.ts";
import { syntheticMlp } from "../../oracle/model/vqm/synthetic-vqm.ts";
import { createSession } from "../../oracle/runtime/create-session.ts";
import { startKserveServer, type KserveServer } from "../../oracle/runtime/kserve-server.ts";
import { runInference } from "../../oracle/runtime/run-inference.ts";
import { kserveModelName } from "../../oracle/runtime/kserve-client.ts";
import { expectCleanFailure, verity } from "../cli/run-verity.ts";
import { ask, startProviderDaemon, tempDir, waitForStatus } from "./helpers.ts";
import { freePort } from "../e2e/doc-shell.ts";

type HealthBody = { status: string; reasons: string[] };

async function healthUntil(url: string, match: (code: number, body: HealthBody) => boolean): Promise<HealthBody> {
  const end = Date.now() + 20_000;
  for (;;) {
    const response = await fetch(`${url}/health`);
    const body = (await response.json()) as HealthBody;
    if (match(response.status, body)) return body;
    if (Date.now() > end) throw new Error(`/health never matched; last: ${response.status} ${JSON.stringify(body)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("provider daemon with a KServe v2 inference server", function () {
  this.timeout(120_000);
  const temp = tempDir("verity-kserve-daemon-");
  let local: LocalSuite;
  let daemon: SpawnedDaemon | undefined;
  let server: KserveServer | undefined;
  let port: number;

  before(async () => {
    local = await startLocalSuite({ dir: temp.dir });
  });
  after(async () => {
    await daemon?.stop();
    await server?.close();
    await local?.close();
    temp.remove();
  });

  const claimsOf = async (id: bigint) =>
    (await local.suite.inferenceMarket.queryFilter(local.suite.inferenceMarket.filters.RequestClaimed(id))).length;

  /**
   * A daemon (config `overrides`) pointed at a free port where no server listens yet: the request
   * waits (Pending: neither claimed nor served) and /health names the server; so it does while a
   * server there serves other bytes; then the right server starts there and the request is
   * Finalized with onnxruntime's output.
   */
  async function outageThenServe(overrides: Record<string, unknown>): Promise<bigint> {
    await daemon?.stop();
    port = await freePort();
    const runtime = { backend: "kserve", kserve: { url: `http://127.0.0.1:${port}`, timeoutMs: 2000 } };
    daemon = await startProviderDaemon(local, temp.dir, { overrides: { runtime, ...overrides } });
    const metricsUrl = (await daemon.waitForLog((line) => line.msg === "metrics and health served")).url as string;
    const tensor = createTensor("float32", [1, 4], [6.3, 2.5, 5.0, 1.9]);
    const id = await ask(local, encodeInlineInput(tensor));

    const down = await healthUntil(metricsUrl, (code) => code === 503);
    expect(down.reasons.join("\n")).to.match(/inference server failing: .*127\.0\.0\.1:\d+ is unreachable/);
    await daemon.waitForLog((line) => line.msg === "set-up not ready, request kept and tried again at later polls");
    expect(await waitForStatus(local.suite.inferenceMarket, id, ["Pending"])).to.equal("Pending");

    // A server without the registered bytes (another model): still waiting, /health names the model.
    const wrong = await startKserveServer({ models: [emitOnnx(syntheticMlp({ seed: 1, sizes: [4, 3] }))], port });
    const name = kserveModelName(local.iris.manifest.modelHash);
    const missing = await healthUntil(metricsUrl, (code, body) => code === 503 && body.reasons.join().includes(name));
    expect(missing.reasons.join("\n")).to.match(new RegExp(`inference server failing: .*does not serve model ${name}`));
    expect(await waitForStatus(local.suite.inferenceMarket, id, ["Pending"])).to.equal("Pending");
    await wrong.close();

    server = await startKserveServer({ models: [local.iris.bytes], port, threads: 1 });
    expect(await waitForStatus(local.suite.inferenceMarket, id, ["Finalized", "Failed"])).to.equal("Finalized");
    await healthUntil(metricsUrl, (code) => code === 200);

    const session = await createSession({ model: local.iris.bytes, threads: 1 });
    const expected = hexlify(encodeTensor(await runInference(session, tensor)));
    await session.release();
    expect(hexlify(await local.suite.inferenceMarket.outputOf(id))).to.equal(expected);
    expect(daemon.lines.some((line) => line.msg === "model opened on the inference server")).to.equal(true);
    return id;
  }

  it("claim-free: waits while the server is down (/health says why), then serves: Finalized with onnxruntime's output", async () => {
    const id = await outageThenServe({});
    expect(await claimsOf(id)).to.equal(0);
  });

  it("verity provider doctor: the backend, the server ready, iris under its name; a stopped server fails it", async () => {
    const file = path.join(temp.dir, "doctor.json");
    const runtime = { backend: "kserve", kserve: { url: `http://127.0.0.1:${port}`, timeoutMs: 2000 } } as const;
    writeFileSync(file, JSON.stringify(local.daemonConfig({ runtime })));
    const env = { VERITY_PRIVATE_KEY: local.actors.provider.privateKey };
    const result = await verity(["provider", "doctor", "--config", file], { env });
    expect(result.code, `${result.stdout}\n${result.stderr}`).to.equal(0);
    const lines = result.stdout.split("\n");
    expect(lines).to.include("runtime.backend = kserve");
    expect(lines).to.include(`  KServe v2 server http://127.0.0.1:${port}: ready`);
    const name = kserveModelName(local.iris.manifest.modelHash);
    expect(lines).to.include(
      `model ${local.iris.modelId} (Attested, KServe model ${name} at http://127.0.0.1:${port}): served remotely, metadata matches the registry`,
    );

    await server!.close();
    server = undefined;
    const down = await verity(["provider", "doctor", "--config", file], { env });
    expectCleanFailure(
      down,
      /^error: runtime.backend is kserve but the inference server is not ready: Inference server/,
    );
    expect(down.stdout).to.match(/KServe v2 server \S+: not ready: Inference server \S+ is unreachable/);
  });

  it("with claims: not claimed while the server is down, then claimed, served and Finalized", async () => {
    const id = await outageThenServe({ jobs: { claimFree: false }, stateDir: path.join(temp.dir, "provider-claims") });
    expect(await claimsOf(id)).to.equal(1);
  });
});
