/**
 * Dispute game gas benchmark: for synthetic dense models of about 10k, 1M and 10M parameters,
 * plays whole games on an in-process chain (hardhat's network.create()) against a provider that
 * cheated in one element, with the game driver of oracle/devnet/play-game.ts, and prints per game:
 * the disputed layer and its reduction length (fan-in, argmax row or pooling window), the rounds
 * of tree bisection and of reduction bisection, the total gas of each side and the largest
 * single transaction. Two games per dense model: a cheat in the first hidden layer (many
 * outputs: tree bisection) and one in the widest dot product (the reduction phase when the
 * fan-in exceeds one step); then an argmax row of 20000 and a 208×208 global maxpool2d (over a
 * dense layer's feature map), both beyond one step. Every transaction must stay under 5,000,000.
 *
 *   npx hardhat build --quiet && node scripts/bench-game-gas.ts
 */
import { network } from "hardhat";
import { GameSide } from "../oracle/chain/dispute-game.ts";
import { findRequestParams } from "../oracle/chain/request-params.ts";
import { cheatedStates, withElementMoved } from "../oracle/devnet/cheat-trace.ts";
import { deployGameSuite } from "../oracle/devnet/deploy-game-suite.ts";
import { GasLog } from "../oracle/devnet/gas-log.ts";
import { layerKit } from "../oracle/dispute/layer-kit.ts";
import { challengeParams, openGame } from "../oracle/devnet/open-game.ts";
import { playGame } from "../oracle/devnet/play-game.ts";
import { registerOptimistic } from "../oracle/devnet/register-optimistic.ts";
import { LayerKind } from "../oracle/dispute/layout.ts";
import { elementBytes, hasReduction, sumLayout, traceTrees } from "../oracle/dispute/moves.ts";
import { encodeInlineInput } from "../oracle/model/input-envelope.ts";
import { encodeTensor } from "../oracle/model/tensor-codec.ts";
import type { Tensor } from "../oracle/model/tensor.ts";
import { createPrng } from "../oracle/model/train/prng.ts";
import { executeVqm } from "../oracle/model/vqm/reference-executor.ts";
import { seededDense } from "../oracle/model/vqm/seeded-dense.ts";
import { syntheticInput, syntheticMlp } from "../oracle/model/vqm/synthetic-vqm.ts";
import { validateVqm } from "../oracle/model/vqm/validate-vqm.ts";
import type { DenseLayer, VqmModel } from "../oracle/model/vqm/vqm-model.ts";

const GAS_CEILING = 5_000_000n;

const { ethers, networkHelpers } = await network.create();
const [admin, treasury, owner, provider, requester, challenger] = await ethers.getSigners();

const { models, providers, market, game } = await deployGameSuite(ethers, admin!, treasury!, {
  minStake: ethers.parseEther("1"),
  bond: ethers.parseEther("0.1"),
  slash: ethers.parseEther("0.1"),
  clockSec: 3600,
});
await providers.connect(provider!).stake({ value: ethers.parseEther("100") });

type Row = Record<string, string | number>;
const rows: Row[] = [];

/**
 * A 208×208 global maxpool2d over an internal feature map, as real models pool (the chain bounds
 * the model input at 32,768 bytes, not internal layers): a dense layer from a [1, 16] input to
 * 43,264 outputs, reshaped to [1, 1, 208, 208], pooled (layer 2), then a dense head.
 */
function globalPool(): { model: VqmModel; input: Tensor } {
  const prng = createPrng(208);
  const [inFeatures, pixels] = [16, 208 * 208];
  // |acc| is around 4 · 74 · 74 for random inputs and weights: 2^-9 spreads it over int8.
  const map = seededDense(prng, {
    input: -1,
    inFeatures,
    outFeatures: pixels,
    biasSpan: 4096,
    multiplier: 2 ** 15,
    shift: 24,
  });
  const head: DenseLayer = {
    kind: "dense",
    input: 3,
    inFeatures: 1,
    outFeatures: 2,
    weights: Int8Array.of(3, -5),
    bias: Int32Array.of(7, -7),
    requant: { multiplier: Int32Array.of(2 ** 20, 2 ** 20), shift: Uint8Array.of(20, 20), activation: "none" },
  };
  const model: VqmModel = {
    format: "vqm/1",
    name: "global-pool-208",
    input: { shape: [1, inFeatures], scale: 0.05 },
    layers: [
      map,
      { kind: "reshape", input: 0, shape: [1, 1, 208, 208] },
      { kind: "maxpool2d", input: 1, kernel: [208, 208], stride: [208, 208] },
      { kind: "reshape", input: 2, shape: [1, 1] },
      head,
    ],
    outputScale: 0.1,
  };
  validateVqm(model);
  const data = Int8Array.from({ length: inFeatures }, () => prng.int(256) - 128);
  return { model, input: { dtype: "int8", shape: [1, inFeatures], data } };
}

async function bench(name: string, model: VqmModel, input: Tensor, cheatLayer: number): Promise<void> {
  const params = model.layers.reduce((n, l) => n + (l.kind === "dense" ? l.inFeatures * l.outFeatures : 0), 0);
  // The same model is registered once per cheat layer: the name tells the two apart.
  const label = `${name}:${cheatLayer}`;
  const reg = await registerOptimistic(models.connect(owner!), {
    model,
    name: label,
    contentId: label,
    price: 0n,
    window: 86400,
  });
  await providers.connect(provider!).optIn(reg.modelId);

  // The cheat: one element of `cheatLayer` moved; the later layers are left as they were.
  const honest = executeVqm(model, input).trace;
  const cheat = withElementMoved(honest, cheatLayer, Math.floor(honest[cheatLayer]!.data.length / 2));
  const defender = traceTrees(cheat);
  const own = traceTrees(honest);

  const inputBytes = encodeInlineInput(input);
  const deadline = (await ethers.provider.getBlock("latest"))!.timestamp + 86400;
  await market.connect(requester!).requestInference(reg.modelId, inputBytes, 0, deadline, ethers.ZeroAddress, 0);
  const id = await market.requestCount();
  await market.connect(provider!).claim(id);
  await market.connect(provider!).submitOptimistic(id, encodeTensor(cheat[cheat.length - 1]!), defender.roots);

  const gas = new GasLog();
  const gameId = await openGame(game, {
    challenger: challenger!,
    requestId: id,
    params: challengeParams(reg, await findRequestParams(market, id), inputBytes, defender.roots, own.roots),
    bond: await game.requiredBond(id),
    gas,
  });
  const sources = { model: reg, input: elementBytes(input), trace: own.bytes };
  const kit = layerKit(reg, cheatLayer, sources.input, sources.trace);
  // The cheater's reduction states finish to its element, so only a range step exposes it.
  const cheated = cheatedStates({ model, layer: cheatLayer, cheat, honest: kit.states });
  const { view, rounds, sumRounds } = await playGame(game, {
    gameId,
    ...sources,
    defender: { signer: provider!, trees: defender, states: cheated },
    challenger: { signer: challenger!, trees: own },
    increaseTime: (seconds) => networkHelpers.time.increase(seconds),
    gas,
  });
  if (view.winner !== BigInt(GameSide.Challenger)) throw new Error(`${name}: the cheat won.`);
  for (const e of gas.all)
    if (e.gas >= GAS_CEILING) throw new Error(`${e.name} used ${e.gas} gas, above ${GAS_CEILING}.`);
  const largest = gas.largest()!;
  const spec = kit.spec;
  rows.push({
    model: name,
    params,
    layer: cheatLayer,
    "fan-in": hasReduction(spec.kind) ? sumLayout(spec).fanIn : 0,
    kind: Object.keys(LayerKind).find((k) => LayerKind[k as keyof typeof LayerKind] === spec.kind)!,
    "tree rounds": rounds,
    "sum rounds": sumRounds,
    "defender gas": Number(gas.total("defender")),
    "challenger gas": Number(gas.total("challenger")),
    "max tx gas": Number(largest.gas),
    "max tx": largest.name,
  });
}

const cases: [string, number[]][] = [
  ["~10k", [16, 96, 96, 2]],
  ["~1M", [16, 4096, 240, 2]],
  ["~10M", [16, 50000, 200, 2]],
  ["~14M", [4, 1_000_000, 10, 2]],
];
for (const [name, sizes] of cases) {
  const model = syntheticMlp({ seed: sizes.length * 1000 + sizes[1]!, sizes, argmax: true });
  const input = syntheticInput(model, 1);
  await bench(name, model, input, 0);
  await bench(name, model, input, 1);
}
const argmaxModel = syntheticMlp({ seed: 20000, sizes: [16, 20000], argmax: true });
await bench("argmax 20000", argmaxModel, syntheticInput(argmaxModel, 1), 1);
const pool = globalPool();
await bench("maxpool 208²", pool.model, pool.input, 2);
console.table(rows);
