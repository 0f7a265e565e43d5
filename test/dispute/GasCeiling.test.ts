/**
 * The move gas ceiling of the dispute game (DisputeGame.MOVE_GAS_CEILING): the largest case of
 * every layer kind, played as a real game on an in-process chain, each transaction measured.
 * Each case is a small model built by hand whose disputed element is the worst one for its
 * kind (longest range, most chunks, most row pieces, misaligned where alignment would help);
 * a lying challenger plays against an honest provider, so every step is computed in full. Also
 * checks DisputeGame.DEFENDER_GAS_BOUND against the measured worst defender moves. The figures
 * are printed for docs/BENCHMARKS.md.
 */
import { expect } from "chai";
import { network } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
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
import { inlineInput, int8Tensor, noise, Side, traceBytes } from "./attack-helpers.ts";

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
    params: challengeParams(reg, envelope, defender.roots, challenger.roots),
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
        .challenge(id, challengeParams(reg, envelope, trees.roots, traceTrees(honest).roots), { value: BOND })
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
