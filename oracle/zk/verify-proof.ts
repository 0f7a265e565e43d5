/**
 * Off-chain verification of a Verity Groth16 proof against a model's verification key: the
 * public signals are recomputed from the input and output tensors (packing.ts), never taken
 * from the prover.
 */
import { readFile } from "node:fs/promises";
import { groth16 } from "snarkjs";
import type { Groth16Proof } from "snarkjs";
import type { Tensor } from "../model/tensor.ts";
import { fieldModulus, publicSignals } from "./packing.ts";
import { releaseCurve } from "./snarkjs-util.ts";
import { zkPath } from "./zk-files.ts";

export type VerifyZkProofParameters = {
  zkDir: string;
  input: Tensor;
  output: Tensor;
  proof: Groth16Proof;
};

export async function verifyZkProof({ zkDir, input, output, proof }: VerifyZkProofParameters): Promise<boolean> {
  if (input.dtype !== "int8" || output.dtype !== "int8") return false;
  const signals = publicSignals(input.data as Int8Array, output.data as Int8Array);
  return verifyWithSignals({ zkDir, signals, proof });
}

/** Verifies against explicit public signals (rejecting any at or above the field modulus). */
export async function verifyWithSignals({
  zkDir,
  signals,
  proof,
}: {
  zkDir: string;
  signals: readonly bigint[];
  proof: Groth16Proof;
}): Promise<boolean> {
  if (signals.some((signal) => signal < 0n || signal >= fieldModulus)) return false;
  const vkey = JSON.parse(await readFile(zkPath(zkDir, "vkey"), "utf8")) as { nPublic?: number };
  if (vkey.nPublic !== signals.length) return false;
  try {
    return await groth16.verify(vkey, signals.map(String), proof);
  } finally {
    await releaseCurve();
  }
}
