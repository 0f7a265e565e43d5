/**
 * `verity zk build|prove|verify`: the ZK artifacts of a model folder (DIR/vqm → DIR/zk), a
 * Groth16 proof of one inference, and its off-chain verification (docs/zk.md).
 */
import { writeFile } from "node:fs/promises";
import type { Groth16Proof } from "snarkjs";
import type { Command } from "../cli.ts";
import { BaseError } from "../errors.ts";
import { readModelFolder, resolveModelFolder } from "../model/model-folder.ts";
import { quantiseInput } from "../model/quantise/fixed-point.ts";
import type { Tensor } from "../model/tensor.ts";
import { buildZk } from "../zk/build-zk.ts";
import { createProver } from "../zk/prove.ts";
import { verifyZkProof } from "../zk/verify-proof.ts";
import { readZkManifest } from "../zk/zk-files.ts";
import { readJsonFile } from "./parse-options.ts";

/** The file `zk prove` writes and `zk verify` reads. */
export type ProofFile = {
  model: string;
  input: number[];
  output: number[];
  publicSignals: string[];
  proof: Groth16Proof;
  /** abi.encode(a, b, c): the `proof` bytes of submitWithProof. */
  calldata: string;
};

const progress = (line: string) => console.log(line);

export const zkBuildCommand: Command = {
  summary: [
    "Build the ZK artifacts of a model folder: DIR/vqm → DIR/zk (circuit, wasm, r1cs, zkey, vkey, Verifier.sol, zk.json).",
    "",
    "Without --ptau the development powers of tau is used (made on this machine: development only).",
    "With --ptau, a public ceremony file powersOfTau28_hez_final_XX.ptau, checked against its published hash.",
  ].join("\n"),
  usage: "DIR [--ptau FILE] [--solidity OUT.sol] [--contract NAME]",
  options: { ptau: { type: "string" }, solidity: { type: "string" }, contract: { type: "string" } },
  maxPositionals: 1,
  async run(values, [dir]) {
    if (!dir)
      throw new BaseError("zk build needs a model folder.", { details: [`Usage: verity zk build ${this.usage}`] });
    const folder = resolveModelFolder(dir);
    const manifest = await buildZk({
      modelDir: folder.root,
      ptau: values.ptau as string | undefined,
      solidityOut: values.solidity as string | undefined,
      contractName: values.contract as string | undefined,
      progress,
    });
    console.log(
      `built ${folder.zk}: ${manifest.constraints} constraints, ${manifest.publicSignals} public signals, ` +
        `setup ${manifest.figures.setupSeconds} s, zkey ${(manifest.figures.zkeyBytes / 1024).toFixed(0)} KiB, ` +
        `powers of tau: ${manifest.ptau.source} 2^${manifest.ptau.power}`,
    );
    console.log(`register it: verity model register ${dir} --mode zk --price ETH`);
  },
};

export const zkProveCommand: Command = {
  summary: [
    "Prove one inference of a model folder with its ZK artifacts and write the proof file.",
    "",
    'The input file is JSON { "data": [...] }: int8 values, or floats with --float.',
  ].join("\n"),
  usage: "DIR --input INPUT.json [--float] [--out PROOF.json]",
  options: { input: { type: "string" }, float: { type: "boolean", default: false }, out: { type: "string" } },
  maxPositionals: 1,
  async run(values, [dir]) {
    if (!dir || !values.input)
      throw new BaseError("zk prove needs a model folder and --input.", {
        details: [`Usage: verity zk prove ${this.usage}`],
      });
    const { model, folder } = await readModelFolder(dir);
    const input = await readInput(values.input as string, model.input.shape, model.input.scale, values.float === true);
    const prover = await createProver({ zkDir: folder.zk });
    try {
      progress(`proving ${prover.manifest.model} (${prover.manifest.constraints} constraints)`);
      const result = await prover.prove(input);
      const file: ProofFile = {
        model: prover.manifest.model,
        input: Array.from(input.data as Int8Array),
        output: Array.from(result.output.data as Int8Array),
        publicSignals: result.publicSignals.map(String),
        proof: result.proof,
        calldata: result.calldata,
      };
      const out = (values.out as string | undefined) ?? "proof.json";
      await writeFile(out, `${JSON.stringify(file, null, 2)}\n`);
      console.log(`output int8 [${result.output.shape.join(", ")}]: ${file.output.join(" ")}`);
      console.log(`proved in ${result.seconds.toFixed(2)} s; wrote ${out}`);
    } finally {
      await prover.close();
    }
  },
};

export const zkVerifyCommand: Command = {
  summary: "Verify a proof file off-chain against a model folder's verification key (DIR/zk/vkey.json).",
  usage: "DIR --proof PROOF.json",
  options: { proof: { type: "string" } },
  maxPositionals: 1,
  async run(values, [dir]) {
    if (!dir || !values.proof)
      throw new BaseError("zk verify needs a model folder and --proof.", {
        details: [`Usage: verity zk verify ${this.usage}`],
      });
    const zkDir = resolveModelFolder(dir).zk;
    const manifest = await readZkManifest(zkDir);
    // A missing file, or a syntax error with its line and column (parse-options.ts).
    const file = readJsonFile(values.proof as string, "the --proof file") as ProofFile;
    const tensor = (data: unknown, shape: number[]): Tensor => {
      if (!Array.isArray(data) || !data.every((x) => Number.isInteger(x) && x >= -128 && x <= 127))
        throw new BaseError("The proof file's input and output must be int8 arrays.");
      return { dtype: "int8", shape, data: Int8Array.from(data as number[]) };
    };
    const valid = await verifyZkProof({
      zkDir,
      input: tensor(file.input, manifest.input.shape),
      output: tensor(file.output, manifest.output.shape),
      proof: file.proof,
    });
    if (!valid)
      throw new BaseError(`The proof does not verify for ${manifest.model}.`, {
        details: ["The public signals were recomputed from the file's input and output."],
      });
    console.log(`valid: ${manifest.model} maps [${file.input.join(" ")}] to [${file.output.join(" ")}]`);
  },
};

async function readInput(path: string, shape: number[], scale: number, float: boolean): Promise<Tensor> {
  const data = (readJsonFile(path, "the --input file") as { data?: unknown } | null)?.data;
  const count = shape.reduce((n, d) => n * d, 1);
  if (!Array.isArray(data) || data.length !== count || !data.every((x) => typeof x === "number" && Number.isFinite(x)))
    throw new BaseError(`The input needs "data": ${count} numbers (shape [${shape.join(", ")}]).`);
  const numbers = data as number[];
  if (!float && !numbers.every((x) => Number.isInteger(x) && x >= -128 && x <= 127))
    throw new BaseError("The input values are not all int8 integers.", {
      details: ["Pass --float to quantise float values with the model's input scale."],
    });
  return { dtype: "int8", shape: [...shape], data: float ? quantiseInput(numbers, scale) : Int8Array.from(numbers) };
}
