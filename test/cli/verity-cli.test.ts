import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { Contract, hexlify } from "ethers";
import { loadArtifact } from "../../oracle/chain/artifacts.ts";
import { attach, connectSuite } from "../../oracle/chain/connect.ts";
import type { DisputeGame } from "../../oracle/chain/dispute-game.ts";
import { DEPLOY_PROFILES } from "../../oracle/chain/deploy-profiles.ts";
import { readDeployment } from "../../oracle/chain/deployment.ts";
import { startLocalSuite, type LocalSuite } from "../../oracle/devnet/local-suite.ts";
import { spawnDaemon, type SpawnedDaemon } from "../../oracle/devnet/spawn-daemon.ts";
import { createTensor } from "../../oracle/model/tensor.ts";
import { encodeRequestInput } from "../../oracle/sdk/encode-request-input.ts";
import { tempDir } from "../node/helpers.ts";

const exec = promisify(execFile);
const root = path.resolve(import.meta.dirname, "../..");
const bin = path.join(root, "bin/verity.js");

/** Runs `verity ...args` as a user would, with `privateKey` as VERITY_PRIVATE_KEY. */
async function verity(args: string[], privateKey?: string): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [bin, ...args], {
      cwd: root,
      env: { ...process.env, VERITY_PRIVATE_KEY: privateKey ?? "" },
    });
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const failed = error as { stdout: string; stderr: string; code: number };
    return { stdout: failed.stdout, stderr: failed.stderr, code: failed.code };
  }
}

describe("verity CLI against a local chain", function () {
  this.timeout(120_000);
  const temp = tempDir("verity-cli-");
  let local: LocalSuite;
  let daemon: SpawnedDaemon | undefined;
  let chain: string[];

  before(async () => {
    local = await startLocalSuite({ dir: temp.dir });
    chain = ["--rpc", local.devnet.url, "--deployment", local.deploymentFile];
  });

  after(async () => {
    await daemon?.stop();
    await local?.close();
    temp.remove();
  });

  it("prints help, and names an unknown command", async () => {
    expect((await verity(["--help"])).stdout).to.include("provider start");
    const unknown = await verity(["frobnicate"]);
    expect(unknown.code).to.equal(1);
    expect(unknown.stderr).to.include("error: Unknown command: verity frobnicate.");
  });

  it("content add and get round-trip a file through the embedded store", async () => {
    const file = path.join(temp.dir, "hello.txt");
    writeFileSync(file, "hello verity");
    const added = await verity(["content", "add", file, "--dir", local.contentDir]);
    const cid = added.stdout.split(/\s+/)[0]!;
    expect(cid).to.match(/^bafk/);
    const got = await verity(["content", "get", cid, "--dir", local.contentDir]);
    expect(got.stdout).to.equal("hello verity");
  });

  it("model register, provider status, and a request served by the daemon", async () => {
    const registered = await verity(
      [
        "model",
        "register",
        "models/iris/iris.onnx",
        "--manifest",
        "models/iris/iris.json",
        "--price",
        "0.002",
        "--dir",
        local.contentDir,
        ...chain,
      ],
      local.actors.modelOwner.privateKey,
    );
    expect(registered.stdout).to.match(/^model 2 registered: content bafk\w+, modelHash 0x[0-9a-f]{64}$/m);
    // The dtypes come from the ONNX file (and the manifest, which agrees): float32 in and out.
    const model = await local.suite.modelRegistry.getModel(2n);
    expect([model.inputDtype, model.outputDtype]).to.deep.equal([3n, 3n]);

    const status = await verity(["provider", "status", ...chain], local.actors.provider.privateKey);
    expect(status.stdout).to.match(/^stake {6}2\.0 ETH \(minimum 1\.0\)$/m);
    expect(status.stdout).to.match(/^reserved {3}0\.0 ETH/m);
    expect(status.stdout).to.match(/^free {7}2\.0 ETH \(a claim reserves 0\.1 ETH\)$/m); // no dispute game here
    expect(status.stdout).to.not.match(/^warning/m);
    expect(status.stdout).to.match(/^models {5}1$/m);

    daemon = spawnDaemon({ config: local.daemonConfig(), dir: temp.dir, privateKey: local.actors.provider.privateKey });
    await daemon.waitForLog((line) => line.msg === "provider daemon started");
    const input = path.join(temp.dir, "input.json");
    writeFileSync(input, JSON.stringify({ dtype: "float32", shape: [1, 4], data: [6.3, 3.3, 6.0, 2.5] }));
    const requested = await verity(
      ["request", "--model", "1", "--input", input, ...chain],
      local.actors.user.privateKey,
    );
    expect(requested.stderr).to.equal("");
    expect(requested.stdout).to.match(/^request \d+ Finalized: float32\[1, 3\]/m);
    expect(requested.stdout).to.match(/^argmax 2;/m); // virginica
  });

  it("model register refuses a manifest whose dtype or shape is not the ONNX file's, naming both", async () => {
    const manifest = path.join(temp.dir, "wrong-manifest.json");
    const register = () =>
      verity(
        ["model", "register", "models/iris/iris.onnx", "--manifest", manifest, "--price", "0.001", ...chain],
        local.actors.modelOwner.privateKey,
      );
    writeFileSync(manifest, JSON.stringify({ input: { shape: [1, 4], dtype: "int8" }, output: { shape: [1, 3] } }));
    const dtype = await register();
    expect(dtype.code).to.equal(1);
    expect(dtype.stderr).to.equal("error: The manifest's input dtype \"int8\" is not the ONNX file's float32.\n");
    writeFileSync(manifest, JSON.stringify({ input: { shape: [1, 4] }, output: { shape: [1, 4] } }));
    const shape = await register();
    expect(shape.stderr.split("\n")[0]).to.equal("error: The manifest's output shape [1, 4] is not the ONNX file's.");
    expect(await local.suite.modelRegistry.modelCount()).to.equal(2n); // iris, and the one registered above
  });

  it("keystore create encrypts the key; the daemon unlocks it with the password and refuses a wrong one", async () => {
    const keystore = path.join(temp.dir, "provider.keystore.json");
    const created = await exec(process.execPath, [bin, "keystore", "create", "--out", keystore], {
      cwd: root,
      env: {
        ...process.env,
        VERITY_PRIVATE_KEY: local.actors.provider.privateKey,
        VERITY_KEYSTORE_PASSWORD: "correct horse",
      },
    });
    expect(created.stdout).to.include(local.actors.provider.address);
    expect(readFileSync(keystore, "utf8")).to.not.include(local.actors.provider.privateKey.slice(2));

    await daemon?.stop();
    daemon = spawnDaemon({
      config: { ...local.daemonConfig(), keystore },
      dir: temp.dir,
      privateKey: "",
      env: { VERITY_KEYSTORE_PASSWORD: "correct horse" },
    });
    const started = await daemon.waitForLog((line) => line.msg === "provider daemon started");
    expect(started.account).to.equal(local.actors.provider.address);

    const wrong = spawnDaemon({
      config: { ...local.daemonConfig(), keystore },
      dir: temp.dir,
      privateKey: "",
      env: { VERITY_KEYSTORE_PASSWORD: "wrong horse" },
    });
    expect(await wrong.exited()).to.equal(1);
    expect(wrong.stderr[0]).to.equal(`error: Cannot decrypt the keystore ${keystore}.`);
  });

  it("model register --mode zk deploys the generated verifier and the adapter and registers a Zk model", async () => {
    const registered = await verity(
      ["model", "register", "models/iris", "--mode", "zk", "--price", "0.001", "--dir", local.contentDir, ...chain],
      local.actors.modelOwner.privateKey,
    );
    expect(registered.stderr).to.equal("");
    const [, groth16, adapter] =
      /^deployed IrisGroth16Verifier (0x[0-9a-fA-F]{40}) and Groth16TensorVerifier (0x[0-9a-fA-F]{40})$/m.exec(
        registered.stdout,
      )!;
    const [, id] =
      /^model (\d+) registered \(Zk, verifier (0x[0-9a-fA-F]{40})\): content bafk\w+, modelHash 0x[0-9a-f]{64}$/m.exec(
        registered.stdout,
      )!;
    const verification = await local.suite.modelRegistry.verificationOf(BigInt(id!));
    expect(verification.mode).to.equal(1n); // Zk
    expect(verification.verifier).to.equal(adapter);
    const adapterContract = new Contract(adapter!, loadArtifact("Groth16TensorVerifier").abi as never[], local.rpc);
    expect(await adapterContract.getFunction("groth16Verifier")()).to.equal(groth16);
    expect(await adapterContract.getFunction("publicSignalCount")()).to.equal(2n);
    const model = await local.suite.modelRegistry.getModel(BigInt(id!));
    expect(model.modelHash).to.equal(JSON.parse(readFileSync("models/iris/vqm/manifest.json", "utf8")).modelHash);
  });

  it("request refuses, before sending, an input that is not the Zk model's registered format", async () => {
    const count = await local.suite.inferenceMarket.requestCount();
    const input = path.join(temp.dir, "float-input.json");
    writeFileSync(input, JSON.stringify({ dtype: "float32", shape: [1, 4], data: [6.3, 3.3, 6.0, 2.5] }));
    const refused = await verity(["request", "--model", "3", "--input", input, ...chain], local.actors.user.privateKey);
    expect(refused.code).to.equal(1);
    expect(refused.stderr.split("\n")[0]).to.equal(
      "error: Model 3 (Zk) takes int8 [1, 4]; the input is float32 [1, 4].",
    );
    expect(refused.stderr).to.include("Send the inline envelope 0x00 ‖ canonical int8 [1, 4] tensor bytes");
    expect(await local.suite.inferenceMarket.requestCount()).to.equal(count);
  });

  it("request sends a Zk model's int8 input inline (0x00 ‖ tensor), which the market accepts", async () => {
    const input = path.join(temp.dir, "int8-input.json");
    writeFileSync(input, JSON.stringify({ dtype: "int8", shape: [1, 4], data: [-52, 67, -93, -107] }));
    const sent = await verity(
      ["request", "--model", "3", "--input", input, "--no-wait", ...chain],
      local.actors.user.privateKey,
    );
    expect(sent.stderr).to.equal("");
    const id = BigInt(/^request (\d+) sent/m.exec(sent.stdout)![1]!);
    const market = local.suite.inferenceMarket;
    const [event] = await market.queryFilter(market.filters.InferenceRequested(id));
    const tensor = createTensor("int8", [1, 4], [-52, 67, -93, -107]);
    expect(event!.args.input).to.equal(hexlify(encodeRequestInput(tensor)));
    expect(event!.args.input.slice(0, 4)).to.equal("0x00"); // the envelope's kind byte: inline
  });

  it("deploy --profile testnet writes a deployment: market named in the provider registry, game in the market", async () => {
    const out = path.join(temp.dir, "deployed.json");
    const deployed = await verity(
      ["deploy", "--profile", "testnet", "--rpc", local.devnet.url, "--out", out],
      local.actors.deployer.privateKey,
    );
    expect(deployed.stderr).to.equal("");
    expect(deployed.code).to.equal(0);
    expect(deployed.stdout).to.match(/^profile testnet: /m);
    const deployment = readDeployment(out);
    const suite = connectSuite(deployment, local.rpc);
    const game = await suite.inferenceMarket.disputeGame();
    expect(deployed.stdout).to.include(`dispute game ${game}`);
    expect(await suite.providerRegistry.market()).to.equal(deployment.contracts.inferenceMarket);
    const parameters = await attach<DisputeGame>("DisputeGame", game, local.rpc).parameters();
    expect(parameters.clock).to.equal(BigInt(DEPLOY_PROFILES.testnet.disputeClockSec));
    expect(parameters.slash).to.equal(DEPLOY_PROFILES.testnet.slashAmount);
    expect(await suite.modelRegistry.challengeWindowBounds()).to.deep.equal([
      BigInt(DEPLOY_PROFILES.testnet.minChallengeWindowSec),
      BigInt(DEPLOY_PROFILES.testnet.maxChallengeWindowSec),
    ]);
  });

  it("deploy names the profiles when given an unknown one, and refuses unsafe overrides before any transaction", async () => {
    const unknown = await verity(["deploy", "--profile", "mainnet", "--rpc", local.devnet.url], "0x01");
    expect(unknown.code).to.equal(1);
    expect(unknown.stderr).to.equal('error: Unknown deploy profile "mainnet": use devnet or testnet.\n');

    const nonce = await local.rpc.getTransactionCount(local.actors.deployer.address);
    const unsafe = await verity(
      [
        "deploy",
        "--profile",
        "testnet",
        "--unbonding-delay",
        "86400",
        "--rpc",
        local.devnet.url,
        "--out",
        path.join(temp.dir, "unsafe.json"),
      ],
      local.actors.deployer.privateKey,
    );
    expect(unsafe.code).to.equal(1);
    expect(unsafe.stderr).to.include("error: These deploy parameters are unsafe: the dispute game would refuse them.");
    expect(unsafe.stderr).to.include("exceeds unbondingDelaySec = 86400 s");
    expect(await local.rpc.getTransactionCount(local.actors.deployer.address)).to.equal(nonce);
  });

  it("says what is missing when no key is set", async () => {
    const result = await verity(["provider", "status", ...chain]);
    expect(result.code).to.equal(1);
    expect(result.stderr).to.include("error: No private key for the account.");
  });
});
