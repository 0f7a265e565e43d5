import { readFileSync } from "node:fs";
import { expect } from "chai";
import { getBytes, hexlify, keccak256, concat, ZeroHash } from "ethers";
import {
  CHUNK_SIZE,
  chunkLeaf,
  chunksOf,
  CommitmentError,
  computeRoot,
  merkleProof,
  merkleRoot,
  nodeHash,
  traceRoot,
  traceRoots,
  verifyChunk,
  weightsBlob,
  weightsLayout,
  weightsRoot,
} from "../../oracle/model/vqm/commitments.ts";
import type { VqmModel } from "../../oracle/model/vqm/vqm-model.ts";
import { createTensor } from "../../oracle/model/tensor.ts";
import { buildMerkleVectors, vectorBytes, vectorsPath } from "../../scripts/gen-merkle-vectors.ts";
import type { MerkleVectors } from "../../scripts/gen-merkle-vectors.ts";
import { tinyModel } from "./commitments-fixture.ts";

const vectors = JSON.parse(readFileSync(vectorsPath, "utf8")) as MerkleVectors;

describe("vqm commitments", () => {
  describe("chunked Merkle tree", () => {
    it("leaf and node hashes follow the spec's byte layout", () => {
      const chunk = Uint8Array.from([0xaa, 0xbb]);
      expect(chunkLeaf(0x01020304, chunk)).to.equal(keccak256("0x0001020304aabb"));
      const [a, b] = [keccak256("0x01"), keccak256("0x02")];
      expect(nodeHash(a, b)).to.equal(keccak256(concat(["0x01", a, b])));
      expect(() => chunkLeaf(2 ** 32, chunk)).to.throw(CommitmentError);
    });

    it("empty bytes have root bytes32(0) and nothing to prove", () => {
      expect(merkleRoot(new Uint8Array())).to.equal(ZeroHash);
      expect(() => merkleProof(new Uint8Array(), 0)).to.throw(CommitmentError);
    });

    it("a single chunk's root is its leaf; two chunks hash their leaves", () => {
      const one = vectorBytes(CHUNK_SIZE);
      expect(merkleRoot(one)).to.equal(chunkLeaf(0, one));
      const two = vectorBytes(CHUNK_SIZE + 1);
      const left = chunkLeaf(0, two.subarray(0, CHUNK_SIZE));
      const right = chunkLeaf(1, two.subarray(CHUNK_SIZE));
      expect(merkleRoot(two)).to.equal(nodeHash(left, right));
    });

    it("pads the leaf count to a power of two with zero leaves", () => {
      const bytes = vectorBytes(3 * CHUNK_SIZE);
      const leaves = [0, 1, 2].map((i) => chunkLeaf(i, bytes.subarray(i * CHUNK_SIZE, (i + 1) * CHUNK_SIZE)));
      const expected = nodeHash(nodeHash(leaves[0]!, leaves[1]!), nodeHash(leaves[2]!, ZeroHash));
      expect(merkleRoot(bytes)).to.equal(expected);
    });

    it("proofs of every chunk verify, bottom-up, and refuse a chunk index past the data", () => {
      const bytes = vectorBytes(7 * CHUNK_SIZE + 10);
      const root = merkleRoot(bytes);
      for (let i = 0; i < 8; i++) {
        const proof = merkleProof(bytes, i);
        expect(proof.siblings).to.have.length(3);
        expect(proof.leafCount).to.equal(8);
        expect(proof.leaf).to.equal(chunkLeaf(i, proof.chunk));
        expect(computeRoot(i, proof.leaf, proof.siblings)).to.equal(root);
        expect(verifyChunk(root, i, proof.chunk, proof.siblings)).to.equal(true);
        expect(verifyChunk(root, i ^ 1, proof.chunk, proof.siblings)).to.equal(false);
      }
      expect(merkleProof(bytes, 7).chunk).to.have.length(10);
      expect(() => merkleProof(bytes, 8)).to.throw(CommitmentError);
      expect(verifyChunk(root, 8, bytes.subarray(0, 1), merkleProof(bytes, 0).siblings)).to.equal(false);
    });
  });

  describe("shared vectors (test/vectors/chunk-merkle.json)", () => {
    it("the committed file is what scripts/gen-merkle-vectors.ts generates", () => {
      expect(vectors).to.deep.equal(buildMerkleVectors());
    });

    for (const c of vectors.cases) {
      it(`${c.name}: root, leaves and proofs`, () => {
        const bytes = getBytes(c.bytes);
        expect(bytes).to.have.length(c.length);
        expect(merkleRoot(bytes)).to.equal(c.root);
        expect(c.proofs).to.have.length(c.chunkCount);
        for (const p of c.proofs) {
          const proof = merkleProof(bytes, p.index);
          expect(hexlify(proof.chunk)).to.equal(p.chunk);
          expect(proof.leaf).to.equal(p.leaf);
          expect(proof.siblings).to.deep.equal(p.siblings);
          expect(proof.leafCount).to.equal(c.leafCount);
          expect(verifyChunk(c.root, p.index, getBytes(p.chunk), p.siblings)).to.equal(true);
        }
      });
    }

    for (const bad of vectors.invalid) {
      it(`rejects: ${bad.name}`, () => {
        expect(verifyChunk(bad.root, bad.index, getBytes(bad.chunk), bad.siblings)).to.equal(false);
        const leaf = chunkLeaf(bad.index, getBytes(bad.chunk));
        const root = computeRoot(bad.index, leaf, bad.siblings);
        if (bad.expect === "revert") expect(root).to.equal(undefined);
        else expect(root).to.not.equal(undefined);
      });
    }
  });

  describe("weights blob", () => {
    it("lays out W, b, m, s per layer and ma, mb, s for add (known bytes)", () => {
      const model: VqmModel = {
        format: "vqm/1",
        name: "kat",
        input: { shape: [1, 2], scale: 1 },
        layers: [
          {
            kind: "dense",
            input: -1,
            inFeatures: 2,
            outFeatures: 1,
            weights: Int8Array.from([1, -1]),
            bias: Int32Array.from([-2]),
            requant: { multiplier: Int32Array.from([0x01020304]), shift: Uint8Array.from([4]), activation: "relu" },
          },
          { kind: "relu", input: 0 },
          { kind: "add", inputs: [0, 1], multipliers: [5, 2 ** 31 - 1], shift: 62, activation: "none" },
        ],
      };
      expect(hexlify(weightsBlob(model))).to.equal(
        "0x" + "01ff" + "feffffff" + "04030201" + "04" + "05000000" + "ffffff7f" + "3e",
      );
      const layout = weightsLayout(model);
      expect(layout.length).to.equal(20);
      expect(layout.byLayer[1]).to.equal(undefined);
      expect(layout.byLayer[0]).to.deep.equal({
        layer: 0,
        kind: "dense",
        range: { offset: 0, length: 11 },
        weights: { offset: 0, length: 2 },
        rows: 1,
        rowLength: 2,
        bias: { offset: 2, length: 4 },
        multiplier: { offset: 6, length: 4 },
        shift: { offset: 10, length: 1 },
      });
      expect(layout.byLayer[2]).to.deep.equal({
        layer: 2,
        kind: "add",
        range: { offset: 11, length: 9 },
        multiplierA: { offset: 11, length: 4 },
        multiplierB: { offset: 15, length: 4 },
        shift: { offset: 19, length: 1 },
      });
    });

    it("locates every output's weights row and its chunks in a multi-chunk blob", () => {
      const model = tinyModel();
      const blob = weightsBlob(model);
      const layout = weightsLayout(model);
      expect(blob).to.have.length(layout.length);
      expect(layout.layers.map((l) => l.layer)).to.deep.equal([0, 2, 4]);
      const dense = layout.byLayer[0]!;
      const conv = layout.byLayer[4]!;
      if (dense.kind === "add" || conv.kind === "add") expect.fail("wrong layout kinds");
      expect(conv.rowLength).to.equal(2 * 3 * 3);
      const layers = model.layers;
      for (const [entry, layer] of [
        [dense, layers[0]!],
        [conv, layers[4]!],
      ] as const) {
        if (layer.kind !== "dense" && layer.kind !== "conv2d") expect.fail("wrong layer kinds");
        for (let j = 0; j < entry.rows; j++) {
          const row = blob.subarray(
            entry.weights.offset + j * entry.rowLength,
            entry.weights.offset + (j + 1) * entry.rowLength,
          );
          expect(new Int8Array(row.buffer, row.byteOffset, row.length)).to.deep.equal(
            layer.weights.subarray(j * entry.rowLength, (j + 1) * entry.rowLength),
          );
          const view = new DataView(blob.buffer);
          expect(view.getInt32(entry.bias.offset + 4 * j, true)).to.equal(layer.bias[j]);
          expect(view.getInt32(entry.multiplier.offset + 4 * j, true)).to.equal(layer.requant.multiplier[j]);
          expect(blob[entry.shift.offset + j]).to.equal(layer.requant.shift[j]);
        }
      }
      // Dense row 25 (bytes 1000..1039) straddles chunks 0 and 1.
      expect(chunksOf({ offset: dense.weights.offset + 25 * 40, length: 40 })).to.deep.equal({ first: 0, last: 1 });
      expect(chunksOf({ offset: 10, length: 0 })).to.equal(undefined);
      expect(weightsRoot(model)).to.equal(merkleRoot(blob));
    });

    it("refuses parameters whose length disagrees with the layer's dimensions", () => {
      const model = tinyModel();
      const layer = model.layers[0]!;
      if (layer.kind !== "dense") expect.fail("fixture changed");
      layer.bias = layer.bias.subarray(1);
      expect(() => weightsBlob(model)).to.throw(CommitmentError, /bias has 29 entries, expected 30/);
    });
  });

  describe("trace roots", () => {
    it("commit a layer output's element bytes, little-endian, without the canonical header", () => {
      const int8 = createTensor("int8", [1, 3], [-1, 0, 127]);
      expect(traceRoot(int8)).to.equal(chunkLeaf(0, Uint8Array.from([0xff, 0x00, 0x7f])));
      const int32 = createTensor("int32", [1], [2]);
      expect(traceRoot(int32)).to.equal(chunkLeaf(0, Uint8Array.from([2, 0, 0, 0])));
      const big = createTensor("int8", [1, 2048], new Array<number>(2048).fill(3));
      expect(traceRoots([int8, big])).to.deep.equal([traceRoot(int8), merkleRoot(new Uint8Array(2048).fill(3))]);
    });
  });
});
