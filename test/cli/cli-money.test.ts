/**
 * Money is never stranded, and a request that does not finalize says so: against one local chain
 * and a real provider daemon, `verity request` ends Failed with a non-zero exit, the reason's name
 * and the credit it left, which `verity withdraw` then pays out; `verity expire` refunds a request
 * past its deadline for anyone; `verity balance` shows it all. Reverts are decoded to the custom
 * error's name and arguments, a callback that failed is shown, a metrics port in use is named.
 */
import { writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import path from "node:path";
import { expect } from "chai";
import { formatEther, keccak256, parseEther, hexlify, type Contract } from "ethers";
import { connectSuite } from "../../oracle/chain/connect.ts";
import { deployContract } from "../../oracle/chain/deploy-suite.ts";
import { registerModel } from "../../oracle/chain/register-model.ts";
import { startLocalSuite, type LocalSuite } from "../../oracle/devnet/local-suite.ts";
import { spawnDaemon, type SpawnedDaemon } from "../../oracle/devnet/spawn-daemon.ts";
import { registerZkModel, type ZkModelOnChain } from "../../oracle/devnet/zk-suite.ts";
import { quantiseInput } from "../../oracle/model/quantise/fixed-point.ts";
import { createTensor } from "../../oracle/model/tensor.ts";
import { encodeRequestInput } from "../../oracle/sdk/encode-request-input.ts";
import { tempDir } from "../node/helpers.ts";
import { expectCleanFailure, expectNoStackNorSecret, verity } from "./run-verity.ts";

describe("verity CLI: money never stranded, failures never hidden", function () {
  this.timeout(180_000);
  const temp = tempDir("verity-cli-money-");
  const file = (name: string) => path.join(temp.dir, name);
  let local: LocalSuite;
  let daemon: SpawnedDaemon;
  let chain: string[];
  /** A model no provider serves: its requests stay Pending until they expire. */
  let unserved: bigint;
  let zk: ZkModelOnChain;
  let as: (key: string) => { env: Record<string, string> };

  before(async () => {
    local = await startLocalSuite({ dir: temp.dir });
    chain = ["--rpc", local.devnet.url, "--deployment", local.deploymentFile];
    as = (key) => ({ env: { VERITY_PRIVATE_KEY: key } });
    unserved = await registerModel(connectSuite(local.deployment, local.actors.modelOwner).modelRegistry, {
      modelHash: keccak256(local.iris.bytes),
      contentId: local.iris.contentId,
      price: parseEther("0.002"),
      royaltyBps: 0,
      inputShape: [1, 4],
      outputShape: [1, 3],
      inputDtype: "float32",
      outputDtype: "float32",
    });
    zk = await registerZkModel(local);
    writeFileSync(file("good.json"), JSON.stringify({ dtype: "float32", shape: [1, 4], data: [6.3, 3.3, 6.0, 2.5] }));
    writeFileSync(file("wide.json"), JSON.stringify({ dtype: "float32", shape: [1, 5], data: [1, 2, 3, 4, 5] }));
    daemon = spawnDaemon({ config: local.daemonConfig(), dir: temp.dir, privateKey: local.actors.provider.privateKey });
    await daemon.waitForLog((line) => line.msg === "provider daemon started");
  });

  after(async () => {
    await daemon?.stop();
    await local?.close();
    temp.remove();
  });

  const user = () => as(local.actors.user.privateKey);

  it("a request that ends Failed exits 1 with the reason's name and its credit, which withdraw pays out", async () => {
    const before = await local.suite.inferenceMarket.balanceOf(local.actors.user.address, "0x" + "0".repeat(40));
    const failed = await verity(["request", "--model", "1", "--input", file("wide.json"), ...chain], user());
    const id = /^request (\d+) sent \(fee 0\.001 ETH, tx 0x[0-9a-f]{64}\)$/m.exec(failed.stdout)?.[1];
    expect(id, failed.stdout).to.not.equal(undefined);
    expect(failed.stdout).to.match(new RegExp(`^request ${id} Pending$`, "m")); // the progress lines
    expect(failed.stdout).to.match(new RegExp(`^request ${id} Failed`, "m"));
    expectCleanFailure(
      failed,
      `Request ${id} ended Failed: InputShapeMismatch (input shape mismatch), reported by provider ${local.actors.provider.address}.`,
    );
    expect(failed.stderr).to.include(
      `0.001 ETH credited back to ${local.actors.user.address}: withdraw it with \`npx verity withdraw\`.`,
    );

    const balance = await verity(["balance", ...chain], user());
    expect(balance.code).to.equal(0);
    expect(balance.stdout).to.include(`account    ${local.actors.user.address}`);
    expect(balance.stdout).to.match(new RegExp(`^market     ${formatEther(before + parseEther("0.001"))} ETH$`, "m"));
    expect(balance.stdout).to.match(/^withdraw {3}[\d.]+ ETH: run `npx verity withdraw`$/m);

    const ethBefore = await local.rpc.getBalance(local.actors.user.address);
    const withdrawn = await verity(["withdraw", ...chain], user());
    expect(withdrawn.stderr).to.equal("");
    const [, amount, hash] = /^withdrew ([\d.]+) ETH from the market \(tx (0x[0-9a-f]{64})\)$/m.exec(withdrawn.stdout)!;
    expect(parseEther(amount!)).to.equal(before + parseEther("0.001"));
    const receipt = await local.rpc.getTransactionReceipt(hash!);
    const paid = parseEther(amount!) - receipt!.gasUsed * receipt!.gasPrice;
    expect(await local.rpc.getBalance(local.actors.user.address)).to.equal(ethBefore + paid);
    expect(await local.suite.inferenceMarket.balanceOf(local.actors.user.address, "0x" + "0".repeat(40))).to.equal(0n);

    const again = await verity(["withdraw", ...chain], user());
    expect(again.code).to.equal(0);
    expect(again.stdout).to.include(`nothing to withdraw for ${local.actors.user.address}`);
  });

  it("expire refunds a request past its deadline, sent by anyone, and says what became of each id", async () => {
    const sent = await verity(
      ["request", "--model", String(unserved), "--input", file("good.json"), "--ttl", "60", "--no-wait", ...chain],
      user(),
    );
    expect(sent.code, sent.stderr).to.equal(0);
    const id = /^request (\d+) sent/m.exec(sent.stdout)![1]!;
    expect(sent.stdout).to.include(`wait for it with: npx verity request --wait ${id}`);

    const early = await verity(["expire", id, ...chain], as(local.actors.deployer.privateKey));
    expect(early.stdout).to.match(new RegExp(`^request ${id}: Pending, its deadline .* has not passed$`, "m"));
    expectCleanFailure(early, "1 of 1 request not expired.");

    await local.rpc.send("evm_increaseTime", [61]);
    await local.rpc.send("evm_mine", []);
    const expired = await verity(["expire", id, "1", "999", ...chain], as(local.actors.deployer.privateKey));
    expect(expired.stdout).to.match(
      new RegExp(
        `^request ${id}: expired, refunded \\(0\\.002 ETH fee credited to ${local.actors.user.address}; it withdraws with \`npx verity withdraw\`; tx 0x[0-9a-f]{64}\\)$`,
        "m",
      ),
    );
    expect(expired.stdout).to.match(/^request 1: already Failed, nothing to expire$/m);
    expect(expired.stdout).to.match(/^request 999: no such request$/m);
    expectCleanFailure(expired, "2 of 3 requests not expired.");

    const waited = await verity(["request", "--wait", id, ...chain], user());
    expectCleanFailure(waited, `Request ${id} ended Refunded: no provider delivered before the deadline.`);
    expect(waited.stderr).to.include("0.002 ETH credited back");
    const paid = await verity(["withdraw", "--token", "eth", ...chain], user());
    expect(paid.stdout).to.match(/^withdrew 0\.002 ETH from the market/m);
  });

  it("request --timeout gives up with the status it waited in and how to go on", async () => {
    const result = await verity(
      ["request", "--model", String(unserved), "--input", file("good.json"), "--timeout", "2", ...chain],
      user(),
    );
    const id = /^request (\d+) sent/m.exec(result.stdout)![1]!;
    expect(result.stdout).to.match(new RegExp(`^request ${id} Pending$`, "m"));
    expectCleanFailure(result, `Request ${id} is still Pending after 2 s.`);
    expect(result.stderr).to.include(`npx verity request --wait ${id}`);
  });

  it("a callback that failed is shown with the result", async () => {
    const burner = (await deployContract(local.actors.user, "GasBurnerConsumer")) as unknown as Contract;
    await (await burner.getFunction("setMode")(1)).wait(); // Burn: runs out of gas
    const address = await burner.getAddress();
    const result = await verity(
      [
        "request",
        "--model",
        "1",
        "--input",
        file("good.json"),
        "--callback",
        address,
        "--callback-gas",
        "50000",
        ...chain,
      ],
      user(),
    );
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.match(/^request \d+ Finalized: float32\[1, 3\]/m);
    expect(result.stdout).to.match(
      new RegExp(`^callback ${address} FAILED \\(it reverted or ran out of its 50000 gas\\)`, "m"),
    );
  });

  it("request --float turns floats into the model's int8 input with its folder's input scale", async () => {
    const floats = [5.1, 3.5, 1.4, 0.2];
    writeFileSync(file("floats.json"), JSON.stringify({ data: floats }));
    const args = ["request", "--model", String(zk.modelId), "--input", file("floats.json"), "--float"];
    const sent = await verity([...args, "--model-dir", "models/iris", "--no-wait", ...chain], user());
    expect(sent.code, sent.stderr).to.equal(0);
    const expected = quantiseInput(floats, zk.manifest.input.scale);
    expect(sent.stdout).to.include(
      `quantised 4 floats with the input scale ${zk.manifest.input.scale}: [${Array.from(expected).join(", ")}]`,
    );
    const id = BigInt(/^request (\d+) sent/m.exec(sent.stdout)![1]!);
    const market = local.suite.inferenceMarket;
    const [event] = await market.queryFilter(market.filters.InferenceRequested(id));
    expect(event!.args.input).to.equal(hexlify(encodeRequestInput(createTensor("int8", [1, 4], Array.from(expected)))));

    const float32 = await verity(
      ["request", "--model", "1", "--input", file("floats.json"), "--float", "--model-dir", "models/iris", ...chain],
      user(),
    );
    expectCleanFailure(float32, "Model 1 takes float32 [1, 4], not int8: --float is for int8 models.");
    const other = await verity([...args, "--model-dir", file("nowhere"), ...chain], user());
    expectCleanFailure(other, /^error: .*nowhere is not a model folder/);
  });

  it("balance shows a provider's stake: reserved, free, unbonding", async () => {
    const result = await verity(["balance", ...chain], as(local.actors.provider.privateKey));
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.match(/^stake {6}2 ETH: 0 ETH reserved by open jobs, 2 ETH free$/m);
    const other = await verity(["balance", "--address", local.actors.modelOwner.address, ...chain]);
    expect(other.stdout).to.match(/^market {5}[\d.]+ ETH$/m); // royalties, seen without the owner's key
    expect(other.stdout).to.not.match(/^stake/m);
  });

  it("reverts are decoded to the custom error's name and arguments", async () => {
    const royalty = await verity(
      [
        "model",
        "register",
        "models/iris/iris.onnx",
        "--manifest",
        "models/iris/iris.json",
        "--price",
        "0.001",
        "--royalty-bps",
        "9000",
        "--dir",
        local.contentDir,
        ...chain,
      ],
      as(local.actors.modelOwner.privateKey),
    );
    expectCleanFailure(royalty, /reverted with ModelRoyaltyTooHigh\(9000, 5000\)\.$/);

    const unbond = await verity(["withdraw", ...chain], as(local.actors.deployer.privateKey));
    expect(unbond.code).to.equal(0); // nothing there: nothing sent, nothing reverted
    expectNoStackNorSecret(unbond, [local.actors.deployer.privateKey]);
  });

  it("no error echoes a secret: a mnemonic pasted as the key, a keystore's password, with --verbose too", async () => {
    const mnemonic = "abandon ability able about above absent absorb abstract absurd abuse access accident";
    for (const verbose of [[], ["--verbose"]]) {
      const pasted = await verity(["balance", ...verbose, ...chain], { env: { VERITY_PRIVATE_KEY: mnemonic } });
      expectCleanFailure(pasted, "VERITY_PRIVATE_KEY is not a private key.", {
        secrets: [mnemonic, "absurd abuse"],
        verbose: verbose.length > 0,
      });
    }
    const keystore = file("user.keystore.json");
    const created = await verity(["keystore", "create", "--out", keystore], {
      env: { VERITY_PRIVATE_KEY: local.actors.user.privateKey, VERITY_KEYSTORE_PASSWORD: "correct horse battery" },
    });
    expect(created.code, created.stderr).to.equal(0);
    expectNoStackNorSecret(created, [local.actors.user.privateKey, "correct horse battery"]);
    for (const verbose of [[], ["--verbose"]]) {
      const wrong = await verity(["withdraw", "--keystore", keystore, ...verbose, ...chain], {
        env: { VERITY_KEYSTORE_PASSWORD: "wrong horse battery" },
      });
      expectCleanFailure(wrong, `Cannot decrypt the keystore ${keystore}.`, {
        secrets: ["wrong horse battery", "correct horse battery", local.actors.user.privateKey],
        verbose: verbose.length > 0,
      });
    }
    const right = await verity(["balance", "--keystore", keystore, ...chain], {
      env: { VERITY_KEYSTORE_PASSWORD: "correct horse battery" },
    });
    expect(right.stdout).to.include(`account    ${local.actors.user.address}`);
  });

  it("a metrics port in use stops provider start with the port named", async () => {
    const busy: Server = createServer();
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    const port = (busy.address() as { port: number }).port;
    try {
      writeFileSync(
        file("metrics.json"),
        JSON.stringify(local.daemonConfig({ metrics: { port }, stateDir: file("metrics-state") } as never)),
      );
      const result = await verity(
        ["provider", "start", "--config", file("metrics.json")],
        as(local.actors.provider.privateKey),
      );
      expectCleanFailure(result, /^error: The metrics port \d+ on 127\.0\.0\.1 is already in use\.$/);
      expect(result.stderr).to.include(String(port));
    } finally {
      await new Promise((resolve) => busy.close(resolve));
    }
  });

  it("provider unbond, then withdraw once the unbonding delay has passed: the stake comes back", async () => {
    const provider = as(local.actors.provider.privateKey);
    const unbond = await verity(["provider", "unbond", "--amount", "0.5", ...chain], provider);
    expect(unbond.code, unbond.stderr).to.equal(0);
    expect(unbond.stdout).to.match(/^unbonding 0\.5 ETH \(tx 0x[0-9a-f]{64}\)$/m);
    expect(unbond.stdout).to.match(/^withdrawable from \S+ with `npx verity withdraw`$/m);
    const waiting = await verity(["balance", ...chain], provider);
    expect(waiting.stdout).to.match(/^unbonding {2}0\.5 ETH, withdrawable from /m);

    const delay = await local.suite.providerRegistry.unbondingDelay();
    await local.rpc.send("evm_increaseTime", [Number(delay) + 1]);
    await local.rpc.send("evm_mine", []);
    const ready = await verity(["balance", ...chain], provider);
    expect(ready.stdout).to.match(/^unbonding {2}0\.5 ETH, withdrawable now$/m);
    const paid = await verity(["withdraw", ...chain], provider);
    expect(paid.stdout).to.match(/^withdrew 0\.5 ETH of unbonded stake \(tx 0x[0-9a-f]{64}\)$/m);
    expect((await local.suite.providerRegistry.unbondingOf(local.actors.provider.address))[0]).to.equal(0n);

    const tooMuch = await verity(["provider", "unbond", "--amount", "100", ...chain], provider);
    expectCleanFailure(
      tooMuch,
      /^error: unbond 100 ETH reverted with ProviderInsufficientFreeStake\(0x[0-9a-fA-F]{40}, \d+, 100000000000000000000\)\.$/,
    );
  });
});
