/**
 * The daemon's keeper role (oracle/node/keeper.ts) as real processes against one local chain
 * that mines a block a second (as a public chain would, so wakes wait in the pool): two keepers
 * racing for the same agent's tasks are paid one wake per task and do not spam reverting wakes;
 * the provider daemon with its keeper role, killed (SIGKILL) right after sending a wake and
 * started again, waits for that wake instead of sending a second one, and keeps the schedule.
 */
import path from "node:path";
import { expect } from "chai";
import { AbiCoder, keccak256, parseEther, toUtf8Bytes, Wallet, type TransactionReceipt } from "ethers";
import { connectAgentAccount, connectAgentRegistry } from "../../oracle/agents/agent-contracts.ts";
import { createAgent } from "../../oracle/agents/create-agent.ts";
import { fundAgent } from "../../oracle/agents/fund-agent.ts";
import { parsePolicyObject } from "../../oracle/agents/policy-file.ts";
import { SCHEDULED_WAKE } from "../../oracle/agents/wake-agent.ts";
import { attach } from "../../oracle/chain/connect.ts";
import { deployContract } from "../../oracle/chain/deploy-suite.ts";
import { registerModel } from "../../oracle/chain/register-model.ts";
import { startLocalSuite, type LocalSuite } from "../../oracle/devnet/local-suite.ts";
import { spawnDaemon, type SpawnedDaemon } from "../../oracle/devnet/spawn-daemon.ts";
import { DEV_PRIVATE_KEYS, setBlockTime } from "../../oracle/devnet/start-devnet.ts";
import { sleep } from "../../oracle/util/retry.ts";
import type { Guestbook } from "../../types/ethers-contracts/examples/Guestbook.ts";
import { tempDir } from "../node/helpers.ts";

const TIP = parseEther("0.0005");

describe("keeper role", function () {
  this.timeout(180_000);
  const temp = tempDir("verity-keeper-");
  let local: LocalSuite;
  /** An Attested model nobody serves: wakes send requests that stay Pending, which is all a keeper needs. */
  let modelId: bigint;
  let guestbook: Guestbook;
  const daemons: SpawnedDaemon[] = [];

  /** An agent of `local.actors.user` on the unserved model, funded with 1 ETH. */
  async function agent(input: Record<string, unknown>, interval: number | string) {
    const registry = connectAgentRegistry(local.deployment, local.actors.user);
    const policy = parsePolicyObject(
      {
        model: modelId.toString(),
        modes: ["attested"],
        maxFeePerRequest: "0.001",
        spendPerPeriod: "1",
        period: "1d",
        maxKeeperTip: "0.0005",
        interval,
        input,
      },
      "the test's policy",
    );
    const created = await createAgent(registry, local.content, { name: "kept", description: "", policy });
    await fundAgent(local.actors.user, { account: created.account, amount: parseEther("1") });
    return { agentId: created.agentId, account: connectAgentAccount(created.account, local.rpc) };
  }

  /** Wakes of `account` sent by `from` whose transaction reverted on chain, in blocks `fromBlock` and after. */
  async function revertedWakes(account: string, fromBlock: number, from: string[]): Promise<TransactionReceipt[]> {
    const reverted: TransactionReceipt[] = [];
    const head = await local.rpc.getBlockNumber();
    for (let n = fromBlock; n <= head; n++) {
      const block = await local.rpc.getBlock(n, true);
      for (const tx of block!.prefetchedTransactions) {
        if (tx.to?.toLowerCase() !== account.toLowerCase()) continue;
        if (!from.some((address) => address.toLowerCase() === tx.from.toLowerCase())) continue;
        const receipt = await local.rpc.getTransactionReceipt(tx.hash);
        if (receipt!.status !== 1) reverted.push(receipt!);
      }
    }
    return reverted;
  }

  function keeperConfig(name: string, agents: bigint[], extra: Record<string, unknown> = {}) {
    return {
      ...local.daemonConfig(),
      stateDir: path.join(temp.dir, name),
      chain: { pollIntervalMs: 100 },
      keeper: { enabled: true, agents: agents.map(String), pollIntervalMs: 50 },
      ...extra,
    };
  }

  before(async () => {
    local = await startLocalSuite({ dir: temp.dir });
    modelId = await registerModel(connectSuiteAsOwner(local), {
      modelHash: keccak256(toUtf8Bytes("unserved")),
      contentId: local.iris.contentId,
      price: parseEther("0.001"),
      royaltyBps: 0,
      inputShape: [1, 512],
      outputShape: [1, 2],
      inputDtype: "int8",
      outputDtype: "int8",
    });
    guestbook = attach<Guestbook>(
      "Guestbook",
      await (await deployContract(local.actors.user, "Guestbook")).getAddress(),
      local.actors.user,
    );
    // A block a second from here on: a wake waits in the pool until the next one.
    await setBlockTime(local.devnet.url, 1);
  });

  afterEach(async () => {
    await Promise.all(daemons.splice(0).map((daemon) => daemon.stop()));
  });

  after(async () => {
    await local?.close();
    temp.remove();
  });

  it("two keepers racing for the same tasks: each task woken and paid once, no wake spam", async () => {
    const { agentId, account } = await agent(
      { kind: "viewCall", target: await guestbook.getAddress(), selector: "featuresOf(uint256)" },
      0,
    );
    const address = await account.getAddress();
    await (await guestbook.setGuard(address)).wait();
    await (
      await connectAgentRegistry(local.deployment, local.actors.user).setOperator(
        agentId,
        await guestbook.getAddress(),
        true,
      )
    ).wait();
    const keepers = [DEV_PRIVATE_KEYS[4], DEV_PRIVATE_KEYS[5]].map((key) => new Wallet(key));
    for (const [i, keeper] of keepers.entries())
      daemons.push(
        spawnDaemon({
          config: keeperConfig(`keeper-${i}`, [agentId]),
          dir: temp.dir,
          name: `keeper-${i}`,
          privateKey: keeper.privateKey,
          command: ["keeper", "start"],
        }),
      );
    await Promise.all(daemons.map((daemon) => daemon.waitForLog((line) => line.msg === "keeper started")));
    const fromBlock = await local.rpc.getBlockNumber();

    // Three posts, three tasks: both keepers see each one due at once.
    for (const text of ["first post", "second post", "third post"]) {
      await (await guestbook.post(text)).wait();
      await waitFor(async () => (await account.tasks())[0] === (await account.tasks())[1]);
    }
    await sleep(3000); // room for a second wake of the same task, if a keeper were to send one

    const woken = await account.queryFilter(account.filters.Woken(), fromBlock);
    expect(woken.map((log) => log.args.taskId)).to.deep.equal([0n, 1n, 2n]);
    for (const log of woken) {
      expect(keepers.map((k) => k.address)).to.include(log.args.keeper);
      expect(log.args.tip).to.equal(TIP);
    }
    const record = await account.record();
    expect([record.wakes, record.requests, record.tips]).to.deep.equal([3n, 3n, 3n * TIP]);
    const logged = daemons.flatMap((daemon) => daemon.lines.filter((line) => line.msg === "agent woken"));
    expect(logged.map((line) => line.taskId).sort()).to.deep.equal(["0", "1", "2"]);
    // At most one wake per task can be lost in the same block; the pending-block check keeps it rarer.
    const reverted = await revertedWakes(
      address,
      fromBlock,
      keepers.map((k) => k.address),
    );
    expect(reverted.length).to.be.at.most(woken.length);
    for (const daemon of daemons) expect(daemon.lines.filter((line) => line.level === "error")).to.deep.equal([]);
  });

  it("the provider daemon's keeper role killed right after sending a wake and restarted: no double wake, schedule kept", async () => {
    const INTERVAL = 2;
    // A scheduled wake asks featuresOf(wake count) of a guestbook without a guard; posts 1 to 10
    // are there, and the first wake takes a task for post 1 (wake count 0 has no post).
    const posts = attach<Guestbook>(
      "Guestbook",
      await (await deployContract(local.actors.user, "Guestbook")).getAddress(),
      local.actors.user,
    );
    for (let i = 1; i <= 10; i++) await (await posts.post(`post ${i}`)).wait();
    const { account } = await agent(
      { kind: "viewCall", target: await posts.getAddress(), selector: "featuresOf(uint256)" },
      INTERVAL,
    );
    await (
      await connectAgentAccount(await account.getAddress(), local.actors.user).postTask(
        AbiCoder.defaultAbiCoder().encode(["uint256"], [1]),
      )
    ).wait();
    const agentId = (await account.identity())[1];
    const address = await account.getAddress();
    const keeper = local.actors.provider;
    const fromBlock = await local.rpc.getBlockNumber();
    const start = () =>
      spawnDaemon({
        config: keeperConfig("provider-keeper", [agentId]),
        dir: temp.dir,
        name: "provider-keeper",
        privateKey: keeper.privateKey,
      });
    let daemon = start();
    daemons.push(daemon);
    await daemon.waitForLog((line) => line.msg === "agent woken", 30_000);
    // The next wake: killed once it is sent (it waits in the pool for the next block), with no
    // chance to see it mined or to forget it.
    const sent = await daemon.waitForLog(
      (line) => line.msg === "wake sent" && daemon.lines.filter((l) => l.msg === "wake sent").length >= 2,
      30_000,
    );
    await sleep(150);
    await daemon.kill();
    const before = (await account.queryFilter(account.filters.Woken(), fromBlock)).length;
    daemons.splice(daemons.indexOf(daemon), 1);

    daemon = start();
    daemons.push(daemon);
    // It knows the wake it sent before the kill, waits for it instead of sending another, and
    // reports it as its own once mined.
    const waited = await daemon.waitForLog(
      (line) => line.msg === "a wake sent before the restart is still to be seen: waiting for it, not sending another",
    );
    expect(waited.transactionHash).to.equal(sent.transactionHash);
    const reported = await daemon.waitForLog((line) => line.msg === "agent woken");
    expect(reported.transactionHash).to.equal(sent.transactionHash);
    // The schedule goes on: two more wakes after the restart.
    await waitFor(
      async () => (await account.queryFilter(account.filters.Woken(), fromBlock)).length >= Math.max(before, 3) + 2,
      30_000,
    );
    // Its first wake of its own came after the recorded one was seen.
    expect(daemon.lines.findIndex((line) => line.msg === "wake sent")).to.be.above(daemon.lines.indexOf(reported));
    await daemon.stop();
    daemons.splice(daemons.indexOf(daemon), 1);

    const woken = await account.queryFilter(account.filters.Woken(), fromBlock);
    // The task's wake first, then scheduled ones, never two within an interval.
    expect(woken[0]!.args.taskId).to.equal(0n);
    const scheduled = woken.slice(1);
    expect(scheduled.every((log) => log.args.taskId === SCHEDULED_WAKE)).to.equal(true);
    const times = await Promise.all(
      scheduled.map(async (log) => (await local.rpc.getBlock(log.blockNumber))!.timestamp),
    );
    for (let i = 1; i < times.length; i++)
      expect(times[i]! - times[i - 1]!, `scheduled wakes ${i - 1} and ${i}`).to.be.at.least(INTERVAL);
    for (const log of woken) expect(log.args.keeper).to.equal(keeper.address);
    expect((await account.record()).wakes).to.equal(BigInt(woken.length));
    expect(await revertedWakes(address, fromBlock, [keeper.address])).to.deep.equal([]);
  });
});

function connectSuiteAsOwner(local: LocalSuite) {
  return attach<LocalSuite["suite"]["modelRegistry"]>(
    "ModelRegistry",
    local.deployment.contracts.modelRegistry,
    local.actors.modelOwner,
  );
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error("timed out");
    await sleep(100);
  }
}
