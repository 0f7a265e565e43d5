import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ZeroAddress, type BytesLike } from "ethers";
import type { InferenceMarket } from "../../oracle/chain/connect.ts";
import { requestStatusName } from "../../oracle/chain/request-status.ts";
import type { LocalSuite } from "../../oracle/devnet/local-suite.ts";
import { connectSuite } from "../../oracle/chain/connect.ts";
import { sleep } from "../../oracle/util/retry.ts";
import { rpc } from "../../oracle/devnet/start-devnet.ts";
import { spawnDaemon, type DaemonLogLine, type SpawnedDaemon } from "../../oracle/devnet/spawn-daemon.ts";

export function tempDir(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The dApp account asks the market directly (no callback) and gets the request id. */
export async function ask(local: LocalSuite, input: BytesLike, ttlSec = 600): Promise<bigint> {
  const market = connectSuite(local.deployment, local.actors.user).inferenceMarket;
  const block = await local.rpc.getBlock("latest");
  const deadline = BigInt(block!.timestamp) + BigInt(ttlSec);
  const tx = await market.requestInference(local.iris.modelId, input, local.iris.price, deadline, ZeroAddress, 0, {
    value: local.iris.price,
  });
  const receipt = await tx.wait();
  for (const log of receipt!.logs) {
    const parsed = market.interface.parseLog(log);
    if (parsed?.name === "InferenceRequested") return parsed.args.requestId as bigint;
  }
  throw new Error("no InferenceRequested event");
}

/** Polls until request `id` has one of `statuses` (names of RequestStatus). */
export async function waitForStatus(
  market: InferenceMarket,
  id: bigint,
  statuses: string[],
  timeoutMs = 60_000,
  tick?: () => Promise<unknown>,
): Promise<string> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const status = requestStatusName(await market.statusOf(id));
    if (statuses.includes(status)) return status;
    if (Date.now() > until) throw new Error(`request ${id} is ${status}, expected ${statuses.join(" or ")}`);
    await tick?.();
    await sleep(100);
  }
}

export async function submissionsOf(market: InferenceMarket, id: bigint): Promise<number> {
  return (await market.queryFilter(market.filters.ResultSubmitted(id))).length;
}

/** `verity provider start` for the suite's provider account, resolved once it says it started. */
export async function startProviderDaemon(
  local: LocalSuite,
  dir: string,
  { overrides = {}, onLog }: { overrides?: Record<string, unknown>; onLog?: (line: DaemonLogLine) => void } = {},
): Promise<SpawnedDaemon> {
  const daemon = spawnDaemon({
    config: local.daemonConfig(overrides),
    dir,
    privateKey: local.actors.provider.privateKey,
    onLog,
  });
  await daemon.waitForLog((line) => line.msg === "provider daemon started");
  return daemon;
}

/**
 * Blocks only when the test says so (a suite started with `automine: false`): one at a time,
 * or every 100 ms between `start` and `stop`; `ask` mines the request and stops again.
 */
export function manualMining(local: LocalSuite) {
  let timer: ReturnType<typeof setInterval> | undefined;
  const mine = () => rpc(local.devnet.url, "evm_mine");
  const stop = () => clearInterval(timer);
  const start = () => {
    stop();
    timer = setInterval(() => void mine().catch(() => undefined), 100);
  };
  return {
    mine,
    start,
    stop,
    async ask(input: BytesLike): Promise<bigint> {
      start();
      try {
        return await ask(local, input);
      } finally {
        stop();
      }
    },
  };
}
