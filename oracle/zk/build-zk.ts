/**
 * `verity zk build DIR`: from the VQM model in DIR/vqm to the ZK artifacts in DIR/zk (see
 * zk-files.ts): generate the circuit, compile it, pick the powers of tau (a public ceremony
 * file checked against its published hash, or the development one), run the Groth16 setup and
 * export the verification key and the Solidity verifier.
 */
import { createHash } from "node:crypto";
import { copyFile, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import * as prettier from "prettier";
import { readVqm } from "../model/vqm/vqm-files.ts";
import { validateVqm } from "../model/vqm/validate-vqm.ts";
import { compileCircuit, projectRoot } from "./compile-circuit.ts";
import { generateCircuit } from "./generate-circuit.ts";
import { groth16Setup } from "./groth16-setup.ts";
import { blake2b512, checkPublishedPtau, developmentPtau, requiredPower } from "./ptau.ts";
import type { Progress } from "./snarkjs-util.ts";
import { zkFiles, zkPath } from "./zk-files.ts";
import type { ZkManifest } from "./zk-files.ts";

export type BuildZkParameters = {
  /** The model folder: reads DIR/vqm, writes DIR/zk (unless zkDir says otherwise). */
  modelDir: string;
  zkDir?: string | undefined;
  /** A public ceremony file (powersOfTau28_hez_final_XX.ptau); default: the development one. */
  ptau?: string | undefined;
  /** Also write the formatted Solidity verifier here (e.g. contracts/verify/IrisVerifier.sol). */
  solidityOut?: string | undefined;
  /**
   * Write DIR/zk/Verifier.sol (default true). Off for folders under test/, where Hardhat would
   * compile it as a Solidity test next to the solidityOut copy.
   */
  verifierInZkDir?: boolean | undefined;
  /** Default: `<Folder>Groth16Verifier` from the model folder's name. */
  contractName?: string | undefined;
  progress?: Progress | undefined;
};

/** Development ceremonies up to this power are kept in the repository (the 2^12 file is 4.7 MB). */
export const committedPtauPower = 12;

export function developmentPtauFile(power: number): string {
  return power <= committedPtauPower
    ? join(projectRoot, "circuits", "ptau", `verity-dev-${committedPtauPower}.ptau`)
    : join(projectRoot, "build", "zk", "ptau", `verity-dev-${power}.ptau`);
}

export async function buildZk({
  modelDir,
  zkDir = join(modelDir, "zk"),
  ptau,
  solidityOut,
  verifierInZkDir = true,
  contractName = `${pascal(basename(resolve(modelDir)))}Groth16Verifier`,
  progress,
}: BuildZkParameters): Promise<ZkManifest> {
  const { model, manifest: vqm } = await readVqm(join(modelDir, "vqm"));
  const shapes = validateVqm(model);
  progress?.(`generating the circuit of ${model.name}`);
  const circuit = generateCircuit(model, {
    comments: [`modelHash ${vqm.modelHash}`, `weightsRoot ${vqm.weightsRoot}`],
  });
  // Everything is made in the build folder first and copied to zkDir only once the setup
  // succeeded, so a refused ptau or a failed step leaves the committed artifacts untouched.
  const buildDir = join(projectRoot, "build", "zk", basename(resolve(modelDir)));
  await mkdir(buildDir, { recursive: true });
  const circuitFile = join(buildDir, zkFiles.circuit);
  await writeFile(circuitFile, circuit.source);

  progress?.("compiling with circom2 (WebAssembly)");
  const compiled = await compileCircuit({ circuitFile, outDir: buildDir });
  progress?.(`  ${compiled.constraints} constraints in ${compiled.seconds.toFixed(1)} s`);

  const publicSignals = circuit.inputChunks + circuit.outputChunks;
  const power = requiredPower(compiled.constraints, publicSignals);
  let ptauInfo: ZkManifest["ptau"];
  if (ptau) {
    progress?.(`checking ${ptau} against the published ceremony hashes`);
    const published = await checkPublishedPtau(ptau, power);
    ptauInfo = { source: "hermez", power: published.power, file: published.name, blake2b: published.blake2b };
  } else {
    const file = developmentPtauFile(power);
    const exists = await stat(file).then(
      () => true,
      () => false,
    );
    const filePower = power <= committedPtauPower ? committedPtauPower : power;
    if (!exists) {
      progress?.(`no development powers of tau 2^${filePower} yet: making one at ${file}`);
      await developmentPtau({ power: filePower, file, progress });
    }
    ptauInfo = { source: "development", power: filePower, file, blake2b: await blake2b512(file) };
  }
  const ptauFile = ptau ?? ptauInfo.file;

  const setup = await groth16Setup({
    r1csFile: compiled.r1csFile,
    ptauFile,
    zkeyFile: join(buildDir, zkFiles.zkey),
    contractName,
    progress,
  });
  progress?.(`  setup took ${setup.seconds.toFixed(1)} s`);
  await mkdir(zkDir, { recursive: true });
  await copyFile(circuitFile, zkPath(zkDir, "circuit"));
  await copyFile(compiled.wasmFile, zkPath(zkDir, "wasm"));
  await copyFile(compiled.r1csFile, zkPath(zkDir, "r1cs"));
  await copyFile(compiled.symFile, zkPath(zkDir, "sym"));
  const zkeyFile = zkPath(zkDir, "zkey");
  await copyFile(join(buildDir, zkFiles.zkey), zkeyFile);
  await writeFile(zkPath(zkDir, "vkey"), `${JSON.stringify(setup.verificationKey, null, 2)}\n`);
  const solidity = await formatSolidity(setup.solidity, join(projectRoot, "contracts", "verify", "Verifier.sol"));
  if (verifierInZkDir) await writeFile(zkPath(zkDir, "verifier"), solidity);
  if (solidityOut) await writeFile(solidityOut, solidity);

  const sha256 = async (file: string) =>
    createHash("sha256")
      .update(await readFile(file))
      .digest("hex");
  const manifest: ZkManifest = {
    format: "verity-zk/1",
    model: model.name,
    modelHash: vqm.modelHash,
    input: { shape: [...model.input.shape], chunks: circuit.inputChunks },
    output: { shape: shapes[shapes.length - 1]!, chunks: circuit.outputChunks },
    publicSignals,
    constraints: compiled.constraints,
    ptau: { ...ptauInfo, file: basename(ptauInfo.file) },
    contractName,
    zkeySha256: await sha256(zkeyFile),
    wasmSha256: await sha256(zkPath(zkDir, "wasm")),
    figures: {
      compileSeconds: round(compiled.seconds),
      setupSeconds: round(setup.seconds),
      zkeyBytes: (await stat(zkeyFile)).size,
    },
  };
  await writeFile(zkPath(zkDir, "manifest"), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

async function formatSolidity(source: string, filepath: string): Promise<string> {
  const options = (await prettier.resolveConfig(filepath)) ?? {};
  return prettier.format(source, { ...options, filepath });
}

function pascal(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join("");
}

function round(seconds: number): number {
  return Math.round(seconds * 10) / 10;
}
