/**
 * The partial-sum phase of the dispute game (DisputeGame.openSum … proveSumStep): a dense layer
 * whose fan-in (20000) exceeds one step (OneStepExecutor.MAX_STEP = 16384) is settled by a
 * bisection over the prefix sums of the disputed element's dot product, with the pure move
 * helpers of oracle/dispute/moves.ts. The model is generated from a seed, never stored.
 */
import { expect } from "chai";
import { network } from "hardhat";
import type { ContractTransactionResponse } from "ethers";
import { signers } from "../contracts/helpers.ts";
import { deployGameSuite } from "../../oracle/devnet/deploy-game-suite.ts";
import { encodeTensor } from "../../oracle/model/tensor-codec.ts";
import { encodeInlineInput } from "../../oracle/model/input-envelope.ts";
import type { Tensor } from "../../oracle/model/tensor.ts";
import { executeVqm, requant } from "../../oracle/model/vqm/reference-executor.ts";
import { syntheticInput, syntheticMlp } from "../../oracle/model/vqm/synthetic-vqm.ts";
import type { DenseLayer } from "../../oracle/model/vqm/vqm-model.ts";
import { weightsBlob, weightsRoot } from "../../oracle/model/vqm/commitments.ts";
import { encodeLayerSpec, layerSpecs, layoutProof, layoutRoot } from "../../oracle/dispute/layout.ts";
import {
  agreesWithSum,
  chunkBytes,
  differingElement,
  firstDifferingLayer,
  prefixSums,
  stepProof,
  stepSource,
  sumLayout,
  sumMidpoint,
  sumParamsProof,
  sumStepProof,
  traceTrees,
} from "../../oracle/dispute/moves.ts";

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

// dense 8 -> 20000 (relu), dense 20000 -> 2: layer 1's fan-in exceeds one step.
const FAN_IN = 20000;
const model = syntheticMlp({ seed: 11, sizes: [8, FAN_IN, 2] });
const input = syntheticInput(model, 5);
const honest = executeVqm(model, input).trace;
const specs = layerSpecs(model);
const blob = weightsBlob(model);
const weights = stepSource(blob);
const last = model.layers[1] as DenseLayer;
const layer0 = new Uint8Array(honest[0]!.data.buffer, honest[0]!.data.byteOffset, honest[0]!.data.length);

/** A copy of the trace with output element `element` moved to another value. */
function cheatOutput(element: number): Tensor[] {
  const trace = honest.map((t) => ({ ...t, data: t.data.slice() }) as Tensor);
  const value = Number(trace[1]!.data[element]);
  trace[1]!.data[element] = value === 127 ? 126 : value + 1;
  return trace;
}

/** An accumulator `S` with `requant(b + S) == target` for output `j` of the last layer. */
function sumFor(j: number, target: number): number {
  const { multiplier, shift, activation } = last.requant;
  const value = (s: number) => requant(BigInt(last.bias[j]! + s), multiplier[j]!, shift[j]!, activation);
  let [lo, hi] = [-(2 ** 31) + 1 - last.bias[j]!, 2 ** 31 - 1 - last.bias[j]!];
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (value(mid) < target) lo = mid + 1;
    else hi = mid;
  }
  expect(value(lo)).to.equal(target);
  return lo;
}

async function fixture() {
  const [admin, treasury, modelOwner, provider, requester, challenger, other] = await signers(ethers);
  const { models, providers, market, game, prover } = await deployGameSuite(ethers, admin, treasury, {
    minStake: MIN_STAKE,
    bond: BOND,
    slash: SLASH,
    clockSec: CLOCK,
  });
  await models.connect(modelOwner).register({
    modelHash: ethers.keccak256("0x02"),
    contentId: "bafy-wide",
    feeToken: ZERO,
    price: PRICE,
    royaltyBps: 1000,
    inputShape: [1, 8],
    outputShape: [1, 2],
    verifier: ZERO,
    mode: 2,
    weightsRoot: weightsRoot(model),
    layoutRoot: layoutRoot(specs),
    layerCount: specs.length,
    challengeWindow: WINDOW,
  });
  await providers.connect(provider).stake({ value: MIN_STAKE });
  await providers.connect(provider).optIn(1);
  return { treasury, provider, requester, challenger, other, providers, market, game, prover };
}

type Fx = Awaited<ReturnType<typeof fixture>>;
const gas: Record<string, bigint> = {};
async function record(name: string, tx: Promise<ContractTransactionResponse>) {
  const receipt = (await (await tx).wait())!;
  if ((gas[name] ?? 0n) < receipt.gasUsed) gas[name] = receipt.gasUsed;
  return receipt;
}

const inputBytes = encodeInlineInput(input);

/** Request, submit `trace`, challenge with `challengerTrace`, reveal the chunk: AwaitStep. */
async function toStep(fx: Fx, trace: Tensor[], challengerTrace: Tensor[]) {
  const deadline = (await networkHelpers.time.latest()) + 86400;
  await fx.market.connect(fx.requester).requestInference(1, inputBytes, PRICE, deadline, ZERO, 0, { value: PRICE });
  const id = await fx.market.requestCount();
  await fx.market.connect(fx.provider).claim(id);
  const defender = traceTrees(trace);
  const challenger = traceTrees(challengerTrace);
  await fx.market.connect(fx.provider).submitOptimistic(id, encodeTensor(trace[1]!), defender.roots);
  const k = firstDifferingLayer(defender.roots, challenger.roots)!;
  expect(k).to.equal(1);
  await record(
    "challenge",
    fx.game.connect(fx.challenger).challenge(
      id,
      {
        input: inputBytes,
        defenderRoots: defender.roots,
        challengerRoots: challenger.roots,
        layerSpec: encodeLayerSpec(specs[1]!),
        layoutProof: layoutProof(specs, 1),
      },
      { value: BOND },
    ),
  );
  const gameId = await fx.game.gameCount();
  expect((await fx.game.getGame(gameId)).phase).to.equal(Phase.AwaitChunk);
  const chunk = chunkBytes(defender, 1, 0);
  await record("revealChunk", fx.game.connect(fx.provider).revealChunk(gameId, chunk));
  const offset = differingElement(challenger, 1, 0, chunk, 1)!;
  return { id, gameId, chunk, offset };
}

type Strategy = { total: number; sums: readonly number[] };

/**
 * Plays the partial-sum phase: the defender claims `defender.total` and posts `defender.sums`,
 * the challenger picks with its own prefix sums `challengerSums` and proves the last range.
 */
async function playSums(fx: Fx, gameId: bigint, defender: Strategy, challengerSums: readonly number[]) {
  const spec = encodeLayerSpec(specs[1]!);
  const element = Number((await fx.game.getSum(gameId)).element);
  const input0 = stepSource(layer0);
  let rounds = 0;
  for (let i = 0; i < 64; i++) {
    const g = await fx.game.getGame(gameId);
    const s = await fx.game.getSum(gameId);
    if (g.phase === Phase.Resolved) return { g, rounds };
    if (g.phase === Phase.SumClaim) {
      const proof = sumParamsProof(specs[1]!, element, weights);
      await record("claimSum", fx.game.connect(fx.provider).claimSum(gameId, defender.total, spec, proof));
    } else if (g.phase === Phase.SumBisecting && g.turn === Side.Defender) {
      const mid = sumMidpoint(Number(s.lo), Number(s.hi));
      expect(s.mid).to.equal(BigInt(mid));
      await record("postSum", fx.game.connect(fx.provider).postSum(gameId, defender.sums[mid]!));
      rounds++;
    } else if (g.phase === Phase.SumBisecting) {
      await record(
        "pickSum",
        fx.game.connect(fx.challenger).pickSum(gameId, agreesWithSum(challengerSums, Number(s.mid), s.sumMid)),
      );
    } else {
      expect(g.phase).to.equal(Phase.AwaitSumStep);
      const [lo, hi] = [Number(s.lo), Number(s.hi)];
      expect(hi - lo).to.be.at.most(sumLayout(specs[1]!).maxRange);
      const proof = sumStepProof(specs[1]!, element, lo, hi, weights, input0);
      await record("proveSumStep", fx.game.connect(fx.challenger).proveSumStep(gameId, spec, proof));
    }
  }
  throw new Error("game did not end");
}

describe("Dispute game: the partial-sum phase (dense fan-in 20000)", () => {
  after(() => {
    console.log(
      "      gas (largest per call):",
      Object.fromEntries(Object.entries(gas).map(([k, v]) => [k, Number(v)])),
    );
  });

  it("moves.ts prefix sums end at the reference executor's accumulator", () => {
    for (const j of [0, 1]) {
      const sums = prefixSums(specs[1]!, j, blob, layer0);
      expect(sums).to.have.length(FAN_IN + 1);
      const { multiplier, shift, activation } = last.requant;
      const y = requant(BigInt(last.bias[j]! + sums[FAN_IN]!), multiplier[j]!, shift[j]!, activation);
      expect(y).to.equal(Number(honest[1]!.data[j]));
    }
    expect(sumLayout(specs[1]!)).to.deep.equal({ fanIn: FAN_IN, maxRange: 16384 });
  });

  it("one step refuses the whole element; a cheat consistent with its S_n loses at the range step", async () => {
    const fx = await networkHelpers.loadFixture(fixture);
    const cheat = cheatOutput(0);
    const { id, gameId, chunk, offset } = await toStep(fx, cheat, honest);
    const spec = encodeLayerSpec(specs[1]!);
    const whole = stepProof(specs[1]!, offset, weights, stepSource(layer0));
    await expect(fx.game.connect(fx.challenger).proveStep(gameId, chunk, offset, spec, whole))
      .to.be.revertedWithCustomError(fx.prover, "StepUnsupported")
      .withArgs(0, FAN_IN);
    await record("openSum", fx.game.connect(fx.challenger).openSum(gameId, chunk, offset, spec));
    const s = await fx.game.getSum(gameId);
    expect([s.element, s.fanIn, s.maxRange, s.hi, s.claimed]).to.deep.equal([
      0n,
      BigInt(FAN_IN),
      16384n,
      BigInt(FAN_IN),
      BigInt(Number(cheat[1]!.data[0])),
    ]);
    const own = prefixSums(specs[1]!, 0, blob, layer0);
    const total = sumFor(0, Number(cheat[1]!.data[0]));
    expect(total).to.not.equal(own[FAN_IN]);
    const { g, rounds } = await playSums(fx, gameId, { total, sums: own }, own);
    expect(g.winner).to.equal(Side.Challenger);
    expect(rounds).to.equal(1);
    const after = await fx.game.getSum(gameId);
    expect([after.lo, after.hi]).to.deep.equal([10000n, BigInt(FAN_IN)]);
    expect(await fx.market.statusOf(id)).to.equal(Status.Refunded);
    expect(await fx.providers.stakeOf(fx.provider.address)).to.equal(MIN_STAKE - SLASH);
    expect(await fx.game.balanceOf(fx.challenger.address)).to.equal(BOND + SLASH / 2n);
  });

  it("a cheat whose S_n does not requantise to its element loses at claimSum", async () => {
    const fx = await networkHelpers.loadFixture(fixture);
    const { gameId, chunk, offset } = await toStep(fx, cheatOutput(1), honest);
    await fx.game.connect(fx.challenger).openSum(gameId, chunk, offset, encodeLayerSpec(specs[1]!));
    const own = prefixSums(specs[1]!, 1, blob, layer0);
    await expect(
      fx.game
        .connect(fx.provider)
        .claimSum(gameId, own[FAN_IN]!, encodeLayerSpec(specs[1]!), sumParamsProof(specs[1]!, 1, weights)),
    )
      .to.emit(fx.game, "SumClaimed")
      .withArgs(gameId, own[FAN_IN]!, false);
    expect((await fx.game.getGame(gameId)).winner).to.equal(Side.Challenger);
  });

  it("a lying challenger against an honest defender loses, whichever half it picks", async () => {
    for (const lie of ["agree", "disagree"] as const) {
      const fx = await networkHelpers.loadFixture(fixture);
      const { id, gameId, chunk, offset } = await toStep(fx, honest, cheatOutput(0));
      await fx.game.connect(fx.challenger).openSum(gameId, chunk, offset, encodeLayerSpec(specs[1]!));
      const own = prefixSums(specs[1]!, 0, blob, layer0);
      // The liar's prefix sums: off by one everywhere (disagree) or equal (agree).
      const liar = lie === "agree" ? own : own.map((v) => v + 1);
      const { g } = await playSums(fx, gameId, { total: own[FAN_IN]!, sums: own }, liar);
      expect(g.winner, lie).to.equal(Side.Defender);
      expect(await fx.market.statusOf(id)).to.equal(Status.Submitted);
      expect(await fx.game.balanceOf(fx.provider.address)).to.equal(BOND / 2n);
    }
  });

  it("clocks run in the partial-sum phase; out-of-range sums and moves out of turn are refused", async () => {
    const fx = await networkHelpers.loadFixture(fixture);
    const { gameId, chunk, offset } = await toStep(fx, cheatOutput(0), honest);
    const spec = encodeLayerSpec(specs[1]!);
    await expect(fx.game.connect(fx.provider).openSum(gameId, chunk, offset, spec)).to.be.revertedWithCustomError(
      fx.game,
      "GameNotYourTurn",
    );
    await fx.game.connect(fx.challenger).openSum(gameId, chunk, offset, spec);
    const proof = sumParamsProof(specs[1]!, 0, weights);
    await expect(fx.game.connect(fx.provider).claimSum(gameId, 2n ** 31n, spec, proof))
      .to.be.revertedWithCustomError(fx.game, "GameSumOutOfRange")
      .withArgs(gameId, 2n ** 31n);
    await expect(fx.game.connect(fx.provider).postSum(gameId, 0))
      .to.be.revertedWithCustomError(fx.game, "GameWrongPhase")
      .withArgs(gameId, Phase.SumClaim);
    await fx.game.connect(fx.provider).claimSum(gameId, sumFor(0, Number(cheatOutput(0)[1]!.data[0])), spec, proof);
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

  it("no transaction of the partial-sum phase exceeds 5,000,000 gas", () => {
    expect(Object.keys(gas)).to.include.members(["openSum", "claimSum", "postSum", "pickSum", "proveSumStep"]);
    for (const [name, used] of Object.entries(gas)) expect(used, name).to.be.lessThan(5_000_000n);
  });
});
