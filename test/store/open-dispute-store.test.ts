import { expect } from "chai";
import { mkdtemp, rm } from "node:fs/promises";
import { DatabaseSync } from "node:sqlite";
import { tmpdir } from "node:os";
import path from "node:path";
import { openDisputeStore, type DisputeStore, type NewResult } from "../../oracle/store/open-dispute-store.ts";

const MARKET = "0x9fE46736679d2D9a65F0bb2de91F8C8E14C9F1d0";
const ALICE = "0x00000000000000000000000000000000000A11cE";
const BOB = "0x0000000000000000000000000000000000000B0b";

function result(requestId: bigint, role: NewResult["role"] = "defender"): NewResult {
  return { requestId, role, modelId: 2n, input: new Uint8Array([0, 1, 1, 1]), roots: ["0x01", "0x02"] };
}

describe("store/open-dispute-store", () => {
  let stateDir: string;
  let open: DisputeStore[];
  const openStore = (market = MARKET) => {
    const store = openDisputeStore({ stateDir, chainId: 31337n, market });
    open.push(store);
    return store;
  };

  beforeEach(async () => {
    stateDir = await mkdtemp(path.join(tmpdir(), "verity-dispute-state-"));
    open = [];
  });
  afterEach(async () => {
    for (const store of open) store.close();
    await rm(stateDir, { recursive: true, force: true });
  });

  it("tracks several games per result and role, idempotently, across a reopen", () => {
    const store = openStore();
    store.recordResults([result(7n), result(7n, "challenger")], "stream", 42n);
    expect(store.recordGame({ gameId: 3n, requestId: 7n, role: "defender", challenger: ALICE })).to.equal(true);
    expect(store.recordGame({ gameId: 5n, requestId: 7n, role: "defender", challenger: BOB })).to.equal(true);
    expect(store.recordGame({ gameId: 3n, requestId: 7n, role: "defender", challenger: ALICE })).to.equal(false);
    expect(store.recordGame({ gameId: 5n, requestId: 7n, role: "challenger", challenger: BOB })).to.equal(true);
    store.resolveGame("defender", 3n, { winner: 1, moot: false });
    store.close();

    const again = openStore();
    expect(again.getCursor("stream")).to.equal(42n);
    const games = again.listGames("defender", 7n);
    expect(games.map((g) => [g.gameId, g.challenger, g.state, g.winner, g.moot])).to.deep.equal([
      [3n, ALICE, "resolved", 1, false],
      [5n, BOB, "playing", undefined, undefined],
    ]);
    expect(again.listGames("challenger", 7n).map((g) => g.gameId)).to.deep.equal([5n]);
    expect(again.listGames("defender", 8n)).to.deep.equal([]);
    again.resolveGame("challenger", 5n, { winner: 2, moot: true });
    expect(again.listGames("challenger", 7n)[0]).to.include({ state: "resolved", winner: 2, moot: true });
    again.update("defender", 7n, { state: "disputing" });
    expect(again.listActive("defender").map((r) => [r.requestId, r.state])).to.deep.equal([[7n, "disputing"]]);
    again.update("defender", 7n, { state: "settled", note: "Finalized" });
    expect(again.listActive("defender")).to.deep.equal([]);
    expect(again.get("defender", 7n)).to.include({ state: "settled", note: "Finalized" });
  });

  it("keeps each market's games apart", () => {
    const a = openStore();
    const b = openStore("0x0000000000000000000000000000000000000001");
    a.recordGame({ gameId: 1n, requestId: 1n, role: "challenger", challenger: ALICE });
    expect(b.listGames("challenger", 1n)).to.deep.equal([]);
    expect(b.recordGame({ gameId: 1n, requestId: 1n, role: "challenger", challenger: ALICE })).to.equal(true);
  });

  it("opens a file written before games had their own table", () => {
    // The schema of the one-game-per-result era: a game_id column on results, no games table.
    const db = new DatabaseSync(path.join(stateDir, "dispute.sqlite"));
    db.exec(`CREATE TABLE results (
      scope TEXT NOT NULL, role TEXT NOT NULL, request_id TEXT NOT NULL, model_id TEXT NOT NULL,
      state TEXT NOT NULL, input BLOB NOT NULL, roots TEXT NOT NULL, game_id TEXT, note TEXT,
      updated_at INTEGER NOT NULL, PRIMARY KEY (scope, role, request_id)) STRICT`);
    db.prepare(
      `INSERT INTO results VALUES (?, 'defender', '9', '2', 'disputing', x'00', '["0x01"]', '4', NULL, 0)`,
    ).run(`31337:${MARKET.toLowerCase()}`);
    db.close();
    const store = openStore();
    expect(store.get("defender", 9n)).to.include({ state: "disputing", requestId: 9n });
    expect(store.recordGame({ gameId: 4n, requestId: 9n, role: "defender", challenger: ALICE })).to.equal(true);
    expect(store.listGames("defender", 9n)).to.have.length(1);
  });

  it("reorg: the cursor goes back to the fork; a result seen again with other roots is checked again", () => {
    const store = openStore();
    store.recordResults([result(8n, "challenger")], "results", 50n);
    store.blocks.record("results", { number: 45n, hash: "0x45" }, 1);
    store.blocks.record("results", { number: 50n, hash: "0x50" }, 2);
    store.update("challenger", 8n, { state: "agreed" });

    store.rewindCursor("results", 45n);
    expect(store.getCursor("results")).to.equal(45n);
    expect(store.blocks.list("results").map((b) => b.number)).to.deep.equal([45n]);

    // The same submission read again: nothing changes.
    store.recordResults([result(8n, "challenger")], "results", 50n);
    expect(store.get("challenger", 8n)).to.include({ state: "agreed" });
    // Another submission under the same request (the first was dropped): open again, new roots.
    store.recordResults([{ ...result(8n, "challenger"), roots: ["0x01", "0x0b"] }], "results", 50n);
    expect(store.get("challenger", 8n)).to.deep.include({ state: "open", roots: ["0x01", "0x0b"] });
    // A result under dispute keeps its row: the game is re-read from the chain.
    store.update("challenger", 8n, { state: "disputing" });
    store.recordResults([{ ...result(8n, "challenger"), roots: ["0x01", "0x0c"] }], "results", 50n);
    expect(store.get("challenger", 8n)).to.deep.include({ state: "disputing", roots: ["0x01", "0x0b"] });
  });
});
