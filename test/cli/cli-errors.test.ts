/**
 * Every command with the everyday mistakes: bad numbers and amounts, ids, URLs without a scheme,
 * missing files, malformed JSON (with its line and column), an unreachable node, a port in use,
 * and secrets pasted in the wrong place. Each must fail with `error: …` naming the mistake, at
 * most two more lines, exit code 1, no stack trace and no secret. No chain is needed here (see
 * cli-money.test.ts for reverts and the requests that end badly).
 */
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import path from "node:path";
import { expect } from "chai";
import { DEV_PRIVATE_KEYS } from "../../oracle/devnet/start-devnet.ts";
import { tempDir } from "../node/helpers.ts";
import {
  cleanEnv,
  expectCleanFailure,
  expectNoStackNorSecret,
  root,
  verityAll,
  type VerityResult,
} from "./run-verity.ts";

const key = DEV_PRIVATE_KEYS[5];
/** A mnemonic pasted where a private key belongs; its words must never be printed. */
const mnemonic = "abandon ability able about above absent absorb abstract absurd abuse access accident";
const mnemonicSecrets = [mnemonic, "absurd abuse"];

type Case = {
  title: string;
  args: string[];
  env?: Record<string, string | undefined>;
  /** The first line of stderr after `error: `, or a pattern for the whole line. */
  error: string | RegExp;
  secrets?: string[];
};

describe("verity CLI: every mistake named in a line or two, no stack, no secret", function () {
  this.timeout(180_000);
  const temp = tempDir("verity-cli-errors-");
  const file = (name: string) => path.join(temp.dir, name);
  let busy: Server;
  let busyPort: number;
  let closedUrl: string;
  const results = new Map<string, Promise<VerityResult>>();

  /** Two lines with a trailing comma before `]` at line 2, column 17. */
  const malformed = '{\n  "data": [1, 2,]\n}\n';
  const cases: Case[] = [];
  const add = (command: string, list: Omit<Case, "title">[]) =>
    list.forEach((item, index) => cases.push({ title: `${command} #${index + 1}`, ...item }));

  before(async () => {
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    busyPort = (busy.address() as { port: number }).port;
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    closedUrl = `http://127.0.0.1:${(closed.address() as { port: number }).port}`;
    await new Promise((resolve) => closed.close(resolve));

    writeFileSync(file("malformed.json"), malformed);
    // JSONC allows a trailing comma; a missing one is a mistake (line 3, column 3).
    writeFileSync(file("malformed.jsonc"), '{\n  "rpcUrl": "http://127.0.0.1:1"\n  "models": []\n}\n');
    writeFileSync(file("input.json"), JSON.stringify({ dtype: "int8", shape: [1, 4], data: [1, 2, 3, 4] }));
    writeFileSync(file("floats.json"), JSON.stringify({ data: [1, 2, 3, 4] }));
    writeFileSync(
      file("deployment.json"),
      JSON.stringify({
        chainId: 31337,
        startBlock: 0,
        contracts: {
          modelRegistry: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
          providerRegistry: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
          inferenceMarket: "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0",
        },
      }),
    );
    writeFileSync(file("keystore.json"), "{}"); // an existing file that keystore create must not overwrite
    const offline = ["--rpc", closedUrl, "--deployment", file("deployment.json")];
    const withKey = { VERITY_PRIVATE_KEY: key };
    const iris = ["models/iris/iris.onnx", "--manifest", "models/iris/iris.json"];

    add("verity", [
      { args: ["reqest"], error: "Unknown command: verity reqest (did you mean verity request?)." },
      { args: ["request", "--modle", "1"], error: "verity request: unknown option --modle (did you mean --model?)." },
      {
        args: ["model", "register", ...iris, "--price", "-1"],
        error: "verity model register: --price needs a value; one that starts with - is written --price=-VALUE.",
      },
    ]);
    add("devnet", [
      { args: ["devnet", "--port", "abc"], error: /^error: --port .*"abc"/ },
      { args: ["devnet", "--port", "PORT"], error: "Port PORT on 127.0.0.1 is already in use." },
    ]);
    add("deploy", [
      { args: ["deploy", "--rpc", "localhost:8545"], env: withKey, error: /^error: --rpc .*URL/ },
      { args: ["deploy", "--rpc", closedUrl, "--out", file("d.json")], env: withKey, error: /^error: Cannot reach/ },
      { args: ["deploy", "--rpc", closedUrl, "--min-stake=-1"], env: withKey, error: /^error: --min-stake "-1"/ },
      {
        args: ["deploy", "--rpc", closedUrl, "--protocol-fee-bps", "abc"],
        env: withKey,
        error: /^error: --protocol-fee-bps "abc"/,
      },
    ]);
    add("content", [
      {
        args: ["content", "add", file("missing.bin"), "--dir", file("store")],
        error: `Cannot read the file: ${file("missing.bin")} does not exist.`,
      },
      {
        args: ["content", "add", "README.md", "--kubo", "localhost:5001"],
        error: '--kubo "localhost:5001" is not an http or https URL.',
      },
      { args: ["content", "get", "abc", "--dir", file("store")], error: '"abc" is not a valid CID.' },
    ]);
    add("model compile", [
      {
        args: [
          "model",
          "compile",
          file("missing.onnx"),
          "--calibration",
          "models/iris/calibration.json",
          "--out",
          file("m"),
        ],
        error: /^error: .*missing\.onnx does not exist\./,
      },
      {
        args: [
          "model",
          "compile",
          "models/iris/iris.onnx",
          "--calibration",
          file("malformed.json"),
          "--out",
          file("m"),
        ],
        error: /^error: .*malformed\.json is not valid JSON: line 2, column 17/,
      },
    ]);
    add("model register", [
      { args: ["model", "register", ...iris, "--price", "abc"], error: '--price "abc" is not an amount of ETH.' },
      { args: ["model", "register", ...iris, "--price=-1"], error: '--price "-1" is negative.' },
      {
        args: ["model", "register", ...iris, "--price", "0.001", "--royalty-bps", "abc"],
        error: /^error: --royalty-bps "abc" is not a whole number/,
      },
      {
        args: ["model", "register", file("missing.onnx"), "--manifest", "models/iris/iris.json", "--price", "0.001"],
        error: /^error: .*missing\.onnx does not exist\./,
      },
      {
        args: ["model", "register", "models/iris/iris.onnx", "--manifest", file("malformed.json"), "--price", "0.001"],
        error: /^error: .*malformed\.json is not valid JSON: line 2, column 17/,
      },
    ]);
    add("model run", [
      {
        args: ["model", "run", "models/iris", "--input", file("missing.json")],
        error: `Cannot read the --input file: ${file("missing.json")} does not exist.`,
      },
      {
        args: ["model", "run", "models/iris", "--input", file("malformed.json")],
        error: `the --input file ${file("malformed.json")} is not valid JSON: line 2, column 17: unexpected ']'.`,
      },
      {
        args: ["model", "run", "models/iris", "--input", file("floats.json"), "--engine", "gpu"],
        error: '--engine "gpu" is not one of ort, reference.',
      },
    ]);
    add("model inspect", [
      { args: ["model", "inspect", file("nothing")], error: /^error: .*nothing is not a model folder/ },
    ]);
    add("provider stake", [
      {
        args: ["provider", "stake", "--amount", "abc", ...offline],
        env: withKey,
        error: '--amount "abc" is not an amount of ETH.',
      },
      { args: ["provider", "stake", "--amount=-1", ...offline], env: withKey, error: '--amount "-1" is negative.' },
      {
        args: ["provider", "stake", "--model", "abc", ...offline],
        env: withKey,
        error: '--model "abc" is not a model id.',
      },
      {
        args: ["provider", "stake", "--amount", "1", ...offline],
        env: withKey,
        error: /^error: Cannot reach the JSON-RPC node/,
      },
    ]);
    add("provider unbond", [
      { args: ["provider", "unbond", ...offline], env: withKey, error: "--amount is missing." },
      {
        args: ["provider", "unbond", "--amount", "abc", ...offline],
        env: withKey,
        error: '--amount "abc" is not an amount of ETH.',
      },
    ]);
    add("provider start", [
      {
        args: ["provider", "start", "--config", file("missing.jsonc")],
        error: /^error: Cannot read the config file .*missing\.jsonc/,
      },
      {
        args: ["provider", "start", "--config", file("malformed.jsonc")],
        error: `${file("malformed.jsonc")} is not valid JSON: line 3, column 3: expected ',' or '}' after property value.`,
      },
    ]);
    add("provider status", [
      {
        args: ["provider", "status", "--address", "0xabc", ...offline],
        env: withKey,
        error: '--address "0xabc" is not an address.',
      },
      { args: ["provider", "status", ...offline], env: withKey, error: /^error: Cannot reach the JSON-RPC node/ },
    ]);
    add("keystore create", [
      { args: ["keystore", "create"], error: "--out is missing." },
      {
        args: ["keystore", "create", "--out", file("new.json")],
        env: { VERITY_KEYSTORE_PASSWORD: "short" },
        error: "Set VERITY_KEYSTORE_PASSWORD to the keystore's password (8 characters or more).",
        secrets: ["short"],
      },
      {
        args: ["keystore", "create", "--out", file("new.json")],
        env: { VERITY_KEYSTORE_PASSWORD: "long enough password", VERITY_PRIVATE_KEY: mnemonic },
        error: "VERITY_PRIVATE_KEY is not a private key.",
        secrets: [...mnemonicSecrets, "long enough password"],
      },
      {
        args: ["keystore", "create", "--out", file("keystore.json")],
        env: { VERITY_KEYSTORE_PASSWORD: "long enough password" },
        error: `${file("keystore.json")} already exists.`,
      },
    ]);
    add("request", [
      { args: ["request", "--model", "abc", "--input", file("input.json")], error: '--model "abc" is not a model id.' },
      {
        args: ["request", "--model", "1", "--input", file("missing.json")],
        error: `Cannot read the --input file: ${file("missing.json")} does not exist.`,
      },
      {
        args: ["request", "--model", "1", "--input", file("malformed.json")],
        error: `the --input file ${file("malformed.json")} is not valid JSON: line 2, column 17: unexpected ']'.`,
      },
      {
        args: ["request", "--model", "1", "--input", file("input.json"), "--ttl", "abc"],
        error: '--ttl "abc" is not a duration.',
      },
      {
        args: ["request", "--model", "1", "--input", file("input.json"), "--timeout=-1"],
        error: '--timeout "-1" is not a duration.',
      },
      {
        args: ["request", "--model", "1", "--input", file("input.json"), "--float"],
        error: "--float needs the model's folder: --model-dir DIR.",
      },
      {
        args: ["request", "--model", "1", "--input", file("input.json"), "--rpc", "localhost:8545"],
        env: withKey,
        error: /^error: --rpc .*URL/,
      },
      {
        args: ["request", "--model", "1", "--input", file("input.json"), ...offline],
        env: withKey,
        error: /^error: Cannot reach the JSON-RPC node of localhost at http:\/\/127\.0\.0\.1:\d+\.$/,
      },
    ]);
    add("watch", [
      { args: ["watch", "--config", file("missing.jsonc")], error: /^error: Cannot read the config file/ },
    ]);
    add("zk", [
      { args: ["zk", "build", file("nothing")], error: /^error: .*nothing is not a model folder/ },
      { args: ["zk", "prove", "models/iris", "--input", file("malformed.json")], error: /line 2, column 17/ },
      { args: ["zk", "verify", "models/iris", "--proof", file("missing.json")], error: /missing\.json does not exist/ },
      { args: ["zk", "verify", "models/iris", "--proof", file("malformed.json")], error: /line 2, column 17/ },
    ]);
    add("withdraw", [
      { args: ["withdraw", "--token", "0xabc", ...offline], env: withKey, error: '--token "0xabc" is not an address.' },
      { args: ["withdraw", ...offline], env: withKey, error: /^error: Cannot reach the JSON-RPC node/ },
    ]);
    add("balance", [
      { args: ["balance", "--address", "abc", ...offline], error: '--address "abc" is not an address.' },
      {
        args: ["balance", "--address", "0x0000000000000000000000000000000000000001", ...offline],
        error: /^error: Cannot reach/,
      },
    ]);
    add("expire", [
      { args: ["expire", ...offline], env: withKey, error: "expire needs at least one request id." },
      { args: ["expire", "abc", ...offline], env: withKey, error: '"abc" is not a request id.' },
    ]);
    add("secrets", [
      {
        args: ["expire", key, ...offline],
        env: withKey,
        error: /^error: \(a value that looks like a key/,
        secrets: [key],
      },
      {
        args: ["balance", "--address", key, ...offline],
        error: /^error: --address \(a value that looks like a key/,
        secrets: [key],
      },
      {
        args: ["request", "--model", mnemonic, "--input", "x"],
        error: /^error: --model \(a value that looks like a key/,
        secrets: mnemonicSecrets,
      },
    ]);

    for (const item of cases) item.args = item.args.map((arg) => arg.replace("PORT", String(busyPort)));
    for (const item of cases)
      if (typeof item.error === "string") item.error = item.error.replace("PORT", String(busyPort));
    const all = verityAll(cases.map(({ args, env }) => ({ args, env })));
    cases.forEach((item, index) =>
      results.set(
        item.title,
        all.then((list) => list[index]!),
      ),
    );
  });

  after(async () => {
    await new Promise((resolve) => busy?.close(resolve));
    temp.remove();
  });

  const titles = [
    "verity",
    "devnet",
    "deploy",
    "content",
    "model compile",
    "model register",
    "model run",
    "model inspect",
    "provider stake",
    "provider start",
    "provider status",
    "provider unbond",
    "keystore create",
    "request",
    "watch",
    "zk",
    "withdraw",
    "balance",
    "expire",
    "secrets",
  ];
  for (const command of titles)
    it(`${command}: each mistake fails with its one-line error`, async () => {
      const mine = cases.filter(
        (item) => item.title.startsWith(`${command} #`) || item.title.startsWith(`${command}:`),
      );
      expect(mine.length).to.be.greaterThan(0);
      for (const item of mine) {
        const result = await results.get(item.title)!;
        expectCleanFailure(result, item.error as string | RegExp, {
          secrets: item.secrets,
          verbose: item.args.includes("--verbose"),
        });
      }
    });

  it("npx verity on the system Node prints no npm warning (unknown project config, engine)", async function () {
    // As a user types it: npm on the system Node (node_modules/.bin off the PATH), then the CLI on the pinned Node.
    const PATH = (process.env.PATH ?? "")
      .split(path.delimiter)
      .filter((dir) => !dir.includes("node_modules"))
      .join(path.delimiter);
    const result = await new Promise<VerityResult>((resolve) =>
      execFile("npx", ["verity", "expire", "abc"], { cwd: root, env: cleanEnv({ PATH }) }, (error, stdout, stderr) =>
        resolve({ stdout, stderr, code: error ? Number(error.code) : 0 }),
      ),
    );
    expect(result.stderr).to.not.match(/npm (warn|WARN)/);
    expectCleanFailure(result, '"abc" is not a request id.');
  });

  it("--verbose, DEBUG and VERITY_DEBUG show the stack; without them there is none", async () => {
    const args = ["request", "--model", "abc", "--input", "x"];
    const [plain, verbose, debug, verityDebug] = await verityAll([
      { args },
      { args: [...args, "--verbose"] },
      { args, env: { DEBUG: "1" } },
      { args, env: { VERITY_DEBUG: "1" } },
    ]);
    expectNoStackNorSecret(plain!);
    for (const result of [verbose!, debug!, verityDebug!]) {
      expect(result.code).to.equal(1);
      expect(result.stderr.split("\n")[0]).to.equal('error: --model "abc" is not a model id.');
      expect(result.stderr).to.match(/^\s+at .*parse-options\.ts:\d+:\d+/m);
    }
  });
});
