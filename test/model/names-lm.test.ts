import { readFileSync } from "node:fs";
import { expect } from "chai";
import { assertClose } from "../util/assert-close.ts";
import { keccak256 } from "ethers";
import type { NamesMetadata } from "../../models/names/build-names.ts";
import { loadNamesCorpus } from "../../models/names/names-data.ts";
import { generateName, positionLogits, scoreNames } from "../../models/names/names-lm.ts";
import type { NamesLm } from "../../models/names/names-lm.ts";
import { readOnnx } from "../../oracle/model/onnx/read-onnx.ts";
import { writeOnnx } from "../../oracle/model/onnx/write-onnx.ts";
import {
  CharVocabularyError,
  charVocabulary,
  decodeIds,
  encodePrompt,
  encodeSequence,
} from "../../oracle/model/text/char-vocabulary.ts";
import { gptLogits, gptTensors, tf, useTfjsWasm } from "../../oracle/model/train/gpt-tfjs.ts";
import { transformerOnnxGraph, gptWeightsOfOnnx } from "../../oracle/model/train/transformer-onnx.ts";
import { createSession } from "../../oracle/runtime/create-session.ts";

const at = (path: string) => new URL(`../../models/names/${path}`, import.meta.url);

describe("char vocabulary", () => {
  const vocabulary = charVocabulary("abc");

  it("puts the boundary at id 0 and wraps a sequence in it", () => {
    expect(vocabulary.tokens).to.deep.equal([".", "a", "b", "c"]);
    expect(encodeSequence(vocabulary, "cab")).to.deep.equal([0, 3, 1, 2, 0]);
    expect(encodePrompt(vocabulary, "")).to.deep.equal([0]);
    expect(decodeIds(vocabulary, [0, 3, 1, 2, 0])).to.equal("cab");
  });

  it("refuses characters outside the alphabet and ids outside the vocabulary", () => {
    expect(() => encodePrompt(vocabulary, "ad")).to.throw(CharVocabularyError, 'Character "d"');
    expect(() => decodeIds(vocabulary, [4])).to.throw(CharVocabularyError, "Token id 4");
    expect(() => charVocabulary("aa")).to.throw(CharVocabularyError);
  });
});

describe("names language model (committed names.onnx)", function () {
  this.timeout(20_000);
  const bytes = new Uint8Array(readFileSync(at("names.onnx")));
  const metadata = JSON.parse(readFileSync(at("names.json"), "utf8")) as NamesMetadata;
  const model = readOnnx(bytes);
  const { config } = metadata;
  const vocabulary = { tokens: metadata.vocabulary.tokens, boundaryId: metadata.vocabulary.boundaryId };
  const corpus = loadNamesCorpus();
  let lm: NamesLm;

  before(async () => {
    const session = await createSession({ model: bytes, threads: 1, graphOptimizationLevel: "disabled" });
    lm = { session, vocabulary, contextLength: metadata.contextLength };
  });
  after(async () => lm?.session.release());

  it("is the graph the exporter writes for its own weights: GPT-2-shaped, opset 17, every node named", () => {
    expect(keccak256(bytes)).to.equal(metadata.modelHash);
    const weights = gptWeightsOfOnnx(model, config);
    const again = writeOnnx({
      graph: transformerOnnxGraph({ config, weights, name: model.graph.name }),
      opsetVersion: 17,
    });
    expect(Buffer.from(again).equals(Buffer.from(bytes))).to.equal(true);
    expect(model.opsetVersion).to.equal(17);
    expect(model.graph.inputs).to.deep.equal([{ name: "input_ids", dtype: "int64", shape: [1, config.contextLength] }]);
    expect(model.graph.outputs).to.deep.equal([
      { name: "logits", dtype: "float32", shape: [1, config.contextLength, config.vocabSize] },
    ]);
    const names = model.graph.nodes.map((node) => node.name);
    expect(new Set(names).size).to.equal(names.length);
    expect(names.every((name) => name.startsWith("/"))).to.equal(true);
    const block0 = model.graph.nodes.filter((node) => node.name.startsWith("/transformer/h.0/")).map((n) => n.opType);
    expect(block0).to.deep.equal([
      ...["LayerNormalization", "MatMul", "Add", "Split"],
      ...["Reshape", "Transpose", "Reshape", "Transpose", "Reshape", "Transpose"],
      ...["MatMul", "Div", "Add", "Softmax", "MatMul", "Transpose", "Reshape", "MatMul", "Add", "Add"],
      ...["LayerNormalization", "MatMul", "Add", "Div", "Erf", "Add", "Mul", "Mul", "MatMul", "Add", "Add"],
    ]);
  });

  it("onnxruntime's logits equal the tfjs forward of the same weights within 1e-4", async () => {
    await useTfjsWasm();
    const C = config.contextLength;
    const names = corpus.heldOut.filter((_, i) => i % 160 === 0); // a few, spread over the alphabet
    const rows = names.map((name) =>
      Array.from({ length: C }, (_, t) => encodePrompt(vocabulary, name)[t] ?? vocabulary.boundaryId),
    );
    const tensors = gptTensors(gptWeightsOfOnnx(model, config));
    const ids = tf.tensor2d(rows.flat(), [rows.length, C], "int32");
    const expected = gptLogits(config, tensors, ids).arraySync();
    tf.dispose([ids, ...tensors.values()]);
    let largest = 0;
    for (const [row, idsOfRow] of rows.entries()) {
      const actual = await positionLogits(lm, idsOfRow);
      actual.forEach((logits, t) =>
        logits.forEach((value, v) => (largest = Math.max(largest, Math.abs(value - expected[row]![t]![v]!)))),
      );
    }
    expect(largest).to.be.below(1e-4);
  });

  it("the recorded held-out loss and top-1 accuracy are what onnxruntime gives over the held-out names", async () => {
    expect(corpus.heldOut).to.have.length(metadata.heldOut.names);
    expect(corpus.packageVersions).to.deep.equal(metadata.data.packages);
    const score = await scoreNames(lm, corpus.heldOut);
    expect(score.tokens).to.equal(metadata.heldOut.tokens);
    assertClose(score.loss, metadata.heldOut.loss, 1e-6, "held-out loss");
    assertClose(score.accuracy, metadata.heldOut.accuracy, 1e-9, "held-out accuracy");
    // Far better than the uniform guess ln 27 ≈ 3.30 nats and the letter-frequency one (≈ 2.9).
    expect(score.loss).to.be.below(2.2);
  });

  it("greedy generation continues prompts into plausible names, the ones names.json records", async () => {
    for (const [prompt, recorded] of Object.entries(metadata.greedy)) {
      const name = await generateName(lm, prompt);
      expect(name).to.equal(recorded);
      expect(name.startsWith(prompt)).to.equal(true);
      expect(name).to.match(/^[a-z]{3,12}$/);
      expect(name).to.match(/[aeiouy]/);
    }
  });
});
