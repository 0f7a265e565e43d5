import { execFile } from "node:child_process";
import path from "node:path";
import { expect } from "chai";

export const root = path.resolve(import.meta.dirname, "../..");
const bin = path.join(root, "bin/verity.js");

export type VerityResult = { stdout: string; stderr: string; code: number };

export type RunVerityParameters = {
  /** Added to a clean environment: the runner's own VERITY_* variables are dropped first. */
  env?: Record<string, string | undefined> | undefined;
  cwd?: string | undefined;
  timeoutMs?: number | undefined;
};

/** The environment a test gives the CLI: the runner's, without any VERITY_* or DEBUG setting of its own. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env))
    if (!name.startsWith("VERITY_") && name !== "DEBUG" && value !== undefined) env[name] = value;
  for (const [name, value] of Object.entries(extra)) if (value !== undefined) env[name] = value;
  return env;
}

/** Runs `verity ...args` as a user would (bin/verity.js on this Node, the repository as the working folder). */
export function verity(args: string[], { env, cwd = root, timeoutMs = 60_000 }: RunVerityParameters = {}) {
  return new Promise<VerityResult>((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { cwd, env: cleanEnv(env), timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
        resolve({ stdout, stderr, code });
      },
    );
  });
}

/** Runs many CLI calls a few at a time (the machine has two cores); results in the order given. */
export async function verityAll(
  calls: { args: string[]; env?: Record<string, string | undefined> }[],
  concurrency = 3,
): Promise<VerityResult[]> {
  const results: VerityResult[] = new Array(calls.length);
  let next = 0;
  const worker = async () => {
    while (next < calls.length) {
      const index = next++;
      results[index] = await verity(calls[index]!.args, { env: calls[index]!.env });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, calls.length) }, worker));
  return results;
}

/** A stack frame as Node prints one (`    at fn (file:line:col)`). */
const stackFrame = /^\s+at .+(:\d+:\d+\)?|\(native\)|<anonymous>\)?)$/m;

/**
 * The CLI failed the way every mistake should: exit code 1, `error: <first line>` (equal to a
 * string, or matching a pattern) and at most two more lines, no stack trace, none of `secrets`.
 * `verbose`: the run asked for the stack, so only the first line and the secrets are checked.
 */
export function expectCleanFailure(
  result: VerityResult,
  firstLine: string | RegExp,
  { secrets = [], verbose = false }: { secrets?: readonly string[] | undefined; verbose?: boolean } = {},
): void {
  const lines = result.stderr.trimEnd().split("\n");
  const context = `stdout was:\n${result.stdout}\nstderr was:\n${result.stderr}`;
  expect(result.code, context).to.equal(1);
  if (typeof firstLine === "string") expect(lines[0], context).to.equal(`error: ${firstLine}`);
  else expect(lines[0], context).to.match(firstLine);
  if (verbose) return expectNoSecret(result, secrets);
  expect(lines.length, context).to.be.at.most(3);
  expectNoStackNorSecret(result, secrets);
}

function expectNoSecret(result: VerityResult, secrets: readonly string[]): void {
  const all = result.stdout + result.stderr;
  for (const secret of secrets) {
    expect(all.includes(secret), `output holds a secret:\n${all}`).to.equal(false);
    if (secret.startsWith("0x"))
      expect(all.includes(secret.slice(2)), `output holds a secret:\n${all}`).to.equal(false);
  }
}

/** Neither output holds a stack frame or any of `secrets` (with or without a 0x). */
export function expectNoStackNorSecret(result: VerityResult, secrets: readonly string[] = []): void {
  const all = result.stdout + result.stderr;
  expect(all, `output holds a stack trace:\n${all}`).to.not.match(stackFrame);
  expectNoSecret(result, secrets);
}
