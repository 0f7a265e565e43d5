/**
 * Test helpers for hand-built witnesses: read a circom .sym file, patch values of a snarkjs
 * .wtns file in place, and evaluate every R1CS constraint (A·w)·(B·w) = C·w over the field.
 */
import { r1cs as r1csApi } from "snarkjs";
import { fieldModulus } from "../../oracle/zk/packing.ts";

/** Signal name → wire index (names optimised away, with wire -1, are left out). */
export function parseSym(text: string): Map<string, number> {
  const wires = new Map<string, number>();
  for (const line of text.split("\n")) {
    const [, wire, , name] = line.split(",");
    if (name && Number(wire) >= 0) wires.set(name, Number(wire));
  }
  return wires;
}

/** The wtns file layout: "wtns", version, sections (type u32, size u64, data). */
function witnessOffset(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 12;
  while (offset < bytes.length) {
    const type = view.getUint32(offset, true);
    const size = Number(view.getBigUint64(offset + 4, true));
    if (type === 2) return offset + 12;
    offset += 12 + size;
  }
  throw new Error("No witness section in the wtns file.");
}

export function readWitness(bytes: Uint8Array): bigint[] {
  const start = witnessOffset(bytes);
  const values: bigint[] = [];
  for (let at = start; at + 32 <= bytes.length; at += 32) {
    let value = 0n;
    for (let i = 31; i >= 0; i--) value = (value << 8n) | BigInt(bytes[at + i]!);
    values.push(value);
  }
  return values;
}

/** A copy of the wtns bytes with wire `index` set to `value` (mod p). */
export function patchWitness(bytes: Uint8Array, patches: Map<number, bigint>): Uint8Array {
  const copy = bytes.slice();
  const start = witnessOffset(copy);
  for (const [index, value] of patches) {
    let rest = ((value % fieldModulus) + fieldModulus) % fieldModulus;
    for (let i = 0; i < 32; i++, rest >>= 8n) copy[start + 32 * index + i] = Number(rest & 0xffn);
  }
  return copy;
}

type LinearCombination = Record<string, string>;

/** Indices of the constraints the witness breaks. */
export async function failingConstraints(r1csFile: string, witness: bigint[]): Promise<number[][]> {
  const exported = (await r1csApi.exportJson(r1csFile)) as {
    constraints: [LinearCombination, LinearCombination, LinearCombination][];
  };
  const evaluate = (lc: LinearCombination) => {
    let sum = 0n;
    for (const [wire, coefficient] of Object.entries(lc)) sum += BigInt(coefficient) * witness[Number(wire)]!;
    return sum % fieldModulus;
  };
  const failing: number[][] = [];
  exported.constraints.forEach(([a, b, c], index) => {
    if ((evaluate(a) * evaluate(b) - evaluate(c)) % fieldModulus !== 0n)
      failing.push([index, ...new Set([...Object.keys(a), ...Object.keys(b), ...Object.keys(c)].map(Number))]);
  });
  return failing;
}
