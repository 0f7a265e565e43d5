import { expect } from "chai";
import { parseEther, ZeroAddress } from "ethers";
import {
  applyEvent,
  buildView,
  emptyIndex,
  formatDuration,
  type ChainViews,
  type ExplorerEvent,
} from "../../oracle/explorer/view-model.ts";

const USER = "0x1111111111111111111111111111111111111111";
const PROVIDER = "0x2222222222222222222222222222222222222222";
const WATCHER = "0x3333333333333333333333333333333333333333";
const FEE = parseEther("0.001");

const requested = (id: bigint, block: number, time: number): ExplorerEvent => ({
  kind: "requested",
  block,
  time,
  requestId: id,
  modelId: 1n,
  requester: USER,
  feeToken: ZeroAddress,
  fee: FEE,
  txHash: `0x${id.toString().padStart(64, "0")}`,
});

/** Six requests, one in each state the market can leave one in, and one game over request 5. */
const events: ExplorerEvent[] = [
  { kind: "model", block: 1, modelId: 1n },
  { kind: "provider", block: 1, provider: PROVIDER },
  requested(1n, 2, 100),
  { kind: "claimed", block: 3, requestId: 1n, provider: PROVIDER },
  { kind: "submitted", block: 3, requestId: 1n, provider: PROVIDER },
  { kind: "finalized", block: 3, time: 104, requestId: 1n },
  requested(2n, 4, 110),
  requested(3n, 5, 120),
  { kind: "refunded", block: 9, requestId: 3n },
  requested(4n, 6, 130),
  { kind: "claimed", block: 6, requestId: 4n, provider: PROVIDER },
  { kind: "failed", block: 7, requestId: 4n, provider: PROVIDER, reason: 1 },
  requested(5n, 7, 140),
  { kind: "claimed", block: 7, requestId: 5n, provider: PROVIDER },
  { kind: "submitted", block: 8, requestId: 5n, provider: PROVIDER },
  { kind: "challenged", block: 9, requestId: 5n, openGames: 1n },
  {
    kind: "gameStarted",
    block: 9,
    time: 150,
    gameId: 1n,
    requestId: 5n,
    challenger: WATCHER,
    defender: PROVIDER,
    layer: 2,
  },
  { kind: "gameMove", block: 10, time: 160, gameId: 1n, move: "DefenderRevealed" },
  requested(6n, 11, 170),
  { kind: "claimed", block: 11, requestId: 6n, provider: PROVIDER },
  { kind: "released", block: 12, requestId: 6n },
  { kind: "agentRegistered", block: 12, agentId: 1n, owner: USER },
  { kind: "agentAccount", block: 12, agentId: 1n, account: WATCHER },
];

const views: ChainViews = {
  chainId: 31337,
  head: { number: 12, time: 200 },
  models: new Map([[1n, { mode: 2, price: FEE, feeToken: ZeroAddress, deprecated: false }]]),
  providers: new Map([
    [PROVIDER, { stake: parseEther("2"), reserved: parseEther("0.5"), served: 1n, failed: 1n, slashes: 0n }],
  ]),
  // The challenger (2) is to move since t = 160 and had used 10 s of its 600 s clock before.
  games: new Map([[1n, { phase: 1, turn: 2, lastMoveAt: 160, defenderUsed: 5, challengerUsed: 10, clock: 600 }]]),
  agents: new Map([[1n, { budget: parseEther("1.5") }]]),
};

function indexOf(list: ExplorerEvent[]) {
  const index = emptyIndex(1);
  for (const event of list) applyEvent(index, event);
  return index;
}

describe("explorer view model", function () {
  it("gives each request the status its last event set, newest first, with fee, gas and time to Finalized", function () {
    const index = indexOf(events);
    index.requests.get(1n)!.gasUsed = 91_234n;
    const view = buildView(index, views, { hasAgents: true });
    expect(view.requests.map((r) => [r.id, r.status])).to.deep.equal([
      ["6", "Pending"],
      ["5", "Challenged"],
      ["4", "Failed"],
      ["3", "Refunded"],
      ["2", "Pending"],
      ["1", "Finalized"],
    ]);
    const first = view.requests.at(-1)!;
    expect(first).to.deep.equal({
      id: "1",
      status: "Finalized",
      model: "1",
      requester: USER,
      provider: PROVIDER,
      fee: "0.001 ETH",
      gas: "91234",
      timeToFinality: "4 s",
    });
    expect(view.requests[0]!.provider).to.equal("", "a released request has no provider");
    expect(view.statusCounts).to.deep.equal({ Pending: 2, Challenged: 1, Failed: 1, Refunded: 1, Finalized: 1 });
    expect(view.block).to.equal(12);
  });

  it("shows models with mode and price, providers with stake, reserved stake and jobs", function () {
    const view = buildView(indexOf(events), views);
    expect(view.models).to.deep.equal([
      { id: "1", mode: "Optimistic", price: "0.001 ETH", feeToken: "ETH", deprecated: false },
    ]);
    expect(view.providers).to.deep.equal([
      { address: PROVIDER, stake: "2.0 ETH", reserved: "0.5 ETH", served: "1", failed: "1", slashes: "0" },
    ]);
    expect(view.agents, "no AgentRegistry: no agents table").to.equal(undefined);
  });

  it("runs only the clock of the side to move, and names the last move", function () {
    const [dispute] = buildView(indexOf(events), views).disputes;
    expect(dispute).to.deep.equal({
      game: "1",
      request: "5",
      challenger: WATCHER,
      defender: PROVIDER,
      phase: "Bisecting",
      turn: "Challenger",
      defenderClock: "9 min 55 s",
      challengerClock: "9 min 10 s",
      lastMove: "DefenderRevealed (40 s ago)",
    });
  });

  it("a game the provider won puts the request back to Submitted once no game is open", function () {
    const index = indexOf([
      ...events,
      { kind: "gameResolved", block: 13, gameId: 1n, winner: 1, moot: false },
      { kind: "challengeResolved", block: 13, requestId: 5n, openGames: 0n },
    ]);
    const view = buildView(index, { ...views, games: new Map() });
    expect(view.requests.find((r) => r.id === "5")!.status).to.equal("Submitted");
    expect(view.disputes[0]!.phase).to.equal("Resolved: Defender won");
    expect(view.disputes[0]!.turn).to.equal("");
  });

  it("lists agents with owner, account and budget when the deployment has an AgentRegistry", function () {
    expect(buildView(indexOf(events), views, { hasAgents: true }).agents).to.deep.equal([
      { id: "1", owner: USER, account: WATCHER, budget: "1.5 ETH" },
    ]);
  });

  it("ignores events of requests mined before the start block, and shows only the newest `limit`", function () {
    const index = indexOf([{ kind: "finalized", block: 2, requestId: 99n }, ...events]);
    expect(index.requests.has(99n)).to.equal(false);
    const view = buildView(index, views, { limit: 2 });
    expect(view.requests.map((r) => r.id)).to.deep.equal(["6", "5"]);
    expect(view.requestCount).to.equal(6);
  });

  it("formats durations for people", function () {
    expect([formatDuration(0), formatDuration(59.6), formatDuration(61), formatDuration(7322)]).to.deep.equal([
      "0 s",
      "1 min 0 s",
      "1 min 1 s",
      "2 h 2 min",
    ]);
  });
});
