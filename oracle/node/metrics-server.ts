import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { BaseError } from "../errors.ts";
import type { JobState } from "../store/job-states.ts";

/** What the daemon knows of itself, read on each scrape. */
export type DaemonStatus = {
  startedAt: number;
  account: string;
  chainId: number;
  /** Wall time (ms) of the last completed poll of the chain, 0 before the first. */
  lastPollAt: number;
  headBlock: bigint;
  cursorBlock: bigint;
  jobs: () => Record<JobState, number>;
};

export type MetricsServer = { url: string; close(): Promise<void> };

/** Healthy while the chain was polled within this many poll intervals. */
const STALE_POLLS = 10;

/** Prometheus exposition text of the daemon's status. */
export function renderMetrics(status: DaemonStatus): string {
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
    ...Object.entries(status.jobs()).map(([state, count]) => `verity_jobs{state="${state}"} ${count}`),
  ];
  return lines.join("\n") + "\n";
}

/**
 * Serves `/metrics` (Prometheus) and `/health` (200 while the chain is being polled, 503 when
 * polling has stalled) on `host:port`, 127.0.0.1 unless the operator chooses otherwise.
 */
export async function startMetricsServer(
  { host, port, pollIntervalMs }: { host: string; port: number; pollIntervalMs: number },
  status: DaemonStatus,
): Promise<MetricsServer> {
  const server: Server = createServer((request, response) => {
    if (request.url === "/metrics") {
      response.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(renderMetrics(status));
      return;
    }
    if (request.url === "/health") {
      const age = Date.now() - status.lastPollAt;
      const healthy = status.lastPollAt > 0 && age < STALE_POLLS * pollIntervalMs + 5_000;
      response.writeHead(healthy ? 200 : 503, { "content-type": "application/json" }).end(
        JSON.stringify({
          status: healthy ? "ok" : "stalled",
          account: status.account,
          chainId: status.chainId,
          headBlock: status.headBlock.toString(),
          cursorBlock: status.cursorBlock.toString(),
          lastPollAgeMs: status.lastPollAt > 0 ? age : null,
          uptimeSec: Math.round((Date.now() - status.startedAt) / 1000),
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
              "Set metrics.port (or VERITY_METRICS_PORT) to a free port, or to null to serve no metrics.",
              "Another daemon on this machine needs a port of its own.",
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
