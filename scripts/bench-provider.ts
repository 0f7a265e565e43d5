/**
 * The execution provider the benchmarks' onnxruntime rows ask for, and how each row names the
 * one it ran on. They ask for CUDA, so a GPU machine with the CUDA provider installed times CUDA
 * (VERITY_EXECUTION_PROVIDER=cpu, the daemon's own variable, keeps them on the CPU); on a machine
 * without it the rows say "cpu (no CUDA here)". Integer (VQM) graphs always run on the CPU
 * (oracle/runtime/integer-graph.ts), which their rows say when CUDA is here.
 */
import type { ExecutionProvider, ModelSession } from "../oracle/runtime/create-session.ts";
import { probeProviders } from "../oracle/runtime/probe-providers.ts";

export const benchProvider: ExecutionProvider = process.env.VERITY_EXECUTION_PROVIDER === "cpu" ? "cpu" : "cuda";

const cudaHere = benchProvider === "cuda" && (await probeProviders()).some((p) => p.provider === "cuda" && p.loads);

/** The provider `session` runs on, with why it is the CPU when CUDA was asked for. */
export function providerLabel(session: Pick<ModelSession, "provider">): string {
  if (session.provider === "cuda") return "cuda";
  if (benchProvider === "cpu") return "cpu (VERITY_EXECUTION_PROVIDER=cpu)";
  return cudaHere ? "cpu (integer graph, CPU by design)" : "cpu (no CUDA here)";
}
