/**
 * Decoders (text generation) served by the daemon as its own process: a random transformer with a
 * character tokenizer in a model folder, registered Attested with the int32 formats of a
 * generation, a request whose prompt is encoded from text served end to end and Finalized with
 * the reference executor's generated ids; a request for a decoder configured without its folder
 * is refused by the daemon, naming the fix, and left open (never claimed). Optimistic decoders:
 * dispute-decoder.test.ts.
 */
import path from "node:path";
import { expect } from "chai";
import { keccak256, hexlify, ZeroAddress } from "ethers";
import { connectSuite } from "../../oracle/chain/connect.ts";
import { registerModel, formatsOf } from "../../oracle/chain/register-model.ts";
import { startLocalSuite, type LocalSuite } from "../../oracle/devnet/local-suite.ts";
import { spawnDaemon, type SpawnedDaemon } from "../../oracle/devnet/spawn-daemon.ts";
import { encodeTensor } from "../../oracle/model/tensor-codec.ts";
import { generateVqm } from "../../oracle/model/vqm/sequence-executor.ts";
import { readVqm, writeVqm } from "../../oracle/model/vqm/vqm-files.ts";
import type { VqmModel } from "../../oracle/model/vqm/vqm-model.ts";
import { decodeTokens } from "../../oracle/sdk/decode-tokens.ts";
import { encodePrompt } from "../../oracle/sdk/encode-prompt.ts";
import { encodeRequestInput } from "../../oracle/sdk/encode-request-input.ts";
import { namesDecoder, namesTokenizer } from "../../oracle/devnet/names-decoder.ts";
import { tempDir, waitForStatus } from "./helpers.ts";

const names = namesTokenizer;

describe("decoders: the daemon generates text for an Attested request (real process)", function () {
  this.timeout(90_000);
  const temp = tempDir("verity-decoder-daemon-");
  let local: LocalSuite;
  let daemon: SpawnedDaemon | undefined;
  const price = 10n ** 15n;

  /** Writes a decoder folder, stores its ONNX and registers it; the provider opts in. */
  const register = async (folder: string, model: VqmModel) => {
    await writeVqm(path.join(folder, "vqm"), model, { tokenizer: names });
    const { onnx, manifest } = await readVqm(path.join(folder, "vqm"));
    const registry = connectSuite(local.deployment, local.actors.modelOwner).modelRegistry;
    const modelId = await registerModel(registry, {
      modelHash: keccak256(onnx),
      contentId: await local.content.add(onnx),
      price,
      royaltyBps: 500,
      ...formatsOf(manifest),
    });
    await (await connectSuite(local.deployment, local.actors.provider).providerRegistry.optIn(modelId)).wait();
    return modelId;
  };

  const ask = async (modelId: bigint, input: Uint8Array): Promise<bigint> => {
    const market = connectSuite(local.deployment, local.actors.user).inferenceMarket;
    const deadline = BigInt((await local.rpc.getBlock("latest"))!.timestamp) + 600n;
    const tx = await market.requestInference(modelId, input, price, deadline, ZeroAddress, 0, { value: price });
    for (const log of (await tx.wait())!.logs) {
      const parsed = market.interface.parseLog(log);
      if (parsed?.name === "InferenceRequested") return parsed.args.requestId as bigint;
    }
    throw new Error("no InferenceRequested event");
  };

  let attested: { modelId: bigint; model: VqmModel };
  let folderless: bigint;

  before(async () => {
    local = await startLocalSuite({ dir: temp.dir });
    attested = { model: namesDecoder(7), modelId: 0n };
    attested.modelId = await register(path.join(temp.dir, "decoder"), attested.model);
    folderless = await register(path.join(temp.dir, "decoder-folderless"), namesDecoder(9));
    daemon = spawnDaemon({
      config: local.daemonConfig({
        models: [{ id: attested.modelId.toString(), folder: path.join(temp.dir, "decoder") }, folderless.toString()],
        stateDir: path.join(temp.dir, "provider"),
      }),
      dir: temp.dir,
      name: "decoder",
      privateKey: local.actors.provider.privateKey,
    });
  });

  after(async () => {
    await daemon?.stop();
    await local?.close();
    temp.remove();
  });

  it("a text prompt is generated with onnxruntime and Finalized, equal to generateVqm's output", async () => {
    const { tensor } = encodePrompt({ tokenizer: names, text: "mar", promptLength: 8 });
    const id = await ask(attested.modelId, encodeRequestInput(tensor));
    const market = local.suite.inferenceMarket;
    expect(await waitForStatus(market, id, ["Finalized", "Failed", "Refunded"])).to.equal("Finalized");
    const expected = generateVqm(attested.model, tensor).output;
    expect(await market.outputOf(id)).to.equal(hexlify(encodeTensor(expected)));
    const generated = await daemon!.waitForLog((line) => line.msg === "generated" && line.requestId === id.toString());
    expect(generated).to.include({ promptTokens: 4, newTokens: 6 });
    expect(decodeTokens(names, expected).ids).to.have.length(6);
  });

  it("does not claim a request for a decoder configured without its folder, naming the fix", async () => {
    const { tensor } = encodePrompt({ tokenizer: names, text: "eve", promptLength: 8 });
    const id = await ask(folderless, encodeRequestInput(tensor));
    const line = await daemon!.waitForLog(
      (entry) => entry.msg.startsWith("set-up not ready") && entry.requestId === id.toString(),
    );
    const details = (line.error as { details: string[] }).details;
    expect(details[0]).to.equal(`Model ${folderless} is a decoder: it is served from its model folder.`);
    expect(details[1]).to.equal(
      `Add { "id": "${folderless}", "folder": "DIR" } to models (DIR/vqm holding its manifest.json).`,
    );
    expect(await waitForStatus(local.suite.inferenceMarket, id, ["Pending"])).to.equal("Pending");
  });
});
