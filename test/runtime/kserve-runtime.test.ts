/**
 * The KServe v2 backend against `verity runtime serve`'s server (in process, 127.0.0.1, a free
 * port) over real onnxruntime: outputs bit-exact with an in-process session (iris, float32) and
 * with the reference executor (a synthetic VQM model, int8), JSON that keeps every float32 and
 * int64 bit, and the refusals: wrong name, wrong metadata, bad requests, a server down or mute.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { hexlify, keccak256 } from "ethers";
import { spawnDaemon } from "../../oracle/devnet/spawn-daemon.ts";
import { encodeTensor } from "../../oracle/model/tensor-codec.ts";
import { createTensor, type Tensor } from "../../oracle/model/tensor.ts";
import { emitOnnx } from "../../oracle/model/vqm/emit-onnx.ts";
import { executeVqm } from "../../oracle/model/vqm/reference-executor.ts";
import { syntheticInput, syntheticMlp } from "../../oracle/model/vqm/synthetic-vqm.ts";
import { createSession, type ModelSession } from "../../oracle/runtime/create-session.ts";
import {
  createKserveClient,
  KserveModelMismatchError,
  kserveModelName,
  KserveUnavailableError,
} from "../../oracle/runtime/kserve-client.ts";
import { startKserveServer, type KserveServer } from "../../oracle/runtime/kserve-server.ts";
import {
  KserveTensorError,
  kserveTensorJson,
  parseExactJson,
  tensorFromKserve,
  type KserveTensorObject,
} from "../../oracle/runtime/kserve-tensor.ts";
import { runInference } from "../../oracle/runtime/run-inference.ts";
import { expectCleanFailure, verity } from "../cli/run-verity.ts";
import { tempDir } from "../node/helpers.ts";
import { freePort } from "../e2e/doc-shell.ts";

const irisOnnx = new Uint8Array(readFileSync(new URL("../../models/iris/iris.onnx", import.meta.url)));
const irisFormats = {
  input: { dtype: "float32", shape: [1, 4] },
  output: { dtype: "float32", shape: [1, 3] },
} as const;
const vqm = syntheticMlp({ seed: 7, sizes: [12, 16, 5] });
const vqmOnnx = emitOnnx(vqm);
const vqmFormats = { input: { dtype: "int8", shape: [1, 12] }, output: { dtype: "int8", shape: [1, 5] } } as const;

/** Through the wire format and back, as the client and the server read it. */
const roundTrip = (tensor: Tensor) =>
  tensorFromKserve(parseExactJson(kserveTensorJson("t", tensor)) as KserveTensorObject, tensor.dtype);

const bytesOf = (tensor: Tensor) => hexlify(encodeTensor(tensor));

describe("KServe v2 tensors in JSON", () => {
  it("float32 comes back bit for bit: every finite pattern tried, -0, subnormals, extremes", () => {
    const bits = new Uint32Array(4096);
    let state = 12345;
    for (let i = 0; i < bits.length; i++) bits[i] = state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
    bits.set([0x80000000, 0x00000001, 0x807fffff, 0x7f7fffff, 0xff7fffff, 0x3dcccccd], 0);
    const data = new Float32Array(bits.buffer).filter((value) => Number.isFinite(value));
    const tensor: Tensor = { dtype: "float32", shape: [data.length], data };
    const back = roundTrip(tensor);
    assert.deepEqual(new Uint32Array(back.data.buffer), new Uint32Array(data.buffer));
    assert.ok(Object.is(back.data[0], -0));
  });

  it("int64 beyond 2^53 comes back exactly; a parser that lost the digits is refused", () => {
    const values = [2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n + 1n, -(2n ** 53n) - 3n, 0n, 42n];
    const tensor = createTensor("int64", [values.length], values);
    assert.deepEqual([...roundTrip(tensor).data], values);
    const lossy = JSON.parse(kserveTensorJson("t", tensor)) as KserveTensorObject;
    assert.throws(() => tensorFromKserve(lossy, "int64"), KserveTensorError);
  });

  it("refuses NaN, values out of the datatype, and a count that does not fit the shape", () => {
    const nan: Tensor = { dtype: "float32", shape: [1], data: Float32Array.of(Number.NaN) };
    assert.throws(() => kserveTensorJson("t", nan), /JSON cannot carry/);
    const wire = (datatype: string, shape: number[], data: unknown[]) => ({ name: "t", datatype, shape, data });
    assert.throws(() => tensorFromKserve(wire("INT8", [1], [128])), KserveTensorError);
    assert.throws(() => tensorFromKserve(wire("INT32", [1], [1.5])), KserveTensorError);
    assert.throws(() => tensorFromKserve(wire("INT8", [2], [1])), /1 elements for shape \[2\]/);
    assert.throws(() => tensorFromKserve(wire("FP16", [1], [1])), /datatype "FP16"/);
    assert.deepEqual(
      [
        ...tensorFromKserve(
          wire(
            "INT8",
            [2, 2],
            [
              [1, 2],
              [3, 4],
            ],
          ),
        ).data,
      ],
      [1, 2, 3, 4],
    );
  });
});

describe("KServe v2 backend against verity runtime serve", function () {
  this.timeout(60_000);
  let server: KserveServer;
  let local: ModelSession;
  let localVqm: ModelSession;

  before(async () => {
    server = await startKserveServer({ models: [irisOnnx, vqmOnnx], port: 0, threads: 1 });
    local = await createSession({ model: irisOnnx, threads: 1 });
    localVqm = await createSession({ model: vqmOnnx, threads: 1 });
  });
  after(async () => {
    await server?.close();
    await local?.release();
    await localVqm?.release();
  });

  it("names each model by the keccak of its bytes, on 127.0.0.1", () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.deepEqual(
      server.models.map((model) => model.name),
      [kserveModelName(keccak256(irisOnnx)), kserveModelName(keccak256(vqmOnnx))],
    );
    assert.equal(kserveModelName(keccak256(irisOnnx)), `verity-${keccak256(irisOnnx).slice(2, 18)}`);
  });

  it("iris (float32): the remote output is in-process onnxruntime's, bit for bit", async () => {
    const client = createKserveClient({ url: server.url, timeoutMs: 5000 });
    const remote = await client.openModel({ modelHash: keccak256(irisOnnx), ...irisFormats });
    assert.deepEqual(remote.inputs, [{ name: "input", dtype: "float32", shape: [1, 4] }]);
    let seed = 99;
    const next = () => ((seed = (Math.imul(seed, 48_271) + 11) >>> 0) / 2 ** 32) * 8;
    for (let i = 0; i < 50; i++) {
      const input = createTensor("float32", [1, 4], [next(), next(), next(), next()]);
      const [got, want] = await Promise.all([runInference(remote, input), runInference(local, input)]);
      assert.equal(bytesOf(got), bytesOf(want), `input ${i}`);
    }
    assert.equal(client.problem(), undefined);
  });

  it("an integer (VQM) model: the remote output is the reference executor's, byte for byte", async () => {
    const client = createKserveClient({ url: server.url, timeoutMs: 5000 });
    const remote = await client.openModel({ modelHash: keccak256(vqmOnnx), ...vqmFormats });
    for (let seed = 1; seed <= 20; seed++) {
      const input = syntheticInput(vqm, seed);
      const got = await runInference(remote, input);
      assert.equal(bytesOf(got), bytesOf(executeVqm(vqm, input).output), `seed ${seed}`);
      assert.equal(bytesOf(got), bytesOf(await runInference(localVqm, input)));
    }
  });

  it("refuses a model the server does not serve under the registered hash's name", async () => {
    const client = createKserveClient({ url: server.url, timeoutMs: 5000 });
    const otherHash = keccak256(Uint8Array.of(1, 2, 3));
    await assert.rejects(
      client.openModel({ modelHash: otherHash, ...irisFormats }),
      (error: unknown) =>
        error instanceof KserveModelMismatchError &&
        error.message.includes(`does not serve model ${kserveModelName(otherHash)}`),
    );
    assert.match(client.problem() ?? "", /does not serve model/);
  });

  it("refuses metadata that is not the registered input or output", async () => {
    const client = createKserveClient({ url: server.url, timeoutMs: 5000 });
    const modelHash = keccak256(irisOnnx);
    await assert.rejects(
      client.openModel({ modelHash, input: irisFormats.input, output: { dtype: "float32", shape: [1, 4] } }),
      (error: unknown) =>
        error instanceof KserveModelMismatchError &&
        /does not take the registered output/.test(error.message) &&
        /server {5}logits: FP32 \[1,3\]/.test(error.message) &&
        /registered FP32 \[1, 4\]/.test(error.message),
    );
    await assert.rejects(
      client.openModel({ modelHash, input: { dtype: "int8", shape: [1, 4] }, output: irisFormats.output }),
      /does not take the registered input/,
    );
    // The right registration clears the problem the wrong one left.
    await client.openModel({ modelHash, ...irisFormats });
    assert.equal(client.problem(), undefined);
  });

  it("answers bad requests with the protocol's error JSON: 400 for bad JSON or tensors, 404 for unknown models", async () => {
    const name = kserveModelName(keccak256(irisOnnx));
    const post = async (model: string, body: string) => {
      const response = await fetch(`${server.url}/v2/models/${model}/infer`, { method: "POST", body });
      return { status: response.status, body: (await response.json()) as { error?: string } };
    };
    const input = (shape: number[], data: number[], datatype = "FP32") =>
      JSON.stringify({ inputs: [{ name: "input", shape, datatype, data }] });
    assert.equal((await fetch(`${server.url}/v2/health/ready`)).status, 200);
    const bad = await post(name, "{not json");
    assert.equal(bad.status, 400);
    assert.match(bad.body.error ?? "", /not JSON/);
    const shape = await post(name, input([1, 3], [1, 2, 3]));
    assert.equal(shape.status, 400);
    assert.match(shape.body.error ?? "", /Expected \[1, 4\], got \[1, 3\]/);
    assert.equal((await post(name, input([1, 4], [1, 2, 3, 4], "INT32"))).status, 400);
    assert.equal((await post(name, JSON.stringify({ inputs: [] }))).status, 400);
    const unknown = await post("verity-0000000000000000", input([1, 4], [1, 2, 3, 4]));
    assert.equal(unknown.status, 404);
    assert.match(unknown.body.error ?? "", /Unknown model/);
    const ok = await post(name, input([1, 4], [5.1, 3.5, 1.4, 0.2]));
    assert.equal(ok.status, 200);
    assert.equal((await fetch(`${server.url}/v2/models/${name}`, { method: "POST" })).status, 405);
  });
});

describe("verity runtime serve (the CLI, as an operator runs it)", function () {
  this.timeout(60_000);
  const temp = tempDir("verity-runtime-serve-");
  after(() => temp.remove());

  it("serves a model folder and an .onnx file under their names on 127.0.0.1 until SIGTERM", async () => {
    const irisFile = path.resolve(import.meta.dirname, "../../models/iris/iris.onnx");
    const folder = path.resolve(import.meta.dirname, "../../models/iris");
    const served = spawnDaemon({
      dir: temp.dir,
      privateKey: "",
      command: ["runtime", "serve", "--model", irisFile, "--model", folder, "--port", "0"],
      name: "serve",
    });
    try {
      const end = Date.now() + 30_000;
      let url: string | undefined;
      while (!(url = /KServe v2 server (http:\/\/127\.0\.0\.1:\d+)/.exec(served.stdout.join("\n"))?.[1])) {
        assert.ok(Date.now() < end, `no server line; stderr: ${served.stderr.join("\n")}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const vqmOnnxFile = new Uint8Array(readFileSync(path.join(folder, "vqm/model.onnx")));
      for (const bytes of [irisOnnx, vqmOnnxFile]) {
        const name = kserveModelName(keccak256(bytes));
        assert.ok(
          served.stdout.some((line) => line.startsWith(`${name}  ${keccak256(bytes)}  on cpu`)),
          name,
        );
        assert.equal((await fetch(`${url}/v2/models/${name}/ready`)).status, 200);
      }
    } finally {
      assert.equal(await served.stop(), 0);
    }
    assert.ok(served.stdout.includes("server stopped"));
  });

  it("refuses to start without a model, and a path that is not one", async () => {
    expectCleanFailure(await verity(["runtime", "serve"]), "verity runtime serve: give at least one --model.");
    expectCleanFailure(
      await verity(["runtime", "serve", "--model", path.join(temp.dir, "nothing.onnx")]),
      /^error: verity runtime serve: no model at .*nothing\.onnx\.$/,
    );
  });
});

describe("KServe v2 backend with the server down", function () {
  this.timeout(30_000);

  it("a closed port: KserveUnavailableError naming the server", async () => {
    const port = await freePort();
    const client = createKserveClient({ url: `http://127.0.0.1:${port}`, timeoutMs: 2000 });
    await assert.rejects(
      client.openModel({ modelHash: keccak256(irisOnnx), ...irisFormats }),
      (error: unknown) => error instanceof KserveUnavailableError && /is unreachable/.test(error.message),
    );
    assert.match(client.problem() ?? "", /unreachable/);
  });

  it("a server that accepts and never answers: refused at the timeout", async () => {
    const sockets: Socket[] = [];
    const mute: Server = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => mute.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = mute.address() as AddressInfo;
      const client = createKserveClient({ url: `http://127.0.0.1:${port}`, timeoutMs: 300 });
      const started = Date.now();
      await assert.rejects(client.ready(), /did not answer GET \/v2\/health\/ready within 300 ms/);
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 250 && elapsed < 3000, `took ${elapsed} ms`);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => mute.close(resolve));
    }
  });
});
