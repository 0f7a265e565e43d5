/**
 * Plays docs/deploy-testnet.md, command for command, against a second local `hardhat node`
 * started here with Sepolia's chain id on a port of its own and treated as a remote network:
 * its own RPC URL (SEPOLIA_RPC_URL), keys made by `verity keystore create` and used encrypted,
 * a scratch folder for every file the commands write, nothing shared with a devnet. The
 * commands come from the document's fenced blocks (doc-blocks.ts), so a changed document is a
 * changed test. Test-only steps stand in for the world: the node's development account funds the
 * new keys (the faucet), the clock moves over the one-day challenge window, and the source
 * verification runs its checks without an explorer.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { parseEther, Wallet, ZeroAddress, type JsonRpcProvider } from "ethers";
import { connectSuite, createRpcProvider, type Suite } from "../../oracle/chain/connect.ts";
import { readDeployment } from "../../oracle/chain/deployment.ts";
import { KNOWN_NETWORKS } from "../../oracle/chain/networks.ts";
import { requestStatusName } from "../../oracle/chain/request-status.ts";
import { DEV_PRIVATE_KEYS } from "../../oracle/devnet/start-devnet.ts";
import { tempDir } from "../node/helpers.ts";
import { commandsOf, docBlocks, type ShellBlock } from "./doc-blocks.ts";
import {
  background,
  freePort,
  PRELUDE,
  readerEnv,
  runShell,
  waitForOutput,
  waitForRequestId,
  waitUntil,
  withoutTestVariables,
} from "./doc-shell.ts";

const root = path.resolve(import.meta.dirname, "../..");
const docFile = path.join(root, "docs/deploy-testnet.md");
const hardhatCli = path.join(root, "node_modules/hardhat/dist/src/cli.js");
const PASSWORD = "doc test passphrase, not a secret";
const WINDOW_SEC = 86_400;
/** What the document asks to fund each key with (§1), in ETH. */
const FUNDING = { deployer: "0.05", provider: "1.05", watcher: "0.2", user: "0.01" } as const;

/** The blocks the document has, in order: adding, removing or moving a step is a change to this test. */
const STEPS = [
  "settings:env",
  "keys:run",
  "deploy:run",
  "ignition:skip",
  "verify:dry-run",
  "model:run",
  "stake:run",
  "provider:background",
  "watch:background",
  "request:run",
  "withdraw:run",
];

describe("docs/deploy-testnet.md, played against a second local node as a public network", function () {
  this.timeout(240_000);
  const scratch = tempDir("verity-testnet-doc-");
  const children: ChildProcess[] = [];
  const dir = scratch.dir;
  let node: ChildProcess | undefined;
  let rpc: JsonRpcProvider | undefined;
  /** The reader's shell environment (the settings of §0), set once the node runs. */
  let env: NodeJS.ProcessEnv = {};

  after(async () => {
    for (const child of [...children, node]) if (child && child.exitCode === null) child.kill("SIGKILL");
    rpc?.destroy();
    scratch.remove();
  });

  it("deploys with an encrypted key, verifies, registers, stakes, serves, watches, requests and withdraws", async () => {
    const blocks = docBlocks(readFileSync(docFile, "utf8"), "docs/deploy-testnet.md");
    const shell = blocks.filter((block): block is ShellBlock => block.kind === "sh");
    expect(shell.map((block) => `${block.id}:${block.mode}`)).to.deep.equal(STEPS);
    const step = (id: string) => shell.find((block) => block.id === id)!;

    // The settings the reader exports are the ones this test supplies (the explorer key is not needed).
    const exported = commandsOf(step("settings")).map((line) => /^export (\w+)=/.exec(line)?.[1]);
    expect(exported).to.deep.equal(["SEPOLIA_RPC_URL", "VERITY_KEYSTORE_PASSWORD", "ETHERSCAN_API_KEY"]);
    // A step shown but not run still names files that exist.
    for (const file of step("ignition").body.match(/\bdeploy\/[\w./-]+\.(?:ts|json)\b/g) ?? [])
      expect(existsSync(path.join(root, file)), file).to.equal(true);

    // The "remote" network: a node of its own, Sepolia's chain id, blocks every second as a chain makes them.
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    node = spawn(
      process.execPath,
      [hardhatCli, "node", "--hostname", "127.0.0.1", "--port", String(port), "--chain-id", "11155111"],
      { cwd: root, env: withoutTestVariables(process.env), stdio: ["ignore", "pipe", "pipe"] },
    );
    await waitForOutput(node, (text) => text.includes(`Started HTTP and WebSocket JSON-RPC server at ${url}`), 30_000);
    rpc = createRpcProvider(url, 200);
    expect(Number((await rpc.getNetwork()).chainId)).to.equal(KNOWN_NETWORKS.sepolia.chainId);
    await rpc.send("evm_setIntervalMining", [1000]);

    // The reader's clone, as far as the document uses it: the model sources and the deploy scripts.
    for (const folder of ["models", "deploy"]) symlinkSync(path.join(root, folder), path.join(dir, folder));
    env = { ...readerEnv(root), SEPOLIA_RPC_URL: url, VERITY_KEYSTORE_PASSWORD: PASSWORD };
    for (const block of blocks) if (block.kind === "file") writeFileSync(path.join(dir, block.name), block.body);
    const outputs: string[] = [];
    const run = async (id: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<string> => {
      const ran = await runShell(PRELUDE + step(id).body, dir, { ...env, ...extraEnv });
      outputs.push(ran.stdout, ran.stderr);
      if (ran.code !== 0)
        throw new Error(
          `step ${id} (docs/deploy-testnet.md:${step(id).line}) exited ${ran.code}\n${ran.stdout}\n${ran.stderr}`,
        );
      return ran.stdout;
    };

    // 1. Keys, then the faucet.
    await run("keys");
    const keystores = readdirSync(dir).filter((name) => name.endsWith(".keystore.json"));
    expect(keystores.sort()).to.deep.equal(
      Object.keys(FUNDING)
        .map((role) => `${role}.keystore.json`)
        .sort(),
    );
    const address = (role: keyof typeof FUNDING) =>
      `0x${(JSON.parse(readFileSync(path.join(dir, `${role}.keystore.json`), "utf8")) as { address: string }).address}`;
    const faucet = new Wallet(DEV_PRIVATE_KEYS[0]!, rpc);
    for (const [role, amount] of Object.entries(FUNDING))
      await (
        await faucet.sendTransaction({ to: address(role as keyof typeof FUNDING), value: parseEther(amount) })
      ).wait();

    // 2. Deploy: deployments/sepolia.json, signed by the deployer's keystore.
    const deployed = await run("deploy");
    expect(deployed).to.include("network sepolia (chain 11155111)");
    const deployment = readDeployment(path.join(dir, "deployments/sepolia.json"));
    expect(deployment).to.include({ chainId: 11155111, network: "sepolia", profile: "testnet" });
    expect(deployment.deployed?.map((contract) => contract.name)).to.deep.equal([
      "ModelRegistry",
      "ProviderRegistry",
      "InferenceMarket",
      "AgentAccount",
      "AgentRegistry",
      "ValidationRegistry",
      "VerityValidator",
      "LayerStepProver",
      "DisputeGame",
    ]);
    const suite: Suite = connectSuite(deployment, rpc);
    expect((await suite.inferenceMarket.owner()).toLowerCase()).to.equal(address("deployer").toLowerCase());
    expect(await suite.modelRegistry.challengeWindowBounds()).to.deep.equal([86_400n, 604_800n]);

    // 3. Verify: every check short of the explorer.
    const verified = await run("verify", { VERITY_VERIFY_DRY_RUN: "1" });
    expect(verified.match(/^checked \w+ 0x[0-9a-fA-F]{40}: creation code matches/gm)).to.have.length(9);

    // 4-5. The model, registered Optimistic with a one-day window; the provider's stake.
    expect(await run("model")).to.match(/^model 1 registered \(Optimistic, window 86400 s/m);
    await run("stake");
    expect(await suite.providerRegistry.stakeOf(address("provider"))).to.equal(parseEther("1"));
    expect(await suite.providerRegistry.servesModel(address("provider"), 1n)).to.equal(true);

    // 6. The provider and the watchtower, each its own process.
    const provider = background(step("provider"), dir, env, children);
    const watcher = background(step("watch"), dir, env, children);
    await Promise.all([provider.waitForLog("provider daemon started"), watcher.waitForLog("watchtower started")]);

    // 7. The request: the provider serves it, the watchtower agrees, a day passes, it is final.
    const request = runShell(PRELUDE + step("request").body, dir, env);
    const requestId = await waitForRequestId(request.child);
    const market = suite.inferenceMarket;
    await waitUntil(async () => requestStatusName(await market.statusOf(requestId)) === "Submitted", 60_000);
    await watcher.waitForLog("result checked: trace agrees");
    await rpc.send("evm_increaseTime", [WINDOW_SEC + 1]);
    await rpc.send("evm_mine", []);
    const requested = await request;
    outputs.push(requested.stdout, requested.stderr);
    expect(requested.code, `${requested.stdout}\n${requested.stderr}`).to.equal(0);
    expect(requested.stdout).to.match(new RegExp(`request ${requestId} Finalized`));
    expect(requested.stdout).to.match(/^argmax 0/m);

    // 8. Withdraw: the provider's fee, and the royalty and protocol fee of the deployer (owner and treasury).
    const credit = (role: keyof typeof FUNDING) => market.balanceOf(address(role), ZeroAddress);
    expect(await credit("provider")).to.be.greaterThan(0n);
    expect(await credit("deployer")).to.be.greaterThan(0n);
    await run("withdraw");
    expect(await credit("provider")).to.equal(0n);
    expect(await credit("deployer")).to.equal(0n);

    // Ctrl-C: both stop cleanly.
    expect(await Promise.all([provider.stop(), watcher.stop()])).to.deep.equal([0, 0]);
    outputs.push(provider.output(), watcher.output());
    for (const text of outputs) expect(text).not.to.include(PASSWORD);
    // VERITY_DOC_TRANSCRIPT=FILE keeps what the reader would see, step by step.
    if (process.env.VERITY_DOC_TRANSCRIPT) writeFileSync(process.env.VERITY_DOC_TRANSCRIPT, outputs.join("\n"));
  });

  it("on the same network: refuses a node of another chain and a deployment of another chain, asks for a password on a terminal", async function () {
    if (!existsSync(path.join(dir, "deployments/sepolia.json"))) this.skip();
    const verity = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) =>
      runShell(`${PRELUDE}npx verity ${args.join(" ")}`, dir, { ...env, ...extraEnv });
    const url = env.SEPOLIA_RPC_URL!;

    // The URL of the "holesky" network points at this Sepolia node.
    const wrongChain = await verity(
      ["provider", "status", "--network", "holesky", "--keystore", "provider.keystore.json"],
      {
        HOLESKY_RPC_URL: url,
      },
    );
    expect(wrongChain.code).to.equal(1);
    expect(wrongChain.stderr).to.equal(
      `error: The node at ${url} is chain 11155111 (sepolia), not holesky (chain 17000).\n` +
        "  Point the network's URL variable (or --rpc) at a node of that chain.\n",
    );

    // A deployment made on another chain.
    const devnetFile = path.join(dir, "deployments/localhost.json");
    writeFileSync(
      devnetFile,
      JSON.stringify({ ...readDeployment(path.join(dir, "deployments/sepolia.json")), chainId: 31337 }),
    );
    const wrongFile = await verity([
      "provider",
      "status",
      "--network",
      "sepolia",
      "--deployment",
      "deployments/localhost.json",
      "--keystore",
      "provider.keystore.json",
    ]);
    expect(wrongFile.code).to.equal(1);
    expect(wrongFile.stderr).to.match(
      /^error: The deployment deployments\/localhost\.json is for chain 31337 but the node is chain 11155111\.\n/,
    );

    // Deploying again over the live deployment is refused before any transaction.
    const again = await verity([
      "deploy",
      "--network",
      "sepolia",
      "--profile",
      "testnet",
      "--keystore",
      "deployer.keystore.json",
    ]);
    expect(again.code).to.equal(1);
    expect(again.stderr).to.match(/^error: deployments\/sepolia\.json holds a live deployment on chain 11155111\.\n/);

    // On a terminal, without VERITY_KEYSTORE_PASSWORD: the password is asked for, not echoed, and the command ends.
    const { VERITY_KEYSTORE_PASSWORD: _, ...noPassword } = env;
    const tty = spawn(
      "script",
      [
        "-qec",
        `node "${root}/bin/verity.js" provider status --network sepolia --keystore provider.keystore.json`,
        "/dev/null",
      ],
      { cwd: dir, env: noPassword, stdio: ["pipe", "pipe", "pipe"] },
    );
    children.push(tty);
    await waitForOutput(tty, (text) => text.includes("Password for provider.keystore.json"), 30_000);
    tty.stdin!.write(`${PASSWORD}\r`);
    const text = await waitForOutput(tty, (output) => /models\s+1/.test(output) && output, 30_000);
    expect(text).to.match(/stake\s+1\.0 ETH/);
    expect(text).not.to.include(PASSWORD);
    const code = await new Promise<number | null>((resolve) =>
      tty.exitCode === null ? tty.on("close", resolve) : resolve(tty.exitCode),
    );
    expect(code).to.equal(0);
  });
});
