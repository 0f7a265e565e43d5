import { readFileSync } from "node:fs";
import { keccak256, parseEther } from "ethers";
import type { Command } from "../cli.ts";
import { registerModel } from "../chain/register-model.ts";
import { BaseError } from "../errors.ts";
import { openContentStore } from "../storage/open-content-store.ts";
import { chainContext, chainOptions } from "./chain-context.ts";
import { storeConfig, storeOptions } from "./content-commands.ts";

type Shapes = { input: { shape: number[] }; output: { shape: number[] } };

export const modelRegisterCommand: Command = {
  summary: "Store an ONNX model and register it (Attested mode) with its price and royalty.",
  usage:
    "MODEL.onnx --manifest MODEL.json --price ETH [--royalty-bps 500] [--dir DIR | --kubo URL] [--rpc URL] [--deployment FILE]",
  options: {
    ...chainOptions,
    ...storeOptions,
    manifest: { type: "string" },
    price: { type: "string" },
    "royalty-bps": { type: "string", default: "500" },
  },
  async run(values, [file]) {
    if (!file || !values.manifest || !values.price)
      throw new BaseError("model register needs MODEL.onnx, --manifest and --price.", {
        details: ["The manifest gives the input and output shapes ({ input: { shape }, output: { shape } })."],
      });
    const bytes = new Uint8Array(readFileSync(file));
    const manifest = JSON.parse(readFileSync(values.manifest as string, "utf8")) as Shapes;
    const store = await openContentStore(storeConfig(values));
    const { suite, provider } = chainContext(values);
    try {
      const contentId = await store.add(bytes);
      const modelId = await registerModel(suite.modelRegistry, {
        modelHash: keccak256(bytes),
        contentId,
        price: parseEther(values.price as string),
        royaltyBps: Number(values["royalty-bps"]),
        inputShape: manifest.input.shape,
        outputShape: manifest.output.shape,
      });
      console.log(`model ${modelId} registered: content ${contentId}, modelHash ${keccak256(bytes)}`);
    } finally {
      await store.close();
      provider.destroy();
    }
  },
};
