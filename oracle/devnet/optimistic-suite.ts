/**
 * A local run of Optimistic mode, for the dispute demo, tests and benchmark: the local suite,
 * the dispute game deployed and named in the market, VQM models stored (ONNX and manifest) and
 * registered as Optimistic, and staked accounts for an honest provider, a cheating provider and
 * a watchtower.
 */
import path from "node:path";
import { parseEther, ZeroAddress, type Wallet } from "ethers";
import { connectSuite, createWallet } from "../chain/connect.ts";
import { connectDisputeGame, type DisputeGame } from "../chain/dispute-game.ts";
import { deployDisputeGame, type DeployDisputeGameParameters } from "../chain/deploy-dispute-game.ts";
import type { VerityConfigInput } from "../config/schema.ts";
import type { Cheat } from "../dispute/cheat.ts";
import { encodeInlineInput } from "../model/input-envelope.ts";
import type { Tensor } from "../model/tensor.ts";
import { emitOnnx } from "../model/vqm/emit-onnx.ts";
import { vqmManifest } from "../model/vqm/vqm-files.ts";
import type { VqmModel } from "../model/vqm/vqm-model.ts";
import { startLocalSuite, type LocalSuite } from "./local-suite.ts";
import { registerOptimistic } from "./register-optimistic.ts";
import { DEV_PRIVATE_KEYS } from "./start-devnet.ts";

export type OptimisticActors = { honest: Wallet; cheater: Wallet; watcher: Wallet };

export type OptimisticSuite = {
  local: LocalSuite;
  game: DisputeGame;
  actors: OptimisticActors;
  /** Model ids in the order of the `models` parameter. */
  modelIds: bigint[];
  /** Model id → content id of its manifest (`dispute.manifests`). */
  manifests: Record<string, string>;
  price: bigint;
  /** A daemon or watchtower config with its own state folder `dir/<name>`. */
  config(name: string, models: bigint[], cheat?: Cheat): VerityConfigInput;
  /** The user asks for `modelId` on `input` (inline) and gets the request id. */
  ask(modelId: bigint, input: Tensor, ttlSec?: number): Promise<bigint>;
  close(): Promise<void>;
};

export type StartOptimisticSuiteParameters = {
  dir: string;
  models: VqmModel[];
  challengeWindowSec?: number | undefined;
  game?: DeployDisputeGameParameters | undefined;
  price?: bigint | undefined;
};

export async function startOptimisticSuite({
  dir,
  models,
  challengeWindowSec = 600,
  game: gameParameters,
  price = parseEther("0.01"),
}: StartOptimisticSuiteParameters): Promise<OptimisticSuite> {
  const local = await startLocalSuite({ dir });
  await deployDisputeGame(local.actors.deployer, local.deployment, gameParameters);
  const game = await connectDisputeGame(local.suite.inferenceMarket, local.actors.deployer);
  const owner = connectSuite(local.deployment, local.actors.modelOwner).modelRegistry;
  const modelIds: bigint[] = [];
  const manifests: Record<string, string> = {};
  for (const model of models) {
    const onnx = emitOnnx(model);
    const manifest = vqmManifest(model, onnx);
    const contentId = await local.content.add(onnx);
    const manifestId = await local.content.add(new TextEncoder().encode(JSON.stringify(manifest)));
    const { modelId } = await registerOptimistic(owner, {
      model,
      price,
      window: challengeWindowSec,
      modelHash: manifest.modelHash,
      contentId,
      royaltyBps: 500,
    });
    modelIds.push(modelId);
    manifests[modelId.toString()] = manifestId;
  }
  const [honest, cheater, watcher] = [DEV_PRIVATE_KEYS[2], DEV_PRIVATE_KEYS[4], DEV_PRIVATE_KEYS[5]].map((key) =>
    createWallet(key, local.rpc),
  ) as [Wallet, Wallet, Wallet];
  for (const wallet of [honest, cheater]) {
    const registry = connectSuite(local.deployment, wallet).providerRegistry;
    if ((await registry.stakeOf(wallet.address)) === 0n)
      await (await registry.stake({ value: parseEther("2") })).wait();
    for (const id of modelIds) await (await registry.optIn(id)).wait();
  }
  const market = connectSuite(local.deployment, local.actors.user).inferenceMarket;

  return {
    local,
    game,
    actors: { honest, cheater, watcher },
    modelIds,
    manifests,
    price,
    config: (name, served, cheat) => ({
      ...local.daemonConfig(),
      models: served.map(String),
      stateDir: path.join(dir, name),
      dispute: { manifests },
      // The scenarios say which party serves: no turns between the two opted-in providers.
      jobs: { assignmentWindowSec: 0 },
      ...(cheat ? { testing: { cheat } } : {}),
    }),
    async ask(modelId, input, ttlSec = 3600) {
      const block = await local.rpc.getBlock("latest");
      const deadline = BigInt(block!.timestamp) + BigInt(ttlSec);
      const tx = await market.requestInference(modelId, encodeInlineInput(input), price, deadline, ZeroAddress, 0, {
        value: price,
      });
      const receipt = await tx.wait();
      for (const log of receipt!.logs) {
        const parsed = market.interface.parseLog(log);
        if (parsed?.name === "InferenceRequested") return parsed.args.requestId as bigint;
      }
      throw new Error("no InferenceRequested event");
    },
    close: () => local.close(),
  };
}
