/**
 * The provider's follow-up of its Optimistic results: finalize once the window has passed (the
 * fee is paid only then), defend every game opened against them from the trace kept on disk,
 * claim a timeout against a silent challenger, withdraw won bonds, and drop the trace once the
 * request is settled. Each call looks at the chain afresh, so a restart resumes a game.
 */
import { GameSide, gameSideName, type DisputeGame } from "../chain/dispute-game.ts";
import type { InferenceMarket } from "../chain/connect.ts";
import { RequestStatus, requestStatusName } from "../chain/request-status.ts";
import { ChainRevertError } from "../chain/revert-error.ts";
import type { TxSender } from "../chain/tx-sender.ts";
import { traceTrees, type TraceTrees } from "../dispute/moves.ts";
import { readTraceFile, removeTraceFile, traceFilePath } from "../dispute/trace-file.ts";
import type { Logger } from "../log/logger.ts";
import type { DisputeStore, TrackedResult } from "../store/open-dispute-store.ts";
import { playGameStep } from "./game-moves.ts";
import { optimisticInput, type OptimisticModels } from "./optimistic-models.ts";
import { submitGasLimit } from "./serve-job.ts";

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
  /** Our traces' trees, built once per request. */
  trees: Map<bigint, TraceTrees>;
};

export async function defendResult(ctx: DefendContext, result: TrackedResult): Promise<void> {
  const { requestId } = result;
  const log = ctx.logger.child({ requestId, modelId: result.modelId });
  const request = await ctx.market.getRequest(requestId);
  const status = Number(request.status);
  const mine = request.provider.toLowerCase() === ctx.sender.address.toLowerCase();
  if (status === RequestStatus.Claimed || status === RequestStatus.Pending) return; // not submitted yet

  if (!mine || (status !== RequestStatus.Submitted && status !== RequestStatus.Challenged)) {
    await withdrawGameCredit(ctx, log);
    const outcome = !mine ? "not ours" : requestStatusName(status);
    log.info(status === RequestStatus.Finalized ? "optimistic result finalized" : "optimistic result settled", {
      status: outcome,
    });
    removeTraceFile(traceFilePath(ctx.stateDir, requestId));
    ctx.trees.delete(requestId);
    ctx.results.update("defender", requestId, { state: "settled", note: outcome });
    return;
  }

  if (status === RequestStatus.Submitted) {
    if (result.state === "disputing") {
      // A game ended in our favour: the result is open again until its (extended) window ends.
      await withdrawGameCredit(ctx, log);
      ctx.results.update("defender", requestId, { state: "open" });
    }
    const windowEnd = await ctx.market.windowEndOf(requestId);
    if (ctx.now() < windowEnd) return;
    try {
      const output = await ctx.market.queryFilter(ctx.market.filters.ResultSubmitted(requestId), ctx.fromBlock);
      const outputBytes = output.length > 0 ? (output[output.length - 1]!.args.output.length - 2) / 2 : 0;
      const receipt = await ctx.sender.send({
        action: `finalize request ${requestId}`,
        transaction: ctx.market.finalize.populateTransaction(requestId),
        gasLimit: submitGasLimit(outputBytes, request.callbackGasLimit),
      });
      log.info("finalized", { tx: receipt.hash, gasUsed: receipt.gasUsed });
    } catch (error) {
      if (!(error instanceof ChainRevertError)) throw error;
      log.info("finalize refused, will look again", { reason: error.shortMessage }); // someone else finalized
    }
    return;
  }

  // Challenged: play our side of the game.
  const gameId = await ctx.game.gameOf(requestId);
  if (result.state !== "disputing" || result.gameId !== gameId) {
    const g = await ctx.game.getGame(gameId);
    log.warn("our result is challenged, defending", { gameId, challenger: g.challenger, layer: g.layer });
    ctx.results.update("defender", requestId, { state: "disputing", gameId });
  }
  const model = await ctx.models.get(result.modelId);
  let own = ctx.trees.get(requestId);
  if (!own) {
    own = traceTrees(readTraceFile(traceFilePath(ctx.stateDir, requestId)));
    ctx.trees.set(requestId, own);
  }
  const step = await playGameStep(
    { game: ctx.game, sender: ctx.sender, logger: ctx.logger, fromBlock: ctx.fromBlock },
    { gameId, role: "defender", own, model, input: optimisticInput(model.model, result.input) },
  );
  if (step.resolved)
    log[step.winner === GameSide.Defender ? "info" : "warn"]("game resolved", {
      gameId,
      winner: gameSideName(step.winner),
    });
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
