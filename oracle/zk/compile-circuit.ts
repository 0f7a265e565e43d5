/**
 * Compiles a circom file with the circom2 WebAssembly compiler (the npm package `circom2`),
 * run as a child process from the project root so that the include paths `circuits` (Verity's
 * templates) and `node_modules` resolve (circom2 cannot include above its working directory).
 */
import { spawn } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { createRequire } from "node:module";
import { basename, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { BaseError } from "../errors.ts";

export const projectRoot = resolve(fileURLToPath(new URL("../..", import.meta.url)));

export type CompileCircuitParameters = {
  circuitFile: string;
  outDir: string;
  /** circom's simplification level; O1 keeps setup fast, O2 gives fewer constraints. */
  optimisation?: "O0" | "O1" | "O2" | undefined;
};

export type CompileCircuitReturnType = {
  r1csFile: string;
  wasmFile: string;
  /** Signal names → wire indices (for debugging and the soundness tests). */
  symFile: string;
  /** Linear and non-linear constraints, as circom reports them. */
  constraints: number;
  nonLinearConstraints: number;
  linearConstraints: number;
  seconds: number;
};

export class CircuitCompileError extends BaseError {
  override name = "CircuitCompileError";
}

export async function compileCircuit({
  circuitFile,
  outDir,
  optimisation = "O1",
}: CompileCircuitParameters): Promise<CompileCircuitReturnType> {
  await mkdir(outDir, { recursive: true });
  const cli = createRequire(import.meta.url).resolve("circom2/cli.js");
  const args = [
    cli,
    relative(projectRoot, resolve(circuitFile)),
    "--r1cs",
    "--wasm",
    "--sym",
    `--${optimisation}`,
    "-o",
    relative(projectRoot, resolve(outDir)) || ".",
    "-l",
    "circuits",
    "-l",
    "node_modules",
  ];
  const started = performance.now();
  const { code, output } = await run(process.execPath, args);
  const seconds = (performance.now() - started) / 1000;
  const plain = output.replace(/\x1b\[[0-9;]*m/g, ""); // eslint-disable-line no-control-regex
  if (code !== 0 || !plain.includes("Everything went okay"))
    throw new CircuitCompileError(`circom failed on ${circuitFile}.`, { details: plain.trim().split("\n").slice(-20) });
  const count = (label: string) => Number(new RegExp(`(?:^|\\n)${label}: (\\d+)`).exec(plain)?.[1] ?? NaN);
  const nonLinearConstraints = count("non-linear constraints");
  const linearConstraints = count("linear constraints");
  const name = basename(circuitFile, ".circom");
  return {
    r1csFile: join(outDir, `${name}.r1cs`),
    wasmFile: join(outDir, `${name}_js`, `${name}.wasm`),
    symFile: join(outDir, `${name}.sym`),
    constraints: nonLinearConstraints + linearConstraints,
    nonLinearConstraints,
    linearConstraints,
    seconds,
  };
}

function run(command: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd: projectRoot, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolvePromise({ code: code ?? 1, output }));
  });
}
