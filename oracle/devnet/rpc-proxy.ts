import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/**
 * What the proxy does with a call: `pass` relays it to the node; `hang` accepts it and never
 * answers (a node stuck behind a load balancer); `reset` cuts the connection; `refuse` stops
 * listening, so connections are refused (a node that is down).
 */
export type RpcProxyMode = "pass" | "hang" | "reset" | "refuse";

export type RpcProxy = {
  /** Stays the same across `refuse` and back: the port is listened on again. */
  readonly url: string;
  readonly mode: RpcProxyMode;
  setMode(mode: RpcProxyMode): Promise<void>;
  /** Calls relayed to the node so far. */
  readonly relayed: number;
  close(): Promise<void>;
};

/**
 * A JSON-RPC proxy on 127.0.0.1 in front of `target`, for fault tests: it relays calls, or
 * hangs, resets or refuses them as {@link RpcProxy.setMode} says.
 */
export async function startRpcProxy(target: string, { port = 0 }: { port?: number } = {}): Promise<RpcProxy> {
  let mode: RpcProxyMode = "pass";
  let relayed = 0;
  const sockets = new Set<Socket>();
  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    if (mode === "hang") return; // the socket is destroyed at close
    if (mode !== "pass") return void request.socket.destroy();
    try {
      const upstream = await fetch(target, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: Buffer.concat(chunks),
      });
      relayed++;
      response.writeHead(upstream.status, { "content-type": "application/json" }).end(await upstream.text());
    } catch {
      request.socket.destroy(); // the node itself is gone: look like it
    }
  };
  const listen = async (onPort: number): Promise<Server> => {
    const server = createServer((request, response) => void handle(request, response));
    server.on("connection", (socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(onPort, "127.0.0.1", resolve);
    });
    return server;
  };
  const stop = async (server: Server) => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  };

  let server: Server | undefined = await listen(port);
  const boundPort = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${boundPort}`,
    get mode() {
      return mode;
    },
    get relayed() {
      return relayed;
    },
    async setMode(next) {
      if (next === "refuse" && server) {
        const closing = server;
        server = undefined;
        await stop(closing);
      } else if (next !== "refuse" && !server) {
        server = await listen(boundPort);
      }
      if (next === "pass") for (const socket of sockets) socket.destroy(); // calls left hanging end now
      mode = next;
    },
    async close() {
      if (server) await stop(server);
      server = undefined;
    },
  };
}
