import { expect } from "chai";
import { mkdtemp, rm } from "node:fs/promises";
import { closeSync, openSync, truncateSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { closeJobStore, openJobStore, type JobStore } from "../../oracle/store/open-job-store.ts";
import { StoreCorruptError } from "../../oracle/store/store-corruption.ts";

const MARKET = "0x9fe46736679d2d9a65f0bb2de91f8c8e14c9f1d0";
const DONE = 30_000;
const ACTIVE = 1_000;

/** Inserts `count` rows straight into the table (the store's own calls would take minutes). */
function fill(store: JobStore, from: number, count: number, state: string, inputBytes: number): void {
  const insert = store.db.prepare(
    `INSERT INTO jobs (chain_id, market, request_id, model_id, input, deadline, block_number, state, created_at, updated_at)
     VALUES ('31337', ?, ?, '1', ?, '2000000000', ?, ?, ?, ?)`,
  );
  const input = new Uint8Array(inputBytes).fill(7);
  store.db.exec("BEGIN");
  for (let i = from; i < from + count; i++) insert.run(MARKET, String(i), input, i, state, i, i);
  store.db.exec("COMMIT");
}

function timed<T>(fn: () => T): { result: T; ms: number } {
  const start = performance.now();
  const result = fn();
  return { result, ms: performance.now() - start };
}

describe("store/open-job-store: per-poll work does not grow with the backlog", function () {
  this.timeout(120_000);
  let stateDir: string;

  beforeEach(async () => {
    stateDir = await mkdtemp(path.join(tmpdir(), "verity-bounded-"));
  });
  afterEach(async () => {
    await rm(stateDir, { recursive: true, force: true });
  });

  it(`lists a bounded page of active jobs without inputs, by index, among ${DONE} done and ${ACTIVE} active`, () => {
    const store = openJobStore({ stateDir, chainId: 31337n, market: MARKET });
    try {
      fill(store, 0, DONE, "done", 600);
      fill(store, DONE, ACTIVE, "seen", 600);
      fill(store, DONE + ACTIVE, 5, "claimed", 600);

      // What the poll did before: every unfinished row with its input, sorted.
      const before = timed(() =>
        store.db
          .prepare(
            `SELECT * FROM jobs WHERE chain_id = '31337' AND market = ? AND state NOT IN
         ('done', 'failed', 'released', 'expired', 'skipped') ORDER BY block_number, created_at`,
          )
          .all(MARKET),
      );
      store.listActive(32); // statements prepared once, as in a running daemon
      const after = timed(() => store.listActive(32));
      console.log(
        `      listActive: before ${before.result.length} rows with inputs in ${before.ms.toFixed(1)} ms;` +
          ` now ${after.result.length} rows without inputs in ${after.ms.toFixed(2)} ms`,
      );

      expect(after.result).to.have.length(32);
      expect(after.result.slice(0, 5).every((job) => job.state === "claimed")).to.equal(true);
      expect(after.result[5]!.requestId).to.equal(BigInt(DONE)); // oldest seen next
      expect(Object.keys(after.result[0]!)).to.not.include("input");
      // Each state is read as one index range up to the limit: no scan of the table, no sort.
      const plan = store.db
        .prepare(
          `EXPLAIN QUERY PLAN SELECT request_id FROM jobs INDEXED BY jobs_active
           WHERE chain_id = ? AND market = ? AND state = ? AND orphaned = 0 ORDER BY block_number, created_at LIMIT ?`,
        )
        .all("31337", MARKET, "seen", 32) as { detail: string }[];
      const details = plan.map((row) => row.detail).join("; ");
      expect(details).to.match(/SEARCH jobs USING INDEX jobs_active/);
      expect(details).to.not.match(/TEMP B-TREE|SCAN jobs/);
      // The recheck list after a reorg is an index of its own, empty here.
      expect(store.listRecheck(64)).to.deep.equal([]);
    } finally {
      closeJobStore(store);
    }
  });

  it("a truncated file: opening names the file and the fix", () => {
    const store = openJobStore({ stateDir, chainId: 31337n, market: MARKET });
    fill(store, 0, 2_000, "done", 2_000);
    closeJobStore(store);
    const file = path.join(stateDir, "provider.sqlite");
    truncateSync(file, 100_000);
    expect(() => openJobStore({ stateDir, chainId: 31337n, market: MARKET }))
      .to.throw(StoreCorruptError)
      .with.property("message")
      .that.matches(/provider\.sqlite is corrupt/)
      .and.matches(/mv .*provider\.sqlite .*provider\.sqlite\.corrupt/);
  });

  it("a file damaged while open: the next call that reads it throws StoreCorruptError", () => {
    const store = openJobStore({ stateDir, chainId: 31337n, market: MARKET });
    try {
      fill(store, 0, 2_000, "seen", 2_000);
      store.db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
      const fd = openSync(store.file, "r+");
      writeSync(fd, Buffer.alloc(4096 * 50, 0x41), 0, 4096 * 50, 4096 * 3);
      closeSync(fd);
      expect(() => {
        for (let id = 0n; id < 2_000n; id++) store.getJob(id);
      }).to.throw(StoreCorruptError, /corrupt/);
    } finally {
      closeJobStore(store);
    }
  });
});
