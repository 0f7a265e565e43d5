import type { DatabaseSync } from "node:sqlite";

/**
 * The recent chain heads an event cursor relies on, by number and hash, in the same sqlite file
 * as the cursor, each with the time the daemon read it. Comparing them with the chain finds a reorg and its fork point
 * (oracle/chain/find-fork.ts); the head times tell which local changes may rest on dropped blocks.
 */
export type CursorBlock = {
  number: bigint;
  hash: string;
  /** Milliseconds since the epoch, taken before the node said this block was its head; else undefined. */
  headSeenAt: number | undefined;
};

export type CursorBlocks = {
  /** The blocks kept for `key`, newest first. */
  list(key: string): CursorBlock[];
  /** Keeps a block; a head read again keeps the later time (the head was still there then). */
  record(key: string, block: { number: bigint; hash: string }, headSeenAt?: number): void;
  /** Forgets the blocks above `number` (dropped by a reorg). */
  dropAbove(key: string, number: bigint): void;
  /** Forgets the blocks below `number`: deeper than any reorg the daemon handles. */
  dropBelow(key: string, number: bigint): void;
};

export const CURSOR_BLOCKS_SCHEMA = `
CREATE TABLE IF NOT EXISTS cursor_blocks (
  scope TEXT NOT NULL,
  key TEXT NOT NULL,
  number INTEGER NOT NULL,
  hash TEXT NOT NULL,
  head_seen_at INTEGER,
  PRIMARY KEY (scope, key, number)
) STRICT;
`;

/** `scope` separates deployments sharing one file (chain id and market). */
export function cursorBlocks(db: DatabaseSync, scope: string): CursorBlocks {
  return {
    list(key) {
      const statement = db.prepare(
        "SELECT number, hash, head_seen_at FROM cursor_blocks WHERE scope = ? AND key = ? ORDER BY number DESC",
      );
      statement.setReadBigInts(true);
      return (statement.all(scope, key) as { number: bigint; hash: string; head_seen_at: bigint | null }[]).map(
        (row) => ({
          number: row.number,
          hash: row.hash,
          headSeenAt: row.head_seen_at === null ? undefined : Number(row.head_seen_at),
        }),
      );
    },
    record(key, { number, hash }, headSeenAt) {
      db.prepare(
        `INSERT INTO cursor_blocks (scope, key, number, hash, head_seen_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (scope, key, number) DO UPDATE SET
           head_seen_at = CASE WHEN excluded.hash <> hash THEN excluded.head_seen_at
                               ELSE NULLIF(MAX(COALESCE(head_seen_at, 0), COALESCE(excluded.head_seen_at, 0)), 0) END,
           hash = excluded.hash`,
      ).run(scope, key, number, hash, headSeenAt ?? null);
    },
    dropAbove(key, number) {
      db.prepare("DELETE FROM cursor_blocks WHERE scope = ? AND key = ? AND number > ?").run(scope, key, number);
    },
    dropBelow(key, number) {
      db.prepare("DELETE FROM cursor_blocks WHERE scope = ? AND key = ? AND number < ?").run(scope, key, number);
    },
  };
}
