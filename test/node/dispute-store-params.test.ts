import { expect } from "chai";
import { mkdtemp, rm } from "node:fs/promises";
import { DatabaseSync } from "node:sqlite";
import { tmpdir } from "node:os";
import path from "node:path";
import type { RequestParams } from "../../oracle/chain/request-params.ts";
import { openDisputeStore, type DisputeStore, type NewResult } from "../../oracle/store/open-dispute-store.ts";

const MARKET = "0x9fE46736679d2D9a65F0bb2de91F8C8E14C9F1d0";
const PARAMS: RequestParams = {
  requester: "0x00000000000000000000000000000000000A11cE",
  feeToken: "0x0000000000000000000000000000000000000000",
  fee: 2n ** 95n + 7n, // above 2^53: kept exactly
  callback: "0x0000000000000000000000000000000000000B0b",
  callbackGasLimit: 300_000n,
  inputHash: "0x" + "ab".repeat(32),
};

function result(requestId: bigint, params?: RequestParams): NewResult {
  return {
    requestId,
    role: "challenger",
    modelId: 2n,
    input: new Uint8Array([0, 1]),
    roots: ["0x01"],
    ...(params ? { params } : {}),
  };
}

describe("node/dispute store: the request params the watchtower and the defender take back", () => {
  let stateDir: string;
  let store: DisputeStore | undefined;

  beforeEach(async () => {
    stateDir = await mkdtemp(path.join(tmpdir(), "verity-dispute-params-"));
  });
  afterEach(async () => {
    store?.close();
    await rm(stateDir, { recursive: true, force: true });
  });

  it("keeps each result's params across a reopen, and replaces them with a new submission's", () => {
    store = openDisputeStore({ stateDir, chainId: 31337n, market: MARKET });
    store.recordResults([result(1n, PARAMS), result(2n)], "results", 10n);
    store.close();
    store = openDisputeStore({ stateDir, chainId: 31337n, market: MARKET });
    expect(store.get("challenger", 1n)?.params).to.deep.equal(PARAMS);
    expect(store.get("challenger", 2n)?.params).to.equal(undefined);
    // A reorg re-used the id for another request (other roots): its params replace the old ones.
    const other = { ...PARAMS, requester: "0x0000000000000000000000000000000000000C4a" };
    store.recordResults([{ ...result(1n, other), roots: ["0x02"] }], "results", 10n);
    expect(store.get("challenger", 1n)?.params).to.deep.equal(other);
  });

  it("opens a file written before params were kept: the column is added, old rows have none", () => {
    // A file of the schema before request commitments: the params column dropped again.
    store = openDisputeStore({ stateDir, chainId: 31337n, market: MARKET });
    store.recordResults([{ ...result(9n), role: "defender" }], "", 0n);
    store.close();
    const db = new DatabaseSync(path.join(stateDir, "dispute.sqlite"));
    db.exec("ALTER TABLE results DROP COLUMN params");
    db.close();
    store = openDisputeStore({ stateDir, chainId: 31337n, market: MARKET });
    expect(store.get("defender", 9n)).to.deep.include({ state: "open", requestId: 9n, params: undefined });
    store.recordResults([{ ...result(10n, PARAMS), role: "defender" }], "", 0n);
    expect(store.get("defender", 10n)?.params).to.deep.equal(PARAMS);
    store.close();
    // Opened again: the column is there, nothing is added twice.
    store = openDisputeStore({ stateDir, chainId: 31337n, market: MARKET });
    expect(store.get("defender", 10n)?.params).to.deep.equal(PARAMS);
  });
});
