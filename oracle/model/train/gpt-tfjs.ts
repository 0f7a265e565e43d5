/**
 * The GPT forward pass and loss in TensorFlow.js ops, for training (tfjs differentiates it) and
 * as the reference the exported ONNX graph is checked against. It computes what the graph of
 * `transformer-onnx.ts` computes, op for op: the same LayerNorm (population variance, ε inside
 * the root), exact GELU through erf, an additive −1e9 causal mask, the same head split.
 *
 * tfjs runs on its wasm backend here (`useTfjsWasm`): it ships its binaries inside the npm
 * package, so nothing is downloaded, and it is several times faster than the pure-JS cpu backend.
 */
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { assertGptConfig, blockPrefix, causalMaskValue, gptParameterShapes } from "./gpt.ts";
import type { GptConfig, GptWeights } from "./gpt.ts";

export { tf };

/** Selects the wasm backend once; later calls return at once. */
export async function useTfjsWasm(): Promise<void> {
  if (tf.getBackend() === "wasm") return;
  if (!(await tf.setBackend("wasm"))) throw new Error("The tfjs wasm backend did not initialise.");
  await tf.ready();
}

/** Parameters as tfjs tensors (variables while training, constants when checking), by name. */
export type GptTensors = ReadonlyMap<string, tf.Tensor>;

export function gptTensors(weights: GptWeights): Map<string, tf.Tensor> {
  return new Map(weights.map(({ name, shape, data }) => [name, tf.tensor(data, [...shape], "float32")]));
}

export function gptVariables(weights: GptWeights): Map<string, tf.Variable> {
  return new Map(weights.map(({ name, shape, data }) => [name, tf.variable(tf.tensor(data, [...shape]), true, name)]));
}

/** The current values of trained tensors, in `gptParameterShapes` order. */
export function readGptWeights(config: GptConfig, tensors: GptTensors): GptWeights {
  return gptParameterShapes(config).map(({ name, shape }) => ({
    name,
    shape,
    data: Float32Array.from(tensors.get(name)!.dataSync()),
  }));
}

/**
 * Logits [batch, T, vocab] for token ids [batch, T] (int32), T ≤ contextLength. The embedding is
 * a one-hot product rather than a gather because the wasm backend has no kernel for gather's
 * gradient (UnsortedSegmentSum); the values are the same.
 */
export function gptLogits(config: GptConfig, p: GptTensors, ids: tf.Tensor2D): tf.Tensor3D {
  assertGptConfig(config);
  const [batch, T] = ids.shape;
  if (T > config.contextLength)
    throw new RangeError(`GPT input has ${T} positions, the context is ${config.contextLength}.`);
  const { vocabSize: V, width: d, heads: H } = config;
  const hd = d / H;
  const get = (name: string) => {
    const tensor = p.get(name);
    if (!tensor) throw new RangeError(`GPT tensors lack "${name}".`);
    return tensor as tf.Tensor2D;
  };
  return tf.tidy(() => {
    const oneHot = tf.oneHot(ids.reshape([batch * T]), V).toFloat() as tf.Tensor2D;
    const positions = get("transformer.wpe.weight").slice([0, 0], [T, d]);
    // Rows are (sample, position) pairs: [batch·T, d] keeps every projection a plain 2-D matMul.
    let x = matMul2d(oneHot, get("transformer.wte.weight"))
      .reshape([batch, T, d])
      .add(positions)
      .reshape([batch * T, d]) as tf.Tensor2D;
    const mask = causalMask(T);
    for (let layer = 0; layer < config.layers; layer++) {
      const b = blockPrefix(layer);
      const linear = (input: tf.Tensor2D, name: string) =>
        matMul2d(input, get(`${name}.weight`)).add(get(`${name}.bias`)) as tf.Tensor2D;

      const h1 = layerNorm(x, get(`${b}.ln_1.weight`), get(`${b}.ln_1.bias`), config.layerNormEpsilon);
      const [q, k, v] = tf.split(linear(h1, `${b}.attn.c_attn`), 3, 1);
      const heads = (t: tf.Tensor) => t.reshape([batch, T, H, hd]).transpose([0, 2, 1, 3]) as tf.Tensor4D;
      const scores = tf.matMul(heads(q!), heads(k!), false, true).div(Math.sqrt(hd)).add(mask);
      const attended = tf
        .matMul(tf.softmax(scores, -1), heads(v!))
        .transpose([0, 2, 1, 3])
        .reshape([batch * T, d]) as tf.Tensor2D;
      x = x.add(linear(attended, `${b}.attn.c_proj`));

      const h2 = layerNorm(x, get(`${b}.ln_2.weight`), get(`${b}.ln_2.bias`), config.layerNormEpsilon);
      x = x.add(linear(gelu(linear(h2, `${b}.mlp.c_fc`)), `${b}.mlp.c_proj`));
    }
    const final = layerNorm(x, get("transformer.ln_f.weight"), get("transformer.ln_f.bias"), config.layerNormEpsilon);
    return matMul2d(final, get("lm_head.weight")).reshape([batch, T, V]) as tf.Tensor3D;
  });
}

/**
 * Mean cross-entropy (nats) of `targets` under the logits of `ids`, over the positions where
 * `weights` is 1 (padding has 0). Shapes [batch, T]; ids and targets int32, weights float32.
 */
export function gptLoss(
  config: GptConfig,
  p: GptTensors,
  ids: tf.Tensor2D,
  targets: tf.Tensor2D,
  weights: tf.Tensor2D,
): tf.Scalar {
  return tf.tidy(() => {
    const logits = gptLogits(config, p, ids);
    const logProbabilities = tf.logSoftmax(logits, -1);
    const picked = logProbabilities.mul(tf.oneHot(targets, config.vocabSize).toFloat()).sum(-1);
    return picked.mul(weights).sum().neg().div(weights.sum()) as tf.Scalar;
  });
}

/**
 * x·W for 2-D operands with the gradients dx = dy·Wᵀ and dW = xᵀ·dy computed from explicitly
 * transposed copies: tfjs's own gradient asks the wasm kernel for a transposed product, which
 * runs about six times slower there than a plain one and dominated the training time.
 */
const matMul2d = tf.customGrad((...inputs) => {
  const [x, w, save] = inputs as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
  save([x, w]);
  return {
    value: tf.matMul(x, w),
    gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
      const [savedX, savedW] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [tf.matMul(dy, tf.transpose(savedW)), tf.matMul(tf.transpose(savedX), dy)];
    },
  };
}) as (x: tf.Tensor2D, w: tf.Tensor2D) => tf.Tensor2D;

/** 0 on and below the diagonal, −1e9 above it: a position attends to itself and earlier ones. */
export function causalMask(T: number): tf.Tensor2D {
  return tf.tidy(
    () =>
      tf.linalg
        .bandPart(tf.ones([T, T]), -1, 0)
        .sub(1)
        .mul(-causalMaskValue) as tf.Tensor2D,
  );
}

function layerNorm(x: tf.Tensor2D, gain: tf.Tensor, bias: tf.Tensor, epsilon: number): tf.Tensor2D {
  const mean = x.mean(-1, true);
  const centred = x.sub(mean);
  const variance = centred.square().mean(-1, true);
  return centred.div(variance.add(epsilon).sqrt()).mul(gain).add(bias) as tf.Tensor2D;
}

/** Exact GELU, 0.5·x·(1 + erf(x/√2)): the pattern PyTorch's exporter writes for nn.GELU(). */
function gelu(x: tf.Tensor2D): tf.Tensor2D {
  return x.mul(0.5).mul(x.div(Math.SQRT2).erf().add(1)) as tf.Tensor2D;
}
