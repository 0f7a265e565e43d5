import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { assertClose } from "../util/assert-close.ts";
import { loadNamesCorpus } from "../../models/names/names-data.ts";
import type { OnnxGraph, OnnxNode } from "../../oracle/model/onnx/onnx-model.ts";
import { readOnnx } from "../../oracle/model/onnx/read-onnx.ts";
import { writeOnnx } from "../../oracle/model/onnx/write-onnx.ts";
import { compileDecoderVqm, parseDecoderCalibration } from "../../oracle/model/quantise/compile-vqm.ts";
import { isDecoderGraph, lowerDecoder } from "../../oracle/model/quantise/float-decoder.ts";
import { UnsupportedOpError } from "../../oracle/model/quantise/float-network.ts";
import { runFloatDecoder } from "../../oracle/model/quantise/run-float-decoder.ts";
import { createTensor } from "../../oracle/model/tensor.ts";
import { charVocabulary, encodeSequence } from "../../oracle/model/text/char-vocabulary.ts";
import { charTokenizer } from "../../oracle/model/text/tokenizer.ts";
import { readVqm } from "../../oracle/model/vqm/vqm-files.ts";
import { initGptWeights } from "../../oracle/model/train/gpt.ts";
import type { GptConfig } from "../../oracle/model/train/gpt.ts";
import { transformerOnnxGraph } from "../../oracle/model/train/transformer-onnx.ts";
import { generateVqm } from "../../oracle/model/vqm/sequence-executor.ts";
import { validateVqm } from "../../oracle/model/vqm/validate-vqm.ts";
import { createSession } from "../../oracle/runtime/create-session.ts";
import { runInference } from "../../oracle/runtime/run-inference.ts";

const exec = promisify(execFile);
const root = path.resolve(import.meta.dirname, "../..");
const namesOnnx = new Uint8Array(readFileSync(new URL("../../models/names/names.onnx", import.meta.url)));
const vocabulary = charVocabulary("abcdefghijklmnopqrstuvwxyz");

describe("decoder compiler: names.onnx", function () {
  this.timeout(60_000);
  const onnx = readOnnx(namesOnnx);
  const corpus = loadNamesCorpus();

  it("lowers to a per-pass decoder whose float64 logits match onnxruntime's full-sequence logits within 1e-4", async () => {
    const decoder = lowerDecoder(onnx);
    const C = decoder.contextLength;
    const V = decoder.vocabSize;
    const session = await createSession({ model: namesOnnx, threads: 1, graphOptimizationLevel: "disabled" });
    try {
      for (const name of ["ava", "christopher", "zz", "maximilianus"]) {
        const ids = Array.from({ length: C }, (_, t) => encodeSequence(vocabulary, name)[t] ?? 0);
        const expected = (await runInference(session, createTensor("int64", [1, C], ids))).data as Float32Array;
        runFloatDecoder(decoder, ids).forEach((pass, t) =>
          pass[decoder.logitsLayer]!.forEach((v, i) => expect(Math.abs(v - expected[t * V + i]!)).to.be.below(1e-4)),
        );
      }
    } finally {
      await session.release();
    }
  });

  it("compiles with 50 calibration names: valid, generates, agrees with float on held-out names (≥ 96.5 % top-1)", () => {
    expect(isDecoderGraph(onnx)).to.equal(true);
    const prompts = corpus.train.filter((_, i) => i % 150 === 0).map((name) => encodeSequence(vocabulary, name));
    const heldOut = corpus.heldOut.map((name) => encodeSequence(vocabulary, name));
    const { model, agreement } = compileDecoderVqm({ onnx, prompts, heldOut });
    validateVqm(model);
    expect(model.sequence).to.deep.include({ contextLength: 16, vocabSize: 27, bos: 0 });
    const prompt = Int32Array.from({ length: model.sequence!.promptLength }, (_, k) => [0, 1, 12][k] ?? -1);
    const { output, tokens } = generateVqm(model, { dtype: "int32", shape: [1, prompt.length], data: prompt });
    expect(output.data.length).to.equal(model.sequence!.newTokens);
    expect(tokens.every((id) => id >= 0 && id < 27)).to.equal(true);
    // Measured: 97.0 % over the 5893 held-out positions (96.0 % before activations were centred by
    // offsets), integer loss within 0.002 nats of float. The goal, 98 %, is not met: the
    // floor guards what is (docs/numeric-semantics.md, "Decoders").
    expect(agreement.positions).to.be.greaterThan(5000);
    expect(agreement.top1Agreement).to.be.at.least(0.965);
    expect(Math.abs(agreement.integerLoss - agreement.floatLoss)).to.be.below(0.02);
  });

  it("reads a decoder calibration file of token-id prompts and refuses anything else", () => {
    expect(parseDecoderCalibration('{"prompts":[[0,1,2,0]]}').prompts).to.deep.equal([[0, 1, 2, 0]]);
    expect(() => parseDecoderCalibration('{"inputs":[[0.5]]}')).to.throw("prompts");
    expect(() => parseDecoderCalibration('{"prompts":[[-1]]}')).to.throw("prompts");
  });
});

describe("verity model compile: a decoder folder with its tokenizer (CLI)", function () {
  this.timeout(60_000);
  const dir = mkdtempSync(path.join(tmpdir(), "verity-compile-decoder-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const verity = async (args: string[]) =>
    exec(process.execPath, [path.join(root, "bin/verity.js"), ...args], { cwd: root }).then(
      ({ stdout, stderr }) => ({ stdout, stderr, code: 0 }),
      (error: { stdout: string; stderr: string; code: number }) => error,
    );

  it("--tokenizer FILE puts the tokenizer into the folder, bound by the manifest; a classifier refuses it", async () => {
    const corpus = loadNamesCorpus();
    const calibration = path.join(dir, "prompts.json");
    const prompts = corpus.train.filter((_, i) => i % 400 === 0).map((name) => encodeSequence(vocabulary, name));
    writeFileSync(calibration, JSON.stringify({ prompts }));
    const out = path.join(dir, "names");
    const compiled = await verity([
      "model",
      "compile",
      "models/names/names.onnx",
      "--calibration",
      calibration,
      "--out",
      out,
      "--tokenizer",
      "models/names/tokenizer.json",
    ]);
    expect(compiled.stderr).to.equal("");
    expect(compiled.stdout).to.include(`wrote ${path.join(out, "vqm")} in `);
    const folder = await readVqm(path.join(out, "vqm"));
    expect(folder.tokenizer).to.deep.equal(charTokenizer("abcdefghijklmnopqrstuvwxyz"));
    expect(folder.manifest.tokenizerHash).to.match(/^0x[0-9a-f]{64}$/);

    const refused = await verity([
      "model",
      "compile",
      "models/iris/iris.onnx",
      "--calibration",
      "models/iris/calibration.json",
      "--out",
      path.join(dir, "iris"),
      "--tokenizer",
      "models/names/tokenizer.json",
    ]);
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.match(
      /^error: --tokenizer is for decoders \(text generation\); this model is not one\.\n/,
    );
  });
});

describe("decoder compiler: refusals by node and op", () => {
  const config: GptConfig = {
    vocabSize: 5,
    contextLength: 4,
    width: 8,
    heads: 2,
    layers: 1,
    mlpRatio: 2,
    layerNormEpsilon: 1e-5,
  };
  const base = () => transformerOnnxGraph({ config, weights: initGptWeights(config, 3), name: "tiny" });
  const lower = (graph: OnnxGraph) => lowerDecoder(readOnnx(writeOnnx({ graph })));
  const refusal = (graph: OnnxGraph): UnsupportedOpError => {
    try {
      lower(graph);
    } catch (error) {
      expect(error).to.be.instanceOf(UnsupportedOpError);
      return error as UnsupportedOpError;
    }
    return expect.fail("expected an UnsupportedOpError");
  };
  const node = (graph: OnnxGraph, suffix: string): OnnxNode => graph.nodes.find((n) => n.name.endsWith(suffix))!;
  /** Rewires every reader of `from` to read `to` instead. */
  const rewire = (graph: OnnxGraph, from: string, to: string) => {
    for (const n of graph.nodes) n.inputs = n.inputs.map((input) => (input === from ? to : input));
  };

  it("takes the exporter's tiny graph, and its decomposed layer norm gives the same logits", () => {
    const graph = base();
    const ids = [0, 3, 1, 4];
    const expected = runFloatDecoder(lower(graph), ids);
    // ln_f as ReduceMean / Sub / Pow / ReduceMean / Add ε / Sqrt / Div / Mul γ / Add β.
    const ln = node(graph, "/transformer/ln_f/LayerNormalization");
    const [x, gamma, beta] = ln.inputs as [string, string, string];
    const f = (name: string) => ({ name, tensor: createTensor("float32", [1], [name === "ln.two" ? 2 : 1e-5]) });
    graph.initializers.push(f("ln.two"), f("ln.eps"));
    const op = (name: string, opType: string, inputs: string[], attributes?: OnnxNode["attributes"]): OnnxNode => ({
      name: `/ln/${name}`,
      opType,
      inputs,
      outputs: [`/ln/${name}_out`],
      ...(attributes ? { attributes } : {}),
    });
    const axes: OnnxNode["attributes"] = { axes: { type: "ints", value: [-1] } };
    const decomposed = [
      op("mean", "ReduceMean", [x], axes),
      op("sub", "Sub", [x, "/ln/mean_out"]),
      op("pow", "Pow", ["/ln/sub_out", "ln.two"]),
      op("var", "ReduceMean", ["/ln/pow_out"], axes),
      op("eps", "Add", ["/ln/var_out", "ln.eps"]),
      op("sqrt", "Sqrt", ["/ln/eps_out"]),
      op("div", "Div", ["/ln/sub_out", "/ln/sqrt_out"]),
      op("gamma", "Mul", ["/ln/div_out", gamma]),
      { ...op("beta", "Add", ["/ln/gamma_out", beta]), outputs: ln.outputs },
    ];
    graph.nodes.splice(graph.nodes.indexOf(ln), 1, ...decomposed);
    const actual = runFloatDecoder(lower(graph), ids);
    actual.forEach((pass, t) =>
      pass.at(-2)!.forEach((v, i) => assertClose(v, expected[t]!.at(-2)![i]!, 1e-9, `pass ${t} logit ${i}`)),
    );
  });

  it("refuses a KV-cache input at the node that reads it", () => {
    const graph = base();
    graph.inputs.push({ name: "past_key_values.0.key", dtype: "float32", shape: [1, 2, 3, 4] });
    const keys = node(graph, "attn/key/Transpose").outputs[0]!;
    graph.nodes.splice(graph.nodes.indexOf(node(graph, "attn/scores/MatMul")), 0, {
      name: "/transformer/h.0/attn/Concat",
      opType: "Concat",
      inputs: ["past_key_values.0.key", keys],
      outputs: ["present.0.key"],
      attributes: { axis: { type: "int", value: -1 } },
    });
    node(graph, "attn/scores/MatMul").inputs[1] = "present.0.key";
    const error = refusal(graph);
    expect(error.opType).to.equal("Concat");
    expect(error.node).to.equal("/transformer/h.0/attn/Concat");
    expect(error.message).to.include("KV-cache");
  });

  it("refuses an attention-mask input by name, not as a KV cache", () => {
    const graph = base();
    graph.inputs.push({ name: "attention_mask", dtype: "float32", shape: [1, 4] });
    const scores = node(graph, "attn/scores/MatMul");
    graph.nodes.splice(graph.nodes.indexOf(scores) + 1, 0, {
      name: "/transformer/h.0/attn/MaskAdd",
      opType: "Add",
      inputs: [scores.outputs[0]!, "attention_mask"],
      outputs: ["masked"],
    });
    const error = refusal(graph);
    expect(error.node).to.equal("/transformer/h.0/attn/MaskAdd");
    expect(error.message).to.include("attention-mask input");
    expect(error.message).not.to.include("KV-cache");
  });

  it("refuses sampling", () => {
    const graph = base();
    graph.nodes.push({ name: "/sample/Multinomial", opType: "Multinomial", inputs: ["logits"], outputs: ["sampled"] });
    graph.outputs = [{ name: "sampled", dtype: "int32", shape: [1, 1] }];
    const error = refusal(graph);
    expect([error.opType, error.node]).to.deep.equal(["Multinomial", "/sample/Multinomial"]);
    expect(error.message).to.include("sampling");
  });

  it("refuses attention without a causal mask (non-causal) at its Softmax", () => {
    const graph = base();
    const mask = node(graph, "attn/causal_mask/Add");
    graph.nodes.splice(graph.nodes.indexOf(mask), 1);
    rewire(graph, mask.outputs[0]!, mask.inputs[0]!);
    const error = refusal(graph);
    expect([error.opType, error.node]).to.deep.equal(["Softmax", "/transformer/h.0/attn/Softmax"]);
    expect(error.message).to.include("non-causal");
  });

  it("refuses a mask that is not causal (a bidirectional block) at its Add", () => {
    const graph = base();
    const mask = graph.initializers.find(({ name }) => name === "attn.causal_mask")!;
    mask.tensor = createTensor("float32", [1, 1, 4, 4], new Array(16).fill(0));
    const error = refusal(graph);
    expect([error.opType, error.node]).to.deep.equal(["Add", "/transformer/h.0/attn/causal_mask/Add"]);
    expect(error.message).to.include("not causal");
  });

  it("refuses a Where-based mask and an op it does not know, by name", () => {
    const graph = base();
    const mask = node(graph, "attn/causal_mask/Add");
    graph.initializers.push({ name: "cond", tensor: createTensor("uint8", [1, 1, 4, 4], new Array(16).fill(1)) });
    Object.assign(mask, { opType: "Where", inputs: ["cond", mask.inputs[0]!, "attn.causal_mask"] });
    expect(refusal(graph).opType).to.equal("Where");

    const other = base();
    Object.assign(node(other, "attn/Softmax"), { opType: "LogSoftmax" });
    const error = refusal(other);
    expect([error.opType, error.node]).to.deep.equal(["LogSoftmax", "/transformer/h.0/attn/Softmax"]);
  });
});
