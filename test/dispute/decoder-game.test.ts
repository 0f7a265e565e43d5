/**
 * The dispute game over a decoder's generation (issue 11), on an in-process chain with the real
 * contracts (deployed by `deployGameSuite`, as `verity deploy` does) and seeded random
 * transformers run by the reference executor: a result commits `T = P + N − 1` pass roots; a
 * challenge finds the first differing pass, both sides reveal that pass's layer roots
 * (RevealLayers), and the game goes on over the first differing layer, its steps reading other
 * passes and tok(k) through GenerationProver's openings. Both sides' moves are
 * oracle/devnet/play-game.ts's. A seeded random transformer of two blocks is disputed at every
 * layer; the names GPT of models/names (compiled by the decoder compiler) at a generated letter
 * and an attention score. The attacks are named after what they try.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { getBytes, hexlify } from "ethers";
import { findRequestParams } from "../../oracle/chain/request-params.ts";
import { deployGameSuite } from "../../oracle/devnet/deploy-game-suite.ts";
import { GasLog } from "../../oracle/devnet/gas-log.ts";
import { generationKit } from "../../oracle/dispute/generation-kit.ts";
import { startedGame } from "../../oracle/devnet/open-game.ts";
import { playGame, type GenerationPlayer } from "../../oracle/devnet/play-game.ts";
import { registerOptimistic } from "../../oracle/devnet/register-optimistic.ts";
import { encodeTensor } from "../../oracle/model/tensor-codec.ts";
import type { Tensor } from "../../oracle/model/tensor.ts";
import { randomTransformer } from "../../oracle/model/vqm/random-transformer.ts";
import { readFileSync } from "node:fs";
import { loadNamesCorpus } from "../../models/names/names-data.ts";
import { readOnnx } from "../../oracle/model/onnx/read-onnx.ts";
import { quantiseDecoder } from "../../oracle/model/quantise/quantise-decoder.ts";
import { charVocabulary, encodeSequence } from "../../oracle/model/text/char-vocabulary.ts";
import type { RandomTransformerParameters } from "../../oracle/model/vqm/random-transformer.ts";
import { generateVqm, readPrompt } from "../../oracle/model/vqm/sequence-executor.ts";
import type { VqmModel } from "../../oracle/model/vqm/vqm-model.ts";
import {
  encodeGenerationStep,
  generationTrees,
  layerOpening,
  type GenerationTrees,
} from "../../oracle/dispute/generation-proofs.ts";
import { encodeLayerSpec, layoutProof } from "../../oracle/dispute/layout.ts";
import { chunkBytes, differingElement, elementBytes, nodeChildren } from "../../oracle/dispute/moves.ts";
import { inlineInput, Phase, Side, Status } from "./attack-helpers.ts";

const { ethers, networkHelpers } = await network.create();
const { time } = networkHelpers;
/** GenerationProver's errors, which bubble up through the game's steps. */
const generationErrors = await ethers.getContractAt("GenerationProver", ethers.ZeroAddress);

const MIN_STAKE = ethers.parseEther("1");
const SLASH = ethers.parseEther("0.5");
const BOND = ethers.parseEther("0.1");
const PRICE = ethers.parseEther("0.01");
const WINDOW = 3600;
const CLOCK = 1800;
const ZERO = ethers.ZeroAddress;

/** Two blocks, so that a "middle layer" exists; a prompt of up to 5 ids, 6 generated. */
const PARAMETERS: RandomTransformerParameters = {
  seed: 7,
  layers: 2,
  width: 16,
  heads: 2,
  headDim: 8,
  context: 12,
  vocab: 20,
  mlpWidth: 32,
  promptLength: 5,
  newTokens: 6,
};
const MODEL: VqmModel = randomTransformer(PARAMETERS);
const PROMPT: Tensor = { dtype: "int32", shape: [1, 5], data: Int32Array.from([3, 19, 0, 7, -1]) };
const P = readPrompt(MODEL.sequence!, PROMPT.data as Int32Array).length;
const LAYERS = MODEL.layers.length;
const kindOf = (layer: number) => MODEL.layers[layer]!.kind;
const layersOf = (kind: string) => MODEL.layers.flatMap((l, i) => (l.kind === kind ? [i] : []));

type Run = ReturnType<typeof generateVqm>;

/** A decoder, a request's prompt and the honest generation both sides start from. */
type Subject = {
  model: VqmModel;
  prompt: Tensor;
  honest: Run;
  trees: GenerationTrees;
  promptLength: number;
  /** The request's input envelope, and the prompt's element bytes. */
  input: string;
  promptBytes: Uint8Array;
};

function subject(model: VqmModel, prompt: Tensor): Subject {
  const honest = generateVqm(model, prompt);
  return {
    model,
    prompt,
    honest,
    trees: generationTrees(honest.passes),
    promptLength: readPrompt(model.sequence!, prompt.data as Int32Array).length,
    input: inlineInput(prompt),
    promptBytes: elementBytes(prompt),
  };
}

/** The generation with element `element` of layer `layer` at pass `pass` changed (and everything after it recomputed). */
function faulty(pass: number, layer: number, element = 0, s: Subject = RANDOM): Run {
  return generateVqm(s.model, s.prompt, {
    onLayer: (t, index, output) => {
      if (t !== pass || index !== layer) return output;
      const data = output.data.slice();
      const e = element % data.length;
      if (output.dtype === "int32") data[e] = (Number(data[e]) + 1) % s.model.sequence!.vocabSize;
      else data[e] = data[e] === 127 ? 126 : Number(data[e]) + 1;
      return { ...output, data } as Tensor;
    },
  });
}

const RANDOM = subject(MODEL, PROMPT);
const HONEST = RANDOM.honest;
const HONEST_TREES = RANDOM.trees;
const PROMPT_BYTES = RANDOM.promptBytes;
const INPUT = RANDOM.input;

/** The names GPT of models/names (trained by repo code), compiled by the decoder compiler on 13 training names. */
const NAMES = (() => {
  const onnx = readOnnx(new Uint8Array(readFileSync(new URL("../../models/names/names.onnx", import.meta.url))));
  const vocabulary = charVocabulary("abcdefghijklmnopqrstuvwxyz");
  const prompts = loadNamesCorpus()
    .train.filter((_, i) => i % 600 === 0)
    .map((name) => encodeSequence(vocabulary, name));
  const { model } = quantiseDecoder({ onnx, prompts });
  const ids = Int32Array.from({ length: model.sequence!.promptLength }, (_, k) => [0, 1, 12][k] ?? -1);
  return subject(model, { dtype: "int32", shape: [1, ids.length], data: ids });
})();

const fixture = () => setup(RANDOM);
const namesFixture = () => setup(NAMES);

async function setup(s: Subject) {
  const [admin, treasury, owner, provider, requester, watcher, keeper] = await ethers.getSigners();
  const suite = await deployGameSuite(ethers, admin!, treasury!, {
    minStake: MIN_STAKE,
    bond: BOND,
    slash: SLASH,
    clockSec: CLOCK,
  });
  const reg = await registerOptimistic(suite.models.connect(owner!), { model: s.model, price: PRICE, window: WINDOW });
  await suite.providers.connect(provider!).stake({ value: 3n * MIN_STAKE });
  await suite.providers.connect(provider!).optIn(reg.modelId);
  return {
    ...suite,
    s,
    reg,
    provider: provider!,
    requester: requester!,
    watcher: watcher!,
    keeper: keeper!,
  };
}
type Fx = Awaited<ReturnType<typeof setup>>;

const gas = new GasLog();

/** Requests a generation of the prompt and claims it; returns the request id. */
async function claimed(fx: Fx): Promise<bigint> {
  const deadline = (await time.latest()) + 86400;
  await fx.market.connect(fx.requester).requestInference(fx.reg.modelId, fx.s.input, PRICE, deadline, ZERO, 0, {
    value: PRICE,
  });
  const id = await fx.market.requestCount();
  await fx.market.connect(fx.provider).claim(id);
  return id;
}

/** A claimed request with `output` and `passRoots` submitted; returns the request id. */
async function submitted(fx: Fx, output: Tensor, passRoots: readonly string[]): Promise<bigint> {
  const id = await claimed(fx);
  await fx.market.connect(fx.provider).submitOptimistic(id, encodeTensor(output), [...passRoots]);
  return id;
}

/** Challenges request `id` with the challenger's pass roots; returns the game id. */
async function challenge(fx: Fx, id: bigint, defender: GenerationTrees, challenger: GenerationTrees) {
  const params = {
    request: await findRequestParams(fx.market, id),
    input: fx.s.input,
    defenderRoots: defender.passRoots,
    challengerRoots: challenger.passRoots,
    layerSpec: "0x",
    layoutProof: [],
  };
  const tx = fx.game.connect(fx.watcher).challenge(id, params, { value: BOND });
  return startedGame(fx.game, await gas.record("challenge", tx, "challenger"));
}

/** Plays game `gameId` to the end: `defender` and `challenger` are the generations each side holds. */
function play(fx: Fx, gameId: bigint, defender: GenerationTrees, challenger: GenerationTrees, step?: "whole" | "sum") {
  const side = (signer: GenerationPlayer["signer"], trees: GenerationTrees): GenerationPlayer => ({ signer, trees });
  return playGame(fx.game, {
    gameId,
    model: fx.reg,
    input: fx.s.promptBytes,
    trace: [],
    generation: { passes: fx.s.honest.passes, promptLength: fx.s.promptLength },
    defender: side(fx.provider, defender),
    challenger: side(fx.watcher, challenger),
    step,
    keeper: fx.keeper,
    increaseTime: (s) => time.increase(s),
    gas,
  });
}

/** A submitted result of the defender's generation, challenged with the challenger's; returns both ids. */
async function disputed(fx: Fx, defender: GenerationTrees, challenger: GenerationTrees, output: Tensor) {
  const id = await submitted(fx, output, defender.passRoots);
  const gameId = await challenge(fx, id, defender, challenger);
  return { id, gameId };
}

describe("the dispute game over a decoder's generation (issue 11)", () => {
  after(() => {
    const rows = [...gas.max.entries()].map(([name, used]) => ({ move: name, "largest gas": Number(used) }));
    console.log("      gas of the decoder games (largest per move):");
    console.table(rows);
  });

  it("the market takes T = P + N − 1 pass roots within [N, P_max + N − 1] and refuses other counts", async () => {
    const fx = await networkHelpers.loadFixture(fixture);
    expect(HONEST.passes.length).to.equal(P + PARAMETERS.newTokens - 1);
    const id = await claimed(fx);
    const most = PARAMETERS.promptLength + PARAMETERS.newTokens - 1;
    const output = encodeTensor(HONEST.output);
    const roots = (n: number) => Array.from({ length: n }, (_, i) => HONEST_TREES.passRoots[i % P] ?? ethers.ZeroHash);
    for (const n of [PARAMETERS.newTokens - 1, most + 1])
      await expect(fx.market.connect(fx.provider).submitOptimistic(id, output, roots(n)))
        .to.be.revertedWithCustomError(fx.market, "MarketLayerCountMismatch")
        .withArgs(id, n, most);
    await fx.market.connect(fx.provider).submitOptimistic(id, output, HONEST_TREES.passRoots);
    expect(await fx.market.statusOf(id)).to.equal(Status.Submitted);
  });

  describe("an honest defender wins against a challenger lying at any pass and layer", () => {
    // Every layer kind, at a pass after the prompt (tok(k) from the argmax of pass k − 1) and, for
    // the embeddings, within it (tok(k) from the prompt).
    const cases = MODEL.layers.map((_, layer) => ({ pass: P + 1, layer }));
    for (const layer of layersOf("embed")) cases.push({ pass: 1, layer });
    for (const { pass, layer } of cases) {
      const reduces = !["embed", "lut", "relu", "reshape", "add"].includes(kindOf(layer));
      for (const step of reduces ? (["whole", "sum"] as const) : (["whole"] as const))
        it(`pass ${pass}, layer ${layer} (${kindOf(layer)}), ${step === "sum" ? "by the reduction phase" : "whole step"}`, async () => {
          const fx = await networkHelpers.loadFixture(fixture);
          const lie = generationTrees(faulty(pass, layer, 1).passes);
          const id = await submitted(fx, HONEST.output, HONEST_TREES.passRoots);
          const gameId = await challenge(fx, id, HONEST_TREES, lie);
          const started = await fx.game.getGame(gameId);
          expect([started.phase, started.pass, started.passCount]).to.deep.equal([
            Phase.RevealLayers,
            BigInt(pass),
            BigInt(HONEST.passes.length),
          ]);
          const { view } = await play(fx, gameId, HONEST_TREES, lie, step);
          expect([view.winner, view.pass, view.layer]).to.deep.equal([Side.Defender, BigInt(pass), BigInt(layer)]);
          expect(await fx.market.statusOf(id)).to.equal(Status.Submitted);
        });
    }
  });

  it("a provider that changes one generated token is bisected to that pass's argmax, proven wrong and slashed", async () => {
    const fx = await networkHelpers.loadFixture(fixture);
    const pass = P + 2; // the token gen[3]
    const cheat = faulty(pass, LAYERS - 1);
    expect(cheat.output.data[3]).to.not.equal(HONEST.output.data[3]);
    const cheatTrees = generationTrees(cheat.passes);
    const stake = await fx.providers.stakeOf(fx.provider.address);
    const { id, gameId } = await disputed(fx, cheatTrees, HONEST_TREES, cheat.output);
    const { view } = await play(fx, gameId, cheatTrees, HONEST_TREES);
    expect([view.winner, view.pass, view.layer]).to.deep.equal([Side.Challenger, BigInt(pass), BigInt(LAYERS - 1)]);
    expect(await fx.market.statusOf(id)).to.equal(Status.Refunded);
    expect(stake - (await fx.providers.stakeOf(fx.provider.address))).to.equal(SLASH);
  });

  it("a provider that changes one attention score in a middle layer (qk, softmax) loses and is slashed", async () => {
    const [firstQk, secondQk] = layersOf("qk");
    const softmax = layersOf("softmax")[1]!;
    const pass = P + 1;
    // Head 1, position u = 2 ≤ pass: an unmasked score of the second block.
    const element = PARAMETERS.context + 2;
    for (const layer of [secondQk!, softmax, firstQk!]) {
      const fx = await networkHelpers.loadFixture(fixture);
      const cheat = faulty(pass, layer, element);
      const cheatTrees = generationTrees(cheat.passes);
      const { id, gameId } = await disputed(fx, cheatTrees, HONEST_TREES, cheat.output);
      const { view } = await play(fx, gameId, cheatTrees, HONEST_TREES);
      expect([view.winner, view.pass, view.layer], `layer ${layer}`).to.deep.equal([
        Side.Challenger,
        BigInt(pass),
        BigInt(layer),
      ]);
      expect(await fx.market.statusOf(id)).to.equal(Status.Refunded);
    }
  });

  it("on the names GPT: a provider that changes one generated letter, or one attention score of its last block, is slashed; a lying challenger loses", async () => {
    const { model, honest, trees, promptLength } = NAMES;
    const layers = model.layers.length;
    const qk = model.layers.flatMap((l, i) => (l.kind === "qk" ? [i] : [])).at(-1)!;
    const pass = promptLength + 1;
    const cases = [
      { what: "a generated letter", layer: layers - 1, element: 0 },
      { what: "an attention score", layer: qk, element: 1 },
    ];
    for (const { what, layer, element } of cases) {
      const fx = await networkHelpers.loadFixture(namesFixture);
      const cheat = faulty(pass, layer, element, NAMES);
      const cheatTrees = generationTrees(cheat.passes);
      const stake = await fx.providers.stakeOf(fx.provider.address);
      const { id, gameId } = await disputed(fx, cheatTrees, trees, cheat.output);
      const { view } = await play(fx, gameId, cheatTrees, trees);
      expect([view.winner, view.pass, view.layer], what).to.deep.equal([Side.Challenger, BigInt(pass), BigInt(layer)]);
      expect(await fx.market.statusOf(id), what).to.equal(Status.Refunded);
      expect(stake - (await fx.providers.stakeOf(fx.provider.address)), what).to.equal(SLASH);
    }
    const fx = await networkHelpers.loadFixture(namesFixture);
    const lie = generationTrees(faulty(pass, qk + 2, 3, NAMES).passes);
    const id = await submitted(fx, honest.output, trees.passRoots);
    const { view } = await play(fx, await challenge(fx, id, trees, lie), trees, lie, "sum");
    expect([view.winner, view.layer]).to.deep.equal([Side.Defender, BigInt(qk + 2)]);
  });

  describe("attacks", () => {
    it("defender reveals layer roots that do not hash to its pass root: refused", async () => {
      const fx = await networkHelpers.loadFixture(fixture);
      const lie = generationTrees(faulty(P, 3).passes);
      const id = await submitted(fx, HONEST.output, HONEST_TREES.passRoots);
      const gameId = await challenge(fx, id, HONEST_TREES, lie);
      const roots = HONEST_TREES.passes[P]!.roots;
      const forged = roots.map((r, i) => (i === 3 ? lie.passes[P]!.roots[3]! : r));
      await expect(fx.game.connect(fx.provider).revealLayers(gameId, forged)).to.be.revertedWithCustomError(
        fx.game,
        "GameNodeMismatch",
      );
      // Another pass's roots, and one root too many (padding that hashes alike is refused by count).
      await expect(
        fx.game.connect(fx.provider).revealLayers(gameId, HONEST_TREES.passes[P - 1]!.roots),
      ).to.be.revertedWithCustomError(fx.game, "GameNodeMismatch");
      await expect(fx.game.connect(fx.provider).revealLayers(gameId, [...roots, ethers.ZeroHash]))
        .to.be.revertedWithCustomError(fx.game, "GameLayerCountMismatch")
        .withArgs(LAYERS + 1, LAYERS);
      // The challenger's own roots are checked likewise, and it cannot move first.
      await expect(
        fx.game.connect(fx.watcher).revealChallengerLayers(gameId, {
          defenderRoots: roots,
          roots: lie.passes[P]!.roots,
          layerSpec: "0x",
          layoutProof: [],
        }),
      ).to.be.revertedWithCustomError(fx.game, "GameNotYourTurn");
      await fx.game.connect(fx.provider).revealLayers(gameId, roots);
      await expect(
        fx.game.connect(fx.watcher).revealChallengerLayers(gameId, {
          defenderRoots: roots,
          roots: HONEST_TREES.passes[P]!.roots,
          layerSpec: "0x",
          layoutProof: [],
        }),
      ).to.be.revertedWithCustomError(fx.game, "GameNodeMismatch");
    });

    it("output ids that differ from the committed argmax layers: caught by challengeOutput, and an honest output cannot be so challenged", async () => {
      const fx = await networkHelpers.loadFixture(fixture);
      // The honest trace with gen[2] posted as another id.
      const posted = { ...HONEST.output, data: Int32Array.from(HONEST.output.data as Int32Array) } as Tensor;
      (posted.data as Int32Array)[2] = ((HONEST.output.data as Int32Array)[2]! + 1) % PARAMETERS.vocab;
      const id = await submitted(fx, posted, HONEST_TREES.passRoots);
      const request = await findRequestParams(fx.market, id);
      const params = (index: number) => ({
        request,
        input: INPUT,
        defenderRoots: HONEST_TREES.passRoots,
        index,
        argmax: layerOpening(HONEST_TREES, P - 1 + index, LAYERS - 1),
        token: hexlify(HONEST_TREES.passes[P - 1 + index]!.bytes[LAYERS - 1]!),
      });
      await expect(
        fx.game.connect(fx.watcher).challengeOutput(id, params(1), { value: BOND }),
      ).to.be.revertedWithCustomError(fx.game, "GameNoDisagreement");
      // The posted id claimed as the committed argmax: it does not open the committed root.
      const forged = { ...params(2), token: hexlify(encodeTensor(posted).slice(11 + 8, 11 + 12)) };
      await expect(
        fx.game.connect(fx.watcher).challengeOutput(id, { ...params(2), index: PARAMETERS.newTokens }, { value: BOND }),
      )
        .to.be.revertedWithCustomError(fx.game, "GameOutputNotDisputable")
        .withArgs(id, PARAMETERS.newTokens);
      await expect(fx.game.connect(fx.watcher).challengeOutput(id, forged, { value: BOND }))
        .to.be.revertedWithCustomError(fx.game, "GameOutputTokenInvalid")
        .withArgs(id, 2);
      const stake = await fx.providers.stakeOf(fx.provider.address);
      const tx = fx.game.connect(fx.watcher).challengeOutput(id, params(2), { value: BOND });
      const gameId = startedGame(fx.game, await gas.record("challengeOutput", tx, "challenger"));
      const view = await fx.game.getGame(gameId);
      expect([view.phase, view.winner]).to.deep.equal([Phase.Resolved, Side.Challenger]);
      expect(await fx.market.statusOf(id)).to.equal(Status.Refunded);
      expect(stake - (await fx.providers.stakeOf(fx.provider.address))).to.equal(SLASH);
    });

    it("a pass count other than P + N − 1 (within the market's bound): the challenger wins at once", async () => {
      const fx = await networkHelpers.loadFixture(fixture);
      expect(P).to.be.lessThan(PARAMETERS.promptLength);
      const roots = [...HONEST_TREES.passRoots, HONEST_TREES.passRoots[0]!];
      const id = await submitted(fx, HONEST.output, roots);
      const params = {
        request: await findRequestParams(fx.market, id),
        input: INPUT,
        defenderRoots: roots,
        challengerRoots: HONEST_TREES.passRoots,
        layerSpec: "0x",
        layoutProof: [],
      };
      await expect(fx.game.connect(fx.watcher).challenge(id, params, { value: BOND }))
        .to.emit(fx.game, "PassCountMismatch")
        .withArgs(1n, roots.length, HONEST.passes.length);
      expect((await fx.game.getGame(1n)).winner).to.equal(Side.Challenger);
      expect(await fx.market.statusOf(id)).to.equal(Status.Refunded);
    });

    it("challenger claims a wrong token for embed, or opens another leaf than the agreed argmax: refused", async () => {
      const fx = await networkHelpers.loadFixture(fixture);
      const embed = layersOf("embed").find((l) => fx.reg.specs[l]!.params[2] === 0)!;
      const pass = P + 1;
      // The defender's embedding at pass k is wrong, so the challenger is to prove it.
      const cheat = faulty(pass, embed);
      const cheatTrees = generationTrees(cheat.passes);
      const { gameId } = await disputed(fx, cheatTrees, HONEST_TREES, cheat.output);
      // Play the tree down to the step, then try forged steps before the honest one.
      const kit = generationKit({
        model: fx.reg,
        pass,
        layer: embed,
        passes: HONEST.passes,
        committed: cheatTrees,
        prompt: PROMPT_BYTES,
        promptLength: P,
      });
      await playUntilStep(fx, gameId, cheatTrees);
      const view = await fx.game.getGame(gameId);
      expect([view.phase, view.pass, view.layer]).to.deep.equal([Phase.AwaitStep, BigInt(pass), BigInt(embed)]);
      const position = Number(view.position);
      const chunk = chunkBytes(cheatTrees.passes[pass]!, embed, position);
      const offset = differingElement(HONEST_TREES.passes[pass]!, embed, position, chunk, 1)!;
      const honestStep = kit.whole(position * 1024 + offset);
      const decoded = ethers.AbiCoder.defaultAbiCoder().decode(
        ["tuple(tuple(bytes32 root, bytes32[] siblings)[] reads, bytes token, bytes32[] tokenSiblings, bytes proof)"],
        honestStep,
      )[0];
      const step = {
        reads: decoded.reads.map((r: { root: string; siblings: string[] }) => ({
          root: r.root,
          siblings: [...r.siblings],
        })),
        token: decoded.token as string,
        tokenSiblings: [...decoded.tokenSiblings] as string[],
        proof: decoded.proof as string,
      };
      const wrongToken = hexlify(getBytes(step.token).map((b, i) => (i === 0 ? (b + 1) % PARAMETERS.vocab : b)));
      await expect(
        fx.game
          .connect(fx.watcher)
          .proveStep(gameId, chunk, offset, kit.encoded, encodeGenerationStep({ ...step, token: wrongToken })),
      )
        .to.be.revertedWithCustomError(generationErrors, "GenerationTokenInvalid")
        .withArgs(pass);
      // The disputed pass's own argmax instead of pass k − 1's: the game reads the leaf of pass
      // k − 1, which that opening does not open.
      const notAgreed = layerOpening(cheatTrees, pass, LAYERS - 1);
      await expect(
        fx.game
          .connect(fx.watcher)
          .proveStep(gameId, chunk, offset, kit.encoded, encodeGenerationStep({ ...step, reads: [notAgreed] })),
      )
        .to.be.revertedWithCustomError(generationErrors, "GenerationReadInvalid")
        .withArgs(pass - 1, LAYERS - 1);
      await fx.game.connect(fx.watcher).proveStep(gameId, chunk, offset, kit.encoded, honestStep);
      expect((await fx.game.getGame(gameId)).winner).to.equal(Side.Challenger);
    });
  });
});

/** Plays the game's tree moves (both sides honest to their own trees) until the challenger's step. */
async function playUntilStep(fx: Fx, gameId: bigint, defender: GenerationTrees): Promise<void> {
  for (;;) {
    const view = await fx.game.getGame(gameId);
    const phase = view.phase;
    if (phase === Phase.AwaitStep) return;
    const pass = Number(view.pass);
    const [dTrees, cTrees] = [defender.passes[pass]!, HONEST_TREES.passes[pass]!];
    const layer = Number(view.layer);
    const [height, position] = [Number(view.height), Number(view.position)];
    if (phase === Phase.RevealLayers && view.turn === Side.Defender) {
      await fx.game.connect(fx.provider).revealLayers(gameId, dTrees.roots);
    } else if (phase === Phase.RevealLayers) {
      const l = dTrees.roots.findIndex((r, i) => r !== cTrees.roots[i]);
      await fx.game.connect(fx.watcher).revealChallengerLayers(gameId, {
        defenderRoots: dTrees.roots,
        roots: cTrees.roots,
        layerSpec: encodeLayerSpec(fx.reg.specs[l]!),
        layoutProof: layoutProof(fx.reg.specs, l),
      });
    } else if (phase === Phase.Bisecting) {
      const [trees, who] = view.turn === Side.Defender ? [dTrees, fx.provider] : [cTrees, fx.watcher];
      const [left, right] = nodeChildren(trees, layer, height, position);
      if (view.turn === Side.Defender) await fx.game.connect(who).reveal(gameId, left, right);
      else await fx.game.connect(who).bisect(gameId, left, right);
    } else if (phase === Phase.AwaitChunk) {
      await fx.game.connect(fx.provider).revealChunk(gameId, chunkBytes(dTrees, layer, position));
    } else throw new Error(`Unexpected phase ${phase}.`);
  }
}
