/**
 * `verity model compile MODEL.onnx --calibration INPUTS.json --out DIR`: quantises a float ONNX
 * model into the model folder DIR (DIR/vqm, model-folder.ts) and prints layers, parameter count
 * and the integer model's agreement with the float one on the calibration inputs.
 */
import { readFile } from "node:fs/promises";
import type { Command } from "../cli.ts";
import { BaseError } from "../errors.ts";
import { compileVqm, formatCompileReport, parseCalibration } from "../model/quantise/compile-vqm.ts";
import { modelFolder } from "../model/model-folder.ts";
import { writeVqm } from "../model/vqm/vqm-files.ts";
import { zkPath } from "../zk/zk-files.ts";
import { parseJson, readBinaryFile, readTextFile } from "./parse-options.ts";

export const modelCompileCommand: Command = {
  summary: [
    "Quantise a float ONNX model into a verifiable integer model (VQM) folder.",
    "",
    'The calibration file is JSON { "inputs": number[][] }: float inputs, each flattened row-major to the',
    "model input's element count (a few hundred representative samples; the training split works).",
    "",
    "Writes the model folder DIR: DIR/vqm/model.onnx and DIR/vqm/manifest.json. Then `verity zk build DIR`",
    "(Zk) and `verity model register DIR --mode zk|optimistic` (docs/operator-guide.md, model folders).",
  ].join("\n"),
  usage: "MODEL.onnx --calibration INPUTS.json --out DIR [--name NAME] [--labels a,b,c]",
  options: {
    calibration: { type: "string" },
    out: { type: "string" },
    name: { type: "string" },
    labels: { type: "string" },
  },
  maxPositionals: 1,
  async run(values, [file]) {
    if (!file || !values.calibration || !values.out)
      throw new BaseError("model compile needs MODEL.onnx, --calibration and --out.", {
        details: ["Usage: verity model compile MODEL.onnx --calibration INPUTS.json --out DIR"],
      });
    const started = performance.now();
    const calibrationText = readTextFile(values.calibration as string, "the --calibration file");
    parseJson(calibrationText, `the --calibration file ${values.calibration as string}`); // a syntax error, with its line and column
    const { inputs } = parseCalibration(calibrationText);
    const compiled = compileVqm({
      onnx: readBinaryFile(file, "the ONNX file"),
      calibration: inputs,
      name: values.name as string | undefined,
      labels: values.labels ? (values.labels as string).split(",") : undefined,
    });
    const folder = modelFolder(values.out as string);
    const manifest = await writeVqm(folder.vqm, compiled.model);
    for (const line of formatCompileReport(compiled)) console.log(line);
    console.log(`modelHash ${manifest.modelHash}, weightsRoot ${manifest.weightsRoot}`);
    console.log(`wrote ${folder.vqm} in ${Math.round(performance.now() - started)} ms`);
    const zk = await readFile(zkPath(folder.zk, "manifest"), "utf8")
      .then((text) => JSON.parse(text) as { modelHash?: string })
      .catch(() => undefined);
    if (zk !== undefined && zk.modelHash !== manifest.modelHash)
      console.log(`note: ${folder.zk} was built from another model: run verity zk build ${values.out as string} again`);
  },
};
