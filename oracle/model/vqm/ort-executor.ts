/**
 * Runs a VQM model in onnxruntime through its emitted integer ONNX graph, optionally with every
 * layer's output (the "trace_<i>" graph outputs of `emitOnnx(model, { trace: true })`), and
 * returns the same shape of result as the reference executor.
 *
 * A decoder's graph is one forward pass (emit-onnx.ts, "Sequence layers"); `generateVqmOrt`
 * runs the passes of a generation as `generateVqm` (sequence-executor.ts) defines them, keeping
 * a KV cache per key/value layer: row u of cache k is layer k's output at pass u, appended from
 * the pass's "kv_<k>" output. Rows beyond the current pass are ignored by the graph, so the
 * cache is filled in place and never cleared.
 */
import * as ort from "onnxruntime-node";
import { createSession } from "../../runtime/create-session.ts";
import type { ExecutionProvider, ModelSession } from "../../runtime/create-session.ts";
import { shapeToString } from "../tensor.ts";
import type { Tensor, TensorData } from "../tensor.ts";
import {
  cacheInputName,
  cacheOutputName,
  cachedLayers,
  emitOnnx,
  positionInputName,
  tokenInputName,
} from "./emit-onnx.ts";
import { VqmInputError } from "./reference-executor.ts";
import { readPrompt } from "./sequence-executor.ts";
import type { GenerateVqmReturnType } from "./sequence-executor.ts";
import { validateVqm } from "./validate-vqm.ts";
import type { SequenceSpec, VqmModel } from "./vqm-model.ts";

export type VqmOrtSession = {
  model: VqmModel;
  trace: boolean;
  session: ModelSession;
  release(): Promise<void>;
};

export type OpenVqmOrtParameters = {
  model: VqmModel;
  /** Emit and return every layer's output; defaults to false. */
  trace?: boolean | undefined;
  /** The ONNX bytes to load instead of emitting them (e.g. a folder's model.onnx, no trace). */
  onnx?: Uint8Array | undefined;
  threads?: number | undefined;
  /** Defaults to "cpu"; the graph is integer, so createSession keeps it on the CPU anyway (integer-graph.ts). */
  executionProvider?: ExecutionProvider | undefined;
};

export async function openVqmOrt({
  model,
  trace = false,
  onnx,
  threads,
  executionProvider,
}: OpenVqmOrtParameters): Promise<VqmOrtSession> {
  const bytes = trace || !onnx ? emitOnnx(model, { trace }) : onnx;
  const session = await createSession({ model: bytes, threads, executionProvider });
  return { model, trace, session, release: () => session.release() };
}

/** { output, trace } where trace is empty unless the session was opened with trace. */
export async function executeVqmOrt(vqm: VqmOrtSession, input: Tensor): Promise<{ output: Tensor; trace: Tensor[] }> {
  if (vqm.model.sequence !== undefined)
    throw new VqmInputError(`VQM model "${vqm.model.name}" is a decoder: run it with generateVqmOrt.`);
  const shape = vqm.model.input.shape;
  if (input.dtype !== "int8" || input.shape.length !== shape.length || input.shape.some((d, k) => d !== shape[k]))
    throw new VqmInputError("VQM input must be int8 of the model's input shape.", {
      details: [`Expected int8 [${shape.join(", ")}], got ${input.dtype} [${input.shape.join(", ")}].`],
    });
  const result = await vqm.session.ort.run({
    input: new ort.Tensor("int8", input.data as Int8Array, [...input.shape]),
  });
  const trace = vqm.trace ? vqm.model.layers.map((_, index) => tensorOf(result, `trace_${index}`)) : [];
  return { output: tensorOf(result, "output"), trace };
}

/**
 * Generation with onnxruntime: the same `output` and `tokens` as `generateVqm`, and `passes`
 * (every layer's output at every pass) when the session was opened with trace, else `[]`.
 */
export async function generateVqmOrt(vqm: VqmOrtSession, input: Tensor): Promise<GenerateVqmReturnType> {
  const { model } = vqm;
  const sequence = model.sequence;
  if (sequence === undefined)
    throw new VqmInputError(`VQM model "${model.name}" is not a decoder: run it with executeVqmOrt.`);
  checkPrompt(sequence, input);
  const shapes = validateVqm(model);
  const { contextLength } = sequence;
  const caches = cachedLayers(model).map((layer) => {
    const width = shapes[layer]![1]!;
    return { layer, width, rows: new Int8Array(contextLength * width) };
  });
  const tokens = readPrompt(sequence, input.data as Int32Array);
  const promptLength = tokens.length;
  const passes: Tensor[][] = [];
  for (let t = 0; t <= promptLength + sequence.newTokens - 2; t++) {
    const feeds: Record<string, ort.Tensor> = {
      [tokenInputName]: new ort.Tensor("int64", BigInt64Array.of(BigInt(tokens[t]!)), [1]),
      [positionInputName]: new ort.Tensor("int64", BigInt64Array.of(BigInt(t)), [1]),
    };
    for (const { layer, width, rows } of caches)
      feeds[cacheInputName(layer)] = new ort.Tensor("int8", rows, [1, contextLength, width]);
    const result = await vqm.session.ort.run(feeds);
    // Row t of each cache is this pass's key/value output; rows > t stay stale, which the graph ignores.
    for (const { layer, width, rows } of caches) rows.set(result[cacheOutputName(layer)]!.data as Int8Array, t * width);
    if (vqm.trace) passes.push(model.layers.map((_, index) => tensorOf(result, `trace_${index}`)));
    if (t >= promptLength - 1) tokens.push(nextToken(result.output!, sequence));
  }
  return {
    output: { dtype: "int32", shape: [1, sequence.newTokens], data: Int32Array.from(tokens.slice(promptLength)) },
    tokens,
    passes,
  };
}

function tensorOf(result: ort.InferenceSession.OnnxValueMapType, name: string): Tensor {
  const value = result[name]!;
  return { dtype: value.type as Tensor["dtype"], shape: [...value.dims], data: (value.data as TensorData).slice() };
}

/** The argmax of an honest pass is a token id < V; read it as the reference does. */
function nextToken(argmax: ort.Tensor, sequence: SequenceSpec): number {
  const id = (argmax.data as Int32Array)[0]!;
  return Math.min(Math.max(id, 0), sequence.vocabSize - 1);
}

function checkPrompt(sequence: SequenceSpec, input: Tensor): void {
  const expected = [1, sequence.promptLength];
  if (input.dtype !== "int32" || shapeToString(input.shape) !== shapeToString(expected))
    throw new VqmInputError("Decoder input must be int32 token ids of shape [1, promptLength].", {
      details: [`Expected int32 ${shapeToString(expected)}, got ${input.dtype} ${shapeToString(input.shape)}.`],
    });
}
