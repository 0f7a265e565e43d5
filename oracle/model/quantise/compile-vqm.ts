/**
 * The compiler as one pure function: float ONNX bytes + calibration inputs → a validated VQM
 * model and a report (layers, parameter count, agreement with the float model on the
 * calibration set). `verity model compile` is this plus file I/O.
 */
import { z } from "zod";
import { BaseError } from "../../errors.ts";
import { chainLimitUsage } from "../chain-limit-violation.ts";
import type { OnnxModel } from "../onnx/onnx-model.ts";
import { readOnnx } from "../onnx/read-onnx.ts";
import { validateVqm } from "../vqm/validate-vqm.ts";
import type { VqmLayer, VqmModel } from "../vqm/vqm-model.ts";
import { compareQuantised } from "./compare-quantised.ts";
import type { FloatNetwork } from "./float-network.ts";
import type { CompareQuantisedReturnType } from "./compare-quantised.ts";
import { quantiseModel } from "./quantise-model.ts";
import { compareDecoder } from "./compare-decoder.ts";
import type { CompareDecoderReturnType } from "./compare-decoder.ts";
import type { FloatDecoder } from "./float-decoder.ts";
import { quantiseDecoder } from "./quantise-decoder.ts";

/** The calibration file: `{ "inputs": number[][] }`, each input flattened row-major. */
export const calibrationSchema = z.object({
  inputs: z.array(z.array(z.number().finite())).min(1),
});

export type Calibration = z.infer<typeof calibrationSchema>;

export class CalibrationFileError extends BaseError {
  override name = "CalibrationFileError";
}

export function parseCalibration(text: string): Calibration {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new CalibrationFileError("Calibration file is not JSON.", { cause });
  }
  const parsed = calibrationSchema.safeParse(json);
  if (!parsed.success)
    throw new CalibrationFileError('Calibration file is not { "inputs": number[][] } with one input or more.', {
      details: parsed.error.issues.slice(0, 3).map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`),
    });
  return parsed.data;
}

export type CompileVqmParameters = {
  onnx: Uint8Array;
  calibration: readonly (readonly number[])[];
  name?: string | undefined;
  labels?: string[] | undefined;
};

export type LayerSummary = { index: number; kind: VqmLayer["kind"]; node: string; shape: number[]; parameters: number };

export type CompileVqmReturnType = {
  model: VqmModel;
  /** The float network that was quantised (for further comparisons). */
  network: FloatNetwork;
  layers: LayerSummary[];
  parameterCount: number;
  /** The integer model against the float one on the calibration inputs. */
  agreement: CompareQuantisedReturnType;
};

export function compileVqm({ onnx, calibration, name, labels }: CompileVqmParameters): CompileVqmReturnType {
  const { model, network } = quantiseModel({
    onnx: readOnnx(onnx),
    calibration,
    ...(name ? { name } : {}),
    ...(labels ? { labels } : {}),
  });
  const shapes = validateVqm(model);
  const layers = model.layers.map((layer, index) => ({
    index,
    kind: layer.kind,
    node: network.layers[index]!.node,
    shape: shapes[index]!,
    parameters: parameterCount(layer),
  }));
  return {
    model,
    network,
    layers,
    parameterCount: layers.reduce((sum, layer) => sum + layer.parameters, 0),
    agreement: compareQuantised({ model, network, inputs: calibration }),
  };
}

/** Weights and biases (the requantisation constants are not counted). */
function parameterCount(layer: VqmLayer): number {
  return layer.kind === "dense" || layer.kind === "conv2d" ? layer.weights.length + layer.bias.length : 0;
}

/** The report `verity model compile` prints. */
export function formatCompileReport({ model, layers, parameterCount, agreement }: CompileVqmReturnType): string[] {
  const lines = [
    `${model.name}: ${layers.length} layers, ${parameterCount} parameters, input [${model.input.shape}] scale ${model.input.scale.toPrecision(6)}`,
  ];
  for (const layer of layers)
    lines.push(
      `  ${String(layer.index).padStart(3)} ${layer.kind.padEnd(9)} [${layer.shape.join(", ")}]${
        layer.parameters ? ` ${layer.parameters} params` : ""
      }  (${layer.node})`,
    );
  const last = layers.at(-1)!;
  lines.push(
    `chain limits (Zk, Optimistic): ${chainLimitUsage({
      input: { dtype: "int8", shape: model.input.shape },
      output: { dtype: last.kind === "argmax" ? "int32" : "int8", shape: last.shape },
      layerCount: layers.length,
    })}`,
    `agreement with the float model on ${agreement.samples} calibration inputs:`,
    `  top-1 agreement   ${(agreement.top1Agreement * 100).toFixed(2)} %`,
  );
  if (agreement.maxAbsError !== undefined)
    lines.push(
      `  output abs error  max ${agreement.maxAbsError.toPrecision(4)}, mean ${agreement.meanAbsError!.toPrecision(4)} (float outputs up to ${agreement.floatOutputRange!.toPrecision(4)})`,
    );
  return lines;
}

// ---------------------------------------------------------------------------------------------
// Decoders (float-decoder.ts): a graph that reads token ids into a Gather compiles per pass.

/** A decoder's calibration (or held-out) file: `{ "prompts": number[][] }`, token-id sequences. */
export const decoderCalibrationSchema = z.object({
  prompts: z.array(z.array(z.number().int().nonnegative()).min(1)).min(1),
});

export function parseDecoderCalibration(text: string): z.infer<typeof decoderCalibrationSchema> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new CalibrationFileError("Calibration file is not JSON.", { cause });
  }
  const parsed = decoderCalibrationSchema.safeParse(json);
  if (!parsed.success)
    throw new CalibrationFileError('A decoder\'s calibration file is not { "prompts": number[][] } (token ids).', {
      details: [
        ...parsed.error.issues.slice(0, 3).map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`),
        "Each prompt is a non-empty list of token ids of the model's vocabulary (e.g. a name as . n a m e .).",
      ],
    });
  return parsed.data;
}

export type CompileDecoderVqmParameters = {
  onnx: OnnxModel;
  /** Calibration token-id sequences. */
  prompts: readonly (readonly number[])[];
  /** Sequences the agreement is measured on; defaults to the calibration prompts. */
  heldOut?: readonly (readonly number[])[] | undefined;
  name?: string | undefined;
  promptLength?: number | undefined;
  newTokens?: number | undefined;
  bos?: number | undefined;
};

export type CompileDecoderVqmReturnType = {
  model: VqmModel;
  decoder: FloatDecoder;
  layers: LayerSummary[];
  parameterCount: number;
  /** The integer decoder against the float one, position by position, on `heldOut`. */
  agreement: CompareDecoderReturnType;
};

export function compileDecoderVqm({
  onnx,
  prompts,
  heldOut,
  ...options
}: CompileDecoderVqmParameters): CompileDecoderVqmReturnType {
  const { model, decoder, scales } = quantiseDecoder({ onnx, prompts, ...options });
  const shapes = validateVqm(model);
  const layers = model.layers.map((layer, index) => ({
    index,
    kind: layer.kind,
    node: decoder.layers[index]!.node,
    shape: shapes[index]!,
    parameters: decoderParameterCount(layer),
  }));
  const bos = model.sequence!.bos;
  return {
    model,
    decoder,
    layers,
    parameterCount: layers.reduce((sum, layer) => sum + layer.parameters, 0),
    agreement: compareDecoder({ model, decoder, scales, sequences: heldOut ?? prompts, prompts: [[bos]] }),
  };
}

function decoderParameterCount(layer: VqmLayer): number {
  switch (layer.kind) {
    case "embed":
      return layer.table.length;
    case "normalize":
      return layer.gamma.length + layer.beta.length;
    case "lut":
      return layer.table.length;
    default:
      return parameterCount(layer);
  }
}

/** The report `verity model compile` prints for a decoder. */
export function formatDecoderCompileReport({
  model,
  layers,
  parameterCount,
  agreement,
}: CompileDecoderVqmReturnType): string[] {
  const { contextLength, vocabSize, promptLength, newTokens, bos } = model.sequence!;
  const lines = [
    `${model.name}: decoder, ${layers.length} layers per pass, ${parameterCount} parameters, context ${contextLength}, vocabulary ${vocabSize}, prompt ${promptLength}, new tokens ${newTokens}, bos ${bos}`,
  ];
  for (const layer of layers)
    lines.push(
      `  ${String(layer.index).padStart(3)} ${layer.kind.padEnd(9)} [${layer.shape.join(", ")}]${
        layer.parameters ? ` ${layer.parameters} params` : ""
      }  (${layer.node})`,
    );
  const percent = (x: number) => `${(x * 100).toFixed(2)} %`;
  lines.push(
    `agreement with the float model on ${agreement.sequences} sequences (${agreement.positions} positions):`,
    `  top-1 next token   ${percent(agreement.top1Agreement)}`,
    `  cross-entropy      float ${agreement.floatLoss.toFixed(4)}, integer ${agreement.integerLoss.toFixed(4)} nats (perplexity ${Math.exp(agreement.floatLoss).toFixed(3)} / ${Math.exp(agreement.integerLoss).toFixed(3)})`,
    `  next-token accuracy float ${percent(agreement.floatAccuracy)}, integer ${percent(agreement.integerAccuracy)}`,
  );
  for (const { prompt, float, integer } of agreement.generations)
    lines.push(`  greedy after [${prompt}]: float [${float}], integer [${integer}]`);
  return lines;
}
