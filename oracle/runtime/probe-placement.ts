/**
 * Where onnxruntime runs each node of a model, as the daemon would open it: a child process
 * (placement-probe-child.ts) opens the session through createSession with verbose logging, and
 * this reads onnxruntime's placement lines from its stderr (node-placement.ts). A child,
 * because onnxruntime's native logger writes to the process's stderr, which Node cannot
 * capture in-process. When one provider runs every node, onnxruntime gives only the count: the
 * names then come from the optimized graph it wrote for the session, used only when its node
 * count is the count onnxruntime reported (never a guess).
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { BaseError } from "../errors.ts";
import { ModelProto } from "../model/onnx/onnx-schema.ts";
import type { ExecutionProvider } from "./create-session.ts";
import { parseSessionLog, type PlacedNode, type ProviderPlacement } from "./node-placement.ts";
import type { PlacementProbeChildResult } from "./placement-probe-child.ts";

export type ProbePlacementParameters = {
  model: Uint8Array;
  executionProvider: ExecutionProvider;
  threads?: number | undefined;
  /** Defaults to 120 s. */
  timeoutMs?: number | undefined;
};

export type ProbePlacementReturnType = {
  requested: ExecutionProvider;
  /** The provider the session runs on (cpu when CUDA did not load or the graph is pinned to it). */
  provider: ExecutionProvider;
  /** Why the requested provider is not the one in use (createSession's onFallback reasons). */
  fallbacks: string[];
  /** onnxruntime's error lines (e.g. the loader's reason a provider library did not load). */
  errors: string[];
  placements: ProviderPlacement[];
};

/** The probe could not open the model at all (bytes onnxruntime refuses, or the child failed). */
export class PlacementProbeError extends BaseError {
  override name = "PlacementProbeError";
}

const childScript = fileURLToPath(new URL("./placement-probe-child.ts", import.meta.url));

export async function probePlacement({
  model,
  executionProvider,
  threads = 1,
  timeoutMs = 120_000,
}: ProbePlacementParameters): Promise<ProbePlacementReturnType> {
  const dir = mkdtempSync(path.join(tmpdir(), "verity-placement-"));
  try {
    const modelFile = path.join(dir, "model.onnx");
    const optimizedFile = path.join(dir, "optimized.onnx");
    writeFileSync(modelFile, model);
    const { stdout, stderr } = await runChild(
      [childScript, modelFile, executionProvider, String(threads), optimizedFile],
      timeoutMs,
    );
    const result = lastJsonLine(stdout, stderr);
    if (!result.ok) throw new PlacementProbeError(result.error, { details: result.details });
    const log = parseSessionLog(stderr);
    const optimized = existsSync(optimizedFile) ? graphNodes(readFileSync(optimizedFile)) : undefined;
    return {
      requested: executionProvider,
      provider: result.provider,
      fallbacks: result.fallbacks,
      errors: log.errors,
      placements: log.placements.map((placement) => withNames(placement, log.placements.length, optimized)),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The nodes of the one provider that runs them all, named from the optimized graph when it has exactly that many. */
function withNames(placement: ProviderPlacement, providers: number, optimized: PlacedNode[] | undefined) {
  if (placement.nodes !== undefined || providers !== 1 || optimized?.length !== placement.count) return placement;
  return { ...placement, nodes: optimized };
}

function graphNodes(bytes: Uint8Array): PlacedNode[] | undefined {
  try {
    return (ModelProto.decode(bytes).graph?.node ?? []).map((node) => ({
      opType: node.opType ?? "",
      name: node.name ?? "",
    }));
  } catch {
    return undefined;
  }
}

function runChild(args: string[], timeoutMs: number): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      args,
      { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: "1" } },
      (error, stdout, stderr) => {
        // A non-zero exit still prints its JSON line when the child caught the error itself.
        if (error && !stdout.includes("{"))
          reject(
            new PlacementProbeError("The onnxruntime placement probe did not finish.", {
              details: [stderr.trim().split("\n").pop() ?? error.message],
              cause: error,
            }),
          );
        else resolve({ stdout, stderr });
      },
    );
  });
}

function lastJsonLine(stdout: string, stderr: string): PlacementProbeChildResult {
  const line = stdout.trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(line) as PlacementProbeChildResult;
  } catch (cause) {
    throw new PlacementProbeError("The onnxruntime placement probe printed no result.", {
      details: [stderr.trim().split("\n").pop() ?? ""],
      cause,
    });
  }
}
