/**
 * The move gas ceiling of the dispute game (DisputeGame.MOVE_GAS_CEILING): the largest case of
 * every layer kind, played as a real game on an in-process chain, each transaction measured.
 * Each case is a small model built by hand whose disputed element is the worst one for its
 * kind (longest range, most chunks, most row pieces, misaligned where alignment would help);
 * a lying challenger plays against an honest provider, so every step is computed in full. Also
 * checks DisputeGame.DEFENDER_GAS_BOUND against the measured worst defender moves. Decoders: the
 * longest generation's challenge and layer reveal are played, and the largest step of each
 * decoder kind is measured in the generation prover with the deepest openings (1,024 layers ×
 * 1,024 passes). The figures are printed for docs/BENCHMARKS.md.
 */
import { expect } from "chai";
import { network } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { findRequestParams } from "../../oracle/chain/request-params.ts";
import { withElementMoved } from "../../oracle/devnet/cheat-trace.ts";
import { deployGameSuite } from "../../oracle/devnet/deploy-game-suite.ts";
import { GasLog } from "../../oracle/devnet/gas-log.ts";
import { challengeParams, openGame, startedGame } from "../../oracle/devnet/open-game.ts";
import { playGame } from "../../oracle/devnet/play-game.ts";
import { registerOptimistic, type RegisteredModel } from "../../oracle/devnet/register-optimistic.ts";
import { encodeTensor } from "../../oracle/model/tensor-codec.ts";
import type { Tensor } from "../../oracle/model/tensor.ts";
import { executeVqm } from "../../oracle/model/vqm/reference-executor.ts";
import type { VqmLayer, VqmModel } from "../../oracle/model/vqm/vqm-model.ts";
import { encodeLayerSpec, layerSpecs } from "../../oracle/dispute/layout.ts";
import { EMPTY_PROOF, needsReduction, sumLayout, traceTrees } from "../../oracle/dispute/moves.ts";
import { Dtype, inlineInput, int8Tensor, noise, Side, traceBytes } from "./attack-helpers.ts";
import type { GenerationProver } from "../../types/ethers-contracts/index.ts";
import { keccak256, toUtf8Bytes } from "ethers";
import { encodeProofs, stepSource } from "../../oracle/dispute/chunk-proofs.ts";
import {
  encodeGenerationStep,
  stepReads,
  tokenChunk,
  type GenerationTrees,
} from "../../oracle/dispute/generation-proofs.ts";
import { LayerKind, type LayerSpec } from "../../oracle/dispute/layout.ts";
import { elementBytes, type TraceTrees } from "../../oracle/dispute/moves.ts";
import {
  attentionRangeProof,
  attentionSources,
  embedElementProof,
  passElementProof,
  passRangeProof,
  passSources,
} from "../../oracle/dispute/sequence-proofs.ts";
import { rootOfRoots, traceRoot, treeRoot } from "../../oracle/model/vqm/commitments.ts";
import { expTable } from "../../oracle/model/vqm/random-transformer.ts";

const { ethers, networkHelpers } = await network.create();
const { time } = networkHelpers;

const PRICE = ethers.parseEther("0.01");
const BOND = ethers.parseEther("0.1");
const SLASH = ethers.parseEther("0.5");
const CLOCK = 1800;
const WINDOW = 3600;
const ZERO = ethers.ZeroAddress;
const ZERO_HASH = ethers.ZeroHash;

// ------------------------------------------------------------------------------------------------
// The models (int8 everywhere but argmax outputs)

function dense(input: number, inFeatures: number, outFeatures: number, seed: number): VqmLayer {
  return {
    kind: "dense",
    input,
    inFeatures,
    outFeatures,
    weights: Int8Array.from({ length: inFeatures * outFeatures }, (_, i) => (noise(i, seed) >> 4) | 1),
    bias: new Int32Array(outFeatures).fill(1000),
    requant: {
      multiplier: new Int32Array(outFeatures).fill(1 << 12),
      shift: new Uint8Array(outFeatures).fill(20),
      activation: "none",
    },
  };
}

function conv(input: number, inChannels: number, kernel: [number, number], seed: number): VqmLayer {
  const fanIn = inChannels * kernel[0] * kernel[1];
  return {
    kind: "conv2d",
    input,
    inChannels,
    outChannels: 1,
    kernel,
    stride: [1, 1],
    padding: [0, 0, 0, 0],
    weights: Int8Array.from({ length: fanIn }, (_, i) => (noise(i, seed) >> 4) | 1),
    bias: Int32Array.of(-500),
    requant: { multiplier: Int32Array.of(1 << 12), shift: Uint8Array.of(20), activation: "relu" },
  };
}

const model = (name: string, shape: number[], layers: VqmLayer[]): VqmModel => ({
  format: "vqm/1",
  name,
  input: { shape, scale: 1 },
  layers,
  ...(layers[layers.length - 1]!.kind === "argmax" ? {} : { outputScale: 1 }),
});

/** A 1024-layer model: a global maxpool of the input, 1022 relus, and the last layer pooling the input again. */
function deepModel(width: number): VqmModel {
  const layers: VqmLayer[] = [{ kind: "maxpool2d", input: -1, kernel: [1, width], stride: [1, 1] }];
  for (let k = 1; k < 1023; k++) layers.push({ kind: "relu", input: k - 1 });
  layers.push({ kind: "maxpool2d", input: -1, kernel: [1, width], stride: [1, 1] });
  return model(`deep-1024-${width}`, [1, 1, 1, width], layers);
}

/** Each case: a model, its input, the disputed layer and element, and how the challenger proves it. */
type Case = {
  kind: string;
  what: string;
  model: VqmModel;
  layer: number;
  element: number;
  step: "whole" | "sum";
  /** Sent with this gas limit (a step too large to estimate). */
  gasLimit?: number;
};

const denseWhole = model(
  "dense-16384",
  [1, 16384],
  [
    { kind: "add", inputs: [-1, -1], multipliers: [1 << 29, 1 << 29], shift: 30, activation: "none" },
    dense(0, 16384, 2, 1),
  ],
);
// The widest input the registry takes (ModelRegistry.MAX_INPUT_BYTES).
const denseRange = model("dense-32757", [1, 32757], [dense(-1, 32757, 2, 2)]);
const convColumn = model("conv-1024x1", [1, 1, 1024, 1], [conv(-1, 1, [1024, 1], 3)]);
const convSquare = model("conv-2x32x32", [1, 2, 32, 32], [conv(-1, 2, [32, 32], 4)]);
const argmaxRow = model("argmax-16384", [1, 16384], [{ kind: "argmax", input: -1 }]);
const poolWide = (kh: number) =>
  model(`maxpool-${kh}x2048`, [1, 1, kh, 2100], [{ kind: "maxpool2d", input: -1, kernel: [kh, 2048], stride: [1, 1] }]);
const poolNarrow = model(
  "maxpool-1024x16",
  [1, 1, 1024, 16],
  [{ kind: "maxpool2d", input: -1, kernel: [1024, 16], stride: [1, 1] }],
);
const poolTall = model(
  "maxpool-4096x4",
  [1, 1, 4096, 4],
  [{ kind: "maxpool2d", input: -1, kernel: [4096, 4], stride: [1, 1] }],
);
const elementwise = model(
  "elementwise-32757",
  [1, 32757],
  [
    { kind: "relu", input: -1 },
    { kind: "reshape", input: 0, shape: [1, 32757] },
    { kind: "add", inputs: [0, 1], multipliers: [1 << 29, 1 << 29], shift: 30, activation: "none" },
    { kind: "argmax", input: 2 },
  ],
);

const CASES: Case[] = [
  {
    kind: "dense",
    what: "whole element, fan-in 16,384, weights misaligned",
    model: denseWhole,
    layer: 1,
    element: 1,
    step: "whole",
  },
  {
    kind: "dense",
    what: "range of 16,384, input and weights misaligned",
    model: denseRange,
    layer: 0,
    element: 1,
    step: "sum",
  },
  {
    kind: "conv2d",
    what: "kernel 32x32x2, range of 1,024 (32 row pieces)",
    model: convSquare,
    layer: 0,
    element: 0,
    step: "sum",
  },
  {
    kind: "conv2d",
    what: "kernel 1024x1, ranges of 255 (MAX_STEP_ROWS − 1 row pieces; whole refused)",
    model: convColumn,
    layer: 0,
    element: 0,
    step: "sum",
  },
  { kind: "argmax", what: "whole row of 16,384 (16 chunks)", model: argmaxRow, layer: 0, element: 0, step: "whole" },
  { kind: "argmax", what: "range of 8,192", model: argmaxRow, layer: 0, element: 0, step: "sum" },
  {
    kind: "maxpool2d",
    what: "4x2048 window on rows of 2,100, range of 8,192",
    model: poolWide(4),
    layer: 0,
    element: 30,
    step: "sum",
  },
  {
    kind: "maxpool2d",
    what: "4x2048 window on rows of 2,100, whole, row by row",
    model: poolWide(4),
    layer: 0,
    element: 30,
    step: "whole",
  },
  {
    kind: "maxpool2d",
    what: "8x2048 window on rows of 2,100, whole (16,384), row by row",
    model: poolWide(8),
    layer: 0,
    element: 30,
    step: "whole",
  },
  {
    kind: "maxpool2d",
    what: "1024x16 window, reduction (ranges of 112)",
    model: poolNarrow,
    layer: 0,
    element: 0,
    step: "sum",
  },
  {
    kind: "maxpool2d",
    what: "4096x4 window, reduction (ranges of 28; whole refused)",
    model: poolTall,
    layer: 0,
    element: 0,
    step: "sum",
  },
  {
    kind: "relu",
    what: "element of a 32,757-element layer",
    model: elementwise,
    layer: 0,
    element: 20000,
    step: "whole",
  },
  {
    kind: "reshape",
    what: "element of a 32,757-element layer",
    model: elementwise,
    layer: 1,
    element: 20000,
    step: "whole",
  },
  {
    kind: "add",
    what: "element of a 32,757-element layer",
    model: elementwise,
    layer: 2,
    element: 20000,
    step: "whole",
  },
];

async function fixture() {
  const [admin, treasury, owner, provider, requester, liar, keeper] =
    (await ethers.getSigners()) as HardhatEthersSigner[];
  const suite = await deployGameSuite(ethers, admin!, treasury!, {
    minStake: ethers.parseEther("1"),
    bond: BOND,
    slash: SLASH,
    clockSec: CLOCK,
  });
  await suite.providers.connect(provider!).stake({ value: ethers.parseEther("100") });
  return { ...suite, owner: owner!, provider: provider!, requester: requester!, liar: liar!, keeper: keeper! };
}
type Fx = Awaited<ReturnType<typeof fixture>>;

/** One row per game: its challenge and its largest move after the challenge. */
const table: { case: string; moves: number; challenge: number; "largest move": string; gas: number }[] = [];
/** Largest gas of each move, over every game. */
const gas = new GasLog();

async function register(fx: Fx, m: VqmModel): Promise<RegisteredModel> {
  const reg = await registerOptimistic(fx.models.connect(fx.owner), {
    model: m,
    price: PRICE,
    window: WINDOW,
    royaltyBps: 1000,
  });
  await fx.providers.connect(fx.provider).optIn(reg.modelId);
  return reg;
}

/** Request, honest submission, a lying challenge at `c.layer`/`c.element`, the game to its end. */
async function play(fx: Fx, c: Case, input: Tensor, stall?: "challenger") {
  const reg = await register(fx, c.model);
  const honest = executeVqm(c.model, input).trace;
  const envelope = inlineInput(input);
  const deadline = (await time.latest()) + 86400;
  await fx.market
    .connect(fx.requester)
    .requestInference(reg.modelId, envelope, PRICE, deadline, ZERO, 0, { value: PRICE });
  const id = await fx.market.requestCount();
  await fx.market.connect(fx.provider).claim(id);
  const defender = traceTrees(honest);
  const challenger = traceTrees(withElementMoved(honest, c.layer, c.element));
  const log = new GasLog();
  await log.record(
    "submitOptimistic",
    fx.market.connect(fx.provider).submitOptimistic(id, encodeTensor(honest[honest.length - 1]!), defender.roots),
    "defender",
  );
  const gameId = await openGame(fx.game, {
    challenger: fx.liar,
    requestId: id,
    params: challengeParams(reg, await findRequestParams(fx.market, id), envelope, defender.roots, challenger.roots),
    bond: BOND,
    gas: log,
  });
  expect((await fx.game.getGame(gameId)).layer).to.equal(BigInt(c.layer));
  const { view } = await playGame(fx.game, {
    gameId,
    model: reg,
    input: traceBytes([input])[0]!,
    trace: traceBytes(honest),
    defender: { signer: fx.provider, trees: defender },
    challenger: { signer: fx.liar, trees: challenger, pace: stall === "challenger" ? { stopAfter: 0 } : undefined },
    step: c.step,
    stepGasLimit: c.gasLimit,
    keeper: fx.provider,
    increaseTime: (s) => time.increase(s),
    gas: log,
  });
  expect(view.winner, "the honest provider wins").to.equal(Side.Defender);
  for (const e of log.all) gas.note(e.name, e.gas, e.side);
  const moves = log.all.filter((e) => e.name !== "submitOptimistic" && e.name !== "challenge");
  const largest = moves.reduce((a, b) => (b.gas > a.gas ? b : a));
  table.push({
    case: `${c.kind}: ${c.what}`,
    moves: moves.length,
    challenge: Number(log.max.get("challenge")),
    "largest move": largest.name,
    gas: Number(largest.gas),
  });
  return log;
}

/** An int8 input of `shape` with values spread over the whole range. */
const inputOf = (m: VqmModel, seed: number) => int8Tensor(m.input.shape, (i) => noise(i, seed));

describe("the largest case of every layer kind is proven under the move gas ceiling", () => {
  let ceiling = 0n;
  after(() => {
    console.log(`      MOVE_GAS_CEILING ${ceiling}; each game's challenge and largest move:`);
    console.table(table);
    console.log("      largest gas of each move over all games:");
    console.table([...gas.max.entries()].map(([move, used]) => ({ move, gas: Number(used) })));
  });

  for (const kind of ["dense", "conv2d", "argmax", "maxpool2d", "relu", "reshape", "add"]) {
    it(`${kind}: every step of its largest cases stays under the ceiling`, async () => {
      const fx = await networkHelpers.loadFixture(fixture);
      ceiling = await fx.game.MOVE_GAS_CEILING();
      const over: string[] = [];
      for (const c of CASES.filter((x) => x.kind === kind)) {
        try {
          const log = await play(fx, c, inputOf(c.model, 17));
          for (const e of log.all) if (e.gas >= ceiling) over.push(`${c.what}: ${e.name} ${e.gas}`);
        } catch (error) {
          over.push(`${c.what}: ${String((error as Error).message).split("\n")[0]}`);
          table.push({
            case: `${kind}: ${c.what}`,
            moves: 0,
            challenge: 0,
            "largest move": "failed",
            gas: c.gasLimit ?? 0,
          });
        }
      }
      expect(over, "moves at or over the ceiling").to.deep.equal([]);
    });
  }

  it("whole steps that would cross the ceiling are refused, so the challenger takes the reduction phase", async () => {
    const fx = await networkHelpers.loadFixture(fixture);
    const rows = Number(await fx.prover.MAX_STEP_ROWS());
    // Each kernel or window row is read on its own (~6k gas): 1,024 rows of a conv2d kernel or
    // 1,024 and 4,096 rows of a pooling window would cost 6M gas and beyond in one step.
    for (const m of [convColumn, poolNarrow, poolTall]) {
      const spec = layerSpecs(m)[0]!;
      expect(
        needsReduction(spec, () => []),
        `${m.name} is left to the reduction phase`,
      ).to.equal(true);
      const { fanIn } = sumLayout(spec);
      await expect(fx.prover.computeElement(encodeLayerSpec(spec), ZERO_HASH, ZERO_HASH, ZERO_HASH, 0, EMPTY_PROOF))
        .to.be.revertedWithCustomError(fx.prover, "StepUnsupported")
        .withArgs(spec.kind, fanIn);
    }
    // A window of exactly MAX_STEP_ROWS rows (and MAX_FAN_IN elements) is still a whole step.
    const pool = (kh: number) =>
      model(`maxpool-${kh}x64`, [1, 1, kh, 64], [{ kind: "maxpool2d", input: -1, kernel: [kh, 64], stride: [1, 1] }]);
    expect(needsReduction(layerSpecs(pool(rows))[0]!, () => [])).to.equal(false);
    expect(needsReduction(layerSpecs(pool(rows + 1))[0]!, () => [])).to.equal(true);
  });

  it("a challenge of a 1024-layer model, with a small input and with the largest input, and a full revealChunk", async () => {
    const fx = await networkHelpers.loadFixture(fixture);
    ceiling = await fx.game.MOVE_GAS_CEILING();
    // The last layer is disputed (the game compares all 1024 roots) and reads the model input
    // (the game recomputes the input's root): 4 elements, then 32,749 (32,768 canonical bytes,
    // ModelRegistry.MAX_INPUT_BYTES).
    const over: string[] = [];
    for (const width of [4, 32749]) {
      const m = deepModel(width);
      const c: Case = {
        kind: "1024 layers",
        what: `input of ${width} elements`,
        model: m,
        layer: 1023,
        element: 0,
        step: "sum",
      };
      const input = inputOf(m, 23);
      expect(encodeTensor(input).length).to.be.at.most(Number(await fx.models.MAX_INPUT_BYTES()));
      const log = await play(fx, c, input, width === 4 ? undefined : "challenger");
      for (const e of log.all) if (e.gas >= ceiling) over.push(`${c.what}: ${e.name} ${e.gas}`);
    }
    expect(gas.max.get("revealChunk")).to.be.lessThan(ceiling);
    expect(over, "moves at or over the ceiling").to.deep.equal([]);
  });

  it("a decoder of the longest generation (1024 passes of 1024 layers): registered (one pass more is refused), challenged and its layers revealed under the ceiling", async () => {
    const fx = await networkHelpers.loadFixture(fixture);
    const register = (promptLength: number, newTokens: number, name: string) =>
      fx.models.connect(fx.owner).register({
        modelHash: keccak256(toUtf8Bytes(name)),
        contentId: `bafy-${name}`,
        mode: 2,
        feeToken: ZERO,
        price: PRICE,
        royaltyBps: 0,
        inputShape: [1, promptLength],
        outputShape: [1, newTokens],
        inputDtype: Dtype.int32,
        outputDtype: Dtype.int32,
        verifier: ZERO,
        weightsRoot: keccak256(toUtf8Bytes("weights")),
        layoutRoot: keccak256(toUtf8Bytes("layout")),
        layerCount: MAX_LAYERS,
        challengeWindow: WINDOW,
      });
    await expect(register(1000, 26, "too-long"))
      .to.be.revertedWithCustomError(fx.models, "ModelGenerationTooLong")
      .withArgs(MAX_PASSES + 1, MAX_PASSES);
    await register(1000, 25, "longest");
    const modelId = await fx.models.modelCount();
    await fx.providers.connect(fx.provider).optIn(modelId);
    const prompt: Tensor = { dtype: "int32", shape: [1, 1000], data: Int32Array.from({ length: 1000 }, (_, i) => i) };
    const input = inlineInput(prompt);
    const deadline = (await time.latest()) + 86400;
    await fx.market.connect(fx.requester).requestInference(modelId, input, PRICE, deadline, ZERO, 0, { value: PRICE });
    const id = await fx.market.requestCount();
    await fx.market.connect(fx.provider).claim(id);
    const layerRoots = Array.from({ length: MAX_LAYERS }, (_, l) => keccak256(toUtf8Bytes(`layer ${l}`)));
    const roots = Array.from({ length: MAX_PASSES }, (_, t) => keccak256(toUtf8Bytes(`pass ${t}`)));
    roots[MAX_PASSES - 1] = rootOfRoots(layerRoots);
    const output: Tensor = { dtype: "int32", shape: [1, 25], data: new Int32Array(25) };
    await fx.market.connect(fx.provider).submitOptimistic(id, encodeTensor(output), roots);
    const theirs = roots.map((r, t) => (t === MAX_PASSES - 1 ? ZERO_HASH : r));
    const request = await findRequestParams(fx.market, id);
    const params = { request, input, defenderRoots: roots, challengerRoots: theirs, layerSpec: "0x", layoutProof: [] };
    const challenge = fx.game.connect(fx.liar).challenge(id, params, { value: BOND });
    const receipt = await gas.record("challenge (1024 passes)", challenge, "challenger");
    const gameId = startedGame(fx.game, receipt);
    expect((await fx.game.getGame(gameId)).pass).to.equal(BigInt(MAX_PASSES - 1));
    const reveal = await gas.record(
      "revealLayers",
      fx.game.connect(fx.provider).revealLayers(gameId, layerRoots),
      "defender",
    );
    const ceiling = await fx.game.MOVE_GAS_CEILING();
    expect(receipt.gasUsed).to.be.lessThan(ceiling);
    expect(reveal.gasUsed).to.be.lessThan(ceiling);
    console.log(`      longest generation: challenge ${receipt.gasUsed}, revealLayers ${reveal.gasUsed}`);
  });

  it("the defender's worst case stays under DEFENDER_GAS_BOUND", async () => {
    const fx = await networkHelpers.loadFixture(fixture);
    const bound = await fx.game.DEFENDER_GAS_BOUND();
    // A silent challenger: the provider claims the timeout itself (and a silent cheat: the
    // slashing timeout, for the largest claimTimeout of either kind).
    const silent = { ...CASES[0]!, what: "the challenger silent at the step" };
    await play(fx, silent, inputOf(silent.model, 17), "challenger");
    const reg = await register(fx, argmaxRow);
    const input = inputOf(argmaxRow, 29);
    const honest = executeVqm(argmaxRow, input).trace;
    const cheat = withElementMoved(honest, 0, 0);
    const envelope = inlineInput(input);
    await fx.market
      .connect(fx.requester)
      .requestInference(reg.modelId, envelope, PRICE, (await time.latest()) + 86400, ZERO, 0, { value: PRICE });
    const id = await fx.market.requestCount();
    await fx.market.connect(fx.provider).claim(id);
    const trees = traceTrees(cheat);
    await fx.market.connect(fx.provider).submitOptimistic(id, encodeTensor(cheat[0]!), trees.roots);
    const receipt = await (
      await fx.game
        .connect(fx.liar)
        .challenge(
          id,
          challengeParams(reg, await findRequestParams(fx.market, id), envelope, trees.roots, traceTrees(honest).roots),
          { value: BOND },
        )
    ).wait();
    await time.increase(CLOCK);
    await gas.record("claimTimeout", fx.game.connect(fx.keeper).claimTimeout(startedGame(fx.game, receipt!)), "keeper");

    const worst = (name: string) => {
      const v = gas.max.get(name);
      if (v === undefined) throw new Error(`${name} was not measured (run the whole file)`);
      return v;
    };
    const parts = [
      // A layer has at most 2^32 elements of at most 4 bytes: 2^24 chunks, a tree of height 24.
      // A game over a decoder's generation: one reveal of a pass's layer roots (MAX_LAYERS of them).
      { move: "revealLayers", count: 1n, gas: worst("revealLayers") },
      { move: "reveal", count: 24n, gas: worst("reveal") },
      { move: "revealChunk", count: 1n, gas: worst("revealChunk") },
      { move: "claimSum", count: 1n, gas: worst("claimSum") },
      { move: "postSum", count: 32n, gas: worst("postSum") },
      { move: "claimTimeout", count: 1n, gas: worst("claimTimeout") },
    ];
    const total = parts.reduce((sum, p) => sum + p.count * p.gas, 0n);
    console.log(`      DEFENDER_GAS_BOUND ${bound}: worst defender moves`);
    console.table([
      ...parts.map((p) => ({
        move: p.move,
        count: Number(p.count),
        "largest gas": Number(p.gas),
        total: Number(p.count * p.gas),
      })),
      { move: "sum", count: 0, "largest gas": 0, total: Number(total) },
    ]);
    expect(total).to.be.lessThan(bound);
  });
});

// ------------------------------------------------------------------------------------------------
// Decoders (issue 11): the largest step of each decoder kind in a game over a generation

/** Layers per pass and passes at their limits (ModelRegistry.MAX_LAYERS, Generation.MAX_PASSES): the deepest openings. */
const MAX_LAYERS = 1024;
const MAX_PASSES = 1024;
/** The game's own cost around a step (clock, spec hash, storage, resolution with the market's slash), generously. */
const GAME_OVERHEAD = 1_000_000n;

type DecoderCase = {
  name: string;
  spec: LayerSpec;
  /** Layer outputs of the disputed pass k and of the other passes read (`tensors[u][ref]`). */
  tensors: Map<number, Map<number, Tensor>>;
  element: number;
  /** The reduction range, or a whole element (lut, embed). */
  range?: { from: number; to: number } | undefined;
};

const int8Of = (n: number, seed: number): Tensor => ({
  dtype: "int8",
  shape: [1, n],
  data: Int8Array.from({ length: n }, (_, i) => noise(i, seed)),
});

/** The disputed pass and layer: the last of each, so every opening is as deep as it gets. */
const K = MAX_PASSES - 1;
const DISPUTED = MAX_LAYERS - 1;

function decoderCases(): DecoderCase[] {
  const spec = (kind: number, params: number[], outElements: number, extra: Partial<LayerSpec> = {}): LayerSpec => ({
    kind,
    inputA: 0,
    inputB: -1,
    outElements,
    elementSize: 1,
    activation: 0,
    weightsOffset: 0,
    params,
    ...extra,
  });
  const at = (entries: [number, number, Tensor][]) => {
    const map = new Map<number, Map<number, Tensor>>();
    for (const [u, ref, t] of entries) map.set(u, (map.get(u) ?? new Map()).set(ref, t));
    return map;
  };
  const width = 9000;
  const context = 9000;
  const centre: Tensor = {
    dtype: "int32",
    shape: [1, width],
    data: Int32Array.from({ length: width }, (_, i) => noise(i, 3) * 64),
  };
  return [
    // 8192 terms (MAX_CENTRE_STEP) from a misaligned start: 9 chunks of x.
    {
      name: "centre range",
      spec: spec(LayerKind.centre, [width], width, { elementSize: 4 }),
      tensors: at([[K, 0, int8Of(width, 1)]]),
      element: 5,
      range: { from: 100, to: 8292 },
    },
    // 2048 terms (MAX_NORMALIZE_STEP) of int32 c, misaligned: 9 chunks.
    {
      name: "normalize range",
      spec: spec(LayerKind.normalize, [width], width),
      tensors: at([[K, 0, centre]]),
      element: 5,
      range: { from: 1, to: 2049 },
    },
    // 8192 terms (MAX_QK_STEP) of q and of the key at pass 0, misaligned: 9 + 9 chunks.
    {
      name: "qk range",
      spec: spec(LayerKind.qk, [1, width, MAX_PASSES], MAX_PASSES, { inputB: 1 }),
      tensors: at([
        [K, 0, int8Of(width, 1)],
        [0, 1, int8Of(width, 2)],
      ]),
      element: 0,
      range: { from: 100, to: 8292 },
    },
    // 8192 row elements (MAX_ROWMAX_STEP) of a context of 9000, misaligned.
    {
      name: "rowmax range",
      spec: spec(LayerKind.rowmax, [1, context], 1),
      tensors: at([[K, 0, int8Of(context, 1)]]),
      element: 0,
      range: { from: 100, to: 8292 },
    },
    // Every term of the last pass's row (t + 1 = 1024 ≤ MAX_SOFTMAX_STEP), its row straddling chunks, with the exp table.
    {
      name: "softmax range",
      spec: spec(LayerKind.softmax, [2, 1100], 2200, { inputB: 1, weightsOffset: 0 }),
      tensors: at([
        [K, 0, int8Of(2200, 1)],
        [K, 1, int8Of(2, 2)],
      ]),
      element: 1100 + 7,
      range: { from: 0, to: K + 1 },
    },
    // 16 passes (MAX_AV_STEP): the probabilities and 16 value layers, 17 openings.
    {
      name: "av range",
      spec: spec(LayerKind.av, [1, 64, MAX_PASSES], 64, { inputB: 1 }),
      tensors: at([
        [K, 0, int8Of(MAX_PASSES, 1)],
        ...Array.from({ length: 16 }, (_, j): [number, number, Tensor] => [500 + j, 1, int8Of(64, 10 + j)]),
      ]),
      element: 63,
      range: { from: 500, to: 516 },
    },
    // A token embedding after the prompt: tok(k) from the argmax of pass k − 1 (the last layer).
    {
      name: "embed (token)",
      spec: spec(LayerKind.embed, [64, 768, 0, 1], 768, { inputA: -1, weightsOffset: 4096 }),
      tensors: at([[K - 1, MAX_LAYERS - 1, { dtype: "int32", shape: [1, 1], data: Int32Array.of(63) }]]),
      element: 767,
    },
    {
      name: "lut",
      spec: spec(LayerKind.lut, [768], 768, { weightsOffset: 1024 }),
      tensors: at([[K, 0, int8Of(768, 1)]]),
      element: 700,
    },
  ];
}

/** A committed generation holding `tensors` (every other root random), as generation-proofs.ts builds openings over it. */
function syntheticGeneration(tensors: DecoderCase["tensors"]): GenerationTrees {
  const random = (u: number, ref: number) => keccak256(toUtf8Bytes(`root ${u} ${ref}`));
  const passes: TraceTrees[] = [];
  const passRoots = Array.from({ length: MAX_PASSES }, (_, u) => {
    const own = tensors.get(u);
    if (own === undefined) return random(u, -1);
    const roots = Array.from({ length: MAX_LAYERS }, (_, ref) => {
      const tensor = own.get(ref);
      return tensor ? traceRoot(tensor) : random(u, ref);
    });
    const bytes = Array.from({ length: MAX_LAYERS }, (_, ref) => {
      const tensor = own.get(ref);
      return tensor ? elementBytes(tensor) : new Uint8Array();
    });
    passes[u] = { roots, bytes, trees: [] };
    return rootOfRoots(roots);
  });
  return { passes, passRoots };
}

describe("the largest step of each decoder kind is proven under the move gas ceiling", () => {
  it("centre, normalize, qk, rowmax, softmax, av ranges, a token embed and a lut at 1024 layers × 1024 passes", async () => {
    const prover = await ethers.deployContract("LayerStepProver");
    const generation = (await ethers.deployContract("GenerationProver", [
      await prover.getAddress(),
    ])) as unknown as GenerationProver;
    const blob = new Uint8Array(4096 + 64 * 768);
    // The exp table at 0 (uint32 LE), a lut table at 1024, an embed table of 64 × 768 at 4096.
    const exp = expTable(0.05);
    for (let k = 0; k < 256; k++) new DataView(blob.buffer).setUint32(4 * k, exp[k]!, true);
    for (let i = 1024; i < blob.length; i++) blob[i] = noise(i, 9) & 0xff;
    const weights = stepSource(blob);
    const gasOf: Record<string, number> = {};
    for (const c of decoderCases()) {
      const committed = syntheticGeneration(c.tensors);
      const context = {
        pass: K,
        layer: DISPUTED,
        layerCount: MAX_LAYERS,
        passCount: MAX_PASSES,
        promptLength: 1,
        promptRoot: ZERO_HASH,
        generationRoot: rootOfRoots(committed.passRoots),
        weightsRoot: treeRoot(weights.tree),
      };
      const passes: Tensor[][] = [];
      for (const [u, layers] of c.tensors) for (const [ref, t] of layers) (passes[u] ??= [])[ref] = t;
      const stepContext = { committed, prompt: stepSource(new Uint8Array(4)), promptLength: 1, pass: K };
      const encoded = encodeLayerSpec(c.spec);
      const attention = c.spec.kind === LayerKind.qk || c.spec.kind === LayerKind.av;
      let used: bigint;
      if (c.range === undefined) {
        const proof =
          c.spec.kind === LayerKind.embed
            ? embedElementProof(c.spec, weights, K, 63, c.element)
            : passElementProof(c.spec, passSources(c.spec, passes, K, weights), K, c.element);
        const step = encodeGenerationStep({
          reads: stepReads(stepContext, c.spec, c.element, "whole"),
          ...tokenChunk(stepContext, c.spec),
          proof: encodeProofs(proof),
        });
        await generation.computeElement(encoded, context, c.element, step);
        used = await generation.computeElement.estimateGas(encoded, context, c.element, step);
      } else {
        const { from, to } = c.range;
        const proof = attention
          ? attentionRangeProof(
              c.spec,
              attentionSources(c.spec, passes, K, c.element, weights, from, to),
              c.element,
              from,
              to,
            )
          : passRangeProof(c.spec, passSources(c.spec, passes, K, weights), c.element, from, to);
        const step = encodeGenerationStep({
          reads: stepReads(stepContext, c.spec, c.element, c.range),
          token: "0x",
          tokenSiblings: [],
          proof: encodeProofs(proof),
        });
        const range = { t: K, element: c.element, from, to, sumFrom: 0n };
        await generation.stepSum(encoded, context, range, step);
        used = await generation.stepSum.estimateGas(encoded, context, range, step);
      }
      gasOf[c.name] = Number(used);
      expect(used + GAME_OVERHEAD, c.name).to.be.lessThan(5_000_000n); // DisputeGame.MOVE_GAS_CEILING
    }
    console.log("      decoder steps, gas of the generation prover's call (largest case of each kind):", gasOf);
  });
});
