import { readFileSync } from "node:fs";
import { expect } from "chai";
import { network } from "hardhat";
import { getBytes, hexlify } from "ethers";
import { argmax } from "../../oracle/model/argmax.ts";
import { decodeTensor, encodeTensor, TensorDecodeError } from "../../oracle/model/tensor-codec.ts";
import { createTensor, dtypeNames, dtypes, type DType, type Tensor } from "../../oracle/model/tensor.ts";
import {
  errorOfFailure,
  formattedTensorVectors,
  rawValues,
  tensorVectorsPath,
} from "../../scripts/gen-tensor-vectors.ts";
import type { CanonicalTensorHarness } from "../../types/ethers-contracts/index.ts";

const { ethers } = await network.create();

/** A small deterministic generator (mulberry32), so every run checks the same tensors. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomTensor(next: () => number, dtype: DType): Tensor {
  const rank = 1 + Math.floor(next() * 4);
  const shape = Array.from({ length: rank }, () => 1 + Math.floor(next() * 4));
  const count = shape.reduce((a, b) => a * b, 1);
  const values = Array.from({ length: count }, () => {
    const u = next();
    switch (dtype) {
      case "int8":
        return Math.floor(u * 256) - 128;
      case "uint8":
        return Math.floor(u * 256);
      case "int32":
        return Math.floor(u * 2 ** 32) - 2 ** 31;
      case "int64":
        return Math.floor(u * 2 ** 53) - 2 ** 52;
      case "float32":
        return (u - 0.5) * 10 ** Math.floor(next() * 12 - 6);
    }
  });
  return createTensor(dtype, shape, values);
}

/** What the harness returns for the elements of `dtype`, as bigints (float32 as bits). */
async function decodeOnChain(harness: CanonicalTensorHarness, dtype: DType, bytes: string) {
  const call = {
    int8: harness.decodeInt8,
    uint8: harness.decodeUint8,
    int32: harness.decodeInt32,
    int64: harness.decodeInt64,
    float32: harness.decodeFloat32,
  }[dtype];
  const [shape, data] = (await call(bytes)) as unknown as [bigint[], bigint[]];
  return { shape: shape.map(Number), values: data.map(BigInt) };
}

async function encodeOnChain(harness: CanonicalTensorHarness, tensor: Tensor): Promise<string> {
  const values = rawValues(tensor);
  const shape = [...tensor.shape];
  switch (tensor.dtype) {
    case "int8":
      return harness.encodeInt8(shape, values);
    case "uint8":
      return harness.encodeUint8(shape, values);
    case "int32":
      return harness.encodeInt32(shape, values);
    case "int64":
      return harness.encodeInt64(shape, values);
    case "float32":
      return harness.encodeFloat32(shape, values);
  }
}

describe("CanonicalTensor (on-chain, against the TypeScript codec)", () => {
  let harness: CanonicalTensorHarness;
  before(async () => {
    harness = (await ethers.deployContract("CanonicalTensorHarness")) as unknown as CanonicalTensorHarness;
  });

  it("the committed vectors (test/contracts/utils/CanonicalTensorVectors.sol) are what the codec makes now", async () => {
    expect(readFileSync(tensorVectorsPath, "utf8")).to.equal(
      await formattedTensorVectors(),
      "run `npx node scripts/gen-tensor-vectors.ts`",
    );
  });

  it("random tensors of every dtype: the library encodes them to the codec's bytes and decodes the codec's bytes to their shape, elements and argmax", async () => {
    const next = random(0x7e5);
    for (const dtype of dtypeNames)
      for (let k = 0; k < 12; k++) {
        const tensor = randomTensor(next, dtype);
        const bytes = hexlify(encodeTensor(tensor));
        expect(await encodeOnChain(harness, tensor), `${dtype} ${k} encode`).to.equal(bytes);
        const decoded = await decodeOnChain(harness, dtype, bytes);
        expect(decoded.shape).to.deep.equal(tensor.shape);
        expect(decoded.values).to.deep.equal(rawValues(tensor));
        expect(Number(await harness.argmax(bytes)), `${dtype} ${k} argmax`).to.equal(argmax(tensor));
      }
  });

  it("random corruptions of valid bytes: the library refuses exactly what the codec refuses, with the matching error", async () => {
    const next = random(0xbad);
    let refused = 0;
    for (let k = 0; k < 150; k++) {
      const dtype = dtypeNames[Math.floor(next() * dtypeNames.length)]!;
      let bytes = encodeTensor(randomTensor(next, dtype));
      const how = Math.floor(next() * 4);
      if (how === 0) {
        // a random byte anywhere, header included
        bytes = Uint8Array.from(bytes);
        bytes[Math.floor(next() * bytes.length)] = Math.floor(next() * 256);
      } else if (how === 1) bytes = bytes.subarray(0, Math.floor(next() * bytes.length));
      else if (how === 2) bytes = Uint8Array.from([...bytes, Math.floor(next() * 256)]);
      else {
        // a header byte set to a boundary value
        bytes = Uint8Array.from(bytes);
        bytes[Math.floor(next() * 3)] = [0, 1, 2, 5, 6, 8, 9, 255][Math.floor(next() * 8)]!;
      }
      let failure: string | undefined;
      try {
        decodeTensor(bytes);
      } catch (error) {
        if (!(error instanceof TensorDecodeError)) throw error;
        failure = errorOfFailure[error.failure as keyof typeof errorOfFailure];
      }
      const call = harness.decodeHeader(bytes);
      if (failure === undefined) {
        const [code] = await call;
        expect(Number(code), hexlify(bytes)).to.equal(dtypes[decodeTensor(bytes).dtype].code);
      } else {
        refused++;
        await expect(call, hexlify(bytes)).to.be.revertedWithCustomError(harness, failure);
      }
    }
    expect(refused).to.be.greaterThan(75);
  });

  it("argmax and element reads of a classifier's output, as a consumer's callback would", async () => {
    const logits = hexlify(encodeTensor(createTensor("float32", [1, 3], [-0.5, 4.25, 4.0])));
    expect(await harness.argmax(logits)).to.equal(1n);
    const scores = hexlify(encodeTensor(createTensor("int32", [1, 2], [-70000, 123456])));
    expect(await harness.int32At(scores, 1)).to.equal(123456n);
    const classes = hexlify(encodeTensor(createTensor("int8", [1, 4], [-3, 9, 9, -128])));
    expect(await harness.argmax(classes)).to.equal(1n);
    expect(await harness.int8At(classes, 3)).to.equal(-128n);
    const input = getBytes(await harness.toInlineInput(logits));
    expect(input[0]).to.equal(0);
    expect(hexlify(input.subarray(1))).to.equal(logits);
  });
});
