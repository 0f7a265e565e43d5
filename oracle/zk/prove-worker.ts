/**
 * The proving thread (started by prove.ts): loads one model's witness calculator and proving
 * key once, then answers proof requests one at a time, so proving never blocks the daemon's
 * event loop.
 *
 * snarkjs' multi-threaded curve cannot run here: its thread pool (the \`web-worker\` package)
 * treats every non-main thread as one of its own workers. So this thread proves with the
 * single-threaded curve, and prove.ts gives \`web-worker\` a no-op script to "run" (workerData
 * \`mod\`), which it loads as soon as snarkjs is imported.
 */
import { readFile } from "node:fs/promises";
import { parentPort, workerData } from "node:worker_threads";
import { groth16 } from "snarkjs";
import type { Groth16Proof } from "snarkjs";

export type ProveWorkerData = {
  wasmFile: string;
  zkeyFile: string;
  /** Read by the \`web-worker\` package on import: an empty classic script. */
  mod: string;
};
export type ProveWorkerRequest = { id: number; inPacked: string[] };
export type ProveWorkerResponse =
  | { id: number; ok: true; proof: Groth16Proof; publicSignals: string[]; seconds: number }
  | { id: number; ok: false; message: string };

const { wasmFile, zkeyFile } = workerData as ProveWorkerData;
const [wasm, zkey] = await Promise.all([readFile(wasmFile), readFile(zkeyFile)]);
const port = parentPort!;

let queue = Promise.resolve();
port.on("message", (request: ProveWorkerRequest) => {
  queue = queue.then(() => prove(request));
});
port.postMessage({ ready: true });

async function prove({ id, inPacked }: ProveWorkerRequest): Promise<void> {
  const started = performance.now();
  try {
    const { proof, publicSignals } = await groth16.fullProve(
      { inPacked },
      { type: "mem", data: new Uint8Array(wasm) },
      { type: "mem", data: new Uint8Array(zkey) },
      undefined,
      undefined,
      { singleThread: true },
    );
    const seconds = (performance.now() - started) / 1000;
    port.postMessage({ id, ok: true, proof, publicSignals, seconds } satisfies ProveWorkerResponse);
  } catch (error) {
    port.postMessage({
      id,
      ok: false,
      message: error instanceof Error ? error.message : String(error),
    } satisfies ProveWorkerResponse);
  }
}
