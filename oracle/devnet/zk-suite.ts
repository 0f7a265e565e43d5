/**
 * The iris integer model (models/iris/vqm) registered in Zk mode on a local suite, with the
 * committed proving artifacts (models/iris/zk): its generated verifier and the adapter deployed,
 * the VQM ONNX stored, and the local suite's provider opted in. No trusted setup is run.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { keccak256 } from "ethers";
import { connectSuite } from "../chain/connect.ts";
import { deployZkVerifier } from "../chain/deploy-zk-verifier.ts";
import { registerModel, formatsOf } from "../chain/register-model.ts";
import { readVqm, type VqmManifest } from "../model/vqm/vqm-files.ts";
import type { VqmModel } from "../model/vqm/vqm-model.ts";
import type { LocalSuite } from "./local-suite.ts";

/** The committed iris build folder: vqm/ and zk/. */
export const irisModelDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../models/iris");

export type ZkModelOnChain = {
  modelId: bigint;
  /** The build folder (`zk.models` of the daemon config). */
  dir: string;
  model: VqmModel;
  manifest: VqmManifest;
  contentId: string;
  price: bigint;
  /** The Groth16TensorVerifier adapter registered as the model's verifier. */
  adapter: string;
  groth16: string;
};

export async function registerZkModel(
  local: LocalSuite,
  { dir = irisModelDir, price = local.iris.price, royaltyBps = 500 } = {},
): Promise<ZkModelOnChain> {
  const { model, onnx, manifest } = await readVqm(path.join(dir, "vqm"));
  const { adapter, groth16 } = await deployZkVerifier(local.actors.modelOwner, { zkDir: path.join(dir, "zk") });
  const contentId = await local.content.add(onnx);
  const modelId = await registerModel(connectSuite(local.deployment, local.actors.modelOwner).modelRegistry, {
    modelHash: keccak256(onnx),
    contentId,
    price,
    royaltyBps,
    ...formatsOf(manifest),
    verification: { mode: "zk", verifier: adapter },
  });
  await (await connectSuite(local.deployment, local.actors.provider).providerRegistry.optIn(modelId)).wait();
  return { modelId, dir, model, manifest, contentId, price, adapter, groth16 };
}
