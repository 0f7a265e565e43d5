import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { BaseError } from "../errors.ts";
import type { RpcEndpointStatus } from "../chain/failover-provider.ts";
import { redactUrl } from "../chain/redact-url.ts";
import type { JobState } from "../store/job-states.ts";
import { assessHealth, type Health, type HealthLimits } from "./assess-health.ts";
import type { SendsInFlight } from "./track-sends.ts";

/** What the daemon knows of itself, read on each scrape. */
export type DaemonStatus = {
  startedAt: number;
  account: string;
  chainId: number;
  /** Wall time (ms) of the last completed poll of the chain, 0 before the first. */
  lastPollAt: number;
  /** Why the polls since the last completed one failed; undefined once one completes. */
  lastPollError: string | undefined;
  headBlock: bigint;
  /** Wall time (ms) the head last moved (the start until it does). */
  headMovedAt: number;
  cursorBlock: bigint;
  /** Reads the job store: a store that fails to answer throws. */
  jobs: () => Record<JobState, number>;
  /** The last store failure the daemon saw since its last good poll. */
  storeError: string | undefined;
  /** Why the remote inference server (runtime.backend "kserve") fails now; undefined when it does not or is not used. */
  runtimeError?: (() => string | undefined) | undefined;
  sends: () => SendsInFlight;
  rpc: () => RpcEndpointStatus[];
};

export type MetricsServer = { url: string; close(): Promise<void> };

export type MetricsServerOptions = {
  host: string;
  /** 0 picks a free port: see the returned url. */
  port: number;
  pollIntervalMs: number;
  rpcTimeoutMs: number;
  health: HealthLimits;
};

/** The health, and the job counts read to check the store (absent when it failed). */
type HealthCheck = Health & { jobs?: Record<JobState, number> | undefined };

/** The daemon's health now, the job store read once to check it answers. */
function checkHealth(status: DaemonStatus, options: MetricsServerOptions): HealthCheck {
  let jobs: Record<JobState, number> | undefined;
  let storeError = status.storeError;
  try {
    jobs = status.jobs();
  } catch (error) {
    storeError = error instanceof Error ? error.message : String(error);
  }
  const health = assessHealth({
    now: Date.now(),
    startedAt: status.startedAt,
    pollIntervalMs: options.pollIntervalMs,
    rpcTimeoutMs: options.rpcTimeoutMs,
    lastPollAt: status.lastPollAt,
    lastPollError: status.lastPollError,
    headBlock: status.headBlock,
    headMovedAt: status.headMovedAt,
    sends: status.sends(),
    storeError,
    runtimeError: status.runtimeError?.(),
    limits: options.health,
  });
  return { ...health, jobs };
}

/** Prometheus exposition text of the daemon's status. */
export function renderMetrics(status: DaemonStatus, health: HealthCheck): string {
  const lines = [
    "# HELP verity_up 1 while the provider daemon runs.",
    "# TYPE verity_up gauge",
    "verity_up 1",
    "# HELP verity_head_block Latest block number seen on the chain.",
    "# TYPE verity_head_block gauge",
    `verity_head_block ${status.headBlock}`,
    "# HELP verity_cursor_block Last block whose requests are recorded.",
    "# TYPE verity_cursor_block gauge",
    `verity_cursor_block ${status.cursorBlock}`,
    "# HELP verity_last_poll_timestamp_seconds When the chain was last polled.",
    "# TYPE verity_last_poll_timestamp_seconds gauge",
    `verity_last_poll_timestamp_seconds ${(status.lastPollAt / 1000).toFixed(3)}`,
    "# HELP verity_jobs Jobs by local state.",
    "# TYPE verity_jobs gauge",
    ...Object.entries(health.jobs ?? {}).map(([state, count]) => `verity_jobs{state="${state}"} ${count}`),
    "# HELP verity_healthy 1 while /health answers 200.",
    "# TYPE verity_healthy gauge",
    `verity_healthy ${health.healthy ? 1 : 0}`,
    "# HELP verity_txs_in_flight Transactions being sent and not yet mined.",
    "# TYPE verity_txs_in_flight gauge",
    `verity_txs_in_flight ${status.sends().count}`,
    "# HELP verity_rpc_up 1 while calls may go to the JSON-RPC URL (index in rpcUrls).",
    "# TYPE verity_rpc_up gauge",
    ...status.rpc().map((endpoint, index) => `verity_rpc_up{index="${index}"} ${endpoint.up ? 1 : 0}`),
  ];
  return lines.join("\n") + "\n";
}

/**
 * Serves `/metrics` (Prometheus) and `/health` (200 while the daemon can make progress, 503 with
 * the reasons when it cannot: {@link assessHealth}) on `host:port`, 127.0.0.1 unless the
 * operator chooses otherwise.
 */
export async function startMetricsServer(options: MetricsServerOptions, status: DaemonStatus): Promise<MetricsServer> {
  const { host, port } = options;
  const server: Server = createServer((request, response) => {
    if (request.url === "/metrics") {
      const text = renderMetrics(status, checkHealth(status, options));
      response.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(text);
      return;
    }
    if (request.url === "/health") {
      const { healthy, reasons } = checkHealth(status, options);
      const age = Date.now() - status.lastPollAt;
      response.writeHead(healthy ? 200 : 503, { "content-type": "application/json" }).end(
        JSON.stringify({
          status: healthy ? "ok" : "unhealthy",
          reasons,
          account: status.account,
          chainId: status.chainId,
          headBlock: status.headBlock.toString(),
          cursorBlock: status.cursorBlock.toString(),
          lastPollAgeMs: status.lastPollAt > 0 ? age : null,
          uptimeSec: Math.round((Date.now() - status.startedAt) / 1000),
          txsInFlight: status.sends().count,
          rpc: status.rpc().map(({ url, up, lastError }) => ({ url: redactUrl(url), up, lastError })),
        }),
      );
      return;
    }
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE")
        return reject(
          new BaseError(`The metrics port ${port} on ${host} is already in use.`, {
            details: [
              "Set metrics.port (or VERITY_METRICS_PORT) to a free port, 0 for any free port, or null (off) to serve no metrics and health.",
              "Each daemon on one machine needs a port of its own.",
            ],
          }),
        );
      if (error.code === "EACCES" || error.code === "EADDRNOTAVAIL")
        return reject(
          new BaseError(`Cannot serve metrics on ${host}:${port}.`, {
            details: [`${error.code}: check metrics.host and metrics.port (a port above 1023 needs no privileges).`],
          }),
        );
      reject(error);
    });
    server.listen(port, host, resolve);
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${address.address}:${address.port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
