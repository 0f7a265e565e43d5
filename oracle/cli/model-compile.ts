import type { Command } from "../cli.ts";
import { BaseError } from "../errors.ts";

export const modelCompileCommand: Command = {
  summary: "Quantise a float ONNX model into a verifiable integer model (VQM).",
  usage: "MODEL.onnx --calibration INPUTS.json --out DIR",
  options: { calibration: { type: "string" }, out: { type: "string" } },
  async run() {
    throw new BaseError("model compile is not implemented yet.");
  },
};
