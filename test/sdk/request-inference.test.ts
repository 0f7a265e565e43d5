import { expect } from "chai";
import { connectSuite } from "../../oracle/chain/connect.ts";
import { ChainRevertError } from "../../oracle/chain/revert-error.ts";
import { startLocalSuite, type LocalSuite } from "../../oracle/devnet/local-suite.ts";
import { registerZkModel, type ZkModelOnChain } from "../../oracle/devnet/zk-suite.ts";
import { createTensor } from "../../oracle/model/tensor.ts";
import { encodeTensor } from "../../oracle/model/tensor-codec.ts";
import { RequestInputError } from "../../oracle/sdk/check-request-input.ts";
import { encodeRequestInput } from "../../oracle/sdk/encode-request-input.ts";
import { requestInference } from "../../oracle/sdk/request-inference.ts";
import { rejection } from "../util/rejection.ts";
import { tempDir } from "../node/helpers.ts";

describe("sdk/requestInference against a local chain", function () {
  this.timeout(120_000);
  const temp = tempDir("verity-sdk-");
  let local: LocalSuite;
  let zk: ZkModelOnChain;
  let user: ReturnType<typeof connectSuite>;

  before(async () => {
    local = await startLocalSuite({ dir: temp.dir });
    zk = await registerZkModel(local);
    user = connectSuite(local.deployment, local.actors.user);
  });

  after(async () => {
    await local?.close();
    temp.remove();
  });

  const send = (input: Uint8Array, checkInput?: boolean) =>
    requestInference(user.inferenceMarket, user.modelRegistry, { modelId: zk.modelId, input, checkInput });

  it("sends a Zk request carrying the inline envelope, which the market accepts", async () => {
    const input = encodeRequestInput(createTensor("int8", [1, 4], [-52, 67, -93, -107]));
    const { requestId, receipt } = await send(input);
    const [event] = await local.suite.inferenceMarket.queryFilter(
      local.suite.inferenceMarket.filters.InferenceRequested(requestId),
    );
    expect(event!.args.input).to.equal(`0x${Buffer.from(input).toString("hex")}`);
    expect(receipt.status).to.equal(1);
  });

  it("refuses a bad input before sending anything", async () => {
    const count = await local.suite.inferenceMarket.requestCount();
    const error = await rejection(send(encodeTensor(createTensor("int8", [1, 4], [1, 2, 3, 4]))));
    expect(error).to.be.instanceOf(RequestInputError);
    expect(await local.suite.inferenceMarket.requestCount()).to.equal(count);
  });

  it("shows the market's refusal, decoded, when the check is skipped", async () => {
    const bare = await rejection(send(encodeTensor(createTensor("int8", [1, 4], [1, 2, 3, 4])), false));
    expect(bare).to.be.instanceOf(ChainRevertError);
    expect((bare as ChainRevertError).errorName).to.equal("MarketInputNotInline");
    expect((bare as ChainRevertError).shortMessage).to.equal(
      `request model ${zk.modelId} reverted with MarketInputNotInline(${zk.modelId}).`,
    );
    expect((bare as ChainRevertError).details[0]).to.include("inline envelope");

    const wide = await rejection(send(encodeRequestInput(createTensor("int8", [1, 5], [1, 2, 3, 4, 5])), false));
    expect((wide as ChainRevertError).errorName).to.equal("MarketInputMalformed");
    expect((wide as ChainRevertError).args).to.deep.equal([zk.modelId, 16n, 15n]); // tensor bytes after the kind byte: int8 [1, 5] vs [1, 4]
  });
});
