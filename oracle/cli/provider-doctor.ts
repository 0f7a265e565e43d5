/**
 * `verity provider doctor`: which onnxruntime execution providers load on this machine and, for
 * every model the daemon with this config would serve, which provider runs each node
 * (oracle/node/provider-doctor.ts), or with runtime.backend "kserve" whether the inference server is
 * ready and serves each model. Exits non-zero with one line when the configured provider does not
 * load (the daemon would fall back to the CPU), the server is not ready, or a served model cannot be opened.
 */
import * as ort from "onnxruntime-node";
import { BaseError } from "../errors.ts";
import type { ExecutionProvider } from "../runtime/create-session.ts";
import { probeProviders, type ProviderStatus } from "../runtime/probe-providers.ts";
import { diagnoseProvider, doctorProblem, type DoctorModel, type DoctorReport } from "../node/provider-doctor.ts";
import { daemonOptions, daemonUsage, loadDaemonConfig } from "./chain-context.ts";
import type { Command } from "./command.ts";

export const providerDoctorCommand: Command = {
  summary:
    "Check which onnxruntime execution providers (cpu, cuda) load here and which provider runs each node of every model the daemon would serve; with runtime.backend kserve, whether the inference server is ready and serves each model under its name.",
  usage: `${daemonUsage} [--json]`,
  options: { ...daemonOptions, json: { type: "boolean" } },
  maxPositionals: 0,
  async run(values) {
    const config = loadDaemonConfig(values);
    const providers = await probeProviders();
    let report: DoctorReport;
    try {
      report = await diagnoseProvider(config, providers);
    } catch (error) {
      // No chain or content store: what loads on this machine is still worth seeing.
      if (!values.json)
        for (const line of formatProviders(config.runtime.executionProvider, providers)) console.log(line);
      throw error;
    }
    const problem = doctorProblem(report);
    if (values.json) console.log(JSON.stringify({ ...report, ok: problem === undefined, problem }, undefined, 2));
    else for (const line of formatDoctorReport(report)) console.log(line);
    if (problem) throw new BaseError(problem.problem, { details: [problem.fix] });
  },
};

/** The report in words: providers, then one block per served model with its node table. */
export function formatDoctorReport(report: DoctorReport): string[] {
  const lines = formatProviders(report.configured, report.providers);
  lines.push(`runtime.backend = ${report.backend}`);
  if (report.kserve)
    lines.push(
      `  KServe v2 server ${report.kserve.url}: ${report.kserve.ready ? "ready" : `not ready: ${report.kserve.error}`}`,
    );
  if (report.models.length === 0) lines.push("no models to serve (none in models, none opted in)");
  for (const model of report.models) lines.push(...formatModel(model));
  return lines;
}

function formatProviders(configured: ExecutionProvider, providers: ProviderStatus[]): string[] {
  return [
    `onnxruntime-node ${ort.env.versions.node ?? "unknown"}, runtime.executionProvider = ${configured}`,
    ...providers.map(
      (status) => `  ${status.provider.padEnd(5)} ${status.loads ? "loads" : `does not load: ${status.reason}`}`,
    ),
  ];
}

function formatModel(model: DoctorModel): string[] {
  const head = `model ${model.modelId} (${model.mode}${model.source ? `, ${model.source}` : ""})`;
  if (model.error !== undefined) return [`${head}: cannot be opened: ${model.error}`];
  if (model.runtime === "kserve") return [`${head}: served remotely, metadata matches the registry`];
  if (model.runtime !== "onnxruntime" || !model.placement)
    return [`${head}: run by the reference executor (TypeScript, exact integers), not onnxruntime`];
  const { placement } = model;
  const lines = [`${head}: onnxruntime on ${placement.provider}`];
  for (const reason of placement.fallbacks) lines.push(`  not ${placement.requested}: ${reason}`);
  for (const { provider, count, nodes } of placement.placements) {
    lines.push(`  ${provider}: ${count} node${count === 1 ? "" : "s"}`);
    if (!nodes) lines.push("    (onnxruntime gave the count only)");
    else {
      const width = Math.max(...nodes.map((node) => node.opType.length));
      for (const node of nodes) lines.push(`    ${node.opType.padEnd(width)}  ${node.name}`);
    }
  }
  return lines;
}
