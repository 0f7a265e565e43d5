import { readFileSync } from "node:fs";
import { hexlify } from "ethers";
import type { Command } from "../cli.ts";
import { BaseError } from "../errors.ts";
import { argmax } from "../model/argmax.ts";
import { createTensor, type DType, type Tensor } from "../model/tensor.ts";
import { decodeTensor } from "../model/tensor-codec.ts";
import { encodeRequestInput } from "../sdk/encode-request-input.ts";
import { requestInference } from "../sdk/request-inference.ts";
import { waitForFinal } from "../sdk/wait-for-final.ts";
import { chainContext, chainOptions } from "./chain-context.ts";

export const requestCommand: Command = {
  summary: [
    "Request an inference, wait until it is final and print the output.",
    "",
    "The input travels inline (0x00 ‖ canonical tensor bytes), the form every mode takes; for a Zk or",
    "Optimistic model it must be exactly the registered dtype and shape, checked before anything is sent.",
  ].join("\n"),
  usage:
    "--model ID --input INPUT.json [--ttl 600] [--no-wait] [--rpc URL] [--deployment FILE]   (INPUT.json: { dtype, shape, data })",
  options: {
    ...chainOptions,
    model: { type: "string" },
    input: { type: "string" },
    ttl: { type: "string", default: "600" },
    "no-wait": { type: "boolean" },
  },
  async run(values) {
    if (!values.model || !values.input) throw new BaseError("request needs --model and --input.");
    const modelText = values.model as string;
    if (!/^\d+$/.test(modelText)) throw new BaseError(`--model ${JSON.stringify(modelText)} is not a model id.`);
    const ttl = Number(values.ttl);
    if (!Number.isInteger(ttl) || ttl <= 0)
      throw new BaseError(`--ttl ${JSON.stringify(values.ttl)} is not a number of seconds.`);
    const tensor = readInputFile(values.input as string);
    const { suite, provider } = chainContext(values);
    try {
      const modelId = BigInt(modelText);
      const { requestId, fee } = await requestInference(suite.inferenceMarket, suite.modelRegistry, {
        modelId,
        input: encodeRequestInput(tensor),
        ttlSec: ttl,
      });
      console.log(`request ${requestId} sent (fee ${fee} wei)`);
      if (values["no-wait"]) return;
      const result = await waitForFinal(suite.inferenceMarket, requestId);
      if (result.status !== "Finalized") return void console.log(`request ${requestId} ended ${result.status}`);
      const output = decodeTensor(result.output);
      console.log(
        `request ${requestId} Finalized: ${output.dtype}[${output.shape.join(", ")}] = [${Array.from(output.data as ArrayLike<number>).join(", ")}]`,
      );
      console.log(`argmax ${argmax(output)}; raw ${hexlify(result.output)}`);
    } finally {
      provider.destroy();
    }
  },
};

/** INPUT.json, `{ dtype, shape, data }`, as a checked tensor. */
function readInputFile(file: string): Tensor {
  let parsed: { dtype?: unknown; shape?: unknown; data?: unknown };
  try {
    parsed = JSON.parse(readFileSync(file, "utf8")) as typeof parsed;
  } catch (error) {
    throw new BaseError(`Cannot read the input file ${file}.`, { details: [(error as Error).message], cause: error });
  }
  const { dtype, shape, data } = parsed ?? {};
  if (
    typeof dtype !== "string" ||
    !Array.isArray(shape) ||
    !shape.every((dim) => typeof dim === "number") ||
    !Array.isArray(data) ||
    !data.every((value) => typeof value === "number")
  )
    throw new BaseError(`The input file ${file} is not { "dtype": "...", "shape": [...], "data": [...] }.`, {
      details: ['For example { "dtype": "int8", "shape": [1, 4], "data": [-52, 67, -93, -107] }.'],
    });
  return createTensor(dtype as DType, shape as number[], data as number[]);
}
