/**
 * A small KServe v2 (Open Inference Protocol REST) server over onnxruntime: what `verity runtime
 * serve` runs, on a GPU machine say, for daemons with `runtime.backend: "kserve"`. Each model is
 * named by the keccak of its bytes (kserveModelName: the name the daemon asks for), opened the
 * daemon's way (createSession: integer VQM graphs stay on the CPU provider, so their outputs are
 * the conformance suite's bits) and run through runInference with its checks. Strict: bad JSON,
 * a wrong tensor or an unknown model get the protocol's `{ "error": ... }` with HTTP 400 or 404.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { keccak256 } from "ethers";
import { BaseError, errorMessage } from "../errors.ts";
import { createSession, type ExecutionProvider, type ModelIO, type ModelSession } from "./create-session.ts";
import { kserveModelName } from "./kserve-client.ts";
import {
  KserveTensorError,
  kserveDatatype,
  kserveTensorJson,
  parseExactJson,
  tensorFromKserve,
  type KserveTensorObject,
} from "./kserve-tensor.ts";
import { InputShapeError, runInference } from "./run-inference.ts";

/** The largest request body accepted; bytes (a JSON tensor takes about 10 bytes an element). */
export const KSERVE_MAX_BODY_BYTES = 64 * 1024 * 1024;

export type StartKserveServerParameters = {
  /** ONNX model bytes, each served under kserveModelName(keccak256(bytes)). */
  models: readonly Uint8Array[];
  /** Defaults to 127.0.0.1. */
  host?: string | undefined;
  /** 0 picks a free port (see `url`). */
  port: number;
  executionProvider?: ExecutionProvider | undefined;
  threads?: number | undefined;
  /** Told when an integer graph stays on the CPU provider, or CUDA does not load. */
  onFallback?: ((name: string, reason: string) => void) | undefined;
};

export type ServedModel = { name: string; modelHash: string; provider: ExecutionProvider };

export type KserveServer = { url: string; models: ServedModel[]; close(): Promise<void> };

/** An answer other than 200: the protocol's error object with its HTTP status. */
class HttpError extends BaseError {
  override name = "HttpError";
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

type Loaded = ServedModel & { session: ModelSession };

export async function startKserveServer({
  models,
  host = "127.0.0.1",
  port,
  executionProvider = "cpu",
  threads,
  onFallback,
}: StartKserveServerParameters): Promise<KserveServer> {
  const loaded = new Map<string, Loaded>();
  try {
    for (const bytes of models) {
      const modelHash = keccak256(bytes);
      const name = kserveModelName(modelHash);
      if (loaded.has(name)) continue;
      const session = await createSession({
        model: bytes,
        executionProvider,
        threads,
        onFallback: (reason) => onFallback?.(name, reason),
      });
      loaded.set(name, { name, modelHash, provider: session.provider, session });
      if (session.inputs.length !== 1 || session.outputs.length !== 1)
        throw new BaseError(
          `Model ${name} has ${session.inputs.length} inputs and ${session.outputs.length} outputs.`,
          {
            details: ["Verity models take one tensor and give one."],
          },
        );
    }
  } catch (error) {
    for (const model of loaded.values()) await model.session.release();
    throw error;
  }

  const server = createServer((request, response) => {
    handle(loaded, request).then(
      (body) => send(response, 200, body),
      (error: unknown) =>
        send(
          response,
          error instanceof HttpError ? error.status : 500,
          JSON.stringify({ error: error instanceof BaseError ? error.message : errorMessage(error) }),
        ),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}`,
    models: [...loaded.values()].map(({ name, modelHash, provider }) => ({ name, modelHash, provider })),
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      for (const model of loaded.values()) await model.session.release();
    },
  };
}

function send(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  response.end(body);
}

/** The 200 body for a request, or an HttpError. */
async function handle(models: Map<string, Loaded>, request: IncomingMessage): Promise<string> {
  const path = new URL(request.url ?? "/", "http://server").pathname.replace(/\/+$/, "");
  const method = request.method ?? "GET";
  if (path === "/v2/health/live" || path === "/v2/health/ready") return expect(method, "GET", "");
  if (path === "/v2") return expect(method, "GET", JSON.stringify({ name: "verity", version: "1", extensions: [] }));
  const route = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(\/ready|\/infer)?$/.exec(path);
  if (!route) throw new HttpError(404, `No such endpoint: ${method} ${path}.`);
  const name = decodeURIComponent(route[1]!);
  const model = models.get(name);
  if (!model) throw new HttpError(404, `Unknown model "${name}"; served: ${[...models.keys()].join(", ") || "none"}.`);
  if (route[2] !== undefined && route[2] !== "1")
    throw new HttpError(404, `Model "${name}" has version 1 only, not "${route[2]}".`);
  if (route[3] === "/ready") return expect(method, "GET", "");
  if (route[3] === undefined) return expect(method, "GET", JSON.stringify(metadata(model)));
  expect(method, "POST", "");
  return infer(model, await readBody(request));
}

function expect(method: string, wanted: string, body: string): string {
  if (method !== wanted) throw new HttpError(405, `Use ${wanted}, not ${method}.`);
  return body;
}

function metadata({ name, session }: Loaded) {
  // A symbolic dim (a string in onnxruntime's metadata) is a dynamic one: -1 in the protocol.
  const io = ({ name: ioName, dtype, shape }: ModelIO) => ({
    name: ioName,
    datatype: kserveDatatype(dtype),
    shape: shape.map((dim) => (typeof dim === "number" ? dim : -1)),
  });
  return {
    name,
    versions: ["1"],
    platform: "onnxruntime_onnx",
    inputs: session.inputs.map(io),
    outputs: session.outputs.map(io),
  };
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > KSERVE_MAX_BODY_BYTES) throw new HttpError(413, `Request body over ${KSERVE_MAX_BODY_BYTES} bytes.`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

async function infer({ name, session }: Loaded, text: string): Promise<string> {
  let body: { id?: unknown; inputs?: unknown; outputs?: unknown };
  try {
    body = parseExactJson(text) as typeof body;
  } catch (error) {
    throw new HttpError(400, `Request body is not JSON: ${errorMessage(error)}`);
  }
  if (typeof body !== "object" || body === null || !Array.isArray(body.inputs))
    throw new HttpError(400, 'Request has no "inputs" array.');
  const declaredInput = session.inputs[0]!;
  const declaredOutput = session.outputs[0]!;
  if (body.inputs.length !== 1 || (body.inputs[0] as KserveTensorObject | null)?.name !== declaredInput.name)
    throw new HttpError(400, `Model "${name}" takes one input, "${declaredInput.name}".`);
  const requested = body.outputs;
  if (
    requested !== undefined &&
    !(
      Array.isArray(requested) &&
      requested.every((output) => (output as { name?: unknown })?.name === declaredOutput.name)
    )
  )
    throw new HttpError(400, `Model "${name}" gives one output, "${declaredOutput.name}".`);
  let output;
  try {
    const input = tensorFromKserve(body.inputs[0] as KserveTensorObject, declaredInput.dtype);
    output = await runInference(session, input);
  } catch (error) {
    const refused = error instanceof InputShapeError || error instanceof KserveTensorError;
    if (refused) throw new HttpError(400, error.message);
    throw error;
  }
  const id = typeof body.id === "string" ? `"id":${JSON.stringify(body.id)},` : "";
  return `{${id}"model_name":${JSON.stringify(name)},"model_version":"1","outputs":[${kserveTensorJson(declaredOutput.name, output)}]}`;
}
