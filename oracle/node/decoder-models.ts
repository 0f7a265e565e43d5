/**
 * Decoders (text generation) as the provider daemon serves them in Attested mode (Optimistic
 * decoders are served by the reference executor, oracle/node/optimistic-models.ts): the decoder
 * read from the model folder a `models` entry `{ "id", "folder" }` names (DIR/vqm with its
 * tokenizer, oracle/model/model-folder.ts), checked against the registered modelHash, and an
 * onnxruntime session of its one-pass graph for `generateVqmOrt`, opened once per model.
 *
 * A folder entry that holds no decoder is not this module's: `get` answers undefined and the
 * model is served from its registered content as before. The registered content alone cannot
 * serve a decoder (model.onnx is one forward pass; generation needs the manifest), so a
 * decoder graph met without a folder is refused as a set-up to fix (`assertNotDecoderGraph`).
 */
import type { ModelRegistry } from "../chain/connect.ts";
import { BaseError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import { readModelFolder } from "../model/model-folder.ts";
import type { Tokenizer } from "../model/text/tokenizer.ts";
import { positionInputName, tokenInputName } from "../model/vqm/emit-onnx.ts";
import { openVqmOrt, type VqmOrtSession } from "../model/vqm/ort-executor.ts";
import type { VqmModel } from "../model/vqm/vqm-model.ts";
import type { ExecutionProvider, ModelSession } from "../runtime/create-session.ts";
import { loadOnce } from "./load-once.ts";

export type DecoderModel = {
  modelId: bigint;
  folder: string;
  model: VqmModel;
  tokenizer?: Tokenizer | undefined;
  session: VqmOrtSession;
};

export type DecoderModels = {
  /** The decoder in the model's folder; undefined when no folder is configured or it holds no decoder. */
  get(modelId: bigint): Promise<DecoderModel | undefined>;
  close(): Promise<void>;
};

/** A decoder this daemon cannot serve yet (folder unreadable, of another model, or not configured). */
export class DecoderModelError extends BaseError {
  override name = "DecoderModelError";
}

export type CreateDecoderModelsParameters = {
  registry: ModelRegistry;
  /** Model id (decimal) → model folder (`models` folder entries). */
  folders: Record<string, string>;
  threads?: number | undefined;
  /** `runtime.executionProvider`; a decoder is an integer graph, which createSession keeps on the CPU. */
  executionProvider?: ExecutionProvider | undefined;
  logger: Logger;
};

export type ReadDecoderFolderParameters = Pick<CreateDecoderModelsParameters, "registry" | "folders"> & {
  modelId: bigint;
};

/**
 * The decoder in the model folder configured for `modelId`, checked against the registered
 * modelHash; undefined when no folder is configured or it holds no decoder.
 */
export async function readDecoderFolder({ registry, folders, modelId }: ReadDecoderFolderParameters) {
  const folder = folders[modelId.toString()];
  if (folder === undefined) return undefined;
  const read = await readModelFolder(folder).catch((error: unknown) => {
    throw new DecoderModelError(`Model ${modelId}: cannot read its model folder ${folder}.`, {
      details: error instanceof BaseError ? [error.shortMessage, ...error.details] : [String(error)],
      cause: error,
    });
  });
  if (read.model.sequence === undefined) return undefined;
  const entry = await registry.getModel(modelId);
  if (read.manifest.modelHash !== entry.modelHash)
    throw new DecoderModelError(`Model ${modelId}: the model folder ${folder} holds another model.`, {
      details: [`registered modelHash ${entry.modelHash}`, `vqm/manifest.json ${read.manifest.modelHash}`],
    });
  return { folder, read };
}

export function createDecoderModels({
  registry,
  folders,
  threads,
  executionProvider,
  logger,
}: CreateDecoderModelsParameters): DecoderModels {
  async function load(modelId: bigint): Promise<DecoderModel | undefined> {
    const found = await readDecoderFolder({ registry, folders, modelId });
    if (found === undefined) return undefined;
    const { folder, read } = found;
    const session = await openVqmOrt({ model: read.model, onnx: read.onnx, threads, executionProvider });
    logger.info("decoder loaded", { modelId, folder, ...read.model.sequence, tokenizer: read.tokenizer?.kind });
    return { modelId, folder, model: read.model, tokenizer: read.tokenizer, session };
  }

  return loadOnce(load, (decoder) => decoder?.session.release());
}

/**
 * Throws DecoderModelError when the registered content is a decoder's one-pass graph (inputs
 * "token" and "position"): it generates only with its manifest, from a model folder.
 */
export function assertNotDecoderGraph(modelId: bigint, session: Pick<ModelSession, "inputs">): void {
  const names = new Set(session.inputs.map((input) => input.name));
  if (names.has(tokenInputName) && names.has(positionInputName))
    throw new DecoderModelError(`Model ${modelId} is a decoder: it is served from its model folder.`, {
      details: [`Add { "id": "${modelId}", "folder": "DIR" } to models (DIR/vqm holding its manifest.json).`],
    });
}

/**
 * Throws `error(message)` when `model` is a decoder: Zk serving of decoders needs a circuit of a
 * generation, which does not exist yet (decoders are served Attested or Optimistic).
 */
export function refuseDecoder<E extends BaseError>(
  modelId: bigint,
  model: VqmModel,
  error: new (message: string, options: { details: string[] }) => E,
): void {
  if (model.sequence === undefined) return;
  throw new error(`Model ${modelId} is a decoder, which cannot be served in Zk mode yet.`, {
    details: [
      "No circuit proves a generation yet: register it as Attested (verity model register DIR) or Optimistic (--mode optimistic).",
    ],
  });
}
