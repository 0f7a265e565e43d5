/**
 * The parts of the ZK pipeline that need no setup: the generator's refusals, the packing, the
 * powers-of-tau checks. (Setups and ceremonies never run in the test suite: the artifacts are
 * committed and `node scripts/zk-artifacts.ts` rebuilds them.)
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { syntheticMlp } from "../../oracle/model/vqm/synthetic-vqm.ts";
import type { DenseLayer, VqmModel } from "../../oracle/model/vqm/vqm-model.ts";
import { CircuitGenerationError, generateCircuit, quotientBitsFor } from "../../oracle/zk/generate-circuit.ts";
import { chunkCount, fieldModulus, packInt8, unpackInt8 } from "../../oracle/zk/packing.ts";
import { checkPublishedPtau, hermezPtau, PtauError, requiredPower } from "../../oracle/zk/ptau.ts";

describe("ZK pipeline", () => {
  it("packs int8 values as v + 128, 31 bytes per big-endian chunk, always below the field modulus", () => {
    expect(packInt8(Int8Array.from([-128, 0, 127]))).to.deep.equal([0x0080ffn]);
    const values = Int8Array.from({ length: 70 }, () => 127);
    const chunks = packInt8(values);
    expect(chunks).to.have.length(chunkCount(70)).and.length(3);
    expect(chunks[0]).to.equal((1n << 248n) - 1n);
    expect(chunks[0]! < fieldModulus).to.equal(true);
    expect(chunks[2]).to.equal((1n << 64n) - 1n); // 8 bytes left over
    expect(Array.from(unpackInt8(chunks, 70))).to.deep.equal(Array.from(values));
  });

  it("generates a circuit whose header names the public signals, with dense weights as constants", () => {
    const model = syntheticMlp({ seed: 1, sizes: [40, 5, 2] });
    const { source, inputChunks, outputChunks } = generateCircuit(model);
    expect([inputChunks, outputChunks]).to.deep.equal([2, 1]);
    expect(source).to.include("signal input inPacked[2];");
    expect(source).to.include("signal output outPacked[1];");
    expect(source).to.include("component main {public [inPacked]}");
    const first = model.layers[0] as DenseLayer;
    expect(source).to.include(`Dense(40, 5, [[${Array.from(first.weights.subarray(0, 40)).join(",")}]`);
  });

  it("refuses layers it does not support, by name", () => {
    const model: VqmModel = { ...syntheticMlp({ seed: 2, sizes: [4, 3] }), outputScale: undefined };
    model.layers.push({ kind: "argmax", input: 0 });
    expect(() => generateCircuit(model)).to.throw(CircuitGenerationError, /argmax/);
  });

  it("bounds the requantised quotient tightly, with at least 8 bits", () => {
    expect(quotientBitsFor(1000n, 1 << 30, 40)).to.equal(8);
    // |q| <= floor((2^31 · 2^30 + 2^29) / 2^30) + 1 = 2^31 + 1: 32 bits
    expect(quotientBitsFor(1n << 31n, 1 << 30, 30)).to.equal(32);
  });

  it("picks the smallest power of tau that fits constraints and public signals", () => {
    expect(requiredPower(984, 2)).to.equal(10);
    expect(requiredPower(1022, 1)).to.equal(10);
    expect(requiredPower(1022, 2)).to.equal(11);
    expect(requiredPower(10, 1)).to.equal(8);
  });

  it("accepts a public ptau only with the published hash of its size", async () => {
    expect(hermezPtau.find((p) => p.power === 12)?.name).to.equal("powersOfTau28_hez_final_12.ptau");
    const dir = await mkdtemp(join(tmpdir(), "verity-ptau-"));
    try {
      const unknown = join(dir, "unknown.ptau");
      await writeFile(unknown, new Uint8Array(1000));
      await expectRejection(checkPublishedPtau(unknown, 8), /not a known public ceremony file/);
      const forged = join(dir, "forged.ptau");
      await writeFile(forged, new Uint8Array(hermezPtau.find((p) => p.power === 8)!.bytes));
      await expectRejection(checkPublishedPtau(forged, 8), /does not match the published hash/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

async function expectRejection(promise: Promise<unknown>, message: RegExp): Promise<void> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(PtauError);
    expect((error as Error).message).to.match(message);
    return;
  }
  expect.fail("expected a rejection");
}
