/**
 * ZK mode for the spam model of the agent demo, on the committed artifacts (models/spam/zk,
 * built by `node scripts/zk-artifacts.ts spam` with a local 2^13 development ceremony; no setup
 * here): the folder holds exactly what a prover and the chain need, its hashes match its
 * manifest, and one proof of a held-out message verifies off-chain and on-chain through
 * Groth16TensorVerifier (and is refused for a changed output).
 */
import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import { expect } from "chai";
import { network } from "hardhat";
import { hexlify } from "ethers";
import type { SpamMetadata } from "../../models/spam/build-spam.ts";
import { executeVqm } from "../../oracle/model/vqm/reference-executor.ts";
import { readVqm } from "../../oracle/model/vqm/vqm-files.ts";
import { encodeTensor } from "../../oracle/model/tensor-codec.ts";
import type { Tensor } from "../../oracle/model/tensor.ts";
import { createProver } from "../../oracle/zk/prove.ts";
import { releaseCurve } from "../../oracle/zk/snarkjs-util.ts";
import { verifyZkProof } from "../../oracle/zk/verify-proof.ts";
import { readZkManifest, zkPath } from "../../oracle/zk/zk-files.ts";

const { ethers } = await network.create();

const spamZk = "models/spam/zk";
const bytes = (tensor: Tensor) => hexlify(encodeTensor(tensor));
const sha256 = async (file: string) =>
  createHash("sha256")
    .update(await readFile(file))
    .digest("hex");

describe("ZK mode: spam", function () {
  this.timeout(60_000);

  it("commits only the prover's and the chain's files, as its manifest describes them", async () => {
    expect((await readdir(spamZk)).sort()).to.deep.equal([
      "Verifier.sol",
      "circuit.wasm",
      "circuit.zkey",
      "vkey.json",
      "zk.json",
    ]);
    const manifest = await readZkManifest(spamZk);
    const { manifest: vqm } = await readVqm("models/spam/vqm");
    expect(manifest.modelHash).to.equal(vqm.modelHash);
    expect(manifest.input).to.deep.equal({ shape: [1, 512], chunks: 17 });
    expect(manifest.output).to.deep.equal({ shape: [1, 2], chunks: 1 });
    expect(manifest.ptau).to.include({ source: "development", power: 13 });
    expect(await sha256(zkPath(spamZk, "zkey"))).to.equal(manifest.zkeySha256);
    expect(await sha256(zkPath(spamZk, "wasm"))).to.equal(manifest.wasmSha256);
    const zkey = (await stat(zkPath(spamZk, "zkey"))).size;
    expect(zkey).to.equal(manifest.figures.zkeyBytes);
    expect(zkey).to.be.below(5_000_000);
    expect((await stat(zkPath(spamZk, "wasm"))).size).to.be.below(1_000_000);
    // The same verifier as the one Hardhat compiles for tests and deployments.
    expect(await readFile(zkPath(spamZk, "verifier"), "utf8")).to.equal(
      await readFile("contracts/verify/SpamVerifier.sol", "utf8"),
    );
  });

  it("a proof of a held-out spam message verifies off-chain and on-chain through the adapter", async () => {
    const metadata = JSON.parse(await readFile("models/spam/spam.json", "utf8")) as SpamMetadata;
    const sample = metadata.samples.find((s) => s.label === "spam")!;
    const input: Tensor = { dtype: "int8", shape: [1, 512], data: Int8Array.from(sample.int8Input) };
    const { model } = await readVqm("models/spam/vqm");
    const expected = executeVqm(model, input).output;

    const prover = await createProver({ zkDir: spamZk });
    try {
      const proof = await prover.prove(input);
      expect(Array.from(proof.output.data as Int8Array)).to.deep.equal(Array.from(expected.data as Int8Array));
      expect(await verifyZkProof({ zkDir: spamZk, input, output: expected, proof: proof.proof })).to.equal(true);

      const verifier = await ethers.deployContract("SpamGroth16Verifier");
      const adapter = await ethers.deployContract("Groth16TensorVerifier", [
        await verifier.getAddress(),
        [1, 512],
        [1, 2],
      ]);
      expect(await adapter.getFunction("publicSignalCount")()).to.equal(18n);
      expect(await adapter.getFunction("verify")(bytes(input), bytes(expected), proof.calldata)).to.equal(true);
      const data = Int8Array.from(expected.data as Int8Array, (v, i) => (i === 1 ? v + 1 : v));
      const changed: Tensor = { ...expected, data };
      expect(await adapter.getFunction("verify")(bytes(input), bytes(changed), proof.calldata)).to.equal(false);
      const gas = await adapter.getFunction("verify").estimateGas(bytes(input), bytes(expected), proof.calldata);
      console.log(`      spam proof: ${proof.seconds.toFixed(2)} s to prove, verify ${gas} gas (estimateGas)`);
    } finally {
      await prover.close();
      await releaseCurve();
    }
  });
});
