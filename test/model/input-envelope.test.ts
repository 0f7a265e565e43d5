import { expect } from "chai";
import {
  decodeContentTensor,
  decodeInputEnvelope,
  encodeContentInput,
  encodeInlineInput,
  InputContentError,
  InputEnvelopeError,
} from "../../oracle/model/input-envelope.ts";
import { encodeTensor } from "../../oracle/model/tensor-codec.ts";
import { createTensor } from "../../oracle/model/tensor.ts";
import { describeFailureReason, FailureReason, failureReasonOf } from "../../oracle/model/failure-reason.ts";

const cid = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";

function envelopeError(bytes: Uint8Array | number[]): InputEnvelopeError {
  try {
    decodeInputEnvelope(bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes));
  } catch (error) {
    expect(error).to.be.instanceOf(InputEnvelopeError);
    return error as InputEnvelopeError;
  }
  expect.fail("decodeInputEnvelope accepted malformed bytes");
}

describe("input-envelope", () => {
  it("round-trips an inline tensor", () => {
    const tensor = createTensor("float32", [1, 4], [5.1, 3.5, 1.4, 0.2]);
    const bytes = encodeInlineInput(tensor);
    expect(bytes[0]).to.equal(0x00);
    expect(bytes.subarray(1)).to.deep.equal(encodeTensor(tensor));
    const envelope = decodeInputEnvelope(bytes);
    expect(envelope.kind).to.equal("inline");
    if (envelope.kind !== "inline") return;
    expect(envelope.tensor.shape).to.deep.equal([1, 4]);
    expect(envelope.tensor.data).to.deep.equal(tensor.data);
  });

  it("round-trips a content id", () => {
    const bytes = encodeContentInput(cid);
    expect(bytes[0]).to.equal(0x01);
    expect(new TextDecoder().decode(bytes.subarray(1))).to.equal(cid);
    expect(decodeInputEnvelope(bytes)).to.deep.equal({ kind: "content", cid });
  });

  it("rejects empty input", () => {
    expect(envelopeError([]).message).to.match(/Input is empty/);
  });

  it("rejects an unknown kind", () => {
    expect(envelopeError([0x02, 1, 2, 3]).message).to.match(/Unknown input kind 0x02/);
  });

  it("rejects an inline payload that is not a tensor, keeping the cause", () => {
    const error = envelopeError([0x00, 0x01, 0x02]);
    expect(error.message).to.match(/not a canonical tensor[\s\S]*too short/);
    expect(error.cause).to.have.property("failure", "too-short");
    expect(failureReasonOf(error)).to.equal(FailureReason.InputUndecodable);
  });

  it("reports an oversized inline tensor as too large", () => {
    const error = envelopeError([0x00, 1, 3, 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    expect(failureReasonOf(error)).to.equal(FailureReason.InputTooLarge);
  });

  it("rejects content ids that are empty, not UTF-8, not printable or too long", () => {
    expect(envelopeError([0x01]).details.join()).to.match(/empty/);
    expect(envelopeError([0x01, 0xff, 0xfe]).message).to.match(/not valid UTF-8/);
    expect(envelopeError([0x01, ...new TextEncoder().encode("bafy abc")]).details.join()).to.match(/printable ASCII/);
    expect(envelopeError([0x01, ...new Array(257).fill(0x61)]).details.join()).to.match(/at most 256/);
    expect(() => encodeContentInput("")).to.throw(InputEnvelopeError, /Invalid content id/);
    expect(() => encodeContentInput("é")).to.throw(InputEnvelopeError);
  });

  it("reports bad content behind a CID as InputContentInvalid", () => {
    try {
      decodeContentTensor(new Uint8Array([9, 9, 9]), cid);
      expect.fail("accepted bad content");
    } catch (error) {
      expect(error).to.be.instanceOf(InputContentError);
      expect(failureReasonOf(error)).to.equal(FailureReason.InputContentInvalid);
    }
    const tensor = createTensor("int8", [2], [1, -1]);
    expect(decodeContentTensor(encodeTensor(tensor), cid).data).to.deep.equal(tensor.data);
  });

  it("describes failure reasons and ignores errors without one", () => {
    expect(describeFailureReason(FailureReason.InputShapeMismatch)).to.equal("input shape mismatch");
    expect(describeFailureReason(99)).to.equal("unknown failure reason 99");
    expect(failureReasonOf(new Error("network down"))).to.equal(undefined);
    expect(failureReasonOf("not an error")).to.equal(undefined);
    const wrapped = new Error("outer", { cause: envelopeError([0x07]) });
    expect(failureReasonOf(wrapped)).to.equal(FailureReason.InputUndecodable);
  });
});
