import assert from "node:assert/strict";
import { layerShapes } from "../../oracle/model/vqm/layer-shapes.ts";
import { accumulatorBounds, validateVqm, VqmValidationError } from "../../oracle/model/vqm/validate-vqm.ts";
import type { VqmRule } from "../../oracle/model/vqm/validate-vqm.ts";
import type { DenseLayer, VqmLayer, VqmModel } from "../../oracle/model/vqm/vqm-model.ts";

function dense(input: number, inFeatures: number, outFeatures: number, fill = 1): DenseLayer {
  return {
    kind: "dense",
    input,
    inFeatures,
    outFeatures,
    weights: new Int8Array(inFeatures * outFeatures).fill(fill),
    bias: new Int32Array(outFeatures),
    requant: {
      multiplier: new Int32Array(outFeatures).fill(1),
      shift: new Uint8Array(outFeatures).fill(8),
      activation: "relu",
    },
  };
}

function model(layers: VqmLayer[], shape = [1, 4]): VqmModel {
  return { format: "vqm/1", name: "t", input: { shape, scale: 0.1 }, layers };
}

const conv: VqmLayer = {
  kind: "conv2d",
  input: -1,
  inChannels: 2,
  outChannels: 3,
  kernel: [3, 2],
  stride: [2, 1],
  padding: [1, 0, 1, 1],
  weights: new Int8Array(3 * 2 * 3 * 2).fill(-128),
  bias: Int32Array.of(1, -2, 3),
  requant: { multiplier: Int32Array.of(1, 2, 3), shift: Uint8Array.of(0, 10, 62), activation: "none" },
};

function rejects(target: VqmModel, layer: number, rule: VqmRule): void {
  assert.throws(
    () => validateVqm(target),
    (error: unknown) => {
      assert.ok(error instanceof VqmValidationError, String(error));
      assert.equal(error.rule, rule, error.message);
      assert.equal(error.layer, layer, error.message);
      assert.match(error.message, layer < 0 ? /VQM model/ : new RegExp(`VQM layer ${layer}`));
      return true;
    },
  );
}

describe("VQM validation", () => {
  it("gives every layer's output shape", () => {
    const network = model(
      [
        conv,
        { kind: "relu", input: 0 },
        { kind: "maxpool2d", input: 1, kernel: [2, 2], stride: [1, 1] },
        { kind: "reshape", input: 2, shape: [1, 27] },
        dense(3, 27, 5),
        { kind: "add", inputs: [4, 4], multipliers: [1, 2 ** 31 - 1], shift: 62, activation: "none" },
        { kind: "argmax", input: 5 },
      ],
      [1, 2, 7, 4],
    );
    // conv: H' = floor((7 + 2 - 3) / 2) + 1 = 4, W' = floor((4 + 1 - 2) / 1) + 1 = 4.
    assert.deepEqual(layerShapes(network), [[1, 3, 4, 4], [1, 3, 4, 4], [1, 3, 3, 3], [1, 27], [1, 5], [1, 5], [1]]);
  });

  it("accepts a valid model and returns its shapes", () => {
    const network = model([dense(-1, 4, 3), { kind: "relu", input: 0 }, dense(1, 3, 2), { kind: "argmax", input: 2 }]);
    assert.deepEqual(validateVqm(network), [[1, 3], [1, 3], [1, 2], [1]]);
  });

  it("computes B_j = |b| + 128 · Σ|W| exactly", () => {
    const bounds = accumulatorBounds(Int8Array.of(-128, 127, 0, -1), Int32Array.of(-(2 ** 31), 5), 2);
    assert.deepEqual(bounds, [2n ** 31n + 128n * 255n, 5n + 128n]);
  });

  it("names the layer and the rule it breaks", () => {
    rejects({ ...model([dense(-1, 4, 3)]), format: "vqm/2" as "vqm/1" }, -1, "format");
    rejects(model([dense(-1, 4, 3)], [2, 4]), -1, "input");
    rejects(model([]), -1, "format");
    rejects(model([dense(-1, 4, 3), dense(2, 3, 3)]), 1, "input-ref");
    rejects(model([dense(-1, 4, 3), dense(0, 4, 3)]), 1, "shape");
    rejects(model([{ kind: "reshape", input: -1, shape: [1, 5] }]), 0, "shape");
    rejects(model([{ kind: "maxpool2d", input: -1, kernel: [2, 2], stride: [1, 1] }]), 0, "shape");
    rejects(model([{ kind: "maxpool2d", input: -1, kernel: [3, 1], stride: [1, 1] }], [1, 1, 2, 2]), 0, "shape");
    rejects(model([conv], [1, 3, 7, 4]), 0, "shape");
    rejects(
      model([dense(-1, 4, 3), { kind: "add", inputs: [-1, 0], multipliers: [1, 1], shift: 0, activation: "none" }]),
      1,
      "shape",
    );
    rejects(model([{ kind: "softmax", input: -1 } as unknown as VqmLayer]), 0, "layer-kind");
    rejects(model([{ kind: "argmax", input: -1 }], [1, 65_526]), -1, "chain-limit");
    rejects(model([dense(-1, 4, 4097)]), -1, "chain-limit");
    rejects(
      model([
        { kind: "argmax", input: -1 },
        { kind: "relu", input: -1 },
      ]),
      0,
      "argmax-last",
    );
    rejects(model([{ ...dense(-1, 4, 3), weights: new Int8Array(11) }]), 0, "parameter-length");
    rejects(model([{ ...dense(-1, 4, 3), bias: new Int32Array(2) }]), 0, "parameter-length");
    rejects(model([{ ...dense(-1, 4, 3), bias: [0, 0, 0] as unknown as Int32Array }]), 0, "parameter-type");
    const badMultiplier = dense(-1, 4, 3);
    badMultiplier.requant.multiplier[1] = -1;
    rejects(model([badMultiplier]), 0, "multiplier-range");
    const badShift = dense(-1, 4, 3);
    badShift.requant.shift[2] = 63;
    rejects(model([badShift]), 0, "shift-range");
    rejects(
      model([{ ...dense(-1, 4, 3), requant: { ...dense(-1, 4, 3).requant, activation: "gelu" as "relu" } }]),
      0,
      "activation",
    );
    rejects(
      model([{ kind: "add", inputs: [-1, -1], multipliers: [2 ** 31, 0], shift: 0, activation: "none" }]),
      0,
      "multiplier-range",
    );
    rejects(
      model([{ kind: "add", inputs: [-1, -1], multipliers: [1, 1], shift: 63, activation: "none" }]),
      0,
      "shift-range",
    );
  });

  it("enforces the accumulator bound at 2^31 exactly", () => {
    // B = |b| + 128 · 4 · 128 = |b| + 65536.
    const atLimit = dense(-1, 4, 1, -128);
    atLimit.bias[0] = 2 ** 31 - 1 - 65536;
    validateVqm(model([atLimit]));
    const over = dense(-1, 4, 1, -128);
    over.bias[0] = -(2 ** 31 - 65536);
    rejects(model([over]), 0, "bound-accumulator");
  });

  it("enforces the requantisation product bound at 2^62 exactly", () => {
    // B = 128 · 4 = 512; B · m + 2^(s-1) < 2^62 with s = 62: m < (2^62 - 2^61) / 512 = 2^52 -> any int32 m fits.
    const fine = dense(-1, 4, 1, 1);
    fine.requant.multiplier[0] = 2 ** 31 - 1;
    fine.requant.shift[0] = 62;
    validateVqm(model([fine]));
    // B = 2^31 - 1 (bias fills the rest): B · (2^31 - 1) = 2^62 - 2^32 + 1; + 2^(s-1) crosses 2^62 from s = 33.
    const edge = dense(-1, 4, 1, 1);
    edge.bias[0] = 2 ** 31 - 1 - 512;
    edge.requant.multiplier[0] = 2 ** 31 - 1;
    edge.requant.shift[0] = 32;
    validateVqm(model([edge]));
    edge.requant.shift[0] = 33;
    rejects(model([edge]), 0, "bound-product");
  });

  it("accepts the largest residual add (bound 3 holds for every int32 multiplier and shift)", () => {
    validateVqm(
      model([
        { kind: "add", inputs: [-1, -1], multipliers: [2 ** 31 - 1, 2 ** 31 - 1], shift: 62, activation: "relu" },
      ]),
    );
  });
});
