/**
 * Optimistic models as the provider's defence and the watchtower need them: the VqmModel read from
 * the model folder a `models` entry `{ "id", "folder" }` names (DIR/vqm, oracle/model/model-folder.ts),
 * or rebuilt from the registered content (the VQM ONNX) and the manifest whose content id
 * `dispute.manifests` gives; either way checked against the registered `modelHash`,
 * `weightsRoot` and `layoutRoot`, with the
 * layer specs and the weights blob's tree for one-step proofs. A decoder (text generation) is
 * loaded alike: its layers are those of one forward pass, and a request generates with the
 * reference executor (oracle/dispute/committed-run.ts), whose passes the provider commits to.
 */
import { keccak256 } from "ethers";
import type { ModelRegistry } from "../chain/connect.ts";
import { VerificationMode } from "../chain/register-model.ts";
import { layerSpecs, layoutRoot, type LayerSpec } from "../dispute/layout.ts";
import { stepSource, type StepSource } from "../dispute/moves.ts";
import { BaseError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import { FailureReason } from "../model/failure-reason.ts";
import { decodeInputEnvelope } from "../model/input-envelope.ts";
import type { Tensor } from "../model/tensor.ts";
import { weightsBlob, weightsRoot } from "../model/vqm/commitments.ts";
import { emitOnnx } from "../model/vqm/emit-onnx.ts";
import { readModelFolder } from "../model/model-folder.ts";
import { modelFromFiles, type VqmManifest } from "../model/vqm/vqm-files.ts";
import type { VqmModel } from "../model/vqm/vqm-model.ts";
import type { ContentStore } from "../storage/content-store.ts";
import { ModelContentMismatchError } from "./model-cache.ts";
import { loadOnce } from "./load-once.ts";

export type OptimisticModel = {
  modelId: bigint;
  model: VqmModel;
  specs: LayerSpec[];
  layerCount: number;
  challengeWindow: number;
  /** The weights blob and its tree (built on first use: 10 MB for a 10M-parameter model). */
  weights(): StepSource;
};

export type OptimisticModels = {
  /** The model's registered verification mode (`VerificationMode`), cached. */
  mode(modelId: bigint): Promise<number>;
  get(modelId: bigint, signal?: AbortSignal): Promise<OptimisticModel>;
};

export class OptimisticModelError extends BaseError {
  override name = "OptimisticModelError";
}

/** The input of a request for an Optimistic model is not an inline tensor of its format. */
export class OptimisticInputError extends BaseError {
  override name = "OptimisticInputError";
  readonly failureReason = FailureReason.InputShapeMismatch;
}

export type CreateOptimisticModelsParameters = {
  registry: ModelRegistry;
  content: ContentStore;
  /** Model id (decimal) → content id of its manifest.json (`dispute.manifests`). */
  manifests: Record<string, string>;
  /** Model id (decimal) → its model folder (`models` folder entries); wins over `manifests`. */
  folders?: Record<string, string> | undefined;
  logger: Logger;
};

export function createOptimisticModels({
  registry,
  content,
  manifests,
  folders = {},
  logger,
}: CreateOptimisticModelsParameters): OptimisticModels {
  const modes = new Map<bigint, number>();

  async function load(modelId: bigint, signal?: AbortSignal): Promise<OptimisticModel> {
    const [entry, verification] = await Promise.all([registry.getModel(modelId), registry.verificationOf(modelId)]);
    if (Number(verification.mode) !== VerificationMode.Optimistic)
      throw new OptimisticModelError(`Model ${modelId} is not an Optimistic model.`);
    const model = await readModel(modelId, entry.contentId, entry.modelHash, signal);
    const mismatch = (what: string, registered: string, rebuilt: string) =>
      new OptimisticModelError(`Model ${modelId}: the manifest's model does not match the registered ${what}.`, {
        details: [`registered ${registered}`, `rebuilt    ${rebuilt}`],
      });
    const emitted = keccak256(emitOnnx(model));
    if (emitted !== entry.modelHash) throw mismatch("modelHash", entry.modelHash, emitted);
    const specs = layerSpecs(model);
    const root = weightsRoot(model);
    if (root !== verification.weightsRoot) throw mismatch("weightsRoot", verification.weightsRoot, root);
    const layout = layoutRoot(specs);
    if (layout !== verification.layoutRoot) throw mismatch("layoutRoot", verification.layoutRoot, layout);
    let weights: StepSource | undefined;
    const folder = folders[modelId.toString()];
    logger.info("optimistic model loaded", {
      modelId,
      layers: specs.length,
      ...(folder === undefined ? { contentId: entry.contentId } : { folder }),
    });
    return {
      modelId,
      model,
      specs,
      layerCount: Number(verification.layerCount),
      challengeWindow: Number(verification.challengeWindow),
      weights: () => (weights ??= stepSource(weightsBlob(model))),
    };
  }

  /** The model from its folder, or from the registered content and the configured manifest. */
  async function readModel(modelId: bigint, contentId: string, modelHash: string, signal?: AbortSignal) {
    const folder = folders[modelId.toString()];
    if (folder !== undefined) {
      const read = await readModelFolder(folder).catch((error: unknown) => {
        throw new OptimisticModelError(`Model ${modelId}: cannot read its model folder ${folder}.`, {
          details: error instanceof BaseError ? [error.shortMessage, ...error.details] : [],
          cause: error,
        });
      });
      if (read.manifest.modelHash !== modelHash)
        throw new OptimisticModelError(`Model ${modelId}: the model folder ${folder} holds another model.`, {
          details: [`registered modelHash ${modelHash}`, `vqm/manifest.json ${read.manifest.modelHash}`],
        });
      return read.model;
    }
    const manifestId = manifests[modelId.toString()];
    if (manifestId === undefined)
      throw new OptimisticModelError(`No model folder or VQM manifest configured for Optimistic model ${modelId}.`, {
        details: [
          `Add { "id": "${modelId}", "folder": "DIR" } to models (DIR/vqm: verity model compile --out DIR),`,
          `or set dispute.manifests["${modelId}"] to the content id of its manifest.json.`,
        ],
      });
    const onnx = await content.get(contentId, { signal });
    const actual = keccak256(onnx);
    if (actual !== modelHash) throw new ModelContentMismatchError(modelId, modelHash, actual);
    const manifest = JSON.parse(new TextDecoder().decode(await content.get(manifestId, { signal }))) as VqmManifest;
    return modelFromFiles(manifest, onnx);
  }

  const loaded = loadOnce(load);
  return {
    async mode(modelId) {
      let mode = modes.get(modelId);
      if (mode === undefined) {
        mode = Number((await registry.verificationOf(modelId)).mode);
        modes.set(modelId, mode);
      }
      return mode;
    },
    get: loaded.get,
  };
}

/**
 * The tensor of an Optimistic request's input bytes (inline envelope only): int8 of the model's
 * input shape, or a decoder's int32 `[1, promptLength]` prompt ids.
 */
export function optimisticInput(model: VqmModel, input: Uint8Array): Tensor {
  const envelope = decodeInputEnvelope(input);
  if (envelope.kind !== "inline")
    throw new OptimisticInputError("An Optimistic model's input must be inline.", {
      details: ["The dispute game recomputes from calldata; content ids are not accepted."],
    });
  const tensor = envelope.tensor;
  const [dtype, shape] = model.sequence ? ["int32", [1, model.sequence.promptLength]] : ["int8", model.input.shape];
  if (tensor.dtype !== dtype || tensor.shape.join(",") !== shape.join(","))
    throw new OptimisticInputError(`The input must be ${dtype} [${shape.join(", ")}].`, {
      details: [`Got ${tensor.dtype} [${tensor.shape.join(", ")}].`],
    });
  return tensor;
}
