/**
 * Playing a document's shell blocks as a reader would: `npx verity` and `npx hardhat` from any
 * folder, a block as one bash script, a daemon block as its own process, and the waits around
 * them. Shared by the tests that play docs/deploy-testnet.md and docs/model-guide.md.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import path from "node:path";
import { expect } from "chai";
import { sleep } from "../../oracle/util/retry.ts";
import { commandsOf, type ShellBlock } from "./doc-blocks.ts";

/** `npx verity` and `npx hardhat` as a clone's node_modules/.bin would run them, from any folder. */
export const PRELUDE = `set -euo pipefail
npx() {
  case "$1" in
    verity) shift; node "$DOC_TEST_REPO/bin/verity.js" "$@" ;;
    hardhat) shift; node "$DOC_TEST_REPO/node_modules/hardhat/dist/src/cli.js" --config "$DOC_TEST_REPO/hardhat.config.ts" "$@" ;;
    *) echo "doc test: npx $1 is not a command of this project" >&2; return 127 ;;
  esac
}
`;

/** The reader's shell: this Node first on PATH, the repository for the prelude, no Verity settings yet. */
export function readerEnv(repo: string): NodeJS.ProcessEnv {
  return {
    PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ""}`,
    HOME: process.env.HOME,
    TMPDIR: process.env.TMPDIR,
    DOC_TEST_REPO: repo,
    // /health on any free port, not the default 9474: other checkouts may run these tests at once.
    VERITY_METRICS_PORT: "0",
  };
}

export type Ran = { stdout: string; stderr: string; code: number | null };

/** Runs a bash script; resolves with its output and exit code (and exposes the child). */
export function runShell(script: string, cwd: string, env: NodeJS.ProcessEnv): Promise<Ran> & { child: ChildProcess } {
  const child = spawn("bash", ["-c", script], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<Ran>((resolve) => child.on("close", (code) => resolve({ stdout, stderr, code })));
  return Object.assign(done, { child });
}

export type Daemon = { waitForLog(msg: string): Promise<void>; stop(): Promise<number | null>; output(): string };

/** A daemon block's one command, run as the reader's terminal would (exec: the signal reaches it). */
export function background(block: ShellBlock, cwd: string, env: NodeJS.ProcessEnv, children: ChildProcess[]): Daemon {
  const [command, ...rest] = commandsOf(block);
  expect(rest, `block ${block.id} runs one daemon`).to.deep.equal([]);
  expect(command).to.match(/^npx verity /);
  const script = command!.replace(/^npx verity /, 'exec node "$DOC_TEST_REPO/bin/verity.js" ');
  const child = spawn("bash", ["-c", script], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  const logged = (msg: string) =>
    stdout.split("\n").some((line) => {
      try {
        return (JSON.parse(line) as { msg?: string }).msg === msg;
      } catch {
        return false;
      }
    });
  return {
    async waitForLog(msg) {
      await waitUntil(
        async () => {
          if (child.exitCode !== null) throw new Error(`${block.id} exited ${child.exitCode}\n${stdout}\n${stderr}`);
          return logged(msg);
        },
        60_000,
        () => `${block.id} never logged "${msg}"\n${stdout}\n${stderr}`,
      );
    },
    stop() {
      child.kill("SIGTERM");
      return exited;
    },
    output: () => stdout + stderr,
  };
}

/** The id `verity request` prints when its request is sent. */
export async function waitForRequestId(child: ChildProcess): Promise<bigint> {
  return waitForOutput(child, (text) => /^request (\d+) sent/m.exec(text)?.[1], 60_000).then(BigInt);
}

/** Resolves with `match`'s first truthy answer on the child's output so far. */
export function waitForOutput<T>(
  child: ChildProcess,
  match: (text: string) => T | undefined | false,
  timeoutMs: number,
) {
  return new Promise<T>((resolve, reject) => {
    let text = "";
    const timer = setTimeout(() => reject(new Error(`no expected output in ${timeoutMs} ms:\n${text}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      const found = match(text);
      if (found) {
        clearTimeout(timer);
        resolve(found);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", (chunk: Buffer) => (text += chunk.toString()));
    child.on("close", (code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code} before the expected output:\n${text}`));
    });
  });
}

export async function waitUntil(
  check: () => Promise<boolean>,
  timeoutMs: number,
  describe?: () => string,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(describe?.() ?? `condition not met in ${timeoutMs} ms`);
    await sleep(200);
  }
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The environment without what the test runner sets for itself (Hardhat's test mode, Verity's variables). */
export function withoutTestVariables(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => name !== "HH_TEST" && !name.startsWith("VERITY_")));
}
