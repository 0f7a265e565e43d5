/**
 * The ZK folder of a model (`<model>/zk/`): the generated circuit, its compiled witness
 * calculator and constraint system, the Groth16 proving and verification keys, the Solidity
 * verifier and `zk.json`, which records what they were built from and the measured figures.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { BaseError } from "../errors.ts";

export const zkFiles = {
  circuit: "circuit.circom",
  wasm: "circuit.wasm",
  r1cs: "circuit.r1cs",
  sym: "circuit.sym",
  zkey: "circuit.zkey",
  vkey: "vkey.json",
  verifier: "Verifier.sol",
  manifest: "zk.json",
} as const;

export type ZkManifest = {
  format: "verity-zk/1";
  model: string;
  /** keccak256 of the VQM model.onnx the circuit was generated from. */
  modelHash: string;
  input: { shape: number[]; chunks: number };
  output: { shape: number[]; chunks: number };
  /** Public signals: output chunks, then input chunks (docs/zk.md#packing). */
  publicSignals: number;
  constraints: number;
  ptau: { source: "development" | "hermez"; power: number; file: string; blake2b: string };
  contractName: string;
  /** sha256 of circuit.zkey and circuit.wasm, so a prover can tell it holds the right keys. */
  zkeySha256: string;
  wasmSha256: string;
  figures: { compileSeconds: number; setupSeconds: number; zkeyBytes: number };
};

export class ZkFilesError extends BaseError {
  override name = "ZkFilesError";
}

export function zkPath(zkDir: string, file: keyof typeof zkFiles): string {
  return join(zkDir, zkFiles[file]);
}

export async function readZkManifest(zkDir: string): Promise<ZkManifest> {
  const file = zkPath(zkDir, "manifest");
  let manifest: ZkManifest;
  try {
    manifest = JSON.parse(await readFile(file, "utf8")) as ZkManifest;
  } catch (error) {
    throw new ZkFilesError(`Cannot read the ZK manifest ${file}.`, {
      details: ["Build the model's ZK artifacts first: verity zk build <model dir>."],
      cause: error,
    });
  }
  if (manifest.format !== "verity-zk/1")
    throw new ZkFilesError(`${file} is not a Verity ZK manifest.`, {
      details: [`Expected format "verity-zk/1", got ${JSON.stringify(manifest.format)}.`],
    });
  return manifest;
}
