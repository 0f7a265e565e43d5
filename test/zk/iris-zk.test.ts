/**
 * ZK mode for the iris demo model, on the committed artifacts (models/iris/zk, no setup here):
 * proofs verify off-chain and on-chain through Groth16TensorVerifier, and every forgery we can
 * build is refused (changed output, another input, another model's proof, a public signal at or
 * above the field modulus, a witness that satisfies the requantisation equation but not its
 * range check).
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { network } from "hardhat";
import { groth16, wtns } from "snarkjs";
import type { Groth16Proof } from "snarkjs";
import { hexlify } from "ethers";
import type { Contract } from "ethers";
import { executeVqm, roundShift } from "../../oracle/model/vqm/reference-executor.ts";
import { readVqm } from "../../oracle/model/vqm/vqm-files.ts";
import type { DenseLayer } from "../../oracle/model/vqm/vqm-model.ts";
import { encodeTensor } from "../../oracle/model/tensor-codec.ts";
import type { Tensor } from "../../oracle/model/tensor.ts";
import { quotientBitsFor } from "../../oracle/zk/generate-circuit.ts";
import { fieldModulus, packInt8, publicSignals } from "../../oracle/zk/packing.ts";
import { decodeProof, encodeProof, solidityProof } from "../../oracle/zk/proof-calldata.ts";
import { createProver } from "../../oracle/zk/prove.ts";
import type { ZkProof, ZkProver } from "../../oracle/zk/prove.ts";
import { releaseCurve } from "../../oracle/zk/snarkjs-util.ts";
import { verifyWithSignals, verifyZkProof } from "../../oracle/zk/verify-proof.ts";
import { readZkManifest, zkPath } from "../../oracle/zk/zk-files.ts";
import { failingConstraints, parseSym, patchWitness, readWitness } from "./witness-tools.ts";

const { ethers } = await network.create();

const irisZk = "models/iris/zk";
const otherZk = "test/zk/fixtures/other-4-8-3/zk";
const int8 = (values: number[]): Tensor => ({ dtype: "int8", shape: [1, 4], data: Int8Array.from(values) });
const sample = int8([-52, 67, -93, -107]); // a quantised iris setosa-like flower
const otherSample = int8([40, -3, 77, 60]);
const bytes = (tensor: Tensor) => hexlify(encodeTensor(tensor));
const values = (tensor: Tensor) => Array.from(tensor.data as Int8Array);

describe("ZK mode: iris", function () {
  this.timeout(60_000);
  let irisProver: ZkProver;
  let otherProver: ZkProver;
  let proof: ZkProof;
  let expected: Tensor;
  let adapter: Contract;
  let verifier: Contract;
  let otherAdapter: Contract;

  before(async () => {
    const { model } = await readVqm("models/iris/vqm");
    expected = executeVqm(model, sample).output;
    irisProver = await createProver({ zkDir: irisZk });
    otherProver = await createProver({ zkDir: otherZk });
    proof = await irisProver.prove(sample);
    verifier = await ethers.deployContract("IrisGroth16Verifier");
    adapter = await ethers.deployContract("Groth16TensorVerifier", [await verifier.getAddress(), [1, 4], [1, 3]]);
    const otherVerifier = await ethers.deployContract("OtherGroth16Verifier");
    otherAdapter = await ethers.deployContract("Groth16TensorVerifier", [
      await otherVerifier.getAddress(),
      [1, 4],
      [1, 3],
    ]);
  });

  after(async () => {
    await irisProver?.close();
    await otherProver?.close();
    await releaseCurve();
  });

  it("proves the reference executor's output, and the proof verifies off-chain", async () => {
    expect(values(proof.output)).to.deep.equal(values(expected));
    expect(proof.publicSignals).to.deep.equal(publicSignals(sample.data as Int8Array, expected.data as Int8Array));
    expect(await verifyZkProof({ zkDir: irisZk, input: sample, output: expected, proof: proof.proof })).to.equal(true);
  });

  it("verifies on-chain through the adapter, from the canonical tensor bytes", async () => {
    expect(await adapter.getFunction("verify")(bytes(sample), bytes(expected), proof.calldata)).to.equal(true);
    expect(await adapter.getFunction("publicSignalCount")()).to.equal(2n);
    const signals = (await adapter.getFunction("publicSignals")(bytes(sample), bytes(expected))) as bigint[];
    expect([...signals]).to.deep.equal(proof.publicSignals);
  });

  it("packs chunks of 31 bytes big-endian on-chain exactly as off-chain (64-element tensors)", async () => {
    const wide = await ethers.deployContract("Groth16TensorVerifier", [
      await verifier.getAddress(),
      [1, 64],
      [2, 1, 3],
    ]);
    const input: Tensor = {
      dtype: "int8",
      shape: [1, 64],
      data: Int8Array.from({ length: 64 }, (_, i) => ((i * 37) % 256) - 128),
    };
    const output: Tensor = { dtype: "int8", shape: [2, 1, 3], data: Int8Array.from([127, -128, 0, 1, -1, 5]) };
    const signals = (await wide.getFunction("publicSignals")(bytes(input), bytes(output))) as bigint[];
    expect([...signals]).to.deep.equal([...packInt8(output.data as Int8Array), ...packInt8(input.data as Int8Array)]);
    expect(signals.length).to.equal(4); // 1 output chunk, 3 input chunks (31 + 31 + 2)
  });

  it("the proof bytes round-trip and are 256 bytes", () => {
    expect((proof.calldata.length - 2) / 2).to.equal(256);
    expect(encodeProof(decodeProof(proof.calldata))).to.equal(proof.calldata);
  });

  it("refuses a changed output", async () => {
    const changed: Tensor = { ...expected, data: Int8Array.from(values(expected), (v, i) => (i === 0 ? v + 1 : v)) };
    expect(await verifyZkProof({ zkDir: irisZk, input: sample, output: changed, proof: proof.proof })).to.equal(false);
    expect(await adapter.getFunction("verify")(bytes(sample), bytes(changed), proof.calldata)).to.equal(false);
  });

  it("refuses the proof for another input", async () => {
    const other = int8([-52, 67, -93, -106]);
    expect(await verifyZkProof({ zkDir: irisZk, input: other, output: expected, proof: proof.proof })).to.equal(false);
    expect(await adapter.getFunction("verify")(bytes(other), bytes(expected), proof.calldata)).to.equal(false);
  });

  it("refuses a proof from another model's circuit (same shapes, different weights)", async () => {
    const { model } = await readVqm("test/zk/fixtures/other-4-8-3/vqm");
    const foreign = await otherProver.prove(otherSample);
    expect(values(foreign.output)).to.deep.equal(values(executeVqm(model, otherSample).output));
    // valid for its own verifying key...
    expect(
      await otherAdapter.getFunction("verify")(bytes(otherSample), bytes(foreign.output), foreign.calldata),
    ).to.equal(true);
    // ...refused by the iris verifier, off-chain and on-chain
    expect(
      await verifyZkProof({ zkDir: irisZk, input: otherSample, output: foreign.output, proof: foreign.proof }),
    ).to.equal(false);
    expect(await adapter.getFunction("verify")(bytes(otherSample), bytes(foreign.output), foreign.calldata)).to.equal(
      false,
    );
    // and an iris proof is refused by the other model's adapter
    expect(await otherAdapter.getFunction("verify")(bytes(sample), bytes(expected), proof.calldata)).to.equal(false);
  });

  it("refuses a public signal at or above the field modulus (s + p aliases s in the field)", async () => {
    const [out, input] = proof.publicSignals as [bigint, bigint];
    const { a, b, c } = solidityProof(proof.proof);
    const verifyProof = verifier.getFunction("verifyProof");
    expect(await verifyProof(a, b, c, [out, input])).to.equal(true);
    expect(await verifyProof(a, b, c, [out + fieldModulus, input])).to.equal(false);
    expect(await verifyProof(a, b, c, [out, input + fieldModulus])).to.equal(false);
    expect(await verifyProof(a, b, c, [fieldModulus, input])).to.equal(false);
    expect(
      await verifyWithSignals({ zkDir: irisZk, signals: [out + fieldModulus, input], proof: proof.proof }),
    ).to.equal(false);
    const vkey = JSON.parse(await readFile(zkPath(irisZk, "vkey"), "utf8")) as unknown;
    expect(await groth16.verify(vkey, [String(out + fieldModulus), String(input)], proof.proof)).to.equal(false);
  });

  it("reverts on tensors that are not canonical int8 of the model's shapes, and on a bad proof length", async () => {
    const verify = adapter.getFunction("verify");
    const wrongShape: Tensor = { dtype: "int8", shape: [4, 1], data: sample.data };
    const int32: Tensor = { dtype: "int32", shape: [1, 4], data: Int32Array.from(values(sample)) };
    await expect(verify(bytes(wrongShape), bytes(expected), proof.calldata)).to.be.revertedWithCustomError(
      adapter,
      "TensorVerifierInputInvalid",
    );
    await expect(verify(bytes(int32), bytes(expected), proof.calldata)).to.be.revertedWithCustomError(
      adapter,
      "TensorVerifierInputInvalid",
    );
    await expect(verify(bytes(sample) + "00", bytes(expected), proof.calldata)).to.be.revertedWithCustomError(
      adapter,
      "TensorVerifierInputInvalid",
    );
    await expect(verify(bytes(sample), bytes(sample), proof.calldata)).to.be.revertedWithCustomError(
      adapter,
      "TensorVerifierOutputInvalid",
    );
    await expect(verify(bytes(sample), bytes(expected), proof.calldata.slice(0, -2)))
      .to.be.revertedWithCustomError(adapter, "TensorVerifierProofLengthInvalid")
      .withArgs(255);
    await expect(
      ethers.deployContract("Groth16TensorVerifier", [await verifier.getAddress(), [1, 0], [1, 3]]),
    ).to.be.revertedWithCustomError(adapter, "TensorVerifierShapeInvalid");
  });

  it("returns false for a proof whose points are not on the curve", async () => {
    const garbage = "0x" + "01".repeat(256);
    expect(await adapter.getFunction("verify")(bytes(sample), bytes(expected), garbage)).to.equal(false);
  });

  it("refuses a hand-built witness that satisfies acc·m + 2^(s-1) = q·2^s + r but not 0 <= r < 2^s", async () => {
    const { model } = await readVqm("models/iris/vqm");
    const layer = model.layers[0] as DenseLayer;
    const manifest = await readZkManifest(irisZk);
    expect(manifest.constraints).to.be.greaterThan(0);
    // a hidden neuron whose ReLU clamps (q < 0): moving q down keeps its output, 0
    const accs = Array.from({ length: layer.outFeatures }, (_, j) => {
      let acc = BigInt(layer.bias[j]!);
      for (let i = 0; i < layer.inFeatures; i++)
        acc += BigInt((sample.data[i] as number) * layer.weights[j * layer.inFeatures + i]!);
      return acc;
    });
    const j = accs.findIndex(
      (acc, k) => roundShift(acc * BigInt(layer.requant.multiplier[k]!), layer.requant.shift[k]!) < 0n,
    );
    expect(j).to.be.at.least(0);
    const m = BigInt(layer.requant.multiplier[j]!);
    const s = layer.requant.shift[j]!;
    const q = roundShift(accs[j]! * m, s);
    const r = accs[j]! * m + (1n << BigInt(s - 1)) - q * (1n << BigInt(s));
    const [q2, r2] = [q - 1n, r + (1n << BigInt(s))]; // the same sum, r2 >= 2^s
    expect(q2 * (1n << BigInt(s)) + r2).to.equal(q * (1n << BigInt(s)) + r);

    const wires = parseSym(await readFile(zkPath(irisZk, "sym"), "utf8"));
    const prefix = `main.layer0.rq[${j}]`;
    const wire = (name: string) => {
      const index = wires.get(`${prefix}.${name}`);
      if (index === undefined) throw new Error(`no wire ${prefix}.${name}`);
      return index;
    };
    const bound = BigInt(
      Math.abs(layer.bias[j]!) +
        128 * Array.from(layer.weights.subarray(j * 4, j * 4 + 4)).reduce((t, w) => t + Math.abs(w), 0),
    );
    const qbits = quotientBitsFor(bound, Number(m), s);
    const offset = 1n << BigInt(qbits);
    const n = 1n << BigInt(qbits + 1);
    const patches = new Map<number, bigint>();
    const setBits = (name: string, value: bigint, count: number) => {
      for (let i = 0; i < count; i++) patches.set(wire(`${name}.out[${i}]`), (value >> BigInt(i)) & 1n);
      if (wires.has(`${prefix}.${name}.in`)) patches.set(wire(`${name}.in`), value);
    };
    // every signal that depends on q and r, recomputed honestly, except r's bits, which cannot be
    // (r2 needs s + 1 bits): the range check is the only constraint left to fail
    patches.set(wire("q"), q2);
    patches.set(wire("r"), r2);
    if (wires.has(`${prefix}.rBits.in`)) patches.set(wire("rBits.in"), r2);
    setBits("qBits", q2 + offset, qbits + 1);
    const belowIn = q2 + offset + n - offset; // below: q2 < LO = 0
    setBits("below.bits", belowIn, qbits + 2);
    if (wires.has(`${prefix}.below.in[0]`)) patches.set(wire("below.in[0]"), q2 + offset);
    patches.set(wire("below.out"), 1n - ((belowIn >> BigInt(qbits + 1)) & 1n));
    const aboveIn = 127n + offset + n - (q2 + offset);
    setBits("above.bits", aboveIn, qbits + 2);
    if (wires.has(`${prefix}.above.in[1]`)) patches.set(wire("above.in[1]"), q2 + offset);
    patches.set(wire("above.out"), 1n - ((aboveIn >> BigInt(qbits + 1)) & 1n));
    patches.set(wire("toLo"), 0n - q2); // below = 1: toLo = LO - q2
    patches.set(wire("toHi"), 0n);

    const dir = await mkdtemp(join(tmpdir(), "verity-wtns-"));
    try {
      const honestFile = join(dir, "honest.wtns");
      await wtns.calculate(
        { inPacked: packInt8(sample.data as Int8Array).map(String) },
        zkPath(irisZk, "wasm"),
        honestFile,
      );
      const honest = new Uint8Array(await readFile(honestFile));
      const r1csFile = zkPath(irisZk, "r1cs");
      expect(await failingConstraints(r1csFile, readWitness(honest))).to.deep.equal([]);

      const forged = patchWitness(honest, patches);
      const forgedFile = join(dir, "forged.wtns");
      await writeFile(forgedFile, forged);
      const failing = await failingConstraints(r1csFile, readWitness(forged));
      // exactly one constraint fails, the bit decomposition of r (sum of bits === r) ...
      expect(failing).to.have.length(1);
      expect(failing[0]!.slice(1)).to.include(wire("r"));
      expect(failing[0]!.slice(1)).to.include(wire("rBits.out[0]"));
      // ... and snarkjs' witness check refuses it
      const warnings: string[] = [];
      const logger = {
        debug: () => {},
        info: () => {},
        warn: (message: string) => warnings.push(message),
        error: () => {},
      };
      expect(await wtns.check(r1csFile, forgedFile, logger)).to.equal(false);
      expect(warnings.join("\n")).to.include(`constraint ${failing[0]![0]}`);
      // a proof made from it does not verify
      const forgedProof = await groth16.prove(zkPath(irisZk, "zkey"), forgedFile);
      const vkey = JSON.parse(await readFile(zkPath(irisZk, "vkey"), "utf8")) as unknown;
      expect(await groth16.verify(vkey, forgedProof.publicSignals, forgedProof.proof as Groth16Proof)).to.equal(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
      await releaseCurve();
    }
  });
});
