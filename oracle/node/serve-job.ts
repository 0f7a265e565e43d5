import type { InferenceMarket } from "../chain/connect.ts";
import { RequestStatus, requestStatusName } from "../chain/request-status.ts";
import { ChainRevertError } from "../chain/revert-error.ts";
import type { TxSender } from "../chain/tx-sender.ts";
import { BaseError, rootCause } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import { decodeContentTensor, decodeInputEnvelope } from "../model/input-envelope.ts";
import { encodeTensor, type Tensor } from "../model/tensor-codec.ts";
import { FailureReason, failureReasonOf } from "../model/failure-reason.ts";
import { KserveError } from "../runtime/kserve-client.ts";
import { runInference } from "../runtime/run-inference.ts";
import type { ContentStore } from "../storage/content-store.ts";
import { withRetry } from "../util/retry.ts";
import type { Job, JobStore } from "../store/open-job-store.ts";
import type { ModelCache } from "./model-cache.ts";
import { VerificationMode } from "../chain/register-model.ts";
import type { Cheat } from "../dispute/cheat.ts";
import { runCommitted, runLayers } from "../dispute/committed-run.ts";
import { traceFilePath, writeTraceFile } from "../dispute/trace-file.ts";
import type { DisputeStore } from "../store/open-dispute-store.ts";
import { optimisticInput, type OptimisticModels } from "./optimistic-models.ts";
import { hexlify, type ContractTransaction, type TransactionReceipt } from "ethers";
import { decodeRevert } from "../chain/revert-error.ts";
import { executeVqm } from "../model/vqm/reference-executor.ts";
import { ZkProveError } from "../zk/prove.ts";
import { zkInput, ZkModelError, type ZkModels } from "./zk-models.ts";
import { OptimisticModelError } from "./optimistic-models.ts";
import { warnFailedCallback } from "./callback-outcome.ts";
import { assertModelFormats, canonicalOutput, vqmFormats, type ModelFormatsCache } from "./model-formats.ts";
import type { StakeGuard } from "./stake-guard.ts";
import { assertNotDecoderGraph, DecoderModelError, type DecoderModels } from "./decoder-models.ts";
import { runDecoder } from "./run-decoder.ts";
import type { FulfilSender } from "./fulfil-sender.ts";
import type { RequestParams } from "../chain/request-params.ts";
import { jobParams, storedParams } from "./job-params.ts";

export type ServeJobContext = {
  market: InferenceMarket;
  sender: TxSender;
  jobs: JobStore;
  /** The deployment's `startBlock`: a job whose row lacks its request params finds them in events from there. */
  fromBlock: number;
  content: ContentStore;
  models: ModelCache;
  /** Each model's registered input and output formats: every output submitted is exactly the registered one. */
  formats: ModelFormatsCache;
  /** Whether the account's stake allows a claim now (logged once when it does not). */
  stake: StakeGuard;
  logger: Logger;
  /** Seconds; a request whose deadline is nearer than this is not claimed. */
  deadlineMarginSec: number;
  /**
   * Seconds; a claimed job whose content or set-up cannot be had keeps its claim and is tried
   * again at later polls while more than this is left before its deadline, then is released.
   */
  releaseMarginSec: number;
  maxInputBytes: number;
  retry: { attempts: number; baseDelayMs: number; maxDelayMs: number };
  now: () => bigint;
  signal?: AbortSignal | undefined;
  /** Serving Optimistic models: their loader, the result store and where traces are kept. */
  optimistic?: OptimisticServing | undefined;
  /** Serving Zk models: their integer models and provers (`zk.models`). */
  zk?: ZkModels | undefined;
  /** Attested decoders (text generation), served from their model folders. */
  decoders?: DecoderModels | undefined;
  /** The model's registered `VerificationMode`; every model is served as Attested without it. */
  modeOf?: ((modelId: bigint) => Promise<number>) | undefined;
  /** Serving Attested requests without a claim (`jobs.claimFree`): one `fulfil` per result, or batches. */
  fulfil?: FulfilSender | undefined;
};

export type OptimisticServing = {
  models: OptimisticModels;
  results: DisputeStore;
  stateDir: string;
  /** TEST-ONLY fault injection (`testing.cheat`). */
  cheat?: Cheat | undefined;
};

/** What a job submits: the output and the transaction that carries it. */
type Prepared = {
  output: Uint8Array;
  transaction: Promise<ContractTransaction>;
  gasLimit: bigint | undefined;
  /** What the success log says. */
  submitted: string;
};

/** Content (model or input) could not be fetched after every retry. */
class ContentUnavailableError extends BaseError {
  override name = "ContentUnavailableError";
}

/**
 * What the job needs is not there yet: the model's content or manifest, its model folder, the
 * input behind a content id. The job keeps its place (unclaimed, or claimed while there is time)
 * and the daemon tries it again at a later poll.
 */
export class SetupNotReadyError extends BaseError {
  override name = "SetupNotReadyError";
}

/**
 * Drives one job one step closer to a final local state, always from what the chain says now,
 * so that running it again after a crash never serves a request twice:
 * seen → claiming → claimed → submitting → done, or failed / released / expired / skipped;
 * an Attested job served claim-free (`ctx.fulfil`) goes seen → submitting → done.
 */
export async function serveJob(ctx: ServeJobContext, requestId: bigint): Promise<void> {
  const job = ctx.jobs.getJob(requestId);
  if (!job) return;
  const log = ctx.logger.child({ requestId, modelId: job.modelId });
  const onchain = await ctx.market.getRequest(requestId);
  const status = Number(onchain.status);
  const mine = onchain.provider.toLowerCase() === ctx.sender.address.toLowerCase();

  // A claim-free result we recorded but the chain has not settled (a crash, a dropped
  // transaction): the stored output is sent again; if the first lands meanwhile, the market
  // refuses or skips the second and the job ends done from what the chain says.
  if (job.state === "submitting" && status === RequestStatus.Pending && ctx.fulfil) {
    await fulfilClaimFree(ctx, ctx.fulfil, job, await jobParams(ctx, job), log);
    return;
  }

  if (job.state === "seen" || job.state === "claiming") {
    if (status === RequestStatus.Claimed && mine) {
      ctx.jobs.transition(requestId, "claimed");
      return serveJob(ctx, requestId);
    }
    if (status !== RequestStatus.Pending) {
      log.info("request not open, skipped", { status: requestStatusName(status) });
      ctx.jobs.transition(requestId, "skipped", { lastError: `status ${requestStatusName(status)}` });
      return;
    }
    if (onchain.deadline - ctx.now() < BigInt(ctx.deadlineMarginSec)) {
      log.info("deadline too close, skipped", { deadline: onchain.deadline });
      ctx.jobs.transition(requestId, "skipped", { lastError: "deadline too close" });
      return;
    }
    // Nothing is claimed before the model and the input are at hand: a request whose set-up is
    // missing stays seen (open to other providers meanwhile) and is tried again later.
    try {
      await ensureReady(ctx, job);
    } catch (error) {
      if (job.state === "claiming") ctx.jobs.transition(requestId, "seen");
      throw error;
    }
    // Not enough stake is the operator's to fix, not the request's fault: the job stays seen
    // (open to us once stake is added or open jobs end) and the guard logs it once.
    const mode = await modeOf(ctx, job.modelId);
    if (!(await ctx.stake.canClaim(mode))) {
      if (job.state === "claiming") ctx.jobs.transition(requestId, "seen");
      return;
    }
    if (ctx.fulfil && mode === VerificationMode.Attested && job.state === "seen") {
      const fulfilled = await fulfilClaimFree(ctx, ctx.fulfil, job, await jobParams(ctx, job), log);
      if (fulfilled !== "claim") return;
    }
    if (job.state === "seen") ctx.jobs.transition(requestId, "claiming");
    try {
      const receipt = await ctx.sender.send({
        action: `claim request ${requestId}`,
        transaction: ctx.market.claim.populateTransaction(requestId),
      });
      log.info("claimed", { tx: receipt.hash, gasUsed: receipt.gasUsed });
      ctx.jobs.transition(requestId, "claimed", { claimTx: receipt.hash });
    } catch (error) {
      if (!(error instanceof ChainRevertError)) throw error;
      // Lost a race for the claim, or the request changed under us: re-read and decide again.
      log.info("claim refused", { reason: error.shortMessage });
      const after = await ctx.market.getRequest(requestId);
      if (
        Number(after.status) === RequestStatus.Claimed &&
        after.provider.toLowerCase() === ctx.sender.address.toLowerCase()
      )
        ctx.jobs.transition(requestId, "claimed");
      // Another claim of ours took the free stake first (ProviderInsufficientFreeStake), or a
      // slash took the stake below the minimum (ProviderNotEligible): wait for stake, as above.
      // The first is kept even if stake is free again by now: with several transactions in
      // flight, the claim that took it may already have settled when this revert is reported.
      else if (
        Number(after.status) === RequestStatus.Pending &&
        (error.errorName === "ProviderInsufficientFreeStake" || !(await ctx.stake.canClaim(mode)))
      )
        ctx.jobs.transition(requestId, "seen", { lastError: error.shortMessage });
      else ctx.jobs.transition(requestId, "skipped", { lastError: error.shortMessage });
      return;
    }
    return serveJob(ctx, requestId);
  }

  if (job.state === "claimed" || job.state === "submitting") {
    if (!mine || status !== RequestStatus.Claimed) {
      const final = finalStateFor(status, mine);
      log.info("request settled elsewhere", { status: requestStatusName(status), state: final });
      ctx.jobs.transition(requestId, final);
      return;
    }
    const params = await jobParams(ctx, job);
    if (ctx.now() >= onchain.deadline) {
      await expireOwnClaim(ctx, requestId, params, onchain.deadline, log);
      return;
    }
    await runAndSubmit(ctx, job, { params, deadline: onchain.deadline }, log);
  }
}

/**
 * Serves an Attested request without a claim: runs it, records the output (seen → submitting),
 * sends it through `fulfil` (alone or batched) and ends done, or, when the market skipped or
 * refused it, ends as the chain says (settled or claimed by another: skipped; still open: seen,
 * tried again at a later poll). Returns "claim" when the job must take the claim path instead: an
 * input the model cannot run is reported by a claimant only.
 */
async function fulfilClaimFree(
  ctx: ServeJobContext,
  fulfil: FulfilSender,
  job: Job,
  params: RequestParams,
  log: Logger,
): Promise<"claim" | void> {
  const { requestId } = job;
  let output = job.state === "submitting" ? job.output : undefined;
  if (!output) {
    try {
      output = await attestedOutput(ctx, job, log);
    } catch (error) {
      if (ctx.signal?.aborted) throw error;
      if (failureReasonOf(error) !== undefined) return "claim";
      throw notReady(job, error);
    }
    if (job.state === "seen") ctx.jobs.transition(requestId, "submitting", { output });
  }
  let skippedBecause: string;
  try {
    const outcome = await fulfil.fulfil({ requestId, params, output });
    if (outcome.served) {
      const { receipt, batchSize } = outcome;
      ctx.jobs.transition(requestId, "done", { submitTx: receipt.hash });
      log.info("fulfilled", { tx: receipt.hash, gasUsed: receipt.gasUsed, batchSize, outputBytes: output.length });
      await warnIfCallbackFailed(ctx, receipt, requestId, params, log);
      return;
    }
    skippedBecause = outcome.reason;
  } catch (error) {
    if (!(error instanceof ChainRevertError)) throw error;
    skippedBecause = error.shortMessage;
  }
  const after = await ctx.market.getRequest(requestId);
  const status = Number(after.status);
  const mine = after.provider.toLowerCase() === ctx.sender.address.toLowerCase();
  log.info("fulfil not served", { reason: skippedBecause, status: requestStatusName(status) });
  if (status === RequestStatus.Finalized && mine) ctx.jobs.transition(requestId, "done");
  else if (status === RequestStatus.Claimed && mine) ctx.jobs.transition(requestId, "claimed");
  else if (status === RequestStatus.Pending)
    ctx.jobs.transition(requestId, "seen", { lastError: skippedBecause }); // not eligible now, say
  else ctx.jobs.transition(requestId, "skipped", { lastError: skippedBecause });
}

/** Warns the operator when the consumer's callback in `receipt` failed (settlement stands). */
function warnIfCallbackFailed(
  ctx: ServeJobContext,
  receipt: TransactionReceipt,
  requestId: bigint,
  params: RequestParams,
  log: Logger,
): Promise<void> {
  const { callback, callbackGasLimit } = params;
  return warnFailedCallback({ market: ctx.market, receipt, requestId, callback, callbackGasLimit, logger: log });
}

/**
 * A claim of ours whose deadline passed before we could deliver: expire it at once, so the
 * requester is refunded now rather than whenever someone calls `expire` (the claim penalty is
 * ours either way). The first block after the deadline may not be mined yet: then the next poll.
 */
async function expireOwnClaim(
  ctx: ServeJobContext,
  requestId: bigint,
  params: RequestParams,
  deadline: bigint,
  log: Logger,
): Promise<void> {
  try {
    const receipt = await ctx.sender.send({
      action: `expire request ${requestId}`,
      transaction: ctx.market.expire.populateTransaction(requestId, params),
    });
    const refunded = receipt.logs
      .map((entry) => ctx.market.interface.parseLog(entry))
      .find((parsed) => parsed?.name === "RequestRefunded");
    log.warn("deadline passed before submission, expired our claim: requester refunded, claim penalty paid", {
      deadline,
      penalty: refunded?.args.penalty,
      tx: receipt.hash,
    });
    ctx.jobs.transition(requestId, "expired", { lastError: "deadline passed before submission" });
  } catch (error) {
    if (!(error instanceof ChainRevertError)) throw error;
    const after = await ctx.market.getRequest(requestId);
    const mine = after.provider.toLowerCase() === ctx.sender.address.toLowerCase();
    if (Number(after.status) === RequestStatus.Claimed && mine) {
      log.info("claim past its deadline, expiring at the next block", { reason: error.shortMessage });
      return;
    }
    const final = finalStateFor(Number(after.status), mine);
    log.info("request settled elsewhere", { status: requestStatusName(Number(after.status)), state: final });
    ctx.jobs.transition(requestId, final, { lastError: error.shortMessage });
  }
}

/**
 * Loads what serving the job needs, once per model (the loaders cache): the model and its
 * set-up (content, manifest or model folder, zk proving key) and an input given by content id.
 * One try each: the daemon tries again at a later poll. Throws SetupNotReadyError when something
 * is missing; an error the request itself causes (bad content, an input too large) is left for
 * the claimed job to report, and a stop is passed on as it is.
 */
export async function ensureReady(ctx: ServeJobContext, job: Job): Promise<void> {
  const mode = await modeOf(ctx, job.modelId); // an RPC error here is the poll's, not the set-up's
  try {
    if (ctx.optimistic && mode === VerificationMode.Optimistic)
      await ctx.optimistic.models.get(job.modelId, ctx.signal);
    else if (ctx.zk && mode === VerificationMode.Zk) await ctx.zk.get(job.modelId);
    else {
      if (!(await ctx.decoders?.get(job.modelId)))
        assertNotDecoderGraph(job.modelId, (await ctx.models.get(job.modelId, ctx.signal)).session);
      if (job.input.length <= ctx.maxInputBytes) {
        const envelope = decodeInputEnvelope(job.input);
        if (envelope.kind !== "inline")
          await ctx.content.get(envelope.cid, { signal: ctx.signal, maxBytes: ctx.maxInputBytes });
      }
    }
  } catch (error) {
    if (ctx.signal?.aborted) throw error;
    if (failureReasonOf(error) !== undefined) return; // the request's fault: the claimed job reports it
    throw notReady(job, error);
  }
}

function notReady(job: Job, error: unknown): SetupNotReadyError {
  if (error instanceof SetupNotReadyError) return error;
  const cause = error instanceof ContentUnavailableError ? (error.cause ?? error) : error;
  return new SetupNotReadyError(`Model ${job.modelId}: what request ${job.requestId} needs is not ready.`, {
    details:
      cause instanceof BaseError
        ? [cause.shortMessage, ...cause.details]
        : [cause instanceof Error ? cause.message : String(cause)],
    cause,
  });
}

/** The model's registered `VerificationMode` (Attested when the daemon serves no other mode). */
function modeOf(ctx: ServeJobContext, modelId: bigint): Promise<number> {
  return ctx.modeOf ? ctx.modeOf(modelId) : Promise.resolve(VerificationMode.Attested);
}

/** Where a job we claimed ends when the chain already moved on (after a crash, say). */
function finalStateFor(status: number, mine: boolean): "done" | "failed" | "expired" | "released" {
  if (!mine) return status === RequestStatus.Refunded ? "expired" : "released";
  if (status === RequestStatus.Finalized || status === RequestStatus.Submitted) return "done";
  if (status === RequestStatus.Failed) return "failed";
  return "expired";
}

/**
 * Gas for `submit`: settlement, the stored output (a fresh slot per 32 bytes), calldata, and the
 * consumer's whole callback allowance with the 1/64 the EVM keeps back. Estimating instead would
 * fail on a callback that burns all its gas, and let any consumer block its own request.
 */
export function submitGasLimit(outputBytes: number, callbackGasLimit: bigint): bigint {
  const words = BigInt(Math.ceil(outputBytes / 32));
  return 250_000n + 22_100n * words + 16n * BigInt(outputBytes) + (callbackGasLimit * 64n) / 63n + 10_000n;
}

async function runAndSubmit(
  ctx: ServeJobContext,
  job: Job,
  request: { params: RequestParams; deadline: bigint },
  log: Logger,
): Promise<void> {
  const { requestId } = job;
  const { params, deadline } = request;
  let prepared: Prepared;
  try {
    const { optimistic, zk } = ctx;
    const mode = await modeOf(ctx, job.modelId);
    prepared =
      optimistic && mode === VerificationMode.Optimistic
        ? await prepareOptimistic(ctx, optimistic, job, log)
        : zk && mode === VerificationMode.Zk
          ? await prepareZk(ctx, zk, job, params, log)
          : await prepareAttested(ctx, job, params, log);
  } catch (error) {
    // A stop (SIGTERM) aborts fetches and proofs: not a failure. The claim stays ours and the
    // next start serves it.
    if (ctx.signal?.aborted) throw error;
    const reason = failureReasonOf(error);
    if (reason !== undefined) {
      log.warn("input cannot be run, reporting it", { reason, error });
      const receipt = await ctx.sender.send({
        action: `report invalid input of request ${requestId}`,
        transaction: ctx.market.reportInvalidInput.populateTransaction(requestId, params, reason),
      });
      ctx.jobs.transition(requestId, "failed", { lastError: errorText(error), submitTx: receipt.hash });
      return;
    }
    const unavailable =
      error instanceof ContentUnavailableError ||
      error instanceof SetupNotReadyError ||
      error instanceof ZkModelError ||
      error instanceof OptimisticModelError ||
      error instanceof DecoderModelError ||
      error instanceof KserveError;
    // What is missing may come back (a content node, a model folder, the inference server): keep the claim and try at
    // later polls while there is time, then give it back for another provider to serve.
    if (unavailable && deadline - ctx.now() > BigInt(ctx.releaseMarginSec)) throw notReady(job, error);
    if (unavailable || error instanceof ZkProveError) {
      log.warn(
        unavailable
          ? "content or set-up unavailable near the deadline, releasing the request"
          : "cannot prove, releasing the request",
        { error, deadline },
      );
      const receipt = await ctx.sender.send({
        action: `release request ${requestId}`,
        transaction: ctx.market.release.populateTransaction(requestId),
      });
      ctx.jobs.transition(requestId, "released", { lastError: errorText(error), submitTx: receipt.hash });
      return;
    }
    throw error;
  }
  const encoded = prepared.output;
  if (job.state === "claimed") ctx.jobs.transition(requestId, "submitting", { output: encoded });
  try {
    const receipt = await ctx.sender.send({
      action: `submit request ${requestId}`,
      transaction: prepared.transaction,
      gasLimit: prepared.gasLimit,
    });
    ctx.jobs.transition(requestId, "done", { submitTx: receipt.hash });
    log.info(prepared.submitted, {
      tx: receipt.hash,
      gasUsed: receipt.gasUsed,
      outputBytes: encoded.length,
    });
    await warnIfCallbackFailed(ctx, receipt, requestId, params, log);
  } catch (error) {
    if (!(error instanceof ChainRevertError)) throw error;
    // Our earlier submission may have landed before a crash: the next pass re-reads the chain.
    log.warn("submit refused", { reason: error.shortMessage });
    const after = await ctx.market.getRequest(requestId);
    ctx.jobs.transition(
      requestId,
      finalStateFor(Number(after.status), after.provider.toLowerCase() === ctx.sender.address.toLowerCase()),
      {
        lastError: error.shortMessage,
      },
    );
  }
}

async function prepareAttested(ctx: ServeJobContext, job: Job, params: RequestParams, log: Logger): Promise<Prepared> {
  const encoded = await attestedOutput(ctx, job, log);
  return {
    output: encoded,
    transaction: ctx.market.submit.populateTransaction(job.requestId, params, encoded),
    gasLimit: submitGasLimit(encoded.length, params.callbackGasLimit),
    submitted: "submitted",
  };
}

/** Runs an Attested job (a decoder or an onnxruntime session) and returns its canonical output. */
async function attestedOutput(ctx: ServeJobContext, job: Job, log: Logger): Promise<Uint8Array> {
  const input = await resolveInput(ctx, job, log);
  const formats = await ctx.formats.get(job.modelId);
  const decoder = await ctx.decoders?.get(job.modelId);
  let output: Tensor;
  if (decoder) output = await runDecoder(decoder, input, formats, log);
  else {
    const model = await fetchWithRetry(ctx, log, `model ${job.modelId}`, () => ctx.models.get(job.modelId, ctx.signal));
    assertNotDecoderGraph(job.modelId, model.session);
    output = await runInference(model.session, input, {
      expectedShape: formats.input.shape,
      expectedDType: formats.input.dtype,
      signal: ctx.signal,
    });
  }
  return canonicalOutput(job.modelId, output, formats);
}

/**
 * An Optimistic model: the reference executor's full trace (a decoder's generation: every pass's
 * trace, committed to by its T = P + N − 1 pass roots), with the test-only cheat applied when
 * configured, is kept on disk and the result tracked for finalize and defence before the roots
 * are submitted, so a crash after the submission lands still leaves a defended result.
 */
async function prepareOptimistic(
  ctx: ServeJobContext,
  optimistic: OptimisticServing,
  job: Job,
  log: Logger,
): Promise<Prepared> {
  if (job.input.length > ctx.maxInputBytes)
    throw new InputTooLargeError(`The input is ${job.input.length} bytes; at most ${ctx.maxInputBytes} are accepted.`);
  const model = await fetchWithRetry(ctx, log, `model ${job.modelId}`, () =>
    optimistic.models.get(job.modelId, ctx.signal),
  );
  const formats = await ctx.formats.get(job.modelId);
  assertModelFormats(job.modelId, vqmFormats(model.model), formats);
  const started = performance.now();
  const run = runCommitted(model.model, optimisticInput(model.model, job.input), optimistic.cheat);
  if (optimistic.cheat) log.warn("TEST-ONLY cheat applied to the trace", { ...optimistic.cheat });
  if (run.kind === "generation")
    log.info("generated", {
      promptTokens: run.promptLength,
      newTokens: run.output.data.length,
      passes: run.passes.length,
      seconds: Number(((performance.now() - started) / 1000).toFixed(3)),
    });
  // Checked before anything is recorded: a result we could not submit must not be tracked.
  const encoded = canonicalOutput(job.modelId, run.output, formats);
  writeTraceFile(traceFilePath(optimistic.stateDir, job.requestId), runLayers(run));
  // The defender finalizes with the request's params: kept with the result from the job's row
  // (a row of an older daemon lacks them; the defender then reads them from the event).
  const params = storedParams(job);
  optimistic.results.recordResults(
    [{ requestId: job.requestId, role: "defender", modelId: job.modelId, input: job.input, roots: run.roots, params }],
    "",
    0n,
  );
  return {
    output: encoded,
    transaction: ctx.market.submitOptimistic.populateTransaction(job.requestId, encoded, run.roots),
    gasLimit: undefined,
    submitted: "optimistic result submitted",
  };
}

/**
 * A Zk model: the reference executor runs the integer model on the request's inline int8 input, the
 * model's prover (a worker thread) proves it, and the proof is checked with a call of
 * `submitWithProof` before it is sent. A proof that cannot be made, shows another output than
 * the reference executor or that the chain refuses throws ZkProveError: the request is released.
 */
async function prepareZk(
  ctx: ServeJobContext,
  zk: ZkModels,
  job: Job,
  params: RequestParams,
  log: Logger,
): Promise<Prepared> {
  if (job.input.length > ctx.maxInputBytes)
    throw new InputTooLargeError(`The input is ${job.input.length} bytes; at most ${ctx.maxInputBytes} are accepted.`);
  const model = await zk.get(job.modelId);
  const formats = await ctx.formats.get(job.modelId);
  assertModelFormats(job.modelId, vqmFormats(model.model), formats);
  const input = zkInput(model.model, job.input);
  const expected = encodeTensor(executeVqm(model.model, input).output);
  log.info("proving", { constraints: model.prover.manifest.constraints });
  const proof = await model.prover.prove(input, { signal: ctx.signal });
  const encoded = canonicalOutput(job.modelId, proof.output, formats);
  if (hexlify(encoded) !== hexlify(expected))
    throw new ZkProveError("The proof shows another output than the reference executor.", {
      details: [`reference ${hexlify(expected)}`, `proof     ${hexlify(encoded)}`, `zk folder ${model.dir}/zk`],
    });
  log.info("proved", { seconds: Number(proof.seconds.toFixed(3)) });
  // The request's own input bytes (the envelope whose keccak is its inputHash); the market
  // hands the verifier the tensor after the kind byte.
  const args = [job.requestId, params, job.input, encoded, proof.calldata] as const;
  try {
    await ctx.market.submitWithProof.staticCall(...args);
  } catch (error) {
    const decoded = decodeRevert(`check the proof of request ${job.requestId}`, error);
    if (decoded instanceof ChainRevertError && decoded.errorName === "MarketProofInvalid")
      throw new ZkProveError("The chain refuses the proof.", {
        details: [`Are ${model.dir}/zk and the registered verifier of the same circuit?`],
        cause: decoded,
      });
    throw decoded;
  }
  return {
    output: encoded,
    transaction: ctx.market.submitWithProof.populateTransaction(...args),
    gasLimit:
      submitGasLimit(encoded.length, params.callbackGasLimit) +
      zkVerifyGas(model.prover.manifest.publicSignals, job.input.length + proof.calldata.length / 2),
    submitted: "proof submitted",
  };
}

/**
 * Gas for the proof check on top of `submitGasLimit`: the pairing check and the verifier's
 * scalar multiplications (about 8.5k per public signal, docs/zk.md#figures) and the calldata.
 */
export function zkVerifyGas(publicSignals: number, calldataBytes: number): bigint {
  return 300_000n + 10_000n * BigInt(publicSignals) + 16n * BigInt(calldataBytes);
}

/** The request's input is larger than `jobs.maxInputBytes`. */
class InputTooLargeError extends BaseError {
  override name = "InputTooLargeError";
  readonly failureReason = FailureReason.InputTooLarge;
}

async function resolveInput(ctx: ServeJobContext, job: Job, log: Logger): Promise<Tensor> {
  if (job.input.length > ctx.maxInputBytes)
    throw new InputTooLargeError(`The input is ${job.input.length} bytes; at most ${ctx.maxInputBytes} are accepted.`);
  const envelope = decodeInputEnvelope(job.input);
  if (envelope.kind === "inline") return envelope.tensor;
  const bytes = await fetchWithRetry(ctx, log, `input ${envelope.cid}`, () =>
    ctx.content.get(envelope.cid, { signal: ctx.signal, maxBytes: ctx.maxInputBytes }),
  );
  return decodeContentTensor(bytes, envelope.cid);
}

/** Content fetches are retried with backoff; errors that retrying cannot fix fail at once. */
async function fetchWithRetry<T>(ctx: ServeJobContext, log: Logger, what: string, fetch: () => Promise<T>): Promise<T> {
  try {
    return await withRetry(fetch, {
      ...ctx.retry,
      signal: ctx.signal,
      shouldRetry: (error: unknown) => failureReasonOf(error) === undefined && !(error instanceof ChainRevertError),
      onRetry: (error: unknown, attempt: number, delayMs: number) =>
        log.warn("fetch failed, retrying", { what, attempt, delayMs, error: errorText(error) }),
    });
  } catch (error) {
    if (ctx.signal?.aborted || failureReasonOf(error) !== undefined) throw error;
    throw new ContentUnavailableError(`Could not fetch ${what}.`, { cause: error });
  }
}

function errorText(error: unknown): string {
  const root = rootCause(error);
  return error instanceof BaseError ? `${error.shortMessage} (${String(root)})` : String(error);
}
