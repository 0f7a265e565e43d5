import type { Tensor } from "./tensor.ts";

/**
 * Index of the largest element of the flattened tensor (the class of a [1, classes] logits
 * tensor). Ties go to the lowest index, so every engine picks the same class.
 */
export function argmax(tensor: Tensor): number {
  const { data } = tensor;
  let best = 0;
  for (let i = 1; i < data.length; i++) if (data[i]! > data[best]!) best = i;
  return best;
}

/** Per-row argmax over the last axis: one class per sample of a [batch, classes] tensor. */
export function argmaxRows(tensor: Tensor): number[] {
  const classes = tensor.shape[tensor.shape.length - 1]!;
  const rows = tensor.data.length / classes;
  return Array.from({ length: rows }, (_, row) => {
    let best = 0;
    for (let i = 1; i < classes; i++)
      if (tensor.data[row * classes + i]! > tensor.data[row * classes + best]!) best = i;
    return best;
  });
}
