/**
 * The watchtower (`verity watch`): follows the Optimistic results of the models it knows,
 * re-executes each with the reference executor (a decoder's generation: every forward pass) and
 * compares the whole submitted output bytes and the layer roots (pass roots) with its own. When
 * the roots differ it opens its OWN game with the bond (over a generation: at the first
 * differing pass, then RevealLayers; when a generation's roots agree but a posted id is not the
 * committed argmax, `challengeOutput` proves that at once), whatever games others have already
 * opened over the result (the result is then Challenged;
 * it takes games until its window ends), never waits for theirs, and plays its game to the end
 * (bisect, one-step proof or, for a reduction too long for one step, the reduction phase;
 * timeout claims), then withdraws what it won, or its bond back when another game refunded the
 * request first (a moot game). State is in `<stateDir>/dispute.sqlite`; the game is re-read
 * from the chain at every step, so a restart resumes it.
 */
import { getBytes } from "ethers";
import { connectDisputeGame, gameResolution, gamesOf, GameSide, gameSideName } from "../chain/dispute-game.ts";
import { nextBlockRange } from "../chain/market-events.ts";
import { findRequestedEvent, findRequestParams, requestParamsOf, type RequestParams } from "../chain/request-params.ts";
import { keepHead, keepingReceiptBlocks, readHead } from "../chain/find-fork.ts";
import { isSqliteCorruption } from "../store/store-corruption.ts";
import { RequestStatus, requestStatusName } from "../chain/request-status.ts";
import { ChainRevertError } from "../chain/revert-error.ts";
import type { VerityConfig } from "../config/schema.ts";
import { runCommitted, type CommittedRun, type GenerationRun } from "../dispute/committed-run.ts";
import { layerOpening } from "../dispute/generation-proofs.ts";
import { disputedLayer, firstDifferingByte, firstDifferingLayer, hex } from "../dispute/moves.ts";
import type { Logger } from "../log/logger.ts";
import { decodeTensor, encodeTensor } from "../model/tensor-codec.ts";
import { assertCheatAllowed } from "../dispute/cheat.ts";
import { openContentStore } from "../storage/open-content-store.ts";
import { openDisputeStore, type NewResult, type TrackedGame, type TrackedResult } from "../store/open-dispute-store.ts";
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
  const daemon = await connectDaemon(config, logger);
  const { provider, wallet, deployment, suite } = daemon;
  const game = await connectDisputeGame(suite.inferenceMarket, wallet);
  const content = await openContentStore(config.storage);
  const results = openDisputeStore({
    stateDir: config.stateDir,
    chainId: deployment.chainId,
    market: deployment.contracts.inferenceMarket,
  });
  // Games move on from receipts: their blocks are kept so a reorg that drops one is found (a move
  // or a resolution mined in a block no poll read as its head would otherwise stand locally).
  const sender = keepingReceiptBlocks(daemon.sender, results.blocks, CURSOR_KEY);
  const models = createOptimisticModels({
    registry: suite.modelRegistry,
    content,
    manifests: config.dispute.manifests,
    folders: config.modelFolders,
    logger,
  });
  const watched = new Set(
    (config.models.length > 0 ? config.models : Object.keys(config.dispute.manifests)).map((id) => BigInt(id)),
  );
  /** Results whose recorded games are checked against the chain once: a reorg may have dropped one. */
  const afterReorg = new Set<bigint>();
  /** Our run of each result being checked or disputed, and our canonical output bytes. */
  const own = new Map<bigint, { run: CommittedRun; output: Uint8Array }>();
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
        if (isSqliteCorruption(error)) throw error; // nothing to retry: ends with the fix
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
    // Reorg-safe like the provider's cursor: results of dropped blocks are read again.
    const reading = await readHead({ provider, blocks: results.blocks, key: CURSOR_KEY });
    if (reading.reorg) {
      results.rewindCursor(CURSOR_KEY, reading.reorg.forkBlock);
      const reopened = results.reopenSince("challenger", reading.reorg.changedSince);
      own.clear(); // a re-used request id may come back with another input
      for (const result of results.listActive("challenger")) afterReorg.add(result.requestId);
      logger.warn("chain reorganised, rewinding to the fork", {
        forkBlock: reading.reorg.forkBlock,
        resultsReopened: reopened,
      });
    }
    keepHead(results.blocks, CURSOR_KEY, reading, config.chain.confirmations);
    now = reading.head.timestamp;
    await followResults(reading.head.number);
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
      // The request's event whose params the market committed to (a reorg may have re-used the
      // id), searched back from the result's block in ranges the node allows.
      const requested = await findRequestedEvent(market, requestId, request.commitment, {
        fromBlock: deployment.startBlock,
        toBlock: log.blockNumber,
        maxBlockRange: config.chain.maxBlockRange,
      });
      if (!requested) continue;
      found.push({
        requestId,
        role: "challenger",
        modelId: request.modelId,
        input: getBytes(requested.args.input),
        roots: [...layerRoots],
        params: requestParamsOf(requested.args),
      });
      logger.info("optimistic result seen", { requestId, modelId: request.modelId, provider: log.args.provider });
    }
    results.recordResults(found, CURSOR_KEY, range.toBlock);
  }

  async function ownTrace(result: TrackedResult, log: Logger) {
    let entry = own.get(result.requestId);
    if (!entry) {
      const model = await models.get(result.modelId, signal);
      const started = performance.now();
      const run = runCommitted(model.model, optimisticInput(model.model, result.input), cheat);
      // How long checking a result takes, the watchtower's side of the provider's "generated".
      log.info("result re-executed", {
        ...(run.kind === "generation" ? { passes: run.passes.length } : {}),
        seconds: Number(((performance.now() - started) / 1000).toFixed(3)),
      });
      entry = { run, output: encodeTensor(run.output) };
      own.set(result.requestId, entry);
    }
    return entry;
  }

  async function watchResult(result: TrackedResult): Promise<void> {
    const { requestId } = result;
    const log = logger.child({ requestId, modelId: result.modelId });
    const ours = results.listGames("challenger", requestId);
    if (ours.length > 0) {
      await playOurGames(result, ours, log);
      return;
    }
    const mine = await ownTrace(result, log);
    const k = firstDifferingLayer(mine.run.roots, result.roots);
    // What a consumer reads is the whole output, header included: compare it too, not only the roots.
    const submitted = await submittedOutput(requestId);
    const byte = submitted === undefined ? undefined : firstDifferingByte(mine.output, submitted);
    const generation = mine.run.kind === "generation" ? mine.run : undefined;
    if (k === undefined && byte !== undefined && generation) {
      if (await adoptOurGame(result, log)) return;
      await challengeOutput(result, generation, submitted!, log);
      return;
    }
    if (k === undefined) {
      if (byte === undefined) {
        log.info("result checked: trace agrees", {});
        results.update("challenger", requestId, { state: "agreed" });
      } else {
        // The market binds the header to the registered format and the elements to the last
        // root, so this cannot happen with a sound market: no game can dispute it, say so loudly.
        log.error("SUBMITTED OUTPUT DIFFERS FROM OURS ALTHOUGH EVERY LAYER ROOT AGREES: not disputable", {
          firstDifferingByte: byte,
          ours: hex(mine.output),
          submitted: hex(submitted!),
        });
        results.update("challenger", requestId, { state: "settled", note: "output differs, roots agree" });
      }
      own.delete(requestId);
      return;
    }
    if (await adoptOurGame(result, log)) return;
    const market = suite.inferenceMarket;
    const status = Number(await market.statusOf(requestId));
    if (resultDropped(result, status, log)) return;
    // Our own game whatever others have opened: a Challenged result takes more games until its window ends.
    const challengeable = status === RequestStatus.Submitted || status === RequestStatus.Challenged;
    if (!challengeable || now >= (await market.windowEndOf(requestId))) {
      const why = status === RequestStatus.Refunded ? "refunded by another game" : requestStatusName(status);
      log[status === RequestStatus.Refunded ? "info" : "warn"]("wrong result no longer challengeable", {
        status: requestStatusName(status),
        layer: k,
      });
      results.update("challenger", requestId, { state: "settled", note: `missed: ${why}` });
      own.delete(requestId);
      return;
    }
    const model = await models.get(result.modelId, signal);
    const others = status === RequestStatus.Challenged ? Number(await market.openGamesOf(requestId)) : 0;
    // A game over a generation starts at pass k and names its layer in RevealLayers.
    const at = generation ? { pass: k } : { layer: k };
    log.warn("result differs from our trace, challenging", { ...at, openGames: others, outputByte: byte });
    const { layerSpec, layoutProof } = generation
      ? { layerSpec: "0x", layoutProof: [] }
      : disputedLayer(model.specs, result.roots, mine.run.roots);
    const params = {
      request: await requestParams(result),
      input: result.input,
      defenderRoots: result.roots,
      challengerRoots: mine.run.roots,
      layerSpec,
      layoutProof,
    };
    const bond = await game.requiredBond(requestId);
    await openOurGame(
      result,
      "challenge",
      game.challenge.populateTransaction(requestId, params, { value: bond }),
      {
        ...at,
        bond,
        openGames: others + 1,
      },
      log,
    );
  }

  /**
   * A generation whose pass roots agree with ours but whose posted ids do not: the first differing
   * id is proven against the defender's committed argmax of its pass, which ends the game at once.
   */
  async function challengeOutput(result: TrackedResult, run: GenerationRun, submitted: Uint8Array, log: Logger) {
    const { requestId } = result;
    const status = Number(await suite.inferenceMarket.statusOf(requestId));
    if (resultDropped(result, status, log)) return;
    const [posted, ours] = [decodeTensor(submitted).data as Int32Array, run.output.data as Int32Array];
    const index = ours.findIndex((id, i) => posted[i] !== id);
    const challengeable = status === RequestStatus.Submitted || status === RequestStatus.Challenged;
    if (!challengeable || now >= (await suite.inferenceMarket.windowEndOf(requestId))) {
      log.warn("wrong output no longer challengeable", { status: requestStatusName(status), index });
      results.update("challenger", requestId, { state: "settled", note: `missed: ${requestStatusName(status)}` });
      own.delete(requestId);
      return;
    }
    const pass = run.promptLength - 1 + index;
    const argmax = run.trees.passes[0]!.roots.length - 1;
    log.warn("posted token differs from the committed argmax, challenging the output", { index, pass });
    const params = {
      request: await requestParams(result),
      input: result.input,
      defenderRoots: result.roots,
      index,
      argmax: layerOpening(run.trees, pass, argmax),
      token: hex(run.trees.passes[pass]!.bytes[argmax]!),
    };
    const bond = await game.requiredBond(requestId);
    const transaction = game.challengeOutput.populateTransaction(requestId, params, { value: bond });
    await openOurGame(result, "challengeOutput", transaction, { index, pass, bond }, log);
  }

  /**
   * Whether a reorg dropped the submission of `result` (the request is Pending or Claimed again):
   * it is then forgotten, and a submission made again is recorded anew from its event.
   */
  function resultDropped(result: TrackedResult, status: number, log: Logger): boolean {
    if (status !== RequestStatus.Pending && status !== RequestStatus.Claimed) return false;
    log.warn("result no longer on the chain (a reorg dropped its submission), waiting for it again", {
      status: requestStatusName(status),
    });
    results.forgetResult("challenger", result.requestId);
    own.delete(result.requestId);
    return true;
  }

  /** Sends a challenge and records the game its `GameStarted` event names. */
  async function openOurGame(
    result: TrackedResult,
    move: string,
    transaction: Parameters<typeof sender.send>[0]["transaction"],
    fields: Record<string, unknown>,
    log: Logger,
  ): Promise<void> {
    const { requestId } = result;
    try {
      const receipt = await sender.send({ action: `${move} request ${requestId}`, transaction });
      for (const entry of receipt.logs) {
        const parsed = game.interface.parseLog(entry);
        if (parsed?.name !== "GameStarted") continue;
        const gameId = parsed.args.gameId as bigint;
        log.info("game move", { move, gameId, ...fields, gasUsed: receipt.gasUsed, tx: receipt.hash });
        results.recordGame({ gameId, requestId, role: "challenger", challenger: wallet.address });
        results.update("challenger", requestId, { state: "disputing" });
      }
    } catch (error) {
      if (!(error instanceof ChainRevertError)) throw error;
      log.warn("challenge refused, will look again", { reason: error.shortMessage });
    }
  }

  /** The request's params as recorded, or from its event for a row recorded before they were kept. */
  async function requestParams(result: TrackedResult): Promise<RequestParams> {
    return (
      result.params ??
      (await findRequestParams(suite.inferenceMarket, result.requestId, {
        fromBlock: deployment.startBlock,
        maxBlockRange: config.chain.maxBlockRange,
      }))
    );
  }

  /** The output bytes of the request's `ResultSubmitted` event. */
  async function submittedOutput(requestId: bigint): Promise<Uint8Array | undefined> {
    const market = suite.inferenceMarket;
    const logs = await market.queryFilter(market.filters.ResultSubmitted(requestId), deployment.startBlock);
    const last = logs[logs.length - 1];
    return last && getBytes(last.args.output);
  }

  /** Takes up a game we opened but did not record (a crash between the send and the record). */
  async function adoptOurGame(result: TrackedResult, log: Logger): Promise<boolean> {
    const started = await gamesOf(game, result.requestId, {
      fromBlock: deployment.startBlock,
      challenger: wallet.address,
    });
    for (const entry of started) results.recordGame({ ...entry, role: "challenger" });
    if (started.length === 0) return false;
    log.info("resuming our game", { gameIds: started.map((g) => g.gameId) });
    results.update("challenger", result.requestId, { state: "disputing" });
    return true;
  }

  /**
   * Our recorded games over `requestId` that are still on the chain after a reorg, the others
   * forgotten: a dropped challenge's game id is unknown, or another's.
   */
  async function forgetDroppedGames(requestId: bigint, ours: TrackedGame[], log: Logger): Promise<TrackedGame[]> {
    const onChain = await gamesOf(game, requestId, { fromBlock: deployment.startBlock, challenger: wallet.address });
    const live = new Set(onChain.map((g) => g.gameId));
    for (const entry of ours.filter((entry) => !live.has(entry.gameId))) {
      results.forgetGame("challenger", entry.gameId);
      log.warn("our challenge is no longer on the chain (a reorg dropped it), checking the result again", {
        gameId: entry.gameId,
      });
    }
    return ours.filter((entry) => live.has(entry.gameId));
  }

  /** Plays our games over the result to their end, then withdraws what they credited us. */
  async function playOurGames(result: TrackedResult, ours: TrackedGame[], log: Logger): Promise<void> {
    const { requestId } = result;
    const model = await models.get(result.modelId, signal);
    const mine = await ownTrace(result, log);
    const live = afterReorg.delete(requestId) ? await forgetDroppedGames(requestId, ours, log) : ours;
    if (live.length === 0) {
      results.update("challenger", requestId, { state: "open" });
      return;
    }
    let open = 0;
    for (const entry of live) {
      if (entry.state === "resolved") continue;
      const step = await playGameStep(
        { game, sender, logger, fromBlock: deployment.startBlock },
        { gameId: entry.gameId, role: "challenger", own: mine.run, model, committedRoots: result.roots },
      );
      if (!step.resolved) {
        open++;
        continue;
      }
      const outcome = (await gameResolution(game, entry.gameId, deployment.startBlock)) ?? {
        winner: step.winner,
        slashed: 0n,
        moot: false,
      };
      const winner = gameSideName(outcome.winner);
      log[outcome.winner === GameSide.Challenger || outcome.moot ? "info" : "warn"]("game resolved", {
        gameId: entry.gameId,
        winner,
        slashed: outcome.slashed,
        moot: outcome.moot,
      });
      results.resolveGame("challenger", entry.gameId, { winner: outcome.winner, moot: outcome.moot });
    }
    if (open > 0) return;
    const credit = await game.balanceOf(wallet.address);
    if (credit > 0n) {
      const receipt = await sender.send({
        action: "withdraw game credit",
        transaction: game.withdraw.populateTransaction(),
      });
      log.info("game credit withdrawn", { amount: credit, gasUsed: receipt.gasUsed });
    }
    const last = results.listGames("challenger", requestId).at(-1);
    const note = last ? `winner ${gameSideName(last.winner ?? 0)}${last.moot ? " (moot)" : ""}` : "";
    results.update("challenger", requestId, { state: "settled", note });
    own.delete(requestId);
  }
}
