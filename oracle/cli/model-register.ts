import { readFileSync } from "node:fs";
import path from "node:path";
import { keccak256, parseEther } from "ethers";
import type { Command } from "../cli.ts";
import { deployZkVerifier } from "../chain/deploy-zk-verifier.ts";
import { registerModel } from "../chain/register-model.ts";
import { BaseError } from "../errors.ts";
import type { TensorFormat } from "../model/tensor-format.ts";
import { createSession } from "../runtime/create-session.ts";
import { readVqm } from "../model/vqm/vqm-files.ts";
import { openContentStore } from "../storage/open-content-store.ts";
import { readZkManifest } from "../zk/zk-files.ts";
import { chainContext, chainOptions } from "./chain-context.ts";
import { storeConfig, storeOptions } from "./content-commands.ts";

/** Input and output of the model to register: the shapes, and dtypes the chain will hold them to. */
type Formats = { input: TensorFormat; output: TensorFormat };

export const modelRegisterCommand: Command = {
  summary: [
    "Store a model and register it with its price and royalty.",
    "",
    "Attested (default): MODEL.onnx with --manifest giving its input and output shapes (and dtypes, which must",
    "match the ONNX file's; without them the ONNX file's are taken, e.g. float32).",
    "Zk (--mode zk): DIR, a built model folder with vqm/ and zk/ (verity zk build). Deploys the",
    "generated verifier DIR/zk/Verifier.sol (compiled with the npm solc) and the Groth16TensorVerifier",
    "adapter, stores DIR/vqm/model.onnx and registers the model with the adapter as its verifier.",
  ].join("\n"),
  usage:
    "(MODEL.onnx --manifest MODEL.json | DIR --mode zk) --price ETH [--royalty-bps 500] [--dir DIR | --kubo URL] [--rpc URL] [--deployment FILE]",
  options: {
    ...chainOptions,
    ...storeOptions,
    manifest: { type: "string" },
    mode: { type: "string", default: "attested" },
    price: { type: "string" },
    "royalty-bps": { type: "string", default: "500" },
  },
  async run(values, [file]) {
    const mode = values.mode as string;
    if (mode !== "attested" && mode !== "zk")
      throw new BaseError(`Unknown mode ${JSON.stringify(mode)}.`, {
        details: ["Use --mode attested (the default) or --mode zk. Optimistic models: see docs/operator-guide.md."],
      });
    if (!file || !values.price || (mode === "attested" && !values.manifest))
      throw new BaseError(
        mode === "zk"
          ? "model register --mode zk needs DIR and --price."
          : "model register needs MODEL.onnx, --manifest and --price.",
        {
          details: [
            mode === "zk"
              ? "DIR is a built model folder: DIR/vqm (manifest.json, model.onnx) and DIR/zk (verity zk build)."
              : 'The manifest gives the input and output shapes ({ "input": { "shape": [1, 4] }, "output": { "shape": [1, 3] } }).',
          ],
        },
      );
    const price = parseEther(values.price as string);
    const royaltyBps = Number(values["royalty-bps"]);
    let bytes: Uint8Array;
    let formats: Formats;
    if (mode === "zk") {
      const { onnx, manifest } = await readVqm(path.join(file, "vqm"));
      const zk = await readZkManifest(path.join(file, "zk"));
      if (zk.modelHash !== manifest.modelHash)
        throw new BaseError(`${path.join(file, "zk")} was built from another model than ${path.join(file, "vqm")}.`, {
          details: [`vqm ${manifest.modelHash}`, `zk  ${zk.modelHash}`, `Run verity zk build ${file} again.`],
        });
      bytes = onnx;
      formats = manifest;
    } else {
      bytes = new Uint8Array(readFileSync(file));
      formats = await attestedFormats(file, bytes, values.manifest as string);
    }
    const store = await openContentStore(storeConfig(values));
    const { suite, provider, wallet } = chainContext(values);
    try {
      const contentId = await store.add(bytes);
      let verifier: string | undefined;
      if (mode === "zk") {
        const deployed = await deployZkVerifier(wallet, { zkDir: path.join(file, "zk") });
        verifier = deployed.adapter;
        console.log(
          `deployed ${deployed.manifest.contractName} ${deployed.groth16} and Groth16TensorVerifier ${deployed.adapter}`,
        );
      }
      const modelId = await registerModel(suite.modelRegistry, {
        modelHash: keccak256(bytes),
        contentId,
        price,
        royaltyBps,
        inputShape: formats.input.shape,
        outputShape: formats.output.shape,
        inputDtype: formats.input.dtype,
        outputDtype: formats.output.dtype,
        verification: verifier === undefined ? undefined : { mode: "zk", verifier },
      });
      console.log(
        `model ${modelId} registered${verifier === undefined ? "" : ` (Zk, verifier ${verifier})`}: content ${contentId}, modelHash ${keccak256(bytes)}`,
      );
      if (verifier !== undefined)
        console.log(`serve it with zk.models: { "${modelId}": "${path.resolve(file)}" } in the provider config`);
    } finally {
      await store.close();
      provider.destroy();
    }
  },
};

/**
 * The formats of an Attested model: shapes from the manifest (the ONNX file may leave dims
 * symbolic), dtypes from the ONNX file's one input and one output, which a dtype the manifest
 * gives must equal. The chain holds every output to these, so a mismatch fails here.
 */
async function attestedFormats(file: string, bytes: Uint8Array, manifestFile: string): Promise<Formats> {
  let manifest: { input?: { shape?: unknown; dtype?: unknown }; output?: { shape?: unknown; dtype?: unknown } };
  try {
    manifest = JSON.parse(readFileSync(manifestFile, "utf8")) as typeof manifest;
  } catch (error) {
    throw new BaseError(`Cannot read the manifest ${manifestFile}.`, {
      details: [(error as Error).message],
      cause: error,
    });
  }
  const session = await createSession({ model: bytes });
  try {
    const declared = { input: session.inputs, output: session.outputs };
    const formats = {} as Formats;
    for (const side of ["input", "output"] as const) {
      const io = declared[side];
      if (io.length !== 1)
        throw new BaseError(`${file} has ${io.length} ${side}s; a model takes one input and gives one output.`);
      const onnx = io[0]!;
      const given = manifest?.[side];
      const shape = given?.shape;
      if (!Array.isArray(shape) || !shape.every((dim) => Number.isInteger(dim) && dim >= 1))
        throw new BaseError(`The manifest ${manifestFile} has no ${side}.shape of positive integers.`);
      if (
        shape.length !== onnx.shape.length ||
        onnx.shape.some((dim, i) => typeof dim === "number" && dim !== shape[i])
      )
        throw new BaseError(`The manifest's ${side} shape [${shape.join(", ")}] is not the ONNX file's.`, {
          details: [`${file} declares ${onnx.name} as ${onnx.dtype} [${onnx.shape.join(", ")}].`],
        });
      if (given?.dtype !== undefined && given.dtype !== onnx.dtype)
        throw new BaseError(
          `The manifest's ${side} dtype ${JSON.stringify(given.dtype)} is not the ONNX file's ${onnx.dtype}.`,
        );
      formats[side] = { dtype: onnx.dtype, shape: shape as number[] };
    }
    return formats;
  } finally {
    await session.release();
  }
}
