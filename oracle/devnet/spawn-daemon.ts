import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, writeFileSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const cli = path.join(repoRoot, "oracle/cli.ts");

export type DaemonLogLine = { level: string; msg: string; [key: string]: unknown };

export type SpawnedDaemon = {
  child: ChildProcess;
  /** Every JSON log line so far, in order. */
  lines: DaemonLogLine[];
  /** Every line it printed on standard output, JSON or not. */
  stdout: string[];
  /** What it printed on standard error (the CLI's error messages). */
  stderr: string[];
  /** Resolves with the first log line, past or future, that `match` accepts. */
  waitForLog(match: (line: DaemonLogLine) => boolean, timeoutMs?: number): Promise<DaemonLogLine>;
  exited(): Promise<number | null>;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
  stop(graceMs?: number): Promise<number | null>;
  kill(): Promise<void>;
};

export type SpawnDaemonParameters = {
  /**
   * Written to `<dir>/<name>.json` and passed as `--config`; none for a command without one
   * (`devnet`). Without a `metrics` key the daemon serves `/health` on a free port (0), not the
   * fixed default one: tests and benches run several daemons at once.
   */
  config?: Record<string, unknown> | undefined;
  dir: string;
  /** VERITY_PRIVATE_KEY of the process; empty to leave it unset (a keystore in the config). */
  privateKey: string;
  /** More environment for the process. */
  env?: Record<string, string> | undefined;
  onLog?: ((line: DaemonLogLine) => void) | undefined;
  /** The CLI command to run; default `provider start`. */
  command?: string[] | undefined;
  /** Names the config (`<name>.json`) and log (`<name>.log`) files; default `provider` / `daemon.log`. */
  name?: string | undefined;
  /**
   * How the CLI is started: `node` runs oracle/cli.ts with this Node (default); `npx` runs
   * `npx verity ...` from the repository, as an operator or a supervisor would (npm, a shell,
   * then Node: `child` is then npm's process, not the CLI's).
   */
  via?: "node" | "npx" | undefined;
};

/**
 * Starts `verity provider start` as its own process, as an operator would, with its config in
 * `dir` and its JSON-line logs appended to `dir/daemon.log`.
 */
export function spawnDaemon({
  config,
  dir,
  privateKey,
  env,
  onLog,
  command = ["provider", "start"],
  name,
  via = "node",
}: SpawnDaemonParameters): SpawnedDaemon {
  const args = [...command];
  if (config !== undefined) {
    const configFile = path.join(dir, `${name ?? "provider"}.json`);
    writeFileSync(configFile, JSON.stringify({ metrics: { port: 0 }, ...config }, null, 2));
    args.push("--config", configFile);
  }
  const child =
    via === "npx"
      ? spawn("npx", ["verity", ...args], {
          cwd: repoRoot,
          env: { ...process.env, VERITY_PRIVATE_KEY: privateKey, ...env },
          stdio: ["ignore", "pipe", "pipe"],
        })
      : spawn(process.execPath, [cli, ...args], {
          env: { ...process.env, VERITY_PRIVATE_KEY: privateKey, ...env },
          stdio: ["ignore", "pipe", "pipe"],
        });
  const logFile = path.join(dir, name ? `${name}.log` : "daemon.log");
  const file = createWriteStream(logFile, { flags: "a" });
  const lines: DaemonLogLine[] = [];
  const stdout: string[] = [];
  const waiters = new Set<{ match: (line: DaemonLogLine) => boolean; resolve: (line: DaemonLogLine) => void }>();
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  /** Resolves with the exit code once the process has exited and its output is read. */
  const finished = async () => {
    const code = await exited;
    await stderrClosed;
    return code;
  };
  createInterface({ input: child.stdout! }).on("line", (text) => {
    file.write(text + "\n");
    stdout.push(text);
    let line: DaemonLogLine;
    try {
      line = JSON.parse(text) as DaemonLogLine;
    } catch {
      return;
    }
    lines.push(line);
    onLog?.(line);
    for (const waiter of waiters)
      if (waiter.match(line)) {
        waiters.delete(waiter);
        waiter.resolve(line);
      }
  });
  const stderr: string[] = [];
  const stderrClosed = new Promise<void>((resolve) =>
    createInterface({ input: child.stderr! })
      .on("line", (text) => {
        stderr.push(text);
        file.write(`[stderr] ${text}\n`);
      })
      .once("close", resolve),
  );

  return {
    child,
    lines,
    stdout,
    stderr,
    exited: finished,
    waitForLog(match, timeoutMs = 60_000) {
      const seen = lines.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const waiter = { match, resolve };
        waiters.add(waiter);
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`daemon log line not seen within ${timeoutMs} ms (see ${logFile})`));
        }, timeoutMs);
        // The end of its output, not of `child`: under npx, npm may exit before the CLI does.
        finished().then(() => {
          clearTimeout(timer);
          if (waiters.delete(waiter)) reject(new Error(`daemon exited (see ${logFile})`));
        });
        const originalResolve = waiter.resolve;
        waiter.resolve = (line) => {
          clearTimeout(timer);
          originalResolve(line);
        };
      });
    },
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      const code = await exited;
      clearTimeout(timer);
      file.end();
      return code;
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGKILL");
      await exited;
      file.end();
    },
  };
}
