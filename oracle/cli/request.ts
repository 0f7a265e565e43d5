import { readFileSync } from "node:fs";
import { hexlify } from "ethers";
import type { Command } from "../cli.ts";
import { BaseError } from "../errors.ts";
import { argmax } from "../model/argmax.ts";
import { createTensor, type DType } from "../model/tensor.ts";
import { decodeTensor } from "../model/tensor-codec.ts";
import { encodeRequestInput } from "../sdk/encode-request-input.ts";
import { requestInference } from "../sdk/request-inference.ts";
import { waitForFinal } from "../sdk/wait-for-final.ts";
import { chainContext, chainOptions } from "./chain-context.ts";

type InputFile = { dtype: DType; shape: number[]; data: number[] };

export const requestCommand: Command = {
  summary: "Request an inference, wait until it is final and print the output.",
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
    const file = JSON.parse(readFileSync(values.input as string, "utf8")) as InputFile;
    const tensor = createTensor(file.dtype, file.shape, file.data);
    const { suite, provider } = chainContext(values);
    try {
      const modelId = BigInt(values.model as string);
      const { mode } = await suite.modelRegistry.getActiveModel(modelId);
      const { requestId, fee } = await requestInference(suite.inferenceMarket, suite.modelRegistry, {
        modelId,
        input: encodeRequestInput(mode, tensor),
        ttlSec: Number(values.ttl),
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
