/**
 * A dispute over one wrong token of a generation, with real daemons (issue 11): the synthetic
 * GPT-2-shaped decoder of bench-transformer.ts (`synthetic-gpt.ts`; ~100M parameters by default)
 * compiled for a 16-token prompt and 32 generated tokens, written to a model folder and
 * registered Optimistic with `verity model register DIR --mode optimistic` on a local chain (the
 * Optimistic suite of the dispute tests: devnet, market, dispute game). A provider daemon that
 * changes one generated token (TEST-ONLY `testing.cheat` at the argmax of that token's pass,
 * token 17 of 32 by default) and a watchtower daemon serve it from that folder, each its own
 * process. The watchtower re-runs the generation, challenges at the first differing pass, and
 * both play the game to the end.
 *
 * Two ways of changing the token, each its own request and provider (`--cheat`, both by default):
 * `token`, the argmax's output itself (the game narrows to a one-element layer: no bisection),
 * and `logit`, the LM head's logit of the honest token lowered by 64 so that another id wins (the
 * game bisects into that vocabulary-wide layer and proves one element: at ~100M, 8192 logits and a
 * 768-term dot product).
 *
 * Measured: each side's moves by name (challenge, RevealLayers, bisection rounds, chunk,
 * step/reduction), the largest single transaction and its move (goal ≤ 5M gas), each side's
 * total gas (moves, plus the provider's claim and submission and each side's withdrawal), the
 * wall time from the submission to the slash (the request seen Refunded), and the seconds each
 * daemon spent generating (the provider) and re-executing (the watchtower). Prints a markdown
 * table; exits 1 unless every cheat is slashed.
 *
 *   node scripts/bench-transformer-dispute.ts [--model 100m|10m|tiny] [--cheat token,logit] [--cheat-token 17]
 *     [--calibration-prompts 4] [--keep]
 *
 * The model can also be named by VERITY_BENCH_DISPUTE_MODEL (the flag wins); `tiny` is a smoke
 * run of under a minute.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs, promisify } from "node:util";
import { formatEther } from "ethers";
import { connectSuite } from "../oracle/chain/connect.ts";
import { requestStatusName } from "../oracle/chain/request-status.ts";
import { startOptimisticSuite } from "../oracle/devnet/optimistic-suite.ts";
import { spawnDaemon, type DaemonLogLine, type SpawnedDaemon } from "../oracle/devnet/spawn-daemon.ts";
import type { Cheat } from "../oracle/dispute/cheat.ts";
import { generateVqm } from "../oracle/model/vqm/sequence-executor.ts";
import type { Tensor } from "../oracle/model/tensor.ts";
import { writeVqm } from "../oracle/model/vqm/vqm-files.ts";
import { sleep } from "../oracle/util/retry.ts";
import { assertGptPresets, syntheticDecoder } from "./synthetic-gpt.ts";

const { values } = parseArgs({
  options: {
    model: { type: "string", default: process.env.VERITY_BENCH_DISPUTE_MODEL ?? "100m" },
    cheat: { type: "string", default: "token,logit" },
    "cheat-token": { type: "string", default: "17" },
    "calibration-prompts": { type: "string", default: "4" },
    keep: { type: "boolean", default: false },
  },
});
const label = values.model;
assertGptPresets([label]);
const cheatKinds = ["token", "logit"] as const;
type CheatKind = (typeof cheatKinds)[number];
const kinds = values.cheat.split(",").filter((kind) => kind !== "") as CheatKind[];
for (const kind of kinds)
  if (!cheatKinds.includes(kind)) throw new RangeError(`Unknown --cheat "${kind}"; use ${cheatKinds.join(", ")}.`);
const promptLength = 16;
const newTokens = 32;
/** 1-based, as "token 17 of 32": gen[k − 1], the argmax of pass P − 1 + (k − 1). */
const cheatToken = Number(values["cheat-token"]);
const calibrationPrompts = Number(values["calibration-prompts"]);
if (!Number.isInteger(cheatToken) || cheatToken < 1 || cheatToken > newTokens)
  throw new RangeError(`--cheat-token must be an integer from 1 to ${newTokens}.`);
if (!Number.isInteger(calibrationPrompts) || calibrationPrompts < 1)
  throw new RangeError("--calibration-prompts must be a positive integer.");
const WINDOW = 600;
/** How far the `logit` cheat lowers the winning logit (int8): far enough for another id to win. */
const LOGIT_DROP = 64;
const execFileAsync = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, "..");

const log = (line: string) => console.error(`[bench-transformer-dispute] ${line}`);
const started = Date.now();
const { shape, parameters, model, prng, config } = syntheticDecoder(
  { label, calibrationPrompts, promptLength, newTokens },
  log,
);
const prompt: Tensor = {
  dtype: "int32",
  shape: [1, promptLength],
  data: Int32Array.from({ length: promptLength }, () => prng.int(config.vocabSize)),
};
const cheatPass = promptLength - 1 + (cheatToken - 1);
const argmaxLayer = model.layers.length - 1;
/** The honest token at `cheatPass`, whose logit the `logit` cheat lowers. */
const honestToken = kinds.includes("logit") ? Number(generateVqm(model, prompt).output.data[cheatToken - 1]!) : 0;
const cheats: Record<CheatKind, Cheat> = {
  token: { pass: cheatPass, layer: argmaxLayer, element: 0, delta: 1 },
  logit: { pass: cheatPass, layer: argmaxLayer - 1, element: honestToken, delta: -LOGIT_DROP },
};

const dir = mkdtempSync(path.join(tmpdir(), "verity-bench-transformer-dispute-"));
const folder = path.join(dir, `gpt-${label}`);
const opt = await startOptimisticSuite({ dir, models: [], challengeWindowSec: WINDOW });
type Side = "provider" | "watchtower";
const lines: { side: Side; line: DaemonLogLine; at: number }[] = [];
const parties: SpawnedDaemon[] = [];
const gas = (n: number) => n.toLocaleString("en-US");
const tables: string[] = [];
let ok = kinds.length > 0;
try {
  await writeVqm(path.join(folder, "vqm"), model);
  // Registered as an operator would: the CLI reads the folder and derives every root itself.
  const registered = await execFileAsync(
    process.execPath,
    [
      path.join(repoRoot, "bin/verity.js"),
      ...["model", "register", folder, "--mode", "optimistic", "--window", String(WINDOW), "--price", "0.01"],
      ...["--rpc", opt.local.devnet.url, "--deployment", opt.local.deploymentFile],
    ],
    {
      cwd: repoRoot,
      env: { ...process.env, VERITY_PRIVATE_KEY: opt.local.actors.modelOwner.privateKey },
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  const modelId = BigInt(/model (\d+) registered/.exec(registered.stdout)![1]!);
  log(`model ${modelId} registered Optimistic: ${model.layers.length} layers a pass`);
  await (await connectSuite(opt.local.deployment, opt.actors.cheater).providerRegistry.optIn(modelId)).wait();

  const spawnSide = (side: Side, cheat?: Cheat) =>
    spawnDaemon({
      config: { ...opt.config(side, [], cheat), models: [{ id: modelId.toString(), folder }] },
      dir,
      name: side,
      privateKey: (side === "provider" ? opt.actors.cheater : opt.actors.watcher).privateKey,
      command: side === "provider" ? ["provider", "start"] : ["watch"],
      env: cheat ? { VERITY_ALLOW_CHEAT: "1" } : {},
      onLog: (line) => {
        lines.push({ side, line, at: Date.now() });
        if (line.msg === "game move")
          log(`${side}: ${String(line.move)} pass ${line.pass} layer ${line.layer} gas ${line.gasUsed}`);
        else if (line.level !== "debug") log(`${side}: ${line.msg}`);
      },
    });
  const watchtower = spawnSide("watchtower");
  parties.push(watchtower);
  await watchtower.waitForLog((line) => line.msg === "watchtower started", 600_000);
  for (const kind of kinds) {
    const provider = spawnSide("provider", cheats[kind]);
    parties.push(provider);
    await provider.waitForLog((line) => line.msg === "provider daemon started", 600_000);
    const { table, slashed } = await disputeOne(kind, modelId, provider, watchtower);
    await provider.stop();
    tables.push(table);
    ok &&= slashed;
  }
} finally {
  for (const party of parties) await party.stop();
  await opt.close();
  if (values.keep) log(`files kept in ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
for (const table of tables) console.log(table);
console.log(`Whole run ${((Date.now() - started) / 1000).toFixed(0)} s.`);
if (!ok) log("UNEXPECTED OUTCOME");
process.exit(ok ? 0 : 1);

/**
 * One request served by the cheating `provider` and disputed by `watchtower` to the slash: its
 * figures as a markdown table, and whether the cheater was slashed at the cheated pass.
 */
async function disputeOne(
  kind: CheatKind,
  modelId: bigint,
  provider: SpawnedDaemon,
  watchtower: SpawnedDaemon,
): Promise<{ table: string; slashed: boolean }> {
  const registry = opt.local.suite.providerRegistry;
  const market = opt.local.suite.inferenceMarket;
  const stakeBefore = await registry.stakeOf(opt.actors.cheater.address);
  const id = await opt.ask(modelId, prompt);
  const forId = (msg: string) => (line: DaemonLogLine) => line.msg === msg && line.requestId === id.toString();
  let status = "";
  for (const until = Date.now() + 3_600_000; !["Refunded", "Finalized"].includes(status); await sleep(200)) {
    status = requestStatusName(await market.statusOf(id));
    if (Date.now() > until) throw new Error(`request ${id} still ${status} after an hour`);
  }
  const slashedAt = Date.now();
  await provider.waitForLog(forId("optimistic result settled"), 600_000);
  await watchtower.waitForLog(forId("game credit withdrawn"), 600_000);
  const stakeAfter = await registry.stakeOf(opt.actors.cheater.address);

  const ours = lines.filter((e) => e.line.requestId === id.toString());
  const find = (side: Side, msg: string) => ours.find((e) => e.side === side && e.line.msg === msg);
  const submitted = find("provider", "optimistic result submitted")!;
  const challenged = find("watchtower", "result differs from our trace, challenging");
  // Every transaction of each side over the request: game moves, the provider's claim and submission, each side's withdrawal.
  const gasLines = (side: Side) =>
    ours
      .filter((e) => e.side === side && e.line.gasUsed !== undefined)
      .map((e) => ({
        name: e.line.msg === "game move" ? String(e.line.move) : e.line.msg,
        gas: Number(e.line.gasUsed),
      }));
  const all = [...gasLines("provider"), ...gasLines("watchtower")];
  const largest = all.reduce((a, b) => (b.gas > a.gas ? b : a));
  const block = await opt.local.rpc.getBlock("latest");
  const what =
    kind === "token"
      ? `the argmax's output (layer ${cheats.token.layer}) +1`
      : `the LM head's logit of the honest token ${honestToken} (layer ${cheats.logit.layer}) −${LOGIT_DROP}`;
  const out: string[] = [
    `Dispute of one changed token (token ${cheatToken} of ${newTokens}, pass ${cheatPass}; cheat: ${what}) after a ${promptLength}-token prompt, ${label} (${shape}, ${parameters.toLocaleString("en-US")} parameters), real daemons on a local chain (block gas limit ${gas(Number(block!.gasLimit))}):\n`,
    "| side | transactions (count × name, largest gas) | total gas |",
    "|---|---|---:|",
  ];
  for (const side of ["provider", "watchtower"] as const) {
    const byName = new Map<string, { count: number; max: number }>();
    for (const { name, gas: g } of gasLines(side)) {
      const entry = byName.get(name) ?? { count: 0, max: 0 };
      byName.set(name, { count: entry.count + 1, max: Math.max(entry.max, g) });
    }
    const moves = [...byName].map(([name, { count, max }]) => `${count} × ${name} (${gas(max)})`).join(", ");
    out.push(`| ${side} | ${moves} | ${gas(gasLines(side).reduce((n, e) => n + e.gas, 0))} |`);
  }
  // The watchtower reads the model folder when a result first needs it: part of the first dispute's time only.
  const loaded = lines.find(
    (e) => e.side === "watchtower" && e.line.msg === "optimistic model loaded" && e.at >= submitted.at,
  );
  const moves = ours.filter((e) => e.line.msg === "game move").length;
  const seconds = (side: Side, msg: string) => find(side, msg)?.line.seconds;
  out.push(
    "",
    `- moves in the game: ${moves} (both sides), of which ${all.filter((e) => e.name === "bisect").length} bisection rounds`,
    `- largest transaction: ${largest.name}, ${gas(largest.gas)} gas (goal ≤ 5,000,000)`,
    `- wall time from the submission to the slash: ${((slashedAt - submitted.at) / 1000).toFixed(1)} s` +
      (challenged ? ` (challenge ${((challenged.at - submitted.at) / 1000).toFixed(1)} s after the submission)` : "") +
      (loaded
        ? `; the watchtower had read the model folder ${((loaded.at - submitted.at) / 1000).toFixed(1)} s after the submission`
        : "; the watchtower had the model loaded"),
    `- generation: provider ${seconds("provider", "generated")} s, watchtower's re-execution ${seconds("watchtower", "result re-executed")} s (${promptLength + newTokens - 1} passes, reference executor with trace)`,
    `- posted output first differs at byte ${challenged?.line.outputByte ?? "none (the token did not change)"}; cheater's stake ${formatEther(stakeBefore)} → ${formatEther(stakeAfter)} ETH; request ${status}`,
    "",
  );
  const slashed = status === "Refunded" && stakeAfter < stakeBefore && challenged?.line.pass === cheatPass;
  return { table: out.join("\n"), slashed };
}
