/**
 * The explorer's pure half: an in-memory index of the market built from decoded events
 * ({@link applyEvent}), and the JSON the page shows, built from that index and the contracts'
 * views read at the same block ({@link buildView}). No I/O here, so both are tested from fixed
 * events and views without a chain or a browser; index-chain.ts does the reading.
 */
import { formatEther, ZeroAddress } from "ethers";
import { enumName, GamePhase, GameSide, VerificationMode } from "../chain/enums.ts";

/** Where an event was mined; `time` (block timestamp, seconds) when the reader fetched it. */
export type EventOrigin = { block: number; time?: number | undefined };

/** A market, registry, game or agent event, decoded: what the index is built from. */
export type ExplorerEvent = EventOrigin &
  (
    | {
        kind: "requested";
        requestId: bigint;
        modelId: bigint;
        requester: string;
        feeToken: string;
        fee: bigint;
        txHash: string;
      }
    | { kind: "claimed" | "submitted"; requestId: bigint; provider: string }
    | { kind: "released" | "finalized" | "refunded"; requestId: bigint }
    | { kind: "failed"; requestId: bigint; provider: string; reason: number }
    | { kind: "challenged" | "challengeResolved"; requestId: bigint; openGames: bigint }
    | { kind: "model"; modelId: bigint }
    | { kind: "provider"; provider: string }
    | {
        kind: "gameStarted";
        gameId: bigint;
        requestId: bigint;
        challenger: string;
        defender: string;
        layer: number;
      }
    | { kind: "gameMove"; gameId: bigint; move: string }
    | { kind: "gameResolved"; gameId: bigint; winner: number; moot: boolean }
    | { kind: "agentRegistered"; agentId: bigint; owner: string }
    | { kind: "agentAccount"; agentId: bigint; account: string }
  );

export type RequestRecord = {
  id: bigint;
  modelId: bigint;
  requester: string;
  feeToken: string;
  fee: bigint;
  status: string;
  provider?: string | undefined;
  txHash: string;
  block: number;
  requestedAt?: number | undefined;
  finalizedAt?: number | undefined;
  /** Gas of the request transaction, once its receipt was read. */
  gasUsed?: bigint | undefined;
};

export type GameRecord = {
  id: bigint;
  requestId: bigint;
  challenger: string;
  defender: string;
  layer: number;
  lastMove: { move: string; time?: number | undefined };
  resolved?: { winner: number; moot: boolean } | undefined;
};

export type AgentRecord = { id: bigint; owner: string; account?: string | undefined };

/** What the explorer knows from events so far; `cursor` is the last block applied. */
export type ChainIndex = {
  cursor: number;
  requests: Map<bigint, RequestRecord>;
  games: Map<bigint, GameRecord>;
  agents: Map<bigint, AgentRecord>;
  models: Set<bigint>;
  providers: Set<string>;
};

export function emptyIndex(startBlock: number): ChainIndex {
  return {
    cursor: startBlock - 1,
    requests: new Map(),
    games: new Map(),
    agents: new Map(),
    models: new Set(),
    providers: new Set(),
  };
}

/**
 * Applies one event, in chain order, to `index`. A request's status is the one its last event
 * sets, as the market's own transitions do; events of a request the index never saw requested
 * (mined before the start block) are ignored rather than invented.
 */
export function applyEvent(index: ChainIndex, event: ExplorerEvent): void {
  const request = "requestId" in event ? index.requests.get(event.requestId) : undefined;
  switch (event.kind) {
    case "requested":
      index.requests.set(event.requestId, {
        id: event.requestId,
        modelId: event.modelId,
        requester: event.requester,
        feeToken: event.feeToken,
        fee: event.fee,
        status: "Pending",
        txHash: event.txHash,
        block: event.block,
        requestedAt: event.time,
      });
      index.models.add(event.modelId);
      return;
    case "claimed":
      if (request) Object.assign(request, { status: "Claimed", provider: event.provider });
      index.providers.add(event.provider);
      return;
    case "released":
      if (request) Object.assign(request, { status: "Pending", provider: undefined });
      return;
    case "submitted":
      if (request) Object.assign(request, { status: "Submitted", provider: event.provider });
      return;
    case "challenged":
      if (request) request.status = "Challenged";
      return;
    case "challengeResolved":
      // A game the provider won leaves the result standing once no other game is open.
      if (request && request.status === "Challenged" && event.openGames === 0n) request.status = "Submitted";
      return;
    case "finalized":
      if (request) Object.assign(request, { status: "Finalized", finalizedAt: event.time });
      return;
    case "refunded":
      if (request) request.status = "Refunded";
      return;
    case "failed":
      if (request) Object.assign(request, { status: "Failed", provider: event.provider });
      return;
    case "model":
      index.models.add(event.modelId);
      return;
    case "provider":
      index.providers.add(event.provider);
      return;
    case "gameStarted":
      index.games.set(event.gameId, {
        id: event.gameId,
        requestId: event.requestId,
        challenger: event.challenger,
        defender: event.defender,
        layer: event.layer,
        lastMove: { move: "challenge", time: event.time },
      });
      return;
    case "gameMove": {
      const game = index.games.get(event.gameId);
      if (game) game.lastMove = { move: event.move, time: event.time };
      return;
    }
    case "gameResolved": {
      const game = index.games.get(event.gameId);
      if (game) game.resolved = { winner: event.winner, moot: event.moot };
      return;
    }
    case "agentRegistered":
      index.agents.set(event.agentId, { ...index.agents.get(event.agentId), id: event.agentId, owner: event.owner });
      return;
    case "agentAccount": {
      const agent = index.agents.get(event.agentId);
      if (agent) agent.account = event.account;
      return;
    }
  }
}

/** The contracts' views, read at `head` by the reader. */
export type ChainViews = {
  chainId: number;
  head: { number: number; time: number };
  models: Map<bigint, { mode: number; price: bigint; feeToken: string; deprecated: boolean }>;
  providers: Map<string, { stake: bigint; reserved: bigint; served: bigint; failed: bigint; slashes: bigint }>;
  /** Games not yet resolved, with each side's clock as the game holds it (seconds). */
  games: Map<
    bigint,
    { phase: number; turn: number; lastMoveAt: number; defenderUsed: number; challengerUsed: number; clock: number }
  >;
  /** An agent account's ETH balance: its budget. */
  agents: Map<bigint, { budget: bigint }>;
};

export type RequestRow = {
  id: string;
  status: string;
  model: string;
  requester: string;
  provider: string;
  fee: string;
  gas: string;
  /** Request to Finalized, e.g. "4 s"; empty until Finalized. */
  timeToFinality: string;
};

export type ExplorerView = {
  chainId: number;
  block: number;
  requests: RequestRow[];
  /** How many requests the index holds (the table shows the newest `limit`). */
  requestCount: number;
  statusCounts: Record<string, number>;
  models: { id: string; mode: string; price: string; feeToken: string; deprecated: boolean }[];
  providers: { address: string; stake: string; reserved: string; served: string; failed: string; slashes: string }[];
  disputes: {
    game: string;
    request: string;
    challenger: string;
    defender: string;
    phase: string;
    turn: string;
    defenderClock: string;
    challengerClock: string;
    lastMove: string;
  }[];
  /** Undefined when the deployment has no AgentRegistry. */
  agents?: { id: string; owner: string; account: string; budget: string }[] | undefined;
};

/** An amount with its token: ETH for the zero address, else the token's short address. */
export function formatAmount(amount: bigint, token: string): string {
  return `${formatEther(amount)} ${token === ZeroAddress ? "ETH" : shortAddress(token)}`;
}

export function shortAddress(address: string): string {
  return address.length > 12 ? `${address.slice(0, 6)}…${address.slice(-4)}` : address;
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** The page's JSON: the newest `limit` requests first, everything else in id order. */
export function buildView(
  index: ChainIndex,
  views: ChainViews,
  { limit = 200, hasAgents = false }: { limit?: number; hasAgents?: boolean } = {},
): ExplorerView {
  const all = [...index.requests.values()].sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  const statusCounts: Record<string, number> = {};
  for (const request of all) statusCounts[request.status] = (statusCounts[request.status] ?? 0) + 1;
  const byId = <T extends { id: bigint }>(a: T, b: T) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  return {
    chainId: views.chainId,
    block: views.head.number,
    requestCount: all.length,
    statusCounts,
    requests: all.slice(0, limit).map((r) => ({
      id: r.id.toString(),
      status: r.status,
      model: r.modelId.toString(),
      requester: r.requester,
      provider: r.provider ?? "",
      fee: formatAmount(r.fee, r.feeToken),
      gas: r.gasUsed === undefined ? "" : r.gasUsed.toString(),
      timeToFinality:
        r.status === "Finalized" && r.requestedAt !== undefined && r.finalizedAt !== undefined
          ? formatDuration(r.finalizedAt - r.requestedAt)
          : "",
    })),
    models: [...views.models.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([id, m]) => ({
        id: id.toString(),
        mode: enumName(VerificationMode, m.mode),
        price: formatAmount(m.price, m.feeToken),
        feeToken: m.feeToken === ZeroAddress ? "ETH" : m.feeToken,
        deprecated: m.deprecated,
      })),
    providers: [...views.providers.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([address, p]) => ({
        address,
        stake: formatAmount(p.stake, ZeroAddress),
        reserved: formatAmount(p.reserved, ZeroAddress),
        served: p.served.toString(),
        failed: p.failed.toString(),
        slashes: p.slashes.toString(),
      })),
    disputes: [...index.games.values()]
      .sort((a, b) => byId(b, a))
      .map((g) => disputeRow(g, views.games.get(g.id), views.head.time)),
    agents: hasAgents
      ? [...index.agents.values()].sort(byId).map((a) => ({
          id: a.id.toString(),
          owner: a.owner,
          account: a.account ?? "",
          budget: a.account === undefined ? "" : formatAmount(views.agents.get(a.id)?.budget ?? 0n, ZeroAddress),
        }))
      : undefined,
  };
}

/**
 * One game's row. A side's clock runs only while it is to move, so the side to move has also
 * lost the time since the last move: the same arithmetic as the game's `remainingTime`.
 */
function disputeRow(
  game: GameRecord,
  live: ChainViews["games"] extends Map<bigint, infer V> ? V | undefined : never,
  now: number,
): ExplorerView["disputes"][number] {
  const lastMove = `${game.lastMove.move}${game.lastMove.time === undefined ? "" : ` (${formatDuration(now - game.lastMove.time)} ago)`}`;
  const common = {
    game: game.id.toString(),
    request: game.requestId.toString(),
    challenger: game.challenger,
    defender: game.defender,
    lastMove,
  };
  if (game.resolved || live === undefined) {
    const winner = game.resolved ? enumName(GameSide, game.resolved.winner) : "";
    return {
      ...common,
      phase: game.resolved ? `Resolved: ${winner} won${game.resolved.moot ? " (moot)" : ""}` : "…",
      turn: "",
      defenderClock: "",
      challengerClock: "",
    };
  }
  const running = Math.max(0, now - live.lastMoveAt);
  const left = (side: number, used: number) => formatDuration(live.clock - used - (live.turn === side ? running : 0));
  return {
    ...common,
    phase: enumName(GamePhase, live.phase),
    turn: enumName(GameSide, live.turn),
    defenderClock: left(GameSide.Defender, live.defenderUsed),
    challengerClock: left(GameSide.Challenger, live.challengerUsed),
  };
}
