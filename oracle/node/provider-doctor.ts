/**
 * `verity provider doctor`'s findings: which execution providers load here, and for every model
 * the daemon with this config would serve (served-models.ts), what runs it and, when that is
 * onnxruntime, which provider runs each node; with `runtime.backend` "kserve", whether the
 * inference server is ready and serves each Attested model under its name with the registered
 * tensors (the daemon's own check, kserve-client.ts). The bytes come from the daemon's own loaders
 * (fetchRegisteredModel, readDecoderFolder) and each session is opened the daemon's way
 * (createSession, in the placement probe's child process), so the answer is the daemon's.
 */
import * as ort from "onnxruntime-node";
import type { ModelRegistry } from "../chain/connect.ts";
import { createKserveClient, type KserveClient } from "../runtime/kserve-client.ts";
import { VerificationMode } from "../chain/register-model.ts";
import type { VerityConfig } from "../config/schema.ts";
import { BaseError } from "../errors.ts";
import type { ExecutionProvider } from "../runtime/create-session.ts";
import { probePlacement, type ProbePlacementReturnType } from "../runtime/probe-placement.ts";
import { probeProviders, type ProviderStatus } from "../runtime/probe-providers.ts";
import type { ContentStore } from "../storage/content-store.ts";
import { openContentStore } from "../storage/open-content-store.ts";
import { connectDaemon } from "./connect-daemon.ts";
import { readDecoderFolder } from "./decoder-models.ts";
import { fetchRegisteredModel, openRemoteModel } from "./model-cache.ts";
import { servedModelIds } from "./served-models.ts";

export type DoctorModel = {
  modelId: string;
  mode: keyof typeof VerificationMode;
  /** Where the daemon takes the graph from: "registered content <cid>", "model folder <dir>" or "KServe model <name> at <url>". */
  source: string | undefined;
  /** "onnxruntime", the KServe v2 server, or what runs a Zk / Optimistic model instead. */
  runtime: "onnxruntime" | "kserve" | "reference executor";
  placement: ProbePlacementReturnType | undefined;
  /** Why the model could not be opened (the daemon would fail the same way). */
  error: string | undefined;
};

/** The configured KServe v2 server (runtime.backend "kserve"): ready, or why not. */
export type DoctorKserve = { url: string; ready: boolean; error: string | undefined };

export type DoctorReport = {
  onnxruntimeNode: string;
  backend: VerityConfig["runtime"]["backend"];
  kserve: DoctorKserve | undefined;
  configured: ExecutionProvider;
  providers: ProviderStatus[];
  models: DoctorModel[];
};

/** `providers`: probeProviders()'s answer, when the caller already has it. */
export async function diagnoseProvider(
  config: VerityConfig,
  providers?: ProviderStatus[] | undefined,
): Promise<DoctorReport> {
  providers ??= await probeProviders();
  const { provider, wallet, suite } = await connectDaemon(config);
  const content = await openContentStore(config.storage);
  const client =
    config.runtime.backend === "kserve" && config.runtime.kserve
      ? createKserveClient(config.runtime.kserve)
      : undefined;
  try {
    const kserve = client ? await diagnoseServer(client) : undefined;
    const models: DoctorModel[] = [];
    for (const modelId of await servedModelIds(config, suite, wallet.address))
      models.push(await diagnoseModel(config, suite.modelRegistry, content, modelId, client));
    return {
      onnxruntimeNode: ort.env.versions.node ?? "unknown",
      backend: config.runtime.backend,
      kserve,
      configured: config.runtime.executionProvider,
      providers,
      models,
    };
  } finally {
    await content.close();
    provider.destroy();
  }
}

async function diagnoseServer(client: KserveClient): Promise<DoctorKserve> {
  try {
    await client.ready();
    return { url: client.url, ready: true, error: undefined };
  } catch (error) {
    return { url: client.url, ready: false, error: errorText(error) };
  }
}

function errorText(error: unknown): string {
  return error instanceof BaseError ? [error.shortMessage, ...error.details].join(" ") : String(error);
}

async function diagnoseModel(
  config: VerityConfig,
  registry: ModelRegistry,
  content: ContentStore,
  modelId: bigint,
  kserve: KserveClient | undefined,
): Promise<DoctorModel> {
  const row: DoctorModel = {
    modelId: modelId.toString(),
    mode: "Attested",
    source: undefined,
    runtime: "onnxruntime",
    placement: undefined,
    error: undefined,
  };
  try {
    const mode = Number((await registry.verificationOf(modelId)).mode);
    // Zk and Optimistic results are the reference executor's (serve-job.ts): no onnxruntime session.
    if (mode !== VerificationMode.Attested) {
      row.mode = mode === VerificationMode.Zk ? "Zk" : "Optimistic";
      row.runtime = "reference executor";
      return row;
    }
    const decoder = await readDecoderFolder({ registry, folders: config.modelFolders, modelId });
    if (!decoder && kserve) {
      row.runtime = "kserve";
      const { session } = await openRemoteModel({ registry, kserve, modelId });
      row.source = `KServe model ${session.name} at ${kserve.url}`;
      return row;
    }
    let bytes: Uint8Array;
    if (decoder) {
      row.source = `model folder ${decoder.folder}`;
      bytes = decoder.read.onnx;
    } else {
      const registered = await fetchRegisteredModel({ registry, content, modelId });
      row.source = `registered content ${registered.model.contentId}`;
      bytes = registered.bytes;
    }
    row.placement = await probePlacement({
      model: bytes,
      executionProvider: config.runtime.executionProvider,
      threads: config.runtime.threads,
    });
  } catch (error) {
    row.error = errorText(error);
  }
  return row;
}

/**
 * What is wrong for the daemon, in one line and its fix, or undefined when the configured
 * provider loads and every served model opens.
 */
export function doctorProblem(report: DoctorReport): { problem: string; fix: string } | undefined {
  if (report.kserve && !report.kserve.ready)
    return {
      problem: `runtime.backend is kserve but the inference server is not ready: ${report.kserve.error}`,
      fix: 'Start it (verity runtime serve --model ..., or Triton) at runtime.kserve.url, or fix the URL (docs/operator-guide.md, "A fleet, and a remote inference server").',
    };
  const configured = report.providers.find((status) => status.provider === report.configured);
  if (report.backend === "onnxruntime" && configured && !configured.loads)
    return {
      problem: `runtime.executionProvider is ${report.configured} but the ${report.configured.toUpperCase()} provider does not load here, so the daemon falls back to the CPU provider: ${configured.reason}`,
      fix: `Install onnxruntime-node's CUDA provider and CUDA 12 / cuDNN 9 (docs/operator-guide.md, "CPU or CUDA"), or set runtime.executionProvider to "cpu".`,
    };
  const broken = report.models.find((model) => model.error !== undefined);
  if (broken)
    return {
      problem: `Model ${broken.modelId} cannot be opened: ${broken.error}`,
      fix: "The daemon cannot serve it either: fix its content or model folder (see the model's row above).",
    };
  return undefined;
}
