/**
 * `verity model register`: stores a model and registers it, Attested from an ONNX file, or from
 * a model folder DIR (model-folder.ts) as Attested, Zk or Optimistic, then prints the provider
 * and watchtower config lines that serve it. Everything that can be checked without the chain
 * is checked first (model-register-plan.ts); an Optimistic window outside the deployment's
 * `challengeWindowBounds()` is refused before anything is sent.
 */
import type { Command } from "./command.ts";
import { deployZkVerifier } from "../chain/deploy-zk-verifier.ts";
import { registerModel, type ModelVerification } from "../chain/register-model.ts";
import { BaseError } from "../errors.ts";
import { parseDimFlags } from "../model/registered-formats.ts";
import { formatToString } from "../model/tensor-format.ts";
import type { ContentStore } from "../storage/content-store.ts";
import { openContentStore } from "../storage/open-content-store.ts";
import { chainContext, chainOptions, chainUsage } from "./chain-context.ts";
import { storeConfig, storeOptions } from "./content-commands.ts";
import { CliInputError, parseCount, parseDuration, parseEth } from "./parse-options.ts";
import { planRegistration, registerModes, type RegisterMode, type RegistrationPlan } from "./model-register-plan.ts";

/** Default challenge window of an Optimistic model, kept within the deployment's bounds. */
export const defaultChallengeWindowSec = 600;

export const modelRegisterCommand: Command = {
  summary: [
    "Store a model and register it with its price and royalty.",
    "",
    "MODEL.onnx (Attested): the input and output dtypes and shapes are read from the file. A dynamic dim",
    '("N", "batch_size") needs a size: --dim N=1 (repeatable; input:AXIS=SIZE for an unnamed one). --manifest',
    "FILE is optional (names, dtypes, shapes, labels, modelHash); what it gives must agree with the file.",
    "DIR, a model folder (verity model compile --out DIR), registers DIR/vqm/model.onnx with the integer",
    "formats of DIR/vqm/manifest.json:",
    "  --mode attested (default)  run by providers with onnxruntime;",
    "  --mode zk                  deploys DIR/zk/Verifier.sol (verity zk build DIR) and the Groth16TensorVerifier",
    "                             adapter, and registers the adapter as the verifier;",
    "  --mode optimistic          registers the weights root, layout root and layer count the dispute game",
    `                             checks, with --window SECONDS (or 10m, 1d) to challenge (default ${defaultChallengeWindowSec}, kept within the`,
    "                             deployment's challengeWindowBounds()); stores DIR/vqm/manifest.json too.",
    "Prints the provider and watchtower config lines that serve the model.",
  ].join("\n"),
  usage: `(MODEL.onnx [--dim NAME=SIZE]... [--manifest FILE] | DIR [--mode attested|zk|optimistic] [--window SECONDS]) --price ETH [--royalty-bps 500] [--dir DIR | --kubo URL] ${chainUsage}`,
  maxPositionals: 1,
  options: {
    ...chainOptions,
    ...storeOptions,
    manifest: { type: "string" },
    dim: { type: "string", multiple: true },
    mode: { type: "string", default: "attested" },
    window: { type: "string" },
    price: { type: "string" },
    "royalty-bps": { type: "string", default: "500" },
  },
  async run(values, [target]) {
    const mode = values.mode as RegisterMode;
    if (!registerModes.includes(mode))
      throw new BaseError(`Unknown mode ${JSON.stringify(mode)}.`, {
        details: ["Use --mode attested (the default), --mode zk or --mode optimistic."],
      });
    if (!target || !values.price)
      throw new BaseError("model register needs MODEL.onnx or a model folder DIR, and --price.", {
        details: [`Usage: verity model register ${this.usage}`],
      });
    if (values.window !== undefined && mode !== "optimistic")
      throw new BaseError("--window is the challenge window of an Optimistic model: add --mode optimistic.");
    const window = values.window === undefined ? undefined : parseWindow(values.window as string);
    const price = parseEth("--price", values.price as string);
    const royaltyBps = parseCount("--royalty-bps", values["royalty-bps"] as string, { max: 10_000 });
    const plan = await planRegistration({
      target,
      mode,
      manifest: values.manifest as string | undefined,
      dims: parseDimFlags((values.dim as unknown as string[] | undefined) ?? []),
    });

    const { suite, provider, wallet } = await chainContext(values);
    let store: ContentStore | undefined;
    try {
      store = await openContentStore(storeConfig(values));
      let verification: ModelVerification | undefined;
      let manifestId: string | undefined;
      if (plan.mode === "optimistic") {
        const [min, max] = (await suite.modelRegistry.challengeWindowBounds()).map(Number) as [number, number];
        const challengeWindow = window ?? Math.max(min, Math.min(defaultChallengeWindowSec, max));
        if (challengeWindow < min || challengeWindow > max)
          throw new BaseError(
            `--window ${challengeWindow} is outside this deployment's challenge window bounds, ${min} to ${max} s.`,
            { details: [`Pick a window from ${min} to ${max} seconds (ModelRegistry.challengeWindowBounds()).`] },
          );
        manifestId = await store.add(plan.manifestBytes);
        verification = {
          mode: "optimistic",
          weightsRoot: plan.weightsRoot,
          layoutRoot: plan.layoutRoot,
          layerCount: plan.layerCount,
          challengeWindow,
        };
      }
      const contentId = await store.add(plan.onnx);
      if (plan.mode === "zk") {
        const deployed = await deployZkVerifier(wallet, { zkDir: plan.folder.zk });
        verification = { mode: "zk", verifier: deployed.adapter };
        console.log(
          `deployed ${deployed.manifest.contractName} ${deployed.groth16} and Groth16TensorVerifier ${deployed.adapter}`,
        );
      }
      const modelId = await registerModel(suite.modelRegistry, {
        modelHash: plan.modelHash,
        contentId,
        price,
        royaltyBps,
        inputShape: plan.formats.input.shape,
        outputShape: plan.formats.output.shape,
        inputDtype: plan.formats.input.dtype,
        outputDtype: plan.formats.output.dtype,
        verification,
      });
      for (const line of registeredLines(modelId, plan, contentId, verification, manifestId)) console.log(line);
    } finally {
      await store?.close();
      provider.destroy();
    }
  },
};

/** What was registered, and the config lines that serve (and, Optimistic, watch) it. */
export function registeredLines(
  modelId: bigint,
  plan: RegistrationPlan,
  contentId: string,
  verification: ModelVerification | undefined,
  manifestId: string | undefined,
): string[] {
  const id = modelId.toString();
  const how =
    verification?.mode === "zk"
      ? ` (Zk, verifier ${verification.verifier})`
      : verification?.mode === "optimistic"
        ? ` (Optimistic, window ${verification.challengeWindow} s, ${verification.layerCount} layers)`
        : "";
  const lines = [
    `model ${id} registered${how}: content ${contentId}, modelHash ${plan.modelHash}`,
    `  input ${formatToString(plan.formats.input)}, output ${formatToString(plan.formats.output)}${plan.formats.labels ? `, labels ${plan.formats.labels.join(", ")}` : ""}`,
  ];
  if (verification?.mode === "optimistic")
    lines.push(
      `  weightsRoot ${verification.weightsRoot}, layoutRoot ${verification.layoutRoot}, manifest ${manifestId!}`,
    );
  const decoder = plan.mode === "zk" ? undefined : plan.decoder;
  if (decoder) {
    const { promptLength, newTokens, contextLength, vocabSize } = decoder.sequence;
    const tokenizer = decoder.tokenizer
      ? `tokenizer "${decoder.tokenizer.kind}", vqm/tokenizer.json`
      : "no tokenizer: requests give token ids";
    lines.push(
      `  decoder: a prompt of up to ${promptLength} tokens, ${newTokens} generated; context ${contextLength}, vocabulary ${vocabSize} (${tokenizer})`,
    );
  }
  const folderEntry =
    plan.mode === "attested" && !decoder
      ? undefined
      : `{ "id": "${id}", "folder": ${JSON.stringify(plan.folder!.root)} }`;
  const requestText = decoder?.tokenizer
    ? [`request text with: verity request --model ${id} --text "..." --model-dir ${JSON.stringify(plan.folder!.root)}`]
    : [];
  if (decoder && plan.mode === "attested")
    lines.push(
      "serve it with, in the provider config (a decoder is served from its model folder):",
      `  "models": [${folderEntry!}]`,
      ...requestText,
    );
  else if (decoder)
    lines.push(
      "serve it (provider config) and watch it (watchtower config) from its model folder with:",
      `  "models": [${folderEntry!}]`,
      ...requestText,
    );
  else if (plan.mode === "zk") lines.push("serve it with, in the provider config:", `  "models": [${folderEntry!}]`);
  else if (plan.mode === "optimistic")
    lines.push(
      "serve it (provider config) and watch it (watchtower config) with:",
      `  "models": [${folderEntry!}]`,
      "or, from the content store alone:",
      `  "models": ["${id}"], "dispute": { "manifests": { "${id}": "${manifestId!}" } }`,
    );
  else
    lines.push(
      "serve it with, in the provider config:",
      `  "models": ["${id}"]   (or [] for every model you opted in to)`,
    );
  lines.push(`providers opt in with: verity provider stake --model ${id}`);
  return lines;
}

/** `--window`: seconds, or a duration with a unit (`600`, `10m`, `1d`), a whole number of seconds. */
function parseWindow(text: string): number {
  const seconds = parseDuration("--window", text, { max: 2 ** 32 - 1 });
  if (!Number.isInteger(seconds))
    throw new CliInputError(`--window ${text.trim()} is not a whole number of seconds.`, {
      details: ["The challenge window is how long a result stays open to challenge, e.g. --window 1d."],
    });
  return seconds;
}
