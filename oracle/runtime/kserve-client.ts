/**
 * The daemon's side of a remote inference server speaking KServe v2 (the Open Inference
 * Protocol's REST API: Triton, KServe, `verity runtime serve`). A model is asked for by the name
 * its registered modelHash gives it (kserveModelName), and its metadata (one input, one output,
 * their datatypes and shapes) is checked against the registry before it serves anything: a
 * server that names other bytes, or declares other tensors, is refused. Every call has a
 * timeout. The server is not trusted more than the daemon itself: the provider is slashed for
 * what it submits, whatever computed it.
 */
import { BaseError, errorMessage } from "../errors.ts";
import { shapeToString, type DType, type Tensor } from "../model/tensor.ts";
import type { TensorFormat } from "../model/tensor-format.ts";
import type { ModelIO } from "./create-session.ts";
import {
  dtypeOfKserve,
  kserveDatatype,
  kserveTensorJson,
  parseExactJson,
  tensorFromKserve,
  type KserveTensorObject,
} from "./kserve-tensor.ts";

/** A model on a KServe v2 server, checked against its registration; `runInference` runs it. */
export type RemoteModelSession = {
  backend: "kserve";
  /** The model's name on the server (kserveModelName). */
  name: string;
  inputs: readonly ModelIO[];
  outputs: readonly ModelIO[];
  /** POST /v2/models/{name}/infer with one input; the output, checked against `outputs`. */
  infer(input: Tensor, signal?: AbortSignal): Promise<Tensor>;
  release(): Promise<void>;
};

export type KserveClientParameters = {
  /** The server's base URL (`http://host:8000`); paths /v2/... are appended. */
  url: string;
  /** The longest one HTTP call may take; ms. */
  timeoutMs: number;
};

export type OpenKserveModelParameters = {
  /** The registered modelHash (0x + 64 hex digits): it names the model on the server. */
  modelHash: string;
  /** The registered input and output formats, which the server's metadata must declare. */
  input: TensorFormat;
  output: TensorFormat;
};

export type KserveClient = {
  url: string;
  /** Throws KserveUnavailableError unless GET /v2/health/ready answers 200. */
  ready(signal?: AbortSignal): Promise<void>;
  /** The ready server's model for a registration; throws KserveModelMismatchError when it differs. */
  openModel(parameters: OpenKserveModelParameters, signal?: AbortSignal): Promise<RemoteModelSession>;
  /** What failed in the last call to the server and to each model, undefined once they succeed. */
  problem(): string | undefined;
};

export type KserveClientErrorType = KserveUnavailableError | KserveModelMismatchError | KserveInferenceError;

/**
 * The inference server failed us: down, mute, without the model, or with a wrong answer. None
 * is the request's fault, and the server may be fixed: the daemon keeps the request waiting
 * (released near its deadline when claimed), as for a set-up not ready.
 */
export class KserveError extends BaseError {
  override name = "KserveError";
}

/** The server is down, does not answer within the timeout, or is not ready. */
export class KserveUnavailableError extends KserveError {
  override name = "KserveUnavailableError";
}

/** The server has no model under the expected name, or declares other tensors than the registry. */
export class KserveModelMismatchError extends KserveError {
  override name = "KserveModelMismatchError";
}

/** The server refused or failed an inference, or answered with something that is not the declared output. */
export class KserveInferenceError extends KserveError {
  override name = "KserveInferenceError";
}

/** The name a model has on a KServe server: "verity-" and the first 16 hex digits of its modelHash. */
export function kserveModelName(modelHash: string): string {
  if (!/^0x[0-9a-fA-F]{64}$/.test(modelHash))
    throw new BaseError(`Not a modelHash: ${JSON.stringify(modelHash)}.`, {
      details: ["Expected 0x + 64 hex digits."],
    });
  return `verity-${modelHash.slice(2, 18).toLowerCase()}`;
}

type Answer = { status: number; body: unknown };

export function createKserveClient({ url, timeoutMs }: KserveClientParameters): KserveClient {
  const base = url.replace(/\/+$/, "");
  const problems = new Map<string, string>();

  async function call(method: "GET" | "POST", path: string, body?: string, signal?: AbortSignal): Promise<Answer> {
    const timeout = AbortSignal.timeout(timeoutMs);
    let response: Response;
    let text: string;
    try {
      response = await fetch(`${base}${path}`, {
        method,
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        ...(body === undefined ? {} : { body, headers: { "content-type": "application/json" } }),
      });
      text = await response.text();
    } catch (error) {
      if (signal?.aborted) throw error;
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
      throw new KserveUnavailableError(
        timeout.aborted
          ? `Inference server ${base} did not answer ${method} ${path} within ${timeoutMs} ms.`
          : `Inference server ${base} is unreachable (${method} ${path}): ${errorMessage(cause)}`,
        { details: ["Start it (verity runtime serve, or Triton) or fix runtime.kserve.url."], cause: error },
      );
    }
    let parsed: unknown;
    try {
      parsed = text === "" ? undefined : parseExactJson(text);
    } catch {
      parsed = text;
    }
    return { status: response.status, body: parsed };
  }

  /** Runs `work`, keeping its failure under `key` for problem() until the next success. */
  async function tracked<T>(key: string, work: () => Promise<T>): Promise<T> {
    try {
      const result = await work();
      problems.delete(key);
      if (key !== "server") problems.delete("server");
      return result;
    } catch (error) {
      problems.set(key, error instanceof BaseError ? error.shortMessage : errorMessage(error));
      throw error;
    }
  }

  const ready = (signal?: AbortSignal) =>
    tracked("server", async () => {
      const answer = await call("GET", "/v2/health/ready", undefined, signal);
      if (answer.status !== 200)
        throw new KserveUnavailableError(`Inference server ${base} is not ready (HTTP ${answer.status}).`, {
          details: [serverError(answer)],
        });
    });

  async function openModel(
    { modelHash, input, output }: OpenKserveModelParameters,
    signal?: AbortSignal,
  ): Promise<RemoteModelSession> {
    const name = kserveModelName(modelHash);
    return tracked(name, async () => {
      await ready(signal);
      const path = `/v2/models/${encodeURIComponent(name)}`;
      const answer = await call("GET", path, undefined, signal);
      if (answer.status === 404)
        throw new KserveModelMismatchError(`Inference server ${base} does not serve model ${name}.`, {
          details: [
            `A model is named "verity-" + the first 16 hex digits of its registered modelHash ${modelHash}.`,
            serverError(answer),
          ],
        });
      if (answer.status !== 200)
        throw new KserveUnavailableError(`Inference server ${base} answered HTTP ${answer.status} for ${path}.`, {
          details: [serverError(answer)],
        });
      const { inputs, outputs } = checkMetadata(name, answer.body, input, output);
      const declaredOutput = outputs[0]!;
      return {
        backend: "kserve",
        name,
        inputs,
        outputs,
        infer: (tensor, inferSignal) =>
          tracked(name, async () => {
            let body: string;
            try {
              body = `{"inputs":[${kserveTensorJson(inputs[0]!.name, tensor)}],"outputs":[${JSON.stringify({ name: declaredOutput.name })}]}`;
            } catch (error) {
              // NaN or ±Infinity: JSON has no form for them, but onnxruntime here would run them.
              throw new KserveInferenceError(`Model ${name}: the input cannot be sent as JSON.`, {
                details: [error instanceof BaseError ? error.shortMessage : String(error)],
                cause: error,
              });
            }
            const reply = await call("POST", `${path}/infer`, body, inferSignal);
            if (reply.status !== 200)
              throw new KserveInferenceError(`Inference server ${base} refused the inference (HTTP ${reply.status}).`, {
                details: [serverError(reply)],
              });
            return outputOf(name, reply.body, declaredOutput);
          }),
        release: async () => {},
      };
    });
  }

  return {
    url: base,
    ready,
    openModel,
    problem: () => (problems.size === 0 ? undefined : [...problems.values()].join("; ")),
  };
}

/** The server's `{ "error": ... }` text, or what it sent instead. */
function serverError({ body }: Answer): string {
  const error = (body as { error?: unknown } | undefined)?.error;
  return `server said: ${typeof error === "string" ? error : (JSON.stringify(body) ?? "(nothing)")}`;
}

type TensorMetadata = { name?: unknown; datatype?: unknown; shape?: unknown };

/** The metadata's one input and one output, refused unless they are the registered formats. */
function checkMetadata(
  name: string,
  body: unknown,
  input: TensorFormat,
  output: TensorFormat,
): { inputs: ModelIO[]; outputs: ModelIO[] } {
  const metadata = (body ?? {}) as { name?: unknown; inputs?: unknown; outputs?: unknown };
  const mismatch = (problem: string, details: string[] = []) =>
    new KserveModelMismatchError(`Model ${name} on the inference server ${problem}.`, { details });
  if (metadata.name !== name) throw mismatch(`answers as ${JSON.stringify(metadata.name)}`);
  if (!Array.isArray(metadata.inputs) || !Array.isArray(metadata.outputs))
    throw mismatch("has metadata without inputs and outputs");
  if (metadata.inputs.length !== 1 || metadata.outputs.length !== 1)
    throw mismatch(`has ${metadata.inputs.length} inputs and ${metadata.outputs.length} outputs, not one of each`);
  const side = (role: "input" | "output", declared: TensorMetadata, registered: TensorFormat): ModelIO => {
    const dtype = dtypeOfKserve(declared.datatype);
    const shape = Array.isArray(declared.shape) ? (declared.shape as unknown[]) : [];
    const fits =
      typeof declared.name === "string" &&
      dtype === registered.dtype &&
      shape.length === registered.shape.length &&
      shape.every((dim, axis) => dim === -1 || dim === registered.shape[axis]);
    if (!fits)
      throw mismatch(`does not take the registered ${role}`, [
        `server     ${String(declared.name)}: ${String(declared.datatype)} ${JSON.stringify(declared.shape)}`,
        `registered ${kserveDatatype(registered.dtype)} ${shapeToString(registered.shape)}`,
      ]);
    // -1 is a dynamic dim: the registered size is what runInference checks the input against.
    return { name: declared.name as string, dtype: dtype as DType, shape: [...registered.shape] };
  };
  return {
    inputs: [side("input", metadata.inputs[0] as TensorMetadata, input)],
    outputs: [side("output", metadata.outputs[0] as TensorMetadata, output)],
  };
}

/** The declared output of an inference response, exact, or KserveInferenceError. */
function outputOf(name: string, body: unknown, declared: ModelIO): Tensor {
  const outputs = (body as { outputs?: unknown } | undefined)?.outputs;
  const found = Array.isArray(outputs)
    ? (outputs as KserveTensorObject[]).find((candidate) => candidate?.name === declared.name)
    : undefined;
  if (!found) throw new KserveInferenceError(`Model ${name} answered without its output "${declared.name}".`);
  try {
    const tensor = tensorFromKserve(found, declared.dtype);
    if (shapeToString(tensor.shape) !== shapeToString(declared.shape))
      throw new BaseError(`Shape ${shapeToString(tensor.shape)}, declared ${shapeToString(declared.shape)}.`);
    return tensor;
  } catch (error) {
    throw new KserveInferenceError(`Model ${name} answered with an output that is not its declared one.`, {
      details: [error instanceof BaseError ? error.shortMessage : String(error)],
      cause: error,
    });
  }
}
