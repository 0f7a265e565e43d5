/**
 * Zk models as the provider daemon serves them: the integer model and its proving artifacts,
 * read from the model folder the operator names in a `models` entry `{ "id", "folder" }` (or in
 * `zk.models`): DIR/vqm and DIR/zk, as `verity model compile` and `verity zk build` make them
 * (oracle/model/model-folder.ts), both checked against the registered modelHash, with one prover
 * (a worker thread holding the proving key, loaded once) per model.
 */
import type { ModelRegistry } from "../chain/connect.ts";
import { VerificationMode } from "../chain/register-model.ts";
import { BaseError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import { FailureReason, failureReasonOf } from "../model/failure-reason.ts";
import { decodeInputEnvelope, type InputEnvelope } from "../model/input-envelope.ts";
import type { Tensor } from "../model/tensor.ts";
import { readZkModelFolder } from "../model/model-folder.ts";
import type { VqmModel } from "../model/vqm/vqm-model.ts";
import { createProver, type ZkProver } from "../zk/prove.ts";
import { refuseDecoder } from "./decoder-models.ts";
import { loadOnce } from "./load-once.ts";

export type ZkModel = {
  modelId: bigint;
  model: VqmModel;
  prover: ZkProver;
  dir: string;
};

export type ZkModels = {
  get(modelId: bigint): Promise<ZkModel>;
  /** Stops every proving thread. */
  close(): Promise<void>;
};

/** A Zk model this daemon cannot serve (no configured folder, or artifacts of another model). */
export class ZkModelError extends BaseError {
  override name = "ZkModelError";
}

/** The input of a request for a Zk model is not a canonical int8 tensor of its shape. */
export class ZkInputError extends BaseError {
  override name = "ZkInputError";
  readonly failureReason: FailureReason;
  constructor(shortMessage: string, options: { details?: string[]; cause?: unknown; reason: FailureReason }) {
    super(shortMessage, options);
    this.failureReason = options.reason;
  }
}

export type CreateZkModelsParameters = {
  registry: ModelRegistry;
  /** Model id (decimal) → model folder holding vqm/ and zk/ (`models` folder entries and `zk.models`). */
  dirs: Record<string, string>;
  logger: Logger;
};

export function createZkModels({ registry, dirs, logger }: CreateZkModelsParameters): ZkModels {
  async function load(modelId: bigint): Promise<ZkModel> {
    const [entry, verification] = await Promise.all([registry.getModel(modelId), registry.verificationOf(modelId)]);
    if (Number(verification.mode) !== VerificationMode.Zk)
      throw new ZkModelError(`Model ${modelId} is not a Zk model.`);
    const dir = dirs[modelId.toString()];
    if (dir === undefined)
      throw new ZkModelError(`No model folder configured for Zk model ${modelId}.`, {
        details: [
          `Add { "id": "${modelId}", "folder": "DIR" } to models, DIR holding its vqm/ and zk/ (verity zk build DIR).`,
        ],
      });
    const { model, manifest, folder, zk } = await readZkModelFolder(dir).catch((error: unknown) => {
      throw new ZkModelError(`Model ${modelId}: cannot read its model folder ${dir}.`, {
        details: error instanceof BaseError ? [error.shortMessage, ...error.details] : [],
        cause: error,
      });
    });
    if (manifest.modelHash !== entry.modelHash)
      throw new ZkModelError(`Model ${modelId}: the model folder ${dir} holds another model.`, {
        details: [`registered modelHash ${entry.modelHash}`, `vqm/manifest.json ${manifest.modelHash}`],
      });
    refuseDecoder(modelId, model, ZkModelError);
    const prover = await createProver({ zkDir: folder.zk });
    logger.info("zk model loaded", { modelId, dir, constraints: zk.constraints, publicSignals: zk.publicSignals });
    return { modelId, model, prover, dir };
  }

  return loadOnce(load, (zk) => zk.prover.close());
}

/**
 * The int8 tensor of a Zk request's input: the inline envelope `0x00 ‖ canonical tensor` (the
 * market checked it against the registered format at request time; the verifier adapter packs
 * the tensor after the kind byte, which `submitWithProof` passes it, into the public signals).
 */
export function zkInput(model: VqmModel, input: Uint8Array): Tensor {
  let envelope: InputEnvelope;
  try {
    envelope = decodeInputEnvelope(input);
  } catch (error) {
    throw new ZkInputError("A Zk model's input is not an inline canonical tensor.", {
      details: [
        "The request input must be 0x00 followed by the canonical int8 tensor bytes.",
        error instanceof BaseError ? error.shortMessage : String(error),
      ],
      cause: error,
      reason:
        failureReasonOf(error) === FailureReason.InputTooLarge
          ? FailureReason.InputTooLarge
          : FailureReason.InputUndecodable,
    });
  }
  if (envelope.kind !== "inline")
    throw new ZkInputError("A Zk model's input must be inline, not a content id.", {
      details: ["The proof binds the input bytes in calldata."],
      reason: FailureReason.InputUndecodable,
    });
  const tensor = envelope.tensor;
  if (tensor.dtype !== "int8" || tensor.shape.join(",") !== model.input.shape.join(","))
    throw new ZkInputError(`The input must be int8 [${model.input.shape.join(", ")}].`, {
      details: [`Got ${tensor.dtype} [${tensor.shape.join(", ")}].`],
      reason: FailureReason.InputShapeMismatch,
    });
  return tensor;
}
