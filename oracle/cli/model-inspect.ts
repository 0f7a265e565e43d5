/**
 * `verity model inspect DIR`: the manifest of a VQM folder in words: input and output, hashes,
 * parameter count, how much of the registry's limits it uses, and one line per layer (kind,
 * inputs, shapes, parameters, requantisation).
 */
import type { Command } from "./command.ts";
import { BaseError } from "../errors.ts";
import { chainLimitUsage } from "../model/chain-limit-violation.ts";
import type { ManifestLayer } from "../model/vqm/vqm-files.ts";
import { readModelFolder } from "../model/model-folder.ts";

export const modelInspectCommand: Command = {
  summary:
    "Describe a verifiable quantised model (model folder DIR, or DIR/vqm): layers, shapes, parameters and hashes.",
  usage: "DIR",
  options: {},
  maxPositionals: 1,
  async run(_values, [dir]) {
    if (!dir)
      throw new BaseError("model inspect needs a VQM folder.", { details: ["Usage: verity model inspect DIR"] });
    const { manifest, onnx } = await readModelFolder(dir);
    const shape = (s: number[]) => `[${s.join(", ")}]`;
    const lines = [
      `${manifest.name} (${manifest.format})`,
      `input   int8 ${shape(manifest.input.shape)}, scale ${manifest.input.scale}`,
      `output  ${manifest.output.dtype} ${shape(manifest.output.shape)}${manifest.output.scale !== undefined ? `, scale ${manifest.output.scale}` : ""}`,
      ...(manifest.labels ? [`labels  ${manifest.labels.join(", ")}`] : []),
      `modelHash    ${manifest.modelHash} (model.onnx, ${onnx.length} bytes)`,
      `weightsRoot  ${manifest.weightsRoot} (weights blob, ${manifest.weightsBytes} bytes)`,
      `parameters   ${manifest.parameterCount.toLocaleString("en-US")} (weights and biases)`,
      `layers       ${manifest.layers.length}`,
      `chain limits ${chainLimitUsage({ input: manifest.input, output: manifest.output, layerCount: manifest.layers.length })} (Zk, Optimistic)`,
      ...manifest.layers.map(describeLayer),
    ];
    for (const line of lines) console.log(line);
  },
};

function describeLayer(layer: ManifestLayer): string {
  const a = layer.attributes;
  const from = layer.inputs.map((ref) => (ref === -1 ? "input" : `#${ref}`)).join(" + ");
  const head = `  #${layer.index} ${layer.kind.padEnd(9)} ${from.padEnd(12)} ${layer.inputShapes.map((s) => `[${s.join(", ")}]`).join(" + ")} -> [${layer.outputShape.join(", ")}]`;
  const parts: string[] = [];
  if (layer.kind === "conv2d")
    parts.push(
      `kernel ${(a.kernel as number[]).join("x")}, stride ${(a.stride as number[]).join("x")}, padding ${(a.padding as number[]).join(",")}`,
    );
  if (layer.kind === "maxpool2d")
    parts.push(`kernel ${(a.kernel as number[]).join("x")}, stride ${(a.stride as number[]).join("x")}`);
  if (layer.requant) {
    const { multiplier, shift, activation } = layer.requant;
    parts.push(
      `m ${Math.min(...multiplier)}..${Math.max(...multiplier)}, s ${Math.min(...shift)}..${Math.max(...shift)}, ${activation}`,
    );
  }
  if (layer.kind === "add")
    parts.push(
      `ma ${(a.multipliers as number[])[0]}, mb ${(a.multipliers as number[])[1]}, s ${a.shift as number}, ${a.activation as string}`,
    );
  if (layer.parameters) parts.push(`blob ${layer.parameters.range.offset}+${layer.parameters.range.length}`);
  return parts.length > 0 ? `${head}  (${parts.join("; ")})` : head;
}
