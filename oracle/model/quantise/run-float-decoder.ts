/**
 * Float64 forward pass of a lowered decoder (`float-decoder.ts`), one pass per position exactly
 * as the integer semantics runs it: pass `t` reads token `tok(t)` and position `t`, and its
 * attention reads the key and value layers of passes `0 … t`. What the quantiser calibrates on,
 * and the float side of every comparison.
 *
 * Masked scores (`u > t`) are −∞, so a scale taken over the finite values sees only real scores.
 */
import type { FloatDecoder, FloatDecoderLayer } from "./float-decoder.ts";

/** `passes[u][layer]`: every layer's output at every earlier pass. */
export type FloatPasses = readonly (readonly Float64Array[])[];

/** Every layer's output at pass `t` on `token`, reading earlier passes' keys and values. */
export function runFloatPass(decoder: FloatDecoder, earlier: FloatPasses, t: number, token: number): Float64Array[] {
  const outputs: Float64Array[] = [];
  const history = (ref: number): Float64Array[] => [...earlier.slice(0, t).map((pass) => pass[ref]!), outputs[ref]!];
  for (const layer of decoder.layers) outputs.push(runLayer(layer, outputs, history, decoder.contextLength, t, token));
  return outputs;
}

/** The passes over a whole sequence of ids (pass t reads `ids[t]`): each position's every layer. */
export function runFloatDecoder(decoder: FloatDecoder, ids: readonly number[]): Float64Array[][] {
  const passes: Float64Array[][] = [];
  ids.forEach((token, t) => passes.push(runFloatPass(decoder, passes, t, token)));
  return passes;
}

/** Greedy continuation of `prompt` (argmax, first index on ties) for `newTokens` tokens. */
export function generateFloat(decoder: FloatDecoder, prompt: readonly number[], newTokens: number): number[] {
  const tokens = [...prompt];
  const passes: Float64Array[][] = [];
  for (let t = 0; t <= prompt.length + newTokens - 2; t++) {
    passes.push(runFloatPass(decoder, passes, t, tokens[t]!));
    if (t >= prompt.length - 1) tokens.push(passes[t]!.at(-1)![0]!);
  }
  return tokens.slice(prompt.length);
}

function runLayer(
  layer: FloatDecoderLayer,
  outputs: readonly Float64Array[],
  history: (ref: number) => Float64Array[],
  contextLength: number,
  t: number,
  token: number,
): Float64Array {
  const read = (ref: number) => outputs[ref]!;
  switch (layer.kind) {
    case "embed": {
      const row = layer.source === "token" ? token : t;
      return layer.table.slice(row * layer.width, (row + 1) * layer.width);
    }
    case "dense": {
      const x = read(layer.input);
      const { inFeatures, weights } = layer;
      return layer.bias.map((b, o) => {
        let sum = b;
        for (let i = 0; i < inFeatures; i++) sum += weights[o * inFeatures + i]! * x[i]!;
        return sum;
      });
    }
    case "add": {
      const b = read(layer.inputs[1]);
      return read(layer.inputs[0]).map((v, i) => v + b[i]!);
    }
    case "lut":
      return read(layer.input).map(layer.f);
    case "centre": {
      // D·(x − mean): the integer layer's c, in float.
      const x = read(layer.input);
      const sum = x.reduce((a, b) => a + b, 0);
      return x.map((v) => x.length * v - sum);
    }
    case "normalize": {
      // c / √(Σc² + ε·D³) is (x − μ)/√(D·(var + ε)): times √D it is the float layer norm's x̂.
      const c = read(layer.input);
      const width = c.length;
      const r = Math.sqrt(c.reduce((a, v) => a + v * v, 0) + layer.epsilon * width ** 3);
      return c.map((v, i) => layer.gamma[i]! * ((v / r) * Math.sqrt(width)) + layer.beta[i]!);
    }
    case "qk": {
      const { heads, headDim, factor } = layer;
      const q = read(layer.query);
      const y = new Float64Array(heads * contextLength).fill(-Infinity);
      history(layer.key).forEach((key, u) => {
        for (let h = 0; h < heads; h++) {
          let sum = 0;
          for (let d = h * headDim; d < (h + 1) * headDim; d++) sum += q[d]! * key[d]!;
          y[h * contextLength + u] = factor * sum;
        }
      });
      return y;
    }
    case "rowmax": {
      const x = read(layer.input);
      const rows = x.length / contextLength;
      return Float64Array.from({ length: rows }, (_, h) =>
        Math.max(...x.subarray(h * contextLength, (h + 1) * contextLength)),
      );
    }
    case "softmax": {
      const x = read(layer.input);
      const maxima = read(layer.rowmax);
      const y = new Float64Array(x.length);
      maxima.forEach((max, h) => {
        let sum = 0;
        for (let u = 0; u <= t; u++) sum += y[h * contextLength + u] = Math.exp(x[h * contextLength + u]! - max);
        for (let u = 0; u <= t; u++) y[h * contextLength + u]! /= sum;
      });
      return y;
    }
    case "av": {
      const { heads, headDim } = layer;
      const p = read(layer.probs);
      const y = new Float64Array(heads * headDim);
      history(layer.value).forEach((value, u) => {
        for (let h = 0; h < heads; h++)
          for (let d = h * headDim; d < (h + 1) * headDim; d++) y[d]! += p[h * contextLength + u]! * value[d]!;
      });
      return y;
    }
    case "argmax": {
      const x = read(layer.input);
      let best = 0;
      for (let i = 1; i < x.length; i++) if (x[i]! > x[best]!) best = i;
      return Float64Array.of(best);
    }
  }
}
