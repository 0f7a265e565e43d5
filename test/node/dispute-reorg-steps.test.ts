import { expect } from "chai";
import { ZeroAddress, type Interface } from "ethers";
import { rpc } from "../../oracle/devnet/start-devnet.ts";
import { startOptimisticSuite, type OptimisticSuite } from "../../oracle/devnet/optimistic-suite.ts";
import { manualMining, tempDir, waitForStatus } from "./helpers.ts";
import { cheaterAndWatcher, disputeInput, disputeModel, moves, type Party } from "./dispute-helpers.ts";

/**
 * A reorg at every step of a dispute: a cheating provider's result of the middle-layer cheat is
 * challenged and played to the one-step proof (submitOptimistic, challenge, reveal, bisect,
 * reveal, bisect, revealChunk, proveStep), the chain mining only when the test says so. After
 * each step is mined and both daemons have read it, `evm_revert` drops it (and the mempool is
 * emptied) and new blocks make the other branch the longer one: the party whose move was dropped
 * must make it again, on the chain as it is now. In the end the game is played once to the
 * same outcome: the cheater slashed once, the requester refunded once, one game over the request.
 */
/** The transactions of a dispute over the middle-layer cheat, in chain order. */
const STEPS = ["submitOptimistic", "challenge", "reveal", "bisect", "reveal", "bisect", "revealChunk", "proveStep"];

describe("a dispute under a reorg at each of its steps (real daemons)", function () {
  this.timeout(600_000);
  const temp = tempDir("verity-dispute-reorg-steps-");
  let opt: OptimisticSuite;
  const parties: Party[] = [];
  let mining: ReturnType<typeof manualMining>;

  before(async () => {
    opt = await startOptimisticSuite({ dir: temp.dir, models: [disputeModel], challengeWindowSec: 600 });
  });

  after(async () => {
    mining?.stop();
    for (const party of parties) await party.stop();
    await opt?.close();
    if (!process.env.KEEP_TEMP) temp.remove();
  });

  it("each step dropped once is made again, and the game ends as without reorgs", async () => {
    const { watcher } = await cheaterAndWatcher(opt, temp.dir, parties, { layer: 0, element: 2500, delta: 3 });
    const market = opt.local.suite.inferenceMarket;
    const url = opt.local.devnet.url;
    const user = opt.local.actors.user.address;
    const before = await market.balanceOf(user, ZeroAddress);

    await rpc(url, "evm_setAutomine", [false]);
    mining = manualMining(opt.local);
    const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const game = opt.game;
    /** The dispute steps a block holds, by the function each successful transaction calls. */
    const addresses = {
      game: (await game.getAddress()).toLowerCase(),
      market: (await market.getAddress()).toLowerCase(),
    };
    const stepsIn = async (number: string): Promise<string[]> => {
      const block = (await rpc(url, "eth_getBlockByNumber", [number, true])) as {
        transactions: { hash: string; to: string | null; input: string }[];
      };
      const names: string[] = [];
      for (const tx of block.transactions) {
        const to = tx.to?.toLowerCase();
        const abi: Interface | undefined =
          to === addresses.game ? game.interface : to === addresses.market ? market.interface : undefined;
        const name = abi?.getFunction(tx.input.slice(0, 10))?.name;
        if (!name || !STEPS.includes(name)) continue;
        // A step sent twice (re-sent after the reorg, and again by its daemon) fails the second time.
        const receipt = await opt.local.rpc.getTransactionReceipt(tx.hash);
        if (receipt?.status === 1) names.push(name);
      }
      return names;
    };

    mining.start();
    const id = await opt.ask(opt.modelIds[0]!, disputeInput);
    mining.stop();
    // Blocks are mined one at a time; before each, a snapshot. The first block that holds step
    // `next` (in the order of STEPS on the chain as it is) is dropped once the daemons have read
    // it, with the mempool; the step must come back in a later block before the next is dropped.
    const onChain: string[] = [];
    const dropped: string[] = [];
    let next = 0;
    for (const until = Date.now() + 300_000; onChain.length < STEPS.length;) {
      if (Date.now() > until) throw new Error(`stuck after ${onChain.join(", ")} (dropped ${dropped.join(", ")})`);
      const mark = (await rpc(url, "evm_snapshot")) as string;
      const length = onChain.length;
      await rpc(url, "evm_mine");
      onChain.push(...(await stepsIn("latest")));
      await pause(150); // the daemons read this head and answer
      if (onChain.length > next && dropped.length === next) {
        expect(onChain[next]).to.equal(STEPS[next]);
        await pause(400); // both daemons have read the block with the step in it
        expect(await rpc(url, "evm_revert", [mark])).to.equal(true);
        const pending = (await rpc(url, "eth_getBlockByNumber", ["pending", true])) as {
          transactions: { hash: string }[];
        };
        for (const tx of pending.transactions) await rpc(url, "hardhat_dropTransaction", [tx.hash]);
        onChain.length = length;
        dropped.push(STEPS[next]!);
      } else if (onChain.length > next) next = Math.min(onChain.length, dropped.length);
    }
    expect(dropped).to.deep.equal(STEPS);
    expect(onChain).to.deep.equal(STEPS);

    mining.start();
    expect(await waitForStatus(market, id, ["Refunded", "Finalized"], 120_000)).to.equal("Refunded");
    await watcher.waitForLog((line) => line.msg === "game credit withdrawn", 120_000);
    // One game over the request on the chain as it is, won by the challenger.
    const started = await game.queryFilter(game.filters.GameStarted());
    expect(started.filter((log) => log.args.requestId === id)).to.have.length(1);
    const gameId = started.find((log) => log.args.requestId === id)!.args.gameId;
    expect(Number((await game.getGame(gameId)).winner)).to.equal(2); // Challenger
    expect(await market.balanceOf(user, ZeroAddress)).to.equal(before + opt.price);
    const [, , slashes] = await opt.local.suite.providerRegistry.statsOf(opt.actors.cheater.address);
    expect(slashes).to.equal(1n);
    // Each party made each of its steps twice: on the dropped branch and on the chain as it is.
    expect(moves(watcher).filter((name) => name === "challenge")).to.have.length(2);
    expect(moves(watcher).filter((name) => name === "proveStep")).to.have.length(2);
  });
});
