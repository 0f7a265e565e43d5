/**
 * The provider's follow-up of its Optimistic results: defend every game opened against a result
 * (any number may be open at once, each between its own challenger and us) from the trace kept
 * on disk (a decoder's: every pass's), claim a timeout against a silent challenger, withdraw what the games credit us,
 * finalize once the window has passed and no game is open (the fee is paid only then), and drop
 * the trace once the request is settled and its last game is over. Each call looks at the chain
 * afresh (games are found by their `GameStarted` events and played from their own state), so a
 * restart resumes every game.
 */
import {
  gameResolution,
  gamesOf,
  GameSide,
  gameSideName,
  type DisputeGame,
  type StartedGame,
} from "../chain/dispute-game.ts";
import type { InferenceMarket } from "../chain/connect.ts";
import { findRequestParams } from "../chain/request-params.ts";
import { RequestStatus, requestStatusName } from "../chain/request-status.ts";
import { ChainRevertError } from "../chain/revert-error.ts";
import type { TxSender } from "../chain/tx-sender.ts";
import { runFromLayers, type CommittedRun } from "../dispute/committed-run.ts";
import { readTraceFile, removeTraceFile, traceFilePath } from "../dispute/trace-file.ts";
import type { Logger } from "../log/logger.ts";
import type { DisputeStore, TrackedResult } from "../store/open-dispute-store.ts";
import { playGameStep } from "./game-moves.ts";
import { optimisticInput, type OptimisticModel, type OptimisticModels } from "./optimistic-models.ts";
import { submitGasLimit } from "./serve-job.ts";
import { warnFailedCallback } from "./callback-outcome.ts";

export type DefendContext = {
  market: InferenceMarket;
  game: DisputeGame;
  sender: TxSender;
  results: DisputeStore;
  models: OptimisticModels;
  stateDir: string;
  logger: Logger;
  /** The latest block's timestamp. */
  now: () => bigint;
  fromBlock: number;
  /** Our runs (trace or generation, with their trees), read from the trace files once per request. */
  runs: Map<bigint, CommittedRun>;
};

export async function defendResult(ctx: DefendContext, result: TrackedResult): Promise<void> {
  const { requestId } = result;
  const log = ctx.logger.child({ requestId, modelId: result.modelId });
  const request = await ctx.market.getRequest(requestId);
  const status = Number(request.status);
  if (status === RequestStatus.Claimed || status === RequestStatus.Pending) return; // not submitted yet
  if (request.provider.toLowerCase() !== ctx.sender.address.toLowerCase()) {
    await settle(ctx, result, log, "not ours");
    return;
  }

  const open = await defendGames(ctx, result, log);
  if (status === RequestStatus.Challenged) {
    if (result.state !== "disputing") ctx.results.update("defender", requestId, { state: "disputing" });
    return;
  }
  if (status === RequestStatus.Submitted) {
    // No game is open (the market says Challenged while one is); the window never moves.
    if (result.state === "disputing") ctx.results.update("defender", requestId, { state: "open" });
    if (ctx.now() >= (await ctx.market.windowEndOf(requestId))) await finalize(ctx, result, log);
    return;
  }
  // Finalized, Refunded or Failed: once our last game over it is over (a game over a refunded
  // request is moot, but we still answer it so its challenger's bond is not held for a whole
  // clock), nothing is left to defend.
  if (open === 0) await settle(ctx, result, log, requestStatusName(status));
}

/**
 * Plays one step of every game over the result that is not yet resolved, each from its own
 * state on chain, and acts once on each resolution. Returns how many games are still open.
 */
async function defendGames(ctx: DefendContext, result: TrackedResult, log: Logger): Promise<number> {
  const { requestId } = result;
  const started = await gamesOf(ctx.game, requestId, { fromBlock: ctx.fromBlock });
  if (started.length === 0) return 0;
  const seen = new Map(ctx.results.listGames("defender", requestId).map((g) => [g.gameId, g]));
  const model = await ctx.models.get(result.modelId);
  let open = 0;
  for (const game of started) {
    if (seen.get(game.gameId)?.state === "resolved") continue;
    if (ctx.results.recordGame({ ...game, role: "defender" }))
      log.warn("our result is challenged, defending", {
        gameId: game.gameId,
        challenger: game.challenger,
        layer: game.layer,
        games: started.length,
      });
    try {
      const step = await playGameStep(
        { game: ctx.game, sender: ctx.sender, logger: ctx.logger, fromBlock: ctx.fromBlock },
        { gameId: game.gameId, role: "defender", own: ownRun(ctx, result, model), model, committedRoots: result.roots },
      );
      if (step.resolved) await onResolved(ctx, game, step.winner, log);
      else open++;
    } catch (error) {
      // One game's failure must not hold up the others; it is retried at the next poll.
      if (!(error instanceof ChainRevertError)) throw error;
      log.warn("game move refused, will look again", { gameId: game.gameId, reason: error.shortMessage });
      open++;
    }
  }
  return open;
}

function ownRun(ctx: DefendContext, result: TrackedResult, model: OptimisticModel): CommittedRun {
  let own = ctx.runs.get(result.requestId);
  if (!own) {
    const layers = readTraceFile(traceFilePath(ctx.stateDir, result.requestId));
    own = runFromLayers(model.model, optimisticInput(model.model, result.input), layers);
    ctx.runs.set(result.requestId, own);
  }
  return own;
}

/** Logs a game's end once (winner, slash, whether it was moot) and withdraws what it credited us. */
async function onResolved(ctx: DefendContext, game: StartedGame, winner: number, log: Logger): Promise<void> {
  const outcome = (await gameResolution(ctx.game, game.gameId, ctx.fromBlock)) ?? { winner, slashed: 0n, moot: false };
  log[outcome.winner === GameSide.Defender ? "info" : "warn"]("game resolved", {
    gameId: game.gameId,
    challenger: game.challenger,
    winner: gameSideName(outcome.winner),
    slashed: outcome.slashed,
    moot: outcome.moot,
  });
  ctx.results.resolveGame("defender", game.gameId, { winner: outcome.winner, moot: outcome.moot });
  await withdrawGameCredit(ctx, log);
}

async function finalize(ctx: DefendContext, result: TrackedResult, log: Logger): Promise<void> {
  const { requestId } = result;
  try {
    // A row recorded before the params were kept recovers them from the request's event.
    const params = result.params ?? (await findRequestParams(ctx.market, requestId, ctx.fromBlock));
    const output = await ctx.market.queryFilter(ctx.market.filters.ResultSubmitted(requestId), ctx.fromBlock);
    const outputBytes = output.length > 0 ? (output[output.length - 1]!.args.output.length - 2) / 2 : 0;
    const receipt = await ctx.sender.send({
      action: `finalize request ${requestId}`,
      transaction: ctx.market.finalize.populateTransaction(requestId, params),
      gasLimit: submitGasLimit(outputBytes, params.callbackGasLimit),
    });
    log.info("finalized", { tx: receipt.hash, gasUsed: receipt.gasUsed });
    await warnFailedCallback({
      market: ctx.market,
      receipt,
      requestId,
      callback: params.callback,
      callbackGasLimit: params.callbackGasLimit,
      logger: log,
    });
  } catch (error) {
    if (!(error instanceof ChainRevertError)) throw error;
    log.info("finalize refused, will look again", { reason: error.shortMessage }); // someone else finalized
  }
}

async function settle(ctx: DefendContext, result: TrackedResult, log: Logger, outcome: string): Promise<void> {
  await withdrawGameCredit(ctx, log);
  log.info(outcome === "Finalized" ? "optimistic result finalized" : "optimistic result settled", { status: outcome });
  removeTraceFile(traceFilePath(ctx.stateDir, result.requestId));
  ctx.runs.delete(result.requestId);
  ctx.results.update("defender", result.requestId, { state: "settled", note: outcome });
}

async function withdrawGameCredit(ctx: DefendContext, log: Logger): Promise<void> {
  const credit = await ctx.game.balanceOf(ctx.sender.address);
  if (credit === 0n) return;
  const receipt = await ctx.sender.send({
    action: "withdraw game credit",
    transaction: ctx.game.withdraw.populateTransaction(),
  });
  log.info("game credit withdrawn", { amount: credit, gasUsed: receipt.gasUsed });
}
