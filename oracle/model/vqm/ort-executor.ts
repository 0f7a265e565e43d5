/**
 * Runs a VQM model in onnxruntime through its emitted integer ONNX graph, optionally with every
 * layer's output (the "trace_<i>" graph outputs of `emitOnnx(model, { trace: true })`), and
 * returns the same shape of result as the reference executor.
 */
import * as ort from "onnxruntime-node";
import { createSession } from "../../runtime/create-session.ts";
import type { ModelSession } from "../../runtime/create-session.ts";
import type { Tensor, TensorData } from "../tensor.ts";
import { emitOnnx } from "./emit-onnx.ts";
import { VqmInputError } from "./reference-executor.ts";
import type { VqmModel } from "./vqm-model.ts";

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
};

export async function openVqmOrt({
  model,
  trace = false,
  onnx,
  threads,
}: OpenVqmOrtParameters): Promise<VqmOrtSession> {
  const bytes = trace || !onnx ? emitOnnx(model, { trace }) : onnx;
  const session = await createSession({ model: bytes, threads });
  return { model, trace, session, release: () => session.release() };
}

/** { output, trace } where trace is empty unless the session was opened with trace. */
export async function executeVqmOrt(vqm: VqmOrtSession, input: Tensor): Promise<{ output: Tensor; trace: Tensor[] }> {
  const shape = vqm.model.input.shape;
  if (input.dtype !== "int8" || input.shape.length !== shape.length || input.shape.some((d, k) => d !== shape[k]))
    throw new VqmInputError("VQM input must be int8 of the model's input shape.", {
      details: [`Expected int8 [${shape.join(", ")}], got ${input.dtype} [${input.shape.join(", ")}].`],
    });
  const result = await vqm.session.ort.run({
    input: new ort.Tensor("int8", input.data as Int8Array, [...input.shape]),
  });
  const tensorOf = (name: string): Tensor => {
    const value = result[name]!;
    return { dtype: value.type as Tensor["dtype"], shape: [...value.dims], data: (value.data as TensorData).slice() };
  };
  const trace = vqm.trace ? vqm.model.layers.map((_, index) => tensorOf(`trace_${index}`)) : [];
  return { output: tensorOf("output"), trace };
}
