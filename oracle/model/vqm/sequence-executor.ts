/**
 * The reference executor of a decoder (docs/numeric-semantics.md, "Sequence models"): one
 * forward pass for one position (`executePass`), and generation after a prompt (`generateVqm`),
 * exactly as the spec defines them. The trace of a generation is every layer's output at every
 * pass; attention reads the `key` and `value` layers' outputs at earlier passes from that trace,
 * so "the KV cache" is the trace itself and no engine's cache can change a bit.
 *
 * Number arithmetic is exact where used, for these reasons (beyond reference-executor.ts's):
 * - qk: |Σ_d q·k| <= dh·2^14 < 2^31 (validated); av: |Σ_u p·V| <= C·127·128 < 2^31 (C < 2^17);
 * - centre: |Σx| <= 128·D <= 2^22 and |D·x| <= 2^22;
 * - normalize: Σc² can reach 2^61, so it is summed in a Number only while below 2^52 and carried
 *   into a BigInt (each c² < 2^46 for an honest c; larger c, from a fault-injected trace, goes
 *   through BigInt); r = isqrt(Σc² + ε) < 2^32, |c·2^16| < 2^48 and |gamma·z + beta| < 2^32, so
 *   `roundDivNumber` and `requantNumber` are exact;
 * - softmax: e <= 2^16, S <= C·2^16 < 2^33 and 127·e < 2^23.
 */
import { BaseError } from "../../errors.ts";
import { assertTensor, shapeToString } from "../tensor.ts";
import type { Tensor } from "../tensor.ts";
import { int8, isqrt, layerOutput, requantNumber, roundDivNumber, VqmInputError } from "./reference-executor.ts";
import { validateVqm } from "./validate-vqm.ts";
import type { AvLayer, LutLayer, NormalizeLayer, QkLayer, SequenceSpec, SoftmaxLayer, VqmModel } from "./vqm-model.ts";

/** The traces of passes 0 … t − 1 (`earlier[u][layer]`); pass t reads its key and value layers. */
export type EarlierPasses = readonly (readonly Tensor[])[];

export type ExecutePassOptions = {
  /**
   * Called with each layer's output before later layers (and later passes) read it; what it
   * returns replaces that output. For fault injection in tests only.
   */
  onLayer?: ((index: number, output: Tensor) => Tensor) | undefined;
};

/**
 * Pass `t` of decoder `model` on token `token`: every layer's output (the pass's trace), reading
 * the `key`/`value` layers of passes `u < t` from `earlier` (only those entries are read).
 */
export function executePass(
  model: VqmModel,
  earlier: EarlierPasses,
  t: number,
  token: number,
  options: ExecutePassOptions = {},
): Tensor[] {
  const shapes = validateVqm(model);
  const sequence = decoderSpec(model);
  if (!Number.isSafeInteger(t) || t < 0 || t >= sequence.contextLength)
    throw new VqmInputError(`Pass ${t} is outside the context: positions are 0 … ${sequence.contextLength - 1}.`);
  if (!Number.isSafeInteger(token) || token < 0 || token >= sequence.vocabSize)
    throw new VqmInputError(`Token ${token} is outside the vocabulary: ids are 0 … ${sequence.vocabSize - 1}.`);
  if (earlier.length < t)
    throw new VqmInputError(`Pass ${t} reads the traces of passes 0 … ${t - 1}, got ${earlier.length}.`);
  return runPass(model, shapes, earlier, t, token, options.onLayer);
}

/** `executePass` for a validated decoder whose layer shapes are `shapes` (no checks). */
function runPass(
  model: VqmModel,
  shapes: readonly number[][],
  earlier: EarlierPasses,
  t: number,
  token: number,
  onLayer: ((index: number, output: Tensor) => Tensor) | undefined,
): Tensor[] {
  const contextLength = model.sequence!.contextLength;
  const computed: Tensor[] = [];
  const read = (ref: number) => computed[ref]!.data as Int8Array;
  const shapeOf = (ref: number): readonly number[] => shapes[ref]!;
  // Layer `ref`'s output at passes 0 … t: earlier passes from their traces, this one computed.
  const history = (ref: number): Int8Array[] => {
    const outputs: Int8Array[] = [];
    for (let u = 0; u < t; u++) outputs.push(earlier[u]![ref]!.data as Int8Array);
    outputs.push(read(ref));
    return outputs;
  };
  model.layers.forEach((layer, index) => {
    const shape = shapes[index]!;
    let output: Tensor;
    switch (layer.kind) {
      case "embed": {
        const row = layer.source === "token" ? token : t;
        output = int8(shape, layer.table.slice(row * layer.width, (row + 1) * layer.width));
        break;
      }
      case "lut":
        output = int8(shape, lut(layer, read(layer.input)));
        break;
      case "centre":
        output = { dtype: "int32", shape, data: centre(read(layer.input)) };
        break;
      case "normalize":
        output = int8(shape, normalize(layer, computed[layer.input]!.data as Int32Array));
        break;
      case "qk":
        output = int8(shape, qk(layer, read(layer.query), history(layer.key), contextLength));
        break;
      case "rowmax":
        output = int8(shape, rowmax(read(layer.input), shapeOf(layer.input)));
        break;
      case "softmax":
        output = int8(shape, softmax(layer, read(layer.input), read(layer.rowmax), contextLength, t));
        break;
      case "av":
        output = int8(shape, av(layer, read(layer.probs), history(layer.value), contextLength));
        break;
      default:
        output = layerOutput(layer, shape, read, shapeOf);
    }
    computed.push(onLayer ? onLayer(index, output) : output);
  });
  return computed;
}

export type GenerateVqmOptions = {
  /** As `ExecutePassOptions.onLayer`, with the pass: fault injection in tests only. */
  onLayer?: ((pass: number, index: number, output: Tensor) => Tensor) | undefined;
};

export type GenerateVqmReturnType = {
  /** int32 `[1, N]`: the generated ids `gen[0 … N − 1]`. */
  output: Tensor;
  /** The prompt as read (clamped ids, `[bos]` when empty) followed by the generated ids. */
  tokens: number[];
  /** `passes[t][layer]`: every layer's output at every pass `t = 0 … P + N − 2`. */
  passes: Tensor[][];
};

/**
 * Generation of docs/numeric-semantics.md: the prompt from the int32 `[1, promptLength]` input,
 * passes `t = 0 … P + N − 2` (pass t reads `tok(t)` and position t), `gen[k]` the last layer's
 * output at pass `P − 1 + k`.
 */
export function generateVqm(
  model: VqmModel,
  input: Tensor,
  { onLayer }: GenerateVqmOptions = {},
): GenerateVqmReturnType {
  const shapes = validateVqm(model);
  const sequence = decoderSpec(model);
  checkPromptInput(sequence, input);
  const tokens = readPrompt(sequence, input.data as Int32Array);
  const promptLength = tokens.length;
  const passes: Tensor[][] = [];
  for (let t = 0; t <= promptLength + sequence.newTokens - 2; t++) {
    const hook = onLayer ? (index: number, output: Tensor) => onLayer(t, index, output) : undefined;
    const trace = runPass(model, shapes, passes, t, tokens[t]!, hook);
    passes.push(trace);
    // From pass P − 1 on, the pass's argmax is the next token (and the next pass's input).
    if (t >= promptLength - 1) tokens.push(nextToken(trace.at(-1)!, sequence));
  }
  return {
    output: { dtype: "int32", shape: [1, sequence.newTokens], data: Int32Array.from(tokens.slice(promptLength)) },
    tokens,
    passes,
  };
}

/**
 * The prompt of a request: the ids before the first negative one, each read as `min(id, V − 1)`;
 * `[bos]` when that leaves none. Every int32 input is a valid prompt.
 */
export function readPrompt(sequence: SequenceSpec, ids: ArrayLike<number>): number[] {
  const prompt: number[] = [];
  for (let k = 0; k < ids.length && ids[k]! >= 0; k++) prompt.push(Math.min(ids[k]!, sequence.vocabSize - 1));
  return prompt.length > 0 ? prompt : [sequence.bos];
}

/**
 * The token the argmax gives. A fault-injected argmax may give any int32; it is read as
 * `min(max(id, 0), V − 1)` so that the next pass still has a row to embed (an honest one is in range).
 */
function nextToken(argmax: Tensor, sequence: SequenceSpec): number {
  const id = (argmax.data as Int32Array)[0]!;
  return Math.min(Math.max(id, 0), sequence.vocabSize - 1);
}

function decoderSpec(model: VqmModel): SequenceSpec {
  if (model.sequence === undefined)
    throw new VqmInputError(`VQM model "${model.name}" is not a decoder (no \`sequence\` section).`, {
      details: ["Run it with executeVqm."],
    });
  return model.sequence;
}

function checkPromptInput(sequence: SequenceSpec, input: Tensor): void {
  try {
    assertTensor(input);
  } catch (error) {
    throw new VqmInputError("Decoder input is not a valid tensor.", {
      details: [error instanceof BaseError ? error.shortMessage : String(error)],
      cause: error,
    });
  }
  if (input.dtype !== "int32")
    throw new VqmInputError(`Decoder input must be int32 token ids, got ${input.dtype}.`, {
      details: ["Tokenise the prompt with the model's tokenizer; a negative id ends it early."],
    });
  const expected = [1, sequence.promptLength];
  if (shapeToString(input.shape) !== shapeToString(expected))
    throw new VqmInputError("Decoder input shape does not match the model.", {
      details: [`Expected ${shapeToString(expected)}, got ${shapeToString(input.shape)}.`],
    });
}

// ---------------------------------------------------------------------------------------------
// Layers of a pass

function lut(layer: LutLayer, x: Int8Array): Int8Array {
  return x.map((v) => layer.table[v + 128]!);
}

/** c[i] = D·x[i] − Σx. */
function centre(x: Int8Array): Int32Array {
  let sum = 0;
  for (const v of x) sum += v;
  return Int32Array.from(x, (v) => x.length * v - sum);
}

const two52 = 2 ** 52;
/** Above this |c|, c² may not be exact in a double (2^26.5 squared is 2^53). */
const exactSquareLimit = 2 ** 26;

/** Σc², exactly (see the module comment). */
function sumOfSquares(c: Int32Array): bigint {
  let high = 0n;
  let low = 0;
  for (const v of c) {
    if (Math.abs(v) >= exactSquareLimit) high += BigInt(v) * BigInt(v);
    else {
      low += v * v;
      if (low >= two52) {
        high += BigInt(low);
        low = 0;
      }
    }
  }
  return high + BigInt(low);
}

/** y[i] = requant(gamma[i]·roundDiv(c[i]·2^16, r) + beta[i], m[i], s[i], act), r = isqrt(Σc² + ε). */
function normalize(layer: NormalizeLayer, c: Int32Array): Int8Array {
  const { gamma, beta, epsilon, requant } = layer;
  const r = Number(isqrt(sumOfSquares(c) + epsilon)); // >= 1 as ε >= 1; exact below 2^53
  const lo = requant.activation === "relu" ? 0 : -128;
  const y = new Int8Array(c.length);
  for (let i = 0; i < c.length; i++) {
    const z = roundDivNumber(c[i]! * 65536, r); // |z| <= 2^16, as |c[i]| <= r
    y[i] = requantNumber(gamma[i]! * z + beta[i]!, requant.multiplier[i]!, requant.shift[i]!, lo);
  }
  return y;
}

/** Scores [H][C]: the requantised dot products of each head with the keys of passes 0 … t; −128 beyond t. */
function qk(layer: QkLayer, q: Int8Array, keys: readonly Int8Array[], contextLength: number): Int8Array {
  const { heads, headDim, multiplier, shift } = layer;
  const y = new Int8Array(heads * contextLength).fill(-128);
  for (let h = 0; h < heads; h++)
    keys.forEach((key, u) => {
      let acc = 0;
      for (let d = h * headDim, end = d + headDim; d < end; d++) acc += q[d]! * key[d]!;
      y[h * contextLength + u] = requantNumber(acc, multiplier, shift, -128);
    });
  return y;
}

/** The largest element of each row (the last axis). */
function rowmax(x: Int8Array, inShape: readonly number[]): Int8Array {
  const last = inShape[inShape.length - 1]!;
  const y = new Int8Array(x.length / last);
  for (let row = 0; row < y.length; row++) {
    let best = -128;
    for (let k = row * last, end = k + last; k < end; k++) if (x[k]! > best) best = x[k]!;
    y[row] = best;
  }
  return y;
}

/**
 * y[u] = roundDiv(127·e[u], S) with e[u] = exp[x[u] − M + 255] for u <= t, else 0. With M the
 * row's true maximum the index is in [0, 255] and S >= 2^16; for any other M (a fault-injected
 * rowmax) the index is clamped to [0, 255] and a row with S = 0 gives zeros (the spec's totality rule).
 */
function softmax(layer: SoftmaxLayer, x: Int8Array, maxima: Int8Array, contextLength: number, t: number): Int8Array {
  const heads = maxima.length;
  const y = new Int8Array(heads * contextLength);
  const e = new Array<number>(t + 1);
  for (let h = 0; h < heads; h++) {
    const base = h * contextLength;
    let sum = 0;
    for (let u = 0; u <= t; u++) {
      const k = x[base + u]! - maxima[h]! + 255;
      e[u] = layer.exp[k < 0 ? 0 : k > 255 ? 255 : k]!;
      sum += e[u]!;
    }
    if (sum === 0) continue;
    for (let u = 0; u <= t; u++) y[base + u] = roundDivNumber(127 * e[u]!, sum);
  }
  return y;
}

/** y[h·dh + d] = requant(Σ_{u<=t} p[h][u]·V_u[h·dh + d], m, s, none). */
function av(layer: AvLayer, p: Int8Array, values: readonly Int8Array[], contextLength: number): Int8Array {
  const { heads, headDim, multiplier, shift } = layer;
  // Summed pass by pass (any order gives the same integers): every partial sum is below 2^31.
  const acc = new Float64Array(heads * headDim);
  values.forEach((value, u) => {
    for (let h = 0; h < heads; h++) {
      const weight = p[h * contextLength + u]!;
      if (weight !== 0) for (let d = h * headDim, end = d + headDim; d < end; d++) acc[d]! += weight * value[d]!;
    }
  });
  return Int8Array.from(acc, (sum) => requantNumber(sum, multiplier, shift, -128));
}
