import { readFileSync } from "node:fs";
import { expect } from "chai";
import { network } from "hardhat";
import { getBytes, hexlify, keccak256, toBeHex } from "ethers";
import type { ChunkMerkleHarness } from "../../types/ethers-contracts/index.ts";
import {
  chunkLeaf,
  chunksOf,
  computeRoot,
  merkleTree,
  proofFromTree,
  treeRoot,
  weightsBlob,
  weightsLayout,
  weightsRoot,
} from "../../oracle/model/vqm/commitments.ts";
import { vectorsPath } from "../../scripts/gen-merkle-vectors.ts";
import type { MerkleVectors } from "../../scripts/gen-merkle-vectors.ts";
import { tinyModel } from "../model/commitments-fixture.ts";

const { ethers } = await network.create();
const vectors = JSON.parse(readFileSync(vectorsPath, "utf8")) as MerkleVectors;

async function harness(): Promise<ChunkMerkleHarness> {
  return (await ethers.deployContract("ChunkMerkleHarness")) as unknown as ChunkMerkleHarness;
}

describe("ChunkMerkle (on-chain, shared vectors)", () => {
  let merkle: ChunkMerkleHarness;
  before(async () => {
    merkle = await harness();
  });

  for (const c of vectors.cases.filter((c) => c.chunkCount > 0)) {
    it(`verify: ${c.name}: every chunk's proof succeeds`, async () => {
      for (const p of c.proofs) {
        expect(await merkle.leafHash(p.index, p.chunk)).to.equal(p.leaf);
        expect(await merkle.computeRoot(p.index, p.leaf, p.siblings)).to.equal(c.root);
        expect(await merkle.verify(c.root, p.index, p.chunk, p.siblings)).to.equal(true);
      }
    });
  }

  for (const bad of vectors.invalid) {
    it(`verify: ${bad.name}: ${bad.expect === "revert" ? "reverts" : "returns false"}`, async () => {
      const call = merkle.verify(bad.root, bad.index, bad.chunk, bad.siblings);
      if (bad.expect === "revert")
        await expect(call)
          .to.be.revertedWithCustomError(merkle, "ChunkMerkleIndexOutOfRange")
          .withArgs(bad.index, bad.siblings.length);
      else expect(await call).to.equal(false);
    });
  }

  it("nodeHash: keccak256(0x01 ‖ left ‖ right)", async () => {
    const [a, b] = [keccak256("0x0a"), keccak256("0x0b")];
    expect(await merkle.nodeHash(a, b)).to.equal(keccak256("0x01" + a.slice(2) + b.slice(2)));
  });

  it("leafHash: reverts for an index beyond uint32", async () => {
    await expect(merkle.leafHash(2n ** 32n, "0x01"))
      .to.be.revertedWithCustomError(merkle, "ChunkMerkleIndexOutOfRange")
      .withArgs(2n ** 32n, 32);
    expect(await merkle.leafHash(2n ** 32n - 1n, "0x01")).to.equal(chunkLeaf(2 ** 32 - 1, Uint8Array.from([1])));
  });

  it("verify: a 16-level proof (TypeScript-built root) succeeds, with its gas", async () => {
    const siblings = Array.from({ length: 16 }, (_, i) => keccak256(toBeHex(i + 1, 32)));
    const chunk = getBytes(vectors.cases[2]!.bytes);
    const index = 0xb5a3;
    const root = computeRoot(index, chunkLeaf(index, chunk), siblings)!;
    expect(await merkle.verify(root, index, chunk, siblings)).to.equal(true);
    expect(await merkle.verify(root, index ^ 1, chunk, siblings)).to.equal(false);
    const gas = await merkle.verify.estimateGas(root, index, chunk, siblings);
    // The whole transaction: 21000 base, ~1.6 KB of calldata, ABI decoding into memory. The
    // library's own execution gas is recorded by ChunkMerkle.t.sol (snapshots/ChunkMerkle.json).
    expect(gas).to.be.lessThan(100_000n);
  });

  it("verify: chunks of a real weights blob prove one output's weights row against weightsRoot", async () => {
    const model = tinyModel();
    const blob = weightsBlob(model);
    const root = weightsRoot(model);
    const tree = merkleTree(blob);
    expect(treeRoot(tree)).to.equal(root);
    const dense = weightsLayout(model).byLayer[0]!;
    if (dense.kind === "add") expect.fail("fixture changed");

    // Output 25 of the dense layer: its 40 weights straddle chunks 0 and 1.
    const row = { offset: dense.weights.offset + 25 * dense.rowLength, length: dense.rowLength };
    const span = chunksOf(row)!;
    expect(span).to.deep.equal({ first: 0, last: 1 });
    const proven: Uint8Array[] = [];
    for (let index = span.first; index <= span.last; index++) {
      const proof = proofFromTree(tree, blob, index);
      expect(await merkle.verify(root, index, proof.chunk, proof.siblings)).to.equal(true);
      proven.push(proof.chunk);
    }
    const joined = new Uint8Array([...proven[0]!, ...proven[1]!]);
    const rowBytes = joined.subarray(row.offset - span.first * 1024, row.offset - span.first * 1024 + row.length);
    const layer = model.layers[0]!;
    if (layer.kind !== "dense") expect.fail("fixture changed");
    expect(hexlify(rowBytes)).to.equal(hexlify(new Uint8Array(layer.weights.buffer, 25 * 40, 40)));

    // The same chunk under another index, or one byte changed, is refused.
    const last = proofFromTree(tree, blob, 1);
    expect(await merkle.verify(root, 0, last.chunk, last.siblings)).to.equal(false);
    const tampered = Uint8Array.from(last.chunk);
    tampered[100]! ^= 0x80;
    expect(await merkle.verify(root, 1, tampered, last.siblings)).to.equal(false);
  });
});
