import { keccak256 } from "ethers";
import { BaseError } from "../errors.ts";
import { FailureReason } from "../model/failure-reason.ts";
import type { ModelRegistry } from "../chain/connect.ts";
import type { ContentStore } from "../storage/content-store.ts";
import { registeredFormat } from "../model/tensor-format.ts";
import { createSession } from "../runtime/create-session.ts";
import { createKserveClient, type KserveClient } from "../runtime/kserve-client.ts";
import type { InferenceSession } from "../runtime/run-inference.ts";
import type { Logger } from "../log/logger.ts";
import { loadOnce } from "./load-once.ts";

/** A model ready to run: what the registry says of it and its session (onnxruntime here, or a KServe v2 server's model). */
export type LoadedModel = {
  modelId: bigint;
  modelHash: string;
  contentId: string;
  inputShape: number[];
  outputShape: number[];
  session: InferenceSession;
};

/** The model bytes found under the registered content id do not hash to the registered modelHash. */
export class ModelContentMismatchError extends BaseError {
  override name = "ModelContentMismatchError";
  // Content ids address content, so every provider would fetch the same wrong bytes: the
  // registered model cannot be served, and the request is failed and refunded.
  readonly failureReason = FailureReason.ModelContentInvalid;
  constructor(modelId: bigint, expected: string, actual: string) {
    super(`Model ${modelId}: content does not match the registered modelHash.`, {
      details: [`registered ${expected}`, `fetched    ${actual}`],
    });
  }
}

export type ModelCacheParameters = {
  registry: ModelRegistry;
  content: ContentStore;
  /** The config's `runtime`: "kserve" opens each model on the server at `kserve.url` instead. */
  runtime: {
    backend: "onnxruntime" | "kserve";
    executionProvider: "cpu" | "cuda";
    threads: number;
    kserve?: { url: string; timeoutMs: number } | undefined;
  };
  logger: Logger;
};

export type ModelCache = {
  get(modelId: bigint, signal?: AbortSignal): Promise<LoadedModel>;
  /** Why the inference server fails (the kserve backend), for the daemon's /health; undefined when it does not. */
  runtimeProblem(): string | undefined;
  close(): Promise<void>;
};

export type FetchRegisteredModelParameters = {
  registry: ModelRegistry;
  content: ContentStore;
  modelId: bigint;
  signal?: AbortSignal | undefined;
};

/**
 * The registry's entry for `modelId` and its bytes fetched by content id, checked against the
 * registered modelHash: what the daemon opens for an Attested model (and `verity provider doctor` probes).
 */
export async function fetchRegisteredModel({ registry, content, modelId, signal }: FetchRegisteredModelParameters) {
  const model = await registry.getModel(modelId);
  const bytes = await content.get(model.contentId, { signal });
  const actual = keccak256(bytes);
  if (actual !== model.modelHash) throw new ModelContentMismatchError(modelId, model.modelHash, actual);
  return { model, bytes };
}

export type OpenRemoteModelParameters = {
  registry: ModelRegistry;
  kserve: KserveClient;
  modelId: bigint;
  signal?: AbortSignal | undefined;
};

/**
 * The registry's entry for `modelId` and its model on the KServe v2 server, named by the
 * registered modelHash and checked against the registered formats: what the daemon runs with
 * `runtime.backend` "kserve" (and `verity provider doctor` probes).
 */
export async function openRemoteModel({ registry, kserve, modelId, signal }: OpenRemoteModelParameters) {
  const model = await registry.getModel(modelId);
  const session = await kserve.openModel(
    {
      modelHash: model.modelHash,
      input: registeredFormat(model.inputDtype, model.inputShape),
      output: registeredFormat(model.outputDtype, model.outputShape),
    },
    signal,
  );
  return { model, session };
}

/**
 * Loads each model once: registry entry, then with onnxruntime the bytes by content id, the hash
 * check and a session; with kserve the server's model named by the registered modelHash, its
 * metadata checked against the registered formats. A failed load is not cached, so a model
 * whose content (or server) appears later is picked up on the next job.
 */
export function createModelCache({ registry, content, runtime, logger }: ModelCacheParameters): ModelCache {
  const kserve: KserveClient | undefined =
    runtime.backend === "kserve" && runtime.kserve ? createKserveClient(runtime.kserve) : undefined;
  if (runtime.backend === "kserve" && !kserve)
    throw new BaseError("runtime.backend is kserve but runtime.kserve is not set.");

  async function openSession(modelId: bigint, signal?: AbortSignal) {
    if (kserve) {
      const { model, session } = await openRemoteModel({ registry, kserve, modelId, signal });
      logger.info("model opened on the inference server", { modelId, server: kserve.url, name: session.name });
      return { model, session };
    }
    const { model, bytes } = await fetchRegisteredModel({ registry, content, modelId, signal });
    const session = await createSession({
      model: bytes,
      executionProvider: runtime.executionProvider,
      threads: runtime.threads,
      onFallback: (reason: string) => logger.warn("execution provider unavailable, using cpu", { modelId, reason }),
    });
    logger.info("model loaded", { modelId, contentId: model.contentId, provider: session.provider });
    return { model, session };
  }

  async function load(modelId: bigint, signal?: AbortSignal): Promise<LoadedModel> {
    const { model, session } = await openSession(modelId, signal);
    return {
      modelId,
      modelHash: model.modelHash,
      contentId: model.contentId,
      inputShape: model.inputShape.map(Number),
      outputShape: model.outputShape.map(Number),
      session,
    };
  }

  const cache = loadOnce(load, (loaded) => loaded.session.release());
  return { ...cache, runtimeProblem: () => kserve?.problem() };
}
