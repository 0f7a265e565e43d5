/**
 * The `proof` bytes of `IProofVerifier.verify` for a Groth16 proof:
 * `abi.encode(uint256[2] a, uint256[2][2] b, uint256[2] c)` (256 bytes), with b's coordinates in
 * the order the generated Solidity verifier expects (each G2 coordinate's two limbs swapped
 * relative to snarkjs' JSON, as `snarkjs zkey export soliditycalldata` does).
 */
import { AbiCoder, getBytes, hexlify } from "ethers";
import type { Groth16Proof } from "snarkjs";
import { BaseError } from "../errors.ts";

export type SolidityProof = {
  a: [bigint, bigint];
  b: [[bigint, bigint], [bigint, bigint]];
  c: [bigint, bigint];
};

const proofTypes = ["uint256[2]", "uint256[2][2]", "uint256[2]"];

export class ProofEncodingError extends BaseError {
  override name = "ProofEncodingError";
}

export function solidityProof(proof: Groth16Proof): SolidityProof {
  const n = (value: string | undefined) => BigInt(value ?? "x");
  try {
    return {
      a: [n(proof.pi_a[0]), n(proof.pi_a[1])],
      b: [
        [n(proof.pi_b[0]?.[1]), n(proof.pi_b[0]?.[0])],
        [n(proof.pi_b[1]?.[1]), n(proof.pi_b[1]?.[0])],
      ],
      c: [n(proof.pi_c[0]), n(proof.pi_c[1])],
    };
  } catch (error) {
    throw new ProofEncodingError("The Groth16 proof is malformed.", {
      details: ["Expected snarkjs proof JSON."],
      cause: error,
    });
  }
}

/** abi.encode(a, b, c) as a 0x-prefixed hex string of 256 bytes. */
export function encodeProof(proof: Groth16Proof): string {
  const { a, b, c } = solidityProof(proof);
  return AbiCoder.defaultAbiCoder().encode(proofTypes, [a, b, c]);
}

/** The inverse of encodeProof. */
export function decodeProof(bytes: string | Uint8Array): Groth16Proof {
  const data = getBytes(bytes);
  if (data.length !== 256) throw new ProofEncodingError(`A Groth16 proof is 256 bytes, got ${data.length}.`);
  const [a, b, c] = AbiCoder.defaultAbiCoder().decode(proofTypes, hexlify(data)) as unknown as [
    bigint[],
    bigint[][],
    bigint[],
  ];
  const s = (value: bigint | undefined) => String(value);
  return {
    pi_a: [s(a[0]), s(a[1]), "1"],
    pi_b: [
      [s(b[0]?.[1]), s(b[0]?.[0])],
      [s(b[1]?.[1]), s(b[1]?.[0])],
      ["1", "0"],
    ],
    pi_c: [s(c[0]), s(c[1]), "1"],
    protocol: "groth16",
    curve: "bn128",
  };
}
