import { readFileSync } from "node:fs";
import path from "node:path";
import { keccak256, parseEther } from "ethers";
import type { Command } from "../cli.ts";
import { deployZkVerifier } from "../chain/deploy-zk-verifier.ts";
import { registerModel } from "../chain/register-model.ts";
import { BaseError } from "../errors.ts";
import { readVqm } from "../model/vqm/vqm-files.ts";
import { openContentStore } from "../storage/open-content-store.ts";
import { readZkManifest } from "../zk/zk-files.ts";
import { chainContext, chainOptions } from "./chain-context.ts";
import { storeConfig, storeOptions } from "./content-commands.ts";

type Shapes = { input: { shape: number[] }; output: { shape: number[] } };

export const modelRegisterCommand: Command = {
  summary: [
    "Store a model and register it with its price and royalty.",
    "",
    "Attested (default): MODEL.onnx with --manifest giving its input and output shapes.",
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
              : "The manifest gives the input and output shapes ({ input: { shape }, output: { shape } }).",
          ],
        },
      );
    const price = parseEther(values.price as string);
    const royaltyBps = Number(values["royalty-bps"]);
    let bytes: Uint8Array;
    let shapes: Shapes;
    if (mode === "zk") {
      const { onnx, manifest } = await readVqm(path.join(file, "vqm"));
      const zk = await readZkManifest(path.join(file, "zk"));
      if (zk.modelHash !== manifest.modelHash)
        throw new BaseError(`${path.join(file, "zk")} was built from another model than ${path.join(file, "vqm")}.`, {
          details: [`vqm ${manifest.modelHash}`, `zk  ${zk.modelHash}`, `Run verity zk build ${file} again.`],
        });
      bytes = onnx;
      shapes = manifest;
    } else {
      bytes = new Uint8Array(readFileSync(file));
      shapes = JSON.parse(readFileSync(values.manifest as string, "utf8")) as Shapes;
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
        inputShape: shapes.input.shape,
        outputShape: shapes.output.shape,
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
