/**
 * Regression tests of issue 8: each attack on Optimistic results that worked against the
 * contracts of commit 7b30e22, replayed on an in-process chain against the real contracts
 * (deployed by `deployGameSuite`, as `verity deploy` does). Each test fails if the fix of its
 * attack is reverted; docs/security.md cites them by title.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { hexlify, keccak256, toUtf8Bytes } from "ethers";
import type { ContractTransactionReceipt, ContractTransactionResponse, Interface } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type * as Contracts from "../../types/ethers-contracts/index.ts";
import { findRequestParams } from "../../oracle/chain/request-params.ts";
import { deployGameSuite } from "../../oracle/devnet/deploy-game-suite.ts";
import { GasLog } from "../../oracle/devnet/gas-log.ts";
import { layerKit, type LayerKit } from "../../oracle/dispute/layer-kit.ts";
import { challengeParams, openGame, startedGame } from "../../oracle/devnet/open-game.ts";
import { playGame, type Player } from "../../oracle/devnet/play-game.ts";
import { registerOptimistic, type RegisteredModel } from "../../oracle/devnet/register-optimistic.ts";
import { encodeContentInput } from "../../oracle/model/input-envelope.ts";
import { encodeTensor } from "../../oracle/model/tensor-codec.ts";
import type { Tensor } from "../../oracle/model/tensor.ts";
import { executeVqm } from "../../oracle/model/vqm/reference-executor.ts";
import type { VqmModel } from "../../oracle/model/vqm/vqm-model.ts";
import { stepChunks, stepSource, traceTrees } from "../../oracle/dispute/moves.ts";
import type { TraceTrees } from "../../oracle/dispute/moves.ts";
import {
  Dtype,
  featureMapLayers,
  inlineInput,
  int8Tensor,
  noise,
  Phase,
  Side,
  Status,
  traceBytes,
} from "./attack-helpers.ts";

const { ethers, networkHelpers } = await network.create();
const { time } = networkHelpers;

const MIN_STAKE = ethers.parseEther("1");
const SLASH = ethers.parseEther("0.5");
const BOND = ethers.parseEther("0.1");
const PRICE = ethers.parseEther("0.01");
const WINDOW = 3600;
const CLOCK = 1800;
const ZERO = ethers.ZeroAddress;
const DAY = 86400;
/** Both rewards are the devnet profile's 50 %. */
const REWARD_BPS = 5000n;

/** int8 [1, 4] → int8 [1, 4], the identity (a reshape): its one-layer trace is its output. */
const identity: VqmModel = {
  format: "vqm/1",
  name: "identity-4",
  input: { shape: [1, 4], scale: 1 },
  layers: [{ kind: "reshape", input: -1, shape: [1, 4] }],
  outputScale: 1,
};
/** The input and honest output: elements 7f 7f ed 3a (int8 127, 127, -19, 58). */
const X = int8Tensor([1, 4], (i) => [127, 127, -19, 58][i]!);
const INPUT = inlineInput(X);
/** A wrong output of the identity on X. */
const WRONG = int8Tensor([1, 4], (i) => [127, 127, -19, 59][i]!);

async function fixture() {
  const [admin, treasury, owner, provider, requester, watcher, sock, griefer, keeper, watcher2, provider2, provider3] =
    await ethers.getSigners();
  const suite = await deployGameSuite(ethers, admin!, treasury!, {
    minStake: MIN_STAKE,
    bond: BOND,
    slash: SLASH,
    clockSec: CLOCK,
  });
  const { models, providers } = suite;
  // Model 1: Optimistic identity; 2: the same tensors Attested; 3: the same tensors Zk.
  const id4 = await registerOptimistic(models.connect(owner!), {
    model: identity,
    price: PRICE,
    window: WINDOW,
    royaltyBps: 1000,
  });
  const verifier = (await ethers.deployContract("ProofVerifierStub")) as unknown as Contracts.ProofVerifierStub;
  const plain = {
    modelHash: keccak256(toUtf8Bytes("plain")),
    contentId: "bafy-plain",
    feeToken: ZERO,
    price: PRICE,
    royaltyBps: 1000,
    inputShape: [1, 4],
    outputShape: [1, 4],
    inputDtype: Dtype.int8,
    outputDtype: Dtype.int8,
    verifier: ZERO,
    weightsRoot: ethers.ZeroHash,
    layoutRoot: ethers.ZeroHash,
    layerCount: 0,
    challengeWindow: 0,
  };
  await models.connect(owner!).register({ ...plain, mode: 0 });
  await models.connect(owner!).register({ ...plain, mode: 1, verifier: await verifier.getAddress() });
  await providers.connect(provider!).stake({ value: 3n * MIN_STAKE });
  for (const m of [1, 2, 3]) await providers.connect(provider!).optIn(m);
  return {
    ...suite,
    id4,
    verifier,
    admin: admin!,
    treasury: treasury!,
    owner: owner!,
    provider: provider!,
    requester: requester!,
    watcher: watcher!,
    sock: sock!,
    griefer: griefer!,
    keeper: keeper!,
    watcher2: watcher2!,
    provider2: provider2!,
    provider3: provider3!,
  };
}
type Fx = Awaited<ReturnType<typeof fixture>>;

const gas = new GasLog();

async function request(fx: Fx, modelId: bigint | number, input: string, deadlineIn = DAY): Promise<bigint> {
  const deadline = (await time.latest()) + deadlineIn;
  await fx.market.connect(fx.requester).requestInference(modelId, input, PRICE, deadline, ZERO, 0, { value: PRICE });
  return await fx.market.requestCount();
}

/** The params of request `id` (the market stores only their commitment), read from its event. */
const paramsOf = (fx: Fx, id: bigint | number) => findRequestParams(fx.market, BigInt(id));

/** Request, claim and submit `output` for the identity model; returns the id and the submitted roots. */
async function submitted(fx: Fx, output: Tensor, provider = fx.provider) {
  const id = await request(fx, fx.id4.modelId, INPUT);
  await fx.market.connect(provider).claim(id);
  const trees = traceTrees([output]);
  await fx.market.connect(provider).submitOptimistic(id, encodeTensor(output), trees.roots);
  return { id, trees, windowEnd: Number(await fx.market.windowEndOf(id)) };
}

/** Opens a game on the identity model's request `id` with `challengerRoots`; returns its id. */
async function challenge(
  fx: Fx,
  who: HardhatEthersSigner,
  id: bigint,
  defenderRoots: string[],
  challengerRoots: string[],
) {
  const params = challengeParams(fx.id4, await paramsOf(fx, id), INPUT, defenderRoots, challengerRoots);
  return openGame(fx.game, { challenger: who, requestId: id, params, bond: BOND, gas });
}

const randomRoots = (seed: string) => [keccak256(toUtf8Bytes(seed))];

/** Sends every transaction of `sends` into one block (automine off; explicit gas limits). */
async function oneBlock(sends: (() => Promise<ContractTransactionResponse>)[]): Promise<ContractTransactionReceipt[]> {
  await ethers.provider.send("evm_setAutomine", [false]);
  const txs: ContractTransactionResponse[] = [];
  try {
    for (const send of sends) txs.push(await send());
    await networkHelpers.mine();
  } finally {
    await ethers.provider.send("evm_setAutomine", [true]);
  }
  const receipts = await Promise.all(txs.map(async (tx) => (await tx.wait())!));
  expect(new Set(receipts.map((r) => r.blockNumber)).size, "one block").to.equal(1);
  return receipts;
}

/** The identity model's game players: `trees` of the output each side holds. */
function identityPlay(fx: Fx, gameId: bigint, defender: Player, challenger: Player) {
  return playGame(fx.game, {
    gameId,
    model: fx.id4,
    input: traceBytes([X])[0]!,
    trace: [],
    defender,
    challenger,
    step: "whole",
    keeper: fx.keeper,
    increaseTime: (s) => time.increase(s),
    gas,
  });
}

describe("attacks on Optimistic results (issue 8)", () => {
  after(() => {
    const rows = [...gas.max.entries()].map(([name, used]) => ({ move: name, "largest gas": Number(used) }));
    console.log("      gas of the attack games (largest per move):");
    console.table(rows);
  });

  it("attack 1, forged output header: a relabelled output is refused at submission", async () => {
    const fx = await networkHelpers.loadFixture(fixture);
    const honest = hexlify(encodeTensor(X));
    // The same element bytes under the header of a uint8 [2, 2] tensor: same length, same roots.
    const relabelled = "0x" + "010502" + "00000002" + "00000002" + "7f7fed3a";
    expect(honest).to.equal("0x" + "010102" + "00000001" + "00000004" + "7f7fed3a");
    expect(ethers.dataLength(relabelled)).to.equal(ethers.dataLength(honest));
    // What a consumer would read: argmax 0 as int8, 2 as uint8.
    const argmax = (values: number[]) => values.indexOf(Math.max(...values));
    expect([argmax([127, 127, -19, 58]), argmax([127, 127, 237, 58])]).to.deep.equal([0, 2]);

    const id = await request(fx, fx.id4.modelId, INPUT);
    await fx.market.connect(fx.provider).claim(id);
    const roots = traceTrees([X]).roots; // the roots commit the element bytes only: both outputs match them
    await expect(fx.market.connect(fx.provider).submitOptimistic(id, relabelled, roots))
      .to.be.revertedWithCustomError(fx.market, "MarketOutputMalformed")
      .withArgs(id, 15, 15);
    await expect(fx.market.connect(fx.provider).submitOptimistic(id, honest + "00", roots))
      .to.be.revertedWithCustomError(fx.market, "MarketOutputMalformed")
      .withArgs(id, 16, 15);
    await fx.market.connect(fx.provider).submitOptimistic(id, honest, roots);
    await time.increase(WINDOW);
    await fx.market.finalize(id, await paramsOf(fx, id));
    expect(await fx.market.outputOf(id)).to.equal(honest);

    // Attested and Zk submissions are held to the registered output format too.
    const attested = await request(fx, 2, INPUT);
    await fx.market.connect(fx.provider).claim(attested);
    const attestedParams = await paramsOf(fx, attested);
    await expect(fx.market.connect(fx.provider).submit(attested, attestedParams, relabelled))
      .to.be.revertedWithCustomError(fx.market, "MarketOutputMalformed")
      .withArgs(attested, 15, 15);
    await fx.market.connect(fx.provider).submit(attested, attestedParams, honest);
    expect(await fx.market.outputOf(attested)).to.equal(honest);

    const zk = await request(fx, 3, INPUT);
    await fx.market.connect(fx.provider).claim(zk);
    await fx.verifier.setAnswer(true); // a verifier that accepts anything: the format check alone refuses
    const zkParams = await paramsOf(fx, zk);
    await expect(fx.market.connect(fx.provider).submitWithProof(zk, zkParams, INPUT, relabelled, "0x"))
      .to.be.revertedWithCustomError(fx.market, "MarketOutputMalformed")
      .withArgs(zk, 15, 15);
    await fx.market.connect(fx.provider).submitWithProof(zk, zkParams, INPUT, honest, "0x");
    expect(await fx.market.outputOf(zk)).to.equal(honest);
  });

  it("attack 2, malformed inline input: refused at request for every mode a proof or game reads", async () => {
    const fx = await networkHelpers.loadFixture(fixture);
    const elements = "7f7fed3a";
    const malformed: [string, string, number][] = [
      ["0x000101 (two bytes, no tensor)", "0x000101", 2],
      ["rank byte 9", "0x00" + "010109" + "00000001" + "00000004" + elements, 15],
      ["shape [4, 1]", "0x00" + "010102" + "00000004" + "00000001" + elements, 15],
      ["shape [1, 5]", "0x00" + "010102" + "00000001" + "00000005" + elements + "00", 16],
      ["dtype uint8", "0x00" + "010502" + "00000001" + "00000004" + elements, 15],
      ["format version 2", "0x00" + "020102" + "00000001" + "00000004" + elements, 15],
      ["a trailing byte", INPUT + "00", 16],
      ["a missing byte", INPUT.slice(0, -2), 14],
      ["the envelope byte alone", "0x00", 0],
    ];
    const deadline = (await time.latest()) + DAY;
    const ask = (modelId: bigint | number, input: string) =>
      fx.market.connect(fx.requester).requestInference(modelId, input, PRICE, deadline, ZERO, 0, { value: PRICE });
    for (const modelId of [fx.id4.modelId, 3n]) {
      for (const [what, input, length] of malformed) {
        await expect(ask(modelId, input), `${what}, model ${modelId}`)
          .to.be.revertedWithCustomError(fx.market, "MarketInputMalformed")
          .withArgs(modelId, length, 15);
      }
      // A content id (which no proof or step can open) and a bare tensor without its envelope.
      await expect(
        ask(modelId, hexlify(encodeContentInput("bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi"))),
      )
        .to.be.revertedWithCustomError(fx.market, "MarketInputNotInline")
        .withArgs(modelId);
      await expect(ask(modelId, hexlify(encodeTensor(X))))
        .to.be.revertedWithCustomError(fx.market, "MarketInputNotInline")
        .withArgs(modelId);
      await ask(modelId, INPUT);
    }
    expect(await fx.market.requestCount()).to.equal(2n);
    // Attested inputs stay unchecked (nothing on-chain reads them).
    await ask(2, "0x000101");

    // Every input the market accepts is one the game reads: a challenge reaching the model input
    // (layer 0 reads it) is played to the end and the cheat loses.
    const { id, trees } = await submitted(fx, WRONG);
    const gameId = await challenge(fx, fx.watcher, id, trees.roots, traceTrees([X]).roots);
    expect((await fx.game.getGame(gameId)).rootA).to.equal(traceTrees([X]).roots[0]);
    const { view } = await identityPlay(
      fx,
      gameId,
      { signer: fx.provider, trees },
      { signer: fx.watcher, trees: traceTrees([X]) },
    );
    expect(view.winner).to.equal(Side.Challenger);
    expect(await fx.market.statusOf(id)).to.equal(Status.Refunded);
  });

  it("attack 3, layers the game cannot settle: an argmax row longer than one step and a 208x208 pool are disputed to the end", async () => {
    const fx = await networkHelpers.loadFixture(fixture);
    const ceiling = await fx.game.MOVE_GAS_CEILING();
    const games = new GasLog();

    /** Registers `model`, submits the cheat trace, lets the honest watcher challenge and play. */
    async function dispute(
      model: VqmModel,
      input: Tensor,
      cheat: Tensor[],
      step: "whole" | "sum",
      /**
       * The cheater posts the reduction states of the disputed layer over these agreed tensors
       * (the model input, then the layers before it) instead of the real ones.
       */
      forged?: Tensor[],
      beforePlay?: (reg: RegisteredModel, gameId: bigint, kit: LayerKit, defender: TraceTrees) => Promise<void>,
    ) {
      const reg = await registerOptimistic(fx.models.connect(fx.owner), {
        model,
        price: PRICE,
        window: WINDOW,
        royaltyBps: 1000,
      });
      await fx.providers.connect(fx.provider).optIn(reg.modelId);
      const honest = executeVqm(model, input).trace;
      const inputBytes = traceBytes([input])[0]!;
      const bytes = traceBytes(honest);
      const envelope = inlineInput(input);
      const deadline = (await time.latest()) + DAY;
      await fx.market
        .connect(fx.requester)
        .requestInference(reg.modelId, envelope, PRICE, deadline, ZERO, 0, { value: PRICE });
      const id = await fx.market.requestCount();
      await fx.market.connect(fx.provider).claim(id);
      const defender = traceTrees(cheat);
      const challenger = traceTrees(honest);
      await fx.market.connect(fx.provider).submitOptimistic(id, encodeTensor(cheat[cheat.length - 1]!), defender.roots);
      const gameId = await openGame(fx.game, {
        challenger: fx.watcher,
        requestId: id,
        params: challengeParams(reg, await paramsOf(fx, id), envelope, defender.roots, challenger.roots),
        bond: BOND,
        gas: games,
      });
      const layer = Number((await fx.game.getGame(gameId)).layer);
      if (beforePlay) await beforePlay(reg, gameId, layerKit(reg, layer, inputBytes, bytes), defender);
      const stakeBefore = await fx.providers.stakeOf(fx.provider.address);
      const result = await playGame(fx.game, {
        gameId,
        model: reg,
        input: inputBytes,
        trace: bytes,
        defender: {
          signer: fx.provider,
          trees: defender,
          states: forged && layerKit(reg, layer, traceBytes(forged)[0]!, traceBytes(forged.slice(1))).states,
        },
        challenger: { signer: fx.watcher, trees: challenger },
        step,
        keeper: fx.keeper,
        increaseTime: (s) => time.increase(s),
        gas: games,
      });
      expect(result.view.winner, model.name).to.equal(Side.Challenger);
      expect(await fx.market.statusOf(id)).to.equal(Status.Refunded);
      expect(stakeBefore - (await fx.providers.stakeOf(fx.provider.address))).to.equal(SLASH);
      return result;
    }

    // An argmax row of 20,000 elements (one step takes at most 16,384): the first maximum is at
    // 15,000 (the row is at most 100 elsewhere); the provider claims 12,000 and posts the
    // states of a row where element 12,000 is 127.
    const F = 20000;
    const row = int8Tensor([1, F], (i) => (i === 15000 ? 120 : ((noise(i, 5) + 128) % 229) - 128));
    const argmaxModel: VqmModel = {
      format: "vqm/1",
      name: "argmax-20000",
      input: { shape: [1, F], scale: 1 },
      layers: [{ kind: "argmax", input: -1 }],
    };
    const forged = int8Tensor([1, F], (i) => (i === 12000 ? 127 : (row.data as Int8Array)[i]!));
    const argmaxCheat: Tensor[] = [{ dtype: "int32", shape: [1], data: Int32Array.of(12000) }];
    const a = await dispute(argmaxModel, row, argmaxCheat, "sum", [forged], async (_reg, gameId, kit, defender) => {
      const chunk = defender.bytes[0]!; // int32 LE 12000
      await games.record("revealChunk", fx.game.connect(fx.provider).revealChunk(gameId, chunk), "defender");
      await expect(fx.game.connect(fx.watcher).proveStep(gameId, chunk, 0, kit.encoded, kit.whole(0)))
        .to.be.revertedWithCustomError(fx.prover, "StepUnsupported")
        .withArgs(6, F);
    });
    expect(a.sumRounds).to.equal(2);

    // A global 208x208 maxpool (43,264 window elements, 43 chunks) over an internal feature map
    // (the chain bounds the model input at 32,768 bytes): a dense layer from 16 inputs, reshaped
    // to [1, 1, 208, 208]. The map needs exact values (a maximum of 110, the rest at most 100):
    // the dense weights are 0 and its bias is the map. The provider claims a maximum of 90 and
    // posts running maxima capped at 90.
    const map = (i: number) => (i === 150 * 208 + 77 ? 110 : ((noise(i, 7) + 128) % 229) - 128);
    const poolInput = int8Tensor([1, 16], (i) => noise(i, 6));
    const poolModel: VqmModel = {
      format: "vqm/1",
      name: "maxpool-208",
      input: { shape: [1, 16], scale: 1 },
      layers: [
        ...featureMapLayers({ shape: [1, 1, 208, 208], values: map }),
        { kind: "maxpool2d", input: 1, kernel: [208, 208], stride: [1, 1] },
      ],
      outputScale: 1,
    };
    const poolHonest = executeVqm(poolModel, poolInput).trace;
    expect(
      (poolHonest[1]!.data as Int8Array).every((v, i) => v === map(i)),
      "the map is the bias",
    ).to.equal(true);
    const poolCheat: Tensor[] = [poolHonest[0]!, poolHonest[1]!, int8Tensor([1, 1, 1, 1], () => 90)];
    const capped = (shape: number[]) => int8Tensor(shape, (i) => Math.min(map(i), 90));
    const b = await dispute(
      poolModel,
      poolInput,
      poolCheat,
      "sum",
      [poolInput, capped([1, 208 * 208]), capped([1, 1, 208, 208])],
      async (_reg, gameId, kit, defender) => {
        expect((await fx.game.getGame(gameId)).layer).to.equal(2n);
        const chunk = defender.bytes[2]!; // int8 90
        await games.record("revealChunk", fx.game.connect(fx.provider).revealChunk(gameId, chunk), "defender");
        await expect(fx.game.connect(fx.watcher).proveStep(gameId, chunk, 0, kit.encoded, kit.whole(0)))
          .to.be.revertedWithCustomError(fx.prover, "StepUnsupported")
          .withArgs(4, 208 * 208);
      },
    );
    expect(b.sumRounds).to.equal(5);

    // A 2x2 pool over rows of 30,000 (a feature map of a dense layer from 16 inputs, reshaped):
    // the window's two rows are 30,000 bytes apart, so the whole element reads two chunks (one
    // per row), never the 30 chunks between them.
    const W = 30000;
    const wideInput = int8Tensor([1, 16], (i) => noise(i, 9));
    const wideModel: VqmModel = {
      format: "vqm/1",
      name: "maxpool-2x2-wide",
      input: { shape: [1, 16], scale: 1 },
      layers: [
        ...featureMapLayers({ shape: [1, 1, 2, W], seed: 9 }),
        { kind: "maxpool2d", input: 1, kernel: [2, 2], stride: [2, 2] },
        { kind: "maxpool2d", input: 2, kernel: [1, W / 2], stride: [1, 1] },
      ],
      outputScale: 1,
    };
    const wideCheat = executeVqm(wideModel, wideInput, {
      onLayer: (i, t) => {
        if (i !== 2) return t;
        const data = Int8Array.from(t.data as Int8Array);
        data[7777] = data[7777] === -128 ? -127 : -128;
        return { ...t, data };
      },
    }).trace;
    const c = await dispute(wideModel, wideInput, wideCheat, "whole", undefined, async (reg, gameId) => {
      expect((await fx.game.getGame(gameId)).layer).to.equal(2n);
      const spec = reg.specs[2]!;
      expect(spec.params.slice(5)).to.deep.equal([2, 2, 2, 2]);
      const map = traceBytes(executeVqm(wideModel, wideInput).trace)[1]!;
      const chunks = stepChunks(spec, 7777, reg.blob, stepSource(map));
      expect(
        chunks.map((c) => c.index),
        "one chunk per window row",
      ).to.deep.equal([15, 44]);
    });
    expect(c.rounds).to.equal(4);

    console.log("      attack 3 games, gas per move (largest):");
    console.table([...games.max.entries()].map(([move, used]) => ({ move, gas: Number(used) })));
    for (const { name, gas: used } of games.all) expect(used, name).to.be.lessThan(ceiling);
    for (const [name, used] of games.max) gas.note(name, used);
  });

  it("attack 4, result held hostage: an honest watcher opens its own game while others play, and an honest result finalizes by window + 2 clocks", async () => {
    // (a) A wrong result: the provider's sock puppet challenges it and loses on purpose, a
    // griefer keeps a game open by claiming the timeout and challenging again in one block.
    let fx = await networkHelpers.loadFixture(fixture);
    const { id, trees, windowEnd } = await submitted(fx, WRONG);
    const truth = traceTrees([X]);
    const sockGame = await challenge(fx, fx.sock, id, trees.roots, randomRoots("sock"));
    const g1 = await challenge(fx, fx.griefer, id, trees.roots, randomRoots("grief 1"));
    // The provider reveals at once in both games; the sock puppet and the griefer stall.
    await fx.game.connect(fx.provider).revealChunk(sockGame, trees.bytes[0]!);
    await fx.game.connect(fx.provider).revealChunk(g1, trees.bytes[0]!);
    await time.increase(CLOCK);
    // One block: the sock puppet's game is lost by its challenger, the griefer's game times out
    // and the griefer opens the next one, and the honest watcher (last in the block) opens its own.
    const gasLimit = 3_000_000;
    const request = await paramsOf(fx, id);
    const params = (seed: string) => challengeParams(fx.id4, request, INPUT, trees.roots, randomRoots(seed));
    const receipts = await oneBlock([
      () => fx.game.connect(fx.keeper).claimTimeout(sockGame, { gasLimit }),
      () => fx.game.connect(fx.griefer).claimTimeout(g1, { gasLimit }),
      () => fx.game.connect(fx.griefer).challenge(id, params("grief 2"), { value: BOND, gasLimit }),
      () =>
        fx.game
          .connect(fx.watcher)
          .challenge(id, challengeParams(fx.id4, request, INPUT, trees.roots, truth.roots), { value: BOND, gasLimit }),
    ]);
    expect(receipts.map((r) => r.status)).to.deep.equal([1, 1, 1, 1]);
    const g2 = startedGame(fx.game, receipts[2]!);
    const watcherGame = startedGame(fx.game, receipts[3]!);
    expect((await fx.game.getGame(sockGame)).winner).to.equal(Side.Defender);
    expect(await fx.market.openGamesOf(id)).to.equal(2n);
    // A second honest watcher at the last second of the window, with the others still open.
    await time.setNextBlockTimestamp(windowEnd - 1);
    const late = await challenge(fx, fx.watcher2, id, trees.roots, truth.roots);
    expect(await fx.market.openGamesOf(id)).to.equal(3n);
    // The window closes on time: no game opens at windowEnd, however many are open.
    await time.setNextBlockTimestamp(windowEnd);
    await expect(fx.game.connect(fx.griefer).challenge(id, params("grief 3"), { value: BOND, gasLimit }))
      .to.be.revertedWithCustomError(fx.market, "MarketWindowClosed")
      .withArgs(id, windowEnd);
    // The first watcher plays its game to the end and wins, whatever the provider does.
    const { view } = await identityPlay(
      fx,
      watcherGame,
      { signer: fx.provider, trees, pace: { stopAfter: 0 } },
      { signer: fx.watcher, trees: truth },
    );
    expect(view.winner).to.equal(Side.Challenger);
    expect(await fx.market.statusOf(id)).to.equal(Status.Refunded);
    expect(await time.latest()).to.be.at.most(windowEnd + 2 * CLOCK);
    expect(await fx.market.balanceOf(fx.requester.address, ZERO)).to.equal(PRICE);
    expect(await fx.game.balanceOf(fx.watcher.address)).to.equal(BOND + (SLASH * REWARD_BPS) / 10000n);
    // The games still open are moot: whoever wins them, each challenger gets its bond back.
    await time.increase(2 * CLOCK);
    for (const gameId of [g2, late]) {
      await expect(fx.game.connect(fx.keeper).claimTimeout(gameId))
        .to.emit(fx.game, "GameResolved")
        .withArgs(gameId, id, Side.Challenger, 0, true);
    }
    expect(await fx.game.balanceOf(fx.watcher2.address)).to.equal(BOND);
    expect(await fx.game.bondsHeld()).to.equal(0n);
    expect(await fx.providers.stakeOf(fx.provider.address)).to.equal(3n * MIN_STAKE - SLASH);

    // (b) An honest result against N griefing games (the provider's own sock puppet among the
    // griefers): each griefer stalls, and when its game times out claims the timeout and opens
    // the next one in the same block while the window is open; the last game is opened in the
    // window's last second and the honest provider answers it at the last second of its clock.
    // The result finalizes by windowEnd + 2 clocks, whatever N.
    for (const n of [1, 6]) {
      fx = await networkHelpers.loadFixture(fixture);
      const honest = await submitted(fx, X);
      const request = await paramsOf(fx, honest.id);
      const roots = honest.trees.roots;
      const chunk = honest.trees.bytes[0]!;
      const griefers = [fx.sock, fx.griefer, fx.watcher2, fx.requester, fx.keeper, fx.owner];
      let played = 0;
      const open = async (who: HardhatEthersSigner, seed: string) => {
        played++;
        return { who, id: await challenge(fx, who, honest.id, roots, randomRoots(seed)) };
      };
      const reveal = (gameId: bigint) => fx.game.connect(fx.provider).revealChunk(gameId, chunk);
      const dueAt = async (gameId: bigint) => Number((await fx.game.getGame(gameId)).lastMoveAt) + CLOCK;
      const at = async (t: number) => {
        if ((await time.latest()) < t) await time.setNextBlockTimestamp(t);
      };
      // First round: n - 1 games, answered at once.
      let round: { who: HardhatEthersSigner; id: bigint }[] = [];
      for (let k = 0; k + 1 < n; k++) round.push(await open(griefers[k]!, `grief ${n}.${k}`));
      for (const g of round) await reveal(g.id);
      // Second round: each times out, its griefer claims the timeout and challenges again in one block.
      const next: typeof round = [];
      for (const g of round) {
        await at(await dueAt(g.id));
        const gasLimit = 3_000_000;
        const [, opened] = await oneBlock([
          () => fx.game.connect(g.who).claimTimeout(g.id, { gasLimit }),
          () =>
            fx.game
              .connect(g.who)
              .challenge(honest.id, challengeParams(fx.id4, request, INPUT, roots, randomRoots(`again ${g.id}`)), {
                value: BOND,
                gasLimit,
              }),
        ]);
        played++;
        next.push({ who: g.who, id: startedGame(fx.game, opened!) });
      }
      for (const g of next) await reveal(g.id);
      // The last game, in the window's last second.
      await time.setNextBlockTimestamp(honest.windowEnd - 1);
      const last = await open(griefers[n - 1]!, `last ${n}`);
      round = next;
      for (const g of round) {
        await at(await dueAt(g.id));
        await fx.game.connect(fx.keeper).claimTimeout(g.id);
      }
      await time.setNextBlockTimestamp(honest.windowEnd - 1 + CLOCK - 1);
      await reveal(last.id);
      await expect(fx.market.finalize(honest.id, request)).to.be.revertedWithCustomError(
        fx.market,
        "MarketWrongStatus",
      );
      await at(await dueAt(last.id));
      await fx.game.connect(fx.keeper).claimTimeout(last.id);
      await fx.market.connect(fx.keeper).finalize(honest.id, request);
      const finalizedAt = await time.latest();
      expect(finalizedAt, `${n} griefers`).to.be.at.most(honest.windowEnd + 2 * CLOCK + 1);
      expect(await fx.market.statusOf(honest.id)).to.equal(Status.Finalized);
      expect(await fx.game.gameCount()).to.equal(BigInt(played));
      expect(await fx.providers.stakeOf(fx.provider.address)).to.equal(3n * MIN_STAKE);
      expect(await fx.providers.reservedOf(fx.provider.address)).to.equal(0n);
      expect(await fx.game.balanceOf(fx.provider.address)).to.equal((BigInt(played) * BOND * REWARD_BPS) / 10000n);
      console.log(
        `      ${n} griefer(s), ${played} games: finalized ${finalizedAt - honest.windowEnd} s after the window`,
      );
    }
  });

  it("attack 5, stake gone before the slash: reserved stake cannot be unbonded, and each wrong result is backed by its own slash", async () => {
    const fx = await networkHelpers.loadFixture(fixture);
    const p = fx.provider2;
    await fx.providers.connect(p).stake({ value: MIN_STAKE });
    await fx.providers.connect(p).optIn(fx.id4.modelId);
    const claimedAt = (await time.latest()) + 1;
    const id = await request(fx, fx.id4.modelId, INPUT, 30 * DAY);
    const deadline = Number((await fx.market.getRequest(id)).deadline);
    await fx.market.connect(p).claim(id);
    expect(await fx.providers.reservedOf(p.address)).to.equal(SLASH);
    await expect(fx.providers.connect(p).requestUnbond(MIN_STAKE))
      .to.be.revertedWithCustomError(fx.providers, "ProviderInsufficientFreeStake")
      .withArgs(p.address, MIN_STAKE - SLASH, MIN_STAKE);
    await fx.providers.connect(p).requestUnbond(MIN_STAKE - SLASH); // the free part may leave
    await time.increase(7 * DAY);
    await fx.providers.connect(p).withdrawUnbonded();
    // The wrong result at the deadline; the provider stalls on its clock.
    await time.setNextBlockTimestamp(deadline);
    const trees = traceTrees([WRONG]);
    await fx.market.connect(p).submitOptimistic(id, encodeTensor(WRONG), trees.roots);
    const gameId = await challenge(fx, fx.watcher, id, trees.roots, traceTrees([X]).roots);
    await time.increase(CLOCK);
    await expect(fx.game.connect(fx.keeper).claimTimeout(gameId))
      .to.emit(fx.game, "GameResolved")
      .withArgs(gameId, id, Side.Challenger, SLASH, false);
    expect(await fx.game.balanceOf(fx.watcher.address)).to.equal(BOND + (SLASH * REWARD_BPS) / 10000n);
    expect(await fx.providers.stakeOf(p.address)).to.equal(0n);
    expect(await fx.providers.reservedOf(p.address)).to.equal(0n);
    await time.increaseTo(claimedAt + 31 * DAY);
    await expect(fx.providers.connect(p).withdrawUnbonded()).to.be.revertedWithCustomError(
      fx.providers,
      "ProviderNothingToWithdraw",
    );

    // Three wrong results on a stake that covers three reservations, a fourth claim refused.
    const q = fx.provider3;
    await fx.providers.connect(q).stake({ value: 3n * SLASH });
    await fx.providers.connect(q).optIn(fx.id4.modelId);
    const ids: bigint[] = [];
    for (let k = 0; k < 4; k++) ids.push(await request(fx, fx.id4.modelId, INPUT));
    for (const r of ids.slice(0, 3)) await fx.market.connect(q).claim(r);
    await expect(fx.market.connect(q).claim(ids[3]!))
      .to.be.revertedWithCustomError(fx.providers, "ProviderInsufficientFreeStake")
      .withArgs(q.address, 0, SLASH);
    await expect(fx.providers.connect(q).requestUnbond(1))
      .to.be.revertedWithCustomError(fx.providers, "ProviderInsufficientFreeStake")
      .withArgs(q.address, 0, 1);
    const games: bigint[] = [];
    for (const r of ids.slice(0, 3)) {
      await fx.market.connect(q).submitOptimistic(r, encodeTensor(WRONG), trees.roots);
      games.push(await challenge(fx, fx.watcher2, r, trees.roots, traceTrees([X]).roots));
    }
    await time.increase(CLOCK);
    const rewards: bigint[] = [];
    for (const gameId of games) {
      const before = await fx.game.balanceOf(fx.watcher2.address);
      await fx.game.connect(fx.keeper).claimTimeout(gameId);
      rewards.push((await fx.game.balanceOf(fx.watcher2.address)) - before);
    }
    expect(rewards).to.deep.equal(Array(3).fill(BOND + (SLASH * REWARD_BPS) / 10000n));
    expect(await fx.providers.stakeOf(q.address)).to.equal(0n);
  });

  it("attack 6, a game that cannot resolve: resolution needs no role, and a stuck request is refunded after the hard bound", async () => {
    const fx = await networkHelpers.loadFixture(fixture);
    const gameAddress = await fx.game.getAddress();
    // No role anywhere: the registry names the market once and for good, and has no roles to revoke.
    expect(await fx.providers.market()).to.equal(await fx.market.getAddress());
    const registryAbi = fx.providers.interface as unknown as Interface;
    for (const fn of ["grantRole", "revokeRole", "hasRole", "slash"])
      expect(registryAbi.getFunction(fn), fn).to.equal(null);
    await expect(fx.providers.connect(fx.admin).setMarket(gameAddress))
      .to.be.revertedWithCustomError(fx.providers, "ProviderMarketAlreadySet")
      .withArgs(await fx.market.getAddress());
    await expect(fx.market.connect(fx.admin).setDisputeGame(fx.admin.address)).to.be.revertedWithCustomError(
      fx.market,
      "MarketDisputeGameAlreadySet",
    );
    // Resolution with a slash works.
    const wrong = await submitted(fx, WRONG);
    const won = await challenge(fx, fx.watcher, wrong.id, wrong.trees.roots, traceTrees([X]).roots);
    await time.increase(CLOCK);
    await fx.game.connect(fx.keeper).claimTimeout(won);
    expect(await fx.market.statusOf(wrong.id)).to.equal(Status.Refunded);

    // A request whose games nobody ends: refunded by anyone once its hard bound has passed.
    const { id, trees, windowEnd } = await submitted(fx, X);
    const stakeBefore = await fx.providers.stakeOf(fx.provider.address);
    expect(await fx.providers.reservedOf(fx.provider.address)).to.equal(SLASH);
    const open = [
      await challenge(fx, fx.griefer, id, trees.roots, randomRoots("stuck 1")),
      await challenge(fx, fx.sock, id, trees.roots, randomRoots("stuck 2")),
    ];
    const bound = Number(await fx.market.refundableAfter(id));
    expect(bound).to.equal(windowEnd + 2 * Number(await fx.game.maxDuration()));
    expect(bound).to.equal(windowEnd + 4 * CLOCK);
    await time.setNextBlockTimestamp(bound);
    const params = await paramsOf(fx, id);
    await expect(fx.market.connect(fx.keeper).expire(id, params, { gasLimit: 500_000 }))
      .to.be.revertedWithCustomError(fx.market, "MarketGamesStillRunning")
      .withArgs(id, bound);
    expect((await ethers.provider.getBlock("latest"))!.timestamp).to.equal(bound);
    expect(await fx.market.statusOf(id)).to.equal(Status.Challenged);
    await time.setNextBlockTimestamp(bound + 1);
    await expect(fx.market.connect(fx.keeper).expire(id, params))
      .to.emit(fx.market, "RequestRefunded")
      .withArgs(id, PRICE, 0);
    expect(await fx.market.statusOf(id)).to.equal(Status.Refunded);
    expect(await fx.market.balanceOf(fx.requester.address, ZERO)).to.equal(2n * PRICE);
    expect(await fx.providers.stakeOf(fx.provider.address)).to.equal(stakeBefore);
    expect(await fx.providers.reservedOf(fx.provider.address)).to.equal(0n);
    for (const [gameId, who] of [
      [open[0]!, fx.griefer],
      [open[1]!, fx.sock],
    ] as const) {
      await expect(fx.game.connect(fx.keeper).claimTimeout(gameId))
        .to.emit(fx.game, "GameResolved")
        .withArgs(gameId, id, Side.Challenger, 0, true);
      expect(await fx.game.balanceOf(who.address)).to.equal(BOND);
    }
    expect(await fx.market.openGamesOf(id)).to.equal(0n);
    expect(await fx.game.bondsHeld()).to.equal(0n);
  });

  it("attack 7, clock boundary: at exactly the whole clock only claimTimeout succeeds", async () => {
    const fx = await networkHelpers.loadFixture(fixture);
    const { id, trees } = await submitted(fx, WRONG);
    const gameId = await challenge(fx, fx.watcher, id, trees.roots, traceTrees([X]).roots);
    const start = Number((await fx.game.getGame(gameId)).lastMoveAt);
    const chunk = trees.bytes[0]!;
    const before = await networkHelpers.takeSnapshot();
    const minedAt = async () => (await ethers.provider.getBlock("latest"))!.timestamp;

    // used == clock: the defender's move is refused, claimTimeout succeeds (each in that second).
    await time.setNextBlockTimestamp(start + CLOCK);
    await expect(fx.game.connect(fx.provider).revealChunk(gameId, chunk, { gasLimit: 500_000 }))
      .to.be.revertedWithCustomError(fx.game, "GameClockExpired")
      .withArgs(gameId, Side.Defender);
    expect(await minedAt()).to.equal(start + CLOCK);
    await before.restore();
    await time.setNextBlockTimestamp(start + CLOCK);
    await fx.game.connect(fx.keeper).claimTimeout(gameId);
    expect(await minedAt()).to.equal(start + CLOCK);
    expect((await fx.game.getGame(gameId)).winner).to.equal(Side.Challenger);

    // One second earlier: claimTimeout is refused, the move succeeds.
    await before.restore();
    await time.setNextBlockTimestamp(start + CLOCK - 1);
    await expect(fx.game.connect(fx.keeper).claimTimeout(gameId, { gasLimit: 500_000 }))
      .to.be.revertedWithCustomError(fx.game, "GameClockRunning")
      .withArgs(gameId, Side.Defender, 1);
    expect(await minedAt()).to.equal(start + CLOCK - 1);
    await before.restore();
    await time.setNextBlockTimestamp(start + CLOCK - 1);
    await fx.game.connect(fx.provider).revealChunk(gameId, chunk);
    expect(await minedAt()).to.equal(start + CLOCK - 1);
    expect((await fx.game.getGame(gameId)).phase).to.equal(Phase.AwaitStep);
  });

  it("attack 8, example consumer trusts any result: results of others' requests are refused", async () => {
    const fx = await networkHelpers.loadFixture(fixture);
    const consumer = (await ethers.deployContract("ExampleClassifierConsumer", [
      await fx.market.getAddress(),
      2,
    ])) as unknown as Contracts.ExampleClassifierConsumer;
    const consumerAddress = await consumer.getAddress();
    const output = hexlify(encodeTensor(X));
    const fabricated = hexlify(encodeTensor(WRONG));
    // A stranger names the consumer as callback and has its provider submit a fabricated result.
    const deadline = (await time.latest()) + DAY;
    await fx.market
      .connect(fx.griefer)
      .requestInference(2, INPUT, PRICE, deadline, consumerAddress, 200_000, { value: PRICE });
    const stranger = await fx.market.requestCount();
    await fx.market.connect(fx.provider).claim(stranger);
    await expect(fx.market.connect(fx.provider).submit(stranger, await paramsOf(fx, stranger), fabricated))
      .to.emit(fx.market, "CallbackResult")
      .withArgs(stranger, false);
    expect(await fx.market.statusOf(stranger)).to.equal(Status.Finalized);
    expect(await consumer.resultOf(stranger)).to.equal("0x");
    await expect(
      consumer
        .connect(ethers.provider)
        .onInferenceResult.staticCall(stranger, fabricated, { from: await fx.market.getAddress() }),
    )
      .to.be.revertedWithCustomError(consumer, "ConsumerUnknownRequest")
      .withArgs(stranger);
    // Its own requests still work.
    await consumer.connect(fx.requester).ask(INPUT, deadline, { value: PRICE });
    const own = await fx.market.requestCount();
    await fx.market.connect(fx.provider).claim(own);
    await expect(fx.market.connect(fx.provider).submit(own, await paramsOf(fx, own), output))
      .to.emit(fx.market, "CallbackResult")
      .withArgs(own, true);
    expect(await consumer.resultOf(own)).to.equal(output);
  });

  it("attack 9, forged request params in a challenge: refused with MarketRequestParamsMismatch, and a proven fault refunds the real requester", async () => {
    const fx = await networkHelpers.loadFixture(fixture);
    const { id, trees } = await submitted(fx, WRONG);
    const truth = traceTrees([X]);
    const real = await paramsOf(fx, id);
    // The market keeps the refund's payee, amount and token from the first challenge's params:
    // each forgery would send the refund of a proven fault elsewhere (or mint a larger one).
    const otherInput = inlineInput(WRONG);
    const forgeries = [
      { ...real, requester: fx.watcher.address },
      { ...real, fee: real.fee * 10n },
      { ...real, feeToken: await fx.market.getAddress() },
      { ...real, callback: fx.watcher.address, callbackGasLimit: 100_000n },
    ];
    for (const forged of forgeries) {
      const params = challengeParams(fx.id4, forged, INPUT, trees.roots, truth.roots);
      await expect(fx.game.connect(fx.watcher).challenge(id, params, { value: BOND }))
        .to.be.revertedWithCustomError(fx.market, "MarketRequestParamsMismatch")
        .withArgs(id);
    }
    // Another input with its own hash: the game would be about an input nobody paid for.
    const otherRequest = { ...real, inputHash: keccak256(otherInput) };
    await expect(
      fx.game
        .connect(fx.watcher)
        .challenge(id, challengeParams(fx.id4, otherRequest, otherInput, trees.roots, truth.roots), { value: BOND }),
    )
      .to.be.revertedWithCustomError(fx.market, "MarketRequestParamsMismatch")
      .withArgs(id);
    expect(await fx.game.gameCount()).to.equal(0n);
    expect(await fx.market.openGamesOf(id)).to.equal(0n);
    expect(await fx.market.statusOf(id)).to.equal(Status.Submitted);
    // With the request's own params the fault is proven and the refund goes to the requester.
    const gameId = await challenge(fx, fx.watcher, id, trees.roots, truth.roots);
    const { view } = await identityPlay(
      fx,
      gameId,
      { signer: fx.provider, trees },
      { signer: fx.watcher, trees: truth },
    );
    expect(view.winner).to.equal(Side.Challenger);
    expect(await fx.market.statusOf(id)).to.equal(Status.Refunded);
    expect(await fx.market.balanceOf(fx.requester.address, ZERO)).to.equal(PRICE);
    expect(await fx.market.balanceOf(fx.watcher.address, ZERO)).to.equal(0n);
    expect(await fx.game.balanceOf(fx.watcher.address)).to.equal(BOND + (SLASH * REWARD_BPS) / 10000n);
  });

  it("the bond scales with the defender's worst-case gas, so a false challenge always pays the defender's gas", async () => {
    const fx = await networkHelpers.loadFixture(fixture);
    const bound = await fx.game.DEFENDER_GAS_BOUND();
    const addresses = [
      await fx.market.getAddress(),
      await fx.models.getAddress(),
      await fx.providers.getAddress(),
      await fx.prover.getAddress(),
      fx.treasury.address,
    ];
    const expected = (floor: bigint, price: bigint, bps: bigint) => {
      const covering = (price * bound * 10000n + bps - 1n) / bps;
      return covering > floor ? covering : floor;
    };
    for (const [floor, price, bps] of [
      [BOND, 0n, 5000n],
      [BOND, 10n ** 9n, 5000n],
      [10n ** 15n, 20n * 10n ** 9n, 5000n],
      [0n, 7n * 10n ** 9n + 1n, 3333n],
      [0n, 10n ** 9n, 10000n],
    ] as const) {
      const game = (await ethers.deployContract("DisputeGame", [
        ...addresses,
        floor,
        price,
        SLASH,
        CLOCK,
        5000,
        bps,
      ])) as unknown as Contracts.DisputeGame;
      const required = await game.requiredBond(1);
      expect(required, `floor ${floor}, price ${price}, ${bps} bps`).to.equal(expected(floor, price, bps));
      expect((required * bps) / 10000n).to.be.at.least(price * bound);
    }
    await expect(
      ethers.deployContract("DisputeGame", [...addresses, BOND, 0n, SLASH, CLOCK, 5000, 0]),
    ).to.be.revertedWithCustomError(fx.game, "GameParametersUnsafe");

    // A false challenge played to the end on a game priced at 20 gwei: the defender's reward
    // covers the gas it spent at that price, and DEFENDER_GAS_BOUND at that price.
    const gasPrice = 20n * 10n ** 9n;
    const [admin, treasury, owner, provider, liar] = await ethers.getSigners();
    const suite = await deployGameSuite(ethers, admin!, treasury!, {
      minStake: MIN_STAKE,
      bond: 10n ** 15n,
      slash: SLASH,
      clockSec: CLOCK,
      bondGasPrice: gasPrice,
    });
    const bond = await suite.game.requiredBond(1);
    expect(bond).to.equal(expected(10n ** 15n, gasPrice, REWARD_BPS));
    // relu over 4,096 elements, then argmax: a 4-chunk layer 0 (two levels of reveals).
    const model: VqmModel = {
      format: "vqm/1",
      name: "relu-4096",
      input: { shape: [1, 4096], scale: 1 },
      layers: [
        { kind: "relu", input: -1 },
        { kind: "argmax", input: 0 },
      ],
    };
    const reg = await registerOptimistic(suite.models.connect(owner!), {
      model,
      price: PRICE,
      window: WINDOW,
      royaltyBps: 1000,
    });
    await suite.providers.connect(provider!).stake({ value: MIN_STAKE });
    await suite.providers.connect(provider!).optIn(reg.modelId);
    const input = int8Tensor([1, 4096], (i) => noise(i, 11));
    const trace = executeVqm(model, input).trace;
    const lie = trace.map((t) => ({ ...t, data: t.data.slice() }) as Tensor);
    (lie[0]!.data as Int8Array)[3000] = -1; // relu never outputs a negative
    const envelope = inlineInput(input);
    await suite.market
      .connect(admin!)
      .requestInference(reg.modelId, envelope, PRICE, (await time.latest()) + DAY, ZERO, 0, { value: PRICE });
    await suite.market.connect(provider!).claim(1);
    const honest = traceTrees(trace);
    await suite.market.connect(provider!).submitOptimistic(1, encodeTensor(trace[1]!), honest.roots);
    const log = new GasLog();
    const gameId = await openGame(suite.game, {
      challenger: liar!,
      requestId: 1n,
      params: challengeParams(
        reg,
        await findRequestParams(suite.market, 1n),
        envelope,
        honest.roots,
        traceTrees(lie).roots,
      ),
      bond,
      gas: log,
    });
    const { view, rounds } = await playGame(suite.game, {
      gameId,
      model: reg,
      input: traceBytes([input])[0]!,
      trace: traceBytes(trace),
      defender: { signer: provider!, trees: honest },
      challenger: { signer: liar!, trees: traceTrees(lie) },
      step: "whole",
      keeper: admin!,
      increaseTime: (s) => time.increase(s),
      gas: log,
    });
    expect([view.winner, rounds]).to.deep.equal([Side.Defender, 2]);
    const reward = await suite.game.balanceOf(provider!.address);
    expect(reward).to.equal((bond * REWARD_BPS) / 10000n);
    expect(reward, "reward covers the defender's gas").to.be.at.least(log.total("defender") * gasPrice);
    expect(reward, "reward covers the worst-case defender").to.be.at.least(bound * gasPrice);
    console.log(
      `      false challenge at ${gasPrice / 10n ** 9n} gwei: bond ${ethers.formatEther(bond)} ETH, defender gas ${log.total("defender")} (${ethers.formatEther(log.total("defender") * gasPrice)} ETH), reward ${ethers.formatEther(reward)} ETH`,
    );
  });
});
