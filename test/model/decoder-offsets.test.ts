import { readFileSync } from "node:fs";
import { expect } from "chai";
import { assertClose } from "../util/assert-close.ts";
import { loadNamesCorpus } from "../../models/names/names-data.ts";
import { readOnnx } from "../../oracle/model/onnx/read-onnx.ts";
import { chooseOffsets, shiftDecoder } from "../../oracle/model/quantise/decoder-offsets.ts";
import { lowerDecoder } from "../../oracle/model/quantise/float-decoder.ts";
import { calibrateDecoder, quantiseDecoder } from "../../oracle/model/quantise/quantise-decoder.ts";
import { runFloatDecoder } from "../../oracle/model/quantise/run-float-decoder.ts";
import { charVocabulary, encodeSequence } from "../../oracle/model/text/char-vocabulary.ts";

const vocabulary = charVocabulary("abcdefghijklmnopqrstuvwxyz");

describe("decoder offsets: lopsided activations centred, the float function unchanged", function () {
  this.timeout(60_000);
  const onnx = readOnnx(new Uint8Array(readFileSync(new URL("../../models/names/names.onnx", import.meta.url))));
  const corpus = loadNamesCorpus();
  const prompts = corpus.train.filter((_, i) => i % 150 === 0).map((name) => encodeSequence(vocabulary, name));
  const decoder = lowerDecoder(onnx);
  const bounds = calibrateDecoder(decoder, prompts);
  const offsets = chooseOffsets(decoder, bounds);
  const kinds = decoder.layers.map((layer) => layer.kind);
  const moved = (kind: string) => offsets.filter((o, i) => kinds[i] === kind && o !== 0).length;

  it("moves GELU outputs, the MLP inputs, the residual stream and the logits; never an attention input or an embedding", () => {
    expect(moved("lut")).to.equal(2);
    // The MLP's first projection (read by the GELU table) and the logits (read by the argmax).
    decoder.layers.forEach((layer) => {
      if (layer.kind === "lut") expect(offsets[layer.input], `GELU input ${layer.input}`).to.not.equal(0);
    });
    expect(offsets[decoder.logitsLayer]).to.not.equal(0);
    // The residual adds after the first block's MLP: their range [−9.7, 5.2] is centred.
    decoder.layers.forEach((layer, i) => {
      if (layer.kind === "add" && i > 2) {
        const centred = [bounds.lo[i]! + offsets[i]!, bounds.hi[i]! + offsets[i]!];
        assertClose(centred[0]!, -centred[1]!, 1e-9, `add ${i} centred`);
      }
      if (layer.kind === "qk") {
        expect(offsets[layer.query]).to.equal(0);
        expect(offsets[layer.key]).to.equal(0);
      }
      if (layer.kind === "av") expect(offsets[layer.value]).to.equal(0);
      if (["embed", "qk", "rowmax", "softmax", "av", "centre", "argmax"].includes(layer.kind))
        expect(offsets[i], `layer ${i} (${layer.kind})`).to.equal(0);
    });
    // A GELU's output [−0.17, 3.95] would use 5 of the 128 negative levels; centred it uses all.
    const gelu = kinds.indexOf("lut");
    assertClose(bounds.hi[gelu]! + offsets[gelu]!, -(bounds.lo[gelu]! + offsets[gelu]!), 1e-9, "GELU centred");
  });

  it("the shifted decoder is the same function: every layer is the float one plus its offset, the next token the same", () => {
    const shifted = shiftDecoder(decoder, offsets);
    for (const name of corpus.heldOut.slice(0, 40)) {
      const ids = encodeSequence(vocabulary, name).slice(0, decoder.contextLength);
      const [a, b] = [runFloatDecoder(decoder, ids), runFloatDecoder(shifted, ids)];
      a.forEach((pass, t) =>
        pass.forEach((output, layer) =>
          output.forEach((v, k) => {
            if (Number.isFinite(v))
              assertClose(b[t]![layer]![k]!, v + offsets[layer]!, 1e-9, `pass ${t} layer ${layer}`);
          }),
        ),
      );
    }
  });

  it("a dense layer reading a moved input takes the offset out with its rounded weights (bias corrected)", () => {
    // The MLP's output projection reads the centred GELU output x + o. Its integer accumulator
    // must be the float projection of x with the rounded weights: b + o_out + s_w·Σ W_q·x, the
    // offset gone to within the bias's own rounding (without the correction it would be off by
    // o·Σ (W − s_w·W_q), thousands of steps).
    const { model, scales, offsets: used } = quantiseDecoder({ onnx, prompts });
    const gelu = kinds.indexOf("lut");
    const proj = kinds.findIndex((kind, i) => kind === "dense" && i > gelu);
    const [layer, float] = [model.layers[proj]!, decoder.layers[proj]!];
    if (layer.kind !== "dense" || float.kind !== "dense") return expect.fail("expected a dense layer after the GELU");
    const { inFeatures, weights, bias, requant } = layer;
    const sIn = scales[gelu]!;
    expect(used[gelu]).to.not.equal(0);
    for (const q of [-100, 0, 37, 127]) {
      const x = q * sIn - used[gelu]!; // the float GELU output whose moved value is the integer q
      for (let j = 0; j < layer.outFeatures; j++) {
        const sw = ((requant.multiplier[j]! / 2 ** requant.shift[j]!) * scales[proj]!) / sIn;
        let accumulator = bias[j]!;
        let rounded = 0;
        for (let i = 0; i < inFeatures; i++) {
          accumulator += q * weights[j * inFeatures + i]!;
          rounded += sw * weights[j * inFeatures + i]! * x;
        }
        const expected = float.bias[j]! + used[proj]! + rounded;
        assertClose(accumulator * sIn * sw, expected, 0.51 * sIn * sw + 1e-9, `q ${q} channel ${j}`);
      }
    }
  });
});
