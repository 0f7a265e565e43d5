/**
 * `verity model run DIR --input x.json [--float] [--engine ort|reference] [--trace]`: runs a
 * VQM folder on one input and prints the output integers (and, with --trace, every layer's
 * trace root). The input JSON is { "data": [...] }: int8 values, or floats with --float,
 * quantised with the manifest's input scale.
 */
import type { Command } from "./command.ts";
import { BaseError } from "../errors.ts";
import { quantiseInput } from "../model/quantise/fixed-point.ts";
import type { Tensor } from "../model/tensor.ts";
import { traceRoot } from "../model/vqm/commitments.ts";
import { executeVqmOrt, openVqmOrt } from "../model/vqm/ort-executor.ts";
import { executeVqm } from "../model/vqm/reference-executor.ts";
import { readModelFolder } from "../model/model-folder.ts";
import type { VqmModel } from "../model/vqm/vqm-model.ts";
import { parseChoice, readJsonFile } from "./parse-options.ts";

export const modelRunCommand: Command = {
  summary: [
    "Run a verifiable quantised model (model folder DIR, or DIR/vqm) on one input and print the output integers.",
    "",
    'The input file is JSON { "data": [...] } flattened row-major: int8 values, or floats with --float',
    "(quantised as clamp(round(x / scale), -128, 127) with the manifest's input scale).",
  ].join("\n"),
  usage: "DIR --input INPUT.json [--float] [--engine ort|reference] [--trace]",
  options: {
    input: { type: "string" },
    float: { type: "boolean", default: false },
    engine: { type: "string", default: "ort" },
    trace: { type: "boolean", default: false },
  },
  maxPositionals: 1,
  async run(values, [dir]) {
    if (!dir || !values.input)
      throw new BaseError("model run needs a VQM folder and --input.", {
        details: ["Usage: verity model run DIR --input INPUT.json [--float] [--engine ort|reference] [--trace]"],
      });
    const engine = parseChoice("--engine", values.engine as string, ["ort", "reference"]);
    const { model, onnx } = await readModelFolder(dir);
    const input = readInput(values.input as string, model, values.float === true);
    const started = performance.now();
    let result: { output: Tensor; trace: Tensor[] };
    if (engine === "reference") result = executeVqm(model, input);
    else {
      const session = await openVqmOrt({ model, onnx, trace: values.trace === true });
      try {
        result = await executeVqmOrt(session, input);
      } finally {
        await session.release();
      }
    }
    const elapsed = performance.now() - started;
    const { output, trace } = result;
    console.log(
      `output ${output.dtype} [${output.shape.join(", ")}]: ${Array.from(output.data as ArrayLike<number>, String).join(" ")}`,
    );
    if (model.labels && output.dtype === "int32" && output.data.length === 1)
      console.log(`label ${model.labels[Number(output.data[0])] ?? "?"}`);
    else if (model.labels && output.data.length === model.labels.length) {
      const data = Array.from(output.data as Int8Array);
      console.log(`label ${model.labels[data.indexOf(Math.max(...data))] ?? "?"}`);
    }
    if (values.trace === true)
      trace.forEach((tensor, index) =>
        console.log(
          `layer ${index} ${model.layers[index]!.kind} [${tensor.shape.join(", ")}] trace root ${traceRoot(tensor)}`,
        ),
      );
    console.log(`engine ${engine}, ${elapsed.toFixed(1)} ms`);
  },
};

function readInput(path: string, model: VqmModel, float: boolean): Tensor {
  const data = (readJsonFile(path, "the --input file") as { data?: unknown } | null)?.data;
  const count = model.input.shape.reduce((n, d) => n * d, 1);
  if (!Array.isArray(data) || data.length !== count || !data.every((x) => typeof x === "number" && Number.isFinite(x)))
    throw new BaseError(`The input needs "data": ${count} numbers (shape [${model.input.shape.join(", ")}]).`, {
      details: [`Got ${Array.isArray(data) ? `${data.length} values` : typeof data}.`],
    });
  const numbers = data as number[];
  if (!float && !numbers.every((x) => Number.isInteger(x) && x >= -128 && x <= 127))
    throw new BaseError("The input values are not all int8 integers.", {
      details: ["Pass --float to quantise float values with the model's input scale."],
    });
  return {
    dtype: "int8",
    shape: [...model.input.shape],
    data: float ? quantiseInput(numbers, model.input.scale) : Int8Array.from(numbers),
  };
}
