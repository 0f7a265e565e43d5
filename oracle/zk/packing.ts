/**
 * Public-signal packing of int8 tensors (docs/zk.md#packing), shared by the circuit generator,
 * the prover and the on-chain adapter (contracts/verify/Groth16TensorVerifier.sol):
 *
 * - the elements in row-major order, each as the unsigned byte v + 128 (= v XOR 0x80 of its
 *   two's complement byte, so the canonical tensor body maps byte for byte);
 * - cut into chunks of 31 bytes, the last one possibly shorter;
 * - chunk k is the big-endian integer of its bytes, < 2^248 < the BN254 scalar field modulus.
 *
 * The public signals of a Verity circuit are [output chunks..., input chunks...] (circom puts
 * the main component's outputs before its public inputs).
 */
import { BaseError } from "../errors.ts";

export const bytesPerChunk = 31;

/** The BN254 scalar field modulus: public signals must be below it. */
export const fieldModulus = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

export class PackingError extends BaseError {
  override name = "PackingError";
}

/** Number of field elements that hold `count` int8 values. */
export function chunkCount(count: number): number {
  return Math.ceil(count / bytesPerChunk);
}

export function packInt8(values: Int8Array): bigint[] {
  const chunks: bigint[] = [];
  for (let start = 0; start < values.length; start += bytesPerChunk) {
    let chunk = 0n;
    const end = Math.min(values.length, start + bytesPerChunk);
    for (let i = start; i < end; i++) chunk = (chunk << 8n) | BigInt(values[i]! + 128);
    chunks.push(chunk);
  }
  return chunks;
}

export function unpackInt8(chunks: readonly bigint[], count: number): Int8Array {
  if (chunks.length !== chunkCount(count))
    throw new PackingError(
      `Expected ${chunkCount(count)} packed chunks for ${count} int8 values, got ${chunks.length}.`,
    );
  const values = new Int8Array(count);
  chunks.forEach((chunk, k) => {
    const length = Math.min(bytesPerChunk, count - k * bytesPerChunk);
    if (chunk < 0n || chunk >> BigInt(8 * length) !== 0n)
      throw new PackingError(`Packed chunk ${k} does not fit ${length} bytes.`, { details: [`Got ${chunk}.`] });
    for (let i = length - 1, rest = chunk; i >= 0; i--, rest >>= 8n)
      values[k * bytesPerChunk + i] = Number(rest & 0xffn) - 128;
  });
  return values;
}

/** The circuit's public signals for an input and output: [output chunks..., input chunks...]. */
export function publicSignals(input: Int8Array, output: Int8Array): bigint[] {
  return [...packInt8(output), ...packInt8(input)];
}
