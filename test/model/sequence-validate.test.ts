import assert from "node:assert/strict";
import { validateVqm, VqmValidationError } from "../../oracle/model/vqm/validate-vqm.ts";
import type { VqmRule } from "../../oracle/model/vqm/validate-vqm.ts";
import type { SequenceSpec, VqmLayer, VqmModel } from "../../oracle/model/vqm/vqm-model.ts";
import { linearExp, tinyDecoder, tinyLayers } from "./sequence-fixture.ts";

/** The tiny decoder with layer `index` changed by `change` (a partial layer). */
function withLayer(index: number, change: Record<string, unknown>): VqmModel {
  const layers = tinyLayers();
  layers[index] = { ...layers[index]!, ...change } as VqmLayer;
  return tinyDecoder(layers);
}

function withSequence(change: Partial<SequenceSpec>): VqmModel {
  const model = tinyDecoder();
  return { ...model, sequence: { ...model.sequence!, ...change } };
}

function rejects(target: VqmModel, layer: number, rule: VqmRule, message: RegExp): void {
  assert.throws(
    () => validateVqm(target),
    (error: unknown) => {
      assert.ok(error instanceof VqmValidationError, String(error));
      assert.equal(error.rule, rule, error.message);
      assert.equal(error.layer, layer, error.message);
      assert.match(error.message, message);
      return true;
    },
  );
}

/** A decoder whose residual width is `width`: a token embed (V = 3) feeding `rest`, then logits. */
function wide(width: number, rest: (x: number) => VqmLayer[]): VqmModel {
  const layers: VqmLayer[] = [
    { kind: "embed", source: "token", rows: 3, width, table: new Int8Array(3 * width) },
    ...rest(0),
  ];
  const last = layers.length - 1;
  layers.push(
    {
      kind: "dense",
      input: last,
      inFeatures: width,
      outFeatures: 3,
      weights: new Int8Array(3 * width),
      bias: new Int32Array(3),
      requant: { multiplier: new Int32Array(3), shift: new Uint8Array(3), activation: "none" },
    },
    { kind: "argmax", input: last + 1 },
  );
  return tinyDecoder(layers);
}

describe("Sequence validation", () => {
  it("accepts the tiny decoder and gives per-pass shapes", () => {
    assert.deepEqual(validateVqm(tinyDecoder()), [
      [1, 2],
      [1, 2],
      [1, 2],
      [1, 2],
      [1, 2],
      [1, 1, 4],
      [1, 1],
      [1, 1, 4],
      [1, 2],
      [1, 2],
      [1, 3],
      [1],
    ]);
  });

  it("refuses sequence layers outside a decoder, and decoder inputs other than [1, 1] with scale 1", () => {
    const classic: VqmModel = { ...tinyDecoder(), sequence: undefined };
    rejects(classic, 0, "layer-kind", /VQM layer 0: embed is a sequence layer: only a decoder/);
    rejects({ ...tinyDecoder(), input: { shape: [1, 2], scale: 1 } }, -1, "input", /a decoder's input must be/);
    rejects(
      withLayer(3, { input: -1 }),
      3,
      "input-ref",
      /reads the model input \(-1\), which a decoder's layers never do/,
    );
  });

  it("refuses a sequence spec that breaks a rule", () => {
    rejects(
      withSequence({ newTokens: 4 }),
      -1,
      "sequence",
      /promptLength \+ newTokens − 1 = 5 positions, more than C = 4/,
    );
    rejects(withSequence({ bos: 3 }), -1, "sequence", /sequence.bos must be a token id in \[0, 3\)/);
    rejects(withSequence({ vocabSize: 0 }), -1, "sequence", /sequence.vocabSize must be an integer >= 1/);
    rejects(withSequence({ contextLength: 2 ** 17 }), -1, "sequence", /contextLength 131072 is 2\^17 or more/);
  });

  it("refuses a decoder that does not end in an argmax over [1, V]", () => {
    const layers = tinyLayers().slice(0, 11);
    rejects(
      tinyDecoder(layers),
      10,
      "sequence",
      /last layer must be an argmax over \[1, 3\] logits \(vocabSize\), got dense/,
    );
  });

  it("refuses embed tables of the wrong rows or size, and an unknown source", () => {
    rejects(
      withLayer(0, { rows: 2, table: new Int8Array(4) }),
      0,
      "sequence",
      /token embed has 2 rows, expected 3 \(vocabSize V\)/,
    );
    rejects(
      withLayer(1, { rows: 3, table: new Int8Array(6) }),
      1,
      "sequence",
      /position embed has 3 rows, expected 4 \(contextLength C\)/,
    );
    rejects(
      withLayer(0, { table: new Int8Array(5) }),
      0,
      "parameter-length",
      /table has 5 elements, expected 6 \(3 × 2\)/,
    );
    rejects(withLayer(0, { source: "segment" }), 0, "sequence", /embed source must be "token" or "position"/);
  });

  it("refuses a lut table that is not 256 int8", () => {
    rejects(withLayer(9, { table: new Int8Array(255) }), 9, "parameter-length", /table has 255 elements, expected 256/);
    rejects(withLayer(9, { table: new Uint8Array(256) }), 9, "parameter-type", /table must be an Int8Array/);
  });

  it("refuses the qk and av requantisation bounds and qk's head width bound", () => {
    const big = { multiplier: 2 ** 31 - 1, shift: 62 }; // 2^31·m + 2^61 >= 2^62
    rejects(withLayer(5, big), 5, "bound-qk", /qk can overflow the requantisation product/);
    rejects(withLayer(8, big), 8, "bound-av", /av can overflow the requantisation product/);
    rejects(withLayer(5, { multiplier: 2 ** 31 }), 5, "multiplier-range", /outside \[0, 2\^31\)/);
    rejects(withLayer(8, { shift: 63 }), 8, "shift-range", /outside \[0, 62\]/);
    // 2^30 at shift 31 is the largest round multiplier that still fits.
    validateVqm(withLayer(5, { multiplier: 2 ** 31 - 1, shift: 31 }));
    const dh = 2 ** 17; // dh·2^14 = 2^31
    const attention = (x: number): VqmLayer[] => [
      { kind: "qk", query: x, key: x, heads: 1, headDim: dh, multiplier: 1, shift: 0 },
      { kind: "rowmax", input: x + 1 },
      { kind: "softmax", input: x + 1, rowmax: x + 2, exp: linearExp },
      { kind: "av", probs: x + 3, value: x, heads: 1, headDim: dh, multiplier: 1, shift: 0 },
    ];
    rejects(wide(dh, attention), 1, "bound-qk", /headDim 131072 can overflow the int32 accumulator/);
  });

  it("refuses centre wider than 2^15 and normalize's beta, product and epsilon bounds", () => {
    const width = 2 ** 15 + 1;
    const layerNorm = (x: number): VqmLayer[] => [
      { kind: "centre", input: x },
      {
        kind: "normalize",
        input: x + 1,
        gamma: new Int8Array(width),
        beta: new Int32Array(width),
        epsilon: 1n,
        requant: { multiplier: new Int32Array(width), shift: new Uint8Array(width), activation: "none" },
      },
    ];
    rejects(wide(width, layerNorm), 1, "bound-centre", /centre over 32769 elements: D must be <= 2\^15/);
    rejects(
      withLayer(4, { beta: Int32Array.of(0, 2 ** 31 - 2 ** 23) }),
      4,
      "bound-normalize",
      /channel 1 can overflow the int32 accumulator/,
    );
    rejects(
      withLayer(4, {
        beta: Int32Array.of(2 ** 30, 0),
        requant: { multiplier: Int32Array.of(2 ** 31 - 1, 1), shift: Uint8Array.of(62, 0), activation: "none" },
      }),
      4,
      "bound-normalize",
      /channel 0 can overflow the requantisation product/,
    );
    rejects(withLayer(4, { epsilon: 0n }), 4, "epsilon-range", /epsilon is 0, outside \[1, 2\^62\)/);
    rejects(withLayer(4, { epsilon: 2n ** 62n }), 4, "epsilon-range", /outside \[1, 2\^62\)/);
    rejects(withLayer(4, { epsilon: 5 }), 4, "epsilon-range", /outside \[1, 2\^62\) \(a BigInt\)/);
    rejects(withLayer(4, { gamma: new Int8Array(3) }), 4, "parameter-length", /gamma has 3 elements, expected 2/);
  });

  it("refuses a softmax table that is not 256 entries from 2^16 down, non-decreasing", () => {
    const table = (edit: (exp: Uint32Array) => void) => {
      const exp = linearExp.slice();
      edit(exp);
      return withLayer(7, { exp });
    };
    rejects(withLayer(7, { exp: linearExp.slice(0, 255) }), 7, "softmax-table", /exp has 255 entries, expected 256/);
    rejects(
      table((exp) => (exp[255] = 65535)),
      7,
      "softmax-table",
      /exp\[255\] is 65535, must be 2\^16 = 65536/,
    );
    rejects(
      table((exp) => (exp[10] = 70000)),
      7,
      "softmax-table",
      /exp\[10\] is 70000, more than 2\^16/,
    );
    rejects(
      table((exp) => (exp[200] = 0)),
      7,
      "softmax-table",
      /exp decreases at 200/,
    );
    rejects(withLayer(7, { exp: new Int32Array(256) }), 7, "parameter-type", /exp must be an Uint32Array/);
  });

  it("refuses attention reads of the wrong shape or kind", () => {
    rejects(
      withLayer(5, { heads: 2, headDim: 1 }),
      8,
      "shape",
      /av's probs \(layer 7\) must have shape \[1, 1, 4\], got \[1, 2, 4\]/,
    );
    rejects(
      withLayer(5, { headDim: 1 }),
      5,
      "shape",
      /qk's query \(layer 2\) must have shape \[1, 1\] \(heads·headDim\), got \[1, 2\]/,
    );
    rejects(withLayer(8, { value: 4, headDim: 1 }), 8, "shape", /av's value \(layer 4\) must have shape \[1, 1\]/);
    rejects(withLayer(8, { probs: 2 }), 8, "shape", /av's probs \(layer 2\) must have shape \[1, 1, 4\], got \[1, 2\]/);
    rejects(
      withLayer(7, { rowmax: 5 }),
      7,
      "input-ref",
      /softmax's rowmax \(layer 5\) must be a rowmax of its scores \(layer 5\)/,
    );
    rejects(withLayer(7, { input: 2 }), 7, "shape", /softmax needs a rank-3 input/);
    rejects(withLayer(4, { input: 2 }), 4, "input-ref", /normalize reads layer 2, which is not a centre/);
    rejects(
      withLayer(9, { input: 3 }),
      9,
      "input-ref",
      /lut reads layer 3, a centre \(int32\): only a normalize reads a centre/,
    );
  });
});
