import { expect } from "chai";
import { network } from "hardhat";
import type { DType } from "../../oracle/model/tensor.ts";
import { deploy, modelParams, signers, tensorFormat, ZERO } from "./helpers.ts";

const { ethers, networkHelpers } = await network.create();
const MIN_WINDOW = 60;
const MAX_WINDOW = 86_400;
const ROOT = "0x" + "aa".repeat(32);
const DTYPE = { int8: 1, int32: 2, float32: 3, int64: 4, uint8: 5 } as const;

async function fixture() {
  const [owner, other] = await signers(ethers);
  const models = await deploy(ethers, "ModelRegistry", [MIN_WINDOW, MAX_WINDOW]);
  const verifier = await (await deploy(ethers, "ProofVerifierStub")).getAddress();
  return { owner, other, models, verifier };
}

/** Fields of a Zk model with int8 [1, 4] → int8 [1, 3] tensors and the fixture's verifier. */
function zk(verifier: string, overrides: Record<string, unknown> = {}) {
  return { mode: 1, verifier, inputDtype: DTYPE.int8, outputDtype: DTYPE.int8, ...overrides };
}

/** Fields of an Optimistic model with int8 [1, 4] → int8 [1, 3] tensors and a 1-hour window. */
function optimistic(overrides: Record<string, unknown> = {}) {
  return {
    mode: 2,
    weightsRoot: ROOT,
    layoutRoot: ROOT,
    layerCount: 3,
    challengeWindow: 3600,
    inputDtype: DTYPE.int8,
    outputDtype: DTYPE.int8,
    ...overrides,
  };
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
    expect([m.inputDtype, m.outputDtype]).to.deep.equal([3n, 3n]);
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
    const { models, verifier } = await networkHelpers.loadFixture(fixture);
    const o = optimistic();
    for (const bad of [
      zk(ZERO),
      zk(ZERO, { weightsRoot: ROOT }),
      zk(verifier, { layerCount: 1 }),
      { mode: 0, verifier },
      { mode: 0, challengeWindow: 1 },
      { ...o, weightsRoot: ethers.ZeroHash },
      { ...o, layoutRoot: ethers.ZeroHash },
      { ...o, layerCount: 0 },
      { ...o, layerCount: 1025 },
      { ...o, challengeWindow: 0 },
      { ...o, verifier },
    ])
      await expect(models.register(modelParams(bad)))
        .to.be.revertedWithCustomError(models, "ModelVerificationInvalid")
        .withArgs(bad.mode);
    await expect(models.register(modelParams(zk(verifier))))
      .to.emit(models, "ModelVerificationRegistered")
      .withArgs(1n, verifier, ethers.ZeroHash, ethers.ZeroHash, 0, 0);
    await expect(models.register(modelParams({ ...o, layerCount: 1024 })))
      .to.emit(models, "ModelVerificationRegistered")
      .withArgs(2n, ZERO, ROOT, ROOT, 1024, 3600);
    const v1 = await models.verificationOf(1);
    expect([v1.mode, v1.verifier]).to.deep.equal([1n, verifier]);
    const v2 = await models.verificationOf(2);
    expect([v2.mode, v2.weightsRoot, v2.layoutRoot, v2.layerCount, v2.challengeWindow]).to.deep.equal([
      2n,
      ROOT,
      ROOT,
      1024n,
      3600n,
    ]);
    expect((await models.getModel(2)).layerCount).to.equal(1024n);
  });

  it("register: reverts with ModelVerifierHasNoCode for a Zk verifier without code", async () => {
    const { owner, models } = await networkHelpers.loadFixture(fixture);
    for (const account of ["0x" + "01".repeat(20), owner.address])
      await expect(models.register(modelParams(zk(account))))
        .to.be.revertedWithCustomError(models, "ModelVerifierHasNoCode")
        .withArgs(account);
    expect(await models.modelCount()).to.equal(0n);
  });

  it("register: reverts with ModelChallengeWindowInvalid for an Optimistic window outside the bounds", async () => {
    const { models } = await networkHelpers.loadFixture(fixture);
    for (const window of [1, MIN_WINDOW - 1, MAX_WINDOW + 1, 2 ** 32 - 1])
      await expect(models.register(modelParams(optimistic({ challengeWindow: window }))))
        .to.be.revertedWithCustomError(models, "ModelChallengeWindowInvalid")
        .withArgs(window, MIN_WINDOW, MAX_WINDOW);
    for (const window of [MIN_WINDOW, MAX_WINDOW])
      await models.register(modelParams(optimistic({ challengeWindow: window })));
    expect((await models.verificationOf(1)).challengeWindow).to.equal(BigInt(MIN_WINDOW));
    expect((await models.verificationOf(2)).challengeWindow).to.equal(BigInt(MAX_WINDOW));
  });

  it("constructor: takes challenge window bounds with 1 <= min <= max", async () => {
    const { models } = await networkHelpers.loadFixture(fixture);
    expect(await models.challengeWindowBounds()).to.deep.equal([BigInt(MIN_WINDOW), BigInt(MAX_WINDOW)]);
    const M = await ethers.getContractFactory("ModelRegistry");
    await expect(M.deploy(0, 100))
      .to.be.revertedWithCustomError(M, "ModelChallengeWindowBoundsInvalid")
      .withArgs(0, 100);
    await expect(M.deploy(101, 100))
      .to.be.revertedWithCustomError(M, "ModelChallengeWindowBoundsInvalid")
      .withArgs(101, 100);
    const single = await deploy(ethers, "ModelRegistry", [1, 1]);
    expect(await single.challengeWindowBounds()).to.deep.equal([1n, 1n]);
    await single.register(modelParams(optimistic({ challengeWindow: 1 })));
    await expect(single.register(modelParams(optimistic({ challengeWindow: 2 }))))
      .to.be.revertedWithCustomError(single, "ModelChallengeWindowInvalid")
      .withArgs(2, 1, 1);
  });

  it("register: stores the dtypes and refuses unknown dtype codes", async () => {
    const { models, verifier } = await networkHelpers.loadFixture(fixture);
    await models.register(modelParams({ inputDtype: DTYPE.uint8, outputDtype: DTYPE.int64 }));
    const m = await models.getModel(1);
    expect([m.inputDtype, m.outputDtype]).to.deep.equal([5n, 4n]);
    for (const mode of [{}, zk(verifier), optimistic()])
      for (const code of [0, 6, 255]) {
        for (const field of ["inputDtype", "outputDtype"])
          await expect(models.register(modelParams({ ...mode, [field]: code })))
            .to.be.revertedWithCustomError(models, "ModelDtypeInvalid")
            .withArgs(code);
      }
    expect(await models.modelCount()).to.equal(1n);
  });

  it("register: refuses float32 tensors for Zk and Optimistic models, allows them for Attested ones", async () => {
    const { models, verifier } = await networkHelpers.loadFixture(fixture);
    for (const mode of [zk(verifier), optimistic()])
      for (const field of ["inputDtype", "outputDtype"])
        await expect(models.register(modelParams({ ...mode, [field]: DTYPE.float32 })))
          .to.be.revertedWithCustomError(models, "ModelDtypeInvalid")
          .withArgs(DTYPE.float32);
    await models.register(modelParams({ inputDtype: DTYPE.float32, outputDtype: DTYPE.float32 }));
    for (const code of [DTYPE.int8, DTYPE.int32, DTYPE.int64, DTYPE.uint8]) {
      await models.register(modelParams(zk(verifier, { inputDtype: code, outputDtype: code })));
      await models.register(modelParams(optimistic({ inputDtype: code, outputDtype: code })));
    }
    expect(await models.modelCount()).to.equal(9n);
  });

  it("inputFormatOf, outputFormatOf: the canonical header's hash and length and the tensor's length", async () => {
    const { models, verifier } = await networkHelpers.loadFixture(fixture);
    const cases: [DType, number[], DType, number[], Record<string, unknown>][] = [
      ["float32", [1, 4], "float32", [1, 3], {}],
      ["int8", [1, 4], "int32", [1, 2], zk(verifier)],
      ["uint8", [2, 3, 4], "int64", [5], {}],
      ["int8", [1, 2, 1, 2, 1, 2, 1, 2], "uint8", [65_536, 256], {}],
      ["int32", [7, 9], "int8", [4089], optimistic()],
    ];
    for (const [i, [inDtype, inShape, outDtype, outShape, mode]] of cases.entries()) {
      await models.register(
        modelParams({
          ...mode,
          inputShape: inShape,
          outputShape: outShape,
          inputDtype: DTYPE[inDtype],
          outputDtype: DTYPE[outDtype],
        }),
      );
      for (const [format, dtype, shape] of [
        [await models.inputFormatOf(i + 1), inDtype, inShape],
        [await models.outputFormatOf(i + 1), outDtype, outShape],
      ] as const) {
        const expected = tensorFormat(dtype, shape);
        expect(format.headerHash).to.equal(ethers.keccak256(expected.header));
        expect(format.headerLength).to.equal(BigInt(3 + 4 * shape.length));
        expect(format.byteLength).to.equal(BigInt(expected.byteLength));
      }
    }
    // A header pins dtype and dims, not only the length: [1, 4] and [4, 1], int8 and uint8 differ.
    await models.register(modelParams({ inputShape: [4, 1], inputDtype: DTYPE.float32 }));
    expect((await models.inputFormatOf(6)).headerHash).to.not.equal((await models.inputFormatOf(1)).headerHash);
    expect((await models.inputFormatOf(2)).headerHash).to.not.equal(
      ethers.keccak256(tensorFormat("uint8", [1, 4]).header),
    );
  });

  it("inputFormatOf, outputFormatOf: revert for unknown models and answer for deprecated ones", async () => {
    const { models } = await networkHelpers.loadFixture(fixture);
    await expect(models.inputFormatOf(1)).to.be.revertedWithCustomError(models, "ModelUnknown").withArgs(1n);
    await expect(models.outputFormatOf(0)).to.be.revertedWithCustomError(models, "ModelUnknown").withArgs(0n);
    await models.register(modelParams());
    await models.deprecate(1);
    expect((await models.outputFormatOf(1)).byteLength).to.equal(BigInt(tensorFormat("float32", [1, 3]).byteLength));
  });

  it("register: reverts with ModelTensorTooLarge beyond MAX_INPUT_BYTES and MAX_OUTPUT_BYTES for Zk and Optimistic models", async () => {
    const { models, verifier } = await networkHelpers.loadFixture(fixture);
    expect(await models.MAX_INPUT_BYTES()).to.equal(32_768n);
    expect(await models.MAX_OUTPUT_BYTES()).to.equal(4096n);
    // int8 [n]: 7 header bytes + n elements.
    for (const mode of [zk(verifier), optimistic()]) {
      await expect(models.register(modelParams({ ...mode, inputShape: [32_762] })))
        .to.be.revertedWithCustomError(models, "ModelTensorTooLarge")
        .withArgs(false, 32_769n, 32_768n);
      await expect(models.register(modelParams({ ...mode, outputShape: [4090] })))
        .to.be.revertedWithCustomError(models, "ModelTensorTooLarge")
        .withArgs(true, 4097n, 4096n);
      // int32 [1, 1022]: 11 + 4088 bytes, just over.
      await expect(models.register(modelParams({ ...mode, outputShape: [1, 1022], outputDtype: DTYPE.int32 })))
        .to.be.revertedWithCustomError(models, "ModelTensorTooLarge")
        .withArgs(true, 4099n, 4096n);
      await models.register(modelParams({ ...mode, inputShape: [32_761], outputShape: [4089] }));
    }
    expect((await models.inputFormatOf(1)).byteLength).to.equal(32_768n);
    expect((await models.outputFormatOf(2)).byteLength).to.equal(4096n);
    // Attested inputs travel by content id and outputs are not bounded by the game: no limit.
    await models.register(modelParams({ inputShape: [1, 3, 224, 224], outputShape: [1, 1000] }));
    expect((await models.inputFormatOf(3)).byteLength).to.equal(BigInt(19 + 4 * 3 * 224 * 224));
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
      { inputShape: [4096, 4097] },
      { outputShape: [2, 2 ** 23 + 1] },
      {
        inputShape: [
          2 ** 32 - 1,
          2 ** 32 - 1,
          2 ** 32 - 1,
          2 ** 32 - 1,
          2 ** 32 - 1,
          2 ** 32 - 1,
          2 ** 32 - 1,
          2 ** 32 - 1,
        ],
      },
      { outputShape: [2 ** 12, 1, 2 ** 12, 2] },
    ]) {
      await expect(models.register(modelParams(bad))).to.be.revertedWithCustomError(models, "ModelShapeInvalid");
    }
    expect(await models.modelCount()).to.equal(0n);
    // Exactly 2^24 elements is the limit (an Attested float32 [4096, 4096], 64 MiB, by content id).
    await models.register(modelParams({ inputShape: [4096, 4096], outputShape: [1, 2 ** 24] }));
    expect((await models.inputFormatOf(1)).byteLength).to.equal(BigInt(11 + 4 * 2 ** 24));
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
