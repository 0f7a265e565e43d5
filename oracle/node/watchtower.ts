/**
 * The watchtower (`verity watch`): follows the Optimistic results of the models it knows,
 * re-executes each with the reference executor and, when the submitted layer roots differ from
 * its own, challenges with the bond and plays the game to the end on its own (bisect, one-step
 * proof or, for a dot product too long for one step, the partial-sum phase; timeout claims),
 * then withdraws what it won. State is in `<stateDir>/dispute.sqlite`;
 * the game is re-read from the chain at every step, so a restart resumes it.
 */
import { getBytes } from "ethers";
import { connectDisputeGame, GameSide, gameSideName } from "../chain/dispute-game.ts";
import { nextBlockRange } from "../chain/market-events.ts";
import { RequestStatus, requestStatusName } from "../chain/request-status.ts";
import { ChainRevertError } from "../chain/revert-error.ts";
import type { VerityConfig } from "../config/schema.ts";
import { encodeLayerSpec, layoutProof } from "../dispute/layout.ts";
import { firstDifferingLayer, traceTrees, type TraceTrees } from "../dispute/moves.ts";
import type { Logger } from "../log/logger.ts";
import type { Tensor } from "../model/tensor.ts";
import { assertCheatAllowed, executeWithCheat } from "../dispute/cheat.ts";
import { openContentStore } from "../storage/open-content-store.ts";
import { openDisputeStore, type NewResult, type TrackedResult } from "../store/open-dispute-store.ts";
import { sleep } from "../util/retry.ts";
import { playGameStep } from "./game-moves.ts";
import { createOptimisticModels, optimisticInput } from "./optimistic-models.ts";
import { connectDaemon } from "./connect-daemon.ts";

export type RunWatchtowerParameters = {
  config: VerityConfig;
  logger: Logger;
  /** Aborting stops the watchtower after the step in progress. */
  signal: AbortSignal;
};

const CURSOR_KEY = "optimistic-results";

export async function runWatchtower({ config, logger, signal }: RunWatchtowerParameters): Promise<void> {
  // TEST-ONLY: a misconfigured watchtower whose own trace is wrong (it then loses its bonds).
  const cheat = config.testing?.cheat;
  assertCheatAllowed(cheat, process.env);
  const { provider, wallet, sender, deployment, suite } = await connectDaemon(config);
  const game = await connectDisputeGame(suite.inferenceMarket, wallet);
  const content = await openContentStore(config.storage);
  const results = openDisputeStore({
    stateDir: config.stateDir,
    chainId: deployment.chainId,
    market: deployment.contracts.inferenceMarket,
  });
  const models = createOptimisticModels({
    registry: suite.modelRegistry,
    content,
    manifests: config.dispute.manifests,
    logger,
  });
  const watched = new Set(
    (config.models.length > 0 ? config.models : Object.keys(config.dispute.manifests)).map((id) => BigInt(id)),
  );
  const own = new Map<bigint, { trees: TraceTrees; input: Tensor }>();
  let now = 0n;
  logger.info("watchtower started", {
    account: wallet.address,
    chainId: deployment.chainId,
    game: await game.getAddress(),
    models: [...watched],
  });

  let failedPolls = 0;
  try {
    while (!signal.aborted) {
      try {
        await pollOnce();
        failedPolls = 0;
      } catch (error) {
        failedPolls++;
        logger.warn("poll failed, retrying", { failedPolls, error });
      }
      const delay = Math.min(config.chain.pollIntervalMs * 2 ** Math.min(failedPolls, 6), config.retry.maxDelayMs);
      await sleep(Math.max(delay, config.chain.pollIntervalMs), signal).catch(() => undefined);
    }
  } finally {
    results.close();
    await content.close();
    provider.destroy();
    logger.info("watchtower stopped");
  }

  async function pollOnce(): Promise<void> {
    const block = await provider.getBlock("latest");
    if (!block) return;
    now = BigInt(block.timestamp);
    await followResults(BigInt(block.number));
    for (const result of results.listActive("challenger")) {
      if (signal.aborted) return;
      try {
        await watchResult(result);
      } catch (error) {
        logger.error("watch step failed, will retry", { requestId: result.requestId, error });
      }
    }
  }

  /** Records the Optimistic results of new blocks for the watched models. */
  async function followResults(head: bigint): Promise<void> {
    const cursor = results.getCursor(CURSOR_KEY) ?? BigInt(deployment.startBlock) - 1n;
    const range = nextBlockRange(cursor, head, config.chain.confirmations, config.chain.maxBlockRange);
    if (!range) return;
    const market = suite.inferenceMarket;
    const logs = await market.queryFilter(
      market.filters.OptimisticResultSubmitted(),
      Number(range.fromBlock),
      Number(range.toBlock),
    );
    const found: NewResult[] = [];
    for (const log of logs) {
      const { requestId, layerRoots } = log.args;
      const request = await market.getRequest(requestId);
      if (!watched.has(request.modelId)) continue;
      const [requested] = await market.queryFilter(market.filters.InferenceRequested(requestId), deployment.startBlock);
      if (!requested) continue;
      found.push({
        requestId,
        role: "challenger",
        modelId: request.modelId,
        input: getBytes(requested.args.input),
        roots: [...layerRoots],
      });
      logger.info("optimistic result seen", { requestId, modelId: request.modelId, provider: log.args.provider });
    }
    results.recordResults(found, CURSOR_KEY, range.toBlock);
  }

  async function ownTrace(result: TrackedResult) {
    let entry = own.get(result.requestId);
    if (!entry) {
      const model = await models.get(result.modelId, signal);
      const input = optimisticInput(model.model, result.input);
      entry = { trees: traceTrees(executeWithCheat(model.model, input, cheat).trace), input };
      own.set(result.requestId, entry);
    }
    return entry;
  }

  async function watchResult(result: TrackedResult): Promise<void> {
    const { requestId } = result;
    const log = logger.child({ requestId, modelId: result.modelId });
    const model = await models.get(result.modelId, signal);
    const mine = await ownTrace(result);

    if (result.state === "disputing" && result.gameId !== undefined) {
      const step = await playGameStep(
        { game, sender, logger, fromBlock: deployment.startBlock },
        { gameId: result.gameId, role: "challenger", own: mine.trees, model, input: mine.input },
      );
      if (!step.resolved) return;
      const winner = gameSideName(step.winner);
      log[step.winner === GameSide.Challenger ? "info" : "warn"]("game resolved", { gameId: result.gameId, winner });
      const credit = await game.balanceOf(wallet.address);
      if (credit > 0n) {
        const receipt = await sender.send({
          action: "withdraw game credit",
          transaction: game.withdraw.populateTransaction(),
        });
        log.info("game credit withdrawn", { amount: credit, gasUsed: receipt.gasUsed });
      }
      results.update("challenger", requestId, { state: "settled", note: `winner ${winner}` });
      own.delete(requestId);
      return;
    }

    const k = firstDifferingLayer(mine.trees.roots, result.roots);
    if (k === undefined) {
      log.info("result checked: trace agrees", {});
      results.update("challenger", requestId, { state: "agreed" });
      own.delete(requestId);
      return;
    }
    const status = Number(await suite.inferenceMarket.statusOf(requestId));
    if (status === RequestStatus.Challenged) {
      // Our own challenge, if we crashed before recording it; else another watcher's game.
      const gameId = await game.gameOf(requestId);
      if ((await game.getGame(gameId)).challenger.toLowerCase() === wallet.address.toLowerCase())
        results.update("challenger", requestId, { state: "disputing", gameId });
      return;
    }
    if (status !== RequestStatus.Submitted || now >= (await suite.inferenceMarket.windowEndOf(requestId))) {
      log.warn("wrong result no longer challengeable", { status: requestStatusName(status), layer: k });
      results.update("challenger", requestId, { state: "settled", note: `missed: ${requestStatusName(status)}` });
      return;
    }
    log.warn("result differs from our trace, challenging", { layer: k });
    const params = {
      input: result.input,
      defenderRoots: result.roots,
      challengerRoots: mine.trees.roots,
      layerSpec: encodeLayerSpec(model.specs[k]!),
      layoutProof: layoutProof(model.specs, k),
    };
    const bond = await game.requiredBond(requestId);
    try {
      const receipt = await sender.send({
        action: `challenge request ${requestId}`,
        transaction: game.challenge.populateTransaction(requestId, params, { value: bond }),
      });
      for (const entry of receipt.logs) {
        const parsed = game.interface.parseLog(entry);
        if (parsed?.name !== "GameStarted") continue;
        const gameId = parsed.args.gameId as bigint;
        log.info("game move", {
          move: "challenge",
          gameId,
          layer: k,
          bond,
          gasUsed: receipt.gasUsed,
          tx: receipt.hash,
        });
        results.update("challenger", requestId, { state: "disputing", gameId });
      }
    } catch (error) {
      if (!(error instanceof ChainRevertError)) throw error;
      log.warn("challenge refused, will look again", { reason: error.shortMessage });
    }
  }
}
