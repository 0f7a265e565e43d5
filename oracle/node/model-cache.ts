import { keccak256 } from "ethers";
import { BaseError } from "../errors.ts";
import { FailureReason } from "../model/failure-reason.ts";
import type { ModelRegistry } from "../chain/connect.ts";
import type { ContentStore } from "../storage/content-store.ts";
import { createSession, type ModelSession } from "../runtime/create-session.ts";
import type { Logger } from "../log/logger.ts";
import { loadOnce } from "./load-once.ts";

/** A model ready to run: what the registry says of it and its onnxruntime session. */
export type LoadedModel = {
  modelId: bigint;
  modelHash: string;
  contentId: string;
  inputShape: number[];
  outputShape: number[];
  session: ModelSession;
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
  executionProvider: "cpu" | "cuda";
  threads: number;
  logger: Logger;
};

export type ModelCache = {
  get(modelId: bigint, signal?: AbortSignal): Promise<LoadedModel>;
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

/**
 * Loads each model once: registry entry, bytes by content id, hash check, session. A failed
 * load is not cached, so a model whose content appears later is picked up on the next job.
 */
export function createModelCache({
  registry,
  content,
  executionProvider,
  threads,
  logger,
}: ModelCacheParameters): ModelCache {
  async function load(modelId: bigint, signal?: AbortSignal): Promise<LoadedModel> {
    const { model, bytes } = await fetchRegisteredModel({ registry, content, modelId, signal });
    const session = await createSession({
      model: bytes,
      executionProvider,
      threads,
      onFallback: (reason: string) => logger.warn("execution provider unavailable, using cpu", { modelId, reason }),
    });
    logger.info("model loaded", { modelId, contentId: model.contentId, provider: session.provider });
    return {
      modelId,
      modelHash: model.modelHash,
      contentId: model.contentId,
      inputShape: model.inputShape.map(Number),
      outputShape: model.outputShape.map(Number),
      session,
    };
  }

  return loadOnce(load, (loaded) => loaded.session.release());
}
