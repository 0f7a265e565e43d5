/**
 * End to end on-chain for a `Zk` model: iris registered with Groth16TensorVerifier over the
 * committed iris verifier, a request carrying the inline envelope `0x00 ‖ tensor`, a real proof
 * from the worker-thread prover, then `submitWithProof` (with the request's envelope bytes; the
 * market hands the verifier the tensor) settles it; a proof of another output is refused by the
 * market, and so are a bare tensor or a tensor of another shape at request time.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { hexlify } from "ethers";
import type { Contract } from "ethers";
import { encodeTensor } from "../../oracle/model/tensor-codec.ts";
import { encodeRequestInput } from "../../oracle/sdk/encode-request-input.ts";
import type { Tensor } from "../../oracle/model/tensor.ts";
import { createProver } from "../../oracle/zk/prove.ts";
import type { ZkProver } from "../../oracle/zk/prove.ts";
import { releaseCurve } from "../../oracle/zk/snarkjs-util.ts";
import { MIN_STAKE, signers, Status, ZERO } from "../contracts/helpers.ts";
import { requestParamsOf } from "../../oracle/chain/request-params.ts";

const { ethers, networkHelpers } = await network.create();
const PRICE = 10n ** 16n;

describe("ZK mode: submitWithProof with a real iris proof", function () {
  this.timeout(60_000);
  let prover: ZkProver;
  before(async () => {
    prover = await createProver({ zkDir: "models/iris/zk" });
  });
  after(async () => {
    await prover?.close();
    await releaseCurve();
  });

  async function fixture() {
    const [admin, treasury, modelOwner, provider, requester] = await signers(ethers);
    const models = await ethers.deployContract("ModelRegistry", [1, 86400]);
    const providers = await ethers.deployContract("ProviderRegistry", [admin.address, MIN_STAKE, 7 * 86400]);
    const market: Contract = await ethers.deployContract("InferenceMarket", [
      admin.address,
      await models.getAddress(),
      await providers.getAddress(),
      treasury.address,
      250,
      0,
    ]);
    await providers.getFunction("setMarket")(await market.getAddress());
    const groth16 = await ethers.deployContract("IrisGroth16Verifier");
    const adapter = await ethers.deployContract("Groth16TensorVerifier", [await groth16.getAddress(), [1, 4], [1, 3]]);
    await (models.connect(modelOwner) as Contract).getFunction("register")({
      modelHash: ethers.keccak256("0x01"),
      contentId: "bafy-iris",
      mode: 1,
      feeToken: ZERO,
      price: PRICE,
      royaltyBps: 1000,
      inputShape: [1, 4],
      outputShape: [1, 3],
      inputDtype: 1, // int8
      outputDtype: 1,
      verifier: await adapter.getAddress(),
      weightsRoot: ethers.ZeroHash,
      layoutRoot: ethers.ZeroHash,
      layerCount: 0,
      challengeWindow: 0,
    });
    await (providers.connect(provider) as Contract).getFunction("stake")({ value: MIN_STAKE });
    await (providers.connect(provider) as Contract).getFunction("optIn")(1);
    return { market, provider, requester };
  }

  it("settles a request with the proof; refuses the proof with another output", async () => {
    const { market, provider, requester } = await networkHelpers.loadFixture(fixture);
    const input: Tensor = { dtype: "int8", shape: [1, 4], data: Int8Array.from([-52, 67, -93, -107]) };
    const inputBytes = hexlify(encodeRequestInput(input));
    const deadline = (await networkHelpers.time.latest()) + 86400;
    await (market.connect(requester) as Contract).getFunction("requestInference")(
      1,
      inputBytes,
      PRICE,
      deadline,
      ZERO,
      0,
      {
        value: PRICE,
      },
    );
    const asProvider = market.connect(provider) as Contract;
    await asProvider.getFunction("claim")(1);
    const { output, calldata } = await prover.prove(input);
    const outputBytes = hexlify(encodeTensor(output));
    const forged = hexlify(
      encodeTensor({ ...output, data: Int8Array.from(output.data as Int8Array, (v) => (v === 127 ? v - 1 : v + 1)) }),
    );
    // The market stores only a commitment to the request's fixed fields: they come back here.
    const params = requestParamsOf({
      requester: requester.address,
      feeToken: ZERO,
      fee: PRICE,
      callback: ZERO,
      callbackGasLimit: 0,
      input: inputBytes,
    });
    await expect(
      asProvider.getFunction("submitWithProof")(1, params, inputBytes, forged, calldata),
    ).to.be.revertedWithCustomError(market, "MarketProofInvalid");
    const tx = await asProvider.getFunction("submitWithProof")(1, params, inputBytes, outputBytes, calldata);
    const receipt = await tx.wait();
    expect(receipt!.gasUsed).to.be.lessThan(500_000n); // about 421k: Groth16 pairing check (~210k) plus settlement
    expect(await market.getFunction("statusOf")(1)).to.equal(BigInt(Status.Finalized));
    expect(await market.getFunction("outputOf")(1)).to.equal(outputBytes);
  });

  it("refuses at request time a bare tensor (MarketInputNotInline) and a tensor of another shape (MarketInputMalformed)", async () => {
    const { market, requester } = await networkHelpers.loadFixture(fixture);
    const deadline = (await networkHelpers.time.latest()) + 86400;
    const request = (input: string) =>
      (market.connect(requester) as Contract).getFunction("requestInference")(1, input, PRICE, deadline, ZERO, 0, {
        value: PRICE,
      });
    const input: Tensor = { dtype: "int8", shape: [1, 4], data: Int8Array.from([-52, 67, -93, -107]) };
    await expect(request(hexlify(encodeTensor(input))))
      .to.be.revertedWithCustomError(market, "MarketInputNotInline")
      .withArgs(1);
    const wide: Tensor = { dtype: "int8", shape: [1, 5], data: Int8Array.from([1, 2, 3, 4, 5]) };
    await expect(request(hexlify(encodeRequestInput(wide))))
      .to.be.revertedWithCustomError(market, "MarketInputMalformed")
      .withArgs(1, 16, 15);
  });
});
