/**
 * `verity agent create|fund|policy|status|wake|withdraw|validate` against one local chain, as a
 * user would run them: an agent created from a policy file with its registration file in the
 * content store, funded by a stranger, its policy changed (only what differs is sent), woken for
 * a task (the tip paid to whoever woke it), its status and decision trail, the owner's
 * withdrawal; then every mistake, each one line naming it and exit code 1.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { formatEther, getBytes, parseEther, Wallet } from "ethers";
import { connectAgentAccount, connectAgentRegistry } from "../../oracle/agents/agent-contracts.ts";
import { cidOfAgentURI, REGISTRATION_TYPE } from "../../oracle/agents/registration-file.ts";
import { deployContract } from "../../oracle/chain/deploy-suite.ts";
import { writeDeployment } from "../../oracle/chain/deployment.ts";
import { startLocalSuite, type LocalSuite } from "../../oracle/devnet/local-suite.ts";
import { DEV_PRIVATE_KEYS } from "../../oracle/devnet/start-devnet.ts";
import { encodeTensor } from "../../oracle/model/tensor-codec.ts";
import { tempDir } from "../node/helpers.ts";
import { expectCleanFailure, verity, verityAll, type VerityResult } from "./run-verity.ts";

describe("verity agent: create, fund, policy, status, wake, withdraw, validate", function () {
  this.timeout(240_000);
  const temp = tempDir("verity-agent-cli-");
  const file = (name: string) => path.join(temp.dir, name);
  let local: LocalSuite;
  let chain: string[];
  let guestbook: string;
  let agentId: string;
  let account: string;
  let requestId: string;
  const stranger = new Wallet(DEV_PRIVATE_KEYS[4]);
  const as = (key: string) => ({ env: { VERITY_PRIVATE_KEY: key } });
  const owner = () => as(local.actors.user.privateKey);

  /** The iris model (Attested, float32 [1, 4]) on tasks: each task's data is the input tensor. */
  const policy = (overrides: Record<string, unknown> = {}) => ({
    model: 1,
    modes: ["attested"],
    maxFeePerRequest: "0.001",
    spendPerPeriod: "0.01",
    period: "1d",
    maxKeeperTip: "0.0005",
    keeperTip: "0.0002",
    input: { kind: "taskCalldata" },
    decision: { kind: "argmax" },
    actions: { "2": { target: guestbook, selector: "hide(uint256)", arg: "requestId" } },
    ...overrides,
  });

  before(async () => {
    local = await startLocalSuite({ dir: temp.dir });
    chain = ["--rpc", local.devnet.url, "--deployment", local.deploymentFile];
    guestbook = await (await deployContract(local.actors.user, "Guestbook")).getAddress();
    writeFileSync(file("policy.json"), JSON.stringify(policy(), null, 2));
    writeFileSync(file("policy2.json"), JSON.stringify(policy({ spendPerPeriod: "0.02", keeperTip: "0.0003" })));
    writeFileSync(file("typo.json"), JSON.stringify({ ...policy(), maxFeePerReqest: "0.001" }));
    const {
      agentRegistry: _,
      validationRegistry: __,
      verityValidator: ___,
      ...oldContracts
    } = local.deployment.contracts;
    writeDeployment(file("old-deployment.json"), { ...local.deployment, contracts: oldContracts });
    await (await local.actors.deployer.sendTransaction({ to: stranger.address, value: parseEther("1") })).wait();
  });

  after(async () => {
    await local?.close();
    temp.remove();
  });

  it("create: the identity, its account with the policy and actions, the registration file stored, a first budget", async () => {
    const result = await verity(
      [
        "agent",
        "create",
        "--policy",
        file("policy.json"),
        "--name",
        "iris-watcher",
        "--description",
        "Watches irises.",
        "--service",
        "web=https://example.org",
        "--fund",
        "0.05",
        "--dir",
        local.contentDir,
        ...chain,
      ],
      owner(),
    );
    expect(result.stderr, result.stdout).to.equal("");
    agentId = /^agent (\d+) created, owned by 0x[0-9a-fA-F]{40}$/m.exec(result.stdout)![1]!;
    account = /^account +(0x[0-9a-fA-F]{40})$/m.exec(result.stdout)![1]!;
    const agentURI = /^agentURI +(ipfs:\/\/\w+) \(registration file in the embedded store\)$/m.exec(result.stdout)![1]!;
    const gas = Number(/^gas +(\d+) \(createAgent, tx 0x[0-9a-f]{64}\)$/m.exec(result.stdout)![1]);
    expect(gas).to.be.within(100_000, 600_000);
    expect(result.stdout).to.match(/^set +action of decision 2 \(gas \d+\)$/m);
    expect(result.stdout).to.match(/^set +keeper tip \(gas \d+\)$/m);
    expect(result.stdout).to.match(/^funded +0\.05 ETH \(budget 0\.05 ETH\)$/m);

    const registry = connectAgentRegistry(local.deployment, local.rpc);
    expect(await registry.accountOf(BigInt(agentId))).to.equal(account);
    expect(await registry.ownerOf(BigInt(agentId))).to.equal(local.actors.user.address);
    const onChain = connectAgentAccount(account, local.rpc);
    expect((await onChain.policy()).modelId).to.equal(1n);
    expect(await onChain.keeperTip()).to.equal(parseEther("0.0002"));
    expect((await onChain.actionOf(2)).target).to.equal(guestbook);
    const registration = JSON.parse(
      new TextDecoder().decode(await local.content.get(cidOfAgentURI(agentURI)!)),
    ) as Record<string, unknown>;
    expect(registration).to.deep.include({
      type: REGISTRATION_TYPE,
      name: "iris-watcher",
      description: "Watches irises.",
      active: true,
      supportedTrust: ["crypto-economic"],
      registrations: [
        { agentId: Number(agentId), agentRegistry: `eip155:31337:${local.deployment.contracts.agentRegistry}` },
      ],
    });
    expect(registration.services).to.deep.equal([
      { name: "web", endpoint: "https://example.org" },
      { name: "agentWallet", endpoint: `eip155:31337:${account}` },
    ]);
  });

  it("fund: anyone adds to the budget, by id or by account address", async () => {
    const byId = await verity(["agent", "fund", agentId, "--amount", "0.01", ...chain], as(stranger.privateKey));
    expect(byId.stdout).to.match(
      new RegExp(`^funded agent ${agentId} \\(${account}\\) with 0\\.01 ETH \\(tx 0x[0-9a-f]{64}\\)$`, "m"),
    );
    expect(byId.stdout).to.match(/^budget 0\.06 ETH$/m);
    const byAddress = await verity(["agent", "fund", account, "--amount", "0.01", ...chain], as(stranger.privateKey));
    expect(byAddress.stdout).to.match(/^budget 0\.07 ETH$/m);
  });

  it("policy: only what differs is sent, and again nothing", async () => {
    const changed = await verity(["agent", "policy", agentId, "--policy", file("policy2.json"), ...chain], owner());
    expect(changed.stderr).to.equal("");
    expect(changed.stdout).to.match(/^set policy \(spendPerPeriod\) \(gas \d+, tx 0x[0-9a-f]{64}\)$/m);
    expect(changed.stdout).to.match(/^set keeper tip \(gas \d+, tx 0x[0-9a-f]{64}\)$/m);
    expect(changed.stdout).to.not.match(/^set action/m);
    const again = await verity(["agent", "policy", agentId, "--policy", file("policy2.json"), ...chain], owner());
    expect(again.stdout).to.include(`agent ${agentId} already has this policy: nothing sent`);
  });

  it("wake: refused while nothing is due; woken for a task, the tip paid to the caller", async () => {
    const early = await verity(["agent", "wake", agentId, ...chain], as(stranger.privateKey));
    expectCleanFailure(early, `Agent ${account} is not due: no task waits.`);

    const input = encodeTensor({ dtype: "float32", shape: [1, 4], data: new Float32Array([6.3, 3.3, 6.0, 2.5]) });
    const asOwner = connectAgentAccount(account, local.actors.user);
    await (await asOwner.postTask(getBytes(input))).wait();
    const before = await local.rpc.getBalance(stranger.address);
    const woken = await verity(["agent", "wake", agentId, ...chain], as(stranger.privateKey));
    expect(woken.stderr).to.equal("");
    const match = new RegExp(
      `^agent ${agentId} woken for task 0: request (\\d+), fee 0\\.001 ETH, tip 0\\.0003 ETH to ${stranger.address} \\(gas (\\d+), tx (0x[0-9a-f]{64})\\)$`,
      "m",
    ).exec(woken.stdout);
    expect(match, woken.stdout).to.not.equal(null);
    requestId = match![1]!;
    const receipt = await local.rpc.getTransactionReceipt(match![3]!);
    expect(await local.rpc.getBalance(stranger.address)).to.equal(
      before + parseEther("0.0003") - receipt!.gasUsed * receipt!.gasPrice,
    );
    expect(await local.suite.inferenceMarket.statusOf(BigInt(requestId))).to.equal(1n); // Pending: no provider here
  });

  it("status: policy, budget, record, pending work and the decision trail", async () => {
    const result = await verity(["agent", "status", agentId, ...chain], as(stranger.privateKey));
    expect(result.stderr).to.equal("");
    const out = result.stdout;
    expect(out).to.match(new RegExp(`^agent +${agentId} owned by ${local.actors.user.address}$`, "m"));
    expect(out).to.match(new RegExp(`^account +${account}$`, "m"));
    expect(out).to.match(/^agentURI +ipfs:\/\/\w+$/m);
    expect(out).to.match(/^policy +model 1 \(attested results\), at most 0\.001 ETH a request, 0\.02 ETH per 86400 s/m);
    expect(out).to.match(/^input +the task's calldata/m);
    expect(out).to.match(
      new RegExp(`^action +decision 2: ${guestbook} selector 0x[0-9a-f]{8} with the request id$`, "m"),
    );
    expect(out).to.match(/^keeper tip 0\.0003 ETH a wake$/m);
    expect(out).to.match(/^state +active, not due$/m);
    expect(out).to.match(new RegExp(`^budget +${formatEther(parseEther("0.07") - parseEther("0.0013"))} ETH$`, "m"));
    expect(out).to.match(/^record +1 wakes, 1 requests, 0 results, 0 actions \(0 failed\), 0 skipped$/m);
    expect(out).to.match(/^spent +0\.001 ETH in fees, 0\.0003 ETH in tips$/m);
    expect(out).to.match(new RegExp(`^pending +0 task\\(s\\), 1 request\\(s\\): ${requestId}$`, "m"));
    expect(out).to.match(
      new RegExp(
        `^ {2}request ${requestId} \\(task 0, wake gas \\d+, fee 0\\.001 ETH, tip 0\\.0003 ETH\\) → awaiting the result → -$`,
        "m",
      ),
    );
  });

  it("withdraw: the owner takes the budget out; anyone else is refused by the account", async () => {
    const refused = await verity(["agent", "withdraw", agentId, "--amount", "0.01", ...chain], as(stranger.privateKey));
    expectCleanFailure(refused, `withdraw from agent ${account} reverted with AgentNotOwner(${stranger.address}).`);
    expect(refused.stderr).to.include("Only the agent's owner");
    const tooMuch = await verity(["agent", "withdraw", agentId, "--amount", "5", ...chain], owner());
    expectCleanFailure(tooMuch, /^error: Agent 0x[0-9a-fA-F]{40} holds \d+ wei, less than 5000000000000000000\.$/);
    const all = await verity(["agent", "withdraw", agentId, "--amount", "all", ...chain], owner());
    expect(all.stderr).to.equal("");
    expect(all.stdout).to.match(
      new RegExp(
        `^withdrew 0\\.0687 ETH from agent ${agentId} to ${local.actors.user.address} \\(tx 0x[0-9a-f]{64}\\)$`,
        "m",
      ),
    );
    expect(all.stdout).to.match(/^budget 0 ETH$/m);
    expect(await local.rpc.getBalance(account)).to.equal(0n);
  });

  it("validate: an open request has nothing to answer yet, said by the validator's error", async () => {
    const result = await verity(["agent", "validate", agentId, "--request", requestId, ...chain], owner());
    expectCleanFailure(
      result,
      new RegExp(
        `^error: validate request ${requestId} reverted with ValidatorNotDecidable\\(${requestId}, Pending\\)\\.$`,
      ),
    );
  });

  it("every mistake is one line naming it, before anything is sent", async () => {
    const cases: { args: string[]; key?: string; error: string | RegExp }[] = [
      { args: ["agent", "create", "--name", "x"], error: "--policy is missing." },
      { args: ["agent", "create", "--policy", file("policy.json")], error: "--name is missing." },
      {
        args: ["agent", "create", "--policy", file("missing.json"), "--name", "x"],
        error: `Cannot read the --policy file: ${file("missing.json")} does not exist.`,
      },
      {
        args: ["agent", "create", "--policy", file("typo.json"), "--name", "x"],
        error: `The --policy file ${file("typo.json")} is not a valid agent policy.`,
      },
      {
        args: ["agent", "create", "--policy", file("policy.json"), "--name", "x", "--service", "web"],
        error: '--service "web" is not NAME=ENDPOINT.',
      },
      {
        args: ["agent", "create", "--policy", file("policy.json"), "--name", "x", "--fund", "lots"],
        error: '--fund "lots" is not an amount of ETH.',
      },
      { args: ["agent", "fund", "--amount", "1"], error: "Name the agent: its id or its account's address." },
      { args: ["agent", "fund", "abc", "--amount", "1"], error: '"abc" is not an agent id or address.' },
      { args: ["agent", "fund", "1"], error: "--amount is missing." },
      { args: ["agent", "fund", "1", "--amount=-1"], error: '--amount "-1" is negative.' },
      { args: ["agent", "fund", "1", "--amount", "0"], error: "--amount 0 adds nothing." },
      { args: ["agent", "fund", "1", "--amount", "1", "--token", "0x12"], error: '--token "0x12" is not an address.' },
      { args: ["agent", "fund", "1", "2", "--amount", "1"], error: 'verity agent fund: unexpected argument "2".' },
      {
        args: ["agent", "fund", "1", "--amout", "1"],
        error: "verity agent fund: unknown option --amout (did you mean --amount?).",
      },
      {
        args: ["agent", "fund", "99", "--amount", "1"],
        error: /^error: No agent 99 in the registry 0x[0-9a-fA-F]{40}\.$/,
      },
      {
        args: ["agent", "status", local.actors.modelOwner.address],
        error: /^error: 0x[0-9a-fA-F]{40} is not an agent account of the registry 0x[0-9a-fA-F]{40}\.$/,
      },
      { args: ["agent", "policy", "1"], error: "--policy is missing." },
      {
        args: ["agent", "policy", "1", "--policy", file("policy.json")],
        key: stranger.privateKey,
        error: `set the agent's policy reverted with AgentNotOwner(${stranger.address}).`,
      },
      { args: ["agent", "withdraw", "1"], error: "--amount is missing." },
      { args: ["agent", "withdraw", "1", "--amount", "1", "--to", "me"], error: '--to "me" is not an address.' },
      { args: ["agent", "validate", "1"], error: "--request is missing." },
      { args: ["agent", "validate", "1", "--request", "0"], error: '--request "0" is not a request id.' },
      {
        args: ["agent", "wake", "1", "--deployment", file("old-deployment.json")],
        error: "The deployment has no agentRegistry address.",
      },
    ];
    const results: VerityResult[] = await verityAll(
      cases.map(({ args, key }) => ({
        args: args.includes("--deployment") ? [...args, "--rpc", local.devnet.url] : [...args, ...chain],
        env: { VERITY_PRIVATE_KEY: key ?? local.actors.user.privateKey },
      })),
    );
    cases.forEach((item, index) => expectCleanFailure(results[index]!, item.error));
    expect(results[3]!.stderr).to.include('maxFeePerReqest: unknown key (did you mean "maxFeePerRequest"?)');
  });

  it("keeper start refuses a config with no agent to keep", async () => {
    writeFileSync(file("keeper.json"), JSON.stringify({ rpcUrl: local.devnet.url, deployment: local.deploymentFile }));
    const result = await verity(["keeper", "start", "--config", file("keeper.json")], as(stranger.privateKey));
    expectCleanFailure(result, "keeper start: the config names no agent to keep (keeper.agents is empty).");
  });
});
