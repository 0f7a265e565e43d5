/**
 * ZK benchmark: for each demo model (iris, spam) and a synthetic 784-56-10 MLP, build the ZK
 * artifacts into build/zk/bench/ (development powers of tau, made once per size under
 * build/zk/ptau/ if the committed 2^12 one is too small — minutes for 2^14), then prove one
 * input and print constraints, setup time, proving time (worker thread, warm), proof size,
 * Groth16TensorVerifier.verify gas and submitWithProof gas on an in-process chain.
 *
 *   npx hardhat build --quiet && node scripts/bench-zk.ts [iris|spam|mlp-784-56-10 ...]
 */
import { cp, mkdir, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { ContractFactory, getBytes, hexlify } from "ethers";
import { network } from "hardhat";
import { syntheticMlp } from "../oracle/model/vqm/synthetic-vqm.ts";
import { writeVqm } from "../oracle/model/vqm/vqm-files.ts";
import { connectSuite } from "../oracle/chain/connect.ts";
import { deploySuite } from "../oracle/chain/deploy-suite.ts";
import { registerModel } from "../oracle/chain/register-model.ts";
import { findRequestParams } from "../oracle/chain/request-params.ts";
import { encodeInlineInput } from "../oracle/model/input-envelope.ts";
import { decodeTensor, encodeTensor } from "../oracle/model/tensor-codec.ts";
import type { Tensor } from "../oracle/model/tensor.ts";
import { buildZk } from "../oracle/zk/build-zk.ts";
import { projectRoot } from "../oracle/zk/compile-circuit.ts";
import { createProver } from "../oracle/zk/prove.ts";
import { zkPath } from "../oracle/zk/zk-files.ts";

const { ethers } = await network.create();
const accounts = await ethers.getSigners();
const [admin, treasury, owner, provider, requester] = [
  accounts[0]!,
  accounts[1]!,
  accounts[2]!,
  accounts[3]!,
  accounts[4]!,
];
const benchDir = join(projectRoot, "build", "zk", "bench");
const selected = process.argv.slice(2);
const wanted = (name: string) => selected.length === 0 || selected.includes(name);

type Row = Record<string, string | number>;
const rows: Row[] = [];

async function prepare(name: string): Promise<string> {
  const dir = join(benchDir, name);
  await mkdir(dir, { recursive: true });
  if (name === "mlp-784-56-10") await writeVqm(join(dir, "vqm"), syntheticMlp({ seed: 784, sizes: [784, 56, 10] }));
  else await cp(join(projectRoot, "models", name, "vqm"), join(dir, "vqm"), { recursive: true });
  return dir;
}

function compileSolidity(source: string, contractName: string): { abi: unknown[]; bytecode: string } {
  const solc = createRequire(import.meta.url)("solc") as { compile(input: string): string };
  const output = JSON.parse(
    solc.compile(
      JSON.stringify({
        language: "Solidity",
        sources: { "Verifier.sol": { content: source } },
        settings: {
          optimizer: { enabled: true, runs: 200 },
          evmVersion: "prague",
          outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } },
        },
      }),
    ),
  ) as { contracts: Record<string, Record<string, { abi: unknown[]; evm: { bytecode: { object: string } } }>> };
  const contract = output.contracts["Verifier.sol"]![contractName]!;
  return { abi: contract.abi, bytecode: `0x${contract.evm.bytecode.object}` };
}

async function bench(name: string): Promise<void> {
  console.log(`\n== ${name} ==`);
  const dir = await prepare(name);
  const contractName = "BenchGroth16Verifier";
  const built = performance.now();
  const manifest = await buildZk({ modelDir: dir, contractName, progress: (line) => console.log(line) });
  const buildSeconds = (performance.now() - built) / 1000;
  const zkDir = join(dir, "zk");
  const count = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
  const input: Tensor = {
    dtype: "int8",
    shape: manifest.input.shape,
    data: Int8Array.from({ length: count(manifest.input.shape) }, (_, i) => ((i * 73 + 11) % 256) - 128),
  };
  const prover = await createProver({ zkDir });
  const cold = await prover.prove(input);
  const warm = await prover.prove(input);
  await prover.close();

  const { abi, bytecode } = compileSolidity(await readFile(zkPath(zkDir, "verifier"), "utf8"), contractName);
  const groth16 = await new ContractFactory(abi as never, bytecode, admin).deploy();
  const adapter = await ethers.deployContract("Groth16TensorVerifier", [
    await groth16.getAddress(),
    manifest.input.shape,
    manifest.output.shape,
  ]);
  const inputBytes = hexlify(encodeTensor(input));
  const outputBytes = hexlify(encodeTensor(warm.output));
  const verifyGas = await adapter.getFunction("verify").estimateGas(inputBytes, outputBytes, warm.calldata);
  const submitGas = await submitWithProofGas(
    await adapter.getAddress(),
    manifest.input.shape,
    manifest.output.shape,
    inputBytes,
    outputBytes,
    warm.calldata,
  );
  rows.push({
    model: name,
    constraints: manifest.constraints,
    "public signals": manifest.publicSignals,
    ptau: `${manifest.ptau.source} 2^${manifest.ptau.power}`,
    "compile s": manifest.figures.compileSeconds,
    "setup s": manifest.figures.setupSeconds,
    "build s (incl. ptau if made)": Math.round(buildSeconds * 10) / 10,
    "zkey KiB": Math.round(manifest.figures.zkeyBytes / 1024),
    "prove s (cold)": Math.round(cold.seconds * 100) / 100,
    "prove s (warm)": Math.round(warm.seconds * 100) / 100,
    "proof bytes": (warm.calldata.length - 2) / 2,
    "verify gas": Number(verifyGas),
    "submitWithProof gas": Number(submitGas),
  });
}

/**
 * Gas of `submitWithProof` on a fresh suite (deployed as `verity deploy` does, no claim penalty):
 * the model registered as Zk with int8 tensors, one request carrying the inline envelope, claimed
 * and proved. `input` is the canonical tensor; the request and the proof call take its envelope.
 */
async function submitWithProofGas(
  verifier: string,
  inputShape: number[],
  outputShape: number[],
  input: string,
  output: string,
  proof: string,
): Promise<bigint> {
  const price = 10n ** 16n;
  const deployment = await deploySuite(admin, { treasury: treasury.address, claimPenalty: 0n });
  await registerModel(connectSuite(deployment, owner).modelRegistry, {
    modelHash: ethers.keccak256("0x01"),
    contentId: "bench",
    price,
    royaltyBps: 1000,
    inputShape,
    outputShape,
    inputDtype: "int8",
    outputDtype: decodeTensor(getBytes(output)).dtype,
    verification: { mode: "zk", verifier },
  });
  const asProvider = connectSuite(deployment, provider);
  await (await asProvider.providerRegistry.stake({ value: 10n ** 18n })).wait();
  await (await asProvider.providerRegistry.optIn(1)).wait();
  const envelope = hexlify(encodeInlineInput(decodeTensor(getBytes(input))));
  const deadline = (await ethers.provider.getBlock("latest"))!.timestamp + 86400;
  const market = connectSuite(deployment, requester).inferenceMarket;
  await (await market.requestInference(1, envelope, price, deadline, ethers.ZeroAddress, 0, { value: price })).wait();
  await (await asProvider.inferenceMarket.claim(1)).wait();
  const params = await findRequestParams(market, 1n);
  const receipt = await (await asProvider.inferenceMarket.submitWithProof(1, params, envelope, output, proof)).wait();
  return receipt!.gasUsed;
}

for (const name of ["iris", "spam", "mlp-784-56-10"]) if (wanted(name)) await bench(name);
console.log();
console.table(rows);
