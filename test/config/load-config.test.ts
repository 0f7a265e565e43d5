import { expect } from "chai";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { ConfigError, loadConfig } from "../../oracle/config/load-config.ts";

const KEY = `0x${"ab".repeat(32)}`;

describe("config/load-config", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "verity-config-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function write(name: string, text: string): Promise<string> {
    const file = path.join(dir, name);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, text);
    return file;
  }

  function configError(load: () => unknown): ConfigError {
    try {
      load();
    } catch (error) {
      expect(error).to.be.instanceOf(ConfigError);
      return error as ConfigError;
    }
    throw new Error("expected a ConfigError");
  }

  it("applies every default and resolves paths against the file's folder", async () => {
    const file = await write("verity.jsonc", `{ "rpcUrl": "http://127.0.0.1:8545" }`);
    const config = loadConfig({ file, env: {} });
    expect(config).to.deep.equal({
      rpcUrl: "http://127.0.0.1:8545",
      rpcUrls: ["http://127.0.0.1:8545"],
      deployment: path.join(dir, "deployments/localhost.json"),
      models: [],
      storage: { kind: "embedded", dir: path.join(dir, ".verity/content") },
      stateDir: path.join(dir, ".verity/provider"),
      runtime: { backend: "onnxruntime", executionProvider: "cpu", threads: 1 },
      chain: {
        pollIntervalMs: 1000,
        confirmations: 0,
        maxBlockRange: 2000,
        startBlock: 0,
        rpcTimeoutMs: 15_000,
        rpcRecheckMs: 5_000,
      },
      retry: { attempts: 5, baseDelayMs: 500, maxDelayMs: 10_000 },
      jobs: {
        concurrency: 2,
        deadlineMarginSec: 5,
        releaseMarginSec: 60,
        maxInputBytes: 1_048_576,
        expireOthers: false,
        sender: "pipelined",
        claimFree: true,
        batchMaxItems: 16,
        batchWindowMs: 250,
        assignmentWindowSec: 4,
      },
      log: { level: "info" },
      metrics: { port: 9474, host: "127.0.0.1" },
      health: { stalePolls: 10, headStallSec: 120, senderStuckSec: 300 },
      dispute: { manifests: {} },
      zk: { models: {} },
      keeper: { enabled: false, agents: [], minTipOverGas: "0" },
      modelFolders: {},
    });
  });

  it("resolves each file's paths against its own folder: no path leaks into the next config", async () => {
    const first = loadConfig({ file: await write("a/verity.jsonc", `{ "rpcUrl": "http://127.0.0.1:8545" }`), env: {} });
    const second = loadConfig({
      file: await write("b/verity.jsonc", `{ "rpcUrl": "http://127.0.0.1:8545" }`),
      env: {},
    });
    expect(first.storage).to.deep.equal({ kind: "embedded", dir: path.join(dir, "a/.verity/content") });
    expect(second.storage).to.deep.equal({ kind: "embedded", dir: path.join(dir, "b/.verity/content") });
  });

  it("takes model folders in models entries: ids in models, folders resolved in modelFolders", async () => {
    const file = await write(
      "verity.jsonc",
      `{ "rpcUrl": "http://127.0.0.1:8545", "models": [1, { "id": 2, "folder": "models/iris" }, { "id": "3", "folder": "/abs/m" }] }`,
    );
    const config = loadConfig({ file, env: {} });
    expect(config.models).to.deep.equal(["1", "2", "3"]);
    expect(config.modelFolders).to.deep.equal({ "2": path.join(dir, "models/iris"), "3": "/abs/m" });
  });

  it("refuses a malformed models entry, and a model given a folder and another source", async () => {
    const bad = await write("bad-entry.jsonc", `{ "rpcUrl": "http://a:1", "models": [{ "id": 2, "dir": "m" }] }`);
    expect(configError(() => loadConfig({ file: bad, env: {} })).details).to.deep.equal([
      'models[0]: expected { "id": <model id>, "folder": "<model folder>" }, got an object',
    ]);
    const twice = await write(
      "twice.jsonc",
      `{ "rpcUrl": "http://a:1", "models": [{ "id": 2, "folder": "a" }, { "id": 2, "folder": "b" }],
         "zk": { "models": { "2": "c" } } }`,
    );
    const error = configError(() => loadConfig({ file: twice, env: {} }));
    expect(error.shortMessage).to.equal(`Invalid configuration in ${twice}.`);
    expect(error.details).to.deep.equal([
      "models[0]: model 2 has a folder and a zk.models entry: keep one of them",
      "models[1]: model 2 is listed again after its folder entry: list it once",
      "models[1]: model 2 has a folder and a zk.models entry: keep one of them",
    ]);
  });

  it("resolves zk.models folders against the file's folder", async () => {
    const file = await write(
      "verity.jsonc",
      `{ "rpcUrl": "http://127.0.0.1:8545", "zk": { "models": { "2": "models/iris", "3": "/abs/m" } } }`,
    );
    expect(loadConfig({ file, env: {} }).zk.models).to.deep.equal({
      "2": path.join(dir, "models/iris"),
      "3": "/abs/m",
    });
  });

  it("reads JSONC with a URL, comments and trailing commas", async () => {
    const file = await write(
      "verity.jsonc",
      `// provider\n{\n  "rpcUrl": "https://rpc.example.org/v1", /* the chain */\n  "models": [1, "2", ],\n}\n`,
    );
    const config = loadConfig({ file, env: {} });
    expect(config.rpcUrl).to.equal("https://rpc.example.org/v1");
    expect(config.models).to.deep.equal(["1", "2"]);
  });

  it("lets the environment override the file", async () => {
    const file = await write(
      "verity.json",
      JSON.stringify({ rpcUrl: "http://a:1", runtime: { threads: 4 }, log: { level: "warn" }, models: [9] }),
    );
    const cwd = path.join(dir, "work");
    const config = loadConfig({
      file,
      cwd,
      env: {
        VERITY_RPC_URL: "http://b:2",
        VERITY_PRIVATE_KEY: KEY,
        VERITY_DEPLOYMENT: "deploy.json",
        VERITY_STATE_DIR: "/var/verity",
        VERITY_STORAGE_DIR: "content",
        VERITY_MODELS: "3, 4,,5",
        VERITY_EXECUTION_PROVIDER: "cuda",
        VERITY_LOG_LEVEL: "debug",
        VERITY_METRICS_PORT: "9464",
        UNRELATED: "x",
      },
    });
    expect(config.rpcUrl).to.equal("http://b:2");
    expect(config.privateKey).to.equal(KEY);
    expect(config.deployment).to.equal(path.join(cwd, "deploy.json")); // env paths: against cwd
    expect(config.stateDir).to.equal("/var/verity");
    expect(config.storage).to.deep.equal({ kind: "embedded", dir: path.join(cwd, "content") });
    expect(config.models).to.deep.equal(["3", "4", "5"]);
    expect(config.runtime).to.deep.equal({ backend: "onnxruntime", executionProvider: "cuda", threads: 4 }); // file's threads kept
    expect(config.log.level).to.equal("debug");
    expect(config.metrics.port).to.equal(9464);
  });

  it("switches storage to kubo with VERITY_KUBO_URL, and refuses it with VERITY_STORAGE_DIR", async () => {
    const file = await write(
      "v.json",
      JSON.stringify({ rpcUrl: "http://a:1", storage: { kind: "embedded", dir: "x" } }),
    );
    const config = loadConfig({ file, env: { VERITY_KUBO_URL: "http://127.0.0.1:5001" } });
    expect(config.storage).to.deep.equal({ kind: "kubo", url: "http://127.0.0.1:5001" });
    const error = configError(() =>
      loadConfig({ file, env: { VERITY_KUBO_URL: "http://127.0.0.1:5001", VERITY_STORAGE_DIR: "d" } }),
    );
    expect(error.details.join("\n")).to.contain("VERITY_KUBO_URL").and.contain("VERITY_STORAGE_DIR");
  });

  it("works from the environment alone, resolving paths against cwd", async () => {
    const config = loadConfig({ cwd: dir, env: { VERITY_RPC_URL: "ws://127.0.0.1:8546" } });
    expect(config.rpcUrl).to.equal("ws://127.0.0.1:8546");
    expect(config.stateDir).to.equal(path.join(dir, ".verity/provider"));
  });

  it("lists every bad key with its path and what is wrong", async () => {
    const file = await write(
      "bad.jsonc",
      `{
        "runtime": { "executionProvider": "gpu", "threads": 0 },
        "storage": { "kind": "kubo" },
        "contracts": { "modelRegistry": "0x1234", "providerRegistry": "0x${"1".repeat(40)}", "inferenceMarket": "0x${"2".repeat(40)}" },
        "models": ["1", "one"],
        "chain": { "pollIntervalMs": "fast" },
        "metrics": { "port": 70000 },
        "rpcURL": "http://x",
        "jobs": { "concurency": 3 }
      }`,
    );
    const error = configError(() => loadConfig({ file, env: {} }));
    expect(error.shortMessage).to.contain("bad.jsonc");
    expect(error.details).to.have.members([
      "rpcUrl: Required (or rpcUrls: [url, ...] for several nodes of one chain)",
      'contracts.modelRegistry: expected a 0x-prefixed 20-byte hex address, got "0x1234"',
      'models[1]: expected a model id (digits), got "one"',
      "storage.url: Required",
      'runtime.executionProvider: expected "cpu" | "cuda", got "gpu"',
      "runtime.threads: expected more than 0, got 0",
      'chain.pollIntervalMs: expected a number, got "fast"',
      'jobs.concurency: unknown key (did you mean "jobs.concurrency"?)',
      "metrics.port: expected at most 65535, got 70000",
      'rpcURL: unknown key (did you mean "rpcUrl"?)',
    ]);
  });

  it("runtime.backend kserve: needs runtime.kserve.url, an http(s) URL; timeoutMs defaults", async () => {
    const file = async (runtime: object) => write("kserve.json", JSON.stringify({ rpcUrl: "http://a:1", runtime }));
    const errorOf = async (runtime: object) => {
      const written = await file(runtime);
      return configError(() => loadConfig({ file: written, env: {} })).details;
    };
    expect(await errorOf({ backend: "kserve" })).to.deep.equal([
      'runtime.backend: expected "onnxruntime", or runtime.kserve: { "url": "http://HOST:PORT" } (the KServe v2 server), got "kserve"',
    ]);
    expect(await errorOf({ backend: "kserve", kserve: { url: "ws://gpu:8000" } })).to.include.members([
      'runtime.kserve.url: expected an http(s) URL, got "ws://gpu:8000"',
    ]);
    expect((await errorOf({ backend: "triton" }))[0]).to.match(/^runtime.backend: expected "onnxruntime" \| "kserve"/);
    const good = await file({ backend: "kserve", kserve: { url: "http://gpu:8000" } });
    expect(loadConfig({ file: good, env: {} }).runtime).to.deep.equal({
      backend: "kserve",
      executionProvider: "cpu",
      threads: 1,
      kserve: { url: "http://gpu:8000", timeoutMs: 10_000 },
    });
  });

  it("names the environment variable behind a bad value, and never shows a bad private key", async () => {
    const error = configError(() =>
      loadConfig({
        env: {
          VERITY_RPC_URL: "localhost:8545",
          VERITY_PRIVATE_KEY: "0xdeadbeef",
          VERITY_METRICS_PORT: "abc",
          VERITY_LOG_LEVEL: "verbose",
        },
      }),
    );
    expect(error.details).to.have.members([
      'rpcUrl (from VERITY_RPC_URL): expected an http(s) or ws(s) URL, got "localhost:8545"',
      "privateKey (from VERITY_PRIVATE_KEY): expected 0x followed by 64 hex digits, got a value that is not shown",
      'log.level (from VERITY_LOG_LEVEL): expected "debug" | "info" | "warn" | "error", got "verbose"',
      'metrics.port (from VERITY_METRICS_PORT): expected a number, got "abc"',
    ]);
    expect(error.message).not.to.contain("deadbeef");
  });

  it("takes several node URLs in rpcUrls (or VERITY_RPC_URLS), and refuses rpcUrl beside it, an empty list or a repeat", async () => {
    const urls = ["http://127.0.0.1:1", "https://rpc.example.org/key"];
    const file = await write("urls.json", JSON.stringify({ rpcUrls: urls }));
    const config = loadConfig({ file, env: {} });
    expect(config.rpcUrls).to.deep.equal(urls);
    expect(config.rpcUrl).to.equal(urls[0]);
    const fromEnv = loadConfig({ file, env: { VERITY_RPC_URLS: "http://a:1, http://b:2" } });
    expect(fromEnv.rpcUrls).to.deep.equal(["http://a:1", "http://b:2"]);
    expect(loadConfig({ file, env: { VERITY_RPC_URL: "http://c:3" } }).rpcUrls).to.deep.equal(["http://c:3"]);

    const both = await write("both.json", JSON.stringify({ rpcUrl: urls[0], rpcUrls: urls }));
    expect(configError(() => loadConfig({ file: both, env: {} })).details).to.deep.equal([
      "rpcUrls: rpcUrl is given too: keep one of them (rpcUrls: [url, ...] for several nodes)",
    ]);
    const empty = await write("empty.json", JSON.stringify({ rpcUrls: [] }));
    expect(configError(() => loadConfig({ file: empty, env: {} })).details).to.deep.equal([
      "rpcUrls: expected at least one URL, got an array",
    ]);
    const badUrl = await write("bad-url.json", JSON.stringify({ rpcUrls: [urls[0], "ftp://x", urls[0]] }));
    expect(configError(() => loadConfig({ file: badUrl, env: {} })).details).to.deep.equal([
      'rpcUrls[1]: expected an http(s) or ws(s) URL, got "ftp://x"',
    ]);
    const repeated = await write("repeated.json", JSON.stringify({ rpcUrls: [urls[0], urls[0]] }));
    expect(configError(() => loadConfig({ file: repeated, env: {} })).details).to.deep.equal([
      "rpcUrls[1]: http://127.0.0.1:1 is listed twice",
    ]);
    expect(() => loadConfig({ env: { VERITY_RPC_URL: "http://a:1", VERITY_RPC_URLS: "http://b:2" } })).to.throw(
      "Conflicting node settings in the environment.",
    );
  });

  it("reports an unknown storage kind", async () => {
    const file = await write("s.json", JSON.stringify({ rpcUrl: "http://a:1", storage: { kind: "s3" } }));
    const error = configError(() => loadConfig({ file, env: {} }));
    expect(error.details).to.deep.equal(['storage.kind: expected "embedded" | "kubo", got "s3"']);
  });

  it("reports unreadable files and bad JSON with a position", async () => {
    const missing = configError(() => loadConfig({ file: path.join(dir, "nope.json"), env: {} }));
    expect(missing.shortMessage).to.contain("nope.json");
    const file = await write("broken.jsonc", `{\n  "rpcUrl": "http://a:1"\n  "models": []\n}`);
    const broken = configError(() => loadConfig({ file, env: {} }));
    expect(broken.shortMessage).to.contain("broken.jsonc");
    expect(broken.shortMessage).to.contain("line 3, column 3");
    const arrayFile = await write("a.json", "[]");
    const array = configError(() => loadConfig({ file: arrayFile, env: {} }));
    expect(array.shortMessage).to.contain("object");
  });
});
