/**
 * Float64 forward pass of a lowered float network, giving every layer's output: what the
 * quantiser calibrates on (the largest magnitude each tensor reaches).
 */
import type { FloatLayer, FloatNetwork } from "./float-network.ts";

/** Every layer's output for one input (flattened, row-major); argmax gives its index. */
export function runFloatNetwork(network: FloatNetwork, input: ArrayLike<number>): Float64Array[] {
  const outputs: Float64Array[] = [];
  const x0 = Float64Array.from(input as ArrayLike<number>);
  const read = (ref: number) => (ref < 0 ? x0 : outputs[ref]!);
  const shapeOf = (ref: number) => (ref < 0 ? network.inputShape : network.shapes[ref]!);
  for (const layer of network.layers) outputs.push(runLayer(layer, read, shapeOf));
  return outputs;
}

function runLayer(
  layer: FloatLayer,
  read: (ref: number) => Float64Array,
  shapeOf: (ref: number) => number[],
): Float64Array {
  const relu = (v: number) => (v > 0 ? v : 0);
  switch (layer.kind) {
    case "dense": {
      const x = read(layer.input);
      const out = new Float64Array(layer.outFeatures);
      for (let o = 0; o < layer.outFeatures; o++) {
        let sum = layer.bias[o]!;
        for (let i = 0; i < layer.inFeatures; i++) sum += layer.weights[o * layer.inFeatures + i]! * x[i]!;
        out[o] = layer.activation === "relu" ? relu(sum) : sum;
      }
      return out;
    }
    case "conv2d": {
      const x = read(layer.input);
      const [, ic, h, w] = shapeOf(layer.input) as [number, number, number, number];
      const [kh, kw] = layer.kernel;
      const [sh, sw] = layer.stride;
      const [top, left, bottom, right] = layer.padding;
      const oh = Math.floor((h + top + bottom - kh) / sh) + 1;
      const ow = Math.floor((w + left + right - kw) / sw) + 1;
      const out = new Float64Array(layer.outChannels * oh * ow);
      for (let o = 0; o < layer.outChannels; o++)
        for (let r = 0; r < oh; r++)
          for (let c = 0; c < ow; c++) {
            let sum = layer.bias[o]!;
            for (let i = 0; i < ic; i++)
              for (let u = 0; u < kh; u++) {
                const y = r * sh + u - top;
                if (y < 0 || y >= h) continue;
                for (let v = 0; v < kw; v++) {
                  const xx = c * sw + v - left;
                  if (xx < 0 || xx >= w) continue;
                  sum += x[(i * h + y) * w + xx]! * layer.weights[((o * ic + i) * kh + u) * kw + v]!;
                }
              }
            out[(o * oh + r) * ow + c] = layer.activation === "relu" ? relu(sum) : sum;
          }
      return out;
    }
    case "relu":
      return read(layer.input).map(relu);
    case "add": {
      const a = read(layer.inputs[0]);
      const b = read(layer.inputs[1]);
      return a.map((v, i) => (layer.activation === "relu" ? relu(v + b[i]!) : v + b[i]!));
    }
    case "maxpool2d": {
      const x = read(layer.input);
      const [, ch, h, w] = shapeOf(layer.input) as [number, number, number, number];
      const [kh, kw] = layer.kernel;
      const [sh, sw] = layer.stride;
      const oh = Math.floor((h - kh) / sh) + 1;
      const ow = Math.floor((w - kw) / sw) + 1;
      const out = new Float64Array(ch * oh * ow);
      for (let k = 0; k < ch; k++)
        for (let r = 0; r < oh; r++)
          for (let c = 0; c < ow; c++) {
            let best = -Infinity;
            for (let u = 0; u < kh; u++)
              for (let v = 0; v < kw; v++) best = Math.max(best, x[(k * h + r * sh + u) * w + c * sw + v]!);
            out[(k * oh + r) * ow + c] = best;
          }
      return out;
    }
    case "reshape":
      return read(layer.input);
    case "argmax": {
      const x = read(layer.input);
      const width = shapeOf(layer.input).at(-1)!;
      const rows = x.length / width;
      return Float64Array.from({ length: rows }, (_, row) => {
        let best = 0;
        for (let i = 1; i < width; i++) if (x[row * width + i]! > x[row * width + best]!) best = i;
        return best;
      });
    }
  }
}
