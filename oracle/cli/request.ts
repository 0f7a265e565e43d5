/**
 * `verity request`: sends an inference request, waits for it to be final with a line per status,
 * and prints the output, or why it failed, what it credited back and how to withdraw it (exit
 * code 1 when it ends Failed or Refunded).
 */
import { ZeroAddress, hexlify } from "ethers";
import { BaseError } from "../errors.ts";
import { argmax } from "../model/argmax.ts";
import { readModelFolder } from "../model/model-folder.ts";
import { quantiseInput } from "../model/quantise/fixed-point.ts";
import { createTensor, elementCount, isDType, type DType, type Tensor } from "../model/tensor.ts";
import { decodeTensor } from "../model/tensor-codec.ts";
import { formatToString, registeredFormat, type TensorFormat } from "../model/tensor-format.ts";
import { encodeRequestInput } from "../sdk/encode-request-input.ts";
import type { Tokenizer } from "../model/text/tokenizer.ts";
import { prepareTextPrompt, printGeneratedText, type TextPrompt } from "./request-text.ts";
import type { RequestOutcome } from "../sdk/get-request-outcome.ts";
import { requestInference } from "../sdk/request-inference.ts";
import { waitForFinal } from "../sdk/wait-for-final.ts";
import { chainContext, chainOptions, chainUsage, type ChainContext, type ChainFlags } from "./chain-context.ts";
import type { Command } from "./command.ts";
import { formatAmount, formatTokenAmount } from "./money.ts";
import { CliInputError, parseAddress, parseCount, parseDuration, parseId, readJsonFile } from "./parse-options.ts";

export const requestCommand: Command = {
  summary: [
    "Request an inference, wait until it is final and print the output.",
    "",
    "INPUT.json is { dtype, shape, data }; with --float it is { data }: floats that are turned into the model's",
    "int8 input with the input scale of its model folder (--model-dir DIR, the folder `model register` took).",
    "The input travels inline (0x00 ‖ canonical tensor bytes); for a Zk or Optimistic model it must be exactly",
    "the registered dtype and shape, checked before anything is sent.",
    "",
    "While it waits, a line per status. A request that ends Failed or Refunded prints the reason and the credit",
    "it left (withdraw it with `verity withdraw`) and exits with code 1. --wait ID waits for a request sent",
    "before (with --no-wait, say). --timeout (default: the ttl plus a minute) bounds the wait.",
    "",
    "--text TEXT --model-dir DIR (a decoder): the prompt is encoded with DIR/vqm/tokenizer.json (the boundary",
    "first, padded with -1 to the model's promptLength) and the generated ids are printed with their text, which",
    "stops at the first boundary token (the end of the generated sequence).",
  ].join("\n"),
  usage: `(--model ID (--input INPUT.json [--float --model-dir DIR] | --text TEXT --model-dir DIR) [--ttl 600] [--no-wait] [--callback ADDR --callback-gas N] | --wait ID) [--timeout 11m] ${chainUsage}`,
  options: {
    ...chainOptions,
    model: { type: "string" },
    input: { type: "string" },
    text: { type: "string" },
    float: { type: "boolean", default: false },
    "model-dir": { type: "string" },
    ttl: { type: "string", default: "600" },
    timeout: { type: "string" },
    "no-wait": { type: "boolean", default: false },
    wait: { type: "string" },
    callback: { type: "string" },
    "callback-gas": { type: "string" },
  },
  maxPositionals: 0,
  async run(values) {
    const usage = `Usage: verity request ${this.usage}`;
    const waitFor = values.wait === undefined ? undefined : parseId("--wait", values.wait as string, "request");
    const text = values.text as string | undefined;
    if (waitFor !== undefined && (values.model !== undefined || values.input !== undefined || text !== undefined))
      throw new CliInputError("--wait ID waits for a request already sent: give it without --model and --input.", {
        details: [usage],
      });
    if (text !== undefined && (values.input !== undefined || values.float === true))
      throw new CliInputError("--text is the prompt of a decoder: give it instead of --input (and --float).", {
        details: [usage],
      });
    if (waitFor === undefined && (values.model === undefined || (values.input === undefined && text === undefined)))
      throw new CliInputError(
        `request needs ${values.model === undefined ? "--model ID" : "--input INPUT.json (or --text TEXT for a decoder)"}.`,
        { details: [usage] },
      );
    const ttl = parseDuration("--ttl", values.ttl as string, { max: 30 * 86_400 });
    const timeoutSec =
      values.timeout === undefined
        ? ttl + 60
        : parseDuration("--timeout", values.timeout as string, { max: 7 * 86_400 });
    const callback = parseCallback(values);
    if (values.float === true && values["model-dir"] === undefined)
      throw new CliInputError("--float needs the model's folder: --model-dir DIR.", {
        details: ["Its vqm/manifest.json holds the input scale the floats are quantised with."],
      });
    const modelId = waitFor === undefined ? parseId("--model", values.model as string, "model") : undefined;
    // Read before the chain is touched: a missing or malformed file, or a prompt the model cannot take, costs nothing.
    const prompt =
      text === undefined ? undefined : await prepareTextPrompt(text, values["model-dir"] as string | undefined);
    const file =
      waitFor === undefined && prompt === undefined
        ? readJsonFile(values.input as string, "the --input file")
        : undefined;

    const context = await chainContext(values as ChainFlags);
    try {
      let requestId = waitFor;
      let fromBlock = context.deployment.startBlock;
      if (requestId === undefined) {
        const tensor = prompt
          ? await promptTensor(context, modelId!, prompt)
          : await inputTensor(context, modelId!, file, values);
        const sent = await requestInference(context.suite.inferenceMarket, context.suite.modelRegistry, {
          modelId: modelId!,
          input: encodeRequestInput(tensor),
          ttlSec: ttl,
          callback,
        });
        requestId = sent.requestId;
        fromBlock = sent.receipt.blockNumber;
        console.log(
          `request ${requestId} sent (fee ${formatTokenAmount(sent.fee, sent.feeToken)}, tx ${sent.receipt.hash})`,
        );
        if (values["no-wait"] === true)
          return void console.log(`wait for it with: npx verity request --wait ${requestId}`);
      }
      // A line per status, and one every 30 s while the status stays the same.
      const started = Date.now();
      let current = "";
      const line = (status: string, prefix = "") => {
        const waited = Math.round((Date.now() - started) / 1000);
        console.log(`request ${requestId} ${prefix}${status}${waited >= 1 ? ` (${waited} s)` : ""}`);
      };
      const heartbeat = setInterval(() => line(current, "still "), 30_000);
      let outcome: RequestOutcome;
      try {
        outcome = await waitForFinal(context.suite.inferenceMarket, requestId, {
          timeoutMs: timeoutSec * 1000,
          fromBlock,
          onStatus: (status) => {
            current = status;
            line(status);
          },
        });
      } finally {
        clearInterval(heartbeat);
      }
      report(outcome, prompt?.tokenizer);
    } finally {
      context.provider.destroy();
    }
  },
};

/** The outcome on standard output; a request that did not finalize ends as an error (exit code 1). */
function report(outcome: RequestOutcome, tokenizer?: Tokenizer): void {
  const id = outcome.requestId;
  if (outcome.status === "Finalized") {
    const output = decodeTensor(outcome.output);
    console.log(
      `request ${id} Finalized: ${output.dtype}[${output.shape.join(", ")}] = [${Array.from(output.data as ArrayLike<number>).join(", ")}]`,
    );
    if (tokenizer) printGeneratedText(tokenizer, output);
    else console.log(`argmax ${argmax(output)}; raw ${hexlify(outcome.output)}`);
    if (outcome.callback) {
      const { address, gasLimit, success } = outcome.callback;
      if (success) console.log(`callback ${address} succeeded`);
      else
        console.log(
          `callback ${address} FAILED (it reverted or ran out of its ${gasLimit} gas); the result stays readable: market.outputOf(${id})`,
        );
    }
    return;
  }
  const credit = outcome.credits.map((c) => formatTokenAmount(c.amount, c.token)).join(" + ");
  const withdraw = `${credit} credited back to ${outcome.requester}: withdraw it with \`npx verity withdraw\`${outcome.credits.some((c) => c.token !== ZeroAddress) ? " (--token for the ERC-20)" : ""}.`;
  if (outcome.status === "Failed") {
    const { name, description, provider } = outcome.failure;
    throw new BaseError(`Request ${id} ended Failed: ${name} (${description}), reported by provider ${provider}.`, {
      details: [withdraw],
    });
  }
  const why = {
    expired: "no provider delivered before the deadline",
    "claim-expired": `the provider that claimed it did not deliver before the deadline${outcome.refund.penalty > 0n ? ` (it paid a ${formatAmount(outcome.refund.penalty)} claim penalty)` : ""}`,
    challenged: "a dispute game proved the result wrong",
    "games-overdue": "its dispute games could not end in time",
  }[outcome.refund.cause];
  throw new BaseError(`Request ${id} ended Refunded: ${why}.`, { details: [withdraw] });
}

/** The prompt's tensor, once the folder it was encoded with is checked to be the registered model. */
async function promptTensor(context: ChainContext, modelId: bigint, prompt: TextPrompt): Promise<Tensor> {
  const model = await context.suite.modelRegistry.getModel(modelId);
  if (prompt.modelHash !== model.modelHash)
    throw new CliInputError(`${prompt.dir} is not model ${modelId}: its modelHash differs from the registered one.`, {
      details: [`registered ${model.modelHash}`, `folder     ${prompt.modelHash}`],
    });
  return prompt.tensor;
}

/** `--callback ADDR` with `--callback-gas N` (both or neither). */
function parseCallback(values: Record<string, string | boolean | undefined>) {
  if (values.callback === undefined && values["callback-gas"] === undefined) return undefined;
  if (values.callback === undefined || values["callback-gas"] === undefined)
    throw new CliInputError("--callback ADDR and --callback-gas N go together.", {
      details: ["The market calls the contract back with at most that much gas (2000000 at most)."],
    });
  return {
    address: parseAddress("--callback", values.callback as string),
    gasLimit: parseCount("--callback-gas", values["callback-gas"] as string, { min: 1, max: 2_000_000 }),
  };
}

/** The input tensor: `{ dtype, shape, data }` as given, or with --float, `{ data }` quantised with the model folder's scale. */
async function inputTensor(
  context: ChainContext,
  modelId: bigint,
  file: unknown,
  values: Record<string, string | boolean | undefined>,
): Promise<Tensor> {
  const source = `The --input file ${values.input as string}`;
  if (values.float !== true) return tensorOf(file, source);
  const model = await context.suite.modelRegistry.getModel(modelId);
  const format = registeredFormat(model.inputDtype, model.inputShape);
  if (format.dtype !== "int8")
    throw new CliInputError(`Model ${modelId} takes ${formatToString(format)}, not int8: --float is for int8 models.`, {
      details: [`Give the values as they are: { "dtype": "${format.dtype}", "shape": [...], "data": [...] }.`],
    });
  const dir = values["model-dir"] as string;
  const { manifest } = await readModelFolder(dir);
  if (manifest.modelHash !== model.modelHash)
    throw new CliInputError(`${dir} is not model ${modelId}: its modelHash differs from the registered one.`, {
      details: [`registered ${model.modelHash}`, `folder     ${manifest.modelHash}`],
    });
  const floats = floatsOf(file, source, format);
  const tensor: Tensor = { dtype: "int8", shape: [...format.shape], data: quantiseInput(floats, manifest.input.scale) };
  console.log(
    `quantised ${floats.length} floats with the input scale ${manifest.input.scale}: [${Array.from(tensor.data as Int8Array).join(", ")}]`,
  );
  return tensor;
}

function tensorOf(file: unknown, source: string): Tensor {
  const { dtype, shape, data } = (file ?? {}) as { dtype?: unknown; shape?: unknown; data?: unknown };
  const example = 'For example { "dtype": "int8", "shape": [1, 4], "data": [-52, 67, -93, -107] }; --float for floats.';
  if (!isDType(dtype))
    throw new CliInputError(`${source} has no "dtype" (one of int8, int32, float32, int64, uint8).`, {
      details: [example],
    });
  if (!Array.isArray(shape) || shape.length === 0 || !shape.every((dim) => Number.isInteger(dim) && dim >= 1))
    throw new CliInputError(`${source} has no "shape" of positive whole numbers.`, { details: [example] });
  if (!Array.isArray(data) || !data.every((value) => typeof value === "number" && Number.isFinite(value)))
    throw new CliInputError(`${source} has no "data" array of numbers.`, { details: [example] });
  if (data.length !== elementCount(shape as number[]))
    throw new CliInputError(
      `${source} has ${data.length} values for shape [${(shape as number[]).join(", ")}] (${elementCount(shape as number[])} elements).`,
      { details: ["Flatten the tensor row-major into data."] },
    );
  return createTensor(dtype as DType, shape as number[], data as number[]);
}

function floatsOf(file: unknown, source: string, format: TensorFormat): number[] {
  const data = Array.isArray(file) ? file : (file as { data?: unknown } | null)?.data;
  const count = elementCount(format.shape);
  if (!Array.isArray(data) || data.length !== count || !data.every((x) => typeof x === "number" && Number.isFinite(x)))
    throw new CliInputError(
      `${source} needs "data": ${count} numbers (the model's input is ${formatToString(format)}).`,
      {
        details: [
          `Got ${Array.isArray(data) ? `${data.length} values` : "no data array"}; flatten the input row-major.`,
        ],
      },
    );
  return data as number[];
}
