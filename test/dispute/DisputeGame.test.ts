import { expect } from "chai";
import { network } from "hardhat";
import type { ContractTransactionResponse } from "ethers";
import type * as Contracts from "../../types/ethers-contracts/index.ts";
import { signers } from "../contracts/helpers.ts";
import { registerMlpModels } from "./mlp-models.ts";
import { findRequestParams } from "../../oracle/chain/request-params.ts";
import { deployGameSuite } from "../../oracle/devnet/deploy-game-suite.ts";
import { encodeTensor } from "../../oracle/model/tensor-codec.ts";
import { encodeInlineInput } from "../../oracle/model/input-envelope.ts";
import type { Tensor } from "../../oracle/model/tensor.ts";
import { executeVqm } from "../../oracle/model/vqm/reference-executor.ts";
import { syntheticInput, syntheticMlp } from "../../oracle/model/vqm/synthetic-vqm.ts";
import { weightsBlob } from "../../oracle/model/vqm/commitments.ts";
import { encodeLayerSpec, layerSpecs, layoutProof } from "../../oracle/dispute/layout.ts";
import {
  chunkBytes,
  differingElement,
  elementBytes,
  firstDifferingLayer,
  nodeChildren,
  stepProof,
  stepSource,
  traceTrees,
} from "../../oracle/dispute/moves.ts";
import type { TraceTrees } from "../../oracle/dispute/moves.ts";

const { ethers, networkHelpers } = await network.create();

const MIN_STAKE = ethers.parseEther("1");
const SLASH = ethers.parseEther("0.5");
const BOND = ethers.parseEther("0.1");
const PRICE = ethers.parseEther("0.01");
const WINDOW = 3600;
const CLOCK = 1800;
const ZERO = ethers.ZeroAddress;
const Status = { Submitted: 3n, Challenged: 4n, Finalized: 5n, Refunded: 6n };
const Phase = { Bisecting: 1n, AwaitChunk: 2n, AwaitStep: 3n, Resolved: 4n };
const Side = { Defender: 1n, Challenger: 2n };

// dense 8 -> 3000 (relu; 3 chunks, tree of height 2), dense 3000 -> 4, argmax: three layers.
const model = syntheticMlp({ seed: 7, sizes: [8, 3000, 4], argmax: true });
const input = syntheticInput(model, 3);
const honest = executeVqm(model, input).trace;
const specs = layerSpecs(model);
const blob = weightsBlob(model);

/** A copy of `trace` with layer `layer`'s element `element` changed, later layers recomputed from it. */
function cheatAt(layer: number, element: number): Tensor[] {
  const trace = honest.map((t) => ({ ...t, data: t.data.slice() }) as Tensor);
  const t = trace[layer]!;
  t.data[element] = t.dtype === "int32" ? (Number(t.data[element]) + 1) % 4 : Number(t.data[element]) === 5 ? 6 : 5;
  if (layer === 0) {
    // Recompute the rest honestly from the cheated layer 0.
    const rest = executeVqm(
      {
        ...model,
        input: { ...model.input, shape: [1, 3000] },
        layers: model.layers.slice(1).map((l) => ({ ...l, input: (l as { input: number }).input - 1 }) as typeof l),
      },
      trace[0]!,
    ).trace;
    trace[1] = rest[0]!;
    trace[2] = rest[1]!;
  }
  return trace;
}

async function fixture() {
  const [admin, treasury, modelOwner, provider, requester, challenger, other] = await signers(ethers);
  const { models, providers, market, game } = await deployGameSuite(ethers, admin, treasury, {
    minStake: MIN_STAKE,
    bond: BOND,
    slash: SLASH,
    clockSec: CLOCK,
  });
  const verifier = (await ethers.deployContract("ProofVerifierStub")) as unknown as Contracts.ProofVerifierStub;
  await registerMlpModels(models, modelOwner, {
    model,
    specs,
    price: PRICE,
    window: WINDOW,
    verifier: await verifier.getAddress(),
  });
  await providers.connect(provider).stake({ value: MIN_STAKE });
  await providers.connect(provider).optIn(1);
  await providers.connect(provider).optIn(2);
  return { admin, treasury, provider, requester, challenger, other, models, providers, market, game, verifier };
}

type Fx = Awaited<ReturnType<typeof fixture>>;
const gas: Record<string, bigint> = {};
async function record(name: string, tx: Promise<ContractTransactionResponse>) {
  const receipt = await (await tx).wait();
  const used = receipt!.gasUsed;
  if ((gas[name] ?? 0n) < used) gas[name] = used;
  return receipt!;
}

const inputBytes = encodeInlineInput(input);

/** The params of request `id` (the market stores only their commitment), read from its event. */
const paramsOf = (fx: Fx, id: bigint | number) => findRequestParams(fx.market, BigInt(id));

async function requestAndSubmit(fx: Fx, trace: Tensor[]): Promise<{ id: bigint; roots: string[] }> {
  const deadline = (await networkHelpers.time.latest()) + 86400;
  await fx.market.connect(fx.requester).requestInference(1, inputBytes, PRICE, deadline, ZERO, 0, { value: PRICE });
  const id = await fx.market.requestCount();
  await fx.market.connect(fx.provider).claim(id);
  const roots = traceTrees(trace).roots;
  await record(
    "submitOptimistic",
    fx.market.connect(fx.provider).submitOptimistic(id, encodeTensor(trace[trace.length - 1]!), roots),
  );
  return { id, roots };
}

async function challenge(fx: Fx, id: bigint, defenderRoots: string[], challengerRoots: string[]) {
  const k = firstDifferingLayer(defenderRoots, challengerRoots)!;
  const params = {
    request: await paramsOf(fx, id),
    input: inputBytes,
    defenderRoots,
    challengerRoots,
    layerSpec: encodeLayerSpec(specs[k]!),
    layoutProof: layoutProof(specs, k),
  };
  await record("challenge", fx.game.connect(fx.challenger).challenge(id, params, { value: BOND }));
  return await fx.game.gameCount();
}

/** Plays game `gameId` to the end from both traces, with the moves of oracle/dispute/moves.ts. */
async function play(
  fx: Fx,
  gameId: bigint,
  defender: TraceTrees,
  challengerTrace: TraceTrees,
  challenger: Fx["challenger"] = fx.challenger,
) {
  const game = fx.game;
  for (let i = 0; i < 100; i++) {
    const g = await game.getGame(gameId);
    const [layer, height, position] = [Number(g.layer), Number(g.height), Number(g.position)];
    if (g.phase === Phase.Resolved) return g;
    if (g.phase === Phase.Bisecting && g.turn === Side.Defender) {
      const [l, r] = nodeChildren(defender, layer, height, position);
      await record("reveal", game.connect(fx.provider).reveal(gameId, l, r));
    } else if (g.phase === Phase.Bisecting) {
      const [l, r] = nodeChildren(challengerTrace, layer, height, position);
      await record("bisect", game.connect(challenger).bisect(gameId, l, r));
    } else if (g.phase === Phase.AwaitChunk) {
      await record("revealChunk", game.connect(fx.provider).revealChunk(gameId, chunkBytes(defender, layer, position)));
    } else {
      const chunk = chunkBytes(defender, layer, position);
      const size = Number(g.elementSize);
      const offset = differingElement(challengerTrace, layer, position, chunk, size) ?? 0;
      const spec = specs[layer]!;
      const element = (position * 1024) / size + offset;
      const source = (ref: number) => stepSource(ref === -1 ? elementBytes(input) : challengerTrace.bytes[ref]!);
      const proof = stepProof(spec, element, stepSource(blob), source(spec.inputA));
      await record(
        "proveStep",
        game.connect(challenger).proveStep(gameId, chunk, offset, encodeLayerSpec(spec), proof),
      );
    }
  }
  throw new Error("game did not end");
}

describe("Optimistic mode and the dispute game", () => {
  after(() => {
    console.log(
      "      gas (largest per call):",
      Object.fromEntries(Object.entries(gas).map(([k, v]) => [k, Number(v)])),
    );
  });

  it("an honest result finalizes after the window and pays provider, owner and treasury", async () => {
    const fx = await networkHelpers.loadFixture(fixture);
    const { id } = await requestAndSubmit(fx, honest);
    expect(await fx.market.statusOf(id)).to.equal(Status.Submitted);
    expect(await fx.market.outputOf(id)).to.equal("0x");
    await expect(fx.market.finalize(id, await paramsOf(fx, id))).to.be.revertedWithCustomError(
      fx.market,
      "MarketWindowOpen",
    );
    await networkHelpers.time.increase(WINDOW);
    await record("finalize", fx.market.connect(fx.other).finalize(id, await paramsOf(fx, id)));
    expect(await fx.market.statusOf(id)).to.equal(Status.Finalized);
    expect(await fx.market.outputOf(id)).to.equal(ethers.hexlify(encodeTensor(honest[2]!)));
    expect(await fx.market.balanceOf(fx.provider.address, ZERO)).to.equal((PRICE * 8750n) / 10000n);
    await expect(fx.market.finalize(id, await paramsOf(fx, id))).to.be.revertedWithCustomError(
      fx.market,
      "MarketWrongStatus",
    );
  });

  it("submitOptimistic refuses roots that do not commit the output, the wrong count and other modes", async () => {
    const fx = await networkHelpers.loadFixture(fixture);
    const deadline = (await networkHelpers.time.latest()) + 86400;
    await fx.market.connect(fx.requester).requestInference(1, inputBytes, PRICE, deadline, ZERO, 0, { value: PRICE });
    await fx.market.connect(fx.provider).claim(1);
    const roots = traceTrees(honest).roots;
    const cheat = traceTrees(cheatAt(2, 0)).roots;
    await expect(fx.market.connect(fx.provider).submitOptimistic(1, encodeTensor(honest[2]!), cheat))
      .to.be.revertedWithCustomError(fx.market, "MarketOutputRootMismatch")
      .withArgs(1n, cheat[2], roots[2]);
    await expect(fx.market.connect(fx.provider).submitOptimistic(1, encodeTensor(honest[2]!), roots.slice(1)))
      .to.be.revertedWithCustomError(fx.market, "MarketLayerCountMismatch")
      .withArgs(1n, 2n, 3n);
    await expect(fx.market.connect(fx.provider).submit(1, await paramsOf(fx, 1), "0x01"))
      .to.be.revertedWithCustomError(fx.market, "MarketWrongMode")
      .withArgs(1n, 2);
    await expect(
      fx.market.connect(fx.other).submitOptimistic(1, encodeTensor(honest[2]!), roots),
    ).to.be.revertedWithCustomError(fx.market, "MarketNotProvider");
  });

  it("a cheat in the last layer: the challenger wins at the one-step, the provider is slashed, the request refunded", async () => {
    const fx = await networkHelpers.loadFixture(fixture);
    const cheat = cheatAt(2, 0);
    const { id, roots } = await requestAndSubmit(fx, cheat);
    const honestTrees = traceTrees(honest);
    const gameId = await challenge(fx, id, roots, honestTrees.roots);
    expect(await fx.market.statusOf(id)).to.equal(Status.Challenged);
    const g = await play(fx, gameId, traceTrees(cheat), honestTrees);
    expect(g.winner).to.equal(Side.Challenger);
    expect(g.layer).to.equal(2n);
    expect(await fx.market.statusOf(id)).to.equal(Status.Refunded);
    expect(await fx.market.balanceOf(fx.requester.address, ZERO)).to.equal(PRICE);
    expect(await fx.providers.stakeOf(fx.provider.address)).to.equal(MIN_STAKE - SLASH);
    expect(await fx.game.balanceOf(fx.challenger.address)).to.equal(BOND + SLASH / 2n);
    expect(await fx.game.balanceOf(fx.treasury.address)).to.equal(SLASH / 2n);
    await expect(fx.market.finalize(id, await paramsOf(fx, id))).to.be.revertedWithCustomError(
      fx.market,
      "MarketWrongStatus",
    );
    const before = await ethers.provider.getBalance(await fx.game.getAddress());
    await fx.game.connect(fx.challenger).withdraw();
    expect(await ethers.provider.getBalance(await fx.game.getAddress())).to.equal(before - BOND - SLASH / 2n);
  });

  it("a cheat in one element of a middle layer: bisection of the 3-chunk layer finds it", async () => {
    const fx = await networkHelpers.loadFixture(fixture);
    const cheat = cheatAt(0, 2500);
    const { id, roots } = await requestAndSubmit(fx, cheat);
    const honestTrees = traceTrees(honest);
    const gameId = await challenge(fx, id, roots, honestTrees.roots);
    const g = await play(fx, gameId, traceTrees(cheat), honestTrees);
    expect([g.winner, g.layer, g.position]).to.deep.equal([Side.Challenger, 0n, 2n]);
    expect(await fx.market.statusOf(id)).to.equal(Status.Refunded);
  });

  it("a false challenge against an honest provider: the challenger loses its bond; the window never moves", async () => {
    const fx = await networkHelpers.loadFixture(fixture);
    const { id, roots } = await requestAndSubmit(fx, honest);
    const lie = traceTrees(cheatAt(0, 1200));
    const windowEnd = await fx.market.windowEndOf(id);
    await networkHelpers.time.increase(WINDOW / 2);
    const gameId = await challenge(fx, id, roots, lie.roots);
    expect(await fx.market.openGamesOf(id)).to.equal(1n);
    await expect(fx.market.finalize(id, await paramsOf(fx, id))).to.be.revertedWithCustomError(
      fx.market,
      "MarketWrongStatus",
    );
    await networkHelpers.time.increase(600);
    const g = await play(fx, gameId, traceTrees(honest), lie);
    expect(g.winner).to.equal(Side.Defender);
    expect(await fx.market.statusOf(id)).to.equal(Status.Submitted);
    expect(await fx.market.openGamesOf(id)).to.equal(0n);
    expect(await fx.game.balanceOf(fx.provider.address)).to.equal(BOND / 2n);
    expect(await fx.game.balanceOf(fx.treasury.address)).to.equal(BOND / 2n);
    expect(await fx.providers.stakeOf(fx.provider.address)).to.equal(MIN_STAKE);
    // The game neither froze nor extended the window: the result finalizes when it ends.
    expect(await fx.market.windowEndOf(id)).to.equal(windowEnd);
    await expect(fx.market.finalize(id, await paramsOf(fx, id))).to.be.revertedWithCustomError(
      fx.market,
      "MarketWindowOpen",
    );
    await networkHelpers.time.increaseTo(windowEnd);
    await fx.market.finalize(id, await paramsOf(fx, id));
    expect(await fx.market.statusOf(id)).to.equal(Status.Finalized);
  });

  it("concurrent games: a second challenger opens its own game while the first plays; one slash, the other game moot", async () => {
    const fx = await networkHelpers.loadFixture(fixture);
    const cheat = cheatAt(0, 2500);
    const { id, roots } = await requestAndSubmit(fx, cheat);
    const honestTrees = traceTrees(honest);
    const first = await challenge(fx, id, roots, honestTrees.roots);
    expect(await fx.market.statusOf(id)).to.equal(Status.Challenged);
    // The second challenger takes a game of its own over the Challenged result.
    const params = {
      request: await paramsOf(fx, id),
      input: inputBytes,
      defenderRoots: roots,
      challengerRoots: honestTrees.roots,
      layerSpec: encodeLayerSpec(specs[0]!),
      layoutProof: layoutProof(specs, 0),
    };
    await expect(fx.game.connect(fx.other).challenge(id, params, { value: BOND }))
      .to.emit(fx.market, "ResultChallenged")
      .withArgs(id, await fx.game.getAddress(), 2n);
    const second = await fx.game.gameCount();
    const started = await fx.game.queryFilter(fx.game.filters.GameStarted(undefined, id));
    expect(started.map((log) => [log.args.gameId, log.args.challenger])).to.deep.equal([
      [first, fx.challenger.address],
      [second, fx.other.address],
    ]);
    const g1 = await play(fx, first, traceTrees(cheat), honestTrees);
    expect(g1.winner).to.equal(Side.Challenger);
    expect(await fx.market.statusOf(id)).to.equal(Status.Refunded);
    expect(await fx.market.openGamesOf(id)).to.equal(1n);
    expect(await fx.providers.stakeOf(fx.provider.address)).to.equal(MIN_STAKE - SLASH);
    // The second game still plays out; the request was already refunded, so it is moot.
    const before = await fx.game.balanceOf(fx.challenger.address);
    await play(fx, second, traceTrees(cheat), honestTrees, fx.other);
    const [resolved] = await fx.game.queryFilter(fx.game.filters.GameResolved(second));
    expect([resolved!.args.winner, resolved!.args.slashed, resolved!.args.moot]).to.deep.equal([
      Side.Challenger,
      0n,
      true,
    ]);
    expect(await fx.game.balanceOf(fx.other.address)).to.equal(BOND);
    expect(await fx.game.balanceOf(fx.challenger.address)).to.equal(before);
    expect(await fx.providers.stakeOf(fx.provider.address)).to.equal(MIN_STAKE - SLASH);
    expect(await fx.market.balanceOf(fx.requester.address, ZERO)).to.equal(PRICE);
    expect(await fx.market.openGamesOf(id)).to.equal(0n);
  });

  it("two false challenges against an honest result: it stays Challenged while either is open, and finalizes after both", async () => {
    const fx = await networkHelpers.loadFixture(fixture);
    const { id, roots } = await requestAndSubmit(fx, honest);
    const windowEnd = await fx.market.windowEndOf(id);
    const lie = traceTrees(cheatAt(0, 1200));
    const g1 = await challenge(fx, id, roots, lie.roots);
    const other = traceTrees(cheatAt(2, 0));
    const params = {
      request: await paramsOf(fx, id),
      input: inputBytes,
      defenderRoots: roots,
      challengerRoots: other.roots,
      layerSpec: encodeLayerSpec(specs[2]!),
      layoutProof: layoutProof(specs, 2),
    };
    await fx.game.connect(fx.other).challenge(id, params, { value: BOND });
    const g2 = await fx.game.gameCount();
    expect(await fx.market.openGamesOf(id)).to.equal(2n);
    // The provider answers the second game (one chunk), whose challenger then falls silent.
    expect((await fx.game.getGame(g2)).phase).to.equal(Phase.AwaitChunk);
    await fx.game.connect(fx.provider).revealChunk(g2, chunkBytes(traceTrees(honest), 2, 0));
    await play(fx, g1, traceTrees(honest), lie);
    expect(await fx.market.statusOf(id)).to.equal(Status.Challenged);
    await networkHelpers.time.increaseTo(windowEnd);
    await expect(fx.market.finalize(id, await paramsOf(fx, id))).to.be.revertedWithCustomError(
      fx.market,
      "MarketWrongStatus",
    );
    await fx.game.connect(fx.provider).claimTimeout(g2);
    expect((await fx.game.getGame(g2)).winner).to.equal(Side.Defender);
    expect(await fx.market.statusOf(id)).to.equal(Status.Submitted);
    expect(BigInt(await networkHelpers.time.latest())).to.be.at.most(windowEnd + 2n * BigInt(CLOCK));
    await fx.market.finalize(id, await paramsOf(fx, id));
    expect(await fx.market.statusOf(id)).to.equal(Status.Finalized);
    expect(await fx.game.balanceOf(fx.provider.address)).to.equal(BOND); // half of each lost bond
  });

  it("each side loses on time: a silent defender, then a silent challenger", async () => {
    const fx = await networkHelpers.loadFixture(fixture);
    const cheat = cheatAt(0, 10);
    const first = await requestAndSubmit(fx, cheat);
    const g1 = await challenge(fx, first.id, first.roots, traceTrees(honest).roots);
    await expect(fx.game.claimTimeout(g1)).to.be.revertedWithCustomError(fx.game, "GameClockRunning");
    await networkHelpers.time.increase(CLOCK + 1);
    await expect(
      fx.game.connect(fx.provider).reveal(g1, ethers.ZeroHash, ethers.ZeroHash),
    ).to.be.revertedWithCustomError(fx.game, "GameClockExpired");
    await record("claimTimeout", fx.game.connect(fx.other).claimTimeout(g1));
    expect((await fx.game.getGame(g1)).winner).to.equal(Side.Challenger);
    expect(await fx.market.statusOf(first.id)).to.equal(Status.Refunded);

    await fx.providers.connect(fx.provider).stake({ value: SLASH }); // back to the minimum after the slash
    const second = await requestAndSubmit(fx, honest);
    const lie = traceTrees(cheat);
    const g2 = await challenge(fx, second.id, second.roots, lie.roots);
    const g = await fx.game.getGame(g2);
    const [l, r] = nodeChildren(traceTrees(honest), Number(g.layer), Number(g.height), 0);
    await expect(fx.game.connect(fx.challenger).bisect(g2, l, r)).to.be.revertedWithCustomError(
      fx.game,
      "GameNotYourTurn",
    );
    await fx.game.connect(fx.provider).reveal(g2, l, r);
    await networkHelpers.time.increase(CLOCK + 1);
    await fx.game.connect(fx.other).claimTimeout(g2);
    expect((await fx.game.getGame(g2)).winner).to.equal(Side.Defender);
    expect(await fx.market.statusOf(second.id)).to.equal(Status.Submitted);
    await expect(fx.game.claimTimeout(g2)).to.be.revertedWithCustomError(fx.game, "GameWrongPhase");
  });

  it("refuses a challenge after the window, with a wrong bond, wrong input or roots, or no disagreement", async () => {
    const fx = await networkHelpers.loadFixture(fixture);
    const { id, roots } = await requestAndSubmit(fx, honest);
    const lie = traceTrees(cheatAt(0, 1)).roots;
    const params = {
      request: await paramsOf(fx, id),
      input: inputBytes,
      defenderRoots: roots,
      challengerRoots: lie,
      layerSpec: encodeLayerSpec(specs[0]!),
      layoutProof: layoutProof(specs, 0),
    };
    expect(await fx.game.requiredBond(id)).to.equal(BOND);
    await expect(fx.game.challenge(id, params, { value: BOND - 1n })).to.be.revertedWithCustomError(
      fx.game,
      "GameWrongBond",
    );
    await expect(fx.game.challenge(id, { ...params, input: "0x0001" }, { value: BOND })).to.be.revertedWithCustomError(
      fx.game,
      "GameInputMismatch",
    );
    await expect(
      fx.game.challenge(id, { ...params, defenderRoots: lie }, { value: BOND }),
    ).to.be.revertedWithCustomError(fx.game, "GameRootsMismatch");
    await expect(
      fx.game.challenge(id, { ...params, challengerRoots: roots }, { value: BOND }),
    ).to.be.revertedWithCustomError(fx.game, "GameNoDisagreement");
    await expect(
      fx.game.challenge(id, { ...params, layerSpec: encodeLayerSpec(specs[1]!) }, { value: BOND }),
    ).to.be.revertedWithCustomError(fx.game, "GameLayoutProofInvalid");
    await networkHelpers.time.increase(WINDOW);
    await expect(fx.game.challenge(id, params, { value: BOND })).to.be.revertedWithCustomError(
      fx.market,
      "MarketWindowClosed",
    );
    expect(await fx.market.statusOf(id)).to.equal(Status.Submitted);
  });

  it("only the dispute game may open or resolve a challenge, and the game is set once", async () => {
    const fx = await networkHelpers.loadFixture(fixture);
    const { id } = await requestAndSubmit(fx, honest);
    await expect(fx.market.connect(fx.other).openChallenge(id, await paramsOf(fx, id)))
      .to.be.revertedWithCustomError(fx.market, "MarketNotDisputeGame")
      .withArgs(fx.other.address);
    await expect(fx.market.connect(fx.provider).resolveChallenge(id, false)).to.be.revertedWithCustomError(
      fx.market,
      "MarketNotDisputeGame",
    );
    await expect(fx.market.setDisputeGame(fx.other.address)).to.be.revertedWithCustomError(
      fx.market,
      "MarketDisputeGameAlreadySet",
    );
    await expect(fx.game.connect(fx.other).reveal(1, ethers.ZeroHash, ethers.ZeroHash)).to.be.revertedWithCustomError(
      fx.game,
      "GameUnknown",
    );
  });

  it("Zk: a proof the verifier accepts settles at once; a rejected proof or wrong input changes nothing", async () => {
    const fx = await networkHelpers.loadFixture(fixture);
    const deadline = (await networkHelpers.time.latest()) + 86400;
    await fx.market.connect(fx.requester).requestInference(2, inputBytes, PRICE, deadline, ZERO, 0, { value: PRICE });
    await fx.market.connect(fx.provider).claim(1);
    const output = encodeTensor(honest[2]!);
    await expect(fx.market.connect(fx.provider).submitWithProof(1, await paramsOf(fx, 1), inputBytes, output, "0x1234"))
      .to.be.revertedWithCustomError(fx.market, "MarketProofInvalid")
      .withArgs(1n);
    await fx.verifier.setAnswer(true);
    await expect(
      fx.market.connect(fx.provider).submitWithProof(1, await paramsOf(fx, 1), "0x0001", output, "0x1234"),
    ).to.be.revertedWithCustomError(fx.market, "MarketInputMismatch");
    await expect(fx.market.connect(fx.provider).submit(1, await paramsOf(fx, 1), output)).to.be.revertedWithCustomError(
      fx.market,
      "MarketWrongMode",
    );
    expect(await fx.market.statusOf(1)).to.equal(2n);
    await record(
      "submitWithProof",
      fx.market.connect(fx.provider).submitWithProof(1, await paramsOf(fx, 1), inputBytes, output, "0x1234"),
    );
    expect(await fx.market.statusOf(1)).to.equal(Status.Finalized);
    expect(await fx.market.outputOf(1)).to.equal(ethers.hexlify(output));
    await expect(
      fx.market.connect(fx.provider).submitWithProof(1, await paramsOf(fx, 1), inputBytes, output, "0x1234"),
    ).to.be.revertedWithCustomError(fx.market, "MarketWrongStatus");
  });

  it("no transaction of a game exceeds 5,000,000 gas", () => {
    for (const [name, used] of Object.entries(gas)) expect(used, name).to.be.lessThan(5_000_000n);
  });
});
