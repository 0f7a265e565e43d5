/**
 * What `verity model register` will send, worked out from the files alone before any chain or
 * store is touched, so that a model that could never be served is refused with nothing spent:
 *
 * - an ONNX file (Attested): its one input and output read from the protobuf, dynamic dims fixed
 *   by `--dim` or the optional manifest, the manifest checked against the file, the file loaded
 *   by onnxruntime (what an Attested provider runs);
 * - a model folder (model-folder.ts): DIR/vqm checked (hashes, weights root), its integer
 *   formats, and per mode the ZK artifacts built from it (Zk) or the weights root, layout root and
 *   layer count the dispute game commits to (Optimistic; a decoder's are those of one forward
 *   pass), within the registry's limits.
 */
import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { keccak256 } from "ethers";
import { layerSpecs, layoutRoot } from "../dispute/layout.ts";
import { BaseError, errorMessage, rootCause } from "../errors.ts";
import { verifiedModelLimitViolation } from "../model/chain-limit-violation.ts";
import { readModelFolder, readZkModelFolder, resolveModelFolder, type ModelFolder } from "../model/model-folder.ts";
import { readOnnxSignature } from "../model/onnx/onnx-signature.ts";
import {
  resolveRegisteredFormats,
  type DimSizes,
  type OnnxModelManifest,
  type RegisteredFormats,
} from "../model/registered-formats.ts";
import { weightsBlob, weightsRoot } from "../model/vqm/commitments.ts";
import { manifestFile as vqmManifestFile } from "../model/vqm/vqm-files.ts";
import type { Tokenizer } from "../model/text/tokenizer.ts";
import type { SequenceSpec } from "../model/vqm/vqm-model.ts";
import { createSession } from "../runtime/create-session.ts";
import type { ZkManifest } from "../zk/zk-files.ts";
import { readBinaryFile, readJsonFile } from "./parse-options.ts";

export type RegisterMode = "attested" | "zk" | "optimistic";

export const registerModes: readonly RegisterMode[] = ["attested", "zk", "optimistic"];

type PlanBase = { onnx: Uint8Array; modelHash: string; formats: RegisteredFormats };

export type RegistrationPlan =
  | (PlanBase & {
      mode: "attested";
      folder?: ModelFolder | undefined;
      /** A decoder (text generation): served from its folder, with its tokenizer when it has one. */
      decoder?: { sequence: SequenceSpec; tokenizer?: Tokenizer | undefined } | undefined;
    })
  | (PlanBase & { mode: "zk"; folder: ModelFolder; zk: ZkManifest })
  | (PlanBase & {
      mode: "optimistic";
      folder: ModelFolder;
      /** A decoder: disputed pass by pass, served from its folder. */
      decoder?: { sequence: SequenceSpec; tokenizer?: Tokenizer | undefined } | undefined;
      /** DIR/vqm/manifest.json, stored so `dispute.manifests` can name it by content id. */
      manifestBytes: Uint8Array;
      weightsRoot: string;
      layoutRoot: string;
      layerCount: number;
    });

export type PlanRegistrationParameters = {
  /** MODEL.onnx, or a model folder DIR. */
  target: string;
  mode: RegisterMode;
  /** A JSON manifest of an ONNX file (shapes, dtypes, names, labels, modelHash: each optional). */
  manifest?: string | undefined;
  dims?: DimSizes | undefined;
};

export class RegistrationError extends BaseError {
  override name = "RegistrationError";
}

export async function planRegistration({
  target,
  mode,
  manifest,
  dims,
}: PlanRegistrationParameters): Promise<RegistrationPlan> {
  let isFolder: boolean;
  try {
    isFolder = statSync(target).isDirectory();
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
    throw new RegistrationError(missing ? `${target} does not exist.` : `Cannot read ${target}.`, {
      details: ["Pass MODEL.onnx (Attested) or a model folder DIR (verity model compile --out DIR)."],
      cause: error,
    });
  }
  if (!isFolder) {
    if (mode !== "attested")
      throw new RegistrationError(`--mode ${mode} registers a model folder, not the file ${target}.`, {
        details: [
          "Compile the model into one first: verity model compile MODEL.onnx --calibration INPUTS.json --out DIR,",
          `then verity model register DIR --mode ${mode}${mode === "zk" ? " (after verity zk build DIR)" : ""}.`,
        ],
      });
    return planOnnxFile(target, manifest, dims);
  }
  if (manifest !== undefined || (dims !== undefined && Object.keys(dims).length > 0))
    throw new RegistrationError("--manifest and --dim are for an ONNX file; a model folder has its own manifest.", {
      details: [`${target}/vqm/manifest.json gives the shapes, dtypes and labels.`],
    });

  if (mode === "zk") {
    refuseDecoderFolder(target);
    const { onnx, manifest: vqm, folder, zk } = await readZkModelFolder(target);
    const formats = folderFormats(vqm);
    assertWithinLimits(target, mode, formats);
    return { mode, onnx, modelHash: vqm.modelHash, formats, folder, zk };
  }
  const { model, onnx, manifest: vqm, folder, tokenizer } = await readModelFolder(target);
  const formats = folderFormats(vqm);
  const decoder = model.sequence ? { decoder: { sequence: model.sequence, tokenizer } } : {};
  if (mode === "attested") return { mode, onnx, modelHash: vqm.modelHash, formats, folder, ...decoder };

  const specs = layerSpecs(model);
  assertWithinLimits(target, mode, formats, specs.length);
  if (weightsBlob(model).length === 0)
    throw new RegistrationError(`${target} has no weights: an Optimistic model commits to a non-empty weights blob.`, {
      details: ["Register it as Attested (no --mode), or give it at least one dense or conv2d layer."],
    });
  return {
    mode,
    onnx,
    modelHash: vqm.modelHash,
    formats,
    folder,
    manifestBytes: new Uint8Array(readFileSync(path.join(folder.vqm, vqmManifestFile))),
    weightsRoot: weightsRoot(model),
    layoutRoot: layoutRoot(specs),
    layerCount: specs.length,
    ...decoder,
  };
}

async function planOnnxFile(
  file: string,
  manifestFile: string | undefined,
  dims: DimSizes | undefined,
): Promise<RegistrationPlan> {
  const onnx = readBinaryFile(file, "the model file");
  const signature = readOnnxSignature(onnx, file);
  const manifest = manifestFile === undefined ? undefined : { file: manifestFile, content: readManifest(manifestFile) };
  const formats = resolveRegisteredFormats({ file, bytes: onnx, signature, manifest, dims });
  // The Attested provider runs the file with onnxruntime: a file it cannot load is never served.
  let session;
  try {
    session = await createSession({ model: onnx });
  } catch (error) {
    throw new RegistrationError(`onnxruntime cannot load ${file}.`, {
      details: [
        errorMessage(rootCause(error)).split("\n")[0]!,
        "Providers run Attested models with onnxruntime: export with an opset and operators it supports.",
      ],
      cause: error,
    });
  }
  await session.release();
  return { mode: "attested", onnx, modelHash: keccak256(onnx), formats };
}

/**
 * A decoder is served Attested or Optimistic: no circuit proves a generation. Read from the
 * manifest alone, before the Zk artifacts are looked for.
 */
function refuseDecoderFolder(target: string): void {
  const manifest = readJsonFile(path.join(resolveModelFolder(target).vqm, vqmManifestFile), "the VQM manifest");
  if ((manifest as { sequence?: unknown } | null)?.sequence === undefined) return;
  throw new RegistrationError(`${target} holds a decoder, which cannot be registered as Zk yet.`, {
    details: ["No circuit proves a generation yet: register it as Attested (drop --mode) or --mode optimistic."],
  });
}

function readManifest(file: string): OnnxModelManifest {
  const value = readJsonFile(file, "the manifest");
  if (value === null || typeof value !== "object" || Array.isArray(value))
    throw new RegistrationError(`The manifest ${file} must hold a JSON object.`);
  return value as OnnxModelManifest;
}

function folderFormats(vqm: {
  input: RegisteredFormats["input"];
  output: RegisteredFormats["output"];
  labels?: string[] | undefined;
}): RegisteredFormats {
  return {
    input: { dtype: vqm.input.dtype, shape: [...vqm.input.shape] },
    output: { dtype: vqm.output.dtype, shape: [...vqm.output.shape] },
    labels: vqm.labels,
  };
}

function assertWithinLimits(target: string, mode: RegisterMode, formats: RegisteredFormats, layerCount?: number) {
  const violation = verifiedModelLimitViolation({ input: formats.input, output: formats.output, layerCount });
  if (violation !== undefined)
    throw new RegistrationError(
      `${target} cannot be registered as ${mode === "zk" ? "Zk" : "Optimistic"}: ${violation}.`,
      {
        details: ["Register it as Attested (no --mode), or make the model smaller."],
      },
    );
}
