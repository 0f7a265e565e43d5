/**
 * The prover for the daemon: one worker thread per model (node:worker_threads) holding the
 * model's proving key, loaded once. `prove(input)` gives the proof, its public signals, the
 * output they carry and the `proof` bytes for `submitWithProof`. A failed proof rejects with
 * `ZkProveError` and the caller releases the request; a crashed worker is restarted on the
 * next call.
 */
import { Worker } from "node:worker_threads";
import type { Groth16Proof } from "snarkjs";
import { BaseError } from "../errors.ts";
import type { Tensor } from "../model/tensor.ts";
import { packInt8, unpackInt8 } from "./packing.ts";
import { encodeProof } from "./proof-calldata.ts";
import type { ProveWorkerData, ProveWorkerRequest, ProveWorkerResponse } from "./prove-worker.ts";
import { readZkManifest, zkPath } from "./zk-files.ts";
import type { ZkManifest } from "./zk-files.ts";

export type ZkProof = {
  proof: Groth16Proof;
  /** [output chunks..., input chunks...] */
  publicSignals: bigint[];
  /** The int8 output tensor the proof shows (decoded from the public signals). */
  output: Tensor;
  /** abi.encode(a, b, c): the `proof` argument of IProofVerifier.verify / submitWithProof. */
  calldata: string;
  seconds: number;
};

export type ZkProver = {
  manifest: ZkManifest;
  prove(input: Tensor, options?: { signal?: AbortSignal | undefined }): Promise<ZkProof>;
  close(): Promise<void>;
};

export class ZkProveError extends BaseError {
  override name = "ZkProveError";
}

type Pending = { resolve: (response: ProveWorkerResponse) => void; reject: (error: Error) => void };

export async function createProver({ zkDir }: { zkDir: string }): Promise<ZkProver> {
  const manifest = await readZkManifest(zkDir);
  const data: ProveWorkerData = {
    wasmFile: zkPath(zkDir, "wasm"),
    zkeyFile: zkPath(zkDir, "zkey"),
    mod: "data:text/javascript,",
  };
  const pending = new Map<number, Pending>();
  let nextId = 0;
  let worker: Promise<Worker> | undefined;

  const start = (): Promise<Worker> =>
    new Promise((resolve, reject) => {
      const thread = new Worker(new URL("./prove-worker.ts", import.meta.url), { workerData: data });
      thread.once("message", () => resolve(thread)); // { ready: true } once the keys are loaded
      thread.on("message", (response: ProveWorkerResponse) => {
        if (!("id" in response)) return;
        pending.get(response.id)?.resolve(response);
        pending.delete(response.id);
      });
      const fail = (error: Error) => {
        worker = undefined;
        reject(error);
        for (const entry of pending.values()) entry.reject(error);
        pending.clear();
      };
      thread.on("error", fail);
      thread.on("exit", (code) => fail(new Error(`The proving thread exited with code ${code}.`)));
    });

  const count = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
  const inputCount = count(manifest.input.shape);
  const outputCount = count(manifest.output.shape);

  return {
    manifest,
    async prove(input, { signal } = {}) {
      if (input.dtype !== "int8" || input.data.length !== inputCount)
        throw new ZkProveError(
          `The ZK circuit of ${manifest.model} takes an int8 input of shape [${manifest.input.shape.join(", ")}].`,
          {
            details: [`Got ${input.dtype} with ${input.data.length} elements.`],
          },
        );
      signal?.throwIfAborted();
      worker ??= start();
      const thread = await worker.catch((error: unknown) => {
        throw new ZkProveError("Cannot start the proving thread.", { cause: error });
      });
      const id = nextId++;
      const request: ProveWorkerRequest = { id, inPacked: packInt8(input.data as Int8Array).map(String) };
      const response = await new Promise<ProveWorkerResponse>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        thread.postMessage(request);
      }).catch((error: unknown) => {
        throw new ZkProveError(`Proving failed for ${manifest.model}.`, { cause: error });
      });
      if (!response.ok)
        throw new ZkProveError(`Proving failed for ${manifest.model}.`, {
          details: [response.message, "The input may be outside what the circuit accepts; release the request."],
        });
      const publicSignals = response.publicSignals.map(BigInt);
      const output = unpackInt8(publicSignals.slice(0, manifest.output.chunks), outputCount);
      return {
        proof: response.proof,
        publicSignals,
        output: { dtype: "int8", shape: [...manifest.output.shape], data: output },
        calldata: encodeProof(response.proof),
        seconds: response.seconds,
      };
    },
    async close() {
      const current = worker;
      worker = undefined;
      if (current) await (await current.catch(() => undefined))?.terminate();
    },
  };
}
