import { VerificationMode } from "../chain/register-model.ts";
import { encodeInlineInput } from "../model/input-envelope.ts";
import type { Tensor } from "../model/tensor.ts";
import { encodeTensor } from "../model/tensor-codec.ts";

/**
 * The `input` bytes of a request for a model in `mode`. A Zk model's proof binds the input
 * itself, so its requests carry the bare canonical tensor bytes (the verifier adapter checks
 * them); Attested and Optimistic requests carry the input envelope (inline tensor bytes here).
 */
export function encodeRequestInput(mode: number | bigint, tensor: Tensor): Uint8Array {
  return Number(mode) === VerificationMode.Zk ? encodeTensor(tensor) : encodeInlineInput(tensor);
}
