/**
 * Where an element of a layer reads its inputs and weights, as LayerStepProver and
 * OneStepExecutor locate them: conv2d receptive fields, maxpool2d windows and argmax rows in
 * the input's element bytes, and dense/conv2d weight rows and channel parameters in the
 * weights blob (oracle/model/vqm/commitments.ts, `weightsLayout`).
 */
import type { LayerSpec } from "./layout.ts";
import { LayerKind } from "./layout.ts";

/** Conv2d params as named numbers (LayerSpec.sol's order). */
export function convParams(spec: LayerSpec) {
  const [ic, h, w, oc, oh, ow, kh, kw, sh, sw, top, left] = spec.params as number[];
  return {
    ic: ic!,
    h: h!,
    w: w!,
    oc: oc!,
    oh: oh!,
    ow: ow!,
    kh: kh!,
    kw: kw!,
    sh: sh!,
    sw: sw!,
    top: top!,
    left: left!,
  };
}

/** Maxpool2d params as named numbers (LayerSpec.sol's order). */
export function poolParams(spec: LayerSpec) {
  const [c, h, w, oh, ow, kh, kw, sh, sw] = spec.params as number[];
  return { c: c!, h: h!, w: w!, oh: oh!, ow: ow!, kh: kh!, kw: kw!, sh: sh!, sw: sw! };
}

/** Where fan-in element `f` of conv2d output element `element` reads the input, or undefined in the padding. */
export function convInputIndex(spec: LayerSpec, element: number, f: number): number | undefined {
  const { h, w, oh, ow, kh, kw, sh, sw, top, left } = convParams(spec);
  const [r, c] = [Math.floor(element / ow) % oh, element % ow];
  const i = Math.floor(f / (kh * kw));
  const u = Math.floor((f % (kh * kw)) / kw);
  const v = f % kw;
  const row = r * sh + u - top;
  const col = c * sw + v - left;
  if (row < 0 || col < 0 || row >= h || col >= w) return undefined;
  return (i * h + row) * w + col;
}

/**
 * The window of maxpool2d element `element`: window element `(u, v)` (`f = u · kw + v`) is
 * input index `first + u · width + v` (OneStepExecutor.maxpool2dInputIndex).
 */
export function poolWindow(spec: LayerSpec, element: number): { first: number; width: number; kh: number; kw: number } {
  const { h, w, oh, ow, kh, kw, sh, sw } = poolParams(spec);
  const ch = Math.floor(element / (oh * ow));
  const [r, c] = [Math.floor(element / ow) % oh, element % ow];
  return { first: (ch * h + r * sh) * w + c * sw, width: w, kh, kw };
}

/**
 * The pieces of window rows that window positions `[lo, hi)` of a maxpool2d element cover: each
 * `length` contiguous input bytes from `offset`, never the bytes between two window rows.
 */
export function poolPieces(
  spec: LayerSpec,
  element: number,
  lo: number,
  hi: number,
): { offset: number; length: number }[] {
  const { first, width, kw } = poolWindow(spec, element);
  const pieces: { offset: number; length: number }[] = [];
  for (let f = lo; f < hi;) {
    const u = Math.floor(f / kw);
    const end = Math.min((u + 1) * kw, hi);
    pieces.push({ offset: first + u * width + (f % kw), length: end - f });
    f = end;
  }
  return pieces;
}

/** Dense or conv2d element `element`'s weights row in the blob, its output channel and the channel count. */
export function weightsRow(
  spec: LayerSpec,
  element: number,
): { row: number; channel: number; rows: number; fanIn: number } {
  if (spec.kind === LayerKind.dense) {
    const fanIn = spec.params[0]!;
    return { row: spec.weightsOffset + element * fanIn, channel: element, rows: spec.params[1]!, fanIn };
  }
  const { ic, oc, oh, ow, kh, kw } = convParams(spec);
  const fanIn = ic * kh * kw;
  const channel = Math.floor(element / (oh * ow));
  return { row: spec.weightsOffset + channel * fanIn, channel, rows: oc, fanIn };
}

/**
 * Blob offsets of the bias (int32 LE), multiplier (int32 LE) and shift (uint8) of dense or
 * conv2d element `element`'s channel (OneStepExecutor.channelOffsets): after the weights, all
 * biases, then all multipliers, then all shifts.
 */
export function channelParamOffsets(
  spec: LayerSpec,
  element: number,
): { bias: number; multiplier: number; shift: number } {
  const { channel, rows, fanIn } = weightsRow(spec, element);
  const params = spec.weightsOffset + rows * fanIn;
  return {
    bias: params + 4 * channel,
    multiplier: params + 4 * rows + 4 * channel,
    shift: params + 8 * rows + channel,
  };
}
