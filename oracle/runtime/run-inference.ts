/**
 * Runs one canonical tensor through a single-input, single-output model, in an onnxruntime
 * session here or on a KServe v2 server (kserve-client.ts). The input is checked against the
 * model's declared input and, when given, the shape the registry holds for the model, before
 * the runtime sees it: a mismatch is the requester's fault and is reported on-chain
 * (FailureReason.InputShapeMismatch), not retried.
 */
import * as ort from "onnxruntime-node";
import { BaseError } from "../errors.ts";
import { FailureReason } from "../model/failure-reason.ts";
import { assertTensor, isDType, shapeToString } from "../model/tensor.ts";
import type { DType, Tensor, TensorData } from "../model/tensor.ts";
import type { ModelSession } from "./create-session.ts";
import type { RemoteModelSession } from "./kserve-client.ts";

/** Where a model runs: an onnxruntime session in this process, or a model on a KServe v2 server. */
export type InferenceSession = ModelSession | RemoteModelSession;

export type RunInferenceParameters = {
  /** The registered input shape; checked in addition to the model's own declaration. */
  expectedShape?: readonly number[] | undefined;
  /** The registered input dtype; the model's declared dtype is always checked. */
  expectedDType?: DType | undefined;
  /** Aborts a remote inference (an in-process run is not interrupted). */
  signal?: AbortSignal | undefined;
};

export type RunInferenceReturnType = Tensor;

export type RunInferenceErrorType = InputShapeError | UnsupportedModelError | InferenceError;

/** The input's dtype or shape is not what the model takes. */
export class InputShapeError extends BaseError {
  override name = "InputShapeError";
  readonly failureReason = FailureReason.InputShapeMismatch;
}

/** The model is not one we can run with one tensor in and one tensor out. */
export class UnsupportedModelError extends BaseError {
  override name = "UnsupportedModelError";
  readonly failureReason = FailureReason.ModelContentInvalid;
}

/** onnxruntime failed while running a checked input (not the input's fault as far as we know). */
export class InferenceError extends BaseError {
  override name = "InferenceError";
}

export async function runInference(
  session: InferenceSession,
  input: Tensor,
  { expectedShape, expectedDType, signal }: RunInferenceParameters = {},
): Promise<RunInferenceReturnType> {
  const [declaredInput, ...otherInputs] = session.inputs;
  const [declaredOutput, ...otherOutputs] = session.outputs;
  if (!declaredInput || !declaredOutput || otherInputs.length > 0 || otherOutputs.length > 0)
    throw new UnsupportedModelError("Model must have exactly one input and one output.", {
      details: [`It has ${session.inputs.length} inputs and ${session.outputs.length} outputs.`],
    });
  assertTensor(input);

  for (const [source, dtype] of [
    ["registered", expectedDType],
    ["model", declaredInput.dtype],
  ] as const) {
    if (dtype !== undefined && input.dtype !== dtype)
      throw new InputShapeError(`Input dtype does not match the ${source} input.`, {
        details: [`Expected ${dtype}, got ${input.dtype}.`],
      });
  }
  if (expectedShape !== undefined) checkShape(input.shape, expectedShape, "registered");
  checkShape(input.shape, declaredInput.shape, "model");
  if ("backend" in session) return session.infer(input, signal);

  let result: ort.InferenceSession.ReturnType;
  try {
    const feed = new ort.Tensor(input.dtype, input.data, [...input.shape]);
    result = await session.ort.run({ [declaredInput.name]: feed });
  } catch (error) {
    throw new InferenceError("onnxruntime failed to run the model.", {
      details: [error instanceof Error ? error.message : String(error)],
      cause: error,
    });
  }
  const output = result[declaredOutput.name];
  if (!output) throw new InferenceError(`Model produced no output "${declaredOutput.name}".`);
  return toTensor(output, declaredOutput.name);
}

/** Symbolic dims (strings) in `expected` accept any size. */
function checkShape(got: readonly number[], expected: readonly (number | string)[], source: string): void {
  const matches =
    got.length === expected.length && expected.every((dim, axis) => typeof dim === "string" || dim === got[axis]);
  if (!matches)
    throw new InputShapeError(`Input shape does not match the ${source} input.`, {
      details: [`Expected ${shapeToString(expected)}, got ${shapeToString(got)}.`],
    });
}

function toTensor(value: ort.OnnxValue, name: string): Tensor {
  const type = value.type;
  if (!isDType(type))
    throw new UnsupportedModelError(`Model output "${name}" has unsupported type ${type}.`, {
      details: ["Supported: int8, int32, float32, int64, uint8."],
    });
  const shape = [...value.dims];
  if (shape.length === 0)
    throw new UnsupportedModelError(`Model output "${name}" is a scalar (rank 0).`, {
      details: ["Canonical tensors have rank 1..8; reshape the output to [1]."],
    });
  // Copy: the returned tensor must not share memory with onnxruntime's output buffer.
  const data = (value.data as TensorData).slice();
  const tensor = { dtype: type, shape, data };
  try {
    assertTensor(tensor);
  } catch (error) {
    throw new UnsupportedModelError(`Model output "${name}" is not a canonical tensor.`, {
      details: [error instanceof BaseError ? error.shortMessage : String(error)],
      cause: error,
    });
  }
  return tensor;
}
