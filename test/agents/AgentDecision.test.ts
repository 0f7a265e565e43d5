/**
 * AgentDecision: an output tensor to a decision, never reverting — argmax of int8 and int32
 * outputs (the first on ties), the class of an int32 scalar, a threshold on one element, and
 * `ok == false` for anything it cannot read.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { tensorHex } from "../contracts/helpers.ts";
import { DecisionKind } from "./agent-helpers.ts";

const { ethers, networkHelpers } = await network.create();

async function fixture() {
  return ethers.deployContract("AgentDecisionHarness");
}

type Harness = Awaited<ReturnType<typeof fixture>>;
const decide = async (h: Harness, output: string, kind = 0, index = 0, threshold = 0) => {
  const [ok, decision] = (await h.getFunction("decide")(output, kind, index, threshold)) as [boolean, bigint];
  return ok ? decision : "unreadable";
};

describe("AgentDecision", () => {
  it("argmax of int8 and int32 outputs, the first on ties, any rank", async () => {
    const h = await networkHelpers.loadFixture(fixture);
    // A pseudo-random sweep against the obvious JavaScript argmax.
    let seed = 12345;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (let round = 0; round < 40; round++) {
      const n = 1 + (next() % 12);
      const int8 = Array.from({ length: n }, () => (next() % 7) - 3 - (round % 2) * 125);
      const int32 = Array.from({ length: n + 1 }, () => (next() % 2001) - 1000 - round * 1_000_000);
      const argmax = (xs: number[]) => xs.indexOf(Math.max(...xs));
      expect(await decide(h, tensorHex("int8", [1, n], int8))).to.equal(BigInt(argmax(int8)));
      expect(await decide(h, tensorHex("int32", [n + 1, 1], int32))).to.equal(BigInt(argmax(int32)));
    }
    expect(await decide(h, tensorHex("int8", [2, 2, 2], [1, 9, 9, 2, 9, 0, 0, 0]))).to.equal(1n);
  });

  it("an int32 output of one element is the class itself; a negative one is unreadable", async () => {
    const h = await networkHelpers.loadFixture(fixture);
    expect(await decide(h, tensorHex("int32", [1], [7]))).to.equal(7n);
    expect(await decide(h, tensorHex("int32", [1, 1], [2147483647]))).to.equal(2147483647n);
    expect(await decide(h, tensorHex("int32", [1], [-1]))).to.equal("unreadable");
    // An int8 output of one element is an argmax over one: 0.
    expect(await decide(h, tensorHex("int8", [1], [-7]))).to.equal(0n);
  });

  it("threshold: element `index` at least `threshold` gives 1, else 0; an index out of range is unreadable", async () => {
    const h = await networkHelpers.loadFixture(fixture);
    const t = tensorHex("int32", [1, 3], [-5, 40, 70000]);
    expect(await decide(h, t, DecisionKind.Threshold, 2, 70000)).to.equal(1n);
    expect(await decide(h, t, DecisionKind.Threshold, 2, 70001)).to.equal(0n);
    expect(await decide(h, t, DecisionKind.Threshold, 0, -5)).to.equal(1n);
    expect(await decide(h, t, DecisionKind.Threshold, 0, -4)).to.equal(0n);
    expect(await decide(h, t, DecisionKind.Threshold, 3, 0)).to.equal("unreadable");
    expect(await decide(h, tensorHex("int8", [4], [0, -128, 0, 0]), DecisionKind.Threshold, 1, -128)).to.equal(1n);
  });

  it("unreadable: other dtypes, a bad version, rank or dim, a length that does not match", async () => {
    const h = await networkHelpers.loadFixture(fixture);
    const good = tensorHex("int8", [1, 3], [1, 2, 3]);
    const cases = [
      "0x",
      "0x0101",
      tensorHex("float32", [1, 3], [1, 2, 3]),
      tensorHex("uint8", [1, 3], [1, 2, 3]),
      tensorHex("int64", [1, 3], [1, 2, 3]),
      "0x02" + good.slice(4), // version 2
      "0x010100" + good.slice(8), // rank 0
      "0x010109" + "00000001".repeat(9) + "01", // rank 9
      "0x01010200000000" + "00000003", // a zero dim
      good + "00", // one byte too many
      good.slice(0, -2), // one byte short
      "0x010102" + "01000000" + "01000000", // 2^48 elements claimed
    ];
    for (const output of cases) expect(await decide(h, output)).to.equal("unreadable", output);
  });
});
