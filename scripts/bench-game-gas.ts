/**
 * Dispute game gas benchmark: for synthetic dense models of about 10k, 1M and 10M parameters,
 * plays whole games on an in-process chain (hardhat's network.create()) against a provider that
 * cheated in one element, with the move helpers of oracle/dispute/moves.ts, and prints per game:
 * the disputed layer and its reduction length (fan-in, argmax row or pooling window), the rounds
 * of tree bisection and of reduction bisection, the total gas of each side and the largest
 * single transaction. Two games per dense model: a cheat in the first hidden layer (many
 * outputs: tree bisection) and one in the widest dot product (the reduction phase when the
 * fan-in exceeds one step); then an argmax row of 20000 and a 208×208 global maxpool2d (over a
 * dense layer's feature map), both beyond one step. Every transaction must stay under 5,000,000.
 *
 *   npx hardhat build --quiet && node scripts/bench-game-gas.ts
 */
import type { ContractTransactionResponse, Signer } from "ethers";
import { network } from "hardhat";
import { encodeInlineInput } from "../oracle/model/input-envelope.ts";
import { encodeTensor } from "../oracle/model/tensor-codec.ts";
import type { Tensor } from "../oracle/model/tensor.ts";
import { weightsBlob, weightsRoot } from "../oracle/model/vqm/commitments.ts";
import { createPrng } from "../oracle/model/train/prng.ts";
import { layerShapes } from "../oracle/model/vqm/layer-shapes.ts";
import { executeVqm, requant } from "../oracle/model/vqm/reference-executor.ts";
import { syntheticInput, syntheticMlp } from "../oracle/model/vqm/synthetic-vqm.ts";
import { validateVqm } from "../oracle/model/vqm/validate-vqm.ts";
import type { DenseLayer, VqmModel } from "../oracle/model/vqm/vqm-model.ts";
import { registerModel } from "../oracle/chain/register-model.ts";
import { encodeLayerSpec, LayerKind, layerSpecs, layoutProof, layoutRoot } from "../oracle/dispute/layout.ts";
import {
  agreesWithSum,
  chunkBytes,
  differingElement,
  elementBytes,
  hasReduction,
  needsReduction,
  nodeChildren,
  prefixStates,
  stepChunks,
  stepProof,
  stepSource,
  sumLayout,
  sumMidpoint,
  sumParamsProof,
  sumStepProof,
  traceTrees,
} from "../oracle/dispute/moves.ts";
import { deployGameSuite } from "../oracle/devnet/deploy-game-suite.ts";

const GAS_CEILING = 5_000_000n;
const Phase = { Bisecting: 1n, AwaitChunk: 2n, AwaitStep: 3n, Resolved: 4n, SumClaim: 5n, SumBisecting: 6n };
const Side = { Defender: 1n, Challenger: 2n };

const { ethers } = await network.create();
const [admin, treasury, owner, provider, requester, challenger] = await ethers.getSigners();

const { models, providers, market, game } = await deployGameSuite(ethers, admin!, treasury!, {
  minStake: ethers.parseEther("1"),
  bond: ethers.parseEther("0.1"),
  slash: ethers.parseEther("0.1"),
  clockSec: 3600,
});
await providers.connect(provider!).stake({ value: ethers.parseEther("100") });

type Tally = { defender: bigint; challenger: bigint; max: bigint; maxName: string };

async function send(
  tally: Tally,
  side: "defender" | "challenger",
  name: string,
  tx: Promise<ContractTransactionResponse>,
) {
  const used = (await (await tx).wait())!.gasUsed;
  tally[side] += used;
  if (used > tally.max) [tally.max, tally.maxName] = [used, name];
  if (used >= GAS_CEILING) throw new Error(`${name} used ${used} gas, above ${GAS_CEILING}.`);
}

/**
 * A final state that finishes to `target` (so claimSum accepts the cheat), of element `j` of
 * layer `layer` whose honest final state is `honest`: for dense, an accumulator with
 * `requant(b + S) == target`.
 */
function finalFor(model: VqmModel, layer: number, j: number, target: number, honest: number): number {
  const kind = model.layers[layer]!.kind;
  if (kind === "argmax") return Math.floor(honest / 2 ** 32) * 2 ** 32 + target;
  if (kind === "maxpool2d") return target + 128;
  return sumFor(model.layers[layer] as DenseLayer, j, target);
}

/** An accumulator `S` with `requant(b + S) == target` for element `j` of dense layer `layer`. */
function sumFor(layer: DenseLayer, j: number, target: number): number {
  const { multiplier, shift, activation } = layer.requant;
  const value = (s: number) => requant(BigInt(layer.bias[j]! + s), multiplier[j]!, shift[j]!, activation);
  let [lo, hi] = [-(2 ** 31) + 1 - layer.bias[j]!, 2 ** 31 - 1 - layer.bias[j]!];
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (value(mid) < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

type Row = Record<string, string | number>;
const rows: Row[] = [];
let modelId = 0n;

/**
 * A 208×208 global maxpool2d over an internal feature map, as real models pool (the chain bounds
 * the model input at 32,768 bytes, not internal layers): a dense layer from a [1, 16] input to
 * 43,264 outputs, reshaped to [1, 1, 208, 208], pooled (layer 2), then a dense head.
 */
function globalPool(): { model: VqmModel; input: Tensor } {
  const prng = createPrng(208);
  const [inFeatures, pixels] = [16, 208 * 208];
  const map: DenseLayer = {
    kind: "dense",
    input: -1,
    inFeatures,
    outFeatures: pixels,
    weights: Int8Array.from({ length: inFeatures * pixels }, () => prng.int(255) - 127),
    bias: Int32Array.from({ length: pixels }, () => prng.int(8193) - 4096),
    // |acc| is around 4 · 74 · 74 for random inputs and weights: 2^-9 spreads it over int8.
    requant: {
      multiplier: new Int32Array(pixels).fill(2 ** 15),
      shift: new Uint8Array(pixels).fill(24),
      activation: "none",
    },
  };
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
  const honest = executeVqm(model, input).trace;
  const specs = layerSpecs(model);
  const blob = weightsBlob(model);
  const weights = stepSource(blob);
  const shapes = layerShapes(model);
  await registerModel(models.connect(owner!), {
    modelHash: ethers.keccak256(ethers.toUtf8Bytes(`${name}:${cheatLayer}`)),
    contentId: `${name}:${cheatLayer}`,
    price: 0n,
    royaltyBps: 0,
    inputShape: model.input.shape,
    outputShape: shapes[shapes.length - 1]!,
    inputDtype: "int8",
    outputDtype: model.layers[model.layers.length - 1]!.kind === "argmax" ? "int32" : "int8",
    verification: {
      mode: "optimistic",
      weightsRoot: weightsRoot(model),
      layoutRoot: layoutRoot(specs),
      layerCount: specs.length,
      challengeWindow: 86400,
    },
  });
  modelId++;
  await providers.connect(provider!).optIn(modelId);

  // The cheat: one element of `cheatLayer` moved; the later layers are left as they were.
  const cheat = honest.map((t) => ({ ...t, data: t.data.slice() }) as Tensor);
  const element = Math.floor(cheat[cheatLayer]!.data.length / 2);
  const was = Number(cheat[cheatLayer]!.data[element]);
  cheat[cheatLayer]!.data[element] = was === 127 ? 126 : was + 1;
  const defender = traceTrees(cheat);
  const own = traceTrees(honest);

  const inputBytes = encodeInlineInput(input);
  const deadline = (await ethers.provider.getBlock("latest"))!.timestamp + 86400;
  await market.connect(requester!).requestInference(modelId, inputBytes, 0, deadline, ethers.ZeroAddress, 0);
  const id = await market.requestCount();
  await market.connect(provider!).claim(id);
  await market.connect(provider!).submitOptimistic(id, encodeTensor(cheat[cheat.length - 1]!), defender.roots);

  const tally: Tally = { defender: 0n, challenger: 0n, max: 0n, maxName: "" };
  const [d, c] = [game.connect(provider!), game.connect(challenger! as Signer)];
  const bond = await game.requiredBond(id);
  const challengeParams = {
    input: inputBytes,
    defenderRoots: defender.roots,
    challengerRoots: own.roots,
    layerSpec: encodeLayerSpec(specs[cheatLayer]!),
    layoutProof: layoutProof(specs, cheatLayer),
  };
  await send(tally, "challenger", "challenge", c.challenge(id, challengeParams, { value: bond }));
  const gameId = await game.gameCount();
  const spec = specs[cheatLayer]!;
  const specBytes = encodeLayerSpec(spec);
  const inputA = stepSource(spec.inputA === -1 ? elementBytes(input) : own.bytes[spec.inputA]!);
  let [treeRounds, sumRounds] = [0, 0];
  let sums: number[] = [];
  let cheatedSums: number[] = [];
  for (;;) {
    const g = await game.getGame(gameId);
    const [layer, height, position] = [Number(g.layer), Number(g.height), Number(g.position)];
    if (g.phase === Phase.Resolved) {
      if (g.winner !== Side.Challenger) throw new Error(`${name}: the cheat won.`);
      break;
    }
    if (g.phase === Phase.Bisecting && g.turn === Side.Defender) {
      const [l, r] = nodeChildren(defender, layer, height, position);
      await send(tally, "defender", "reveal", d.reveal(gameId, l, r));
      treeRounds++;
    } else if (g.phase === Phase.Bisecting) {
      const [l, r] = nodeChildren(own, layer, height, position);
      await send(tally, "challenger", "bisect", c.bisect(gameId, l, r));
    } else if (g.phase === Phase.AwaitChunk) {
      await send(tally, "defender", "revealChunk", d.revealChunk(gameId, chunkBytes(defender, layer, position)));
    } else if (g.phase === Phase.AwaitStep) {
      const chunk = chunkBytes(defender, layer, position);
      const size = Number(g.elementSize);
      const offset = differingElement(own, layer, position, chunk, size)!;
      const e = (position * 1024) / size + offset;
      if (needsReduction(spec, () => stepChunks(spec, e, weights, inputA))) {
        await send(tally, "challenger", "openSum", c.openSum(gameId, chunk, offset, specBytes));
        sums = prefixStates(spec, e, blob, inputA.bytes);
        const target = finalFor(model, layer, e, Number(cheat[layer]!.data[e]), sums.at(-1)!);
        cheatedSums = [...sums.slice(0, -1), target];
      } else {
        const proof = stepProof(spec, e, weights, inputA);
        await send(tally, "challenger", "proveStep", c.proveStep(gameId, chunk, offset, specBytes, proof));
      }
    } else {
      const s = await game.getSum(gameId);
      const e = Number(s.element);
      if (g.phase === Phase.SumClaim) {
        const proof = sumParamsProof(spec, e, weights);
        await send(tally, "defender", "claimSum", d.claimSum(gameId, cheatedSums.at(-1)!, specBytes, proof));
      } else if (g.phase === Phase.SumBisecting && g.turn === Side.Defender) {
        const mid = sumMidpoint(Number(s.lo), Number(s.hi));
        await send(tally, "defender", "postSum", d.postSum(gameId, cheatedSums[mid]!));
        sumRounds++;
      } else if (g.phase === Phase.SumBisecting) {
        await send(tally, "challenger", "pickSum", c.pickSum(gameId, agreesWithSum(sums, Number(s.mid), s.sumMid)));
      } else {
        const proof = sumStepProof(spec, e, Number(s.lo), Number(s.hi), weights, inputA);
        await send(tally, "challenger", "proveSumStep", c.proveSumStep(gameId, specBytes, proof));
      }
    }
  }
  rows.push({
    model: name,
    params,
    layer: cheatLayer,
    "fan-in": hasReduction(spec.kind) ? sumLayout(spec).fanIn : 0,
    kind: Object.keys(LayerKind).find((k) => LayerKind[k as keyof typeof LayerKind] === spec.kind)!,
    "tree rounds": treeRounds,
    "sum rounds": sumRounds,
    "defender gas": Number(tally.defender),
    "challenger gas": Number(tally.challenger),
    "max tx gas": Number(tally.max),
    "max tx": tally.maxName,
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
