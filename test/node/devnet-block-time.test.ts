/**
 * `verity devnet --block-time N` mines a block every N seconds, as a public chain does, so time
 * moves on an idle devnet: an Optimistic result's challenge window ends and the provider daemon
 * finalizes it with nobody mining blocks by hand. SIGTERM then stops the devnet cleanly.
 */
import path from "node:path";
import { expect } from "chai";
import { parseEther, ZeroAddress } from "ethers";
import { connectSuite, createRpcProvider, createWallet } from "../../oracle/chain/connect.ts";
import { readDeployment } from "../../oracle/chain/deployment.ts";
import { registerOptimistic } from "../../oracle/devnet/register-optimistic.ts";
import { DEV_PRIVATE_KEYS } from "../../oracle/devnet/start-devnet.ts";
import { waitForStdout } from "../../oracle/devnet/devnet-process.ts";
import { spawnDaemon, type SpawnedDaemon } from "../../oracle/devnet/spawn-daemon.ts";
import { encodeInlineInput } from "../../oracle/model/input-envelope.ts";
import { emitOnnx } from "../../oracle/model/vqm/emit-onnx.ts";
import { syntheticInput, syntheticMlp } from "../../oracle/model/vqm/synthetic-vqm.ts";
import { vqmManifest } from "../../oracle/model/vqm/vqm-files.ts";
import { openEmbeddedStore } from "../../oracle/storage/embedded-store.ts";
import { tempDir, waitForStatus } from "./helpers.ts";

describe("verity devnet --block-time: an idle devnet still finalizes Optimistic results", function () {
  this.timeout(120_000);
  const temp = tempDir("verity-block-time-");
  const processes: SpawnedDaemon[] = [];

  after(async () => {
    for (const process of processes.reverse()) await process.stop();
    temp.remove();
  });

  it("a 2-second window passes on 1-second blocks and the daemon finalizes; SIGTERM stops the devnet", async () => {
    const out = path.join(temp.dir, "deployment.json");
    const devnet = spawnDaemon({
      command: ["devnet", "--port", "0", "--block-time", "1", "--out", out],
      dir: temp.dir,
      name: "devnet",
      privateKey: "",
    });
    processes.push(devnet);
    const [, url] = await waitForStdout(devnet, /^chain\s+(http:\/\/127\.0\.0\.1:\d+) .*a block every 1 s\)$/);
    await waitForStdout(devnet, /^development keys/);
    const deployment = readDeployment(out);
    const rpc = createRpcProvider(url!, 100);
    try {
      const [owner, provider, user] = [DEV_PRIVATE_KEYS[1], DEV_PRIVATE_KEYS[2], DEV_PRIVATE_KEYS[3]].map((key) =>
        createWallet(key, rpc),
      );
      // A small integer model, stored and registered as Optimistic with a 2-second window.
      const model = syntheticMlp({ seed: 11, sizes: [4, 6, 3], argmax: true });
      const onnx = emitOnnx(model);
      const manifest = vqmManifest(model, onnx);
      const content = await openEmbeddedStore({ dir: path.join(temp.dir, "content") });
      const contentId = await content.add(onnx);
      const manifestId = await content.add(new TextEncoder().encode(JSON.stringify(manifest)));
      await content.close();
      const price = parseEther("0.01");
      const { modelId } = await registerOptimistic(connectSuite(deployment, owner!).modelRegistry, {
        model,
        price,
        window: 2,
        modelHash: manifest.modelHash,
        contentId,
      });
      const registry = connectSuite(deployment, provider!).providerRegistry;
      await (await registry.stake({ value: parseEther("2") })).wait();
      await (await registry.optIn(modelId)).wait();

      const daemon = spawnDaemon({
        config: {
          rpcUrl: url,
          deployment: out,
          models: [modelId.toString()],
          storage: { kind: "embedded", dir: path.join(temp.dir, "content") },
          stateDir: path.join(temp.dir, "provider"),
          dispute: { manifests: { [modelId.toString()]: manifestId } },
          chain: { pollIntervalMs: 200 },
        },
        dir: temp.dir,
        privateKey: provider!.privateKey,
      });
      processes.push(daemon);
      await daemon.waitForLog((line) => line.msg === "provider daemon started");

      const market = connectSuite(deployment, user!).inferenceMarket;
      const deadline = BigInt((await rpc.getBlock("latest"))!.timestamp) + 600n;
      const tx = await market.requestInference(
        modelId,
        encodeInlineInput(syntheticInput(model, 1)),
        price,
        deadline,
        ZeroAddress,
        0,
        { value: price },
      );
      const id = market.interface.parseLog((await tx.wait())!.logs[0]!)!.args.requestId as bigint;
      // Nobody mines here: the devnet's own blocks move the clock past the window.
      expect(await waitForStatus(market, id, ["Finalized", "Refunded", "Failed"], 60_000)).to.equal("Finalized");
      await daemon.waitForLog((line) => line.msg === "finalized" && line.requestId === id.toString());
      expect(await daemon.stop()).to.equal(0);
    } finally {
      rpc.destroy();
    }
    expect(await devnet.stop()).to.equal(0);
    expect(devnet.stdout).to.include("devnet stopped");
  });
});
