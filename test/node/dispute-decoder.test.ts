/**
 * Optimistic decoders with real daemons (issue 11): a names decoder (a random transformer with the
 * character tokenizer) in a model folder, registered with `verity model register DIR --mode
 * optimistic` and served from that folder. An honest provider's generation (the prompt's passes
 * and N generated tokens, committed by T = P + N − 1 pass roots) is checked by a watchtower and
 * finalized after its window; a provider that changes one generated token, or one attention score
 * of the first block, is challenged by the watchtower at the first differing pass, the game is
 * played through RevealLayers to a one-step proof on-chain, the cheater is slashed and the
 * requester refunded. A result whose pass roots are honest but whose posted ids are not is
 * proven wrong by the watchtower's `challengeOutput`.
 */
import path from "node:path";
import { expect } from "chai";
import { hexlify, ZeroAddress } from "ethers";
import { connectSuite } from "../../oracle/chain/connect.ts";
import { startOptimisticSuite, type OptimisticSuite } from "../../oracle/devnet/optimistic-suite.ts";
import type { Cheat } from "../../oracle/dispute/cheat.ts";
import { generationTrees } from "../../oracle/dispute/generation-proofs.ts";
import { encodeTensor } from "../../oracle/model/tensor-codec.ts";
import type { Tensor } from "../../oracle/model/tensor.ts";
import { generateVqm } from "../../oracle/model/vqm/sequence-executor.ts";
import { writeVqm } from "../../oracle/model/vqm/vqm-files.ts";
import { encodePrompt } from "../../oracle/sdk/encode-prompt.ts";
import { verity } from "../cli/run-verity.ts";
import { namesDecoder, namesTokenizer } from "../../oracle/devnet/names-decoder.ts";
import { advance, expectWinner, moves, startParty, type Party } from "./dispute-helpers.ts";
import { tempDir, waitForStatus } from "./helpers.ts";

const model = namesDecoder(11);
/** "mar": the boundary and three letters, so P = 4 and T = 4 + 6 − 1 = 9 passes. */
const prompt = encodePrompt({ tokenizer: namesTokenizer, text: "mar", promptLength: 8 }).tensor;
const P = 4;
const LAYERS = model.layers.length;
const honest = generateVqm(model, prompt);

describe("Optimistic decoders: a generation finalized, a cheat in a token or an attention score slashed (real daemons)", function () {
  this.timeout(120_000);
  const temp = tempDir("verity-dispute-decoder-");
  const folder = path.join(temp.dir, "names-random");
  let opt: OptimisticSuite;
  let modelId: bigint;
  let watcher: Party;
  const parties: Party[] = [];
  const served = () => [{ id: modelId.toString(), folder }];

  before(async () => {
    opt = await startOptimisticSuite({ dir: temp.dir, models: [], challengeWindowSec: 600 });
    await writeVqm(path.join(folder, "vqm"), model, { tokenizer: namesTokenizer });
    const chain = ["--rpc", opt.local.devnet.url, "--deployment", opt.local.deploymentFile];
    const registered = await verity(
      ["model", "register", folder, "--mode", "optimistic", "--window", "600", "--price", "0.01", ...chain],
      { env: { VERITY_PRIVATE_KEY: opt.local.actors.modelOwner.privateKey } },
    );
    expect(registered.code, registered.stderr).to.equal(0);
    expect(registered.stdout).to.include(`(Optimistic, window 600 s, ${LAYERS} layers)`);
    modelId = BigInt(/model (\d+) registered/.exec(registered.stdout)![1]!);
    expect(registered.stdout).to.include("input int32 [1, 8], output int32 [1, 6]");
    expect(registered.stdout).to.include("decoder: a prompt of up to 8 tokens, 6 generated; context 16");
    expect(registered.stdout).to.include(`"models": [{ "id": "${modelId}", "folder": ${JSON.stringify(folder)} }]`);
    for (const wallet of [opt.actors.honest, opt.actors.cheater])
      await (await connectSuite(opt.local.deployment, wallet).providerRegistry.optIn(modelId)).wait();
    watcher = await startParty(opt, temp.dir, {
      name: "watcher",
      wallet: opt.actors.watcher,
      watch: true,
      models: served(),
    });
    parties.push(watcher);
  });

  after(async () => {
    for (const party of parties) await party.stop();
    await opt?.close();
    temp.remove();
  });

  it("an honest generation is checked by the watchtower and finalized after the window, equal to generateVqm's", async () => {
    const provider = await startParty(opt, temp.dir, { name: "honest", wallet: opt.actors.honest, models: served() });
    parties.push(provider);
    const market = opt.local.suite.inferenceMarket;
    const id = await opt.ask(modelId, prompt);
    expect(await waitForStatus(market, id, ["Submitted"])).to.equal("Submitted");
    const generated = await provider.waitForLog((line) => line.msg === "generated" && line.requestId === id.toString());
    expect(generated).to.include({ promptTokens: P, newTokens: 6, passes: P + 6 - 1 });
    await watcher.waitForLog((line) => line.msg === "result checked: trace agrees" && line.requestId === id.toString());
    // The watchtower's side of "generated": how long checking the result took (bench-transformer-dispute reads it).
    const rerun = await watcher.waitForLog(
      (line) => line.msg === "result re-executed" && line.requestId === id.toString(),
    );
    expect(rerun).to.include({ passes: P + 6 - 1 });
    expect(rerun.seconds).to.be.a("number");
    await advance(opt, 601);
    expect(await waitForStatus(market, id, ["Finalized"])).to.equal("Finalized");
    expect(await market.outputOf(id)).to.equal(hexlify(encodeTensor(honest.output)));
    await provider.waitForLog((line) => line.msg === "optimistic result finalized");
    expect(await market.balanceOf(opt.actors.honest.address, ZeroAddress)).to.be.greaterThan(0n);
    await provider.stop();
  });

  const qk = model.layers.findIndex((layer) => layer.kind === "qk");
  const cases: { what: string; cheat: Cheat; layer: number }[] = [
    // gen[2] is the argmax of pass P + 1.
    { what: "one generated token", cheat: { pass: P + 1, layer: LAYERS - 1, element: 0, delta: 1 }, layer: LAYERS - 1 },
    // Head 1, position 2 of the first block's scores: unmasked at pass P + 1.
    {
      what: "one attention score of the first block",
      cheat: { pass: P + 1, layer: qk, element: 16 + 2, delta: 3 },
      layer: qk,
    },
  ];
  for (const { what, cheat, layer } of cases)
    it(`a provider that changes ${what} is challenged at that pass, bisected, proven wrong on-chain and slashed`, async () => {
      const cheater = await startParty(opt, temp.dir, {
        name: `cheater-${layer}`,
        wallet: opt.actors.cheater,
        cheat,
        models: served(),
      });
      parties.push(cheater);
      const market = opt.local.suite.inferenceMarket;
      const stake = await opt.local.suite.providerRegistry.stakeOf(opt.actors.cheater.address);
      const refundBefore = await market.balanceOf(opt.local.actors.user.address, ZeroAddress);
      const id = await opt.ask(modelId, prompt);
      expect(await waitForStatus(market, id, ["Refunded", "Finalized"], 60_000)).to.equal("Refunded");
      const challenged = await watcher.waitForLog(
        (line) => line.msg === "result differs from our trace, challenging" && line.requestId === id.toString(),
      );
      expect(challenged).to.include({ pass: P + 1 });
      await watcher.waitForLog((line) => line.msg === "game credit withdrawn" && line.requestId === id.toString());
      expectWinner(watcher, "Challenger");
      const ours = moves(watcher).slice(-3);
      expect(ours.slice(0, 2)).to.deep.equal(["challenge", "revealChallengerLayers"]);
      expect(ours[2]).to.be.oneOf(["proveStep", "bisect"]);
      expect(moves(cheater)).to.include.members(["revealLayers", "revealChunk"]);
      const disputed = watcher.logs.find(
        (line) => line.msg === "game move" && line.move === "proveStep" && line.requestId === id.toString(),
      );
      expect(disputed).to.include({ pass: P + 1, layer });
      expect(await opt.local.suite.providerRegistry.stakeOf(opt.actors.cheater.address)).to.be.lessThan(stake);
      expect(await market.balanceOf(opt.local.actors.user.address, ZeroAddress)).to.equal(refundBefore + opt.price);
      await cheater.stop();
    });

  it("a result with honest pass roots but a changed posted id: the watchtower proves it with challengeOutput, the provider is slashed", async () => {
    const market = opt.local.suite.inferenceMarket;
    const stake = await opt.local.suite.providerRegistry.stakeOf(opt.actors.cheater.address);
    const id = await opt.ask(modelId, prompt);
    // No daemon serves it: the provider's account claims and posts gen[3] as another id itself.
    const provider = connectSuite(opt.local.deployment, opt.actors.cheater).inferenceMarket;
    await (await provider.claim(id)).wait();
    const ids = Int32Array.from(honest.output.data as Int32Array);
    ids[3] = (ids[3]! + 1) % 27;
    const posted: Tensor = { ...honest.output, data: ids };
    const roots = generationTrees(honest.passes).passRoots;
    await (await provider.submitOptimistic(id, encodeTensor(posted), roots)).wait();
    expect(await waitForStatus(market, id, ["Refunded", "Finalized"], 60_000)).to.equal("Refunded");
    const line = await watcher.waitForLog(
      (entry) => entry.msg === "game move" && entry.move === "challengeOutput" && entry.requestId === id.toString(),
    );
    expect(line).to.include({ index: 3, pass: P - 1 + 3 });
    await watcher.waitForLog((entry) => entry.msg === "game resolved" && entry.requestId === id.toString());
    expect(await opt.local.suite.providerRegistry.stakeOf(opt.actors.cheater.address)).to.be.lessThan(stake);
  });
});
