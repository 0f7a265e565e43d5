/**
 * `verity model register DIR` and `verity request --text` for a decoder, as a user runs them: the
 * folder (a random transformer with a character tokenizer) registers Attested with int32 formats
 * and prints its folder entry; a text prompt is encoded with the folder's tokenizer, served by a
 * real daemon, and the generated ids are printed with their text. Prompts the model cannot take
 * and a Zk registration of a decoder are refused before anything is sent (its Optimistic
 * registration: test/node/dispute-decoder.test.ts).
 */
import path from "node:path";
import { expect } from "chai";
import { connectSuite } from "../../oracle/chain/connect.ts";
import { startLocalSuite, type LocalSuite } from "../../oracle/devnet/local-suite.ts";
import { spawnDaemon, type SpawnedDaemon } from "../../oracle/devnet/spawn-daemon.ts";
import { generateVqm } from "../../oracle/model/vqm/sequence-executor.ts";
import { writeVqm } from "../../oracle/model/vqm/vqm-files.ts";
import { decodeTokens } from "../../oracle/sdk/decode-tokens.ts";
import { encodePrompt } from "../../oracle/sdk/encode-prompt.ts";
import { tempDir } from "../node/helpers.ts";
import { namesDecoder, namesTokenizer } from "../../oracle/devnet/names-decoder.ts";
import { expectCleanFailure, verity } from "./run-verity.ts";

const names = namesTokenizer;

describe("verity request --text: a decoder's prompt from text, its generated text printed", function () {
  this.timeout(90_000);
  const temp = tempDir("verity-request-text-");
  const folder = path.join(temp.dir, "names-random");
  const model = namesDecoder(21);
  let local: LocalSuite;
  let daemon: SpawnedDaemon | undefined;
  let chain: string[];
  let modelId: string;

  before(async () => {
    local = await startLocalSuite({ dir: temp.dir });
    chain = ["--rpc", local.devnet.url, "--deployment", local.deploymentFile];
    await writeVqm(path.join(folder, "vqm"), model, { tokenizer: names });
  });

  after(async () => {
    await daemon?.stop();
    await local?.close();
    temp.remove();
  });

  it("model register DIR registers a decoder as Attested with int32 formats and prints its folder entry", async () => {
    const env = { VERITY_PRIVATE_KEY: local.actors.modelOwner.privateKey };
    const zk = await verity(["model", "register", folder, "--mode", "zk", "--price", "0.001", ...chain], { env });
    expectCleanFailure(zk, `${folder} holds a decoder, which cannot be registered as Zk yet.`);
    expect(zk.stderr).to.include("No circuit proves a generation yet");

    const registered = await verity(
      ["model", "register", folder, "--price", "0.001", ...chain, "--dir", local.contentDir],
      {
        env,
      },
    );
    expect(registered.code, registered.stderr).to.equal(0);
    modelId = /model (\d+) registered: /.exec(registered.stdout)![1]!;
    expect(registered.stdout).to.include("input int32 [1, 8], output int32 [1, 6]");
    expect(registered.stdout).to.include(
      'decoder: a prompt of up to 8 tokens, 6 generated; context 16, vocabulary 27 (tokenizer "chars", vqm/tokenizer.json)',
    );
    expect(registered.stdout).to.include(`"models": [{ "id": "${modelId}", "folder": ${JSON.stringify(folder)} }]`);
    expect(registered.stdout).to.include(`verity request --model ${modelId} --text "..." --model-dir`);
    const model = await local.suite.modelRegistry.getModel(BigInt(modelId));
    expect(model.inputDtype).to.equal(model.outputDtype);
  });

  it("prints the prompt's ids, the generated ids and their text, equal to generateVqm on the same prompt", async () => {
    await (await connectSuite(local.deployment, local.actors.provider).providerRegistry.optIn(BigInt(modelId))).wait();
    daemon = spawnDaemon({
      config: local.daemonConfig({ models: [{ id: modelId, folder }], stateDir: path.join(temp.dir, "provider") }),
      dir: temp.dir,
      name: "decoder",
      privateKey: local.actors.provider.privateKey,
    });
    const result = await verity(["request", "--model", modelId, "--text", "mar", "--model-dir", folder, ...chain], {
      env: { VERITY_PRIVATE_KEY: local.actors.user.privateKey },
    });
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.include('prompt "mar": ids 0, 13, 1, 18 (padded with -1 to 8)');
    const expected = decodeTokens(
      names,
      generateVqm(model, encodePrompt({ tokenizer: names, text: "mar", promptLength: 8 }).tensor).output,
    );
    expect(result.stdout).to.include(`Finalized: int32[1, 6] = [${expected.ids.join(", ")}]`);
    const how = expected.ended
      ? `it ends at the boundary "."; every token: ${JSON.stringify(expected.all)}`
      : "no boundary: every token";
    expect(result.stdout).to.include(`generated ${JSON.stringify(expected.text)} (${how})`);
  });

  it("refuses, before sending, a character outside the vocabulary and a prompt longer than promptLength", async () => {
    const env = { VERITY_PRIVATE_KEY: local.actors.user.privateKey };
    const upper = await verity(["request", "--model", modelId, "--text", "Mar", "--model-dir", folder, ...chain], {
      env,
    });
    expectCleanFailure(upper, 'Character "M" (character 1 of the text) is not in the model\'s vocabulary.');
    expect(upper.stderr).to.include("Known characters: abcdefghijklmnopqrstuvwxyz");
    const long = await verity(["request", "--model", modelId, "--text", "margaret", "--model-dir", folder, ...chain], {
      env,
    });
    expectCleanFailure(
      long,
      "The prompt is 9 tokens (with the opening boundary); the model takes at most 8 (its promptLength).",
    );
    const noDir = await verity(["request", "--model", modelId, "--text", "mar", ...chain], { env });
    expectCleanFailure(noDir, "--text needs the model's folder: --model-dir DIR.");
  });
});
