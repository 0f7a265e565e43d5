/**
 * The explorer's HTTP side: Node's http module on 127.0.0.1 only (the page shows nothing
 * secret, but a market view is no business of the local network), serving the page at `/` and
 * the state at `/api/state`, while one loop keeps the index up to the head, a poll at a time.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { BaseError, errorMessage } from "../errors.ts";
import { sleep } from "../util/retry.ts";
import { explorerPage } from "./explorer-page.ts";
import type { ChainReader } from "./index-chain.ts";
import { buildView, emptyIndex, type ExplorerView } from "./view-model.ts";

export const DEFAULT_EXPLORER_PORT = 8787;

export type StartExplorerParameters = {
  reader: ChainReader;
  /** First block to index (the deployment's). */
  startBlock: number;
  /** 0 picks a free port. Default {@link DEFAULT_EXPLORER_PORT}. */
  port?: number | undefined;
  /** Pause between polls of the chain; ms. Default 1,000. */
  pollMs?: number | undefined;
  /** A poll that failed (the node is down): the page shows the message and the last state. */
  onPollError?: ((error: unknown) => void) | undefined;
};

export type Explorer = {
  url: string;
  port: number;
  /** The state as the page gets it (undefined before the first poll ended). */
  state(): (ExplorerView & { error?: string | undefined }) | undefined;
  /** Stops polling and closes the server and its connections. */
  close(): Promise<void>;
};

export const EXPLORER_HOST = "127.0.0.1";

/** How long a stop waits for the poll in progress; ms. */
const CLOSE_GRACE_MS = 2000;

export async function startExplorer({
  reader,
  startBlock,
  port = DEFAULT_EXPLORER_PORT,
  pollMs = 1000,
  onPollError,
}: StartExplorerParameters): Promise<Explorer> {
  const index = emptyIndex(startBlock);
  let view: ExplorerView | undefined;
  let error: string | undefined;
  const page = explorerPage();

  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET") return void res.writeHead(405).end();
    if (path === "/") {
      res.writeHead(200, {
        "content-type": "text/html; charset=utf-8",
        // Everything the page needs is inline; nothing else may load.
        "content-security-policy":
          "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'",
      });
      return void res.end(page);
    }
    if (path === "/api/state") {
      res.writeHead(view ? 200 : 503, { "content-type": "application/json", "cache-control": "no-store" });
      return void res.end(JSON.stringify(view ? { ...view, error } : { error: error ?? "indexing…" }));
    }
    res.writeHead(404, { "content-type": "text/plain" }).end("not found");
  });
  await listen(server, port);
  const actual = (server.address() as AddressInfo).port;

  const controller = new AbortController();
  const loop = (async () => {
    while (!controller.signal.aborted) {
      try {
        view = buildView(index, await reader.poll(index), { hasAgents: reader.hasAgents });
        error = undefined;
      } catch (cause) {
        error = `cannot read the chain: ${errorMessage(cause).split("\n")[0]}`;
        onPollError?.(cause);
      }
      await sleep(pollMs, controller.signal).catch(() => undefined);
    }
  })();

  return {
    url: `http://${EXPLORER_HOST}:${actual}/`,
    port: actual,
    state: () => (view ? { ...view, error } : undefined),
    async close() {
      controller.abort();
      // A poll stuck on a hanging node must not hold up a stop: its result is not needed.
      await Promise.race([loop, sleep(CLOSE_GRACE_MS)]);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", (cause: NodeJS.ErrnoException) =>
      reject(
        cause.code === "EADDRINUSE"
          ? new BaseError(`Port ${port} on ${EXPLORER_HOST} is in use.`, {
              details: ["Stop what listens there, or pick another port with --port N."],
              cause,
            })
          : new BaseError(`Cannot listen on ${EXPLORER_HOST}:${port}: ${cause.message}`, { cause }),
      ),
    );
    server.listen(port, EXPLORER_HOST, () => resolve());
  });
}
