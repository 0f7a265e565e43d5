import { execFile } from "node:child_process";
import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { formatEther, hexlify, version as ethersVersion } from "ethers";
import { connectAgentRegistry } from "../../oracle/agents/agent-contracts.ts";
import { createAgent } from "../../oracle/agents/create-agent.ts";
import { parsePolicyObject } from "../../oracle/agents/policy-file.ts";
import { startLocalSuite, type LocalSuite } from "../../oracle/devnet/local-suite.ts";
import { spawnDaemon, type SpawnedDaemon } from "../../oracle/devnet/spawn-daemon.ts";
import { encodeInlineInput } from "../../oracle/model/input-envelope.ts";
import { createTensor } from "../../oracle/model/tensor.ts";
import { tempDir } from "../node/helpers.ts";

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, "../..");
const require = createRequire(import.meta.url);

/**
 * The system's Node (not the Node 24 of node_modules/.bin that npm scripts and npx put first on
 * PATH): a dApp runs the SDK on whatever Node it has, Node 20 here.
 */
function systemNode(): string {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (!dir || dir.includes(`${path.sep}node_modules${path.sep}`) || dir.endsWith(`${path.sep}node_modules`)) continue;
    const candidate = path.join(dir, "node");
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return "/usr/bin/node";
}

/** The environment without npm's per-run settings (`npm test` sets npm_config_*, npm_package_*). */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
  return { ...env, ...extra };
}

/** A dApp's own consumer contract, built on the package's base contract and tensor library. */
const CONSUMER_SOL = `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IInferenceMarket} from "@verity/contracts/interfaces/IInferenceMarket.sol";
import {VerityConsumer} from "@verity/contracts/consumer/VerityConsumer.sol";
import {CanonicalTensor} from "@verity/contracts/libraries/CanonicalTensor.sol";

/// Classifies iris flowers: builds the model's float32 [1, 4] input on-chain and keeps the class
/// (argmax of the logits) it is called back with.
contract IrisClassifier is VerityConsumer {
    uint256 public immutable modelId;
    mapping(uint256 requestId => uint256) private _labelPlusOne;

    event Classified(uint256 indexed requestId, uint256 label);

    constructor(IInferenceMarket market_, uint256 modelId_) VerityConsumer(market_) {
        modelId = modelId_;
    }

    function classify(uint32[4] calldata featureBits, uint32 callbackGasLimit) external payable returns (uint256) {
        uint32[] memory bits = new uint32[](4);
        for (uint256 i; i < 4; ++i) bits[i] = featureBits[i];
        bytes memory input = CanonicalTensor.toInlineInput(
            CanonicalTensor.encodeFloat32(CanonicalTensor.shapeOf(1, 4), bits)
        );
        return _requestInference(modelId, input, msg.value, uint64(block.timestamp + 600), callbackGasLimit, msg.value);
    }

    function labelOf(uint256 requestId) external view returns (bool known, uint256 label) {
        uint256 stored = _labelPlusOne[requestId];
        return (stored != 0, stored == 0 ? 0 : stored - 1);
    }

    function _onInferenceResult(uint256 requestId, bytes calldata output) internal override {
        uint256 label = CanonicalTensor.argmax(output);
        _labelPlusOne[requestId] = label + 1;
        emit Classified(requestId, label);
    }

    receive() external payable {}
}
`;

/** The dApp's script: only package imports, run with the system Node. */
const RUN_MJS = `import { readFileSync } from "node:fs";
import { ContractFactory } from "ethers";
import {
  ChainRevertError,
  argmax,
  connectSuite,
  createRpcProvider,
  createTensor,
  createWallet,
  decodeTensor,
  encodeRequestInput,
  encodeTensor,
  estimateCallbackGas,
  connectAgentRegistry,
  fundAgent,
  getAgentStatus,
  readDeployment,
  requestInference,
  resolveAgent,
  waitForFinal,
  wakeAgent,
} from "@verity/sdk";

const rpc = createRpcProvider(process.env.RPC_URL, 100);
const wallet = createWallet(process.env.PRIVATE_KEY, rpc);
const deployment = readDeployment(process.env.DEPLOYMENT);
const { inferenceMarket, modelRegistry } = connectSuite(deployment, wallet);
const modelId = BigInt(process.env.MODEL_ID);
const features = [5.4, 3.9, 1.7, 0.4];
const result = { node: process.version };

// 1. From the dApp's account: request, wait, decode.
const input = encodeRequestInput(createTensor("float32", [1, 4], features));
const direct = await requestInference(inferenceMarket, modelRegistry, { modelId, input });
const outcome = await waitForFinal(inferenceMarket, direct.requestId, { timeoutMs: 60_000, pollIntervalMs: 100 });
result.direct = { status: outcome.status, label: argmax(decodeTensor(outcome.output)) };

// 2. From the dApp's contract, compiled from @verity/contracts: input built and output decoded on-chain.
const artifact = JSON.parse(readFileSync("IrisClassifier.json", "utf8"));
const factory = new ContractFactory(artifact.abi, artifact.bytecode, wallet);
const consumer = await factory.deploy(deployment.contracts.inferenceMarket, modelId);
await consumer.waitForDeployment();
const callback = await consumer.getAddress();
const gas = await estimateCallbackGas(rpc, {
  market: deployment.contracts.inferenceMarket,
  callback,
  output: encodeTensor(createTensor("float32", [1, 3], [2.5, -1.25, 0.75])),
});
const bits = [...new Uint32Array(Float32Array.from(features).buffer)];
const { price } = await modelRegistry.getActiveModel(modelId);
const receipt = await (await consumer.classify(bits, gas.gasLimit, { value: price })).wait();
const requested = receipt.logs
  .map((log) => inferenceMarket.interface.parseLog(log))
  .find((parsed) => parsed?.name === "InferenceRequested");
const id = requested.args.requestId;
const viaContract = await waitForFinal(inferenceMarket, id, { timeoutMs: 60_000, pollIntervalMs: 100 });
const [known, label] = await consumer.labelOf(id);
result.contract = {
  status: viaContract.status,
  callback: viaContract.callback,
  known,
  label: Number(label),
  onChainInput: requested.args.input,
  gas,
};

// 3. An agent (created by its owner beforehand): funded, given a task, woken by this account as
// its keeper, its result read back into its record.
const agent = await resolveAgent(connectAgentRegistry(deployment, wallet), process.env.AGENT_ID);
const funded = await fundAgent(wallet, { account: agent.address, amount: 10n ** 16n });
await (await agent.account.postTask(input.slice(1), { value: await agent.account.policy().then((p) => p.minTaskFee) })).wait();
const woken = await wakeAgent(agent.account);
await waitForFinal(inferenceMarket, woken.requestId, { timeoutMs: 60_000, pollIntervalMs: 100 });
const status = await getAgentStatus(connectAgentRegistry(deployment, wallet), modelRegistry, inferenceMarket, agent);
result.agent = { budget: funded.balance, requestId: woken.requestId, record: status.record, trail: status.trail.length };

// 4. Errors: a revert comes back decoded.
try {
  await requestInference(inferenceMarket, modelRegistry, { modelId: 999n, input });
} catch (error) {
  result.error = { isChainRevert: error instanceof ChainRevertError, errorName: error.errorName, message: error.shortMessage };
}
console.log(JSON.stringify(result, (_, v) => (typeof v === "bigint" ? v.toString() : v)));
rpc.destroy();
`;

/** A dApp's TypeScript, type-checked against the package's declarations only. */
const CHECK_TS = `import { JsonRpcProvider } from "ethers";
import {
  connectSuite,
  estimateCallbackGas,
  waitForFinal,
  type Deployment,
  type EstimateCallbackGasReturnType,
  type InferenceMarket,
  type RequestOutcome,
} from "@verity/sdk";

export async function settle(deployment: Deployment, id: bigint): Promise<Uint8Array | undefined> {
  const { inferenceMarket } = connectSuite(deployment, new JsonRpcProvider("http://127.0.0.1:1"));
  const market: InferenceMarket = inferenceMarket;
  const outcome: RequestOutcome = await waitForFinal(market, id, { timeoutMs: 1 });
  const gas: EstimateCallbackGasReturnType = await estimateCallbackGas(new JsonRpcProvider(), {
    market: deployment.contracts.inferenceMarket,
    callback: deployment.contracts.inferenceMarket,
    output: "0x00",
  });
  void gas.gasLimit;
  return outcome.status === "Finalized" ? outcome.output : undefined;
}
`;

/** Compiles the dApp's contract with the repository's npm solc, resolving imports from the scratch project's node_modules. */
function compileConsumer(app: string): { abi: unknown[]; bytecode: string } {
  const solc = require("solc") as { compile(input: string, callbacks: unknown): string };
  const input = {
    language: "Solidity",
    sources: { "contracts/IrisClassifier.sol": { content: CONSUMER_SOL } },
    settings: {
      optimizer: { enabled: true, runs: 200 },
      evmVersion: "prague",
      outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } },
    },
  };
  const findImports = (importPath: string) => {
    const file = path.join(app, "node_modules", importPath);
    return existsSync(file) ? { contents: readFileSync(file, "utf8") } : { error: `not found: ${importPath}` };
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports })) as {
    errors?: { severity: string; formattedMessage: string }[];
    contracts: Record<string, Record<string, { abi: unknown[]; evm: { bytecode: { object: string } } }>>;
  };
  const errors = (output.errors ?? []).filter((e) => e.severity === "error");
  if (errors.length > 0) throw new Error(errors.map((e) => e.formattedMessage).join("\n"));
  const compiled = output.contracts["contracts/IrisClassifier.sol"]!["IrisClassifier"]!;
  return { abi: compiled.abi, bytecode: `0x${compiled.evm.bytecode.object}` };
}

function* solidityFiles(dir: string, prefix = ""): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const relative = path.posix.join(prefix, entry.name);
    if (entry.isDirectory()) yield* solidityFiles(path.join(dir, entry.name), relative);
    else if (entry.name.endsWith(".sol")) yield relative;
  }
}

describe("packages: @verity/contracts and @verity/sdk, packed and installed outside the repository", function () {
  this.timeout(240_000);
  const temp = tempDir("verity-packages-");
  const app = path.join(temp.dir, "dapp");
  let local: LocalSuite | undefined;
  let daemon: SpawnedDaemon | undefined;

  before(async () => {
    // npm pack runs each package's prepack: the SDK is compiled, the contracts copied from contracts/.
    for (const name of ["contracts", "sdk"])
      await run("npm", ["pack", "--pack-destination", temp.dir, "--silent"], {
        cwd: path.join(root, "packages", name),
        env: cleanEnv(),
      });
    mkdirSync(app);
    writeFileSync(
      path.join(app, "package.json"),
      JSON.stringify({ name: "scratch-dapp", version: "1.0.0", private: true, type: "module" }),
    );
    const tarballs = readdirSync(temp.dir)
      .filter((name) => name.endsWith(".tgz"))
      .map((name) => path.join(temp.dir, name));
    expect(tarballs.map((file) => path.basename(file)).sort()).to.deep.equal([
      "verity-contracts-0.1.0.tgz",
      "verity-sdk-0.1.0.tgz",
    ]);
    await run(
      "npm",
      [
        "install",
        "--prefer-offline",
        "--no-audit",
        "--no-fund",
        "--loglevel=error",
        ...tarballs,
        `ethers@${ethersVersion}`,
      ],
      { cwd: app, env: cleanEnv() },
    );
  });

  after(async () => {
    await daemon?.stop();
    await local?.close();
    temp.remove();
  });

  it("@verity/contracts ships every interface, the consumer base and the tensor library, byte for byte as in contracts/", () => {
    const installed = path.join(app, "node_modules", "@verity", "contracts");
    const shipped = [...solidityFiles(installed)].sort();
    const interfaces = readdirSync(path.join(root, "contracts", "interfaces")).filter((f) => f.endsWith(".sol"));
    expect(shipped).to.deep.equal(
      [
        ...interfaces.map((f) => `interfaces/${f}`),
        "agents/IAgentAccount.sol",
        "agents/IAgentRegistry.sol",
        "agents/IValidationRegistry.sol",
        "consumer/VerityConsumer.sol",
        "libraries/CanonicalTensor.sol",
      ].sort(),
    );
    for (const file of shipped)
      expect(readFileSync(path.join(installed, file), "utf8"), `${file} drifted from contracts/${file}`).to.equal(
        readFileSync(path.join(root, "contracts", file), "utf8"),
      );
    // postpack removed the copies: the repository keeps one source.
    expect(existsSync(path.join(root, "packages", "contracts", "interfaces"))).to.equal(false);
  });

  it("@verity/sdk ships JavaScript and declarations only, with ethers as its one (peer) dependency", () => {
    const installed = path.join(app, "node_modules", "@verity", "sdk");
    const manifest = JSON.parse(readFileSync(path.join(installed, "package.json"), "utf8")) as Record<string, unknown>;
    expect(manifest.dependencies).to.equal(undefined);
    expect(manifest.peerDependencies).to.deep.equal({ ethers: "^6.13.0" });
    const files = [...walk(path.join(installed, "dist"))].map((file) => path.relative(installed, file));
    expect(files.filter((file) => /\.(ts|mts|cts)$/.test(file) && !file.endsWith(".d.ts"))).to.deep.equal([]);
    expect(files).to.include("dist/packages/sdk/index.js");
    expect(files).to.include("dist/packages/sdk/index.d.ts");
    expect(files.some((file) => file.includes("onnx") || file.includes("/node/") || file.includes("/cli/"))).to.equal(
      false,
    );
  });

  it("a dApp's TypeScript type-checks against the SDK's declarations (strict, library checks on)", async () => {
    writeFileSync(path.join(app, "check.ts"), CHECK_TS);
    writeFileSync(
      path.join(app, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          module: "nodenext",
          target: "es2022",
          // The SDK's declarations are checked too, and no ambient @types are loaded.
          skipLibCheck: false,
          types: [],
        },
        files: ["check.ts"],
      }),
    );
    const tsc = require.resolve("typescript/bin/tsc");
    await run(process.execPath, [tsc, "-p", "."], { cwd: app }).catch((error: { stdout?: string }) => {
      throw new Error(`tsc failed:\n${error.stdout ?? String(error)}`);
    });
  });

  it("a consumer importing @verity/contracts by name compiles, and the SDK imported by name serves requests on the system Node", async () => {
    writeFileSync(path.join(app, "IrisClassifier.json"), JSON.stringify(compileConsumer(app)));
    writeFileSync(path.join(app, "run.mjs"), RUN_MJS);

    local = await startLocalSuite({ dir: temp.dir });
    daemon = spawnDaemon({
      config: local.daemonConfig(),
      dir: temp.dir,
      privateKey: local.actors.provider.privateKey,
    });
    await daemon.waitForLog((line) => line.msg === "provider daemon started");
    // An agent on the iris model, for the dApp's script to fund, task and wake through the SDK.
    const { agentId } = await createAgent(
      connectAgentRegistry(local.deployment, local.actors.deployer),
      local.content,
      {
        name: "iris-agent",
        description: "Asks the iris classifier about each task.",
        policy: parsePolicyObject(
          {
            model: local.iris.modelId.toString(),
            modes: ["attested"],
            maxFeePerRequest: formatEther(local.iris.price),
            spendPerPeriod: "0.01",
            period: "1d",
            input: { kind: "taskCalldata" },
          },
          "the agent's policy",
        ),
      },
    );

    const node = systemNode();
    const { stdout } = await run(node, ["run.mjs"], {
      cwd: app,
      env: cleanEnv({
        RPC_URL: local.devnet.url,
        DEPLOYMENT: local.deploymentFile,
        PRIVATE_KEY: local.actors.user.privateKey,
        MODEL_ID: local.iris.modelId.toString(),
        AGENT_ID: agentId.toString(),
      }),
    });
    const result = JSON.parse(stdout.trim().split("\n").at(-1)!) as {
      node: string;
      direct: { status: string; label: number };
      contract: {
        status: string;
        callback: { success: boolean; gasLimit: number };
        known: boolean;
        label: number;
        onChainInput: string;
        gas: { gasNeeded: number; gasLimit: number };
      };
      error: { isChainRevert: boolean; errorName: string; message: string };
      agent: { budget: string; requestId: string; record: Record<string, string>; trail: number };
    };
    console.log(`      system Node ${result.node} (${node}); callback gas ${JSON.stringify(result.contract.gas)}`);
    console.log(`      ${result.error.message}`);
    expect(result.direct).to.deep.equal({ status: "Finalized", label: 0 }); // setosa
    expect(result.contract.status).to.equal("Finalized");
    expect(result.contract.callback.success).to.equal(true);
    expect(result.contract.callback.gasLimit).to.equal(result.contract.gas.gasLimit);
    expect(result.contract).to.include({ known: true, label: 0 });
    // The input the contract built with CanonicalTensor is the one the TypeScript codec builds.
    expect(result.contract.onChainInput).to.equal(
      hexlify(encodeInlineInput(createTensor("float32", [1, 4], [5.4, 3.9, 1.7, 0.4]))),
    );
    // The agent paid the fee from the budget it was given; its float output gives no decision.
    expect(BigInt(result.agent.budget)).to.equal(10n ** 16n);
    expect(result.agent.record).to.include({ wakes: "1", requests: "1", results: "1", actions: "0", skipped: "1" });
    expect(BigInt(result.agent.record.spent!)).to.equal(local.iris.price);
    expect(result.agent.trail).to.equal(1);
    expect(result.error.isChainRevert).to.equal(true);
    expect(result.error.errorName).to.equal("ModelUnknown");
    expect(result.error.message).to.include("reverted with ModelUnknown(999)");
  });
});

function* walk(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(full);
    else yield full;
  }
}
