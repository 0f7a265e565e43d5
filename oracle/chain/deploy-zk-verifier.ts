/**
 * Deploys what verifies a Zk model's proofs on chain: the Groth16 verifier generated for its
 * circuit (DIR/zk/Verifier.sol, compiled here with the npm `solc`, the compiler and settings of
 * hardhat.config.ts) and the `Groth16TensorVerifier` adapter over it with the circuit's input
 * and output shapes. The adapter's address is what the model registers as its verifier.
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { ContractFactory, type Signer } from "ethers";
import { BaseError } from "../errors.ts";
import { readZkManifest, zkPath, type ZkManifest } from "../zk/zk-files.ts";
import { deployContract } from "./deploy-suite.ts";

export type DeployZkVerifierParameters = {
  /** The model's zk folder (`verity zk build` output): Verifier.sol and zk.json. */
  zkDir: string;
};

export type DeployZkVerifierReturnType = {
  manifest: ZkManifest;
  /** The generated Groth16 verifier. */
  groth16: string;
  /** The IProofVerifier adapter: register this one. */
  adapter: string;
};

export class VerifierCompileError extends BaseError {
  override name = "VerifierCompileError";
}

type SolcOutput = {
  errors?: { severity: string; formattedMessage: string }[];
  contracts?: Record<string, Record<string, { abi: unknown[]; evm: { bytecode: { object: string } } }>>;
};

/** Compiles one self-contained Solidity file (a generated verifier) and returns `contractName`. */
export async function compileVerifier(
  file: string,
  contractName: string,
): Promise<{ abi: unknown[]; bytecode: string }> {
  const require = createRequire(import.meta.url);
  const solc = require("solc") as { compile(input: string): string };
  const source = path.basename(file);
  const input = {
    language: "Solidity",
    sources: { [source]: { content: await readFile(file, "utf8") } },
    settings: {
      optimizer: { enabled: true, runs: 200 },
      evmVersion: "prague",
      outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } },
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input))) as SolcOutput;
  const errors = (output.errors ?? []).filter((error) => error.severity === "error");
  if (errors.length > 0)
    throw new VerifierCompileError(`Cannot compile ${file}.`, {
      details: errors.map((error) => error.formattedMessage.trim()),
    });
  const compiled = output.contracts?.[source]?.[contractName];
  if (!compiled)
    throw new VerifierCompileError(`${file} has no contract ${contractName}.`, {
      details: [`It defines ${Object.keys(output.contracts?.[source] ?? {}).join(", ") || "nothing"}.`],
    });
  return { abi: compiled.abi, bytecode: `0x${compiled.evm.bytecode.object}` };
}

export async function deployZkVerifier(
  signer: Signer,
  { zkDir }: DeployZkVerifierParameters,
): Promise<DeployZkVerifierReturnType> {
  const manifest = await readZkManifest(zkDir);
  const { abi, bytecode } = await compileVerifier(zkPath(zkDir, "verifier"), manifest.contractName);
  const groth16 = await new ContractFactory(abi as never[], bytecode, signer).deploy();
  await groth16.waitForDeployment();
  const adapter = await deployContract(signer, "Groth16TensorVerifier", [
    await groth16.getAddress(),
    manifest.input.shape,
    manifest.output.shape,
  ]);
  return { manifest, groth16: await groth16.getAddress(), adapter: await adapter.getAddress() };
}
