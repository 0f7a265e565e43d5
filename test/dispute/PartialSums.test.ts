/**
 * The reduction phase of the dispute game (DisputeGame.openSum … proveSumStep), played with the
 * pure move helpers of oracle/dispute/moves.ts: an element whose whole-element step the prover
 * refuses is settled by a bisection over the prefix states of its reduction. Four layers, one
 * per reason and kind: a dense fan-in of 20000 and an argmax row of 20000 (beyond MAX_FAN_IN),
 * a 208×208 global maxpool2d (fan-in 43264) and a 48×48 maxpool2d whose window rows lie in 48
 * chunks (beyond MAX_CHUNKS), both over an internal feature map (a dense layer from a small
 * input, reshaped). Models are generated from a seed, never stored.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { hexlify, type ContractTransactionResponse } from "ethers";
import { signers } from "../contracts/helpers.ts";
import { findRequestParams } from "../../oracle/chain/request-params.ts";
import { consistentFinal } from "../../oracle/devnet/cheat-trace.ts";
import { deployGameSuite } from "../../oracle/devnet/deploy-game-suite.ts";
import { registerOptimistic } from "../../oracle/devnet/register-optimistic.ts";
import { executeWithCheat } from "../../oracle/dispute/cheat.ts";
import { encodeTensor } from "../../oracle/model/tensor-codec.ts";
import { encodeInlineInput } from "../../oracle/model/input-envelope.ts";
import type { Tensor } from "../../oracle/model/tensor.ts";
import { createPrng } from "../../oracle/model/train/prng.ts";
import { executeVqm } from "../../oracle/model/vqm/reference-executor.ts";
import { seededDense } from "../../oracle/model/vqm/seeded-dense.ts";
import { syntheticInput, syntheticMlp } from "../../oracle/model/vqm/synthetic-vqm.ts";
import { validateVqm } from "../../oracle/model/vqm/validate-vqm.ts";
import type { VqmLayer, VqmModel } from "../../oracle/model/vqm/vqm-model.ts";
import { weightsBlob } from "../../oracle/model/vqm/commitments.ts";
import { encodeLayerSpec, layerSpecs, layoutProof } from "../../oracle/dispute/layout.ts";
import {
  agreesWithSum,
  chunkBytes,
  differingElement,
  elementBytes,
  finishState,
  firstDifferingLayer,
  needsReduction,
  prefixStates,
  stepChunks,
  stepProof,
  stepSource,
  sumLayout,
  sumMidpoint,
  sumParamsProof,
  sumStepProof,
  traceTrees,
} from "../../oracle/dispute/moves.ts";
import { featureMapLayers } from "./attack-helpers.ts";

const { ethers, networkHelpers } = await network.create();

const MIN_STAKE = ethers.parseEther("1");
const SLASH = ethers.parseEther("0.5");
const BOND = ethers.parseEther("0.1");
const PRICE = ethers.parseEther("0.01");
const WINDOW = 3600;
const CLOCK = 1800;
const ZERO = ethers.ZeroAddress;
const Status = { Submitted: 3n, Refunded: 6n };
const Phase = { AwaitChunk: 2n, AwaitStep: 3n, Resolved: 4n, SumClaim: 5n, SumBisecting: 6n, AwaitSumStep: 7n };
const Side = { Defender: 1n, Challenger: 2n };

/**
 * A maxpool2d over an internal feature map `[1, 1, h, w]` (layers 0 and 1: a dense layer from a
 * 16-element input, reshaped; the chain bounds the model input, not internal layers), then a
 * small dense head (weights make it registrable). The pool is layer 2.
 */
function poolModel(name: string, h: number, w: number, kernel: [number, number]): VqmModel {
  const [oh, ow] = [Math.floor((h - kernel[0]) / kernel[0]) + 1, Math.floor((w - kernel[1]) / kernel[1]) + 1];
  const layers: VqmLayer[] = [
    ...featureMapLayers({ shape: [1, 1, h, w], seed: h + w }),
    { kind: "maxpool2d", input: 1, kernel, stride: kernel },
    { kind: "reshape", input: 2, shape: [1, oh * ow] },
    // A dense head with small random weights (within the overflow bounds).
    seededDense(createPrng(h + w), { input: 3, inFeatures: oh * ow, outFeatures: 2, multiplier: 2 ** 20, shift: 24 }),
  ];
  const model: VqmModel = {
    format: "vqm/1",
    name,
    input: { shape: [1, 16], scale: 0.05 },
    layers,
    outputScale: 0.1,
  };
  validateVqm(model);
  return model;
}

function imageInput(model: VqmModel, seed: number): Tensor {
  const prng = createPrng(seed);
  const count = model.input.shape.reduce((n, d) => n * d, 1);
  return {
    dtype: "int8",
    shape: [...model.input.shape],
    data: Int8Array.from({ length: count }, () => prng.int(256) - 128),
  };
}

type Case = {
  name: string;
  model: VqmModel;
  input: Tensor;
  /** The layer with the long reduction, and the element the cheat moves. */
  layer: number;
  element: number;
  /** How the prover refuses the whole element. */
  refusal: "StepUnsupported" | "StepTooManyChunks";
};

const FAN_IN = 20000;
const wide = syntheticMlp({ seed: 11, sizes: [8, FAN_IN, 2] });
const argmaxModel = syntheticMlp({ seed: 12, sizes: [8, FAN_IN], argmax: true });
const globalPool = poolModel("global-pool", 208, 208, [208, 208]);
const tallPool = poolModel("tall-pool", 48, 1024, [48, 48]);
const cases: Case[] = [
  {
    name: "dense fan-in 20000",
    model: wide,
    input: syntheticInput(wide, 5),
    layer: 1,
    element: 0,
    refusal: "StepUnsupported",
  },
  {
    name: "argmax row 20000",
    model: argmaxModel,
    input: syntheticInput(argmaxModel, 5),
    layer: 1,
    element: 0,
    refusal: "StepUnsupported",
  },
  {
    name: "maxpool2d 208×208",
    model: globalPool,
    input: imageInput(globalPool, 6),
    layer: 2,
    element: 0,
    refusal: "StepUnsupported",
  },
  {
    name: "maxpool2d 48×48 in 48 chunks",
    model: tallPool,
    input: imageInput(tallPool, 7),
    layer: 2,
    element: 13,
    refusal: "StepTooManyChunks",
  },
];

async function fixture() {
  const [admin, treasury, modelOwner, provider, requester, challenger, other] = await signers(ethers);
  const { models, providers, market, game, prover } = await deployGameSuite(ethers, admin, treasury, {
    minStake: MIN_STAKE,
    bond: BOND,
    slash: SLASH,
    clockSec: CLOCK,
  });
  for (const { model, name } of cases)
    await registerOptimistic(models.connect(modelOwner), {
      model,
      name,
      price: PRICE,
      window: WINDOW,
      royaltyBps: 1000,
    });
  await providers.connect(provider).stake({ value: MIN_STAKE });
  for (let id = 1; id <= cases.length; id++) await providers.connect(provider).optIn(id);
  return { treasury, provider, requester, challenger, other, providers, market, game, prover };
}

type Fx = Awaited<ReturnType<typeof fixture>>;
const gas: Record<string, bigint> = {};
async function record(name: string, tx: Promise<ContractTransactionResponse>) {
  const receipt = (await (await tx).wait())!;
  if ((gas[name] ?? 0n) < receipt.gasUsed) gas[name] = receipt.gasUsed;
  return receipt;
}

/** What both sides need of a case: the honest trace, the specs, the blob and the agreed layer read. */
function prepare(c: Case) {
  const honest = executeVqm(c.model, c.input).trace;
  const specs = layerSpecs(c.model);
  const spec = specs[c.layer]!;
  const blob = weightsBlob(c.model);
  const agreed = spec.inputA === -1 ? elementBytes(c.input) : elementBytes(honest[spec.inputA]!);
  const own = prefixStates(spec, c.element, blob, agreed);
  return { honest, specs, spec, blob, weights: stepSource(blob), inputA: stepSource(agreed), own };
}

/** The trace with the case's element moved by `delta` (later layers recomputed from it). */
function cheated(c: Case, delta = 1): Tensor[] {
  return executeWithCheat(c.model, c.input, { layer: c.layer, element: c.element, delta }).trace;
}

/**
 * A final state that finishes to the element `claimed` holds (so claimSum accepts it) though it
 * is not the honest `S_n` (`own`'s last).
 */
function consistentFinalOf(c: Case, claimed: number, own: readonly number[]): number {
  return consistentFinal({ model: c.model, layer: c.layer, element: c.element, claimed, honest: own });
}

/** Request case `c`, submit `trace`, challenge with `challengerTrace`, reveal the chunk: AwaitStep. */
async function toStep(fx: Fx, c: Case, trace: Tensor[], challengerTrace: Tensor[]) {
  const modelId = BigInt(cases.indexOf(c) + 1);
  const inputBytes = encodeInlineInput(c.input);
  const { specs } = prepare(c);
  const deadline = (await networkHelpers.time.latest()) + 86400;
  await fx.market
    .connect(fx.requester)
    .requestInference(modelId, inputBytes, PRICE, deadline, ZERO, 0, { value: PRICE });
  const id = await fx.market.requestCount();
  await fx.market.connect(fx.provider).claim(id);
  const defender = traceTrees(trace);
  const challenger = traceTrees(challengerTrace);
  await fx.market.connect(fx.provider).submitOptimistic(id, encodeTensor(trace[trace.length - 1]!), defender.roots);
  const k = firstDifferingLayer(defender.roots, challenger.roots)!;
  expect(k).to.equal(c.layer);
  const params = {
    request: await findRequestParams(fx.market, id),
    input: inputBytes,
    defenderRoots: defender.roots,
    challengerRoots: challenger.roots,
    layerSpec: encodeLayerSpec(specs[k]!),
    layoutProof: layoutProof(specs, k),
  };
  await record("challenge", fx.game.connect(fx.challenger).challenge(id, params, { value: BOND }));
  const gameId = await fx.game.gameCount();
  // Walk the tree to the chunk holding the element (both traces differ only there).
  for (;;) {
    const g = await fx.game.getGame(gameId);
    const [height, position] = [Number(g.height), Number(g.position)];
    if (g.phase === Phase.AwaitChunk) {
      const chunk = chunkBytes(defender, k, position);
      await record("revealChunk", fx.game.connect(fx.provider).revealChunk(gameId, chunk));
      const size = Number(g.elementSize);
      const offset = differingElement(challenger, k, position, chunk, size)!;
      expect((position * 1024) / size + offset).to.equal(c.element);
      return { id, gameId, chunk, offset };
    }
    const side = g.turn === Side.Defender ? defender : challenger;
    const [l, r] = [
      side.trees[k]!.levels[height - 1]![2 * position]!,
      side.trees[k]!.levels[height - 1]![2 * position + 1]!,
    ];
    if (g.turn === Side.Defender) await fx.game.connect(fx.provider).reveal(gameId, hexlify(l), hexlify(r));
    else await fx.game.connect(fx.challenger).bisect(gameId, hexlify(l), hexlify(r));
  }
}

/**
 * Plays the reduction phase: the defender claims `defender[n]` and posts `defender` states, the
 * challenger picks with its own states `challenger` and proves the last range.
 */
async function playSums(fx: Fx, c: Case, gameId: bigint, defender: readonly number[], challenger: readonly number[]) {
  const { spec, weights, inputA } = prepare(c);
  const specBytes = encodeLayerSpec(spec);
  const element = c.element;
  let rounds = 0;
  for (let i = 0; i < 64; i++) {
    const g = await fx.game.getGame(gameId);
    const s = await fx.game.getSum(gameId);
    if (g.phase === Phase.Resolved) return { g, rounds };
    if (g.phase === Phase.SumClaim) {
      const proof = sumParamsProof(spec, element, weights);
      await record("claimSum", fx.game.connect(fx.provider).claimSum(gameId, defender.at(-1)!, specBytes, proof));
    } else if (g.phase === Phase.SumBisecting && g.turn === Side.Defender) {
      const mid = sumMidpoint(Number(s.lo), Number(s.hi));
      expect(s.mid).to.equal(BigInt(mid));
      await record("postSum", fx.game.connect(fx.provider).postSum(gameId, defender[mid]!));
      rounds++;
    } else if (g.phase === Phase.SumBisecting) {
      const agree = agreesWithSum(challenger, Number(s.mid), s.sumMid);
      await record("pickSum", fx.game.connect(fx.challenger).pickSum(gameId, agree));
    } else {
      expect(g.phase).to.equal(Phase.AwaitSumStep);
      const [lo, hi] = [Number(s.lo), Number(s.hi)];
      expect(hi - lo).to.be.at.most(sumLayout(spec).maxRange);
      const proof = sumStepProof(spec, element, lo, hi, weights, inputA);
      await record(`proveSumStep (${c.name})`, fx.game.connect(fx.challenger).proveSumStep(gameId, specBytes, proof));
    }
  }
  throw new Error("game did not end");
}

/** The element's bytes, left-aligned in a bytes4 (SumView.claimed). */
function bytes4(trace: Tensor[], c: Case): string {
  const { spec } = prepare(c);
  const bytes = elementBytes(trace[c.layer]!).subarray(
    c.element * spec.elementSize,
    (c.element + 1) * spec.elementSize,
  );
  const out = new Uint8Array(4);
  out.set(bytes);
  return hexlify(out);
}

describe("Dispute game: the reduction phase (dense, argmax and maxpool2d beyond one step)", () => {
  after(() => {
    console.log(
      "      gas (largest per call):",
      Object.fromEntries(Object.entries(gas).map(([k, v]) => [k, Number(v)])),
    );
  });

  it("moves.ts prefix states finish to the reference executor's element, and need the reduction phase", () => {
    for (const c of cases) {
      const { honest, spec, blob, weights, inputA, own } = prepare(c);
      const { fanIn } = sumLayout(spec);
      expect(own, c.name).to.have.length(fanIn + 1);
      const finished = finishState(spec, c.element, own[fanIn]!, blob);
      expect(hexlify(finished), c.name).to.equal(bytes4(honest, c).slice(0, 2 + 2 * spec.elementSize));
      expect(
        needsReduction(spec, () => stepChunks(spec, c.element, weights, inputA)),
        c.name,
      ).to.equal(true);
    }
    expect(sumLayout(prepare(cases[0]!).spec)).to.deep.equal({ fanIn: FAN_IN, maxRange: 16384 });
    expect(sumLayout(prepare(cases[1]!).spec)).to.deep.equal({ fanIn: FAN_IN, maxRange: 8192 });
  });

  for (const c of cases)
    it(`${c.name}: one step refuses the whole element; a cheat consistent with its S_n loses at the range step`, async () => {
      const fx = await networkHelpers.loadFixture(fixture);
      const { spec, weights, inputA, own, honest } = prepare(c);
      const cheat = cheated(c);
      const { id, gameId, chunk, offset } = await toStep(fx, c, cheat, honest);
      const specBytes = encodeLayerSpec(spec);
      const whole = stepProof(spec, c.element, weights, inputA);
      await expect(
        fx.game.connect(fx.challenger).proveStep(gameId, chunk, offset, specBytes, whole),
      ).to.be.revertedWithCustomError(fx.prover, c.refusal);
      await record("openSum", fx.game.connect(fx.challenger).openSum(gameId, chunk, offset, specBytes));
      const { fanIn, maxRange } = sumLayout(spec);
      const s = await fx.game.getSum(gameId);
      expect([s.element, s.fanIn, s.maxRange, s.hi, s.claimed]).to.deep.equal([
        BigInt(c.element),
        BigInt(fanIn),
        BigInt(Math.min(maxRange, fanIn)),
        BigInt(fanIn),
        bytes4(cheat, c),
      ]);
      const claimed = Number(cheat[c.layer]!.data[c.element]);
      const total = consistentFinalOf(c, claimed, own);
      expect(total).to.not.equal(own[fanIn]);
      const { g, rounds } = await playSums(fx, c, gameId, [...own.slice(0, -1), total], own);
      expect(g.winner).to.equal(Side.Challenger);
      expect(rounds).to.be.greaterThan(0);
      const after = await fx.game.getSum(gameId);
      expect(after.hi).to.equal(BigInt(fanIn)); // the cheated state is the last
      expect(await fx.market.statusOf(id)).to.equal(Status.Refunded);
      expect(await fx.providers.stakeOf(fx.provider.address)).to.equal(MIN_STAKE - SLASH);
      expect(await fx.game.balanceOf(fx.challenger.address)).to.equal(BOND + SLASH / 2n);
    });

  for (const c of cases)
    it(`${c.name}: a cheat whose S_n does not finish to its element loses at claimSum`, async () => {
      const fx = await networkHelpers.loadFixture(fixture);
      const { spec, weights, own, honest } = prepare(c);
      const { gameId, chunk, offset } = await toStep(fx, c, cheated(c), honest);
      const specBytes = encodeLayerSpec(spec);
      await fx.game.connect(fx.challenger).openSum(gameId, chunk, offset, specBytes);
      const total = own[own.length - 1]!;
      await expect(
        fx.game.connect(fx.provider).claimSum(gameId, total, specBytes, sumParamsProof(spec, c.element, weights)),
      )
        .to.emit(fx.game, "SumClaimed")
        .withArgs(gameId, total, false);
      expect((await fx.game.getGame(gameId)).winner).to.equal(Side.Challenger);
    });

  for (const c of cases)
    it(`${c.name}: a lying challenger against an honest defender loses, whichever half it picks`, async () => {
      for (const lie of ["agree", "disagree"] as const) {
        const fx = await networkHelpers.loadFixture(fixture);
        const { own, honest } = prepare(c);
        const { id, gameId, chunk, offset } = await toStep(fx, c, honest, cheated(c, 2));
        await fx.game.connect(fx.challenger).openSum(gameId, chunk, offset, encodeLayerSpec(prepare(c).spec));
        // The liar's states: equal to the honest ones (agree) or off by one everywhere (disagree).
        const liar = lie === "agree" ? own : own.map((v) => v + 1);
        const { g } = await playSums(fx, c, gameId, own, liar);
        expect(g.winner, lie).to.equal(Side.Defender);
        expect(await fx.market.statusOf(id)).to.equal(Status.Submitted);
        expect(await fx.game.balanceOf(fx.provider.address)).to.equal(BOND / 2n);
      }
    });

  it("clocks run in the reduction phase; out-of-range states and moves out of turn are refused", async () => {
    const fx = await networkHelpers.loadFixture(fixture);
    const c = cases[0]!;
    const { spec, weights, own, honest } = prepare(c);
    const cheat = cheated(c);
    const { gameId, chunk, offset } = await toStep(fx, c, cheat, honest);
    const specBytes = encodeLayerSpec(spec);
    await expect(fx.game.connect(fx.provider).openSum(gameId, chunk, offset, specBytes)).to.be.revertedWithCustomError(
      fx.game,
      "GameNotYourTurn",
    );
    await fx.game.connect(fx.challenger).openSum(gameId, chunk, offset, specBytes);
    const proof = sumParamsProof(spec, 0, weights);
    await expect(fx.game.connect(fx.provider).claimSum(gameId, 2n ** 62n, specBytes, proof))
      .to.be.revertedWithCustomError(fx.game, "GameSumOutOfRange")
      .withArgs(gameId, 2n ** 62n);
    await expect(fx.game.connect(fx.provider).postSum(gameId, 0))
      .to.be.revertedWithCustomError(fx.game, "GameWrongPhase")
      .withArgs(gameId, Phase.SumClaim);
    const total = consistentFinalOf(c, Number(cheat[1]!.data[0]), own);
    await fx.game.connect(fx.provider).claimSum(gameId, total, specBytes, proof);
    expect((await fx.game.getGame(gameId)).phase).to.equal(Phase.SumBisecting);
    await expect(fx.game.connect(fx.challenger).pickSum(gameId, true)).to.be.revertedWithCustomError(
      fx.game,
      "GameNotYourTurn",
    );
    await networkHelpers.time.increase(CLOCK + 1);
    await expect(fx.game.connect(fx.provider).postSum(gameId, 0)).to.be.revertedWithCustomError(
      fx.game,
      "GameClockExpired",
    );
    await record("claimTimeout", fx.game.connect(fx.other).claimTimeout(gameId));
    expect((await fx.game.getGame(gameId)).winner).to.equal(Side.Challenger);
  });

  it("no transaction of the reduction phase exceeds 5,000,000 gas", () => {
    expect(Object.keys(gas)).to.include.members(["openSum", "claimSum", "postSum", "pickSum"]);
    for (const c of cases) expect(Object.keys(gas)).to.include(`proveSumStep (${c.name})`);
    for (const [name, used] of Object.entries(gas)) expect(used, name).to.be.lessThan(5_000_000n);
  });
});
