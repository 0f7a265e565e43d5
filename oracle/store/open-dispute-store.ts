/**
 * What the dispute roles remember across restarts, in `<stateDir>/dispute.sqlite`: a block
 * cursor per event stream and one row per Optimistic result followed, as defender (the provider
 * that submitted it) or challenger (the watchtower). The game itself is always re-read from the
 * chain; the row only says which request to look at and how far our side got.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { BaseError, errorMessage } from "../errors.ts";

export type DisputeRole = "defender" | "challenger";

/**
 * `open`: submitted (defender) or seen (challenger), not yet checked or settled;
 * `disputing`: a game is being played; `agreed`: the challenger's trace matched (final);
 * `settled`: the request is Finalized or Refunded and credits are withdrawn (final).
 */
export type ResultState = "open" | "disputing" | "agreed" | "settled";

export type TrackedResult = {
  requestId: bigint;
  role: DisputeRole;
  modelId: bigint;
  state: ResultState;
  /** The request's input envelope bytes. */
  input: Uint8Array;
  /** The defender's submitted layer roots. */
  roots: string[];
  gameId: bigint | undefined;
  note: string | undefined;
};

export type DisputeStore = {
  getCursor(key: string): bigint | undefined;
  /** Records results and moves the cursor in one transaction (idempotent per result). */
  recordResults(results: readonly NewResult[], cursorKey: string, toBlock: bigint): void;
  get(role: DisputeRole, requestId: bigint): TrackedResult | undefined;
  listActive(role: DisputeRole): TrackedResult[];
  update(role: DisputeRole, requestId: bigint, fields: { state?: ResultState; gameId?: bigint; note?: string }): void;
  close(): void;
};

export type NewResult = Pick<TrackedResult, "requestId" | "role" | "modelId" | "input" | "roots">;

export class DisputeStoreError extends BaseError {
  override name = "DisputeStoreError";
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS cursors (
  scope TEXT NOT NULL,
  key TEXT NOT NULL,
  block INTEGER NOT NULL,
  PRIMARY KEY (scope, key)
) STRICT;
CREATE TABLE IF NOT EXISTS results (
  scope TEXT NOT NULL,           -- chain id and market address
  role TEXT NOT NULL CHECK (role IN ('defender', 'challenger')),
  request_id TEXT NOT NULL,
  model_id TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('open', 'disputing', 'agreed', 'settled')),
  input BLOB NOT NULL,
  roots TEXT NOT NULL,
  game_id TEXT,
  note TEXT,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (scope, role, request_id)
) STRICT;
`;

type Row = {
  role: DisputeRole;
  request_id: string;
  model_id: string;
  state: ResultState;
  input: Uint8Array;
  roots: string;
  game_id: string | null;
  note: string | null;
};

export function openDisputeStore({
  stateDir,
  chainId,
  market,
}: {
  stateDir: string;
  chainId: bigint | number;
  market: string;
}): DisputeStore {
  const file = path.join(path.resolve(stateDir), "dispute.sqlite");
  let db: DatabaseSync;
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    db = new DatabaseSync(file);
    db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;");
    db.exec(SCHEMA);
  } catch (error) {
    throw new DisputeStoreError(`Cannot open the dispute store ${file}.`, {
      details: [errorMessage(error)],
      cause: error,
    });
  }
  const scope = `${chainId}:${market.toLowerCase()}`;
  const fromRow = (row: Row): TrackedResult => ({
    requestId: BigInt(row.request_id),
    role: row.role,
    modelId: BigInt(row.model_id),
    state: row.state,
    input: row.input,
    roots: JSON.parse(row.roots) as string[],
    gameId: row.game_id === null ? undefined : BigInt(row.game_id),
    note: row.note ?? undefined,
  });
  const transaction = <T>(fn: () => T): T => {
    db.exec("BEGIN IMMEDIATE");
    try {
      const result = fn();
      db.exec("COMMIT");
      return result;
    } catch (error) {
      db.exec("ROLLBACK");
      throw error;
    }
  };
  return {
    getCursor(key) {
      const statement = db.prepare("SELECT block FROM cursors WHERE scope = ? AND key = ?");
      statement.setReadBigInts(true);
      return (statement.get(scope, key) as { block: bigint } | undefined)?.block;
    },
    recordResults(results, cursorKey, toBlock) {
      transaction(() => {
        const insert = db.prepare(
          `INSERT INTO results (scope, role, request_id, model_id, state, input, roots, updated_at)
           VALUES (?, ?, ?, ?, 'open', ?, ?, ?) ON CONFLICT (scope, role, request_id) DO NOTHING`,
        );
        for (const r of results)
          insert.run(
            scope,
            r.role,
            String(r.requestId),
            String(r.modelId),
            r.input,
            JSON.stringify(r.roots),
            Date.now(),
          );
        if (cursorKey !== "")
          db.prepare(
            `INSERT INTO cursors (scope, key, block) VALUES (?, ?, ?)
             ON CONFLICT (scope, key) DO UPDATE SET block = excluded.block`,
          ).run(scope, cursorKey, toBlock);
      });
    },
    get(role, requestId) {
      const row = db
        .prepare("SELECT * FROM results WHERE scope = ? AND role = ? AND request_id = ?")
        .get(scope, role, String(requestId)) as Row | undefined;
      return row && fromRow(row);
    },
    listActive(role) {
      const rows = db
        .prepare(
          `SELECT * FROM results WHERE scope = ? AND role = ? AND state IN ('open', 'disputing')
           ORDER BY CAST(request_id AS INTEGER)`,
        )
        .all(scope, role) as Row[];
      return rows.map(fromRow);
    },
    update(role, requestId, { state, gameId, note }) {
      db.prepare(
        `UPDATE results SET state = COALESCE(?, state), game_id = COALESCE(?, game_id), note = COALESCE(?, note),
         updated_at = ? WHERE scope = ? AND role = ? AND request_id = ?`,
      ).run(
        state ?? null,
        gameId === undefined ? null : String(gameId),
        note ?? null,
        Date.now(),
        scope,
        role,
        String(requestId),
      );
    },
    close() {
      if (db.isOpen) db.close();
    },
  };
}
