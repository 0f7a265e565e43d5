import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseEther, type JsonRpcProvider, type Wallet } from "ethers";
import type { DType } from "../model/tensor.ts";
import {
  attach,
  connectSuite,
  createRpcProvider,
  createWallet,
  type ExampleClassifierConsumer,
  type Suite,
} from "../chain/connect.ts";
import { deployContract, deploySuite, type DeploySuiteParameters } from "../chain/deploy-suite.ts";
import { writeDeployment, type Deployment } from "../chain/deployment.ts";
import { registerModel, formatsOf } from "../chain/register-model.ts";
import type { VerityConfigInput } from "../config/schema.ts";
import type { ContentStore } from "../storage/content-store.ts";
import { openEmbeddedStore } from "../storage/embedded-store.ts";
import { DEV_PRIVATE_KEYS, startDevnet, type Devnet } from "./start-devnet.ts";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** What `models/iris/iris.json` says of the demo model. */
export type IrisManifest = {
  name: string;
  labels: string[];
  input: { dtype: DType; shape: number[] };
  output: { dtype: DType; shape: number[] };
  modelHash: string;
  heldOutAccuracy: number;
  samples: { input: number[]; label: string; labelIndex: number; inputEnvelope: string }[];
};

export function readIris(): { bytes: Uint8Array; manifest: IrisManifest } {
  const dir = path.join(repoRoot, "models/iris");
  return {
    bytes: new Uint8Array(readFileSync(path.join(dir, "iris.onnx"))),
    manifest: JSON.parse(readFileSync(path.join(dir, "iris.json"), "utf8")) as IrisManifest,
  };
}

/** The roles of a local run, each a Hardhat development account. */
export type LocalActors = { deployer: Wallet; modelOwner: Wallet; provider: Wallet; user: Wallet };

export type LocalSuite = {
  devnet: Devnet;
  rpc: JsonRpcProvider;
  deployment: Deployment;
  deploymentFile: string;
  actors: LocalActors;
  /** The suite as seen by the deployer. */
  suite: Suite;
  content: ContentStore;
  contentDir: string;
  iris: { modelId: bigint; contentId: string; price: bigint; manifest: IrisManifest; bytes: Uint8Array };
  consumer: ExampleClassifierConsumer;
  /** A daemon config for the provider account, for `spawnDaemon`. */
  daemonConfig(overrides?: Partial<VerityConfigInput>): VerityConfigInput;
  close(): Promise<void>;
};

export type StartLocalSuiteParameters = {
  /** Folder for the content store, deployment file and daemon state. */
  dir: string;
  automine?: boolean | undefined;
  suite?: DeploySuiteParameters | undefined;
  price?: bigint | undefined;
  royaltyBps?: number | undefined;
  providerStake?: bigint | undefined;
};

/**
 * Everything the demo, the end-to-end tests and the benchmarks stand on: a local chain, the
 * deployed suite, the iris model stored and registered, a staked provider opted in to it and
 * an example consumer contract.
 */
export async function startLocalSuite({
  dir,
  automine = true,
  suite: suiteParameters,
  price = parseEther("0.001"),
  royaltyBps = 500,
  providerStake = parseEther("2"),
}: StartLocalSuiteParameters): Promise<LocalSuite> {
  const devnet = await startDevnet({ automine: true });
  const rpc = createRpcProvider(devnet.url, 50);
  const [deployer, modelOwner, provider, user] = DEV_PRIVATE_KEYS.slice(0, 4).map((key) => createWallet(key, rpc)) as [
    Wallet,
    Wallet,
    Wallet,
    Wallet,
  ];
  const deployment = await deploySuite(deployer, suiteParameters);
  const deploymentFile = path.join(dir, "deployment.json");
  writeDeployment(deploymentFile, deployment);
  const suite = connectSuite(deployment, deployer);

  const contentDir = path.join(dir, "content");
  const content = await openEmbeddedStore({ dir: contentDir });
  const { bytes, manifest } = readIris();
  const contentId = await content.add(bytes);
  const modelId = await registerModel(connectSuite(deployment, modelOwner).modelRegistry, {
    modelHash: manifest.modelHash,
    contentId,
    price,
    royaltyBps,
    ...formatsOf(manifest),
  });

  const asProvider = connectSuite(deployment, provider).providerRegistry;
  await (await asProvider.stake({ value: providerStake })).wait();
  await (await asProvider.optIn(modelId)).wait();

  const consumerContract = await deployContract(user, "ExampleClassifierConsumer", [
    deployment.contracts.inferenceMarket,
    modelId,
  ]);
  const consumer = attach<ExampleClassifierConsumer>(
    "ExampleClassifierConsumer",
    await consumerContract.getAddress(),
    user,
  );
  if (!automine) await rpc.send("evm_setAutomine", [false]);

  return {
    devnet,
    rpc,
    deployment,
    deploymentFile,
    actors: { deployer, modelOwner, provider, user },
    suite,
    content,
    contentDir,
    iris: { modelId, contentId, price, manifest, bytes },
    consumer,
    daemonConfig: (overrides = {}) => ({
      rpcUrl: devnet.url,
      deployment: deploymentFile,
      models: [modelId.toString()],
      storage: { kind: "embedded", dir: contentDir },
      stateDir: path.join(dir, "provider"),
      chain: { pollIntervalMs: 100 },
      retry: { attempts: 3, baseDelayMs: 100, maxDelayMs: 400 },
      // Any free port: tests run several daemons, and other checkouts may run theirs, at once.
      metrics: { port: 0 },
      ...overrides,
    }),
    async close() {
      rpc.destroy();
      await content.close();
      await devnet.close();
    },
  };
}
