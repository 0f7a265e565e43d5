/**
 * The agent demo's guestbook (contracts/examples/Guestbook.sol): posts stored as data contracts,
 * a guard set once that gets one task per post and alone hides posts, and `featuresOf`, the
 * spam model's input computed on-chain from the stored text, equal byte for byte to the
 * TypeScript featuriser and quantiser on held-out mails of the spam corpus (and so classified
 * alike by the model's reference executor). A stub stands in for the guard agent; the gas of
 * `post` and `featuresOf` per byte of text is measured and printed.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { AbiCoder, getBytes, hexlify, toUtf8Bytes } from "ethers";
import type * as Contracts from "../../types/ethers-contracts/index.ts";
import { quantiseInput } from "../../oracle/model/quantise/fixed-point.ts";
import { featuriseText } from "../../oracle/model/text/featurise-text.ts";
import { decodeTensor, encodeTensor } from "../../oracle/model/tensor-codec.ts";
import { executeVqm } from "../../oracle/model/vqm/reference-executor.ts";
import { readVqm } from "../../oracle/model/vqm/vqm-files.ts";
import { heldOutMessages, isAscii, type HeldOutMessage } from "./spam-corpus.ts";

const { ethers, networkHelpers } = await network.create();
const MAX_UINT = 2n ** 256n - 1n;
const MAX_TEXT_BYTES = 4096;
const coder = AbiCoder.defaultAbiCoder();

async function fixture() {
  const [deployer, alice, bob, stranger] = await ethers.getSigners();
  const guestbook = (await ethers.deployContract("Guestbook")) as unknown as Contracts.Guestbook;
  const guard = (await ethers.deployContract("GuestbookGuardStub")) as unknown as Contracts.GuestbookGuardStub;
  return { guestbook, guard, deployer: deployer!, alice: alice!, bob: bob!, stranger: stranger! };
}

async function guarded() {
  const fx = await fixture();
  await fx.guestbook.setGuard(await fx.guard.getAddress());
  return fx;
}

/** The spam model's input as a client computes it: featuriseText, quantiseInput, canonical bytes. */
let inputScale = 0;
function expectedFeatures(text: string): string {
  const data = quantiseInput(featuriseText(text), inputScale);
  return hexlify(encodeTensor({ dtype: "int8", shape: [1, 512], data }));
}

/** Least-squares line through (x, y) points: gas = intercept + slope · bytes. */
function fit(points: [number, number][]): { slope: number; intercept: number } {
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx };
}

describe("Guestbook: the agent demo's guarded guestbook", function () {
  this.timeout(120_000);

  before(async () => {
    const { model } = await readVqm("models/spam/vqm");
    inputScale = model.input.scale;
  });

  it("stores a post as a data contract, emits Posted and reads it back, featurised", async () => {
    const { guestbook, alice } = await networkHelpers.loadFixture(fixture);
    const text = "Hello, Guestbook! FREE entry 2day; win 1000 dollars?";
    await expect(guestbook.connect(alice).post(text))
      .to.emit(guestbook, "Posted")
      .withArgs(1, alice.address, MAX_UINT, text);
    expect(await guestbook.postCount()).to.equal(1n);
    expect(await guestbook.textOf(1)).to.equal(text);
    const post = await guestbook.postOf(1);
    expect(post.author).to.equal(alice.address);
    expect(post.hidden).to.equal(false);
    expect(post.postedAt).to.be.above(0n);
    // The data contract: a STOP, then the text.
    expect(await ethers.provider.getCode(post.text)).to.equal(hexlify(new Uint8Array([0, ...toUtf8Bytes(text)])));
    expect(await guestbook.featuresOf(1)).to.equal(expectedFeatures(text));
    expect(await guestbook.isHidden(1)).to.equal(false);
    expect(await guestbook.guard()).to.equal(ethers.ZeroAddress);
    // The longest text a post takes.
    const longest = "ab ".repeat(MAX_TEXT_BYTES / 3 + 1).slice(0, MAX_TEXT_BYTES);
    await guestbook.connect(alice).post(longest);
    expect(await guestbook.textOf(2)).to.equal(longest);
    expect(await guestbook.featuresOf(2)).to.equal(expectedFeatures(longest));
  });

  it("refuses empty and too long texts, ETH without a guard, and unknown posts", async () => {
    const { guestbook, alice } = await networkHelpers.loadFixture(fixture);
    expect(await guestbook.MAX_TEXT_BYTES()).to.equal(BigInt(MAX_TEXT_BYTES));
    await expect(guestbook.connect(alice).post("")).to.be.revertedWithCustomError(guestbook, "GuestbookEmptyText");
    await expect(guestbook.connect(alice).post("x".repeat(MAX_TEXT_BYTES + 1)))
      .to.be.revertedWithCustomError(guestbook, "GuestbookTextTooLong")
      .withArgs(MAX_TEXT_BYTES + 1, MAX_TEXT_BYTES);
    await expect(guestbook.connect(alice).post("hi", { value: 1 }))
      .to.be.revertedWithCustomError(guestbook, "GuestbookUnexpectedValue")
      .withArgs(1);
    await guestbook.connect(alice).post("hi");
    for (const id of [0, 2]) {
      await expect(guestbook.featuresOf(id))
        .to.be.revertedWithCustomError(guestbook, "GuestbookUnknownPost")
        .withArgs(id);
      await expect(guestbook.textOf(id)).to.be.revertedWithCustomError(guestbook, "GuestbookUnknownPost").withArgs(id);
      await expect(guestbook.postOf(id)).to.be.revertedWithCustomError(guestbook, "GuestbookUnknownPost").withArgs(id);
      await expect(guestbook.isHidden(id))
        .to.be.revertedWithCustomError(guestbook, "GuestbookUnknownPost")
        .withArgs(id);
    }
  });

  it("lets only the deployer set the guard, once, and only the guard hide a post, once", async () => {
    const { guestbook, guard, deployer, alice, stranger } = await networkHelpers.loadFixture(fixture);
    const guardAddress = await guard.getAddress();
    expect(await guestbook.deployer()).to.equal(deployer.address);
    await expect(guestbook.connect(stranger).setGuard(guardAddress))
      .to.be.revertedWithCustomError(guestbook, "GuestbookNotDeployer")
      .withArgs(stranger.address);
    await expect(guestbook.setGuard(ethers.ZeroAddress)).to.be.revertedWithCustomError(guestbook, "GuestbookZeroGuard");
    await expect(guestbook.setGuard(guardAddress)).to.emit(guestbook, "GuardSet").withArgs(guardAddress);
    await expect(guestbook.setGuard(stranger.address))
      .to.be.revertedWithCustomError(guestbook, "GuestbookGuardAlreadySet")
      .withArgs(guardAddress);
    expect(await guestbook.guard()).to.equal(guardAddress);

    await guestbook.connect(alice).post("buy cheap pills now");
    await expect(guestbook.connect(stranger).hide(1))
      .to.be.revertedWithCustomError(guestbook, "GuestbookNotGuard")
      .withArgs(stranger.address);
    await expect(guard.hide(await guestbook.getAddress(), 2))
      .to.be.revertedWithCustomError(guestbook, "GuestbookUnknownPost")
      .withArgs(2);
    await expect(guard.hide(await guestbook.getAddress(), 1))
      .to.emit(guestbook, "Hidden")
      .withArgs(1, guardAddress);
    expect(await guestbook.isHidden(1)).to.equal(true);
    expect((await guestbook.postOf(1)).hidden).to.equal(true);
    await expect(guard.hide(await guestbook.getAddress(), 1))
      .to.be.revertedWithCustomError(guestbook, "GuestbookAlreadyHidden")
      .withArgs(1);
    // Hidden, not deleted: the text and its features stay readable.
    expect(await guestbook.textOf(1)).to.equal("buy cheap pills now");
  });

  it("gives the guard one task per post, abi.encode(postId), with the ETH sent; a refused task refuses the post", async () => {
    const { guestbook, guard, alice, bob } = await networkHelpers.loadFixture(guarded);
    const guestbookAddress = await guestbook.getAddress();
    const first = guestbook.connect(alice).post("first post");
    await expect(first)
      .to.emit(guard, "TaskTaken")
      .withArgs(0, guestbookAddress, 0, coder.encode(["uint256"], [1]));
    await expect(first).to.emit(guestbook, "Posted").withArgs(1, alice.address, 0, "first post");
    // A poster paying the agent's task fee: the guestbook forwards it.
    const second = guestbook.connect(bob).post("second post", { value: 1234 });
    await expect(second)
      .to.emit(guard, "TaskTaken")
      .withArgs(1, guestbookAddress, 1234, coder.encode(["uint256"], [2]));
    await expect(second).to.changeEtherBalances(ethers, [bob, guard], [-1234n, 1234n]);
    // The agent refuses the task (paused, fee too low): no post.
    await guard.setRefuse(true);
    await expect(guestbook.connect(alice).post("third post")).to.be.revertedWithCustomError(guard, "StubRefused");
    expect(await guestbook.postCount()).to.equal(2n);
  });

  it("featuresOf equals the TypeScript featuriser and quantiser on held-out mails, and the model classifies both alike", async () => {
    const { guestbook, alice } = await networkHelpers.loadFixture(fixture);
    const { model } = await readVqm("models/spam/vqm");
    // 16 spam and 16 ham ASCII held-out mails a post can hold, spread over the held-out set.
    const eligible = (await heldOutMessages()).filter((m) => isAscii(m.text) && m.text.length <= MAX_TEXT_BYTES);
    const spread = (list: HeldOutMessage[]) =>
      Array.from({ length: 16 }, (_, k) => list[Math.floor((k * list.length) / 16)]!);
    const sample = [...spread(eligible.filter((m) => m.spam)), ...spread(eligible.filter((m) => !m.spam))];
    const classOf = (tensorBytes: string) => {
      const out = executeVqm(model, decodeTensor(getBytes(tensorBytes))).output.data as Int8Array;
      return out[1]! > out[0]! ? 1 : 0;
    };
    const postGas: [number, number][] = [];
    const viewGas: [number, number][] = [];
    let correct = 0;
    for (const [k, message] of sample.entries()) {
      const bytes = toUtf8Bytes(message.text).length;
      const receipt = await (await guestbook.connect(alice).post(message.text)).wait();
      postGas.push([bytes, Number(receipt!.gasUsed)]);
      const id = BigInt(k + 1);
      const onChain = await guestbook.featuresOf(id);
      const expected = expectedFeatures(message.text);
      expect(onChain, `held-out message ${message.index}`).to.equal(expected);
      const predicted = classOf(onChain);
      expect(predicted).to.equal(classOf(expected));
      if (predicted === (message.spam ? 1 : 0)) correct++;
      viewGas.push([bytes, Number(await guestbook.featuresOf.estimateGas(id))]);
    }
    expect(correct).to.be.at.least(28); // the model is 97.8 % accurate on the held-out set

    const post = fit(postGas);
    const view = fit(viewGas);
    const sizes = postGas.map(([b]) => b).sort((a, b) => a - b);
    console.log(
      `      ${sample.length} held-out mails (${sizes[0]}–${sizes.at(-1)} bytes), ${correct} classified right;` +
        ` gas ≈ intercept + slope · bytes:`,
    );
    console.table({
      "post (receipt gasUsed)": { slope: Math.round(post.slope), intercept: Math.round(post.intercept) },
      "featuresOf (estimateGas, 21k base included)": {
        slope: Math.round(view.slope),
        intercept: Math.round(view.intercept),
      },
    });
    const at = (f: { slope: number; intercept: number }, bytes: number) => Math.round(f.intercept + f.slope * bytes);
    const tiny = await (await guestbook.connect(alice).post("hi")).wait();
    const tinyView = await guestbook.featuresOf.estimateGas(sample.length + 1);
    console.log(`      a 2-byte post "hi": post ${tiny!.gasUsed}, featuresOf ${tinyView}`);
    console.log(
      `      at 1,200 bytes (median held-out mail): post ${at(post, 1200)}, featuresOf ${at(view, 1200)};` +
        ` at 4,096 bytes: post ${at(post, 4096)}, featuresOf ${at(view, 4096)}`,
    );
  });
});
