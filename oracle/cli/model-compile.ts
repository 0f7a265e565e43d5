/**
 * `verity model compile MODEL.onnx --calibration INPUTS.json --out DIR`: quantises a float ONNX
 * model into a VQM folder and prints layers, parameter count and the integer model's agreement
 * with the float one on the calibration inputs.
 */
import { readFileSync } from "node:fs";
import type { Command } from "../cli.ts";
import { BaseError } from "../errors.ts";
import { compileVqm, formatCompileReport, parseCalibration } from "../model/quantise/compile-vqm.ts";
import { writeVqm } from "../model/vqm/vqm-files.ts";

export const modelCompileCommand: Command = {
  summary: [
    "Quantise a float ONNX model into a verifiable integer model (VQM) folder.",
    "",
    'The calibration file is JSON { "inputs": number[][] }: float inputs, each flattened row-major to the',
    "model input's element count (a few hundred representative samples; the training split works).",
  ].join("\n"),
  usage: "MODEL.onnx --calibration INPUTS.json --out DIR [--name NAME] [--labels a,b,c]",
  options: {
    calibration: { type: "string" },
    out: { type: "string" },
    name: { type: "string" },
    labels: { type: "string" },
  },
  async run(values, [file]) {
    if (!file || !values.calibration || !values.out)
      throw new BaseError("model compile needs MODEL.onnx, --calibration and --out.", {
        details: ["Usage: verity model compile MODEL.onnx --calibration INPUTS.json --out DIR"],
      });
    const started = performance.now();
    const { inputs } = parseCalibration(readFileSync(values.calibration as string, "utf8"));
    const compiled = compileVqm({
      onnx: new Uint8Array(readFileSync(file)),
      calibration: inputs,
      name: values.name as string | undefined,
      labels: values.labels ? (values.labels as string).split(",") : undefined,
    });
    const manifest = await writeVqm(values.out as string, compiled.model);
    for (const line of formatCompileReport(compiled)) console.log(line);
    console.log(`modelHash ${manifest.modelHash}, weightsRoot ${manifest.weightsRoot}`);
    console.log(`wrote ${values.out} in ${Math.round(performance.now() - started)} ms`);
  },
};
