/**
 * Seeded random valid VQM networks for property-based tests (the conformance suite): random
 * layer kinds (dense, conv2d, maxpool2d, relu, add, reshape, argmax), sizes, weights with
 * extremes (±127, −128), multipliers from 0 to 2^31 − 1, shifts from 0 to 62, and inputs that
 * saturate and hit rounding ties. Every model satisfies the overflow bounds by construction:
 * biases are drawn within what bound 1 leaves, multipliers are capped by bound 2.
 */
import { createPrng } from "../train/prng.ts";
import type { Prng } from "../train/prng.ts";
import type { Tensor } from "../tensor.ts";
import { accumulatorBounds, rounding, validateVqm } from "./validate-vqm.ts";
import type { Activation, Requant, VqmLayer, VqmModel } from "./vqm-model.ts";

export type RandomVqmParameters = {
  seed: number;
  /** Most layers before an optional final argmax; defaults to 6. */
  maxLayers?: number | undefined;
  /** Inputs to draw for the model; defaults to 3. */
  inputCount?: number | undefined;
};

export type RandomVqmReturnType = { model: VqmModel; inputs: Tensor[] };

const two31 = 2 ** 31;
const two62 = 2n ** 62n;

export function randomVqm({ seed, maxLayers = 6, inputCount = 3 }: RandomVqmParameters): RandomVqmReturnType {
  const prng = createPrng(seed);
  const pick = <T>(items: readonly T[]): T => items[prng.int(items.length)]!;
  const chance = (p: number) => prng.next() < p;
  const image = chance(0.5);
  const inputShape = image ? [1, 1 + prng.int(3), 2 + prng.int(7), 2 + prng.int(7)] : [1, 1 + prng.int(48)];
  const shapes: number[][] = [];
  const shapeOf = (ref: number) => (ref === -1 ? inputShape : shapes[ref]!);
  const layers: VqmLayer[] = [];
  const layerCount = 1 + prng.int(maxLayers);
  for (let index = 0; index < layerCount; index++) {
    const ref = chance(0.7) ? index - 1 : prng.int(index + 1) - 1;
    const shape = shapeOf(ref);
    const sameShape = [-1, ...shapes.keys()].filter((other) => other !== ref && same(shapeOf(other), shape));
    const kinds: VqmLayer["kind"][] = ["relu", "reshape", ...(sameShape.length > 0 ? (["add", "add"] as const) : [])];
    if (shape.length === 2) kinds.push("dense", "dense", "dense");
    else {
      kinds.push("conv2d", "conv2d", "conv2d");
      if (shape[2]! >= 2 && shape[3]! >= 2) kinds.push("maxpool2d");
    }
    const layer = randomLayer(pick(kinds), ref, shape, sameShape, prng);
    layers.push(layer.layer);
    shapes.push(layer.shape);
  }
  if (chance(0.35)) layers.push({ kind: "argmax", input: layers.length - 1 });
  const model: VqmModel = {
    format: "vqm/1",
    name: `random-${seed}`,
    input: { shape: inputShape, scale: 0.05 },
    layers,
    ...(layers[layers.length - 1]!.kind === "argmax" ? {} : { outputScale: 0.1 }),
  };
  validateVqm(model);
  const inputs = Array.from({ length: inputCount }, () => randomInput(inputShape, prng));
  return { model, inputs };
}

/** An int8 input: uniform, extremes only, small values (ties), or all zeros. */
export function randomInput(shape: readonly number[], prng: Prng): Tensor {
  const count = shape.reduce((n, d) => n * d, 1);
  const mode = prng.int(4);
  const data = new Int8Array(count);
  for (let k = 0; k < count; k++)
    data[k] =
      mode === 0
        ? prng.int(256) - 128
        : mode === 1
          ? [-128, 127, -127][prng.int(3)]!
          : mode === 2
            ? prng.int(7) - 3
            : prng.next() < 0.9
              ? 0
              : prng.int(256) - 128;
  return { dtype: "int8", shape: [...shape], data };
}

function randomLayer(
  kind: VqmLayer["kind"],
  ref: number,
  shape: number[],
  sameShape: number[],
  prng: Prng,
): { layer: VqmLayer; shape: number[] } {
  switch (kind) {
    case "dense": {
      const inFeatures = shape[1]!;
      const outFeatures = 1 + prng.int(prng.next() < 0.1 ? 200 : 40);
      const weights = randomWeights(outFeatures * inFeatures, prng);
      const bias = randomBias(weights, inFeatures, outFeatures, prng);
      const requant = randomRequant(weights, bias, inFeatures, prng);
      return {
        layer: { kind, input: ref, inFeatures, outFeatures, weights, bias, requant },
        shape: [1, outFeatures],
      };
    }
    case "conv2d": {
      const [, inChannels, height, width] = shape as [number, number, number, number];
      const outChannels = 1 + prng.int(4);
      const kernel: [number, number] = [1 + prng.int(Math.min(3, height)), 1 + prng.int(Math.min(3, width))];
      const stride: [number, number] = [1 + prng.int(2), 1 + prng.int(2)];
      const padding: [number, number, number, number] = [prng.int(2), prng.int(2), prng.int(2), prng.int(2)];
      const fanIn = inChannels * kernel[0] * kernel[1];
      const weights = randomWeights(outChannels * fanIn, prng);
      const bias = randomBias(weights, fanIn, outChannels, prng);
      const requant = randomRequant(weights, bias, fanIn, prng);
      const out = (n: number, k: number, s: number, p: number) => Math.floor((n + p - k) / s) + 1;
      return {
        layer: { kind, input: ref, inChannels, outChannels, kernel, stride, padding, weights, bias, requant },
        shape: [
          1,
          outChannels,
          out(height, kernel[0], stride[0], padding[0] + padding[2]),
          out(width, kernel[1], stride[1], padding[1] + padding[3]),
        ],
      };
    }
    case "maxpool2d": {
      const [, channels, height, width] = shape as [number, number, number, number];
      const kernel: [number, number] = [1 + prng.int(Math.min(3, height)), 1 + prng.int(Math.min(3, width))];
      const stride: [number, number] = [1 + prng.int(2), 1 + prng.int(2)];
      return {
        layer: { kind, input: ref, kernel, stride },
        shape: [
          1,
          channels,
          Math.floor((height - kernel[0]) / stride[0]) + 1,
          Math.floor((width - kernel[1]) / stride[1]) + 1,
        ],
      };
    }
    case "relu":
      return { layer: { kind, input: ref }, shape: [...shape] };
    case "add": {
      const other = sameShape[prng.int(sameShape.length)]!;
      const shift = pickShift(prng);
      const multiplier = () =>
        prng.next() < 0.1
          ? 0
          : prng.next() < 0.1
            ? two31 - 1
            : Math.min(two31 - 1, Math.floor(prng.uniform(0, 2) * 2 ** shift));
      return {
        layer: {
          kind,
          inputs: prng.next() < 0.5 ? [ref, other] : [other, ref],
          multipliers: [multiplier(), multiplier()],
          shift,
          activation: randomActivation(prng),
        },
        shape: [...shape],
      };
    }
    case "reshape": {
      const count = shape.reduce((n, d) => n * d, 1);
      const target = shape.length === 4 || prng.next() < 0.3 ? [1, count] : factorImage(count, prng);
      return { layer: { kind, input: ref, shape: target }, shape: target };
    }
    case "argmax":
      return { layer: { kind, input: ref }, shape: shape.slice(0, -1) };
    default:
      // Decoders have their own generator (random-transformer.ts): their layers need a sequence.
      throw new RangeError(`randomVqm draws no ${kind} layers: see randomTransformer.`);
  }
}

/** [1, c, h, w] with c·h·w = count (some factorisation, possibly trivial). */
function factorImage(count: number, prng: Prng): number[] {
  const divisors = (n: number) => Array.from({ length: n }, (_, k) => k + 1).filter((d) => n % d === 0);
  const c = divisors(count)[prng.int(divisors(count).length)]!;
  const rest = count / c;
  const h = divisors(rest)[prng.int(divisors(rest).length)]!;
  return [1, c, h, rest / h];
}

function randomWeights(count: number, prng: Prng): Int8Array {
  const mode = prng.int(4);
  const weights = new Int8Array(count);
  for (let k = 0; k < count; k++)
    weights[k] =
      mode === 0
        ? prng.int(256) - 128
        : mode === 1
          ? [-128, 127, -127, 0][prng.int(4)]!
          : mode === 2
            ? prng.int(7) - 3
            : prng.next() < 0.8
              ? 0
              : prng.int(256) - 128;
  return weights;
}

/** Biases within the room bound 1 leaves: |b| < 2^31 − 128·Σ|W|. */
function randomBias(weights: Int8Array, fanIn: number, channels: number, prng: Prng): Int32Array {
  const room = accumulatorBounds(weights, new Int32Array(channels), fanIn).map((bound) => two31 - 1 - Number(bound));
  const extreme = prng.next() < 0.15;
  return Int32Array.from(room, (free) => {
    const magnitude = extreme ? free : Math.min(free, Math.floor(2 ** prng.uniform(0, 16)));
    return prng.next() < 0.5 ? -magnitude : magnitude;
  });
}

function pickShift(prng: Prng): number {
  const mode = prng.int(6);
  return mode === 0 ? 0 : mode === 1 ? 62 - prng.int(4) : mode === 2 ? 1 + prng.int(3) : 4 + prng.int(40);
}

function randomActivation(prng: Prng): Activation {
  return prng.next() < 0.5 ? "relu" : "none";
}

/**
 * Per-channel multipliers and shifts: mostly a ratio m / 2^s near 127 / B (outputs spread over
 * the int8 range), sometimes m = 0, the largest m bound 2 allows, or tiny m with small s (ties).
 */
function randomRequant(weights: Int8Array, bias: Int32Array, fanIn: number, prng: Prng): Requant {
  const bounds = accumulatorBounds(weights, bias, fanIn);
  const multiplier = new Int32Array(bias.length);
  const shift = new Uint8Array(bias.length);
  for (let j = 0; j < bias.length; j++) {
    const bound = bounds[j]! === 0n ? 1n : bounds[j]!;
    const s = pickShift(prng);
    const cap = (two62 - rounding(s) - 1n) / bound;
    const mMax = Number(cap < BigInt(two31 - 1) ? cap : BigInt(two31 - 1));
    const mode = prng.int(8);
    let m: number;
    if (mode === 0) m = 0;
    else if (mode === 1) m = mMax;
    else if (mode === 2) m = Math.min(mMax, 1 + prng.int(7));
    else {
      // log2 of the ratio: from "everything rounds to 0" to "everything saturates".
      const ratio = 2 ** prng.uniform(-Math.log2(Number(bound)) - 2, -Math.log2(Number(bound)) + 12);
      m = Math.min(mMax, Math.floor(ratio * 127 * 2 ** s));
    }
    multiplier[j] = m;
    shift[j] = s;
  }
  return { multiplier, shift, activation: randomActivation(prng) };
}

function same(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, k) => d === b[k]);
}
