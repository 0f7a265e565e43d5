/**
 * `verity model compile MODEL.onnx --calibration INPUTS.json --out DIR`: quantises a float ONNX
 * model into the model folder DIR (DIR/vqm, model-folder.ts) and prints layers, parameter count
 * and the integer model's agreement with the float one on the calibration inputs.
 */
import { readFile } from "node:fs/promises";
import type { Command } from "../cli.ts";
import { BaseError } from "../errors.ts";
import {
  compileDecoderVqm,
  compileVqm,
  formatCompileReport,
  formatDecoderCompileReport,
  parseCalibration,
  parseDecoderCalibration,
} from "../model/quantise/compile-vqm.ts";
import type { VqmModel } from "../model/vqm/vqm-model.ts";
import { readOnnx } from "../model/onnx/read-onnx.ts";
import { isDecoderGraph } from "../model/quantise/float-decoder.ts";
import { modelFolder } from "../model/model-folder.ts";
import { writeVqm } from "../model/vqm/vqm-files.ts";
import { readTokenizerBytes, type Tokenizer } from "../model/text/tokenizer.ts";
import { zkPath } from "../zk/zk-files.ts";
import { parseCount, parseJson, readBinaryFile, readTextFile } from "./parse-options.ts";

export const modelCompileCommand: Command = {
  summary: [
    "Quantise a float ONNX model into a verifiable integer model (VQM) folder.",
    "",
    'The calibration file is JSON { "inputs": number[][] }: float inputs, each flattened row-major to the',
    "model input's element count (a few hundred representative samples; the training split works).",
    "",
    "A decoder-only transformer (input token ids [1, C], logits [1, C, V]) is compiled per pass; its",
    'calibration file is { "prompts": number[][] } (token-id sequences), --held-out takes the same format',
    "for the agreement report, --prompt-length, --new-tokens, --bos set the request shape, and --tokenizer FILE",
    "(a tokenizer.json: docs/operator-guide.md, decoders) goes into the folder, bound by the manifest's hash.",
    "",
    "Writes the model folder DIR: DIR/vqm/model.onnx and DIR/vqm/manifest.json. Then `verity zk build DIR`",
    "(Zk) and `verity model register DIR --mode zk|optimistic` (docs/operator-guide.md, model folders).",
  ].join("\n"),
  usage:
    "MODEL.onnx --calibration INPUTS.json --out DIR [--name NAME] [--labels a,b,c] [--held-out PROMPTS.json] [--prompt-length P] [--new-tokens N] [--bos ID] [--tokenizer FILE]",
  options: {
    calibration: { type: "string" },
    out: { type: "string" },
    name: { type: "string" },
    labels: { type: "string" },
    "held-out": { type: "string" },
    "prompt-length": { type: "string" },
    "new-tokens": { type: "string" },
    bos: { type: "string" },
    tokenizer: { type: "string" },
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
    const bytes = readBinaryFile(file, "the ONNX file");
    let model: VqmModel;
    let report: string[];
    let tokenizer: Tokenizer | undefined;
    const onnx = readOnnx(bytes);
    if (isDecoderGraph(onnx)) {
      const count = (flag: string) =>
        values[flag] === undefined
          ? undefined
          : parseCount(`--${flag}`, values[flag] as string, { min: flag === "bos" ? 0 : 1 });
      const heldOut = values["held-out"] as string | undefined;
      const compiled = compileDecoderVqm({
        onnx,
        prompts: parseDecoderCalibration(calibrationText).prompts,
        heldOut: heldOut ? parseDecoderCalibration(readTextFile(heldOut, "the --held-out file")).prompts : undefined,
        name: values.name as string | undefined,
        promptLength: count("prompt-length"),
        newTokens: count("new-tokens"),
        bos: count("bos"),
      });
      model = compiled.model;
      report = formatDecoderCompileReport(compiled);
      if (values.tokenizer !== undefined)
        tokenizer = readTokenizerBytes(
          readBinaryFile(values.tokenizer as string, "the --tokenizer file"),
          values.tokenizer as string,
        );
    } else {
      if (values.tokenizer !== undefined)
        throw new BaseError("--tokenizer is for decoders (text generation); this model is not one.", {
          details: ["Drop --tokenizer, or compile a decoder-only transformer (input token ids, logits)."],
        });
      const compiled = compileVqm({
        onnx: bytes,
        calibration: parseCalibration(calibrationText).inputs,
        name: values.name as string | undefined,
        labels: values.labels ? (values.labels as string).split(",") : undefined,
      });
      model = compiled.model;
      report = formatCompileReport(compiled);
    }
    const folder = modelFolder(values.out as string);
    const manifest = await writeVqm(folder.vqm, model, { tokenizer });
    for (const line of report) console.log(line);
    console.log(`modelHash ${manifest.modelHash}, weightsRoot ${manifest.weightsRoot}`);
    console.log(`wrote ${folder.vqm} in ${Math.round(performance.now() - started)} ms`);
    const zk = await readFile(zkPath(folder.zk, "manifest"), "utf8")
      .then((text) => JSON.parse(text) as { modelHash?: string })
      .catch(() => undefined);
    if (zk !== undefined && zk.modelHash !== manifest.modelHash)
      console.log(`note: ${folder.zk} was built from another model: run verity zk build ${values.out as string} again`);
  },
};
