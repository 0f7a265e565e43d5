import { mkdirSync } from "node:fs";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import type { SQLInputValue } from "node:sqlite";
import { BaseError, errorMessage } from "../errors.ts";
import { assertTransition, FINAL_STATES, JOB_STATES } from "./job-states.ts";
import type { JobState } from "./job-states.ts";

/**
 * The daemon's memory across restarts: the block cursor of each event stream and every job's
 * local state, in `<stateDir>/provider.sqlite`. Rows are scoped to one chain and market, so
 * one state folder can serve several deployments. Synchronous on purpose: each call is a few
 * indexed statements, and node:sqlite is synchronous.
 */
export type JobStore = {
  readonly db: DatabaseSync;
  readonly file: string;
  readonly chainId: bigint;
  /** Lower-case market address. */
  readonly market: string;
  readonly now: () => number;
};

export type OpenJobStoreParameters = {
  stateDir: string;
  chainId: bigint;
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
  maxFee?: bigint | undefined;
};

export type Job = Omit<NewJob, "inputCid" | "requester" | "maxFee"> & {
  inputCid: string | undefined;
  requester: string | undefined;
  maxFee: bigint | undefined;
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

export type TransitionFields = {
  claimTx?: string | undefined;
  submitTx?: string | undefined;
  output?: Uint8Array | undefined;
  outputCid?: string | undefined;
  /** Why the job ended or went back (kept as the last error). */
  error?: unknown;
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

const SCHEMA_VERSION = 1;

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
  max_fee TEXT,
  state TEXT NOT NULL CHECK (state IN (${JOB_STATES.map((s) => `'${s}'`).join(", ")})),
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  claim_tx TEXT,
  submit_tx TEXT,
  output BLOB,
  output_cid TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (chain_id, market, request_id)
) STRICT;
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs (chain_id, market, state);
`;

export function openJobStore({ stateDir, chainId, market, now = Date.now }: OpenJobStoreParameters): JobStore {
  const file = path.join(path.resolve(stateDir), "provider.sqlite");
  let db: DatabaseSync;
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    db = new DatabaseSync(file);
    // WAL: readers (a status command) do not block the daemon's writes; a second writer waits.
    db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;");
    const version = Number((db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version);
    if (version > SCHEMA_VERSION) {
      db.close();
      throw new JobStoreError(`The job store ${file} was written by a newer version (schema ${version}).`, {
        details: [`This version reads schema ${SCHEMA_VERSION}. Upgrade, or point stateDir elsewhere.`],
      });
    }
    db.exec(SCHEMA);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
  } catch (error) {
    if (error instanceof JobStoreError) throw error;
    throw new JobStoreError(`Cannot open the job store ${file}.`, { details: [errorMessage(error)], cause: error });
  }
  return { db, file, chainId, market: market.toLowerCase(), now };
}

export function closeJobStore(store: JobStore): void {
  if (store.db.isOpen) store.db.close();
}

// --- cursors -------------------------------------------------------------------------------

export function getCursor(store: JobStore, key: string): bigint | undefined {
  const statement = store.db.prepare("SELECT block FROM cursors WHERE chain_id = ? AND market = ? AND key = ?");
  statement.setReadBigInts(true);
  const row = statement.get(String(store.chainId), store.market, key) as { block: bigint } | undefined;
  return row?.block;
}

export function setCursor(store: JobStore, key: string, block: bigint): void {
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
export function upsertSeen(store: JobStore, job: NewJob): { inserted: boolean; job: Job } {
  return inTransaction(store, () => {
    const at = store.now();
    const result = store.db
      .prepare(
        `INSERT INTO jobs (chain_id, market, request_id, model_id, input, input_cid, deadline, block_number,
                           requester, max_fee, state, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'seen', ?, ?)
         ON CONFLICT (chain_id, market, request_id) DO NOTHING`,
      )
      .run(
        ...scope(store, job.requestId),
        String(job.modelId),
        job.input,
        job.inputCid ?? null,
        String(job.deadline),
        job.blockNumber,
        job.requester ?? null,
        job.maxFee === undefined ? null : String(job.maxFee),
        at,
        at,
      );
    return { inserted: Number(result.changes) === 1, job: mustGetJob(store, job.requestId) };
  });
}

export function getJob(store: JobStore, requestId: bigint): Job | undefined {
  const statement = store.db.prepare("SELECT * FROM jobs WHERE chain_id = ? AND market = ? AND request_id = ?");
  statement.setReadBigInts(true);
  const row = statement.get(...scope(store, requestId)) as JobRow | undefined;
  return row === undefined ? undefined : fromRow(row);
}

/** Jobs not in a final state, oldest first: what to resume after a restart. */
export function listActive(store: JobStore): Job[] {
  const statement = store.db.prepare(
    `SELECT * FROM jobs WHERE chain_id = ? AND market = ?
     AND state NOT IN (${FINAL_STATES.map(() => "?").join(", ")})
     ORDER BY block_number, created_at, CAST(request_id AS INTEGER)`,
  );
  statement.setReadBigInts(true);
  return (statement.all(String(store.chainId), store.market, ...FINAL_STATES) as JobRow[]).map(fromRow);
}

/**
 * Moves a job to `to`, storing the given fields with it in one transaction. Throws
 * JobTransitionError for a move the state machine does not allow (see job-states.ts).
 */
export function transition(store: JobStore, requestId: bigint, to: JobState, fields: TransitionFields = {}): Job {
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
    set("last_error", fields.error === undefined ? undefined : errorMessage(fields.error));
    store.db
      .prepare(`UPDATE jobs SET ${sets.join(", ")} WHERE chain_id = ? AND market = ? AND request_id = ?`)
      .run(...values, ...scope(store, requestId));
    return mustGetJob(store, requestId);
  });
}

/** Counts a failed try at the job's current step and keeps its error. */
export function recordAttempt(store: JobStore, requestId: bigint, error: unknown): Job {
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

// --- internals -----------------------------------------------------------------------------

type JobRow = {
  request_id: string;
  model_id: string;
  input: Uint8Array;
  input_cid: string | null;
  deadline: string;
  block_number: bigint;
  requester: string | null;
  max_fee: string | null;
  state: JobState;
  attempts: bigint;
  last_error: string | null;
  claim_tx: string | null;
  submit_tx: string | null;
  output: Uint8Array | null;
  output_cid: string | null;
  created_at: bigint;
  updated_at: bigint;
};

function fromRow(row: JobRow): Job {
  return {
    requestId: BigInt(row.request_id),
    modelId: BigInt(row.model_id),
    input: row.input,
    inputCid: row.input_cid ?? undefined,
    deadline: BigInt(row.deadline),
    blockNumber: row.block_number,
    requester: row.requester ?? undefined,
    maxFee: row.max_fee === null ? undefined : BigInt(row.max_fee),
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

function scope(store: JobStore, requestId: bigint): [string, string, string] {
  return [String(store.chainId), store.market, String(requestId)];
}

function mustGetJob(store: JobStore, requestId: bigint): Job {
  const job = getJob(store, requestId);
  if (job === undefined) throw new JobNotFoundError(requestId);
  return job;
}

/** Runs `fn` in one write transaction (IMMEDIATE: takes the write lock up front, no upgrade deadlock). */
function inTransaction<T>(store: JobStore, fn: () => T): T {
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
