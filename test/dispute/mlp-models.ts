import { ZeroAddress, ZeroHash, keccak256, type Signer } from "ethers";
import type { ModelRegistry } from "../../oracle/chain/connect.ts";
import { weightsRoot } from "../../oracle/model/vqm/commitments.ts";
import type { VqmModel } from "../../oracle/model/vqm/vqm-model.ts";
import { layoutRoot, type LayerSpec } from "../../oracle/dispute/layout.ts";

/**
 * Registers the game tests' two models of one int8 [1, 8] → int32 [1] MLP: model 1 Optimistic
 * (its weights and layout committed, `window` seconds to challenge), model 2 Zk with `verifier`.
 */
export async function registerMlpModels(
  models: ModelRegistry,
  owner: Signer,
  {
    model,
    specs,
    price,
    window,
    verifier,
  }: { model: VqmModel; specs: LayerSpec[]; price: bigint; window: number; verifier: string },
): Promise<void> {
  const base = {
    modelHash: keccak256("0x01"),
    contentId: "bafy-mlp",
    feeToken: ZeroAddress,
    price,
    royaltyBps: 1000,
    inputShape: [1, 8],
    outputShape: [1],
    inputDtype: 1, // int8
    outputDtype: 2, // int32: the argmax index
    verifier: ZeroAddress,
    weightsRoot: ZeroHash,
    layoutRoot: ZeroHash,
    layerCount: 0,
    challengeWindow: 0,
  };
  await models.connect(owner).register({
    ...base,
    mode: 2,
    weightsRoot: weightsRoot(model),
    layoutRoot: layoutRoot(specs),
    layerCount: specs.length,
    challengeWindow: window,
  });
  await models.connect(owner).register({ ...base, mode: 1, verifier });
}
