/**
 * The one layout of a model folder, from compilation to serving:
 *
 *   DIR/vqm/model.onnx, DIR/vqm/manifest.json   `verity model compile MODEL.onnx --out DIR`
 *   DIR/zk/ (circuit, zkey, vkey, Verifier.sol, zk.json)   `verity zk build DIR` (Zk models)
 *
 * `verity model register DIR [--mode zk|optimistic]` registers it, and the daemon serves it
 * from a `models` entry `{ "id": ..., "folder": "DIR" }` (Zk and Optimistic alike). Commands
 * given the VQM folder itself (DIR/vqm) take its parent; a folder that holds the VQM files at its
 * top is named with the fix.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { BaseError } from "../errors.ts";
import { readZkManifest, type ZkManifest } from "../zk/zk-files.ts";
import { manifestFile, readVqm, type ReadVqmReturnType } from "./vqm/vqm-files.ts";

export const modelFolderParts = { vqm: "vqm", zk: "zk" } as const;

export type ModelFolder = {
  /** The folder as given, resolved to an absolute path (the folder holding vqm/ and zk/). */
  root: string;
  vqm: string;
  zk: string;
};

export class ModelFolderError extends BaseError {
  override name = "ModelFolderError";
}

/** The paths of the model folder `dir` (no check; see `resolveModelFolder`). */
export function modelFolder(dir: string): ModelFolder {
  const root = path.resolve(dir);
  return { root, vqm: path.join(root, modelFolderParts.vqm), zk: path.join(root, modelFolderParts.zk) };
}

/**
 * The model folder named by `dir`: DIR itself when DIR/vqm/manifest.json exists, its parent when
 * DIR is the VQM folder (`.../vqm`). Throws ModelFolderError naming what to do otherwise.
 */
export function resolveModelFolder(dir: string): ModelFolder {
  const folder = modelFolder(dir);
  if (existsSync(path.join(folder.vqm, manifestFile))) return folder;
  if (existsSync(path.join(folder.root, manifestFile))) {
    if (path.basename(folder.root) === modelFolderParts.vqm) return modelFolder(path.dirname(folder.root));
    throw new ModelFolderError(`${dir} holds the VQM files at its top, not in ${path.join(dir, "vqm")}/.`, {
      details: [
        `A model folder keeps them in DIR/vqm/ (verity model compile --out DIR): move manifest.json and model.onnx into ${path.join(dir, "vqm")}/.`,
      ],
    });
  }
  throw new ModelFolderError(`${dir} is not a model folder: it has no vqm/${manifestFile}.`, {
    details: ["Make one with verity model compile MODEL.onnx --calibration INPUTS.json --out DIR."],
  });
}

export type ReadModelFolderReturnType = ReadVqmReturnType & { folder: ModelFolder };

/** Reads and checks DIR/vqm (readVqm: the manifest, the ONNX and their hashes agree). */
export async function readModelFolder(dir: string): Promise<ReadModelFolderReturnType> {
  const folder = resolveModelFolder(dir);
  return { ...(await readVqm(folder.vqm)), folder };
}

/**
 * Reads DIR/vqm and DIR/zk and checks that the ZK artifacts were built from this VQM model
 * (the same modelHash); throws ModelFolderError naming the command that rebuilds them.
 */
export async function readZkModelFolder(dir: string): Promise<ReadModelFolderReturnType & { zk: ZkManifest }> {
  const read = await readModelFolder(dir);
  const zk = await readZkManifest(read.folder.zk);
  if (zk.modelHash !== read.manifest.modelHash)
    throw new ModelFolderError(`${read.folder.zk} was built from another model than ${read.folder.vqm}.`, {
      details: [`vqm ${read.manifest.modelHash}`, `zk  ${zk.modelHash}`, `Run verity zk build ${dir} again.`],
    });
  return { ...read, zk };
}
