import path from "node:path";
import { parseEther, type JsonRpcProvider } from "ethers";
import { connectSuite, createWallet } from "../chain/connect.ts";
import type { Deployment } from "../chain/deployment.ts";
import { registerModel, formatsOf } from "../chain/register-model.ts";
import { openEmbeddedStore } from "../storage/embedded-store.ts";
import { sleep } from "../util/retry.ts";
import { readIris, type IrisManifest } from "./local-suite.ts";
import { spawnDaemon, type SpawnedDaemon } from "./spawn-daemon.ts";
import { DEV_PRIVATE_KEYS } from "./start-devnet.ts";

/** The first stdout line of `process` (a spawned `verity devnet`) that matches, once printed. */
export async function waitForStdout(
  process: SpawnedDaemon,
  match: RegExp,
  timeoutMs = 120_000,
): Promise<RegExpMatchArray> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    for (const line of process.stdout) {
      const found = line.match(match);
      if (found) return found;
    }
    if (Date.now() > until || process.child.exitCode !== null)
      throw new Error(`no line ${match} from the devnet: ${process.stderr.join("\n")}`);
    await sleep(100);
  }
}

export type DevnetProcess = { process: SpawnedDaemon; url: string; deploymentFile: string };

/**
 * `verity devnet` as its own process (a chain the benches and fault runs do not share a process
 * with), deployed, its URL read from its output and its deployment written to `dir`.
 */
export async function spawnDevnetProcess(dir: string): Promise<DevnetProcess> {
  const deploymentFile = path.join(dir, "deployment.json");
  const devnet = spawnDaemon({
    command: ["devnet", "--port", "0", "--out", deploymentFile],
    dir,
    privateKey: "",
    name: "devnet",
  });
  try {
    const url = (await waitForStdout(devnet, /^chain\s+(http:\/\/\S+)/))[1]!;
    await waitForStdout(devnet, /^development keys/);
    return { process: devnet, url, deploymentFile };
  } catch (error) {
    await devnet.kill();
    throw error;
  }
}

export type RegisteredIris = { modelId: bigint; contentId: string; price: bigint; manifest: IrisManifest };

/** The iris model stored in the embedded store at `contentDir` and registered by development account 1. */
export async function registerIris(
  deployment: Deployment,
  rpc: JsonRpcProvider,
  contentDir: string,
): Promise<RegisteredIris> {
  const content = await openEmbeddedStore({ dir: contentDir });
  const { bytes, manifest } = readIris();
  const contentId = await content.add(bytes);
  await content.close();
  const price = parseEther("0.001");
  const modelId = await registerModel(connectSuite(deployment, createWallet(DEV_PRIVATE_KEYS[1], rpc)).modelRegistry, {
    modelHash: manifest.modelHash,
    contentId,
    price,
    royaltyBps: 500,
    ...formatsOf(manifest),
  });
  return { modelId, contentId, price, manifest };
}

/** Stakes `amount` for the development account `key` and opts it in to `modelId`. */
export async function stakeAndOptIn(
  deployment: Deployment,
  rpc: JsonRpcProvider,
  key: string,
  modelId: bigint,
  amount: bigint,
): Promise<void> {
  const registry = connectSuite(deployment, createWallet(key, rpc)).providerRegistry;
  await (await registry.stake({ value: amount })).wait();
  await (await registry.optIn(modelId)).wait();
}
