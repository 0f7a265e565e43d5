import { createServer } from "node:net";
import { BaseError } from "../errors.ts";

/** Hardhat's well-known development accounts (mnemonic "test test ... junk"); never use them on a public chain. */
export const DEV_PRIVATE_KEYS = [
  "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
  "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
  "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
  "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
  "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
  "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
] as const;

export type StartDevnetParameters = {
  /** Port on 127.0.0.1; 0 picks a free one. */
  port?: number | undefined;
  /** Mine a block per transaction (default). Tests that need to hold transactions set it false. */
  automine?: boolean | undefined;
  /**
   * Seconds between blocks: interval mining, as a public chain (and `anvil --block-time`) does.
   * Transactions then wait for the next block, and the clock moves on while the chain is idle
   * (an Optimistic window ends, `finalize` can run). Overrides `automine`. Default: none.
   */
  blockTimeSec?: number | undefined;
};

export type Devnet = {
  /** JSON-RPC endpoint; test controls (evm_mine, evm_increaseTime, ...) go through it too. */
  url: string;
  close(): Promise<void>;
};

/**
 * Starts an in-process Hardhat (EDR) chain and serves it over JSON-RPC on 127.0.0.1 so that
 * separate processes (the provider daemon) can use it as they would a real node.
 */
export async function startDevnet({
  port = 0,
  automine = true,
  blockTimeSec,
}: StartDevnetParameters = {}): Promise<Devnet> {
  // Hardhat's server reports a taken port as an unhandled 'error' event that ends the process
  // with a stack trace, so the port is tried first.
  if (port !== 0) await assertPortFree(port);
  const { default: hre } = await import("hardhat");
  const server = await hre.network.createServer(undefined, "127.0.0.1", port);
  const address = await server.listen();
  const url = `http://${address.address}:${address.port}`;
  if (blockTimeSec !== undefined) await setBlockTime(url, blockTimeSec);
  else if (!automine) await rpc(url, "evm_setAutomine", [false]);
  return { url, close: () => server.close() };
}

/** Switches a running devnet to a block every `seconds` (automine off), as `--block-time` does. */
export async function setBlockTime(url: string, seconds: number): Promise<void> {
  await rpc(url, "evm_setAutomine", [false]);
  await rpc(url, "evm_setIntervalMining", [Math.round(seconds * 1000)]);
}

async function assertPortFree(port: number): Promise<void> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE") return reject(new PortInUseError(port));
      if (error.code === "EACCES")
        return reject(
          new BaseError(`Port ${port} on 127.0.0.1 needs privileges this process does not have.`, {
            details: ["Pick a port above 1023 with --port N (0 picks a free one)."],
          }),
        );
      reject(error);
    });
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve()));
  });
}

/** The devnet's port is taken (another devnet, a `hardhat node`, anything else). */
export class PortInUseError extends BaseError {
  override name = "PortInUseError";
  readonly port: number;
  constructor(port: number) {
    super(`Port ${port} on 127.0.0.1 is already in use.`, {
      details: [`Is another devnet or node running there? Pick another port with --port N (0 picks a free one).`],
    });
    this.port = port;
  }
}

/** A bare JSON-RPC call, for chain controls that have no place in the ethers API. */
export async function rpc(url: string, method: string, params: unknown[] = []): Promise<unknown> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await response.json()) as { result?: unknown; error?: { message: string } };
  if (body.error) throw new Error(`${method} failed: ${body.error.message}`);
  return body.result;
}
