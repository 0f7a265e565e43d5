/**
 * A built VQM model folder: `model.onnx` (the emitted integer graph, without trace outputs) and
 * `manifest.json` (format "vqm/1", input and output, labels, modelHash = keccak256(model.onnx),
 * weightsRoot, parameter count and the per-layer layout: kind, inputs, shapes, where the
 * parameters sit in the weights blob, requantisation parameters).
 *
 * `readVqm` rebuilds the VqmModel from the manifest and the ONNX initializers, then demands
 * that emitting it again gives model.onnx byte for byte and that the hashes match, so a folder
 * that reads back is exactly the model its modelHash names.
 *
 * A decoder's folder is the same, with `sequence` in the manifest; its `input` and `output` are
 * the request and result of a generation (int32 `[1, promptLength]` and `[1, newTokens]`), its
 * model.onnx one forward pass (emit-onnx.ts). Tables (embed, lut, softmax exp) and normalize's
 * gamma and beta are ONNX initializers; epsilon (a decimal string, as JSON has no 64-bit
 * integers), the qk/av multiplier and shift and normalize's requantisation are in the manifest.
 * A decoder may hold its tokenizer, `tokenizer.json` (oracle/model/text/tokenizer.ts), bound by
 * the manifest's `tokenizerHash`: `readVqm` refuses a file that does not match it, and one the
 * manifest does not name.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { keccak256 } from "ethers";
import { BaseError } from "../../errors.ts";
import { readTokenizerBytes, tokenizerBytes, tokenizerFile, tokenizerHash } from "../text/tokenizer.ts";
import type { Tokenizer } from "../text/tokenizer.ts";
import { readOnnx } from "../onnx/read-onnx.ts";
import type { Tensor } from "../tensor.ts";
import { weightsLayout, weightsRoot } from "./commitments.ts";
import type { LayerWeightsLayout, SequenceLayerLayout } from "./commitments.ts";
import {
  betaName,
  biasName,
  emitOnnx,
  expName,
  gammaName,
  tableName,
  uint8ZeroPoint,
  weightName,
} from "./emit-onnx.ts";
import { layerInputs } from "./layer-shapes.ts";
import { validateVqm } from "./validate-vqm.ts";
import type { Activation, SequenceSpec, VqmLayer, VqmModel } from "./vqm-model.ts";

export const manifestFile = "manifest.json";
export const onnxFile = "model.onnx";

/** One layer as the manifest describes it: its attributes without the parameter arrays. */
export type ManifestLayer = {
  index: number;
  kind: VqmLayer["kind"];
  inputs: number[];
  inputShapes: number[][];
  outputShape: number[];
  /** Layer attributes (features, channels, kernel, stride, padding, shape, add multipliers...). */
  attributes: Record<string, unknown>;
  /** dense/conv2d/normalize: per-channel requantisation. */
  requant?: { multiplier: number[]; shift: number[]; activation: Activation };
  /** Where the layer's parameters sit in the weights blob (dense, conv2d, add and the parameterised sequence layers). */
  parameters?: LayerWeightsLayout | SequenceLayerLayout;
};

export type VqmManifest = {
  format: "vqm/1";
  name: string;
  /** A classifier's int8 input; a decoder's int32 `[1, promptLength]` token ids (scale 1). */
  input: { shape: number[]; scale: number; dtype: "int8" | "int32" };
  output: { shape: number[]; dtype: "int8" | "int32"; scale?: number };
  labels?: string[];
  /** keccak256 of model.onnx. */
  modelHash: string;
  /** Merkle root of the weights blob (docs/numeric-semantics.md#commitments). */
  weightsRoot: string;
  /** Bytes of the weights blob. */
  weightsBytes: number;
  /** Weights and biases of the dense and conv2d layers, embedding tables, normalize gamma and beta. */
  parameterCount: number;
  /** Present for a decoder: context, vocabulary, prompt and generation lengths, bos. */
  sequence?: SequenceSpec;
  /** keccak256 of `tokenizer.json`, when the folder holds one (a decoder's vocabulary). */
  tokenizerHash?: string;
  layers: ManifestLayer[];
};

export type ReadVqmReturnType = {
  model: VqmModel;
  onnx: Uint8Array;
  manifest: VqmManifest;
  /** The folder's tokenizer.json, checked against the manifest's tokenizerHash. */
  tokenizer?: Tokenizer | undefined;
};

export type WriteVqmOptions = {
  /** Written as tokenizer.json and bound by the manifest's tokenizerHash. */
  tokenizer?: Tokenizer | undefined;
};

export class VqmFilesError extends BaseError {
  override name = "VqmFilesError";
}

/** The manifest of `model` whose emitted ONNX bytes are `onnx`. */
export function vqmManifest(model: VqmModel, onnx: Uint8Array): VqmManifest {
  const shapes = validateVqm(model);
  const layout = weightsLayout(model);
  const last = model.layers.length - 1;
  const shapeOf = (ref: number) => (ref === -1 ? model.input.shape : shapes[ref]!);
  let parameterCount = 0;
  const layers = model.layers.map((layer, index): ManifestLayer => {
    const entry: ManifestLayer = {
      index,
      kind: layer.kind,
      inputs: layerInputs(layer),
      inputShapes: layerInputs(layer).map((ref) => [...shapeOf(ref)]),
      outputShape: shapes[index]!,
      attributes: attributesOf(layer),
    };
    if (layer.kind === "embed") parameterCount += layer.table.length;
    if (layer.kind === "normalize") parameterCount += layer.gamma.length + layer.beta.length;
    if (layer.kind === "dense" || layer.kind === "conv2d" || layer.kind === "normalize") {
      if (layer.kind !== "normalize") parameterCount += layer.weights.length + layer.bias.length;
      entry.requant = {
        multiplier: Array.from(layer.requant.multiplier),
        shift: Array.from(layer.requant.shift),
        activation: layer.requant.activation,
      };
    }
    const parameters = layout.byLayer[index] ?? layout.sequenceByLayer[index];
    if (parameters) entry.parameters = parameters;
    return entry;
  });
  const sequence = model.sequence;
  return {
    format: "vqm/1",
    name: model.name,
    input: sequence
      ? { shape: [1, sequence.promptLength], scale: 1, dtype: "int32" }
      : { shape: [...model.input.shape], scale: model.input.scale, dtype: "int8" },
    output: {
      shape: sequence ? [1, sequence.newTokens] : shapes[last]!,
      dtype: model.layers[last]!.kind === "argmax" ? "int32" : "int8",
      ...(model.outputScale !== undefined ? { scale: model.outputScale } : {}),
    },
    ...(model.labels ? { labels: [...model.labels] } : {}),
    ...(sequence ? { sequence: { ...sequence } } : {}),
    modelHash: keccak256(onnx),
    weightsRoot: weightsRoot(model),
    weightsBytes: layout.length,
    parameterCount,
    layers,
  };
}

export async function writeVqm(dir: string, model: VqmModel, options: WriteVqmOptions = {}): Promise<VqmManifest> {
  const onnx = emitOnnx(model);
  const manifest = vqmManifest(model, onnx);
  await mkdir(dir, { recursive: true });
  if (options.tokenizer) {
    checkTokenizer(model, options.tokenizer, tokenizerFile);
    const bytes = tokenizerBytes(options.tokenizer);
    manifest.tokenizerHash = tokenizerHash(bytes);
    await writeFile(join(dir, tokenizerFile), bytes);
  }
  await writeFile(join(dir, onnxFile), onnx);
  await writeFile(join(dir, manifestFile), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

export async function readVqm(dir: string): Promise<ReadVqmReturnType> {
  let manifest: VqmManifest;
  let onnx: Uint8Array;
  try {
    manifest = JSON.parse(await readFile(join(dir, manifestFile), "utf8")) as VqmManifest;
    onnx = new Uint8Array(await readFile(join(dir, onnxFile)));
  } catch (error) {
    throw new VqmFilesError(`Cannot read the VQM folder ${dir}.`, {
      details: [`It needs ${manifestFile} and ${onnxFile}.`, error instanceof Error ? error.message : String(error)],
      cause: error,
    });
  }
  if (manifest.format !== "vqm/1")
    throw new VqmFilesError(`${join(dir, manifestFile)} is not a VQM manifest.`, {
      details: [`Expected format "vqm/1", got ${JSON.stringify(manifest.format)}.`],
    });
  const modelHash = keccak256(onnx);
  if (modelHash !== manifest.modelHash)
    throw new VqmFilesError(`${onnxFile} does not match the manifest's modelHash.`, {
      details: [`manifest ${manifest.modelHash}`, `file     ${modelHash}`],
    });
  const model = modelFromFiles(manifest, onnx);
  const emitted = emitOnnx(model);
  if (keccak256(emitted) !== modelHash)
    throw new VqmFilesError(`${onnxFile} is not the canonical ONNX of the model its manifest describes.`, {
      details: ["Rebuilt from the manifest and the ONNX weights, the model emits different bytes."],
    });
  const root = weightsRoot(model);
  if (root !== manifest.weightsRoot)
    throw new VqmFilesError("The manifest's weightsRoot does not match the model's weights.", {
      details: [`manifest ${manifest.weightsRoot}`, `weights  ${root}`],
    });
  const tokenizer = await readBoundTokenizer(dir, manifest);
  if (tokenizer) checkTokenizer(model, tokenizer, join(dir, tokenizerFile));
  return { model, onnx, manifest, ...(tokenizer ? { tokenizer } : {}) };
}

/** DIR/tokenizer.json when the manifest names its hash; a file the manifest does not bind is refused. */
async function readBoundTokenizer(dir: string, manifest: VqmManifest): Promise<Tokenizer | undefined> {
  const file = join(dir, tokenizerFile);
  let bytes: Uint8Array | undefined;
  try {
    bytes = new Uint8Array(await readFile(file));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  if (manifest.tokenizerHash === undefined) {
    if (bytes === undefined) return undefined;
    throw new VqmFilesError(`${file} is not bound by the manifest: it has no tokenizerHash.`, {
      details: [`Write the folder with writeVqm(dir, model, { tokenizer }), or remove ${tokenizerFile}.`],
    });
  }
  if (bytes === undefined)
    throw new VqmFilesError(`The manifest names a tokenizer (tokenizerHash) but ${file} is missing.`, {
      details: ["Copy the model folder whole: its tokenizer.json travels with vqm/manifest.json."],
    });
  const hash = tokenizerHash(bytes);
  if (hash !== manifest.tokenizerHash)
    throw new VqmFilesError(`${tokenizerFile} does not match the manifest's tokenizerHash.`, {
      details: [`manifest ${manifest.tokenizerHash}`, `file     ${hash}`],
    });
  return readTokenizerBytes(bytes, file);
}

/** A decoder's tokenizer has one token per id of its vocabulary. */
function checkTokenizer(model: VqmModel, tokenizer: Tokenizer, source: string): void {
  const vocabSize = model.sequence?.vocabSize;
  if (vocabSize !== undefined && tokenizer.tokens.length !== vocabSize)
    throw new VqmFilesError(
      `${source} has ${tokenizer.tokens.length} tokens; the decoder's vocabulary has ${vocabSize}.`,
      {
        details: ["Give the tokenizer the model was trained with: one token per id 0 … vocabSize − 1."],
      },
    );
}

/** The VqmModel from a manifest and the weights and biases stored as ONNX initializers. */
export function modelFromFiles(manifest: VqmManifest, onnx: Uint8Array): VqmModel {
  const initializers = new Map(readOnnx(onnx).graph.initializers.map(({ name, tensor }) => [name, tensor]));
  const initializer = (name: string, dtype: Tensor["dtype"]): Tensor => {
    const tensor = initializers.get(name);
    if (!tensor || tensor.dtype !== dtype)
      throw new VqmFilesError(`${onnxFile} has no ${dtype} initializer "${name}".`, {
        details: ["The file was not emitted from this manifest's model."],
      });
    return tensor;
  };
  const int8Initializer = (name: string) => Int8Array.from(initializer(name, "int8").data as Int8Array);
  const layers = manifest.layers.map((entry, index): VqmLayer => {
    const attributes = entry.attributes;
    switch (entry.kind) {
      case "dense":
      case "conv2d": {
        if (!entry.requant) throw new VqmFilesError(`Manifest layer ${index} (${entry.kind}) has no requant.`);
        const stored = initializer(weightName(index), "uint8");
        const weights =
          entry.kind === "dense"
            ? untranspose(stored, attributes.inFeatures as number, attributes.outFeatures as number)
            : Int8Array.from(stored.data as Uint8Array, (u) => u - uint8ZeroPoint);
        return {
          kind: entry.kind,
          input: entry.inputs[0]!,
          ...attributes,
          weights,
          bias: Int32Array.from(initializer(biasName(index), "int32").data as Int32Array),
          requant: {
            multiplier: Int32Array.from(entry.requant.multiplier),
            shift: Uint8Array.from(entry.requant.shift),
            activation: entry.requant.activation,
          },
        } as VqmLayer;
      }
      case "add":
        return { kind: "add", inputs: [entry.inputs[0]!, entry.inputs[1]!], ...attributes } as VqmLayer;
      case "embed":
        return { kind: "embed", ...attributes, table: int8Initializer(tableName(index)) } as VqmLayer;
      case "lut":
        return { kind: "lut", input: entry.inputs[0]!, table: int8Initializer(tableName(index)) };
      case "normalize": {
        if (!entry.requant) throw new VqmFilesError(`Manifest layer ${index} (normalize) has no requant.`);
        return {
          kind: "normalize",
          input: entry.inputs[0]!,
          gamma: int8Initializer(gammaName(index)),
          beta: Int32Array.from(initializer(betaName(index), "int32").data as Int32Array),
          epsilon: bigintAttribute(attributes.epsilon, index),
          requant: {
            multiplier: Int32Array.from(entry.requant.multiplier),
            shift: Uint8Array.from(entry.requant.shift),
            activation: entry.requant.activation,
          },
        };
      }
      case "qk":
        return { kind: "qk", query: entry.inputs[0]!, key: entry.inputs[1]!, ...attributes } as VqmLayer;
      case "av":
        return { kind: "av", probs: entry.inputs[0]!, value: entry.inputs[1]!, ...attributes } as VqmLayer;
      case "softmax":
        return {
          kind: "softmax",
          input: entry.inputs[0]!,
          rowmax: entry.inputs[1]!,
          exp: uint32Table(initializer(expName(index), "int64"), index),
        };
      default:
        return { kind: entry.kind, input: entry.inputs[0]!, ...attributes } as VqmLayer;
    }
  });
  return {
    format: "vqm/1",
    name: manifest.name,
    // A decoder's model input is unused and always [1, 1], scale 1 (validation requires it).
    input: manifest.sequence
      ? { shape: [1, 1], scale: 1 }
      : { shape: [...manifest.input.shape], scale: manifest.input.scale },
    layers,
    ...(manifest.output.scale !== undefined ? { outputScale: manifest.output.scale } : {}),
    ...(manifest.labels ? { labels: [...manifest.labels] } : {}),
    ...(manifest.sequence ? { sequence: { ...manifest.sequence } } : {}),
  };
}

/**
 * The layer's plain fields: everything but kind, the refs it reads (the manifest's `inputs`, in
 * `layerInputs` order) and the parameter arrays (ONNX initializers or the manifest's `requant`).
 * A bigint (normalize's epsilon) is written as a decimal string.
 */
function attributesOf(layer: VqmLayer): Record<string, unknown> {
  const attributes: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(layer))
    if (!notAttributes.has(key))
      attributes[key] = typeof value === "bigint" ? value.toString() : Array.isArray(value) ? [...value] : value;
  return attributes;
}

const notAttributes = new Set([
  "kind",
  "input",
  "inputs",
  "query",
  "key",
  "probs",
  "value",
  "rowmax",
  "weights",
  "bias",
  "requant",
  "table",
  "gamma",
  "beta",
  "exp",
]);

function bigintAttribute(value: unknown, index: number): bigint {
  if (typeof value !== "string" || !/^[0-9]+$/.test(value))
    throw new VqmFilesError(`Manifest layer ${index} (normalize) has no decimal epsilon.`, {
      details: [`Got ${JSON.stringify(value)}.`],
    });
  return BigInt(value);
}

/** The softmax exp table, stored as int64 for the graph's Gather, back as uint32. */
function uint32Table(stored: Tensor, index: number): Uint32Array {
  const values = stored.data as BigInt64Array;
  if (values.length !== 256 || values.some((v) => v < 0n || v > 0xffffffffn))
    throw new VqmFilesError(`Layer ${index}'s exp table is not 256 uint32 entries.`);
  return Uint32Array.from(values, Number);
}

/** W[j][i] = WT[i][j] − 128 from the uint8 [in][out] MatMulInteger operand. */
function untranspose(stored: Tensor, inFeatures: number, outFeatures: number): Int8Array {
  const source = stored.data as Uint8Array;
  if (source.length !== inFeatures * outFeatures)
    throw new VqmFilesError(`Dense weights hold ${source.length} values, expected ${inFeatures} × ${outFeatures}.`);
  const weights = new Int8Array(source.length);
  for (let i = 0; i < inFeatures; i++)
    for (let j = 0; j < outFeatures; j++) weights[j * inFeatures + i] = source[i * outFeatures + j]! - uint8ZeroPoint;
  return weights;
}
