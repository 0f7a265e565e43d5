/**
 * Processes under a supervisor: SIGTERM or SIGINT to `npx verity provider start` (npm, then a
 * shell, then Node) stops the CLI itself cleanly, and nothing is left running; a port already in
 * use (the devnet's, the daemon's metrics port) is one error naming it and how to pick another.
 */
import { readdirSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { expect } from "chai";
import { startLocalSuite, type LocalSuite } from "../../oracle/devnet/local-suite.ts";
import { spawnDaemon, type SpawnedDaemon } from "../../oracle/devnet/spawn-daemon.ts";
import { tempDir } from "./helpers.ts";

/** Every process below `pid` (children, grandchildren, ...), from /proc. */
function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // pid (comm) state ppid ...: comm may hold spaces, so read after the last ")".
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // gone meanwhile
    }
  }
  const found: number[] = [];
  const walk = (parent: number) => {
    for (const [child, ppid] of parentOf)
      if (ppid === parent) {
        found.push(child);
        walk(child);
      }
  };
  walk(pid);
  return found;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitGone(pids: number[], timeoutMs = 15_000): Promise<number[]> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (!pids.some(alive)) return [];
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return pids.filter(alive);
}

async function holdPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as AddressInfo).port, server };
}

describe("processes under a supervisor: signals through npx, ports in use", function () {
  this.timeout(120_000);
  const temp = tempDir("verity-signals-");
  let local: LocalSuite;
  const started: SpawnedDaemon[] = [];
  /** Every process a test saw below npm, killed at the end should a test fail half-way. */
  const trees: number[] = [];

  before(async () => {
    local = await startLocalSuite({ dir: temp.dir });
  });

  after(async () => {
    for (const daemon of started) await daemon.kill();
    for (const pid of trees.filter(alive)) process.kill(pid, "SIGKILL");
    await local?.close();
    temp.remove();
  });

  // The project's .npmrc has npm start commands with bash, which execs the CLI: npm forwards the
  // signal to it. Under /bin/sh (dash), a shell stays between npm and the CLI and swallows the
  // signal (SIGTERM kills it and orphans the CLI): the CLI stops when it sees its parent gone.
  const cases = [
    { signal: "SIGINT", shell: "bash (.npmrc)", env: {}, stoppedBy: "SIGINT" },
    { signal: "SIGTERM", shell: "bash (.npmrc)", env: {}, stoppedBy: "SIGTERM" },
    { signal: "SIGTERM", shell: "/bin/sh", env: { npm_config_script_shell: "/bin/sh" }, stoppedBy: "parent exited" },
  ] as const;
  for (const [i, { signal, shell, env, stoppedBy }] of cases.entries())
    it(`${signal} to \`npx verity provider start\` (script shell ${shell}) stops the daemon cleanly, no process left`, async () => {
      const daemon = spawnDaemon({
        config: local.daemonConfig({ stateDir: path.join(temp.dir, `state-${i}`) }),
        dir: temp.dir,
        name: `npx-${i}`,
        privateKey: local.actors.provider.privateKey,
        env,
        via: "npx",
      });
      started.push(daemon);
      await daemon.waitForLog((line) => line.msg === "provider daemon started", 60_000);
      const tree = descendants(daemon.child.pid!);
      trees.push(...tree);
      expect(tree.length).to.be.greaterThan(0); // the CLI's Node (and a shell under /bin/sh)

      daemon.child.kill(signal); // to npm only, as a supervisor that signals its child would
      await daemon.waitForLog((line) => line.msg === "provider daemon stopped", 15_000);
      expect(await waitGone([daemon.child.pid!, ...tree])).to.deep.equal([]);
      expect(daemon.lines.find((line) => line.msg === "stopping")?.signal).to.equal(stoppedBy);
    });

  it("a taken devnet port is one error naming it and --port, with no stack trace", async () => {
    const { port, server } = await holdPort();
    try {
      const devnet = spawnDaemon({
        command: ["devnet", "--port", String(port), "--out", path.join(temp.dir, "unused.json")],
        dir: temp.dir,
        name: "devnet-busy",
        privateKey: "",
      });
      expect(await devnet.exited()).to.equal(1);
      expect(devnet.stderr[0]).to.equal(`error: Port ${port} on 127.0.0.1 is already in use.`);
      expect(devnet.stderr.join("\n")).to.include("--port");
      expect(devnet.stderr.join("\n")).not.to.match(/\n\s+at /);
    } finally {
      server.close();
    }
  });

  it("a taken metrics port is one error naming it and metrics.port; the daemon exits", async () => {
    const { port, server } = await holdPort();
    try {
      const daemon = spawnDaemon({
        config: local.daemonConfig({ stateDir: path.join(temp.dir, "state-metrics"), metrics: { port } }),
        dir: temp.dir,
        name: "metrics-busy",
        privateKey: local.actors.provider.privateKey,
      });
      started.push(daemon);
      expect(await daemon.exited()).to.equal(1);
      expect(daemon.stderr[0]).to.equal(`error: The metrics port ${port} on 127.0.0.1 is already in use.`);
      expect(daemon.stderr.join("\n")).to.include("metrics.port");
      expect(daemon.stderr.join("\n")).not.to.match(/\n\s+at /);
    } finally {
      server.close();
    }
  });
});
