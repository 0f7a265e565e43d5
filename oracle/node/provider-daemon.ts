import path from "node:path";
import { fetchReleasedEvents, fetchRequestedEvents, nextBlockRange } from "../chain/market-events.ts";
import type { VerityConfig } from "../config/schema.ts";
import type { Logger } from "../log/logger.ts";
import { openContentStore } from "../storage/open-content-store.ts";
import { openJobStore } from "../store/open-job-store.ts";
import { sleep } from "../util/retry.ts";
import { startMetricsServer, type DaemonStatus, type MetricsServer } from "./metrics-server.ts";
import { createModelCache } from "./model-cache.ts";
import { serveJob, SetupNotReadyError, type ServeJobContext } from "./serve-job.ts";
import { createFulfilSender } from "./fulfil-sender.ts";
import { createAssignment } from "./assignment.ts";
import { expireRequests } from "./expire-requests.ts";
import { ZeroAddress } from "ethers";
import { attach } from "../chain/connect.ts";
import type { DisputeGame } from "../chain/dispute-game.ts";
import { assertCheatAllowed } from "../dispute/cheat.ts";
import type { CommittedRun } from "../dispute/committed-run.ts";
import { openDisputeStore } from "../store/open-dispute-store.ts";
import { defendResult, type DefendContext } from "./defend-results.ts";
import { createOptimisticModels } from "./optimistic-models.ts";
import { createZkModels } from "./zk-models.ts";
import { createDecoderModels } from "./decoder-models.ts";
import { connectDaemon } from "./connect-daemon.ts";
import { createModelFormats } from "./model-formats.ts";
import { createStakeGuard } from "./stake-guard.ts";
import type { ActiveJob } from "../store/open-job-store.ts";
import { runKeeper } from "./keeper.ts";
import { isStoreError } from "./assess-health.ts";
import { keepHead, keepingReceiptBlocks, readHead, type Reorg } from "../chain/find-fork.ts";
import { isSqliteCorruption } from "../store/store-corruption.ts";
import { reopenStateAfterReorg } from "./reorg-recheck.ts";
import { requestStatusName } from "../chain/request-status.ts";
import { optedInModelIds } from "./served-models.ts";

export type RunProviderDaemonParameters = {
  config: VerityConfig;
  logger: Logger;
  /** Aborting stops the daemon after the step in progress. */
  signal: AbortSignal;
};

const CURSOR_KEY = "market-requests";

/**
 * The provider daemon: follows the market's requests from a persisted block cursor, serves the
 * ones for its models (claim, run, submit) and resumes unfinished jobs after a restart. Each
 * poll compares the heads it kept with the chain: after a reorg the cursor goes back to the
 * fork, and jobs whose request or steps were in dropped blocks are served again from what the
 * chain says. A corrupt state file ends it with the fix (oracle/store/store-corruption.ts).
 */
export async function runProviderDaemon({ config, logger, signal }: RunProviderDaemonParameters): Promise<void> {
  const cheat = config.testing?.cheat;
  assertCheatAllowed(cheat, process.env);
  const { provider, wallet, sender, deployment, suite } = await connectDaemon(config, logger);
  const jobs = openJobStore({
    file: path.join(config.stateDir, "provider.sqlite"),
    chainId: deployment.chainId,
    market: deployment.contracts.inferenceMarket,
  });
  const content = await openContentStore(config.storage);
  const models = createModelCache({
    registry: suite.modelRegistry,
    content,
    runtime: config.runtime,
    logger,
  });
  const results = openDisputeStore({
    stateDir: config.stateDir,
    chainId: deployment.chainId,
    market: deployment.contracts.inferenceMarket,
  });
  const optimisticModels = createOptimisticModels({
    registry: suite.modelRegistry,
    content,
    manifests: config.dispute.manifests,
    folders: config.modelFolders,
    logger,
  });
  const zkModels = createZkModels({
    registry: suite.modelRegistry,
    dirs: { ...config.zk.models, ...config.modelFolders },
    logger,
  });
  const decoders = createDecoderModels({
    registry: suite.modelRegistry,
    folders: config.modelFolders,
    threads: config.runtime.threads,
    executionProvider: config.runtime.executionProvider,
    logger,
  });
  const served = config.models.length > 0 ? new Set(config.models.map((m) => BigInt(m))) : undefined;
  // Jobs and results move on from receipts: their blocks are kept so a reorg that drops one is found.
  const jobSender = keepingReceiptBlocks(sender, jobs.blocks, CURSOR_KEY);
  const ctx: ServeJobContext = {
    market: suite.inferenceMarket,
    sender: jobSender,
    jobs,
    fromBlock: deployment.startBlock,
    content,
    models,
    formats: createModelFormats(suite.modelRegistry),
    stake: createStakeGuard({
      providers: suite.providerRegistry,
      market: suite.inferenceMarket,
      account: wallet.address,
      logger,
    }),
    logger,
    deadlineMarginSec: config.jobs.deadlineMarginSec,
    releaseMarginSec: config.jobs.releaseMarginSec,
    maxInputBytes: config.jobs.maxInputBytes,
    retry: config.retry,
    now: () => BigInt(Math.floor(Date.now() / 1000)),
    signal,
    optimistic: { models: optimisticModels, results, stateDir: config.stateDir, cheat },
    zk: zkModels,
    decoders,
    modeOf: (modelId) => optimisticModels.mode(modelId),
    fulfil: config.jobs.claimFree
      ? createFulfilSender({
          market: suite.inferenceMarket,
          sender,
          // No more results can be waiting than jobs in flight: a batch that holds them all goes at once.
          maxItems: Math.min(config.jobs.batchMaxItems, config.jobs.concurrency),
          windowMs: config.jobs.batchWindowMs,
          logger,
        })
      : undefined,
  };
  const defence: Omit<DefendContext, "game"> & { game: DisputeGame | undefined } = {
    market: suite.inferenceMarket,
    game: undefined,
    sender: jobSender,
    results,
    models: optimisticModels,
    stateDir: config.stateDir,
    logger,
    now: () => ctx.now(),
    fromBlock: deployment.startBlock,
    runs: new Map<bigint, CommittedRun>(),
  };
  if (cheat) logger.warn("TEST-ONLY fault injection enabled: results will be wrong", { cheat });
  logger.info("provider daemon started", {
    account: wallet.address,
    chainId: deployment.chainId,
    market: deployment.contracts.inferenceMarket,
    models: served ? [...served] : "all opted in",
  });

  const status: DaemonStatus = {
    startedAt: Date.now(),
    account: wallet.address,
    chainId: deployment.chainId,
    lastPollAt: 0,
    lastPollError: undefined,
    headBlock: 0n,
    headMovedAt: Date.now(),
    cursorBlock: 0n,
    jobs: () => jobs.countByState(),
    storeError: undefined,
    runtimeError: () => models.runtimeProblem(),
    sends: () => sender.inFlight(),
    rpc: () => provider.endpoints(),
  };
  const inFlight = new Map<bigint, Promise<void>>();
  const assignment = createAssignment({
    registry: suite.providerRegistry,
    rpc: provider,
    self: wallet.address,
    windowSec: config.jobs.assignmentWindowSec,
    fromBlock: deployment.startBlock,
  });
  /**
   * Requests another provider ranks before us for: the chain time from which each is ours to
   * serve, and the same moment by this machine's clock (a chain that mines only on demand may
   * not reach the turn's time on its own).
   */
  const turns = new Map<bigint, { turn: bigint; atMs: number }>();
  /** Jobs whose set-up is not ready: when to try each again, and the delay before that. */
  const waiting = new Map<bigint, { at: number; delayMs: number }>();
  let defending: Promise<void> | undefined;
  let expiring: Promise<unknown> | undefined;
  let lastExpireScan = 0;
  let optedIn: { at: number; ids: Set<bigint> } | undefined;
  let failedPolls = 0;
  let metrics: MetricsServer | undefined;
  /** A corrupt state file: nothing to retry, the daemon ends with this error. */
  let fatal: unknown;
  const ended = new AbortController();
  const loopSignal = AbortSignal.any([signal, ended.signal]);
  const endWith = (error: unknown) => {
    fatal ??= error;
    ended.abort();
  };
  const me = wallet.address.toLowerCase();
  // The keeper role (keeper.enabled): its own loop beside the provider's, sharing the account's sender.
  const keeping = config.keeper.enabled
    ? runKeeper({
        provider,
        sender,
        deployment,
        keeper: config.keeper,
        pollIntervalMs: config.chain.pollIntervalMs,
        stateDir: config.stateDir,
        logger: logger.child({ role: "keeper" }),
        signal,
      }).catch((error: unknown) => logger.error("keeper role ended", { error }))
    : undefined;
  try {
    // Inside the try: a metrics port in use ends the daemon with everything closed.
    if (config.metrics.port !== null) {
      metrics = await startMetricsServer(
        {
          ...config.metrics,
          port: config.metrics.port,
          pollIntervalMs: config.chain.pollIntervalMs,
          rpcTimeoutMs: config.chain.rpcTimeoutMs,
          health: config.health,
        },
        status,
      );
      logger.info("metrics and health served", { url: metrics.url });
    }
    while (!loopSignal.aborted) {
      try {
        await pollOnce();
        failedPolls = 0;
        status.lastPollError = undefined;
        status.storeError = undefined;
      } catch (error) {
        if (isSqliteCorruption(error)) {
          endWith(error);
          break;
        }
        // The node may be down or rate-limiting: keep the jobs, back off, poll again.
        failedPolls++;
        status.lastPollError = error instanceof Error ? error.message : String(error);
        if (isStoreError(error)) status.storeError = status.lastPollError;
        logger.warn("poll failed, retrying", { failedPolls, error });
      }
      const delay = Math.min(config.chain.pollIntervalMs * 2 ** Math.min(failedPolls, 6), config.retry.maxDelayMs);
      await sleep(Math.max(delay, config.chain.pollIntervalMs), loopSignal).catch(() => undefined);
    }
    if (fatal !== undefined) throw fatal;
  } finally {
    await Promise.allSettled(inFlight.values());
    await keeping;
    await defending;
    await expiring;
    results.close();
    await metrics?.close();
    await models.close();
    await zkModels.close();
    await decoders.close();
    await content.close();
    jobs.close();
    provider.destroy();
    logger.info("provider daemon stopped");
  }

  async function pollOnce(): Promise<void> {
    const reading = await readHead({ provider, blocks: jobs.blocks, key: CURSOR_KEY });
    if (reading.reorg) rewind(reading.reorg);
    keepHead(jobs.blocks, CURSOR_KEY, reading, config.chain.confirmations);
    const { head } = reading;
    ctx.now = () => head.timestamp;
    if (head.number !== status.headBlock) status.headMovedAt = Date.now();
    status.headBlock = head.number;
    await followRequests(head.number);
    await recheckAfterReorg();
    status.lastPollAt = Date.now();
    // Bounded: the jobs that can start now, plus those in flight, waiting for their set-up or
    // for another provider's turn, which are passed over.
    const limit = config.jobs.concurrency + inFlight.size + waiting.size + turns.size + 16;
    for (const job of jobs.listActive(limit)) {
      if (inFlight.size >= config.jobs.concurrency) break;
      if (inFlight.has(job.requestId)) continue;
      if ((waiting.get(job.requestId)?.at ?? 0) > Date.now()) continue;
      const turn = turns.get(job.requestId);
      if (turn && turn.turn > ctx.now() && turn.atMs > Date.now()) continue;
      const run = serveInTurn(job)
        .then(() => {
          if (waiting.delete(job.requestId)) logger.info("set-up ready, serving", { requestId: job.requestId });
          takeUpOwnRelease(job.requestId);
        })
        .catch((error: unknown) => onJobError(job, error))
        .finally(() => inFlight.delete(job.requestId));
      inFlight.set(job.requestId, run);
    }
    defending ??= defendAll().finally(() => (defending = undefined));
    if (config.jobs.expireOthers && Date.now() - lastExpireScan >= Math.max(config.chain.pollIntervalMs, 1000)) {
      lastExpireScan = Date.now();
      expiring ??= expireRequests({
        market: suite.inferenceMarket,
        sender,
        jobs,
        fromBlock: deployment.startBlock,
        logger,
        now: ctx.now(),
        signal,
      })
        .catch((error: unknown) =>
          isSqliteCorruption(error)
            ? endWith(error)
            : logger.warn("expiring past-deadline requests failed, will retry", { error }),
        )
        .finally(() => (expiring = undefined));
    }
  }

  /**
   * Serves a job, unless it is still open and another provider ranks before us for it
   * (`jobs.assignmentWindowSec`): then it waits, without a read of the chain, for its turn.
   */
  async function serveInTurn(job: ActiveJob): Promise<void> {
    if (job.state === "seen" && !turns.has(job.requestId)) {
      const turn = await assignment.turnOf(job);
      const waitSec = turn - ctx.now();
      if (waitSec > 0n) {
        turns.set(job.requestId, { turn, atMs: Date.now() + Number(waitSec) * 1000 });
        logger.debug("another provider's turn first", { requestId: job.requestId, turn });
        return;
      }
    }
    turns.delete(job.requestId);
    await serveJob(ctx, job.requestId);
  }

  /**
   * A job step that did not finish. A stop is not a failure (the job resumes at the next start);
   * a set-up not ready keeps the job and tries it again with a growing delay (warned once,
   * then at debug level); anything else is logged and retried at the next poll.
   */
  function onJobError(job: ActiveJob, error: unknown): void {
    const { requestId } = job;
    if (isSqliteCorruption(error)) return endWith(error);
    if (signal.aborted) {
      logger.info("job step interrupted by the stop, resumes at the next start", { requestId });
      return;
    }
    if (isStoreError(error)) status.storeError = error instanceof Error ? error.message : String(error);
    jobs.recordAttempt(requestId, error);
    if (error instanceof SetupNotReadyError) {
      const previous = waiting.get(requestId);
      const delayMs = Math.min(
        previous ? previous.delayMs * 2 : config.chain.pollIntervalMs,
        Math.max(NOT_READY_MAX_DELAY_MS, config.chain.pollIntervalMs),
      );
      waiting.set(requestId, { at: Date.now() + delayMs, delayMs });
      const fields = { requestId, modelId: job.modelId, state: jobs.getJob(requestId)?.state, error };
      if (previous) logger.debug("set-up still not ready", { ...fields, retryInMs: delayMs });
      else logger.warn("set-up not ready, request kept and tried again at later polls", fields);
      return;
    }
    logger.error("job step failed, will retry", { requestId, error });
  }

  /** Finalizes and defends our Optimistic results, one after another. */
  async function defendAll(): Promise<void> {
    const active = results.listActive("defender");
    if (active.length === 0) return;
    if (!defence.game) {
      const address = await suite.inferenceMarket.disputeGame();
      if (address !== ZeroAddress) defence.game = attach<DisputeGame>("DisputeGame", address, wallet);
    }
    for (const result of active) {
      if (signal.aborted) return;
      try {
        if (defence.game) await defendResult(defence as DefendContext, result);
      } catch (error) {
        logger.error("defence step failed, will retry", { requestId: result.requestId, error });
      }
    }
  }

  /**
   * A reorg dropped the blocks above the fork: the cursor goes back to it, jobs whose request was
   * in a dropped block wait to be seen again, and jobs changed since are rechecked.
   */
  function rewind(reorg: Reorg): void {
    const { orphaned, recheck } = jobs.rewind(CURSOR_KEY, reorg.forkBlock, reorg.changedSince);
    const reopened = results.reopenSince("defender", reorg.changedSince);
    const fields = {
      forkBlock: reorg.forkBlock,
      requestsDropped: orphaned,
      jobsToRecheck: recheck,
      resultsReopened: reopened,
    };
    if (reorg.deep) logger.error("chain reorganised deeper than the blocks kept, rewinding as far as known", fields);
    else logger.warn("chain reorganised, rewinding to the fork", fields);
  }

  /**
   * Jobs changed after a fork: each goes back to where the chain says it is (a claim or a
   * submission of ours that the reorg dropped is made again). A bounded number per poll; jobs in
   * flight wait for the next poll.
   */
  async function recheckAfterReorg(): Promise<void> {
    for (const job of jobs.listRecheck(RECHECKS_PER_POLL)) {
      if (inFlight.has(job.requestId)) continue;
      const onchain = await suite.inferenceMarket.getRequest(job.requestId);
      const chainStatus = Number(onchain.status);
      const to = reopenStateAfterReorg(job.state, chainStatus, onchain.provider.toLowerCase() === me);
      if (to === undefined) {
        jobs.clearRecheck(job.requestId);
        continue;
      }
      jobs.reopen(job.requestId, to, `reorg: the chain has it ${requestStatusName(chainStatus)}`);
      waiting.delete(job.requestId);
      logger.warn("reorg dropped a step of this job, serving it again", {
        requestId: job.requestId,
        was: job.state,
        now: to,
        status: requestStatusName(chainStatus),
      });
    }
  }

  /**
   * A job we released ourselves (what it needs was missing near the deadline) is open on the
   * chain again: it goes back to seen and is claimed once its set-up is ready, if the deadline
   * still allows. Called when the job step ends and when our RequestReleased event is read.
   */
  function takeUpOwnRelease(requestId: bigint): void {
    const job = jobs.getJob(requestId);
    if (job?.state !== "released" || job.submitTx === undefined) return;
    // Content or set-up releases happen within releaseMarginSec of the deadline; a proof that
    // cannot be made is released at once, and claiming it again would fail the same way.
    if (job.deadline - ctx.now() > BigInt(config.jobs.releaseMarginSec)) return;
    if (jobs.reopenReleased(requestId, MAX_OWN_RELEASES))
      logger.info("request we released is open again, serving it once its set-up is ready", { requestId });
  }

  /** Records the requests of new blocks and moves the cursor in one transaction. */
  async function followRequests(head: bigint): Promise<void> {
    const cursor = jobs.getCursor(CURSOR_KEY) ?? BigInt(deployment.startBlock) - 1n;
    const range = nextBlockRange(cursor, head, config.chain.confirmations, config.chain.maxBlockRange);
    if (!range) return;
    const modelIds = served ?? (await optedInModels());
    const events = await fetchRequestedEvents(suite.inferenceMarket, range, modelIds);
    const released = await fetchReleasedEvents(suite.inferenceMarket, range);
    jobs.recordRequests(events, CURSOR_KEY, range.toBlock);
    for (const { requestId, provider } of released) {
      if (provider.toLowerCase() === me) {
        takeUpOwnRelease(requestId);
        continue;
      }
      if (jobs.getJob(requestId)?.state !== "skipped") continue;
      logger.info("request released by another provider, open again", { requestId, by: provider });
      jobs.transition(requestId, "seen");
    }
    status.cursorBlock = range.toBlock;
    for (const event of events) logger.info("request seen", { requestId: event.requestId, modelId: event.modelId });
  }

  /** The models this account opted in to, re-read at most once a minute. */
  async function optedInModels(): Promise<Set<bigint>> {
    if (optedIn && Date.now() - optedIn.at < 60_000) return optedIn.ids;
    const ids = new Set(await optedInModelIds(suite, wallet.address));
    optedIn = { at: Date.now(), ids };
    return ids;
  }
}

/** The longest wait between two tries of a job whose set-up is not ready; ms. */
const NOT_READY_MAX_DELAY_MS = 30_000;

/** Jobs rechecked against the chain per poll after a reorg. */
const RECHECKS_PER_POLL = 64;

/** Times a request we released ourselves is taken up again: a cause that stays costs a bounded gas. */
const MAX_OWN_RELEASES = 2;
