import { decodeIds, type DecodeIdsReturnType, type Tokenizer } from "../model/text/tokenizer.ts";
import type { Tensor } from "../model/tensor.ts";

export type DecodeTokensReturnType = DecodeIdsReturnType & {
  /** The generated ids, as the output tensor holds them. */
  ids: number[];
};

/**
 * The text a decoder generated: its output (int32 `[1, newTokens]`, or the ids themselves)
 * decoded with the model's tokenizer. `text` stops at the first boundary (the model ended its
 * sequence there; `ended` says so); `all` shows every id, boundaries included.
 */
export function decodeTokens(tokenizer: Tokenizer, output: Tensor | ArrayLike<number>): DecodeTokensReturnType {
  const ids = Array.from(("data" in output ? output.data : output) as ArrayLike<number>, Number);
  return { ...decodeIds(tokenizer, ids), ids };
}
