import { expect } from "chai";
import { network } from "hardhat";
import {
  CallbackGasEstimateError,
  MAX_CALLBACK_GAS,
  PROBE_MARKET_CODE,
  VERITY_CONSUMER_PENDING_SLOT,
  estimateCallbackGas,
} from "../../oracle/sdk/estimate-callback-gas.ts";
import type * as Contracts from "../../types/ethers-contracts/index.ts";
import { ETH_PRICE, deployAll, outputBytes, paramsOf, tensorHex } from "../contracts/helpers.ts";
import { rejection } from "../util/rejection.ts";

const { ethers, networkHelpers } = await network.create();

const INPUT = "0x0102030405";
/** The iris logits as a classifier delivers them: float32 [1, 3], 23 bytes. */
const OUTPUT = outputBytes([2.5, -1.25, 0.75]);

/**
 * What docs/protocol.md ("The callback"), packages/sdk/README.md and the example's
 * CALLBACK_GAS_LIMIT say its callback needs for an output of n bytes: 30,600 up to 31 bytes
 * (stored with its length in one slot), 30,600 + 22,200 × ceil(n / 32) from 32 bytes on.
 */
function documentedGas(n: number): number {
  return n <= 31 ? 30_600 : 30_600 + 22_200 * Math.ceil(n / 32);
}

async function fixture() {
  const env = await deployAll(ethers);
  const consumer = (await ethers.deployContract("ExampleConsumerGasHarness", [
    env.marketAddress,
    1,
  ])) as unknown as Contracts.ExampleConsumerGasHarness;
  return { ...env, consumer, consumerAddress: await consumer.getAddress() };
}

type Env = Awaited<ReturnType<typeof fixture>>;

async function deadline(): Promise<bigint> {
  return BigInt(await networkHelpers.time.latest()) + 3600n;
}

/** The consumer asks with `gasLimit` for its callback; the provider claims and submits OUTPUT. */
async function settleWith(env: Env, gasLimit: number) {
  await env.consumer.connect(env.requester).askWithGas(INPUT, await deadline(), gasLimit, { value: ETH_PRICE });
  const id = await env.market.requestCount();
  await env.market.connect(env.provider).claim(id);
  return { id, tx: env.market.connect(env.provider).submit(id, await paramsOf(env.market, id), OUTPUT) };
}

describe("estimateCallbackGas (oracle/sdk/estimate-callback-gas.ts)", () => {
  it("estimateCallbackGas: the example consumer's callback succeeds with exactly the gas measured and fails with one less", async () => {
    const env = await networkHelpers.loadFixture(fixture);
    const { market, marketAddress: market_, consumer, consumerAddress: callback } = env;
    // A request not made yet: the next id, marked pending as VerityConsumer will mark it.
    const first = await estimateCallbackGas(ethers.provider, { market: market_, callback, output: OUTPUT });
    expect(first.requestId).to.equal(1n);
    expect(first.gasLimit).to.equal(Math.ceil(first.gasNeeded * 1.25));
    const exact = await settleWith(env, first.gasNeeded);
    await expect(exact.tx).to.emit(market, "CallbackResult").withArgs(exact.id, true);
    expect(await consumer.resultOf(exact.id)).to.equal(OUTPUT);

    const second = await estimateCallbackGas(ethers.provider, { market: market_, callback, output: OUTPUT });
    expect(second.requestId).to.equal(2n);
    expect(second.gasNeeded).to.equal(first.gasNeeded);
    const short = await settleWith(env, second.gasNeeded - 1);
    await expect(short.tx).to.emit(market, "CallbackResult").withArgs(short.id, false);
    expect(await consumer.resultOf(short.id)).to.equal("0x");
    expect(await market.statusOf(short.id)).to.equal(5n); // Finalized all the same
  });

  it("estimateCallbackGas: the example consumer needs the documented gas: 30,600 up to 31 output bytes, 22,200 more per 32-byte word beyond", async () => {
    const { marketAddress: market, consumerAddress: callback } = await networkHelpers.loadFixture(fixture);
    const outputs = [
      OUTPUT, // 23 bytes
      tensorHex("int8", [1, 10], [3, -7, 12, 1]), // 21 bytes
      tensorHex("float32", [1, 16], [1.5, -2, 3.25, 7]), // 75 bytes
      tensorHex("float32", [1, 32], [1.5, -2, 3.25, 7]), // 139 bytes
    ];
    for (const output of outputs) {
      const n = (output.length - 2) / 2;
      const { gasNeeded } = await estimateCallbackGas(ethers.provider, { market, callback, output });
      console.log(`      ${n} output bytes: ${gasNeeded} gas (documented ${documentedGas(n)})`);
      expect(gasNeeded, `${n} bytes`).to.be.within(documentedGas(n) * 0.97, documentedGas(n) * 1.03);
    }
  });

  it("estimateCallbackGas: an open request of the consumer is measured as it stands (markPending false), one it did not make is refused by name", async () => {
    const env = await networkHelpers.loadFixture(fixture);
    const { marketAddress: market, consumerAddress: callback } = env;
    const ahead = await estimateCallbackGas(ethers.provider, { market, callback, output: OUTPUT });
    await env.consumer.connect(env.requester).askWithGas(INPUT, await deadline(), 200_000, { value: ETH_PRICE });
    const open = await estimateCallbackGas(ethers.provider, { market, callback, output: OUTPUT, requestId: 1n });
    expect(open.gasNeeded).to.equal(ahead.gasNeeded);
    // Someone else's request naming the consumer: the consumer refuses it, whatever the gas.
    const error = await rejection(
      estimateCallbackGas(ethers.provider, { market, callback, output: OUTPUT, requestId: 7n, markPending: false }),
    );
    expect(error).to.be.instanceOf(CallbackGasEstimateError);
    expect((error as CallbackGasEstimateError).shortMessage).to.equal(
      `The callback of ${callback} reverts with ConsumerUnknownRequest(7), even with ${MAX_CALLBACK_GAS} gas.`,
    );
    expect((error as CallbackGasEstimateError).details[0]).to.match(/id of a request the consumer made/);
  });

  it("estimateCallbackGas: a callback that calls the market (a withdrawal) is measured against the market's real code and storage", async () => {
    const env = await networkHelpers.loadFixture(fixture);
    const { market, marketAddress } = env;
    const consumer = (await ethers.deployContract("ReentrantConsumer", [
      marketAddress,
    ])) as unknown as Contracts.ReentrantConsumer;
    const callback = await consumer.getAddress();
    await consumer.setWithdrawInCallback(true);
    // Paying twice the price leaves the consumer a credit, which its next callback withdraws.
    await consumer.request(1, INPUT, ETH_PRICE * 2n, await deadline(), 500_000, { value: ETH_PRICE * 2n });
    expect(await market.balanceOf(callback, ethers.ZeroAddress)).to.equal(ETH_PRICE);
    // The consumer keeps no request ids: nothing to mark pending.
    const estimate = await estimateCallbackGas(ethers.provider, {
      market: marketAddress,
      callback,
      output: OUTPUT,
      markPending: false,
    });
    expect(estimate.requestId).to.equal(2n);
    expect(await market.balanceOf(callback, ethers.ZeroAddress)).to.equal(ETH_PRICE); // the estimate changed nothing
    await consumer.request(1, INPUT, ETH_PRICE, await deadline(), estimate.gasNeeded, { value: ETH_PRICE });
    await market.connect(env.provider).claim(2);
    // The withdrawal (an ETH transfer into the consumer's receive) fits the measured gas exactly.
    await expect(market.connect(env.provider).submit(2, await paramsOf(market, 2), OUTPUT))
      .to.emit(market, "CallbackResult")
      .withArgs(2, true);
    expect(await consumer.callbackWithdrew()).to.equal(true);
    expect(await market.balanceOf(callback, ethers.ZeroAddress)).to.equal(0n);
  });

  it("the helper's constants are the contracts': the market's gas cap, the probe's market-code address, the consumer's storage slot", async () => {
    const { market, consumer } = await networkHelpers.loadFixture(fixture);
    const probe = (await ethers.deployContract("CallbackGasProbe")) as unknown as Contracts.CallbackGasProbe;
    expect(await market.MAX_CALLBACK_GAS()).to.equal(BigInt(MAX_CALLBACK_GAS));
    expect(await probe.MAX_CALLBACK_GAS()).to.equal(BigInt(MAX_CALLBACK_GAS));
    expect((await probe.MARKET_CODE()).toLowerCase()).to.equal(PROBE_MARKET_CODE);
    expect(await consumer.PENDING_SLOT()).to.equal(VERITY_CONSUMER_PENDING_SLOT);
  });

  it("estimateCallbackGas: a callback address without code needs no gas; a wrong market address is named", async () => {
    const { marketAddress: market, other } = await networkHelpers.loadFixture(fixture);
    const eoa = await estimateCallbackGas(ethers.provider, { market, callback: other.address, output: OUTPUT });
    expect(eoa.gasNeeded).to.equal(0);
    const error = await rejection(
      estimateCallbackGas(ethers.provider, {
        market: other.address,
        callback: other.address,
        output: OUTPUT,
        requestId: 1n,
      }),
    );
    expect((error as CallbackGasEstimateError).shortMessage).to.equal(
      `No contract at the market address ${other.address}.`,
    );
  });
});
