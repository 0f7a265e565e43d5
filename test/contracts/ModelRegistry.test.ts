import { expect } from "chai";
import { network } from "hardhat";
import { deploy, modelParams, signers, ZERO } from "./helpers.ts";

const { ethers, networkHelpers } = await network.create();

async function fixture() {
  const [owner, other] = await signers(ethers);
  const models = await deploy(ethers, "ModelRegistry");
  return { owner, other, models };
}

describe("ModelRegistry", () => {
  it("register: assigns sequential ids from 1 and emits ModelRegistered", async () => {
    const { owner, models } = await networkHelpers.loadFixture(fixture);
    const p = modelParams();
    await expect(models.register(p))
      .to.emit(models, "ModelRegistered")
      .withArgs(1n, owner.address, p.modelHash, p.contentId, 0, ZERO, p.price, p.royaltyBps);
    await expect(models.register(modelParams()))
      .to.emit(models, "ModelRegistered")
      .withArgs(2n, owner.address, p.modelHash, p.contentId, 0, ZERO, p.price, p.royaltyBps);
    expect(await models.modelCount()).to.equal(2n);
    const m = await models.getModel(1);
    expect(m.owner).to.equal(owner.address);
    expect(m.contentId).to.equal("bafy-model");
    expect(m.inputShape).to.deep.equal([1n, 4n]);
    expect(m.outputShape).to.deep.equal([1n, 3n]);
    expect(m.deprecated).to.equal(false);
  });

  it("register: accepts the maximum royalty and rank", async () => {
    const { models } = await networkHelpers.loadFixture(fixture);
    await models.register(modelParams({ royaltyBps: 5000, inputShape: [1, 2, 3, 4, 5, 6, 7, 8] }));
    expect((await models.getModel(1)).royaltyBps).to.equal(5000n);
  });

  it("register: reverts without content commitments", async () => {
    const { models } = await networkHelpers.loadFixture(fixture);
    await expect(models.register(modelParams({ modelHash: ethers.ZeroHash }))).to.be.revertedWithCustomError(
      models,
      "ModelContentMissing",
    );
    await expect(models.register(modelParams({ contentId: "" }))).to.be.revertedWithCustomError(
      models,
      "ModelContentMissing",
    );
  });

  it("register: checks the verification fields against the mode", async () => {
    const { models } = await networkHelpers.loadFixture(fixture);
    const root = "0x" + "aa".repeat(32);
    const optimistic = { mode: 2, weightsRoot: root, layoutRoot: root, layerCount: 3, challengeWindow: 3600 };
    for (const bad of [
      { mode: 1 },
      { mode: 1, verifier: ZERO, weightsRoot: root },
      { mode: 0, verifier: "0x" + "01".repeat(20) },
      { mode: 0, challengeWindow: 1 },
      { ...optimistic, weightsRoot: ethers.ZeroHash },
      { ...optimistic, layoutRoot: ethers.ZeroHash },
      { ...optimistic, layerCount: 0 },
      { ...optimistic, layerCount: 1025 },
      { ...optimistic, challengeWindow: 0 },
      { ...optimistic, verifier: "0x" + "01".repeat(20) },
    ])
      await expect(models.register(modelParams(bad)))
        .to.be.revertedWithCustomError(models, "ModelVerificationInvalid")
        .withArgs(bad.mode);
    const verifier = "0x" + "01".repeat(20);
    await expect(models.register(modelParams({ mode: 1, verifier })))
      .to.emit(models, "ModelVerificationRegistered")
      .withArgs(1n, verifier, ethers.ZeroHash, ethers.ZeroHash, 0, 0);
    await expect(models.register(modelParams(optimistic)))
      .to.emit(models, "ModelVerificationRegistered")
      .withArgs(2n, ZERO, root, root, 3, 3600);
    const zk = await models.verificationOf(1);
    expect([zk.mode, zk.verifier]).to.deep.equal([1n, verifier]);
    const o = await models.verificationOf(2);
    expect([o.mode, o.weightsRoot, o.layoutRoot, o.layerCount, o.challengeWindow]).to.deep.equal([
      2n,
      root,
      root,
      3n,
      3600n,
    ]);
    expect((await models.getModel(2)).layerCount).to.equal(3n);
  });

  it("register: reverts when the royalty is too high", async () => {
    const { models } = await networkHelpers.loadFixture(fixture);
    await expect(models.register(modelParams({ royaltyBps: 5001 })))
      .to.be.revertedWithCustomError(models, "ModelRoyaltyTooHigh")
      .withArgs(5001, 5000);
  });

  it("register: reverts on invalid shapes", async () => {
    const { models } = await networkHelpers.loadFixture(fixture);
    for (const bad of [
      { inputShape: [] },
      { outputShape: [] },
      { inputShape: [1, 2, 3, 4, 5, 6, 7, 8, 9] },
      { inputShape: [1, 0] },
      { outputShape: [0] },
    ]) {
      await expect(models.register(modelParams(bad))).to.be.revertedWithCustomError(models, "ModelShapeInvalid");
    }
    expect(await models.modelCount()).to.equal(0n);
  });

  it("updatePrice: the owner changes the price and ModelPriceUpdated is emitted", async () => {
    const { models } = await networkHelpers.loadFixture(fixture);
    await models.register(modelParams());
    await expect(models.updatePrice(1, 7)).to.emit(models, "ModelPriceUpdated").withArgs(1n, modelParams().price, 7n);
    expect((await models.getActiveTerms(1)).price).to.equal(7n);
  });

  it("updatePrice: reverts for others, unknown and deprecated models", async () => {
    const { other, models } = await networkHelpers.loadFixture(fixture);
    await models.register(modelParams());
    await expect(models.connect(other).updatePrice(1, 7))
      .to.be.revertedWithCustomError(models, "ModelNotOwner")
      .withArgs(1n, other.address);
    await expect(models.updatePrice(9, 7)).to.be.revertedWithCustomError(models, "ModelUnknown").withArgs(9n);
    await models.deprecate(1);
    await expect(models.updatePrice(1, 7)).to.be.revertedWithCustomError(models, "ModelIsDeprecated").withArgs(1n);
  });

  it("deprecate: hides the model from getActiveModel/getActiveTerms but not from getModel", async () => {
    const { models } = await networkHelpers.loadFixture(fixture);
    await models.register(modelParams());
    expect((await models.getActiveModel(1)).price).to.equal(modelParams().price);
    await expect(models.deprecate(1)).to.emit(models, "ModelDeprecated").withArgs(1n);
    await expect(models.getActiveModel(1)).to.be.revertedWithCustomError(models, "ModelIsDeprecated").withArgs(1n);
    await expect(models.getActiveTerms(1)).to.be.revertedWithCustomError(models, "ModelIsDeprecated").withArgs(1n);
    expect((await models.getModel(1)).deprecated).to.equal(true);
    const [owner, bps] = await models.royaltyInfo(1);
    expect(bps).to.equal(modelParams().royaltyBps);
    expect(owner).to.not.equal(ZERO);
  });

  it("deprecate: reverts for others, twice and for unknown models", async () => {
    const { other, models } = await networkHelpers.loadFixture(fixture);
    await models.register(modelParams());
    await expect(models.connect(other).deprecate(1))
      .to.be.revertedWithCustomError(models, "ModelNotOwner")
      .withArgs(1n, other.address);
    await models.deprecate(1);
    await expect(models.deprecate(1)).to.be.revertedWithCustomError(models, "ModelIsDeprecated").withArgs(1n);
    await expect(models.deprecate(5)).to.be.revertedWithCustomError(models, "ModelUnknown").withArgs(5n);
  });

  it("views: unknown ids revert with ModelUnknown", async () => {
    const { models } = await networkHelpers.loadFixture(fixture);
    for (const call of [
      models.getModel(0),
      models.getActiveModel(1),
      models.getActiveTerms(1),
      models.royaltyInfo(1),
    ]) {
      await expect(call).to.be.revertedWithCustomError(models, "ModelUnknown");
    }
  });

  it("getActiveTerms: returns owner, mode, royalty, token and price", async () => {
    const { owner, models } = await networkHelpers.loadFixture(fixture);
    await models.register(modelParams());
    const t = await models.getActiveTerms(1);
    expect([t.owner, t.mode, t.royaltyBps, t.feeToken, t.price]).to.deep.equal([
      owner.address,
      0n,
      modelParams().royaltyBps,
      ZERO,
      modelParams().price,
    ]);
  });
});
