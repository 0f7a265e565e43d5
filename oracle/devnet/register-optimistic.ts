/**
 * Registers a VQM model as an Optimistic model, deriving everything the registry checks from the
 * model itself (shapes, output dtype, weights and layout roots), and returns what both sides of
 * an in-process game need of it afterwards: its layer specs and weights blob. For gas
 * benchmarks and tests, where models are generated rather than published.
 */
import { keccak256, toUtf8Bytes } from "ethers";
import type { ModelRegistry } from "../chain/connect.ts";
import { registerModel } from "../chain/register-model.ts";
import { layerSpecs, layoutRoot, type LayerSpec } from "../dispute/layout.ts";
import { stepSource, type StepSource } from "../dispute/moves.ts";
import { weightsBlob, weightsRoot } from "../model/vqm/commitments.ts";
import { layerShapes } from "../model/vqm/layer-shapes.ts";
import type { VqmModel } from "../model/vqm/vqm-model.ts";

export type RegisterOptimisticParameters = {
  model: VqmModel;
  price: bigint;
  /** Seconds a result stays open to challenge. */
  window: number;
  /** Hashed into the model hash; default the model's name (a model registered twice needs another). */
  name?: string | undefined;
  /** The model's real hash (`keccak256` of its ONNX bytes), for a model a daemon will fetch and check. */
  modelHash?: string | undefined;
  /** Default `bafy-<name>`. */
  contentId?: string | undefined;
  /** Default 0. */
  royaltyBps?: number | undefined;
};

export type RegisteredModel = {
  modelId: bigint;
  model: VqmModel;
  specs: LayerSpec[];
  /** The weights blob, as steps read it. */
  blob: StepSource;
};

/**
 * Registers `model` through `registry` (connected as its owner); int8 input, int8 output or int32
 * after argmax. A decoder (`model.sequence`) takes int32 `[1, promptLength]` prompt ids and gives
 * int32 `[1, newTokens]` generated ids; its layers (and layout) are those of one pass.
 */
export async function registerOptimistic(
  registry: ModelRegistry,
  {
    model,
    price,
    window,
    name = model.name,
    modelHash = keccak256(toUtf8Bytes(name)),
    contentId = `bafy-${name}`,
    royaltyBps = 0,
  }: RegisterOptimisticParameters,
): Promise<RegisteredModel> {
  const specs = layerSpecs(model);
  const shapes = layerShapes(model);
  const blob = weightsBlob(model);
  const sequence = model.sequence;
  const modelId = await registerModel(registry, {
    modelHash,
    contentId,
    price,
    royaltyBps,
    inputShape: sequence ? [1, sequence.promptLength] : model.input.shape,
    outputShape: sequence ? [1, sequence.newTokens] : shapes[shapes.length - 1]!,
    inputDtype: sequence ? "int32" : "int8",
    outputDtype: sequence || model.layers[model.layers.length - 1]!.kind === "argmax" ? "int32" : "int8",
    verification: {
      mode: "optimistic",
      // The registry refuses a zero root: a model without weights commits to a placeholder.
      weightsRoot: blob.length > 0 ? weightsRoot(model) : keccak256(toUtf8Bytes("no weights")),
      layoutRoot: layoutRoot(specs),
      layerCount: specs.length,
      challengeWindow: window,
    },
  });
  return { modelId, model, specs, blob: stepSource(blob) };
}
