import { expect } from "chai";
import { hexlify } from "ethers";
import { VerificationMode } from "../../oracle/chain/register-model.ts";
import { encodeContentInput, encodeInlineInput } from "../../oracle/model/input-envelope.ts";
import { createTensor } from "../../oracle/model/tensor.ts";
import { checkRequestInput, RequestInputError } from "../../oracle/sdk/check-request-input.ts";
import { encodeRequestInput } from "../../oracle/sdk/encode-request-input.ts";

describe("sdk/encodeRequestInput", () => {
  const tensor = createTensor("int8", [1, 4], [104, 54, 99, 41]);

  it("wraps the tensor in the inline envelope, the one form every mode takes (Zk included)", () => {
    const bytes = encodeRequestInput(tensor);
    expect(hexlify(bytes)).to.equal(hexlify(encodeInlineInput(tensor)));
    expect(bytes[0]).to.equal(0x00);
  });
});

describe("sdk/checkRequestInput", () => {
  const int8Model = (mode: number) => ({ mode, inputShape: [1n, 4n], inputDtype: 1n });
  const good = encodeRequestInput(createTensor("int8", [1, 4], [1, 2, 3, 4]));
  const cid = encodeContentInput("bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy");

  const refusal = (fn: () => void): RequestInputError => {
    try {
      fn();
    } catch (error) {
      expect(error).to.be.instanceOf(RequestInputError);
      return error as RequestInputError;
    }
    throw new Error("expected a RequestInputError");
  };

  it("accepts the registered inline tensor for Zk and Optimistic models, and anything non-empty for Attested", () => {
    for (const mode of [VerificationMode.Zk, VerificationMode.Optimistic])
      expect(() => checkRequestInput(1n, int8Model(mode), good)).to.not.throw();
    expect(() => checkRequestInput(1n, int8Model(VerificationMode.Attested), cid)).to.not.throw();
    expect(
      refusal(() => checkRequestInput(1n, int8Model(VerificationMode.Attested), new Uint8Array())).shortMessage,
    ).to.equal("The request input is empty.");
  });

  it("refuses a content id for a Zk or Optimistic model (MarketInputNotInline on-chain)", () => {
    const error = refusal(() => checkRequestInput(7n, int8Model(VerificationMode.Zk), cid));
    expect(error.shortMessage).to.equal("Model 7 (Zk) takes inline inputs only, not a content id.");
    expect(error.details.at(-1)).to.equal(
      "Send the inline envelope 0x00 ‖ canonical int8 [1, 4] tensor bytes (encodeRequestInput).",
    );
  });

  it("refuses another dtype or shape, a bare tensor, or truncated bytes (MarketInputMalformed on-chain)", () => {
    const optimistic = int8Model(VerificationMode.Optimistic);
    const float = encodeRequestInput(createTensor("float32", [1, 4], [1, 2, 3, 4]));
    expect(refusal(() => checkRequestInput(2n, optimistic, float)).shortMessage).to.equal(
      "Model 2 (Optimistic) takes int8 [1, 4]; the input is float32 [1, 4].",
    );
    const wide = encodeRequestInput(createTensor("int8", [1, 5], [1, 2, 3, 4, 5]));
    expect(refusal(() => checkRequestInput(2n, optimistic, wide)).shortMessage).to.include("the input is int8 [1, 5]");
    // The bare tensor (no kind byte), as Zk requests used to carry it: 0x01 reads as a content id.
    const bare = good.subarray(1);
    expect(refusal(() => checkRequestInput(2n, int8Model(VerificationMode.Zk), bare)).shortMessage).to.equal(
      "Model 2 (Zk): the input is not an inline canonical tensor.",
    );
    const truncated = good.subarray(0, good.length - 1);
    const error = refusal(() => checkRequestInput(2n, optimistic, truncated));
    expect(error.details[0]).to.equal("Inline input is not a canonical tensor.");
  });
});
