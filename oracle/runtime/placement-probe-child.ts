/**
 * The child process of probe-placement.ts: opens one session the way the daemon does
 * (createSession) with onnxruntime logging at the verbose level, which goes to this process's
 * stderr where the parent reads the node placements, and prints one JSON line to stdout:
 * the provider in use and the fallback reasons. Arguments: MODEL_FILE PROVIDER THREADS OPTIMIZED_FILE.
 */
import { readFileSync } from "node:fs";
import { createSession, type ExecutionProvider } from "./create-session.ts";

export type PlacementProbeChildResult =
  { ok: true; provider: ExecutionProvider; fallbacks: string[] } | { ok: false; error: string; details: string[] };

const [modelFile, provider, threads, optimizedModelFile] = process.argv.slice(2);
const fallbacks: string[] = [];
let result: PlacementProbeChildResult;
try {
  const session = await createSession({
    model: new Uint8Array(readFileSync(modelFile!)),
    executionProvider: provider as ExecutionProvider,
    threads: Number(threads),
    verbose: true,
    optimizedModelFile,
    onFallback: (reason) => fallbacks.push(reason),
  });
  result = { ok: true, provider: session.provider, fallbacks };
  await session.release();
} catch (error) {
  const details = (error as { details?: unknown }).details;
  result = {
    ok: false,
    error: (error as { shortMessage?: string }).shortMessage ?? String(error),
    details: Array.isArray(details) ? details.map(String) : [],
  };
}
process.stdout.write(`${JSON.stringify(result)}\n`);
