/**
 * Opens an onnxruntime session for model bytes on the requested execution provider. CUDA is
 * only there when its libraries were installed next to onnxruntime-node (our install skips
 * them), so a CUDA request that fails falls back to the CPU provider, says so through
 * `onFallback`, and records the provider actually used in `session.provider`. An integer (VQM)
 * graph always runs on the CPU provider (integer-graph.ts says why), also said through `onFallback`.
 */
import * as ort from "onnxruntime-node";
import { BaseError } from "../errors.ts";
import { FailureReason } from "../model/failure-reason.ts";
import { isDType } from "../model/tensor.ts";
import type { DType } from "../model/tensor.ts";
import { integerGraphPinnedReason, isIntegerGraph } from "./integer-graph.ts";

export type ExecutionProvider = "cpu" | "cuda";

export type CreateSessionParameters = {
  /** ONNX model bytes. */
  model: Uint8Array;
  /** Defaults to "cpu". */
  executionProvider?: ExecutionProvider | undefined;
  /** Intra-op threads; defaults to onnxruntime's choice (one per core). */
  threads?: number | undefined;
  /** Called with the reason when the requested provider cannot be used and CPU is used instead. */
  onFallback?: ((reason: string) => void) | undefined;
  /**
   * Defaults to "all". Integer graphs give the same bits at every level; float graphs may
   * differ in the last bits between levels, so pin it when comparing float results.
   */
  graphOptimizationLevel?: "disabled" | "basic" | "extended" | "all" | undefined;
  /**
   * Log at onnxruntime's verbose level to stderr, which then prints where each node is placed
   * (read by the placement probe, probe-placement.ts). Defaults to false.
   */
  verbose?: boolean | undefined;
  /** Where onnxruntime writes the graph as optimized for this session (the nodes it places). */
  optimizedModelFile?: string | undefined;
};

/** A declared model input or output; string dims are symbolic (any size). */
export type ModelIO = { name: string; dtype: DType; shape: readonly (number | string)[] };

export type ModelSession = {
  /** The provider actually in use. */
  provider: ExecutionProvider;
  inputs: readonly ModelIO[];
  outputs: readonly ModelIO[];
  /** The underlying onnxruntime session. */
  ort: ort.InferenceSession;
  release(): Promise<void>;
};

export type CreateSessionErrorType = ModelLoadError | SessionParameterError;

/** The model bytes do not load, or declare inputs/outputs we cannot exchange as tensors. */
export class ModelLoadError extends BaseError {
  override name = "ModelLoadError";
  readonly failureReason = FailureReason.ModelContentInvalid;
}

export class SessionParameterError extends BaseError {
  override name = "SessionParameterError";
}

export async function createSession({
  model,
  executionProvider = "cpu",
  threads,
  onFallback,
  graphOptimizationLevel = "all",
  verbose = false,
  optimizedModelFile,
}: CreateSessionParameters): Promise<ModelSession> {
  if (!(model instanceof Uint8Array) || model.length === 0)
    throw new SessionParameterError("Model bytes must be a non-empty Uint8Array.");
  if (executionProvider !== "cpu" && executionProvider !== "cuda")
    throw new SessionParameterError(`Unknown execution provider "${String(executionProvider)}".`, {
      details: ['Use "cpu" or "cuda".'],
    });
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1))
    throw new SessionParameterError(`Thread count must be a positive integer, got ${threads}.`);

  const options: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel,
    ...(threads !== undefined ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {}),
    ...(verbose ? { logSeverityLevel: 0, logVerbosityLevel: 0 } : {}),
    ...(optimizedModelFile !== undefined ? { optimizedModelFilePath: optimizedModelFile } : {}),
  };
  let session: ort.InferenceSession | undefined;
  let provider: ExecutionProvider = "cpu";
  const pinned = executionProvider === "cuda" && isIntegerGraph(model);
  if (pinned) onFallback?.(integerGraphPinnedReason);
  if (executionProvider === "cuda" && !pinned) {
    try {
      // Severity 4 (fatal only) unless verbose: the failed CUDA load is reported through onFallback instead.
      session = await ort.InferenceSession.create(model, {
        ...options,
        executionProviders: ["cuda"],
        logSeverityLevel: verbose ? 0 : 4,
      });
      provider = "cuda";
    } catch (error) {
      onFallback?.(`CUDA provider unavailable: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  try {
    session ??= await ort.InferenceSession.create(model, { ...options, executionProviders: ["cpu"] });
  } catch (error) {
    throw new ModelLoadError("Model bytes do not load in onnxruntime.", {
      details: [error instanceof Error ? error.message : String(error)],
      cause: error,
    });
  }
  const ortSession = session;
  try {
    return {
      provider,
      inputs: ortSession.inputMetadata.map((meta) => modelIO(meta, "input")),
      outputs: ortSession.outputMetadata.map((meta) => modelIO(meta, "output")),
      ort: ortSession,
      release: () => ortSession.release(),
    };
  } catch (error) {
    await ortSession.release();
    throw error;
  }
}

function modelIO(meta: ort.InferenceSession.ValueMetadata, role: string): ModelIO {
  if (!meta.isTensor) throw new ModelLoadError(`Model ${role} "${meta.name}" is not a tensor.`);
  if (!isDType(meta.type))
    throw new ModelLoadError(`Model ${role} "${meta.name}" has unsupported type ${meta.type}.`, {
      details: ["Supported: int8, int32, float32, int64, uint8."],
    });
  return { name: meta.name, dtype: meta.type, shape: [...meta.shape] };
}
