/**
 * Dispute economics (part of `npm run bench`): what each attack on an Optimistic result costs
 * and earns, with the `testnet` deploy profile's parameters (oracle/chain/deploy-profiles.ts),
 * on an in-process Hardhat chain. Real games are played to the end with the moves of
 * oracle/dispute/moves.ts over a synthetic dense model of 14M parameters (4-1000000-10-2 and
 * argmax), whose widest layer needs 10 rounds of tree bisection and whose widest dot product
 * (fan-in 10^6) 6 rounds of reduction bisection. Gas is priced at the profile's `bondGasPrice` (the price the bond is computed at).
 *
 * Printed: the parameters and the bond; the gas of every move per side; false challenges (the
 * attacker's loss against the defender's gas and reward); honest watchers (bond back and their
 * share of the slash against their gas) including three wrong results on one stake; the delay
 * of an honest result by griefing games opened at the end of its window.
 *
 *   npx hardhat build --quiet && node scripts/bench-economics.ts
 */
import type { ContractTransactionResponse, Signer } from "ethers";
import { formatEther, formatUnits } from "ethers";
import { network } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { DEPLOY_PROFILES } from "../oracle/chain/deploy-profiles.ts";
import { deployWithProfile } from "../oracle/chain/deploy-with-profile.ts";
import { registerModel } from "../oracle/chain/register-model.ts";
import { encodeInlineInput } from "../oracle/model/input-envelope.ts";
import { encodeTensor } from "../oracle/model/tensor-codec.ts";
import type { Tensor } from "../oracle/model/tensor.ts";
import { weightsBlob, weightsRoot } from "../oracle/model/vqm/commitments.ts";
import { executeVqm, requant } from "../oracle/model/vqm/reference-executor.ts";
import { syntheticInput, syntheticMlp } from "../oracle/model/vqm/synthetic-vqm.ts";
import type { DenseLayer } from "../oracle/model/vqm/vqm-model.ts";
import { encodeLayerSpec, layerSpecs, layoutProof, layoutRoot, type LayerSpec } from "../oracle/dispute/layout.ts";
import {
  agreesWithSum,
  chunkBytes,
  differingElement,
  elementBytes,
  nodeChildren,
  prefixSums,
  stepProof,
  stepSource,
  sumMidpoint,
  sumParamsProof,
  sumStepProof,
  traceTrees,
  type StepSource,
  type TraceTrees,
} from "../oracle/dispute/moves.ts";
import type * as Contracts from "../types/ethers-contracts/index.ts";

const PROFILE = DEPLOY_PROFILES.testnet;
const PRICE = PROFILE.bondGasPrice; // wei per gas at which every cost below is priced
const MAX_FAN_IN = 16384; // LayerStepProver.MAX_FAN_IN: a longer dot product goes through the reduction phase
const SIZES = [4, 1_000_000, 10, 2];
const FEE = 10n ** 16n; // 0.01 ETH per request
const Phase = { Bisecting: 1n, AwaitChunk: 2n, AwaitStep: 3n, Resolved: 4n, SumClaim: 5n, SumBisecting: 6n };
const Side = { Defender: 1n, Challenger: 2n };

const { ethers, networkHelpers } = await network.create();
const [admin, treasury, owner, provider, requester, ...others] = await ethers.getSigners();
const nextSigner = () => others.shift()!;

// ------------------------------------------------------------------------------------------------
// Deployment: the testnet profile, as `verity deploy --profile testnet` makes it.

const { deployment, game: gameAddress } = await deployWithProfile(admin!, {
  profile: PROFILE,
  treasury: treasury!.address,
});
const at = async <T>(name: string, address: string) =>
  (await ethers.getContractAt(name, address, admin!)) as unknown as T;
const models = await at<Contracts.ModelRegistry>("ModelRegistry", deployment.contracts.modelRegistry);
const providers = await at<Contracts.ProviderRegistry>("ProviderRegistry", deployment.contracts.providerRegistry);
const market = await at<Contracts.InferenceMarket>("InferenceMarket", deployment.contracts.inferenceMarket);
const game = await at<Contracts.DisputeGame>("DisputeGame", gameAddress);

const bond = await game.requiredBond(0);
const slash = await game.slashAmount();
const clock = BigInt(PROFILE.disputeClockSec);
const window = PROFILE.minChallengeWindowSec;
const defenderGasBound = await game.DEFENDER_GAS_BOUND();
const reservation = await market.reservationOf(2);

// ------------------------------------------------------------------------------------------------
// The model: every layer's trace, specs and weights, computed once.

const model = syntheticMlp({ seed: 4242, sizes: SIZES, argmax: true });
const params = model.layers.reduce((n, l) => n + (l.kind === "dense" ? l.inFeatures * l.outFeatures : 0), 0);
const input = syntheticInput(model, 1);
const inputBytes = encodeInlineInput(input);
const honest = executeVqm(model, input).trace;
const honestTrees = traceTrees(honest);
const specs = layerSpecs(model);
const blob = weightsBlob(model);
const weights = stepSource(blob);
const modelId = await registerModel(models.connect(owner!), {
  modelHash: ethers.keccak256(ethers.toUtf8Bytes(model.name)),
  contentId: model.name,
  price: FEE,
  royaltyBps: 0,
  inputShape: input.shape,
  outputShape: honest.at(-1)!.shape,
  inputDtype: "int8",
  outputDtype: "int32",
  verification: {
    mode: "optimistic",
    weightsRoot: weightsRoot(model),
    layoutRoot: layoutRoot(specs),
    layerCount: specs.length,
    challengeWindow: window,
  },
});

/** `trace` with element `element` of layer `layer` moved by one; later layers left as they were. */
function altered(layer: number, element: number): Tensor[] {
  const trace = honest.map((t) => ({ ...t, data: t.data.slice() }) as Tensor);
  const was = Number(trace[layer]!.data[element]);
  trace[layer]!.data[element] = was === 127 ? 126 : was + 1;
  return trace;
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

// ------------------------------------------------------------------------------------------------
// Gas bookkeeping

type Move = { move: string; side: "defender" | "challenger" | "anyone"; gas: bigint };
const allMoves: Move[] = [];

async function gasOf(tx: Promise<ContractTransactionResponse>): Promise<bigint> {
  return (await (await tx).wait())!.gasUsed;
}

async function track(moves: Move[], side: Move["side"], move: string, tx: Promise<ContractTransactionResponse>) {
  const gas = await gasOf(tx);
  moves.push({ move, side, gas });
  allMoves.push({ move, side, gas });
  return gas;
}

const sum = (moves: Move[], side: Move["side"]) => moves.filter((m) => m.side === side).reduce((a, m) => a + m.gas, 0n);
const eth = (wei: bigint, digits = 4) => Number(formatEther(wei)).toFixed(digits);
const atPrice = (gas: bigint) => gas * PRICE;
const now = async () => BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
const lifecycle: Record<string, bigint> = {};

/** A request for the model, claimed by `by` and submitted with `trace`'s roots and last layer. */
async function submitted(by: Signer, trace: Tensor[]): Promise<bigint> {
  const deadline = (await now()) + 86_400n;
  lifecycle["requestInference (Optimistic, 5-byte inline input)"] = await gasOf(
    market.connect(requester!).requestInference(modelId, inputBytes, FEE, deadline, ethers.ZeroAddress, 0, {
      value: FEE,
    }),
  );
  const id = await market.requestCount();
  lifecycle["claim (reserves the slash)"] = await gasOf(market.connect(by).claim(id));
  const roots = trace === honest ? honestTrees.roots : traceTrees(trace).roots;
  lifecycle["submitOptimistic (4 layer roots)"] = await gasOf(
    market.connect(by).submitOptimistic(id, encodeTensor(trace.at(-1)!), roots),
  );
  return id;
}

type Player = { signer: Signer; trees: TraceTrees; sums?: (element: number) => number[] };

/**
 * Opens a game over request `id` by `challenger` and plays it to the end: the defender's moves
 * from its trees and posted sums, the challenger's from its own. A challenger that walks away
 * (`walkAway.after` of its moves) stops moving; its clock then runs out and the other side
 * claims the timeout. Returns the moves and the winner.
 */
async function play(
  id: bigint,
  layer: number,
  defender: Player,
  challenger: Player,
  walkAway: { side: "defender" | "challenger"; after: number } | undefined = undefined,
): Promise<{ moves: Move[]; winner: bigint; gameId: bigint }> {
  const moves: Move[] = [];
  const spec: LayerSpec = specs[layer]!;
  const specBytes = encodeLayerSpec(spec);
  const inputA: StepSource = stepSource(spec.inputA === -1 ? elementBytes(input) : honestTrees.bytes[spec.inputA]!);
  const [d, c] = [game.connect(defender.signer), game.connect(challenger.signer)];
  await track(
    moves,
    "challenger",
    "challenge",
    c.challenge(
      id,
      {
        input: inputBytes,
        defenderRoots: defender.trees.roots,
        challengerRoots: challenger.trees.roots,
        layerSpec: specBytes,
        layoutProof: layoutProof(specs, layer),
      },
      { value: bond },
    ),
  );
  const gameId = await game.gameCount();
  const made = { defender: 0, challenger: 0 };
  let defenderSums: number[] = [];
  let challengerSums: number[] = [];
  for (;;) {
    const g = await game.getGame(gameId);
    const [height, position] = [Number(g.height), Number(g.position)];
    if (g.phase === Phase.Resolved) return { moves, winner: g.winner, gameId };
    const mover = g.turn === Side.Challenger ? "challenger" : "defender";
    if (walkAway?.side === mover && made[mover] >= walkAway.after) {
      await networkHelpers.time.increase(clock);
      const [winner, as] = mover === "challenger" ? (["defender", d] as const) : (["challenger", c] as const);
      const name =
        mover === "challenger" ? "claimTimeout (challenger out of time)" : "claimTimeout (provider out of time: slash)";
      await track(moves, winner, name, as.claimTimeout(gameId));
      continue;
    }
    made[mover]++;
    if (g.phase === Phase.Bisecting && g.turn === Side.Defender) {
      const [l, r] = nodeChildren(defender.trees, layer, height, position);
      await track(moves, "defender", "reveal", d.reveal(gameId, l, r));
    } else if (g.phase === Phase.Bisecting) {
      const [l, r] = nodeChildren(challenger.trees, layer, height, position);
      await track(moves, "challenger", "bisect", c.bisect(gameId, l, r));
    } else if (g.phase === Phase.AwaitChunk) {
      const chunk = chunkBytes(defender.trees, layer, position);
      await track(moves, "defender", "revealChunk", d.revealChunk(gameId, chunk));
    } else if (g.phase === Phase.AwaitStep) {
      const chunk = chunkBytes(defender.trees, layer, position);
      const offset = differingElement(challenger.trees, layer, position, chunk, Number(g.elementSize))!;
      const e = (position * 1024) / Number(g.elementSize) + offset;
      if (spec.kind === 0 && spec.params[0]! > MAX_FAN_IN) {
        await track(moves, "challenger", "openSum", c.openSum(gameId, chunk, offset, specBytes));
        defenderSums = defender.sums!(e);
        challengerSums = challenger.sums!(e);
      } else {
        const proof = stepProof(spec, e, weights, inputA);
        await track(moves, "challenger", "proveStep", c.proveStep(gameId, chunk, offset, specBytes, proof));
      }
    } else {
      const s = await game.getSum(gameId);
      const e = Number(s.element);
      if (g.phase === Phase.SumClaim) {
        const proof = sumParamsProof(spec, e, weights);
        await track(moves, "defender", "claimSum", d.claimSum(gameId, defenderSums.at(-1)!, specBytes, proof));
      } else if (g.phase === Phase.SumBisecting && g.turn === Side.Defender) {
        const mid = sumMidpoint(Number(s.lo), Number(s.hi));
        await track(moves, "defender", "postSum", d.postSum(gameId, defenderSums[mid]!));
      } else if (g.phase === Phase.SumBisecting) {
        const agree = agreesWithSum(challengerSums, Number(s.mid), s.sumMid);
        await track(moves, "challenger", "pickSum", c.pickSum(gameId, agree));
      } else {
        const proof = sumStepProof(spec, e, Number(s.lo), Number(s.hi), weights, inputA);
        await track(moves, "challenger", "proveSumStep", c.proveSumStep(gameId, specBytes, proof));
      }
    }
  }
}

/** Honest prefix sums of an element of layer `layer` (its input is the honest layer before it). */
const honestSums = (layer: number) => (e: number) =>
  prefixSums(specs[layer]!, e, blob, specs[layer]!.inputA === -1 ? elementBytes(input) : honestTrees.bytes[layer - 1]!);
/** Prefix sums that end at the altered element's value (honest up to the last). */
const alteredSums = (layer: number, trace: Tensor[]) => (e: number) => {
  const sums = honestSums(layer)(e);
  return [...sums.slice(0, -1), sumFor(model.layers[layer] as DenseLayer, e, Number(trace[layer]!.data[e]))];
};

const gameBalance = async (who: { getAddress(): Promise<string> }) => game.balanceOf(await who.getAddress());

// ------------------------------------------------------------------------------------------------
// Scenarios

const staked = async (who: HardhatEthersSigner, amount: bigint) => {
  await providers.connect(who).stake({ value: amount });
  await providers.connect(who).optIn(modelId);
};
await staked(provider!, 10n * PROFILE.minStake);

type Row = Record<string, string>;
const falseRows: Row[] = [];
const watcherRows: Row[] = [];
const tree = 0; // layer 0: 1,000,000 int8 outputs, 977 chunks, a tree of height 10
const reduction = 1; // layer 1: dense fan-in 1,000,000, 6 rounds of reduction bisection
const treeElement = 500_000;
const reductionElement = 5;

// False challenges against an honest provider: the attacker claims another value for one element.
for (const [name, layer, element, walkAway] of [
  ["tree (layer 0), played to the step", tree, treeElement, undefined],
  ["reduction (layer 1, fan-in 10^6), played to the step", reduction, reductionElement, undefined],
  ["attacker walks away after challenging", tree, treeElement, { side: "challenger", after: 0 }],
] as const) {
  const id = await submitted(provider!, honest);
  const attacker = nextSigner();
  const fake = altered(layer, element);
  const before = await gameBalance(provider!);
  const { moves, winner } = await play(
    id,
    layer,
    { signer: provider!, trees: honestTrees, sums: honestSums(layer) },
    { signer: attacker, trees: traceTrees(fake), sums: alteredSums(layer, fake) },
    walkAway,
  );
  if (winner !== Side.Defender) throw new Error(`${name}: the false challenge won.`);
  const reward = (await gameBalance(provider!)) - before;
  const [dGas, cGas] = [sum(moves, "defender"), sum(moves, "challenger")];
  falseRows.push({
    "false challenge": name,
    moves: String(moves.length),
    "attacker gas": String(cGas),
    "attacker loses (bond + gas)": `${eth(bond + atPrice(cGas))} ETH`,
    "defender gas": String(dGas),
    "defender's gas cost": `${eth(atPrice(dGas))} ETH`,
    "defender's reward": `${eth(reward)} ETH`,
  });
}

// Wrong results: an honest watcher wins each game.
for (const [name, layer, element, walkAway] of [
  ["tree (layer 0)", tree, treeElement, undefined],
  ["reduction (layer 1, fan-in 10^6)", reduction, reductionElement, undefined],
  ["provider never answers (timeout)", tree, treeElement, { side: "defender", after: 0 }],
] as const) {
  const cheat = altered(layer, element);
  const id = await submitted(provider!, cheat);
  const watcher = nextSigner();
  const { moves, winner } = await play(
    id,
    layer,
    { signer: provider!, trees: traceTrees(cheat), sums: alteredSums(layer, cheat) },
    { signer: watcher, trees: honestTrees, sums: honestSums(layer) },
    walkAway,
  );
  if (winner !== Side.Challenger) throw new Error(`${name}: the wrong result won.`);
  const cGas = sum(moves, "challenger");
  const credit = await gameBalance(watcher);
  watcherRows.push({
    "wrong result": name,
    moves: String(moves.length),
    "watcher gas": String(cGas),
    "watcher's gas cost": `${eth(atPrice(cGas))} ETH`,
    "watcher credited (bond + share of slash)": `${eth(credit)} ETH`,
    "net gain": `${eth(credit - bond - atPrice(cGas))} ETH`,
    "provider slashed": `${eth(slash)} ETH`,
    "requester refunded": (await market.statusOf(id)) === 6n ? "yes" : "no",
  });
}

// The n-th wrong result: a provider staked for exactly three Optimistic jobs cheats on all three.
const cheater = nextSigner();
await staked(cheater, 3n * reservation);
const nthCheat = altered(tree, treeElement);
const ids: bigint[] = [];
for (let i = 0; i < 3; i++) ids.push(await submitted(cheater, nthCheat));
let fourthClaim = "accepted";
{
  const deadline = (await now()) + 86_400n;
  await market.connect(requester!).requestInference(modelId, inputBytes, FEE, deadline, ethers.ZeroAddress, 0, {
    value: FEE,
  });
  const id4 = await market.requestCount();
  try {
    await market.connect(cheater).claim.staticCall(id4);
  } catch (error) {
    const data = (error as { data?: string }).data;
    fourthClaim = `refused: ${data ? (providers.interface.parseError(data)?.name ?? "reverted") : "reverted"}`;
  }
}
const nthRows: Row[] = [];
for (const [n, id] of ids.entries()) {
  const watcher = nextSigner();
  const [stakeBefore, reservedBefore] = [
    await providers.stakeOf(cheater.address),
    await providers.reservedOf(cheater.address),
  ];
  const { moves } = await play(
    id,
    tree,
    { signer: cheater, trees: traceTrees(nthCheat) },
    { signer: watcher, trees: honestTrees },
  );
  nthRows.push({
    "wrong result": `#${n + 1}`,
    "cheater's stake (reserved) before": `${eth(stakeBefore, 2)} (${eth(reservedBefore, 2)}) ETH`,
    "watcher gas": String(sum(moves, "challenger")),
    "watcher credited": `${eth(await gameBalance(watcher))} ETH`,
  });
}
const cheaterStakeAfter = await providers.stakeOf(cheater.address);

// Delaying an honest result: three griefing games opened in the last minute of the window; the
// defender answers at once, the griefers never move again and lose on time.
const delayed = await submitted(provider!, honest);
const windowEnd = await market.windowEndOf(delayed);
await networkHelpers.time.increaseTo(windowEnd - 60n);
const griefers = [nextSigner(), nextSigner(), nextSigner()];
const griefGames: bigint[] = [];
const griefMoves: Move[] = [];
const griefTrees = traceTrees(altered(tree, treeElement));
for (const griefer of griefers) {
  await track(
    griefMoves,
    "challenger",
    "challenge",
    game.connect(griefer).challenge(
      delayed,
      {
        input: inputBytes,
        defenderRoots: honestTrees.roots,
        challengerRoots: griefTrees.roots,
        layerSpec: encodeLayerSpec(specs[tree]!),
        layoutProof: layoutProof(specs, tree),
      },
      { value: bond },
    ),
  );
  const gameId = await game.gameCount();
  griefGames.push(gameId);
  const g = await game.getGame(gameId);
  const [l, r] = nodeChildren(honestTrees, tree, Number(g.height), Number(g.position));
  await track(griefMoves, "defender", "reveal", game.connect(provider!).reveal(gameId, l, r));
}
const openGames = await market.openGamesOf(delayed);
let honestLate = "no";
try {
  await market.finalize.staticCall(delayed);
  honestLate = "yes";
} catch {
  // Challenged while games are open: finalize waits.
}
await networkHelpers.time.increase(clock);
for (const gameId of griefGames)
  await track(
    griefMoves,
    "defender",
    "claimTimeout (challenger out of time)",
    game.connect(provider!).claimTimeout(gameId),
  );
lifecycle["finalize (no callback)"] = await gasOf(market.connect(provider!).finalize(delayed));
const finalizedAt = await now();

// ------------------------------------------------------------------------------------------------
// Output

const table = (rows: Row[]) => {
  const keys = Object.keys(rows[0]!);
  console.log(`| ${keys.join(" | ")} |`);
  console.log(`|${keys.map(() => "---").join("|")}|`);
  for (const row of rows) console.log(`| ${keys.map((k) => row[k]).join(" | ")} |`);
  console.log();
};

const gwei = formatUnits(PRICE, "gwei");
console.log(`\nDispute economics, testnet profile, gas priced at ${gwei} gwei (bondGasPrice)\n`);
console.log(`model: synthetic dense ${SIZES.join("-")} + argmax, ${params.toLocaleString("en")} parameters\n`);
table([
  { parameter: "challenge window (profile minimum)", value: `${window} s` },
  { parameter: "clock per side", value: `${clock} s` },
  { parameter: "slash (reserved at every Optimistic claim)", value: `${eth(slash, 2)} ETH` },
  { parameter: "reservation per Optimistic claim", value: `${eth(reservation, 2)} ETH` },
  {
    parameter: "challengerRewardBps / defenderRewardBps",
    value: `${PROFILE.challengerRewardBps} / ${PROFILE.defenderRewardBps}`,
  },
  { parameter: "bondFloor", value: `${eth(PROFILE.bondFloor, 2)} ETH` },
  {
    parameter: `DEFENDER_GAS_BOUND × ${gwei} gwei`,
    value: `${defenderGasBound} gas = ${eth(atPrice(defenderGasBound))} ETH`,
  },
  { parameter: "requiredBond = max(floor, bound × price × 10000 / defenderRewardBps)", value: `${eth(bond)} ETH` },
  {
    parameter: "defender's share of a lost bond",
    value: `${eth((bond * BigInt(PROFILE.defenderRewardBps)) / 10000n)} ETH`,
  },
]);

console.log("Gas of each move (every game played here)\n");
const byMove = new Map<string, { side: string; gas: bigint[] }>();
for (const m of allMoves) {
  const entry = byMove.get(m.move) ?? { side: m.side, gas: [] };
  entry.gas.push(m.gas);
  byMove.set(m.move, entry);
}
table(
  [...byMove].map(([move, { side, gas }]) => {
    const sorted = [...gas].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return {
      move,
      side: move.startsWith("claimTimeout") ? `anyone (here the ${side})` : side,
      count: String(gas.length),
      "gas min": String(sorted[0]),
      "gas max": String(sorted.at(-1)),
      [`max at ${gwei} gwei`]: `${eth(atPrice(sorted.at(-1)!), 5)} ETH`,
    };
  }),
);

console.log("Request lifecycle of this model (last measured)\n");
table(Object.entries(lifecycle).map(([call, gas]) => ({ call, gas: String(gas) })));

console.log("False challenges against an honest provider\n");
table(falseRows);
console.log("Wrong results against one honest watcher\n");
table(watcherRows);
console.log(
  `Three wrong results on a stake of ${eth(3n * reservation, 2)} ETH (three reservations); a fourth claim: ${fourthClaim}\n`,
);
table(nthRows);
console.log(`cheater's stake after the three slashes: ${eth(cheaterStakeAfter, 2)} ETH\n`);

const griefChallengeGas = griefMoves.filter((m) => m.move === "challenge").map((m) => m.gas);
console.log("Delaying an honest result: three griefing games opened 60 s before the window ends\n");
table([
  { measure: "games open at once", value: String(openGames) },
  { measure: "finalize possible while they are open", value: honestLate },
  { measure: "finalized after windowEnd", value: `${finalizedAt - windowEnd} s (bound: 2 clocks = ${2n * clock} s)` },
  {
    measure: "each griefer loses",
    value: `${eth(bond)} ETH bond + ${griefChallengeGas[0]} gas = ${eth(bond + atPrice(griefChallengeGas[0]!))} ETH`,
  },
  {
    measure: "defender per griefing game",
    value: `gas ${sum(griefMoves, "defender") / BigInt(griefers.length)} (reveal + claimTimeout), reward ${eth((bond * BigInt(PROFILE.defenderRewardBps)) / 10000n)} ETH`,
  },
  {
    measure: "last-resort refund of a Challenged request",
    value: `after windowEnd + ${4n * clock} s (2 × maxDuration)`,
  },
]);
