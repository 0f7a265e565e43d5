import { mkdirSync } from "node:fs";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import type { SQLInputValue } from "node:sqlite";
import { BaseError, errorMessage } from "../errors.ts";
import { cursorBlocks, CURSOR_BLOCKS_SCHEMA, type CursorBlocks } from "./cursor-blocks.ts";
import { assertTransition, JOB_STATES } from "./job-states.ts";
import type { JobState } from "./job-states.ts";
import { assertIntact, corruptionOr, guardCorruption, StoreCorruptError } from "./store-corruption.ts";

/**
 * The daemon's memory across restarts: the block cursor of each event stream and every job's
 * local state, in `<stateDir>/provider.sqlite`. Rows are scoped to one chain and market, so
 * one state folder can serve several deployments. Synchronous on purpose: each call is a few
 * indexed statements, and node:sqlite is synchronous.
 */
export type JobDb = {
  readonly db: DatabaseSync;
  readonly file: string;
  readonly chainId: bigint;
  /** Lower-case market address. */
  readonly market: string;
  readonly now: () => number;
};

/**
 * The handle `openJobStore` returns: the data the functions below take, plus the same
 * functions bound to it (as viem decorates a client with its actions), for callers that
 * pass the store around.
 */
export type JobStore = JobDb & {
  /** The recent chain heads the cursors rely on, to find reorgs. */
  blocks: CursorBlocks;
  getCursor(key: string): bigint | undefined;
  setCursor(key: string, block: bigint): void;
  upsertSeen(job: NewJob): { inserted: boolean; job: Job };
  recordRequests(jobs: readonly NewJob[], cursorKey: string, toBlock: bigint): number;
  getJob(requestId: bigint): Job | undefined;
  listActive(limit?: number): ActiveJob[];
  rewind(cursorKey: string, forkBlock: bigint, changedSince: number): { orphaned: number; recheck: number };
  listRecheck(limit?: number): ActiveJob[];
  reopen(requestId: bigint, to: ReopenState, reason: string): Job;
  clearRecheck(requestId: bigint): void;
  reopenReleased(requestId: bigint, maxReleases: number): boolean;
  countByState(): Record<JobState, number>;
  transition(requestId: bigint, to: JobState, fields?: TransitionFields): Job;
  recordAttempt(requestId: bigint, error: unknown): Job;
  listExpirable(now: bigint, limit?: number): Job[];
  recordParams(requestId: bigint, params: RecordedParams): Job;
  markExpireChecked(requestId: bigint): void;
  close(): void;
};

export type OpenJobStoreParameters = (
  | { /** The database goes to `<stateDir>/provider.sqlite`. */ stateDir: string; file?: undefined }
  | { /** The database file itself. */ file: string; stateDir?: undefined }
) & {
  chainId: bigint | number;
  market: string;
  /** Milliseconds since the epoch, injectable for tests. */
  now?: (() => number) | undefined;
};

export type NewJob = {
  requestId: bigint;
  modelId: bigint;
  input: Uint8Array;
  deadline: bigint;
  blockNumber: bigint;
  /** When the input travels by CID rather than in calldata. */
  inputCid?: string | undefined;
  requester?: string | undefined;
  /** Escrowed fee and its token (the zero address for ETH). */
  fee?: bigint | undefined;
  feeToken?: string | undefined;
  /** The consumer called with the result (the zero address for none) and the gas it may use. */
  callback?: string | undefined;
  callbackGasLimit?: bigint | undefined;
  /**
   * What tells this request from another with the same id (ids are re-used when a reorg drops
   * a request): a hash of the event's fields (oracle/chain/market-events.ts).
   */
  fingerprint?: string | undefined;
};

export type Job = Omit<
  NewJob,
  "inputCid" | "requester" | "fee" | "feeToken" | "callback" | "callbackGasLimit" | "fingerprint"
> & {
  fingerprint: string | undefined;
  inputCid: string | undefined;
  requester: string | undefined;
  fee: bigint | undefined;
  feeToken: string | undefined;
  /** Undefined in a row written before the market took request params back (see `recordParams`). */
  callback: string | undefined;
  callbackGasLimit: bigint | undefined;
  state: JobState;
  attempts: number;
  lastError: string | undefined;
  claimTx: string | undefined;
  submitTx: string | undefined;
  output: Uint8Array | undefined;
  outputCid: string | undefined;
  createdAt: number;
  updatedAt: number;
};

/** A job as the poll lists it: without its input and output, read only when the job runs. */
export type ActiveJob = Pick<Job, "requestId" | "modelId" | "deadline" | "blockNumber" | "state" | "attempts">;

/** Where a job goes back to when the chain says its step did not happen after all. */
export type ReopenState = "seen" | "claimed";

export type TransitionFields = {
  claimTx?: string | undefined;
  submitTx?: string | undefined;
  output?: Uint8Array | undefined;
  outputCid?: string | undefined;
  /** Why the job ended or went back: an Error or a message, kept as `lastError`. */
  lastError?: unknown;
};

export class JobStoreError extends BaseError {
  override name = "JobStoreError";
}

export class JobNotFoundError extends BaseError {
  override name = "JobNotFoundError";
  constructor(requestId: bigint) {
    super(`Job ${requestId} is not in the job store.`);
  }
}

/**
 * 2 added `expire_checked`; 3 added `fingerprint`, `orphaned`, `recheck`, `own_releases`, the
 * `cursor_blocks` table and the indexes the bounded queries use. Older files are migrated when
 * opened, in one transaction. `callback` and `callback_gas_limit` are added to any file that
 * lacks them (`addParamColumns`): older versions of the daemon still read a file that has them.
 */
const SCHEMA_VERSION = 3;

const MIGRATIONS: Record<number, string> = {
  1: "ALTER TABLE jobs ADD COLUMN expire_checked INTEGER NOT NULL DEFAULT 0;",
  2: `ALTER TABLE jobs ADD COLUMN fingerprint TEXT;
      ALTER TABLE jobs ADD COLUMN orphaned INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE jobs ADD COLUMN recheck INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE jobs ADD COLUMN own_releases INTEGER NOT NULL DEFAULT 0;
      DROP INDEX IF EXISTS jobs_by_state;`,
};

/** The states a job is worked on in, in the order the poll takes them (claims held first). */
const ACTIVE_STATES = ["submitting", "claimed", "claiming", "seen"] as const satisfies readonly JobState[];

/** Jobs the poll lists at most by default: a few times the concurrency, never the backlog. */
const DEFAULT_ACTIVE_LIMIT = 256;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS cursors (
  chain_id TEXT NOT NULL,
  market TEXT NOT NULL,
  key TEXT NOT NULL,
  block INTEGER NOT NULL,
  PRIMARY KEY (chain_id, market, key)
) STRICT;
CREATE TABLE IF NOT EXISTS jobs (
  chain_id TEXT NOT NULL,
  market TEXT NOT NULL,
  request_id TEXT NOT NULL,      -- uint256 as decimal text
  model_id TEXT NOT NULL,
  input BLOB NOT NULL,
  input_cid TEXT,
  deadline TEXT NOT NULL,
  block_number INTEGER NOT NULL,
  requester TEXT,
  fee TEXT,
  fee_token TEXT,
  callback TEXT,
  callback_gas_limit TEXT,
  state TEXT NOT NULL CHECK (state IN (${JOB_STATES.map((s) => `'${s}'`).join(", ")})),
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  claim_tx TEXT,
  submit_tx TEXT,
  output BLOB,
  output_cid TEXT,
  expire_checked INTEGER NOT NULL DEFAULT 0, -- 1 once a past-deadline request was looked at for expire
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  fingerprint TEXT,                          -- hash of the request event's fields
  orphaned INTEGER NOT NULL DEFAULT 0,       -- 1: its request block was dropped by a reorg
  recheck INTEGER NOT NULL DEFAULT 0,        -- 1: changed after a block a reorg dropped
  own_releases INTEGER NOT NULL DEFAULT 0,   -- times we released it and took it up again
  PRIMARY KEY (chain_id, market, request_id)
) STRICT;
CREATE INDEX IF NOT EXISTS jobs_active ON jobs (chain_id, market, state, block_number, created_at);
CREATE INDEX IF NOT EXISTS jobs_by_update ON jobs (chain_id, market, updated_at);
CREATE INDEX IF NOT EXISTS jobs_by_block ON jobs (chain_id, market, block_number);
CREATE INDEX IF NOT EXISTS jobs_recheck ON jobs (chain_id, market) WHERE recheck = 1;
${CURSOR_BLOCKS_SCHEMA}
`;

export function openJobStore({
  stateDir,
  file: fileOption,
  chainId,
  market,
  now = Date.now,
}: OpenJobStoreParameters): JobStore {
  const file =
    fileOption === undefined ? path.join(path.resolve(stateDir), "provider.sqlite") : path.resolve(fileOption);
  let db: DatabaseSync;
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    db = new DatabaseSync(file);
  } catch (error) {
    throw new JobStoreError(`Cannot open the job store ${file}.`, { details: [errorMessage(error)], cause: error });
  }
  try {
    // WAL: readers (a status command) do not block the daemon's writes; a second writer waits.
    db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;");
    assertIntact(db, file);
    migrate(db, file);
    addParamColumns(db);
  } catch (error) {
    db.close();
    const cause = corruptionOr(file, error);
    if (cause instanceof JobStoreError || cause instanceof StoreCorruptError) throw cause;
    throw new JobStoreError(`Cannot open the job store ${file}.`, { details: [errorMessage(error)], cause: error });
  }
  const data: JobDb = { db, file, chainId: BigInt(chainId), market: market.toLowerCase(), now };
  // Every call: a file damaged while the daemon runs ends it with StoreCorruptError, not an idle loop.
  return guardCorruption(file, {
    ...data,
    blocks: guardCorruption(file, cursorBlocks(db, `${data.chainId}:${data.market}`)),
    getCursor: (key) => getCursor(data, key),
    setCursor: (key, block) => setCursor(data, key, block),
    upsertSeen: (job) => upsertSeen(data, job),
    recordRequests: (jobs, cursorKey, toBlock) => recordRequests(data, jobs, cursorKey, toBlock),
    getJob: (requestId) => getJob(data, requestId),
    listActive: (limit) => listActive(data, limit),
    rewind: (cursorKey, forkBlock, changedSince) => rewind(data, cursorKey, forkBlock, changedSince),
    listRecheck: (limit) => listRecheck(data, limit),
    reopen: (requestId, to, reason) => reopen(data, requestId, to, reason),
    clearRecheck: (requestId) => clearRecheck(data, requestId),
    reopenReleased: (requestId, maxReleases) => reopenReleased(data, requestId, maxReleases),
    countByState: () => countByState(data),
    transition: (requestId, to, fields) => transition(data, requestId, to, fields),
    recordAttempt: (requestId, error) => recordAttempt(data, requestId, error),
    listExpirable: (now, limit) => listExpirable(data, now, limit),
    markExpireChecked: (requestId) => markExpireChecked(data, requestId),
    recordParams: (requestId, params) => recordParams(data, requestId, params),
    close: () => closeJobStore(data),
  } satisfies JobStore);
}

/** Brings a file of any older schema to this one, or refuses a newer one. */
function migrate(db: DatabaseSync, file: string): void {
  const version = Number((db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version);
  if (version > SCHEMA_VERSION)
    throw new JobStoreError(`The job store ${file} was written by a newer version (schema ${version}).`, {
      details: [`This version reads schema ${SCHEMA_VERSION}. Upgrade, or point stateDir elsewhere.`],
    });
  if (version === SCHEMA_VERSION) return;
  db.exec("BEGIN IMMEDIATE");
  try {
    // Version 0 is a new file: the schema below creates everything.
    for (let from = Math.max(version, 1); version > 0 && from < SCHEMA_VERSION; from++) db.exec(MIGRATIONS[from]!);
    db.exec(SCHEMA);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    db.exec("COMMIT");
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
}

/**
 * The market takes every request's params back (it stores only their commitment), so a job
 * keeps its callback and callback gas limit beside the requester and fee. A file written before
 * gets the two columns, empty: its jobs learn them from the chain when served (`recordParams`).
 * Its fingerprints hashed fewer fields than the events give now, so they are cleared, to be
 * learnt again at the next sighting rather than mistaken for a re-used id.
 */
function addParamColumns(db: DatabaseSync): void {
  const columns = (db.prepare("PRAGMA table_info(jobs)").all() as { name: string }[]).map((c) => c.name);
  if (columns.includes("callback_gas_limit")) return;
  db.exec("BEGIN IMMEDIATE");
  try {
    db.exec(`ALTER TABLE jobs ADD COLUMN callback TEXT;
             ALTER TABLE jobs ADD COLUMN callback_gas_limit TEXT;
             UPDATE jobs SET fingerprint = NULL;`);
    db.exec("COMMIT");
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
}

export function closeJobStore(store: JobDb): void {
  if (store.db.isOpen) store.db.close();
}

// --- cursors -------------------------------------------------------------------------------

export function getCursor(store: JobDb, key: string): bigint | undefined {
  const statement = store.db.prepare("SELECT block FROM cursors WHERE chain_id = ? AND market = ? AND key = ?");
  statement.setReadBigInts(true);
  const row = statement.get(String(store.chainId), store.market, key) as { block: bigint } | undefined;
  return row?.block;
}

export function setCursor(store: JobDb, key: string, block: bigint): void {
  store.db
    .prepare(
      `INSERT INTO cursors (chain_id, market, key, block) VALUES (?, ?, ?, ?)
       ON CONFLICT (chain_id, market, key) DO UPDATE SET block = excluded.block`,
    )
    .run(String(store.chainId), store.market, key, block);
}

// --- jobs ----------------------------------------------------------------------------------

/**
 * Records a request seen in an event. Idempotent: a request already known (the same event
 * seen again after a restart or a re-scan) keeps its state. Returns whether it was new.
 */
export function upsertSeen(store: JobDb, job: NewJob): { inserted: boolean; job: Job } {
  return inTransaction(store, () => insertSeen(store, job));
}

/**
 * Records the requests found in a block range and moves the cursor to its last block, in one
 * transaction: after a crash either both happened or neither (and the range is scanned again,
 * harmlessly, since recording is idempotent). Returns how many requests were new.
 */
export function recordRequests(store: JobDb, jobs: readonly NewJob[], cursorKey: string, toBlock: bigint): number {
  return inTransaction(store, () => {
    let inserted = 0;
    for (const job of jobs) if (insertSeen(store, job).inserted) inserted++;
    setCursor(store, cursorKey, toBlock);
    return inserted;
  });
}

/**
 * A request seen again keeps its job, unless it is not the same request: its block was dropped
 * by a reorg (`orphaned`), or its fingerprint differs (the id was re-used by another request).
 * Then the old job's transactions went with the dropped blocks, and the job starts over as
 * `seen` with the new request's fields.
 */
function insertSeen(store: JobDb, job: NewJob): { inserted: boolean; job: Job } {
  const known = store.db
    .prepare("SELECT fingerprint, orphaned FROM jobs WHERE chain_id = ? AND market = ? AND request_id = ?")
    .get(...scope(store, job.requestId)) as { fingerprint: string | null; orphaned: number | bigint } | undefined;
  const replaced =
    known !== undefined &&
    (Number(known.orphaned) === 1 ||
      (known.fingerprint !== null && job.fingerprint !== undefined && known.fingerprint !== job.fingerprint));
  if (known !== undefined && !replaced) {
    if (known.fingerprint === null && job.fingerprint !== undefined)
      store.db
        .prepare("UPDATE jobs SET fingerprint = ? WHERE chain_id = ? AND market = ? AND request_id = ?")
        .run(job.fingerprint, ...scope(store, job.requestId));
    return { inserted: false, job: mustGetJob(store, job.requestId) };
  }
  if (replaced)
    store.db
      .prepare("DELETE FROM jobs WHERE chain_id = ? AND market = ? AND request_id = ?")
      .run(...scope(store, job.requestId));
  const at = store.now();
  store.db
    .prepare(
      `INSERT INTO jobs (chain_id, market, request_id, model_id, input, input_cid, deadline, block_number,
                         requester, fee, fee_token, callback, callback_gas_limit, fingerprint, state, last_error,
                         created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'seen', ?, ?, ?)`,
    )
    .run(
      ...scope(store, job.requestId),
      String(job.modelId),
      job.input,
      job.inputCid ?? null,
      String(job.deadline),
      job.blockNumber,
      job.requester ?? null,
      job.fee === undefined ? null : String(job.fee),
      job.feeToken ?? null,
      job.callback ?? null,
      job.callbackGasLimit === undefined ? null : String(job.callbackGasLimit),
      job.fingerprint ?? null,
      replaced ? "replaced: the request seen before was dropped by a reorg" : null,
      at,
      at,
    );
  return { inserted: true, job: mustGetJob(store, job.requestId) };
}

export function getJob(store: JobDb, requestId: bigint): Job | undefined {
  const statement = store.db.prepare("SELECT * FROM jobs WHERE chain_id = ? AND market = ? AND request_id = ?");
  statement.setReadBigInts(true);
  const row = statement.get(...scope(store, requestId)) as JobRow | undefined;
  return row === undefined ? undefined : fromRow(row);
}

/** How many jobs are in each local state (every state present, zero or more): for metrics. */
export function countByState(store: JobDb): Record<JobState, number> {
  const rows = store.db
    .prepare("SELECT state, COUNT(*) AS n FROM jobs WHERE chain_id = ? AND market = ? GROUP BY state")
    .all(String(store.chainId), store.market) as { state: JobState; n: number }[];
  const counts = Object.fromEntries(JOB_STATES.map((state) => [state, 0])) as Record<JobState, number>;
  for (const { state, n } of rows) counts[state] = Number(n);
  return counts;
}

const ACTIVE_COLUMNS = "request_id, model_id, deadline, block_number, state, attempts";

type ActiveRow = Pick<JobRow, "request_id" | "model_id" | "deadline" | "block_number" | "state" | "attempts">;

function fromActiveRow(row: ActiveRow): ActiveJob {
  return {
    requestId: BigInt(row.request_id),
    modelId: BigInt(row.model_id),
    deadline: BigInt(row.deadline),
    blockNumber: row.block_number,
    state: row.state,
    attempts: Number(row.attempts),
  };
}

/**
 * Jobs not in a final state, at most `limit`: claims of ours first (submitting, claimed,
 * claiming), then seen requests, oldest first in each. Each state is one index range read up to
 * the limit, and inputs are not read: the cost does not grow with finished jobs or the backlog.
 */
export function listActive(store: JobDb, limit = DEFAULT_ACTIVE_LIMIT): ActiveJob[] {
  const statement = store.db.prepare(
    `SELECT ${ACTIVE_COLUMNS} FROM jobs INDEXED BY jobs_active
     WHERE chain_id = ? AND market = ? AND state = ? AND orphaned = 0
     ORDER BY block_number, created_at LIMIT ?`,
  );
  statement.setReadBigInts(true);
  const jobs: ActiveJob[] = [];
  for (const state of ACTIVE_STATES) {
    if (jobs.length >= limit) break;
    const rows = statement.all(String(store.chainId), store.market, state, limit - jobs.length) as ActiveRow[];
    jobs.push(...rows.map(fromActiveRow));
  }
  return jobs;
}

/**
 * A reorg dropped the blocks above `forkBlock`: in one transaction, the cursor goes back to it
 * (its blocks are read again), jobs whose request was in a dropped block are `orphaned` (out of
 * the poll until their request is seen again), and jobs changed since `changedSince` (ms) are
 * marked for a recheck against the chain, since their claim or submission may have been dropped.
 */
export function rewind(
  store: JobDb,
  cursorKey: string,
  forkBlock: bigint,
  changedSince: number,
): { orphaned: number; recheck: number } {
  return inTransaction(store, () => {
    const cursor = getCursor(store, cursorKey);
    if (cursor !== undefined && cursor > forkBlock) setCursor(store, cursorKey, forkBlock);
    const where = [String(store.chainId), store.market] as const;
    const orphaned = store.db
      .prepare("UPDATE jobs SET orphaned = 1 WHERE chain_id = ? AND market = ? AND block_number > ?")
      .run(...where, forkBlock);
    const recheck = store.db
      .prepare(
        `UPDATE jobs SET recheck = 1 WHERE chain_id = ? AND market = ? AND updated_at >= ?
         AND orphaned = 0 AND state <> 'seen'`,
      )
      .run(...where, changedSince);
    cursorBlocks(store.db, `${store.chainId}:${store.market}`).dropAbove(cursorKey, forkBlock);
    return { orphaned: Number(orphaned.changes), recheck: Number(recheck.changes) };
  });
}

/** Jobs marked by {@link rewind} for a recheck against the chain, at most `limit`. */
export function listRecheck(store: JobDb, limit = DEFAULT_ACTIVE_LIMIT): ActiveJob[] {
  const statement = store.db.prepare(
    `SELECT ${ACTIVE_COLUMNS} FROM jobs INDEXED BY jobs_recheck
     WHERE chain_id = ? AND market = ? AND recheck = 1 LIMIT ?`,
  );
  statement.setReadBigInts(true);
  return (statement.all(String(store.chainId), store.market, limit) as ActiveRow[]).map(fromActiveRow);
}

/** The chain agrees with the job's local state: no recheck. */
export function clearRecheck(store: JobDb, requestId: bigint): void {
  store.db
    .prepare("UPDATE jobs SET recheck = 0 WHERE chain_id = ? AND market = ? AND request_id = ?")
    .run(...scope(store, requestId));
}

/**
 * Moves a job back to `seen` (the chain has the request open) or `claimed` (the chain has our
 * claim and no result of ours), whatever its state: the one way back from a final state, for a
 * step the chain no longer has (dropped by a reorg, or our own release). Going back to `seen`
 * forgets the claim and submission.
 */
export function reopen(store: JobDb, requestId: bigint, to: ReopenState, reason: string): Job {
  return inTransaction(store, () => {
    mustGetJob(store, requestId);
    const forget = to === "seen" ? ", claim_tx = NULL, submit_tx = NULL, output = NULL, output_cid = NULL" : "";
    store.db
      .prepare(
        `UPDATE jobs SET state = ?, last_error = ?, recheck = 0, expire_checked = 0, updated_at = ?${forget}
         WHERE chain_id = ? AND market = ? AND request_id = ?`,
      )
      .run(to, reason, store.now(), ...scope(store, requestId));
    return mustGetJob(store, requestId);
  });
}

/**
 * A job we released ourselves (its content or set-up was missing near the deadline) goes back to
 * `seen`, to be claimed again once what it needs is there, at most `maxReleases` times: a cause
 * that does not go away costs a bounded number of claim and release transactions.
 */
export function reopenReleased(store: JobDb, requestId: bigint, maxReleases: number): boolean {
  return inTransaction(store, () => {
    const result = store.db
      .prepare(
        `UPDATE jobs SET state = 'seen', own_releases = own_releases + 1, claim_tx = NULL, submit_tx = NULL,
           output = NULL, output_cid = NULL, expire_checked = 0, updated_at = ?
         WHERE chain_id = ? AND market = ? AND request_id = ? AND state = 'released' AND own_releases < ?`,
      )
      .run(store.now(), ...scope(store, requestId), maxReleases);
    return Number(result.changes) === 1;
  });
}

/**
 * Moves a job to `to`, storing the given fields with it in one transaction. Throws
 * JobTransitionError for a move the state machine does not allow (see job-states.ts).
 */
export function transition(store: JobDb, requestId: bigint, to: JobState, fields: TransitionFields = {}): Job {
  return inTransaction(store, () => {
    const job = mustGetJob(store, requestId);
    assertTransition(requestId, job.state, to);
    const sets: string[] = ["state = ?", "updated_at = ?"];
    const values: SQLInputValue[] = [to, store.now()];
    const set = (column: string, value: SQLInputValue | undefined) => {
      if (value === undefined) return;
      sets.push(`${column} = ?`);
      values.push(value);
    };
    set("claim_tx", fields.claimTx);
    set("submit_tx", fields.submitTx);
    set("output", fields.output);
    set("output_cid", fields.outputCid);
    set("last_error", fields.lastError === undefined ? undefined : errorMessage(fields.lastError));
    store.db
      .prepare(`UPDATE jobs SET ${sets.join(", ")} WHERE chain_id = ? AND market = ? AND request_id = ?`)
      .run(...values, ...scope(store, requestId));
    return mustGetJob(store, requestId);
  });
}

/** Counts a failed try at the job's current step and keeps its error. */
export function recordAttempt(store: JobDb, requestId: bigint, error: unknown): Job {
  return inTransaction(store, () => {
    const result = store.db
      .prepare(
        `UPDATE jobs SET attempts = attempts + 1, last_error = ?, updated_at = ?
         WHERE chain_id = ? AND market = ? AND request_id = ?`,
      )
      .run(errorMessage(error), store.now(), ...scope(store, requestId));
    if (Number(result.changes) === 0) throw new JobNotFoundError(requestId);
    return mustGetJob(store, requestId);
  });
}

/**
 * Requests that anyone may now expire if the chain still has them open: deadline before `now`
 * (the chain's time), not yet looked at, and not a claim of ours in progress (the job itself
 * expires those). Earliest deadline first, at most `limit`.
 */
export function listExpirable(store: JobDb, now: bigint, limit = 20): Job[] {
  const statement = store.db.prepare(
    `SELECT * FROM jobs WHERE chain_id = ? AND market = ? AND expire_checked = 0 AND orphaned = 0
     AND state IN ('seen', 'claiming', 'skipped', 'released') AND CAST(deadline AS INTEGER) < ?
     ORDER BY CAST(deadline AS INTEGER), CAST(request_id AS INTEGER) LIMIT ?`,
  );
  statement.setReadBigInts(true);
  return (statement.all(String(store.chainId), store.market, now, limit) as JobRow[]).map(fromRow);
}

/** Records that a past-deadline request was looked at (expired, or found settled): not again. */
export function markExpireChecked(store: JobDb, requestId: bigint): void {
  const result = store.db
    .prepare(`UPDATE jobs SET expire_checked = 1 WHERE chain_id = ? AND market = ? AND request_id = ?`)
    .run(...scope(store, requestId));
  if (Number(result.changes) === 0) throw new JobNotFoundError(requestId);
}

/** What {@link recordParams} stores: a request's params as its event gives them, but the input. */
export type RecordedParams = {
  requester: string;
  fee: bigint;
  feeToken: string;
  callback: string;
  callbackGasLimit: bigint;
};

/** Stores the params of a job whose row lacks them (written before they were kept), read from the chain. */
export function recordParams(store: JobDb, requestId: bigint, params: RecordedParams): Job {
  const result = store.db
    .prepare(
      `UPDATE jobs SET requester = ?, fee = ?, fee_token = ?, callback = ?, callback_gas_limit = ?
       WHERE chain_id = ? AND market = ? AND request_id = ?`,
    )
    .run(
      params.requester,
      String(params.fee),
      params.feeToken,
      params.callback,
      String(params.callbackGasLimit),
      ...scope(store, requestId),
    );
  if (Number(result.changes) === 0) throw new JobNotFoundError(requestId);
  return mustGetJob(store, requestId);
}

// --- internals -----------------------------------------------------------------------------

type JobRow = {
  request_id: string;
  model_id: string;
  input: Uint8Array;
  input_cid: string | null;
  deadline: string;
  block_number: bigint;
  requester: string | null;
  fee: string | null;
  fee_token: string | null;
  callback: string | null;
  callback_gas_limit: string | null;
  state: JobState;
  attempts: bigint;
  last_error: string | null;
  claim_tx: string | null;
  submit_tx: string | null;
  output: Uint8Array | null;
  output_cid: string | null;
  created_at: bigint;
  updated_at: bigint;
  fingerprint: string | null;
};

function fromRow(row: JobRow): Job {
  return {
    requestId: BigInt(row.request_id),
    modelId: BigInt(row.model_id),
    fingerprint: row.fingerprint ?? undefined,
    input: row.input,
    inputCid: row.input_cid ?? undefined,
    deadline: BigInt(row.deadline),
    blockNumber: row.block_number,
    requester: row.requester ?? undefined,
    fee: row.fee === null ? undefined : BigInt(row.fee),
    feeToken: row.fee_token ?? undefined,
    callback: row.callback ?? undefined,
    callbackGasLimit: row.callback_gas_limit === null ? undefined : BigInt(row.callback_gas_limit),
    state: row.state,
    attempts: Number(row.attempts),
    lastError: row.last_error ?? undefined,
    claimTx: row.claim_tx ?? undefined,
    submitTx: row.submit_tx ?? undefined,
    output: row.output ?? undefined,
    outputCid: row.output_cid ?? undefined,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

function scope(store: JobDb, requestId: bigint): [string, string, string] {
  return [String(store.chainId), store.market, String(requestId)];
}

function mustGetJob(store: JobDb, requestId: bigint): Job {
  const job = getJob(store, requestId);
  if (job === undefined) throw new JobNotFoundError(requestId);
  return job;
}

/** Runs `fn` in one write transaction (IMMEDIATE: takes the write lock up front, no upgrade deadlock). */
function inTransaction<T>(store: JobDb, fn: () => T): T {
  store.db.exec("BEGIN IMMEDIATE");
  try {
    const result = fn();
    store.db.exec("COMMIT");
    return result;
  } catch (error) {
    store.db.exec("ROLLBACK");
    throw error;
  }
}
