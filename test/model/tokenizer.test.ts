/**
 * The tokenizer a decoder folder publishes (vqm/tokenizer.json, bound by the manifest's
 * tokenizerHash): text ↔ ids for characters and words, refusals that name the character, and
 * `readVqm` refusing a tokenizer the manifest does not bind.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import {
  charTokenizer,
  decodeIds,
  encodeText,
  parseTokenizer,
  readTokenizerBytes,
  TokenizerError,
  tokenizerBytes,
} from "../../oracle/model/text/tokenizer.ts";
import { randomTransformer } from "../../oracle/model/vqm/random-transformer.ts";
import { readVqm, VqmFilesError, writeVqm } from "../../oracle/model/vqm/vqm-files.ts";
import { decodeTokens } from "../../oracle/sdk/decode-tokens.ts";
import { encodePrompt, PromptTooLongError } from "../../oracle/sdk/encode-prompt.ts";
import { tempDir } from "../node/helpers.ts";

const names = charTokenizer("abcdefghijklmnopqrstuvwxyz");

function thrown(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected an error");
}

describe("tokenizer: text ↔ token ids of a decoder", () => {
  it("a character tokenizer round-trips text, the boundary first, and decodes up to the first boundary", () => {
    const ids = encodeText(names, "maria");
    expect(ids).to.deep.equal([0, 13, 1, 18, 9, 1]);
    expect(decodeIds(names, ids.slice(1))).to.deep.equal({ text: "maria", ended: false, all: "maria" });
    expect(decodeIds(names, [9, 1, 0, 13, 1])).to.deep.equal({ text: "ia", ended: true, all: "ia.ma" });
    expect(readTokenizerBytes(tokenizerBytes(names))).to.deep.equal(names);
  });

  it("a word tokenizer splits on whitespace and joins with one space", () => {
    const words = parseTokenizer({ kind: "words", tokens: ["<s>", "yes", "no", "maybe"], boundary: 0 });
    expect(encodeText(words, "  yes no\tmaybe ")).to.deep.equal([0, 1, 2, 3]);
    expect(decodeIds(words, [3, 1, 0, 2])).to.deep.equal({ text: "maybe yes", ended: true, all: "maybe yes <s> no" });
    expect(thrown(() => encodeText(words, "yes perhaps")).message).to.include('Word "perhaps" (word 2 of the text)');
  });

  it("refuses a character outside the vocabulary by name and position, and the boundary's own text", () => {
    const error = thrown(() => encodeText(names, "Mar"));
    expect(error).to.be.instanceOf(TokenizerError);
    expect((error as TokenizerError).shortMessage).to.equal(
      'Character "M" (character 1 of the text) is not in the model\'s vocabulary.',
    );
    expect((error as TokenizerError).details[0]).to.equal("Known characters: abcdefghijklmnopqrstuvwxyz");
    expect(thrown(() => encodeText(names, "a.b")).message).to.include('Character "." (character 2');
    expect(thrown(() => decodeIds(names, [27])).message).to.include(
      "Token id 27 is outside the vocabulary (ids 0 … 26)",
    );
  });

  it("refuses malformed tokenizer files, naming the key or token", () => {
    expect(thrown(() => parseTokenizer({ kind: "bpe", tokens: ["a"] })).message).to.include('"kind" is "bpe"');
    expect(thrown(() => parseTokenizer({ kind: "chars", tokens: ["a", "a"] })).message).to.include(
      'token "a" is both id 0 and id 1',
    );
    expect(thrown(() => parseTokenizer({ kind: "chars", tokens: ["ab"] })).message).to.include("is not one character");
    expect(thrown(() => parseTokenizer({ kind: "chars", tokens: ["a"], boundary: 1 })).message).to.include(
      '"boundary" 1 is not a token id (0 … 0)',
    );
    expect(thrown(() => parseTokenizer({ kind: "chars", tokens: ["a"], vocab: 1 })).message).to.include(
      'unknown key "vocab"',
    );
  });

  it("encodePrompt pads with -1 to promptLength and names both lengths when the prompt is too long", () => {
    const { tensor, ids } = encodePrompt({ tokenizer: names, text: "mar", promptLength: 6 });
    expect(ids).to.deep.equal([0, 13, 1, 18]);
    expect(tensor.dtype).to.equal("int32");
    expect(tensor.shape).to.deep.equal([1, 6]);
    expect(Array.from(tensor.data as Int32Array)).to.deep.equal([0, 13, 1, 18, -1, -1]);
    const error = thrown(() => encodePrompt({ tokenizer: names, text: "margaret", promptLength: 6 }));
    expect(error).to.be.instanceOf(PromptTooLongError);
    expect((error as PromptTooLongError).shortMessage).to.equal(
      "The prompt is 9 tokens (with the opening boundary); the model takes at most 6 (its promptLength).",
    );
    const output = { dtype: "int32" as const, shape: [1, 4], data: Int32Array.from([1, 22, 1, 0]) };
    expect(decodeTokens(names, output)).to.deep.equal({ text: "ava", ended: true, all: "ava.", ids: [1, 22, 1, 0] });
  });
});

describe("tokenizer in a decoder folder: bound by the manifest's tokenizerHash", () => {
  const temp = tempDir("verity-tokenizer-");
  after(() => temp.remove());
  const model = randomTransformer({
    seed: 11,
    layers: 1,
    width: 16,
    heads: 2,
    headDim: 8,
    context: 10,
    vocab: 27,
    mlpWidth: 32,
    promptLength: 4,
    newTokens: 5,
  });

  it("writeVqm writes tokenizer.json with its hash and readVqm returns it", async () => {
    const dir = path.join(temp.dir, "ok");
    const manifest = await writeVqm(dir, model, { tokenizer: names });
    expect(manifest.tokenizerHash).to.match(/^0x[0-9a-f]{64}$/);
    const read = await readVqm(dir);
    expect(read.manifest.tokenizerHash).to.equal(manifest.tokenizerHash);
    expect(read.tokenizer).to.deep.equal(names);
  });

  it("readVqm refuses a tokenizer.json edited after the manifest was written, and one the manifest does not bind", async () => {
    const dir = path.join(temp.dir, "edited");
    await writeVqm(dir, model, { tokenizer: names });
    const file = path.join(dir, "tokenizer.json");
    writeFileSync(file, readFileSync(file, "utf8").replace('"a"', '"A"'));
    let error = await readVqm(dir).catch((e: unknown) => e as VqmFilesError);
    expect(error).to.be.instanceOf(VqmFilesError);
    expect((error as VqmFilesError).shortMessage).to.equal(
      "tokenizer.json does not match the manifest's tokenizerHash.",
    );

    const unbound = path.join(temp.dir, "unbound");
    await writeVqm(unbound, model);
    writeFileSync(path.join(unbound, "tokenizer.json"), tokenizerBytes(names));
    error = await readVqm(unbound).catch((e: unknown) => e as VqmFilesError);
    expect((error as VqmFilesError).shortMessage).to.match(/tokenizer\.json is not bound by the manifest/);

    rmSync(file);
    error = await readVqm(dir).catch((e: unknown) => e as VqmFilesError);
    expect((error as VqmFilesError).shortMessage).to.match(/names a tokenizer \(tokenizerHash\) but .* is missing/);
  });

  it("writeVqm refuses a tokenizer whose size is not the decoder's vocabulary", async () => {
    const error = await writeVqm(path.join(temp.dir, "small"), model, { tokenizer: charTokenizer("abc") }).catch(
      (e: unknown) => e as VqmFilesError,
    );
    expect((error as VqmFilesError).shortMessage).to.equal(
      "tokenizer.json has 4 tokens; the decoder's vocabulary has 27.",
    );
  });
});
