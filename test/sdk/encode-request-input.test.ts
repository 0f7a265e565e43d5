import { expect } from "chai";
import { hexlify } from "ethers";
import { VerificationMode } from "../../oracle/chain/register-model.ts";
import { encodeInlineInput } from "../../oracle/model/input-envelope.ts";
import { createTensor } from "../../oracle/model/tensor.ts";
import { encodeTensor } from "../../oracle/model/tensor-codec.ts";
import { encodeRequestInput } from "../../oracle/sdk/encode-request-input.ts";

describe("sdk/encodeRequestInput", () => {
  const tensor = createTensor("int8", [1, 4], [104, 54, 99, 41]);

  it("sends a Zk model the bare canonical tensor bytes its proof binds", () => {
    expect(hexlify(encodeRequestInput(VerificationMode.Zk, tensor))).to.equal(hexlify(encodeTensor(tensor)));
  });

  it("wraps the tensor in the inline envelope for Attested and Optimistic models", () => {
    for (const mode of [VerificationMode.Attested, VerificationMode.Optimistic])
      expect(hexlify(encodeRequestInput(BigInt(mode), tensor))).to.equal(hexlify(encodeInlineInput(tensor)));
  });
});
