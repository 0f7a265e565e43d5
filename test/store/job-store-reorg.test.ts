import { expect } from "chai";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { closeJobStore, openJobStore } from "../../oracle/store/open-job-store.ts";
import type { JobStore, NewJob } from "../../oracle/store/open-job-store.ts";

const MARKET = "0x9fe46736679d2d9a65f0bb2de91f8c8e14c9f1d0";

function job(requestId: bigint, blockNumber: bigint, fingerprint = `0xf${requestId}`): NewJob {
  return {
    requestId,
    modelId: 3n,
    input: new Uint8Array([1, 2, 3]),
    deadline: 1_700_000_000n,
    blockNumber,
    fingerprint,
  };
}

/** The jobs table as versions 1 and 2 of the store wrote it (v1 lacks expire_checked). */
function oldSchema(version: 1 | 2): string {
  return `
CREATE TABLE cursors (chain_id TEXT NOT NULL, market TEXT NOT NULL, key TEXT NOT NULL, block INTEGER NOT NULL,
  PRIMARY KEY (chain_id, market, key)) STRICT;
CREATE TABLE jobs (
  chain_id TEXT NOT NULL, market TEXT NOT NULL, request_id TEXT NOT NULL, model_id TEXT NOT NULL,
  input BLOB NOT NULL, input_cid TEXT, deadline TEXT NOT NULL, block_number INTEGER NOT NULL,
  requester TEXT, fee TEXT, fee_token TEXT,
  state TEXT NOT NULL CHECK (state IN ('seen','claiming','claimed','submitting','done','failed','released','expired','skipped')),
  attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT, claim_tx TEXT, submit_tx TEXT, output BLOB, output_cid TEXT,
  ${version === 2 ? "expire_checked INTEGER NOT NULL DEFAULT 0," : ""}
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
  PRIMARY KEY (chain_id, market, request_id)) STRICT;
CREATE INDEX jobs_by_state ON jobs (chain_id, market, state);
PRAGMA user_version = ${version};`;
}

describe("store/open-job-store: reorgs, re-used ids, releases, migrations", () => {
  let stateDir: string;
  let stores: JobStore[];
  let clock: number;
  const openStore = () => {
    const store = openJobStore({ stateDir, chainId: 31337n, market: MARKET, now: () => clock });
    stores.push(store);
    return store;
  };

  beforeEach(async () => {
    stateDir = await mkdtemp(path.join(tmpdir(), "verity-reorg-store-"));
    stores = [];
    clock = 1_000;
  });
  afterEach(async () => {
    for (const store of stores) closeJobStore(store);
    await rm(stateDir, { recursive: true, force: true });
  });

  it("re-used request id: another request under a known id replaces the old job, the same one keeps it", () => {
    const store = openStore();
    store.upsertSeen(job(7n, 10n, "0xaaa"));
    store.transition(7n, "claiming");
    store.transition(7n, "claimed", { claimTx: "0xc1" });
    store.transition(7n, "submitting", { output: new Uint8Array([9]) });
    store.transition(7n, "done", { submitTx: "0xs1" });

    expect(store.upsertSeen(job(7n, 10n, "0xaaa")).inserted).to.equal(false);
    expect(store.getJob(7n)!.state).to.equal("done");

    const replaced = store.upsertSeen({ ...job(7n, 12n, "0xbbb"), input: new Uint8Array([4, 5]) });
    expect(replaced.inserted).to.equal(true);
    expect(replaced.job).to.include({ state: "seen", fingerprint: "0xbbb", blockNumber: 12n, claimTx: undefined });
    expect(replaced.job.submitTx).to.equal(undefined);
    expect(replaced.job.output).to.equal(undefined);
    expect([...replaced.job.input]).to.deep.equal([4, 5]);
    expect(replaced.job.lastError).to.match(/dropped by a reorg/);
  });

  it("rewind: the cursor goes back to the fork, requests above it are orphaned, later changes rechecked", () => {
    const store = openStore();
    store.recordRequests([job(1n, 5n), job(2n, 9n), job(3n, 11n)], "market", 12n);
    clock = 2_000;
    store.transition(1n, "claiming");
    store.transition(1n, "claimed", { claimTx: "0xc" });
    clock = 3_000; // after the fork was the head
    store.transition(1n, "submitting");
    store.transition(1n, "done", { submitTx: "0xs" });
    store.transition(2n, "skipped");
    store.blocks.record("market", { number: 10n, hash: "0x10" }, 2_500);
    store.blocks.record("market", { number: 12n, hash: "0x12" }, 2_900);

    expect(store.rewind("market", 10n, 2_500)).to.deep.equal({ orphaned: 1, recheck: 2 });
    expect(store.getCursor("market")).to.equal(10n);
    expect(store.blocks.list("market").map((b) => b.number)).to.deep.equal([10n]);
    // The orphaned request (block 11) is out of the poll until it is read again.
    expect(store.listActive().map((j) => j.requestId)).to.deep.equal([]);
    expect(store.listExpirable(2_000_000_000n).map((j) => j.requestId)).to.deep.equal([2n]); // not 3
    expect(
      store
        .listRecheck()
        .map((j) => [j.requestId, j.state])
        .sort(),
    ).to.deep.equal([
      [1n, "done"],
      [2n, "skipped"],
    ]);

    // Job 1: its submission was dropped, the chain has our claim: back to claimed.
    store.reopen(1n, "claimed", "reorg: the chain has it Claimed");
    expect(store.getJob(1n)).to.include({ state: "claimed", claimTx: "0xc" });
    // Job 2: the chain still agrees.
    store.clearRecheck(2n);
    expect(store.listRecheck()).to.deep.equal([]);

    // The orphaned request is read again (mined again in another block, same fields): seen anew.
    expect(store.recordRequests([job(3n, 12n)], "market", 12n)).to.equal(1);
    expect(store.getJob(3n)).to.include({ state: "seen", blockNumber: 12n });
    expect(store.listActive().map((j) => j.requestId)).to.deep.equal([1n, 3n]);
  });

  it("reopen to seen forgets the claim and submission", () => {
    const store = openStore();
    store.upsertSeen(job(4n, 1n));
    store.transition(4n, "claiming");
    store.transition(4n, "claimed", { claimTx: "0xc" });
    store.transition(4n, "submitting", { output: new Uint8Array([1]) });
    store.transition(4n, "done", { submitTx: "0xs" });
    const reopened = store.reopen(4n, "seen", "reorg: the chain has it Pending");
    expect(reopened).to.include({ state: "seen", claimTx: undefined, submitTx: undefined, output: undefined });
    store.transition(4n, "claiming"); // the state machine goes on from there
  });

  it("a request we released goes back to seen a bounded number of times", () => {
    const store = openStore();
    store.upsertSeen(job(5n, 1n));
    const release = () => {
      store.transition(5n, "claiming");
      store.transition(5n, "claimed", { claimTx: "0xc" });
      store.transition(5n, "released", { submitTx: "0xr" });
    };
    release();
    expect(store.reopenReleased(5n, 2)).to.equal(true);
    expect(store.getJob(5n)!.state).to.equal("seen");
    expect(store.reopenReleased(5n, 2)).to.equal(false); // not released now
    release();
    expect(store.reopenReleased(5n, 2)).to.equal(true);
    release();
    expect(store.reopenReleased(5n, 2)).to.equal(false);
    expect(store.getJob(5n)!.state).to.equal("released");
  });

  for (const version of [1, 2] as const) {
    it(`migrates a version ${version} file with its jobs, then finds re-used ids in them`, () => {
      const file = path.join(stateDir, "provider.sqlite");
      const old = new DatabaseSync(file);
      old.exec(oldSchema(version));
      const insert = old.prepare(
        `INSERT INTO jobs (chain_id, market, request_id, model_id, input, deadline, block_number, state, claim_tx,
                           created_at, updated_at) VALUES ('31337', ?, ?, '3', x'010203', ?, ?, ?, ?, 1, 1)`,
      );
      insert.run(MARKET, "1", "5", 10, "done", "0xc1");
      insert.run(MARKET, "2", "1700000000", 11, "claimed", "0xc2");
      insert.run(MARKET, "3", "1700000000", 12, "seen", null);
      old.exec(`INSERT INTO cursors VALUES ('31337', '${MARKET}', 'market-requests', 12)`);
      old.close();

      const store = openStore();
      expect(store.db.prepare("PRAGMA user_version").get()).to.deep.equal({ user_version: 3 });
      expect(store.getCursor("market-requests")).to.equal(12n);
      expect(store.getJob(1n)).to.include({ state: "done", claimTx: "0xc1", fingerprint: undefined });
      expect(store.listActive().map((j) => [j.requestId, j.state])).to.deep.equal([
        [2n, "claimed"],
        [3n, "seen"],
      ]);
      expect(store.listExpirable(10n).map((j) => j.requestId)).to.deep.equal([]);
      // An old row learns its fingerprint when read again; a different one later replaces it.
      expect(store.upsertSeen(job(3n, 12n, "0xold")).inserted).to.equal(false);
      expect(store.getJob(3n)!.fingerprint).to.equal("0xold");
      expect(store.upsertSeen(job(3n, 13n, "0xnew")).inserted).to.equal(true);
      closeJobStore(store);
      expect(openStore().getJob(3n)!.fingerprint).to.equal("0xnew");
    });
  }

  it("refuses a file written by a newer version, naming it", () => {
    const store = openStore();
    store.db.exec("PRAGMA user_version = 9");
    closeJobStore(store);
    expect(() => openStore()).to.throw(/written by a newer version \(schema 9\)/);
  });
});
