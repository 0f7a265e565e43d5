/**
 * Writes `test/vectors/chunk-merkle.json`: the shared test vectors of the chunked Merkle tree
 * (docs/numeric-semantics.md#commitments) that the TypeScript commitments
 * (`oracle/model/vqm/commitments.ts`) and `contracts/libraries/ChunkMerkle.sol` must both agree
 * with. Byte strings of the interesting lengths with their roots and proofs, and deliberately
 * wrong proofs that must be rejected.
 *
 *   npx node scripts/gen-merkle-vectors.ts          # rewrite the file
 *
 * `test/model/commitments.test.ts` checks that the committed file equals `buildMerkleVectors()`.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { hexlify } from "ethers";
import { CHUNK_SIZE, merkleRoot, merkleTree, proofFromTree, treeRoot } from "../oracle/model/vqm/commitments.ts";

export type VectorProof = { index: number; chunk: string; leaf: string; siblings: string[] };

export type VectorCase = {
  name: string;
  length: number;
  bytes: string;
  root: string;
  chunkCount: number;
  leafCount: number;
  proofs: VectorProof[];
};

/** `valid: false` → `verify` returns false; `"revert"` → `ChunkMerkleIndexOutOfRange`. */
export type InvalidProof = {
  name: string;
  root: string;
  index: number;
  chunk: string;
  siblings: string[];
  expect: "false" | "revert";
};

export type MerkleVectors = {
  description: string;
  chunkSize: number;
  cases: VectorCase[];
  invalid: InvalidProof[];
};

export const vectorsPath = fileURLToPath(new URL("../test/vectors/chunk-merkle.json", import.meta.url));

/** Deterministic content that differs from chunk to chunk. */
export function vectorBytes(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + Math.floor(i / 256) * 7 + 1) & 0xff;
  return bytes;
}

const lengths: [string, number][] = [
  ["empty", 0],
  ["1 byte", 1],
  ["1024 bytes (one full chunk)", CHUNK_SIZE],
  ["1025 bytes (two chunks, the second of 1 byte)", CHUNK_SIZE + 1],
  ["5000 bytes (5 chunks padded to 8 leaves)", 5000],
];

function flipFirstByte(hex: string): string {
  const bytes = Uint8Array.from(Buffer.from(hex.slice(2), "hex"));
  bytes[0]! ^= 0x01;
  return hexlify(bytes);
}

export function buildMerkleVectors(): MerkleVectors {
  const cases: VectorCase[] = lengths.map(([name, length]) => {
    const bytes = vectorBytes(length);
    const tree = merkleTree(bytes);
    const proofs = Array.from({ length: tree.chunkCount }, (_, index) => {
      const proof = proofFromTree(tree, bytes, index);
      return { index, chunk: hexlify(proof.chunk), leaf: proof.leaf, siblings: proof.siblings };
    });
    return {
      name,
      length,
      bytes: hexlify(bytes),
      root: treeRoot(tree),
      chunkCount: tree.chunkCount,
      leafCount: tree.leafCount,
      proofs,
    };
  });

  const five = cases[4]!;
  const p2 = five.proofs[2]!;
  const p4 = five.proofs[4]!;
  const one = cases[1]!;
  const two = cases[3]!;
  const invalid: InvalidProof[] = [
    {
      name: "wrong sibling (5000 bytes, chunk 2, first sibling's first bit flipped)",
      ...withSiblings(p2, 0),
      root: five.root,
      expect: "false",
    },
    {
      name: "wrong sibling (5000 bytes, chunk 2, top sibling's first bit flipped)",
      ...withSiblings(p2, 2),
      root: five.root,
      expect: "false",
    },
    {
      name: "wrong index (proof of chunk 2 presented as chunk 3)",
      root: five.root,
      index: 3,
      chunk: p2.chunk,
      siblings: p2.siblings,
      expect: "false",
    },
    {
      name: "wrong index (proof of chunk 2 presented as chunk 6, a padding leaf)",
      root: five.root,
      index: 6,
      chunk: p2.chunk,
      siblings: p2.siblings,
      expect: "false",
    },
    {
      name: "wrong chunk (chunk 2 with its first bit flipped)",
      root: five.root,
      index: 2,
      chunk: flipFirstByte(p2.chunk),
      siblings: p2.siblings,
      expect: "false",
    },
    {
      name: "wrong chunk (chunk 4 without its last byte)",
      root: five.root,
      index: 4,
      chunk: p4.chunk.slice(0, -2),
      siblings: p4.siblings,
      expect: "false",
    },
    {
      name: "wrong chunk (chunk 4 with a zero byte appended)",
      root: five.root,
      index: 4,
      chunk: p4.chunk + "00",
      siblings: p4.siblings,
      expect: "false",
    },
    {
      name: "padding leaf (chunk 5 claimed empty, on its true path)",
      root: five.root,
      index: 5,
      chunk: "0x",
      siblings: [p4.leaf, ...p4.siblings.slice(1)],
      expect: "false",
    },
    {
      name: "proof one level short (top sibling dropped)",
      root: five.root,
      index: 2,
      chunk: p2.chunk,
      siblings: p2.siblings.slice(0, -1),
      expect: "false",
    },
    {
      name: "proof one level long (zero sibling appended)",
      root: five.root,
      index: 2,
      chunk: p2.chunk,
      siblings: [...p2.siblings, merkleRoot(new Uint8Array())],
      expect: "false",
    },
    {
      name: "wrong root (1025 bytes' root for a 5000-byte proof)",
      root: two.root,
      index: 2,
      chunk: p2.chunk,
      siblings: p2.siblings,
      expect: "false",
    },
    {
      name: "second chunk of 1025 bytes presented as the first",
      root: two.root,
      index: 0,
      chunk: two.proofs[1]!.chunk,
      siblings: two.proofs[1]!.siblings,
      expect: "false",
    },
    {
      name: "index out of range (chunk 8 with 3 siblings)",
      root: five.root,
      index: 8,
      chunk: p2.chunk,
      siblings: p2.siblings,
      expect: "revert",
    },
    {
      name: "index out of range (1 byte, index 1 with no siblings)",
      root: one.root,
      index: 1,
      chunk: one.proofs[0]!.chunk,
      siblings: [],
      expect: "revert",
    },
  ];
  return {
    description:
      "Chunked keccak Merkle tree of docs/numeric-semantics.md#commitments (chunk 1024 bytes, leaf = keccak256(0x00 ‖ uint32be(i) ‖ chunk), node = keccak256(0x01 ‖ left ‖ right), zero-padded to a power of two, siblings bottom-up). Generated by scripts/gen-merkle-vectors.ts; byte i = (31i + 7⌊i/256⌋ + 1) mod 256.",
    chunkSize: CHUNK_SIZE,
    cases,
    invalid,
  };
}

function withSiblings(proof: VectorProof, corrupt: number): Pick<InvalidProof, "index" | "chunk" | "siblings"> {
  const siblings = proof.siblings.map((sibling, height) => (height === corrupt ? flipFirstByte(sibling) : sibling));
  return { index: proof.index, chunk: proof.chunk, siblings };
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // Written as prettier formats it, so `prettier --check .` stays clean.
  const prettier = await import("prettier");
  const options = (await prettier.resolveConfig(vectorsPath)) ?? {};
  const text = await prettier.format(JSON.stringify(buildMerkleVectors()), { ...options, parser: "json" });
  writeFileSync(vectorsPath, text);
  console.log(`wrote ${path.relative(process.cwd(), vectorsPath)}`);
}
