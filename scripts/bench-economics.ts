/**
 * Dispute economics (part of `npm run bench`): what each attack on an Optimistic result costs
 * and earns, with the `testnet` deploy profile's parameters (oracle/chain/deploy-profiles.ts),
 * on an in-process Hardhat chain. Real games are played to the end by the game driver of
 * oracle/devnet/play-game.ts over a synthetic dense model of 14M parameters (4-1000000-10-2 and
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
import { findRequestParams } from "../oracle/chain/request-params.ts";
import { DEPLOY_PROFILES } from "../oracle/chain/deploy-profiles.ts";
import { deployWithProfile } from "../oracle/chain/deploy-with-profile.ts";
import { GameSide } from "../oracle/chain/dispute-game.ts";
import { cheatedStates, withElementMoved } from "../oracle/devnet/cheat-trace.ts";
import { GasLog, type GasEntry } from "../oracle/devnet/gas-log.ts";
import { layerKit } from "../oracle/dispute/layer-kit.ts";
import { challengeParams, openGame } from "../oracle/devnet/open-game.ts";
import { playGame, type Player } from "../oracle/devnet/play-game.ts";
import { registerOptimistic } from "../oracle/devnet/register-optimistic.ts";
import { elementBytes, nodeChildren, traceTrees } from "../oracle/dispute/moves.ts";
import { encodeInlineInput } from "../oracle/model/input-envelope.ts";
import { encodeTensor } from "../oracle/model/tensor-codec.ts";
import type { Tensor } from "../oracle/model/tensor.ts";
import { executeVqm } from "../oracle/model/vqm/reference-executor.ts";
import { syntheticInput, syntheticMlp } from "../oracle/model/vqm/synthetic-vqm.ts";
import type * as Contracts from "../types/ethers-contracts/index.ts";

const PROFILE = DEPLOY_PROFILES.testnet;
const PRICE = PROFILE.bondGasPrice; // wei per gas at which every cost below is priced
const SIZES = [4, 1_000_000, 10, 2];
const FEE = 10n ** 16n; // 0.01 ETH per request

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
const reg = await registerOptimistic(models.connect(owner!), {
  model,
  contentId: model.name,
  price: FEE,
  window,
});
const modelId = reg.modelId;

/** The honest trace with element `element` of layer `layer` moved by one; later layers left as they were. */
const altered = (layer: number, element: number): Tensor[] => withElementMoved(honest, layer, element);

// ------------------------------------------------------------------------------------------------
// Gas bookkeeping

/** Every move of every game played here, for the table of gas per move. */
const allMoves = new GasLog();

async function gasOf(tx: Promise<ContractTransactionResponse>): Promise<bigint> {
  return (await (await tx).wait())!.gasUsed;
}

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

/**
 * Opens a game over request `id` by `challenger` and plays it to the end with both sides' moves
 * (oracle/devnet/play-game.ts): a side that stops lets its clock run out, and the other side
 * claims the timeout. Returns the game's moves and its winner.
 */
async function play(id: bigint, defender: Player, challenger: Player): Promise<{ moves: GasLog; winner: bigint }> {
  const moves = new GasLog(allMoves);
  const gameId = await openGame(game, {
    challenger: challenger.signer,
    requestId: id,
    params: challengeParams(
      reg,
      await findRequestParams(market, id),
      inputBytes,
      defender.trees.roots,
      challenger.trees.roots,
    ),
    bond,
    gas: moves,
  });
  const { view } = await playGame(game, {
    gameId,
    model: reg,
    input: elementBytes(input),
    trace: honestTrees.bytes,
    defender,
    challenger,
    increaseTime: (seconds) => networkHelpers.time.increase(seconds),
    gas: moves,
  });
  return { moves, winner: view.winner };
}

/** The states of a side whose `trace` moved an element of layer `layer`: honest but the last, which finishes to it. */
const alteredStates = (layer: number, trace: Tensor[]) =>
  cheatedStates({
    model,
    layer,
    cheat: trace,
    honest: layerKit(reg, layer, elementBytes(input), honestTrees.bytes).states,
  });
/** A side that never moves after the challenge. */
const stops = { pace: { stopAfter: 0 } } as const;

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
for (const [name, layer, element, walksAway] of [
  ["tree (layer 0), played to the step", tree, treeElement, false],
  ["reduction (layer 1, fan-in 10^6), played to the step", reduction, reductionElement, false],
  ["attacker walks away after challenging", tree, treeElement, true],
] as const) {
  const id = await submitted(provider!, honest);
  const attacker = nextSigner();
  const fake = altered(layer, element);
  const before = await gameBalance(provider!);
  const { moves, winner } = await play(
    id,
    { signer: provider!, trees: honestTrees },
    { signer: attacker, trees: traceTrees(fake), states: alteredStates(layer, fake), ...(walksAway ? stops : {}) },
  );
  if (winner !== BigInt(GameSide.Defender)) throw new Error(`${name}: the false challenge won.`);
  const reward = (await gameBalance(provider!)) - before;
  const [dGas, cGas] = [moves.total("defender"), moves.total("challenger")];
  falseRows.push({
    "false challenge": name,
    moves: String(moves.all.length),
    "attacker gas": String(cGas),
    "attacker loses (bond + gas)": `${eth(bond + atPrice(cGas))} ETH`,
    "defender gas": String(dGas),
    "defender's gas cost": `${eth(atPrice(dGas))} ETH`,
    "defender's reward": `${eth(reward)} ETH`,
  });
}

// Wrong results: an honest watcher wins each game.
for (const [name, layer, element, neverAnswers] of [
  ["tree (layer 0)", tree, treeElement, false],
  ["reduction (layer 1, fan-in 10^6)", reduction, reductionElement, false],
  ["provider never answers (timeout)", tree, treeElement, true],
] as const) {
  const cheat = altered(layer, element);
  const id = await submitted(provider!, cheat);
  const watcher = nextSigner();
  const { moves, winner } = await play(
    id,
    {
      signer: provider!,
      trees: traceTrees(cheat),
      states: alteredStates(layer, cheat),
      ...(neverAnswers ? stops : {}),
    },
    { signer: watcher, trees: honestTrees },
  );
  if (winner !== BigInt(GameSide.Challenger)) throw new Error(`${name}: the wrong result won.`);
  const cGas = moves.total("challenger");
  const credit = await gameBalance(watcher);
  watcherRows.push({
    "wrong result": name,
    moves: String(moves.all.length),
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
    { signer: cheater, trees: traceTrees(nthCheat) },
    { signer: watcher, trees: honestTrees },
  );
  nthRows.push({
    "wrong result": `#${n + 1}`,
    "cheater's stake (reserved) before": `${eth(stakeBefore, 2)} (${eth(reservedBefore, 2)}) ETH`,
    "watcher gas": String(moves.total("challenger")),
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
const griefMoves = new GasLog(allMoves);
const griefTrees = traceTrees(altered(tree, treeElement));
const delayedParams = await findRequestParams(market, delayed);
for (const griefer of griefers) {
  const gameId = await openGame(game, {
    challenger: griefer,
    requestId: delayed,
    params: challengeParams(reg, delayedParams, inputBytes, honestTrees.roots, griefTrees.roots),
    bond,
    gas: griefMoves,
  });
  griefGames.push(gameId);
  const g = await game.getGame(gameId);
  const [l, r] = nodeChildren(honestTrees, tree, Number(g.height), Number(g.position));
  await griefMoves.record("reveal", game.connect(provider!).reveal(gameId, l, r), "defender");
}
const openGames = await market.openGamesOf(delayed);
let honestLate = "no";
try {
  await market.finalize.staticCall(delayed, delayedParams);
  honestLate = "yes";
} catch {
  // Challenged while games are open: finalize waits.
}
await networkHelpers.time.increase(clock);
for (const gameId of griefGames)
  await griefMoves.record("claimTimeout", game.connect(provider!).claimTimeout(gameId), "defender");
lifecycle["finalize (no callback)"] = await gasOf(market.connect(provider!).finalize(delayed, delayedParams));
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
/** A move's row: a timeout claim by the defender means the challenger ran out of time, and the other way round. */
const moveLabel = ({ name, side }: GasEntry) =>
  name !== "claimTimeout"
    ? name
    : side === "defender"
      ? "claimTimeout (challenger out of time)"
      : "claimTimeout (provider out of time: slash)";
const byMove = new Map<string, { side: string; gas: bigint[] }>();
for (const m of allMoves.all) {
  const entry = byMove.get(moveLabel(m)) ?? { side: m.side, gas: [] };
  entry.gas.push(m.gas);
  byMove.set(moveLabel(m), entry);
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

const griefChallengeGas = griefMoves.all.filter((m) => m.name === "challenge").map((m) => m.gas);
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
    value: `gas ${griefMoves.total("defender") / BigInt(griefers.length)} (reveal + claimTimeout), reward ${eth((bond * BigInt(PROFILE.defenderRewardBps)) / 10000n)} ETH`,
  },
  {
    measure: "last-resort refund of a Challenged request",
    value: `after windowEnd + ${4n * clock} s (2 × maxDuration)`,
  },
]);
