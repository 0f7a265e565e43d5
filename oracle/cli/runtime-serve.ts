/**
 * `verity runtime serve`: a KServe v2 (Open Inference Protocol) server over onnxruntime, for
 * daemons configured with `runtime.backend: "kserve"` (oracle/runtime/kserve-server.ts). Each
 * `--model` (an .onnx file, or a model folder whose vqm/model.onnx is served) is named
 * "verity-" + the first 16 hex digits of the keccak of its bytes, the name the daemon asks for.
 */
import { readFile, stat } from "node:fs/promises";
import { BaseError } from "../errors.ts";
import { readModelFolder } from "../model/model-folder.ts";
import { startKserveServer } from "../runtime/kserve-server.ts";
import type { Command } from "./command.ts";
import { parseCount } from "./parse-options.ts";
import { stopSignal } from "./stop-signal.ts";

/** Triton's HTTP port, so tools pointed at a Triton default find it. */
export const DEFAULT_KSERVE_PORT = 8000;

export const runtimeServeCommand: Command = {
  summary:
    'Serve models over KServe v2 (the Open Inference Protocol, as Triton speaks it) with onnxruntime, for provider daemons with runtime.backend "kserve", until Ctrl-C (or SIGTERM).',
  usage: `--model FILE.onnx|DIR [--model ...] [--host 127.0.0.1] [--port ${DEFAULT_KSERVE_PORT}] [--execution-provider cpu|cuda] [--threads N]`,
  options: {
    model: { type: "string", multiple: true },
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: String(DEFAULT_KSERVE_PORT) },
    "execution-provider": { type: "string", default: "cpu" },
    threads: { type: "string" },
  },
  maxPositionals: 0,
  async run(values) {
    const paths = (values.model as unknown as string[] | undefined) ?? [];
    if (paths.length === 0)
      throw new BaseError("verity runtime serve: give at least one --model.", {
        details: ["--model FILE.onnx, or --model DIR for a model folder (DIR/vqm/model.onnx)."],
      });
    const executionProvider = values["execution-provider"] as string;
    if (executionProvider !== "cpu" && executionProvider !== "cuda")
      throw new BaseError(
        `verity runtime serve: --execution-provider is cpu or cuda, not ${JSON.stringify(executionProvider)}.`,
      );
    const port = parseCount("--port", values.port as string, { max: 65_535 });
    const threads =
      values.threads === undefined ? undefined : parseCount("--threads", values.threads as string, { min: 1 });
    const models = await Promise.all(paths.map(readModelBytes));
    const signal = stopSignal();
    const server = await startKserveServer({
      models,
      host: values.host as string,
      port,
      executionProvider,
      threads,
      onFallback: (name, reason) => console.error(`${name}: ${reason}`),
    });
    for (const model of server.models) console.log(`${model.name}  ${model.modelHash}  on ${model.provider}`);
    console.log(`KServe v2 server ${server.url} (${server.models.length} model(s)); Ctrl-C stops it`);
    if (!signal.aborted) await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
    await server.close();
    console.log("server stopped");
  },
};

/** The bytes of an .onnx file, or of a model folder's vqm/model.onnx (checked against its manifest). */
async function readModelBytes(path: string): Promise<Uint8Array> {
  let isFolder: boolean;
  try {
    isFolder = (await stat(path)).isDirectory();
  } catch (error) {
    throw new BaseError(`verity runtime serve: no model at ${path}.`, { cause: error });
  }
  return isFolder ? (await readModelFolder(path)).onnx : new Uint8Array(await readFile(path));
}
