import { encodeInlineInput } from "../model/input-envelope.ts";
import type { Tensor } from "../model/tensor.ts";

/**
 * The `input` bytes of a request carrying `tensor` in calldata: the inline envelope
 * `0x00 ‖ canonical tensor bytes`, the one format every mode accepts (a Zk proof and an
 * Optimistic game read the tensor after the kind byte). Attested models also take a content id
 * (`encodeContentInput`); check the bytes against the model with `checkRequestInput`.
 */
export function encodeRequestInput(tensor: Tensor): Uint8Array {
  return encodeInlineInput(tensor);
}
