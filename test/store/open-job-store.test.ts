import { expect } from "chai";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  closeJobStore,
  getCursor,
  getJob,
  JobNotFoundError,
  listActive,
  openJobStore,
  recordAttempt,
  setCursor,
  transition,
  upsertSeen,
} from "../../oracle/store/open-job-store.ts";
import type { JobStore, NewJob } from "../../oracle/store/open-job-store.ts";
import { JobTransitionError } from "../../oracle/store/job-states.ts";

const MARKET = "0x9fE46736679d2D9a65F0bb2de91F8C8E14C9F1d0";

function job(requestId: bigint, blockNumber = 10n): NewJob {
  return { requestId, modelId: 3n, input: new Uint8Array([1, 2, 3]), deadline: 1_700_000_000n, blockNumber };
}

describe("store/open-job-store", () => {
  let stateDir: string;
  let open: JobStore[];
  const openStore = (chainId = 31337n, market = MARKET) => {
    const store = openJobStore({ stateDir, chainId, market });
    open.push(store);
    return store;
  };

  beforeEach(async () => {
    stateDir = await mkdtemp(path.join(tmpdir(), "verity-state-"));
    open = [];
  });
  afterEach(async () => {
    for (const store of open) closeJobStore(store);
    await rm(stateDir, { recursive: true, force: true });
  });

  it("creates provider.sqlite in WAL mode", () => {
    const store = openStore();
    expect(store.file).to.equal(path.join(stateDir, "provider.sqlite"));
    expect(store.db.prepare("PRAGMA journal_mode").get()).to.deep.equal({ journal_mode: "wal" });
  });

  it("keeps cursors, per key, across a restart", () => {
    const store = openStore();
    expect(getCursor(store, "market")).to.equal(undefined);
    setCursor(store, "market", 100n);
    setCursor(store, "market", 2n ** 40n);
    setCursor(store, "registry", 7n);
    closeJobStore(store);
    const reopened = openStore();
    expect(getCursor(reopened, "market")).to.equal(2n ** 40n);
    expect(getCursor(reopened, "registry")).to.equal(7n);
  });

  it("upsertSeen is idempotent and does not reset a job's state", () => {
    const store = openStore();
    const first = upsertSeen(store, job(1n));
    expect(first.inserted).to.equal(true);
    expect(first.job).to.include({ requestId: 1n, modelId: 3n, state: "seen", attempts: 0, blockNumber: 10n });
    expect(first.job.input).to.deep.equal(new Uint8Array([1, 2, 3]));
    transition(store, 1n, "claiming");
    const again = upsertSeen(store, { ...job(1n), blockNumber: 99n });
    expect(again.inserted).to.equal(false);
    expect(again.job.state).to.equal("claiming");
    expect(again.job.blockNumber).to.equal(10n);
  });

  it("walks the happy path, storing tx hashes and output", () => {
    const store = openStore();
    upsertSeen(store, {
      ...job(2n),
      inputCid: "bafkreiabc",
      requester: "0xabc",
      fee: 10n ** 30n,
      feeToken: "0x0000000000000000000000000000000000000000",
    });
    transition(store, 2n, "claiming");
    transition(store, 2n, "claimed", { claimTx: "0xc1" });
    transition(store, 2n, "submitting", { output: new Uint8Array([9, 9]), outputCid: "bafkreiout" });
    const done = transition(store, 2n, "done", { submitTx: "0x5b" });
    expect(done).to.include({
      state: "done",
      claimTx: "0xc1",
      submitTx: "0x5b",
      outputCid: "bafkreiout",
      inputCid: "bafkreiabc",
    });
    expect(done.output).to.deep.equal(new Uint8Array([9, 9]));
    expect(done.fee).to.equal(10n ** 30n);
    expect(done.feeToken).to.equal("0x0000000000000000000000000000000000000000");
  });

  it("refuses illegal transitions and leaves the job unchanged", () => {
    const store = openStore();
    upsertSeen(store, job(3n));
    expect(() => transition(store, 3n, "done")).to.throw(JobTransitionError, /seen to done/);
    expect(() => transition(store, 3n, "seen")).to.throw(JobTransitionError);
    transition(store, 3n, "skipped", { lastError: new Error("model not served") });
    expect(() => transition(store, 3n, "claiming")).to.throw(JobTransitionError, /may go to: seen/);
    const job3 = getJob(store, 3n)!;
    expect(job3.state).to.equal("skipped");
    expect(job3.lastError).to.equal("model not served");
    expect(() => transition(store, 404n, "claiming")).to.throw(JobNotFoundError);
    upsertSeen(store, job(5n));
    transition(store, 5n, "expired");
    expect(() => transition(store, 5n, "seen")).to.throw(JobTransitionError, /expired is final/);
  });

  it("allows resending a dropped transaction (claiming → seen, submitting → claimed)", () => {
    const store = openStore();
    upsertSeen(store, job(4n));
    transition(store, 4n, "claiming", { claimTx: "0x01" });
    transition(store, 4n, "seen", { lastError: "dropped" });
    transition(store, 4n, "claiming", { claimTx: "0x02" });
    transition(store, 4n, "claimed");
    transition(store, 4n, "submitting", { submitTx: "0x03" });
    const back = transition(store, 4n, "claimed", { lastError: "replaced" });
    expect(back).to.include({ state: "claimed", claimTx: "0x02", submitTx: "0x03", lastError: "replaced" });
  });

  it("counts attempts and keeps the last error", () => {
    const store = openStore();
    upsertSeen(store, job(5n));
    recordAttempt(store, 5n, new Error("nonce too low"));
    const after = recordAttempt(store, 5n, "timeout");
    expect(after).to.include({ attempts: 2, lastError: "timeout", state: "seen" });
    expect(() => recordAttempt(store, 404n, "x")).to.throw(JobNotFoundError);
  });

  it("lists active jobs for resuming, and finds the same state after a restart", () => {
    const store = openStore();
    upsertSeen(store, job(10n, 30n));
    upsertSeen(store, job(11n, 20n));
    upsertSeen(store, job(12n, 25n));
    upsertSeen(store, job(13n, 5n));
    transition(store, 11n, "claiming");
    transition(store, 11n, "claimed", { claimTx: "0xaa" });
    transition(store, 12n, "expired");
    recordAttempt(store, 10n, "rpc down");
    closeJobStore(store);

    const reopened = openStore();
    const active = listActive(reopened);
    // Claims of ours first (they race their deadlines), then seen requests in block order.
    expect(active.map((j) => [j.requestId, j.state])).to.deep.equal([
      [11n, "claimed"],
      [13n, "seen"],
      [10n, "seen"],
    ]);
    expect(getJob(reopened, 11n)!.claimTx).to.equal("0xaa");
    expect(getJob(reopened, 10n)!.attempts).to.equal(1);
    expect(getJob(reopened, 12n)!.state).to.equal("expired");
  });

  it("keeps chains and markets apart, and treats the market address case-insensitively", () => {
    const local = openStore(31337n, MARKET);
    upsertSeen(local, job(1n));
    const otherChain = openStore(11155111n, MARKET);
    expect(getJob(otherChain, 1n)).to.equal(undefined);
    expect(listActive(otherChain)).to.deep.equal([]);
    const sameLower = openStore(31337n, MARKET.toLowerCase());
    expect(getJob(sameLower, 1n)?.state).to.equal("seen");
  });

  it("records a block range's requests and moves the cursor in one transaction", () => {
    const store = openStore();
    upsertSeen(store, job(20n));
    transition(store, 20n, "claiming");
    expect(store.recordRequests([job(20n), job(21n), job(22n)], "market", 50n)).to.equal(2);
    expect(store.getCursor("market")).to.equal(50n);
    expect(store.getJob(20n)?.state).to.equal("claiming");
    // A bad row aborts the whole batch: neither the jobs nor the cursor move.
    const bad = { ...job(23n), input: undefined as unknown as Uint8Array };
    expect(() => store.recordRequests([job(24n), bad], "market", 60n)).to.throw();
    expect(store.getCursor("market")).to.equal(50n);
    expect(store.getJob(24n)).to.equal(undefined);
  });

  it("offers the same functions bound to the handle, and opens by file too", () => {
    const store = openJobStore({ file: path.join(stateDir, "other.sqlite"), chainId: 1, market: MARKET });
    open.push(store);
    expect(store.chainId).to.equal(1n);
    store.upsertSeen(job(1n));
    store.transition(1n, "claiming");
    store.recordAttempt(1n, "boom");
    expect(store.listActive().map((j) => [j.state, j.attempts])).to.deep.equal([["claiming", 1]]);
    store.close();
    store.close(); // closing twice is harmless
  });

  it("stores request ids beyond 64 bits", () => {
    const store = openStore();
    const big = 2n ** 255n + 1n;
    upsertSeen(store, { ...job(big), modelId: 2n ** 200n });
    expect(getJob(store, big)).to.include({ requestId: big, modelId: 2n ** 200n });
  });

  it("rolls back a failed transaction", () => {
    const store = openStore();
    upsertSeen(store, job(6n));
    expect(() => transition(store, 6n, "done")).to.throw(JobTransitionError);
    // The store is still usable: no transaction left open.
    expect(transition(store, 6n, "claiming").state).to.equal("claiming");
  });

  it("lists past-deadline requests to expire once each, never our own open claims", () => {
    const store = openStore();
    const at = (requestId: bigint, deadline: bigint, state?: "skipped" | "claimed" | "released" | "done") => {
      upsertSeen(store, { ...job(requestId), deadline });
      if (state === "claimed" || state === "released" || state === "done") transition(store, requestId, "claimed");
      if (state === "released") transition(store, requestId, "released");
      if (state === "done") transition(store, requestId, "done");
      if (state === "skipped") transition(store, requestId, "skipped");
    };
    at(1n, 200n, "skipped");
    at(2n, 100n); // seen
    at(3n, 150n, "claimed"); // ours: its job expires it
    at(4n, 120n, "released");
    at(5n, 130n, "done");
    at(6n, 900n, "skipped"); // deadline not passed
    expect(store.listExpirable(300n).map((j) => j.requestId)).to.deep.equal([2n, 4n, 1n]);
    expect(store.listExpirable(300n, 1).map((j) => j.requestId)).to.deep.equal([2n]);
    store.markExpireChecked(2n);
    store.markExpireChecked(4n);
    expect(store.listExpirable(1000n).map((j) => j.requestId)).to.deep.equal([1n, 6n]);
    expect(() => store.markExpireChecked(99n)).to.throw(JobNotFoundError);
  });
});
