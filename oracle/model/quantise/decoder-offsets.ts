/**
 * Offsets that centre a decoder's lopsided activations before they are quantised
 * (docs/numeric-semantics.md, "Decoders", offsets). Activations are int8 at a symmetric scale, so
 * a tensor in [−0.17, 3.95] (a GELU's output) or [−9.7, 5.2] (a residual stream) spends part of
 * its 256 levels on values it never takes. Adding a constant `o` to such a tensor, and taking it
 * out again where the tensor is read, changes no float result and centres the range:
 *
 * - a `dense` layer's output moves by `o` through its bias, a `normalize` one's through `beta`, a
 *   `lut`'s through its table;
 * - every reader takes the offset out exactly: a `dense` reader through its bias (`b −= o·ΣW`), a
 *   `lut` reader through its table (`f(x − o)`), a layer norm (`centre`) needs nothing (it
 *   subtracts the mean), an `argmax` needs nothing (the same constant on every logit), and an
 *   `add` passes it on (its output moves by the sum of its inputs' offsets);
 * - attention inputs (`qk`, `av`), embeddings and their readers keep offset 0.
 *
 * The integer model is then an exact quantisation of the same float function: nothing in the
 * VQM semantics changes (a bias, a `beta` and a table are any int32 and int8 values).
 */
import { layerInputs } from "../vqm/layer-shapes.ts";
import type { FloatDecoder, FloatDecoderLayer } from "./float-decoder.ts";

/** Smallest and largest finite value of each layer's output over the calibration passes. */
export type LayerBounds = { lo: readonly number[]; hi: readonly number[] };

/**
 * The offset of every layer's output: `−(lo + hi)/2` for a layer that may move and whose readers
 * take an offset out; for an `add` the sum of its inputs' offsets, and when the later input of an
 * add may move, its offset is chosen to centre the add (the residual stream, whose range is the
 * wider and is read by the next layer norm) rather than itself; 0 for everything else.
 */
export function chooseOffsets(decoder: FloatDecoder, { lo, hi }: LayerBounds): number[] {
  const { layers } = decoder;
  const readers = layers.map(() => [] as number[]);
  layers.forEach((layer, index) => {
    for (const ref of layerInputs(layer)) readers[ref]!.push(index);
  });
  // Whether an offset on layer `index` can be taken out by every reader (adds pass it on).
  const absorbed = (index: number): boolean =>
    readers[index]!.every((reader) => {
      const kind = layers[reader]!.kind;
      return kind === "dense" || kind === "lut" || kind === "centre" || kind === "argmax"
        ? true
        : kind === "add" && absorbed(reader);
    });
  const centreOf = (index: number) => (Number.isFinite(lo[index]!) ? -(lo[index]! + hi[index]!) / 2 : 0);
  const movable = layers.map(
    (layer, index) => (layer.kind === "dense" || layer.kind === "lut" || layer.kind === "normalize") && absorbed(index),
  );
  const offsets = new Array<number>(layers.length).fill(0);
  layers.forEach((layer, index) => {
    if (movable[index]) {
      // The later operand of an add centres the add.
      const add = readers[index]!.find((reader) => layers[reader]!.kind === "add");
      const inputs =
        add === undefined ? undefined : (layers[add] as Extract<FloatDecoderLayer, { kind: "add" }>).inputs;
      const other = inputs?.find((ref) => ref !== index);
      offsets[index] =
        add !== undefined && other !== undefined && other < index ? centreOf(add) - offsets[other]! : centreOf(index);
    } else if (layer.kind === "add") offsets[index] = offsets[layer.inputs[0]]! + offsets[layer.inputs[1]]!;
  });
  return offsets;
}

/**
 * The same float function with layer `i`'s output moved by `offsets[i]` (from `chooseOffsets`):
 * biases, `beta`s and tables changed as the module comment says. A `dense` reader takes its input's
 * offset out with its float weights here; `quantiseDense` corrects that for the rounded weights.
 */
export function shiftDecoder(decoder: FloatDecoder, offsets: readonly number[]): FloatDecoder {
  const layers = decoder.layers.map((layer, index): FloatDecoderLayer => {
    const out = offsets[index]!;
    switch (layer.kind) {
      case "dense": {
        const into = offsets[layer.input]!;
        const { inFeatures, weights } = layer;
        const bias = layer.bias.map((b, j) => {
          let sum = 0;
          for (let i = 0; i < inFeatures; i++) sum += weights[j * inFeatures + i]!;
          return b - into * sum + out;
        });
        return { ...layer, bias };
      }
      case "lut": {
        const into = offsets[layer.input]!;
        const f = layer.f;
        return into === 0 && out === 0 ? layer : { ...layer, f: (x) => f(x - into) + out };
      }
      case "normalize":
        return out === 0 ? layer : { ...layer, beta: layer.beta.map((b) => b + out) };
      default:
        return layer;
    }
  });
  return { ...decoder, layers };
}
