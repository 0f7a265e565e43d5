/**
 * What the dispute roles remember across restarts, in `<stateDir>/dispute.sqlite`: a block
 * cursor per event stream, one row per Optimistic result followed, as defender (the provider
 * that submitted it) or challenger (the watchtower), and one row per game our side plays over
 * it: a defender may face several games over one result, a watchtower plays its own. The games
 * themselves are always re-read from the chain; the rows only say which request and games to
 * look at and what our side has already seen (a resolution is logged and acted on once).
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import type { RequestParams } from "../chain/request-params.ts";
import { BaseError, errorMessage } from "../errors.ts";
import { cursorBlocks, CURSOR_BLOCKS_SCHEMA, type CursorBlocks } from "./cursor-blocks.ts";
import { assertIntact, corruptionOr, guardCorruption, StoreCorruptError } from "./store-corruption.ts";

export type DisputeRole = "defender" | "challenger";

/**
 * `open`: submitted (defender) or seen (challenger), not yet checked or settled;
 * `disputing`: a game of ours is being played; `agreed`: the challenger's trace matched (final);
 * `settled`: the request is Finalized or Refunded, our games are over and credits are withdrawn
 * (final).
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
  /**
   * The request's parameters (the market stores only their commitment; challenging and
   * finalizing take them back). Undefined in a row written before they were kept, or recorded
   * without them: `findRequestParams` recovers them from the request's event.
   */
  params: RequestParams | undefined;
  note: string | undefined;
};

/** `playing` until we have seen the game resolved (and logged and acted on it). */
export type GameState = "playing" | "resolved";

export type TrackedGame = {
  gameId: bigint;
  requestId: bigint;
  role: DisputeRole;
  challenger: string;
  state: GameState;
  /** `GameSide` of the winner, once resolved. */
  winner: number | undefined;
  moot: boolean | undefined;
};

export type DisputeStore = {
  /** The recent chain heads the cursors rely on, to find reorgs. */
  blocks: CursorBlocks;
  getCursor(key: string): bigint | undefined;
  /** A reorg dropped the blocks above `block`: the cursor goes back to it and reads them again. */
  rewindCursor(key: string, block: bigint): void;
  /**
   * A reorg dropped blocks: results of `role` settled or agreed since `since` (ms) are open
   * again, and games resolved since then are played again, each re-read from the chain (a
   * finalize or a game move of ours may have gone with the dropped blocks). Returns how many.
   */
  reopenSince(role: DisputeRole, since: number): number;
  /**
   * Records results and moves the cursor in one transaction. A result already known keeps its
   * row, unless it comes with other roots while not yet disputed (a reorg dropped the submission
   * and another was made): it is then checked again against the new roots.
   */
  recordResults(results: readonly NewResult[], cursorKey: string, toBlock: bigint): void;
  get(role: DisputeRole, requestId: bigint): TrackedResult | undefined;
  listActive(role: DisputeRole): TrackedResult[];
  update(role: DisputeRole, requestId: bigint, fields: { state?: ResultState; note?: string }): void;
  /** Records a game our side plays over a result; true if it was new. */
  recordGame(game: Pick<TrackedGame, "gameId" | "requestId" | "role" | "challenger">): boolean;
  /** Our games over request `requestId`, in the order they were recorded. */
  listGames(role: DisputeRole, requestId: bigint): TrackedGame[];
  resolveGame(role: DisputeRole, gameId: bigint, outcome: { winner: number; moot: boolean }): void;
  /** Forgets a result a reorg dropped (the request is open again), with its games. */
  forgetResult(role: DisputeRole, requestId: bigint): void;
  /** Forgets a game a reorg dropped (its `GameStarted` is no longer on the chain). */
  forgetGame(role: DisputeRole, gameId: bigint): void;
  close(): void;
};

export type NewResult = Pick<TrackedResult, "requestId" | "role" | "modelId" | "input" | "roots"> & {
  params?: RequestParams;
};

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
  game_id TEXT,                  -- unused since games have their own table (kept for old files)
  note TEXT,
  params TEXT,                   -- the request's RequestParams as JSON (NULL in older rows)
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (scope, role, request_id)
) STRICT;
CREATE TABLE IF NOT EXISTS games (
  scope TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('defender', 'challenger')),
  game_id TEXT NOT NULL,
  request_id TEXT NOT NULL,
  challenger TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('playing', 'resolved')),
  winner INTEGER,
  moot INTEGER,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (scope, role, game_id)
) STRICT;
CREATE INDEX IF NOT EXISTS games_by_request ON games (scope, role, request_id);
${CURSOR_BLOCKS_SCHEMA}
`;

type Row = {
  role: DisputeRole;
  request_id: string;
  model_id: string;
  state: ResultState;
  input: Uint8Array;
  roots: string;
  params: string | null;
  note: string | null;
};

type GameRow = {
  role: DisputeRole;
  game_id: string;
  request_id: string;
  challenger: string;
  state: GameState;
  winner: number | bigint | null;
  moot: number | bigint | null;
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
    assertIntact(db, file);
    db.exec(SCHEMA);
    addParamsColumn(db);
  } catch (error) {
    const cause = corruptionOr(file, error);
    if (cause instanceof StoreCorruptError) throw cause;
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
    params: row.params === null ? undefined : paramsFromJson(row.params),
    note: row.note ?? undefined,
  });
  const fromGameRow = (row: GameRow): TrackedGame => ({
    gameId: BigInt(row.game_id),
    requestId: BigInt(row.request_id),
    role: row.role,
    challenger: row.challenger,
    state: row.state,
    winner: row.winner === null ? undefined : Number(row.winner),
    moot: row.moot === null ? undefined : Number(row.moot) === 1,
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
  const blocks = guardCorruption(file, cursorBlocks(db, scope));
  const setCursor = (key: string, block: bigint) =>
    db
      .prepare(
        `INSERT INTO cursors (scope, key, block) VALUES (?, ?, ?)
         ON CONFLICT (scope, key) DO UPDATE SET block = excluded.block`,
      )
      .run(scope, key, block);
  // Every call: a file damaged while running ends the role with StoreCorruptError.
  return guardCorruption(file, {
    blocks,
    rewindCursor(key, block) {
      transaction(() => {
        const statement = db.prepare("SELECT block FROM cursors WHERE scope = ? AND key = ?");
        statement.setReadBigInts(true);
        const cursor = (statement.get(scope, key) as { block: bigint } | undefined)?.block;
        if (cursor !== undefined && cursor > block) setCursor(key, block);
        blocks.dropAbove(key, block);
      });
    },
    reopenSince(role, since) {
      return transaction(() => {
        const results = db
          .prepare(
            `UPDATE results SET state = 'open', note = 'reopened after a reorg'
             WHERE scope = ? AND role = ? AND updated_at >= ? AND state IN ('settled', 'agreed')`,
          )
          .run(scope, role, since);
        const games = db
          .prepare(
            `UPDATE games SET state = 'playing', winner = NULL, moot = NULL
             WHERE scope = ? AND role = ? AND updated_at >= ? AND state = 'resolved'`,
          )
          .run(scope, role, since);
        return Number(results.changes) + Number(games.changes);
      });
    },
    getCursor(key) {
      const statement = db.prepare("SELECT block FROM cursors WHERE scope = ? AND key = ?");
      statement.setReadBigInts(true);
      return (statement.get(scope, key) as { block: bigint } | undefined)?.block;
    },
    recordResults(results, cursorKey, toBlock) {
      transaction(() => {
        const insert = db.prepare(
          `INSERT INTO results (scope, role, request_id, model_id, state, input, roots, params, updated_at)
           VALUES (?, ?, ?, ?, 'open', ?, ?, ?, ?) ON CONFLICT (scope, role, request_id) DO UPDATE
           SET roots = excluded.roots, input = excluded.input, model_id = excluded.model_id,
               params = excluded.params, state = 'open', note = 'seen again with other roots',
               updated_at = excluded.updated_at
           WHERE roots <> excluded.roots AND state IN ('open', 'agreed')`,
        );
        for (const r of results)
          insert.run(
            scope,
            r.role,
            String(r.requestId),
            String(r.modelId),
            r.input,
            JSON.stringify(r.roots),
            r.params ? paramsToJson(r.params) : null,
            Date.now(),
          );
        if (cursorKey !== "") setCursor(cursorKey, toBlock);
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
    update(role, requestId, { state, note }) {
      db.prepare(
        `UPDATE results SET state = COALESCE(?, state), note = COALESCE(?, note),
         updated_at = ? WHERE scope = ? AND role = ? AND request_id = ?`,
      ).run(state ?? null, note ?? null, Date.now(), scope, role, String(requestId));
    },
    recordGame({ gameId, requestId, role, challenger }) {
      const { changes } = db
        .prepare(
          `INSERT INTO games (scope, role, game_id, request_id, challenger, state, updated_at)
           VALUES (?, ?, ?, ?, ?, 'playing', ?) ON CONFLICT (scope, role, game_id) DO NOTHING`,
        )
        .run(scope, role, String(gameId), String(requestId), challenger, Date.now());
      return Number(changes) > 0;
    },
    listGames(role, requestId) {
      const rows = db
        .prepare(
          `SELECT * FROM games WHERE scope = ? AND role = ? AND request_id = ? ORDER BY CAST(game_id AS INTEGER)`,
        )
        .all(scope, role, String(requestId)) as GameRow[];
      return rows.map(fromGameRow);
    },
    resolveGame(role, gameId, { winner, moot }) {
      db.prepare(
        `UPDATE games SET state = 'resolved', winner = ?, moot = ?, updated_at = ?
         WHERE scope = ? AND role = ? AND game_id = ?`,
      ).run(winner, moot ? 1 : 0, Date.now(), scope, role, String(gameId));
    },
    forgetResult(role, requestId) {
      transaction(() => {
        db.prepare(`DELETE FROM games WHERE scope = ? AND role = ? AND request_id = ?`).run(
          scope,
          role,
          String(requestId),
        );
        db.prepare(`DELETE FROM results WHERE scope = ? AND role = ? AND request_id = ?`).run(
          scope,
          role,
          String(requestId),
        );
      });
    },
    forgetGame(role, gameId) {
      db.prepare(`DELETE FROM games WHERE scope = ? AND role = ? AND game_id = ?`).run(scope, role, String(gameId));
    },
    close() {
      if (db.isOpen) db.close();
    },
  } satisfies DisputeStore);
}

/** Files written before the request params were kept have no `params` column: add it (NULL rows). */
function addParamsColumn(db: DatabaseSync): void {
  const columns = db.prepare("PRAGMA table_info(results)").all() as { name: string }[];
  if (!columns.some((c) => c.name === "params")) db.exec("ALTER TABLE results ADD COLUMN params TEXT");
}

// JSON has no bigint: the two integer fields are kept as decimal strings.
function paramsToJson(params: RequestParams): string {
  return JSON.stringify({ ...params, fee: String(params.fee), callbackGasLimit: String(params.callbackGasLimit) });
}

function paramsFromJson(text: string): RequestParams {
  const json = JSON.parse(text) as Record<keyof RequestParams, string>;
  return { ...json, fee: BigInt(json.fee), callbackGasLimit: BigInt(json.callbackGasLimit) };
}
