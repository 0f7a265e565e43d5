/**
 * `npm run demo:agent`: an agent that acts only on verified inference, within a budget and a
 * policy, on one machine. A local chain with the suite and the agent contracts; the spam
 * classifier (models/spam) registered in Zk mode; a provider daemon serving it, with its keeper
 * role on; a guestbook whose guard is a content-moderation agent. People post held-out messages
 * of the spam corpus; for each post the guestbook gives the agent a task, the keeper wakes it (and
 * is paid its tip from the agent's budget), the agent requests the classifier with the input the
 * guestbook computes on-chain from the post (`featuresOf`: anyone can check it), the provider
 * proves the result, and on the Finalized result the agent's one allowed action hides the post
 * when the model says spam. Every post is printed with its decision, gas and the budget left; at
 * the end, the agent's record and an ERC-8004 validation answer for one action.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { formatEther, parseEther, Wallet } from "ethers";
import type { Guestbook } from "../types/ethers-contracts/examples/Guestbook.ts";
import { heldOutMessages, isAscii } from "../test/examples/spam-corpus.ts";
import { connectAgentAccount, connectAgentRegistry } from "../oracle/agents/agent-contracts.ts";
import { createAgent } from "../oracle/agents/create-agent.ts";
import { fundAgent } from "../oracle/agents/fund-agent.ts";
import { getAgentStatus } from "../oracle/agents/get-agent-status.ts";
import { parsePolicyObject } from "../oracle/agents/policy-file.ts";
import { validateAgentRequest } from "../oracle/agents/validate-agent-request.ts";
import { attach } from "../oracle/chain/connect.ts";
import { deployContract } from "../oracle/chain/deploy-suite.ts";
import { startLocalSuite } from "../oracle/devnet/local-suite.ts";
import { spawnDaemon, type DaemonLogLine } from "../oracle/devnet/spawn-daemon.ts";
import { DEV_PRIVATE_KEYS } from "../oracle/devnet/start-devnet.ts";
import { registerZkModel } from "../oracle/devnet/zk-suite.ts";
import { argmax } from "../oracle/model/argmax.ts";
import { quantiseInput } from "../oracle/model/quantise/fixed-point.ts";
import { featuriseText } from "../oracle/model/text/featurise-text.ts";
import { executeVqm } from "../oracle/model/vqm/reference-executor.ts";
import { sleep } from "../oracle/util/retry.ts";

const keep = process.argv.includes("--keep");
const dir = mkdtempSync(path.join(tmpdir(), "verity-agent-demo-"));
const started = Date.now();
const say = (line: string) => console.log(line);
const spamDir = path.resolve(import.meta.dirname, "../models/spam");
/** Posts of each class, from the held-out part of the corpus (ASCII, short enough to read). */
const PER_CLASS = 3;
const MAX_TEXT_BYTES = 1200;
const labels = ["ham", "spam"];
const gas = (value: bigint | number) => Number(value).toLocaleString("en-US");
const spamAccuracy = (
  JSON.parse(readFileSync(path.join(spamDir, "spam.json"), "utf8")) as { intHeldOutAccuracy: number }
).intHeldOutAccuracy;

say("Verity agent demo: a content-moderation agent guards a guestbook");
const local = await startLocalSuite({ dir });
const { provider: operator, user: owner } = local.actors;
const zk = await registerZkModel(local, { dir: spamDir, price: parseEther("0.001") });
const registry = connectAgentRegistry(local.deployment, owner);
say(`  chain       ${local.devnet.url} (chain id ${local.deployment.chainId})`);
say(`  market      ${local.deployment.contracts.inferenceMarket}`);
say(
  `  agents      registry ${local.deployment.contracts.agentRegistry}, validator ${local.deployment.contracts.verityValidator}`,
);
say(
  `  model       #${zk.modelId} ${zk.manifest.name} (ham/spam MLP 512→32→2), Zk mode (Groth16 verifier ${zk.adapter}), ` +
    `price ${formatEther(zk.price)} ETH`,
);

// The guestbook, and its guard: an agent whose one action is hide(postId) on a spam decision.
const guestbookAddress = await (await deployContract(owner, "Guestbook")).getAddress();
const guestbook = attach<Guestbook>("Guestbook", guestbookAddress, owner);
const policy = parsePolicyObject(
  {
    model: zk.modelId.toString(),
    modes: ["zk"],
    maxFeePerRequest: formatEther(zk.price),
    spendPerPeriod: "0.05",
    period: "1d",
    maxKeeperTip: "0.001",
    keeperTip: "0.001",
    interval: 0,
    requestTtl: "10m",
    callbackGasLimit: 300_000,
    actionGasLimit: 100_000,
    input: { kind: "viewCall", target: guestbookAddress, selector: "featuresOf(uint256)" },
    decision: { kind: "argmax" },
    actions: { "1": { target: guestbookAddress, selector: "hide(uint256)", arg: "taskArg" } },
  },
  "the demo's policy",
);
const agent = await createAgent(registry, local.content, {
  name: "guestbook-guard",
  description: "Hides guestbook posts the spam classifier (Zk mode) finds to be spam.",
  policy,
});
const account = agent.account;
const agentAccount = connectAgentAccount(account, owner);
await (await guestbook.setGuard(account)).wait();
// The guestbook posts tasks for free as an operator; the agent's budget pays every request.
await (await registry.setOperator(agent.agentId, guestbookAddress, true)).wait();
await fundAgent(owner, { account, amount: parseEther("0.02") });
say(`  guestbook   ${guestbookAddress}`);
say(
  `  agent       #${agent.agentId} ${agent.registration.name}, account ${account}, owner ${owner.address}, ` +
    `created for ${gas(agent.receipt.gasUsed)} gas`,
);
say(`              agentURI ${agent.agentURI} (registration file in the content store)`);
say(
  `              policy: model #${zk.modelId}, Zk results only, at most ${formatEther(zk.price)} ETH a request, ` +
    `0.05 ETH a day, keeper tip 0.001 ETH`,
);
say(
  `              input guestbook.featuresOf(postId) (computed on-chain), decision argmax, on "spam": guestbook.hide(postId)`,
);
say(`              budget 0.02 ETH`);

// The provider daemon serves the model from its folder and keeps the agent.
const events: DaemonLogLine[] = [];
const daemon = spawnDaemon({
  config: local.daemonConfig({
    models: [{ id: zk.modelId.toString(), folder: spamDir }],
    keeper: { enabled: true, agents: [agent.agentId.toString()], pollIntervalMs: 100 },
  }),
  dir,
  privateKey: operator.privateKey,
  onLog: (line) => {
    events.push(line);
    if (line.level === "error") say(`  [daemon] ERROR ${line.msg} ${JSON.stringify(line.error ?? "")}`);
  },
});
say(`  provider    ${operator.address} serves model #${zk.modelId} and keeps agent #${agent.agentId}`);

let ok = false;
try {
  await daemon.waitForLog((line) => line.msg === "provider daemon started");
  await daemon.waitForLog((line) => line.msg === "keeper started");

  const seen = new Set<string>();
  const messages = (await heldOutMessages()).filter((m) => {
    // The corpus holds near-copies of some mails: one of each.
    const text = m.text.trim();
    const key = text.replace(/\s+/g, " ").slice(0, 120);
    const fresh = !seen.has(key);
    seen.add(key);
    return fresh && isAscii(m.text) && text.length > 0 && Buffer.byteLength(m.text) <= MAX_TEXT_BYTES;
  });
  const chosen = [
    ...messages.filter((m) => m.spam).slice(0, PER_CLASS),
    ...messages.filter((m) => !m.spam).slice(0, PER_CLASS),
  ];
  // Interleaved: spam, ham, spam, ham, …
  const posts = chosen.slice(0, PER_CLASS).flatMap((spam, i) => [spam, chosen[PER_CLASS + i]!]);
  const people = [DEV_PRIVATE_KEYS[4], DEV_PRIVATE_KEYS[5]].map((key) => new Wallet(key, local.rpc));

  say("");
  say("posts (held-out messages of the spam corpus; label = the corpus's, model = what the agent acted on)");
  const outcomes: {
    postId: bigint;
    label: string;
    reference: string;
    decision: string;
    hidden: boolean;
    requestId: bigint;
  }[] = [];
  for (const [i, message] of posts.entries()) {
    const poster = people[i % people.length]!;
    const posted = await (await guestbook.connect(poster).post(message.text)).wait();
    const [event] = await guestbook.queryFilter(guestbook.filters.Posted(), posted!.blockNumber, posted!.blockNumber);
    const { postId, taskId } = event!.args;
    const woken = await waitForEvent(() => agentAccount.queryFilter(agentAccount.filters.Woken(undefined, taskId)));
    const requestId = woken.args.requestId;
    // The result is in once the account no longer awaits it (the decision and action are in the same transaction).
    const [finalized] = await waitForEvent(async () =>
      (await agentAccount.requestOf(requestId)).pending
        ? []
        : [
            await local.suite.inferenceMarket.queryFilter(
              local.suite.inferenceMarket.filters.RequestFinalized(requestId),
            ),
          ],
    );
    const [made] = await agentAccount.queryFilter(agentAccount.filters.DecisionMade(requestId));
    const decided = { decision: made ? labels[Number(made.args.decision)]! : "none" };
    const wakeReceipt = await local.rpc.getTransactionReceipt(woken.transactionHash);
    const settleReceipt = await local.rpc.getTransactionReceipt(finalized!.transactionHash);
    const [action] = await agentAccount.queryFilter(agentAccount.filters.ActionExecuted(requestId));
    const hidden = await guestbook.isHidden(postId);
    const { decision } = decided;
    // What the model says off-chain (the reference executor on the same features): the check.
    const input = quantiseInput(featuriseText(message.text), zk.manifest.input.scale);
    const reference = labels[argmax(executeVqm(zk.model, { dtype: "int8", shape: [1, 512], data: input }).output)]!;
    outcomes.push({ postId, label: message.spam ? "spam" : "ham", reference, decision, hidden, requestId });
    const preview = message.text.replace(/\s+/g, " ").trim().slice(0, 56);
    say(`  post ${postId} by ${poster.address.slice(0, 8)}… "${preview}${message.text.length > 56 ? "…" : ""}"`);
    say(
      `         label ${(message.spam ? "spam" : "ham").padEnd(4)} model ${decision.padEnd(4)} → ${hidden ? "HIDDEN" : "kept"}` +
        `${action ? ` (action hide: ${action.args.success ? "done" : "FAILED"})` : ""}; ` +
        `request ${requestId}, wake ${gas(wakeReceipt!.gasUsed)} gas (tip ${formatEther(woken.args.tip)} ETH to the keeper), ` +
        `proof+settle+decision${action ? "+action" : ""} ${gas(settleReceipt!.gasUsed)} gas; ` +
        `budget left ${formatEther(await local.rpc.getBalance(account))} ETH`,
    );
    if (decision !== (message.spam ? "spam" : "ham"))
      say(
        `         (the model errs on this one: ${(100 * spamAccuracy).toFixed(1)} % of held-out messages it gets right)`,
      );
  }

  const status = await getAgentStatus(registry, local.suite.modelRegistry, local.suite.inferenceMarket, {
    agentId: agent.agentId,
    account: agentAccount,
  });
  const r = status.record;
  say("");
  say("the agent's record (read from the account; the trail is rebuilt from events by `verity agent status`)");
  say(
    `  wakes ${r.wakes}, requests ${r.requests}, results ${r.results}, actions ${r.actions} (${r.actionFailures} failed), ` +
      `skipped ${r.skipped} (ham: the policy has no action for that decision)`,
  );
  say(
    `  spent ${formatEther(r.spent)} ETH in fees, ${formatEther(r.tips)} ETH in keeper tips; budget left ${formatEther(status.balances[0]!.budget)} ETH`,
  );
  const woken = events.filter((line) => line.msg === "agent woken");
  say(
    `  keeper: ${woken.length} wakes, ${woken.reduce((n, line) => n + Number(line.gasUsed), 0).toLocaleString("en-US")} gas in all`,
  );

  // ERC-8004: the owner asks Verity's validator about one action; it answers from the market's evidence.
  const acted = outcomes.find((o) => o.hidden) ?? outcomes[0]!;
  const answer = await validateAgentRequest(local.deployment, owner, {
    agentId: agent.agentId,
    requestId: acted.requestId,
  });
  say("");
  say(
    `ERC-8004 validation of the action on post ${acted.postId} (request ${acted.requestId}): ` +
      `response ${answer.response} "${answer.tag}" from the VerityValidator (requestHash ${answer.requestHash.slice(0, 18)}…)`,
  );

  const spamHidden = outcomes.every((o) => (o.decision === "spam") === o.hidden && o.decision === o.reference);
  const counts =
    Number(r.requests) === posts.length &&
    Number(r.results) === posts.length &&
    Number(r.actions) === outcomes.filter((o) => o.decision === "spam").length;
  ok = spamHidden && counts && answer.response === 100 && answer.tag === "zk";
  say("");
  say(
    `done in ${((Date.now() - started) / 1000).toFixed(1)} s: ` +
      (ok
        ? `${outcomes.filter((o) => o.hidden).length} posts hidden, ${outcomes.filter((o) => !o.hidden).length} kept, each as the model decided`
        : "UNEXPECTED OUTCOME"),
  );
} finally {
  const code = await daemon.stop();
  say(`stopped     daemon (exit ${code})`);
  await local.close();
  if (keep) say(`files kept in ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
process.exit(ok ? 0 : 1);

/** Polls `read` until it returns an event. */
async function waitForEvent<T>(read: () => Promise<T[]>, timeoutMs = 60_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const [found] = await read();
    if (found !== undefined) return found;
    if (Date.now() > until) throw new Error("timed out waiting for the agent");
    await sleep(100);
  }
}
