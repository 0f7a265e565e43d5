/**
 * Writes `test/contracts/utils/CanonicalTensorVectors.sol`: shared vectors of canonical tensor
 * bytes (docs/protocol.md, "Canonical tensor bytes") made by the TypeScript codec
 * (`oracle/model/tensor-codec.ts`), which `contracts/libraries/CanonicalTensor.sol` must agree
 * with: tensors of every dtype with their encodings, elements and argmax, and encodings the
 * codec refuses with the library error each must revert with.
 *
 *   npx node scripts/gen-tensor-vectors.ts          # rewrite the file
 *
 * `test/contracts/CanonicalTensor.test.ts` checks that the committed file equals
 * `renderTensorVectors()`; `test/contracts/CanonicalTensor.t.sol` runs the library on them.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { AbiCoder, hexlify, id } from "ethers";
import { argmax } from "../oracle/model/argmax.ts";
import {
  decodeTensor,
  encodeTensor,
  TensorDecodeError,
  type TensorDecodeFailure,
} from "../oracle/model/tensor-codec.ts";
import { createTensor, dtypes, type DType, type Tensor } from "../oracle/model/tensor.ts";

export const tensorVectorsPath = fileURLToPath(
  new URL("../test/contracts/utils/CanonicalTensorVectors.sol", import.meta.url),
);

export type ValidVector = {
  name: string;
  encoded: string;
  dtype: number;
  shape: number[];
  /** Elements as integers; float32 elements as their IEEE 754 bits. */
  values: bigint[];
  argmax: number;
};

export type InvalidVector = { name: string; encoded: string; failure: TensorDecodeFailure; error: string };

/** The library error each failure of the TypeScript decoder must be. */
export const errorOfFailure: Record<Exclude<TensorDecodeFailure, "not-bytes">, string> = {
  "too-short": "CanonicalTensorTooShort",
  "bad-version": "CanonicalTensorBadVersion",
  "unknown-dtype": "CanonicalTensorUnknownDtype",
  "bad-rank": "CanonicalTensorBadRank",
  "zero-dim": "CanonicalTensorZeroDim",
  "too-large": "CanonicalTensorTooLarge",
  "length-mismatch": "CanonicalTensorLengthMismatch",
  "non-finite": "CanonicalTensorNonFinite",
};

/** Raw element values (float32 as bits) of a tensor, as the library reads them. */
export function rawValues(tensor: Tensor): bigint[] {
  if (tensor.dtype === "float32") {
    const bits = new Uint32Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.length);
    return Array.from(bits, BigInt);
  }
  return Array.from(tensor.data as ArrayLike<number | bigint>, (v) => BigInt(v));
}

function valid(
  name: string,
  dtype: DType,
  shape: number[],
  values: ArrayLike<number> | ArrayLike<bigint>,
): ValidVector {
  const tensor = createTensor(dtype, shape, values);
  const encoded = encodeTensor(tensor);
  const decoded = decodeTensor(encoded);
  return {
    name,
    encoded: hexlify(encoded),
    dtype: dtypes[dtype].code,
    shape,
    values: rawValues(decoded),
    argmax: argmax(decoded),
  };
}

function invalid(name: string, hex: string): InvalidVector {
  try {
    decodeTensor(Uint8Array.from(Buffer.from(hex.replace(/^0x/, ""), "hex")));
  } catch (error) {
    if (!(error instanceof TensorDecodeError) || error.failure === "not-bytes") throw error;
    return { name, encoded: hex, failure: error.failure, error: errorOfFailure[error.failure] };
  }
  throw new Error(`vector ${name}: the codec accepts ${hex}`);
}

/** A float32 tensor given by its elements' bits (NaN payloads, -0 and denormals exactly). */
function float32Bits(bits: number[]): Float32Array {
  return new Float32Array(new Uint32Array(bits).buffer);
}

const iris = [5.4, 3.9, 1.7, 0.4];

export function buildTensorVectors(): { valid: ValidVector[]; invalid: InvalidVector[] } {
  const ramp = (n: number, f: (i: number) => number) => Array.from({ length: n }, (_, i) => f(i));
  const validVectors = [
    valid("float32 [1, 4], the iris sample of docs/protocol.md", "float32", [1, 4], iris),
    valid("float32 [1, 3] logits, class 2", "float32", [1, 3], [-1.5, 0.25, 3.75]),
    valid(
      "float32 [5] with -0, +0, a denormal and the extremes",
      "float32",
      [5],
      [...float32Bits([0x80000000, 0x00000000, 0x00000001, 0x7f7fffff, 0xff7fffff])],
    ),
    valid(
      "float32 [3], -0 before +0: a tie, the lowest index wins",
      "float32",
      [3],
      [...float32Bits([0xbf800000, 0x80000000, 0x00000000])],
    ),
    valid("float32 [4], all negative", "float32", [4], [-3, -0.5, -2, -0.75]),
    valid("int8 [1, 10] logits, class 7", "int8", [1, 10], [3, -7, 12, 1, -128, 0, 5, 127, 126, 127]),
    valid(
      "int8 [2, 2, 2], rank 3",
      "int8",
      [2, 2, 2],
      ramp(8, (i) => ((i * 37) % 256) - 128),
    ),
    valid("int8 [1] -128", "int8", [1], [-128]),
    valid("uint8 [6]", "uint8", [6], [0, 255, 128, 1, 254, 255]),
    valid("int32 [1, 2] with the extremes", "int32", [1, 2], [-2147483648, 2147483647]),
    valid("int32 [3, 1], negative values, class 1", "int32", [3, 1], [-70000, -3, -65536]),
    valid("int64 [3] with the extremes", "int64", [3], [-(2n ** 63n), 2n ** 63n - 1n, -1n]),
    valid("int8 rank 8, every dim 1", "int8", [1, 1, 1, 1, 1, 1, 1, 1], [-5]),
    valid(
      "uint8 [1, 257], a dim above one byte",
      "uint8",
      [1, 257],
      ramp(257, (i) => (i * 7) % 256),
    ),
  ];
  const invalidVectors = [
    invalid("empty", "0x"),
    invalid("two bytes", "0x0101"),
    invalid("version 2", "0x02010100000001" + "05"),
    invalid("version 0", "0x00010100000001" + "05"),
    invalid("dtype 0", "0x01000100000001" + "05"),
    invalid("dtype 6", "0x01060100000001" + "05"),
    invalid("rank 0", "0x010100"),
    invalid("rank 9", "0x010109" + "00000001".repeat(9) + "05"),
    invalid("rank 2 with one dim", "0x01010200000001"),
    invalid("zero dim", "0x0101020000000100000000"),
    invalid("2^24 + 1 elements (4097 x 4097 header)", "0x0101020000100100001001"),
    invalid("2^32 - 1 elements in the first dim", "0x010101ffffffff"),
    invalid("a trailing byte", "0x01010100000002" + "0506" + "00"),
    invalid("a missing byte", "0x01020100000001" + "050607"),
    invalid("float32 NaN", "0x01030100000001" + "0000c07f"),
    invalid("float32 NaN with a payload, second element", "0x01030100000002" + "0000803f" + "0100807f"),
    invalid("float32 +Infinity", "0x01030100000001" + "0000807f"),
    invalid("float32 -Infinity", "0x01030100000001" + "000080ff"),
  ];
  return { valid: validVectors, invalid: invalidVectors };
}

const abi = AbiCoder.defaultAbiCoder();

/** The Solidity file of the vectors, as committed. */
export function renderTensorVectors(): string {
  const { valid: validVectors, invalid: invalidVectors } = buildTensorVectors();
  const lines = [
    "// SPDX-License-Identifier: MIT",
    "// Generated by scripts/gen-tensor-vectors.ts from oracle/model/tensor-codec.ts: do not edit.",
    "pragma solidity ^0.8.28;",
    "",
    "/// @notice Canonical tensor bytes made and refused by the TypeScript codec, for the",
    "/// {CanonicalTensor} tests. Shapes and values are ABI-encoded `uint32[]` and `int256[]`",
    "/// (float32 values are the elements' IEEE 754 bits).",
    "library CanonicalTensorVectors {",
    "    struct Valid {",
    "        string name;",
    "        bytes encoded;",
    "        uint8 dtype;",
    "        uint32[] shape;",
    "        int256[] values;",
    "        uint256 argmax;",
    "    }",
    "",
    "    struct Invalid {",
    "        string name;",
    "        bytes encoded;",
    "        bytes4 selector;",
    "    }",
    "",
    "    function valid() internal pure returns (Valid[] memory v) {",
    `        v = new Valid[](${validVectors.length});`,
  ];
  validVectors.forEach((vector, i) => {
    lines.push(
      `        v[${i}] = Valid({`,
      `            name: ${JSON.stringify(vector.name)},`,
      `            encoded: hex"${vector.encoded.slice(2)}",`,
      `            dtype: ${vector.dtype},`,
      `            shape: abi.decode(hex"${abi.encode(["uint32[]"], [vector.shape]).slice(2)}", (uint32[])),`,
      `            values: abi.decode(hex"${abi.encode(["int256[]"], [vector.values]).slice(2)}", (int256[])),`,
      `            argmax: ${vector.argmax}`,
      "        });",
    );
  });
  lines.push("    }", "", "    function invalid() internal pure returns (Invalid[] memory v) {");
  lines.push(`        v = new Invalid[](${invalidVectors.length});`);
  invalidVectors.forEach((vector, i) => {
    lines.push(
      `        v[${i}] = Invalid({`,
      `            name: ${JSON.stringify(vector.name)},`,
      `            encoded: hex"${vector.encoded.slice(2)}",`,
      `            selector: ${id(signatureOf(vector.error)).slice(0, 10)} // ${vector.error}`,
      "        });",
    );
  });
  lines.push("    }", "}", "");
  return lines.join("\n");
}

const errorSignatures: Record<string, string> = {
  CanonicalTensorTooShort: "CanonicalTensorTooShort(uint256,uint256)",
  CanonicalTensorBadVersion: "CanonicalTensorBadVersion(uint8)",
  CanonicalTensorUnknownDtype: "CanonicalTensorUnknownDtype(uint8)",
  CanonicalTensorBadRank: "CanonicalTensorBadRank(uint256)",
  CanonicalTensorZeroDim: "CanonicalTensorZeroDim(uint256)",
  CanonicalTensorTooLarge: "CanonicalTensorTooLarge(uint256,uint256)",
  CanonicalTensorLengthMismatch: "CanonicalTensorLengthMismatch(uint256,uint256)",
  CanonicalTensorNonFinite: "CanonicalTensorNonFinite(uint256,uint32)",
};

function signatureOf(error: string): string {
  const signature = errorSignatures[error];
  if (!signature) throw new Error(`no signature for ${error}`);
  return signature;
}

/** {renderTensorVectors} as prettier formats it, so `prettier --check .` stays clean. */
export async function formattedTensorVectors(): Promise<string> {
  const prettier = await import("prettier");
  const options = (await prettier.resolveConfig(tensorVectorsPath)) ?? {};
  return prettier.format(renderTensorVectors(), { ...options, filepath: tensorVectorsPath });
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  writeFileSync(tensorVectorsPath, await formattedTensorVectors());
  console.log(`wrote ${path.relative(process.cwd(), tensorVectorsPath)}`);
}
