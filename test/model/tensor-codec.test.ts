import { expect } from "chai";
import { decodeTensor, encodeTensor, TensorDecodeError } from "../../oracle/model/tensor-codec.ts";
import type { Tensor } from "../../oracle/model/tensor-codec.ts";
import { createTensor, InvalidTensorError } from "../../oracle/model/tensor.ts";
import { FailureReason, failureReasonOf } from "../../oracle/model/failure-reason.ts";

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

function decodeFailure(bytes: Uint8Array | number[]): TensorDecodeError {
  try {
    decodeTensor(bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes));
  } catch (error) {
    expect(error).to.be.instanceOf(TensorDecodeError);
    return error as TensorDecodeError;
  }
  expect.fail("decodeTensor accepted malformed bytes");
}

describe("tensor-codec", () => {
  describe("round trips", () => {
    const cases: Tensor[] = [
      createTensor("int8", [2, 3], [-128, -1, 0, 1, 2, 127]),
      createTensor("int32", [3], [-2147483648, 0, 2147483647]),
      createTensor("float32", [1, 4], [5.1, -3.5, 0, 1e-30]),
      createTensor("int64", [2], [-(2n ** 63n), 2n ** 63n - 1n]),
      createTensor("uint8", [1, 1, 1, 1, 1, 1, 1, 2], [0, 255]),
    ];
    for (const tensor of cases) {
      it(`${tensor.dtype} ${JSON.stringify(tensor.shape)}`, () => {
        const bytes = encodeTensor(tensor);
        const back = decodeTensor(bytes);
        expect(back.dtype).to.equal(tensor.dtype);
        expect(back.shape).to.deep.equal(tensor.shape);
        expect(back.data).to.deep.equal(tensor.data);
        expect(hex(encodeTensor(back))).to.equal(hex(bytes));
      });
    }

    it("lays out the exact documented bytes", () => {
      expect(hex(encodeTensor(createTensor("int32", [1, 2], [1, -2])))).to.equal(
        "01" + "02" + "02" + "00000001" + "00000002" + "01000000" + "feffffff",
      );
      expect(hex(encodeTensor(createTensor("float32", [1], [1])))).to.equal("010301" + "00000001" + "0000803f");
      expect(hex(encodeTensor(createTensor("int64", [1], [-2n])))).to.equal("010401" + "00000001" + "feffffffffffffff");
    });

    it("decodes from an unaligned offset of a larger buffer", () => {
      const bytes = encodeTensor(createTensor("float32", [3], [1.5, 2.5, -3]));
      const padded = new Uint8Array(bytes.length + 1);
      padded.set(bytes, 1);
      expect(decodeTensor(padded.subarray(1)).data).to.deep.equal(new Float32Array([1.5, 2.5, -3]));
    });

    it("keeps -0 distinct from +0", () => {
      const back = decodeTensor(encodeTensor(createTensor("float32", [2], [-0, 0])));
      expect(Object.is(back.data[0], -0)).to.equal(true);
      expect(Object.is(back.data[1], 0)).to.equal(true);
    });
  });

  describe("malformed bytes", () => {
    const valid = Array.from(encodeTensor(createTensor("int32", [1, 2], [1, 2])));

    const cases: [string, number[], TensorDecodeError["failure"], RegExp][] = [
      ["empty", [], "too-short", /too short/],
      ["two bytes", [1, 2], "too-short", /too short/],
      ["header shorter than the dims", [1, 2, 2, 0, 0, 0, 1], "too-short", /needs a 11-byte header, got 7/],
      ["version 0", [0, ...valid.slice(1)], "bad-version", /version 0/],
      ["version 2", [2, ...valid.slice(1)], "bad-version", /version 2/],
      ["dtype 0", [1, 0, ...valid.slice(2)], "unknown-dtype", /dtype code 0/],
      ["dtype 6", [1, 6, ...valid.slice(2)], "unknown-dtype", /dtype code 6/],
      ["rank 0", [1, 2, 0], "bad-rank", /rank 0/],
      ["rank 9", [1, 2, 9, ...new Array(36).fill(0)], "bad-rank", /rank 9/],
      ["zero dim", [1, 2, 2, 0, 0, 0, 1, 0, 0, 0, 0], "zero-dim", /dim 1 is zero/],
      ["one byte missing", valid.slice(0, -1), "length-mismatch", /Expected 19 bytes .* got 18/],
      ["one byte extra", [...valid, 0], "length-mismatch", /Expected 19 bytes .* got 20/],
      ["absurd header", [1, 3, 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], "too-large", /more than 16777216/],
      ["2^24 + 1 elements", [1, 5, 2, 0, 0, 0, 2, 0, 0x80, 0, 1], "too-large", /more than/],
      ["NaN", [1, 3, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0xc0, 0x7f], "non-finite", /element 1 is not finite/],
      ["+Infinity", [1, 3, 1, 0, 0, 0, 1, 0, 0, 0x80, 0x7f], "non-finite", /element 0/],
      ["-Infinity", [1, 3, 1, 0, 0, 0, 1, 0, 0, 0x80, 0xff], "non-finite", /element 0/],
    ];
    for (const [name, bytes, failure, message] of cases) {
      it(`rejects ${name}`, () => {
        const error = decodeFailure(bytes);
        expect(error.failure).to.equal(failure);
        expect(error.message).to.match(message);
      });
    }

    it("accepts exactly 2^24 elements", () => {
      const bytes = new Uint8Array(3 + 4 + (1 << 24));
      bytes.set([1, 5, 1, 1, 0, 0, 0]);
      expect(decodeTensor(bytes).data.length).to.equal(1 << 24);
    });

    it("maps decode failures to on-chain reasons", () => {
      expect(failureReasonOf(decodeFailure([1, 2]))).to.equal(FailureReason.InputUndecodable);
      expect(failureReasonOf(decodeFailure([1, 3, 1, 0xff, 0xff, 0xff, 0xff]))).to.equal(FailureReason.InputTooLarge);
    });

    it("rejects a value that is not bytes", () => {
      expect(() => decodeTensor("0x01" as unknown as Uint8Array))
        .to.throw(TensorDecodeError, /must be a Uint8Array/)
        .with.property("failure", "not-bytes");
    });
  });

  describe("encoding invalid tensors", () => {
    const cases: [string, Tensor, RegExp][] = [
      ["unknown dtype", { dtype: "float64" as never, shape: [1], data: new Float32Array(1) }, /Unknown tensor dtype/],
      [
        "data of the wrong kind",
        { dtype: "int32", shape: [2], data: new Float32Array(2) },
        /Expected a Int32Array, got Float32Array/,
      ],
      ["rank 0", { dtype: "int8", shape: [], data: new Int8Array(1) }, /rank must be 1..8/],
      ["rank 9", { dtype: "int8", shape: new Array(9).fill(1), data: new Int8Array(1) }, /rank must be 1..8/],
      ["a zero dim", { dtype: "int8", shape: [0], data: new Int8Array(0) }, /dim 0 must be an integer/],
      ["a fractional dim", { dtype: "int8", shape: [1.5], data: new Int8Array(1) }, /dim 0/],
      ["a length mismatch", { dtype: "int8", shape: [2, 2], data: new Int8Array(3) }, /needs 4 elements, data has 3/],
      ["NaN", { dtype: "float32", shape: [2], data: new Float32Array([0, NaN]) }, /element 1 is not finite/],
      ["Infinity", { dtype: "float32", shape: [1], data: new Float32Array([Infinity]) }, /element 0 is not finite/],
    ];
    for (const [name, tensor, message] of cases) {
      it(`refuses ${name}`, () => {
        expect(() => encodeTensor(tensor)).to.throw(InvalidTensorError, message);
      });
    }

    it("createTensor refuses values that do not fit the dtype", () => {
      expect(() => createTensor("int8", [1], [128])).to.throw(InvalidTensorError, /value 0 is not a valid int8/);
      expect(() => createTensor("uint8", [1], [-1])).to.throw(InvalidTensorError);
      expect(() => createTensor("int32", [1], [0.5])).to.throw(InvalidTensorError);
      expect(() => createTensor("int64", [1], [2n ** 63n])).to.throw(InvalidTensorError);
    });
  });
});
