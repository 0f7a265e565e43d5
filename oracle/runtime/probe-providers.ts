/**
 * Which execution providers load on this machine: one placement probe (probe-placement.ts) of a
 * one-node float graph asked for CUDA. The CPU provider is bundled with onnxruntime-node and is
 * what the probe falls back to, so it loads whenever the probe opens at all; CUDA loads when its
 * session opened on it, and otherwise onnxruntime's own error line says why (a provider library
 * or a CUDA / cuDNN library that the loader could not open, or no device).
 */
import { writeOnnx } from "../model/onnx/write-onnx.ts";
import type { ExecutionProvider } from "./create-session.ts";
import { probePlacement } from "./probe-placement.ts";

export type ProviderStatus = { provider: ExecutionProvider; loads: boolean; reason: string | undefined };

/** A float graph (Relu): any provider that loads at all takes it. */
const reluGraph = writeOnnx({
  graph: {
    name: "provider-probe",
    inputs: [{ name: "x", dtype: "float32", shape: [1, 4] }],
    outputs: [{ name: "y", dtype: "float32", shape: [1, 4] }],
    initializers: [],
    nodes: [{ name: "relu", opType: "Relu", inputs: ["x"], outputs: ["y"] }],
  },
});

export async function probeProviders(): Promise<ProviderStatus[]> {
  const probe = await probePlacement({ model: reluGraph, executionProvider: "cuda" });
  const cudaLoads = probe.provider === "cuda";
  return [
    { provider: "cpu", loads: true, reason: undefined },
    {
      provider: "cuda",
      loads: cudaLoads,
      // onnxruntime's error lines name the library and the loader's reason; the thrown message
      // (in the fallback reason) only says that it failed, so it is the answer only without them.
      reason: cudaLoads ? undefined : (probe.errors.length > 0 ? probe.errors : probe.fallbacks).join("; "),
    },
  ];
}
