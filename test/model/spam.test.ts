import { existsSync, readFileSync } from "node:fs";
import { expect } from "chai";
import { keccak256 } from "ethers";
import { buildSpam } from "../../models/spam/build-spam.ts";
import type { SpamMetadata } from "../../models/spam/build-spam.ts";
import { quantiseInput } from "../../oracle/model/quantise/fixed-point.ts";
import { featuriseText, fnv1a32, messageBody, tokenise } from "../../oracle/model/text/featurise-text.ts";
import { readVqm } from "../../oracle/model/vqm/vqm-files.ts";
import { executeVqm } from "../../oracle/model/vqm/reference-executor.ts";
import { fallbackCorpus } from "./spam-fallback-corpus.ts";

const at = (path: string) => new URL(`../../models/spam/${path}`, import.meta.url);

describe("text featuriser", () => {
  it("tokenises lower-cased letter/digit runs of 2 to 24 characters", () => {
    expect(tokenise("FREE money!!! Call 0800-123 now, a b Ünïcödé")).to.deep.equal([
      "free",
      "money",
      "call",
      "0800",
      "123",
      "now",
      "ünïcödé",
    ]);
    expect(tokenise(`x${"y".repeat(30)}`)).to.deep.equal([]);
  });

  it("hashes with 32-bit FNV-1a and buckets log(1 + count)", () => {
    expect(fnv1a32("")).to.equal(0x811c9dc5);
    expect(fnv1a32("a")).to.equal(0xe40c292c);
    expect(fnv1a32("foobar")).to.equal(0xbf9cf968);
    const features = featuriseText("win win WIN cash", 16);
    expect(features).to.have.length(16);
    expect(features[fnv1a32("win") % 16]).to.equal(Math.log1p(fnv1a32("cash") % 16 === fnv1a32("win") % 16 ? 4 : 3));
    expect(features.filter((v) => v > 0).length).to.be.within(1, 2);
  });

  it("reads the body of a mail message", () => {
    expect(messageBody("Subject: hi\r\nFrom: a\r\n\r\nbody\n\nmore")).to.equal("body\n\nmore");
    expect(messageBody("no headers")).to.equal("no headers");
  });
});

describe("spam pipeline", () => {
  it("is deterministic, and the integer model stays within 2 points of the float one (synthetic corpus)", () => {
    const messages = fallbackCorpus();
    const a = buildSpam({ messages, settings: { epochs: 6 } });
    const b = buildSpam({ messages, settings: { epochs: 6 } });
    expect(Buffer.from(a.onnx).equals(Buffer.from(b.onnx))).to.equal(true);
    expect(a.metadata.vqm.modelHash).to.equal(b.metadata.vqm.modelHash);
    expect(a.metadata.heldOutAccuracy).to.be.above(0.7);
    expect(Math.abs(a.metadata.intHeldOutAccuracy - a.metadata.heldOutAccuracy)).to.be.at.most(0.02);
    const sample = a.metadata.samples[0]!;
    expect(Array.from(quantiseInput(sample.features, a.vqm.input.scale))).to.deep.equal(sample.int8Input);
  });

  // The demo artifacts exist once models/spam/train.ts has run on the SpamAssassin corpus.
  const committed = existsSync(at("spam.json"));
  (committed ? it : it.skip)("the committed spam model: hashes and held-out accuracy, float vs int8", async () => {
    const metadata = JSON.parse(readFileSync(at("spam.json"), "utf8")) as SpamMetadata;
    expect(keccak256(new Uint8Array(readFileSync(at("spam.onnx"))))).to.equal(metadata.modelHash);
    const { model, manifest } = await readVqm(at("vqm").pathname);
    expect(manifest.modelHash).to.equal(metadata.vqm.modelHash);
    expect(Math.abs(metadata.intHeldOutAccuracy - metadata.heldOutAccuracy)).to.be.at.most(0.02);
    for (const sample of metadata.samples) {
      const { output } = executeVqm(model, {
        dtype: "int8",
        shape: model.input.shape,
        data: Int8Array.from(sample.int8Input),
      });
      expect(output.data).to.have.length(2);
    }
  });
});
