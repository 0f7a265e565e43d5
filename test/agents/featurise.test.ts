/**
 * The on-chain text featuriser of the agent demo (contracts/examples/TextFeatures.sol): the
 * spam model's int8 input computed in Solidity equals the TypeScript featuriser followed by the
 * model's input quantisation (featuriseText + quantiseInput), byte for byte, on ASCII text; the
 * quantisation table it reads is exactly what scripts/gen-text-features-table.ts generates.
 */
import { readFile } from "node:fs/promises";
import { expect } from "chai";
import { network } from "hardhat";
import { getBytes, hexlify, toUtf8Bytes } from "ethers";
import type * as Contracts from "../../types/ethers-contracts/index.ts";
import {
  buildInputTable,
  formattedInputTable,
  lookup,
  quantisedCount,
  readScale,
  tablePath,
} from "../../scripts/gen-text-features-table.ts";
import { quantiseInput } from "../../oracle/model/quantise/fixed-point.ts";
import { featuriseText, fnv1a32, tokenise } from "../../oracle/model/text/featurise-text.ts";
import { encodeTensor } from "../../oracle/model/tensor-codec.ts";
import { heldOutMessages, isAscii } from "../examples/spam-corpus.ts";

const { ethers } = await network.create();

/** The TypeScript path: featurise, quantise with the model's input scale, encode canonically. */
function expectedTensor(text: string, scale: number): string {
  const data = quantiseInput(featuriseText(text), scale);
  return hexlify(encodeTensor({ dtype: "int8", shape: [1, 512], data }));
}

function expectedCounts(text: string): number[] {
  const counts = new Array<number>(512).fill(0);
  for (const token of tokenise(text)) counts[fnv1a32(token) % 512]!++;
  return counts;
}

describe("on-chain text featuriser (TextFeatures)", function () {
  this.timeout(120_000);
  const scale = readScale();
  let harness: Contracts.TextFeaturesHarness;

  before(async () => {
    harness = (await ethers.deployContract("TextFeaturesHarness")) as unknown as Contracts.TextFeaturesHarness;
  });

  it("the committed SpamInputTable.sol is what scripts/gen-text-features-table.ts generates", async () => {
    expect(await readFile(tablePath, "utf8")).to.equal(await formattedInputTable());
    const table = buildInputTable(scale);
    expect(table.scale).to.equal(0.06342643883322581);
    for (let c = 0; c < 5 * table.thresholds[127]!; c++) expect(lookup(table, c)).to.equal(quantisedCount(c, scale));
  });

  it("quantises every count as the model's input quantiser does, to past saturation", async () => {
    const table = buildInputTable(scale);
    const top = table.thresholds[127]! + 64;
    const onChain = getBytes(await harness.quantiseRange(0, top));
    expect(Array.from(onChain)).to.deep.equal(Array.from({ length: top }, (_, c) => quantisedCount(c, scale)));
    for (const c of [10_000, 65_535, 1_000_000])
      expect(getBytes(await harness.quantiseRange(c, c + 1))[0]).to.equal(127);
    expect(quantisedCount(1, scale)).to.equal(11);
    expect(quantisedCount(table.thresholds[127]! - 1, scale)).to.equal(126);
  });

  it("tokenises and hashes as featuriseText on ASCII: case, digits, lengths, separators, ends", async () => {
    const texts = [
      "",
      "a",
      "ab",
      "FREE money!!! Call 0800-123 now, a b",
      "win win WIN cash",
      `x${"y".repeat(23)} ${"z".repeat(25)} ${"q".repeat(24)}`,
      "tabs\tand\nnew\r\nlines; under_scores and-dashes @at #hash 'quotes' [brackets] {braces} ~tilde`back",
      "Z9 9Z AZaz09 @[`{ /:",
      "ends with a token",
      "  leading and trailing spaces  ",
      Array.from({ length: 128 }, (_, i) => String.fromCharCode(i)).join(""),
    ];
    for (const text of texts) {
      const counts = (await harness.countsOf(toUtf8Bytes(text))).map(Number);
      expect(counts, JSON.stringify(text)).to.deep.equal(expectedCounts(text));
      expect(await harness.tensorOf(toUtf8Bytes(text)), JSON.stringify(text)).to.equal(expectedTensor(text, scale));
    }
    // The empty text: the header and 512 zeros.
    expect(await harness.tensorOf("0x")).to.equal("0x0101020000000100000200" + "00".repeat(512));
    // One token repeated past saturation.
    const many = "spam ".repeat(3100);
    expect(await harness.tensorOf(toUtf8Bytes(many))).to.equal(expectedTensor(many, scale));
  });

  it("separates tokens at non-ASCII bytes, where the TypeScript featuriser keeps Unicode letters", async () => {
    const text = "café naïve ok";
    const counts = (await harness.countsOf(toUtf8Bytes(text))).map(Number);
    // On-chain tokens: "caf", "na", "ve", "ok" ("ï" and "é" are two bytes >= 0x80 each).
    expect(counts).to.deep.equal(expectedCounts("caf na ve ok"));
    expect(counts).to.not.deep.equal(expectedCounts(text));
  });

  it("equals featuriseText + quantiseInput byte for byte on every ASCII held-out mail a guestbook post can hold", async () => {
    // The ASCII held-out mails of at most Guestbook.MAX_TEXT_BYTES (4,096) bytes: 921 of the 1,100.
    const messages = (await heldOutMessages()).filter((m) => isAscii(m.text) && m.text.length <= 4096);
    expect(messages.length).to.be.above(900);
    let bytes = 0;
    for (const { index, text } of messages) {
      bytes += text.length;
      expect(await harness.tensorOf(toUtf8Bytes(text)), `message ${index}`).to.equal(expectedTensor(text, scale));
    }
    console.log(`      ${messages.length} messages, ${bytes} bytes of text`);
  });
});
