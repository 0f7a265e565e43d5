/**
 * The pipelined transaction sender against a real chain (Hardhat's, served over JSON-RPC in this
 * process): many sends from one key at once, reverts before and after mining, a dropped
 * transaction, a restart with transactions pending, and how often it reads fees.
 */
import { expect } from "chai";
import { JsonRpcProvider, parseEther, Wallet, type TransactionReceipt } from "ethers";
import { attach, type ProviderRegistry } from "../../oracle/chain/connect.ts";
import { deployContract } from "../../oracle/chain/deploy-suite.ts";
import { ChainRevertError } from "../../oracle/chain/revert-error.ts";
import { createTxSender, type TxSender } from "../../oracle/chain/tx-sender.ts";
import { DEV_PRIVATE_KEYS, rpc, startDevnet, type Devnet } from "../../oracle/devnet/start-devnet.ts";
import { sleep } from "../../oracle/util/retry.ts";

/** A JSON-RPC provider that counts the calls made through it, by method. */
class CountingProvider extends JsonRpcProvider {
  readonly calls = new Map<string, number>();
  override send(method: string, params: unknown[] | Record<string, unknown>): Promise<unknown> {
    this.calls.set(method, (this.calls.get(method) ?? 0) + 1);
    return super.send(method, params);
  }
  count(method: string): number {
    return this.calls.get(method) ?? 0;
  }
}

const recipient = "0x000000000000000000000000000000000000dEaD";
const transfer = (value = 1n) => ({ to: recipient, data: "0x", value });

describe("pipelined tx sender", function () {
  this.timeout(60_000);
  let devnet: Devnet;
  const providers: JsonRpcProvider[] = [];

  function connect(key: string): { wallet: Wallet; provider: CountingProvider } {
    const provider = new CountingProvider(devnet.url, undefined, { cacheTimeout: -1, pollingInterval: 50 });
    providers.push(provider);
    return { wallet: new Wallet(key, provider), provider };
  }
  const senderFor = (wallet: Wallet): TxSender =>
    createTxSender(wallet, { pollIntervalMs: 50, resendAfterBlocks: 2, rpcTimeoutMs: 10_000 });
  const automine = (on: boolean) => rpc(devnet.url, "evm_setAutomine", [on]);
  const nonceOf = async (provider: JsonRpcProvider, receipt: TransactionReceipt) =>
    (await provider.getTransaction(receipt.hash))!.nonce;
  /** Mines a block every 100 ms until `promise` settles (automine off). */
  async function mineUntil<T>(promise: Promise<T>): Promise<T> {
    let settled = false;
    void promise.then(
      () => (settled = true),
      () => (settled = true),
    );
    while (!settled) {
      await rpc(devnet.url, "evm_mine");
      await sleep(100);
    }
    return promise;
  }
  /** Waits until the node holds `count` transactions of `address`, pending included. */
  async function waitForPending(provider: JsonRpcProvider, address: string, count: number) {
    while ((await provider.getTransactionCount(address, "pending")) < count) await sleep(20);
  }

  beforeEach(async () => {
    devnet = await startDevnet({ automine: true });
  });
  afterEach(async () => {
    for (const provider of providers.splice(0)) provider.destroy();
    await devnet.close();
  });

  it("sends 40 transactions at once from one key, all mined with consecutive nonces", async () => {
    const { wallet, provider } = connect(DEV_PRIVATE_KEYS[1]);
    const sender = senderFor(wallet);
    const receipts = await Promise.all(
      Array.from({ length: 40 }, (_, i) => sender.send({ action: `transfer ${i}`, transaction: transfer() })),
    );
    expect(receipts.every((receipt) => receipt.status === 1)).to.equal(true);
    const nonces = (await Promise.all(receipts.map((receipt) => nonceOf(provider, receipt)))).sort((a, b) => a - b);
    expect(nonces).to.deep.equal(Array.from({ length: 40 }, (_, i) => i));
    // One read of the pending count for 40 transactions, not one each.
    expect(provider.count("eth_getTransactionCount")).to.equal(1);
  });

  it("reports a simulated revert by its custom error name and uses no nonce; a revert on-chain uses its nonce", async () => {
    const { wallet, provider } = connect(DEV_PRIVATE_KEYS[2]);
    const registry = attach<ProviderRegistry>(
      "ProviderRegistry",
      await (await deployContract(wallet, "ProviderRegistry", [wallet.address, parseEther("1"), 3600])).getAddress(),
      wallet,
    );
    const sender = senderFor(wallet);
    const before = await provider.getTransactionCount(wallet.address, "pending");
    const refused = await sender
      .send({ action: "unbond", transaction: registry.requestUnbond.populateTransaction(1n) })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(refused).to.be.instanceOf(ChainRevertError);
    expect((refused as ChainRevertError).errorName).to.equal("ProviderInsufficientFreeStake");
    expect(await provider.getTransactionCount(wallet.address, "pending")).to.equal(before);

    await sender.send({ action: "stake", transaction: registry.stake.populateTransaction({ value: 10n }) });
    // Both simulate well against the latest block; the second fails once the first is mined.
    await automine(false);
    const first = sender.send({ action: "unbond 1", transaction: registry.requestUnbond.populateTransaction(10n) });
    const second = sender.send({ action: "unbond 2", transaction: registry.requestUnbond.populateTransaction(10n) });
    await waitForPending(provider, wallet.address, before + 3);
    const third = sender.send({ action: "transfer", transaction: transfer() });
    const [one, two, after] = await mineUntil(Promise.allSettled([first, second, third]));
    // Whichever took the lower nonce succeeded; the other was mined and failed.
    expect([one.status, two.status].sort()).to.deep.equal(["fulfilled", "rejected"]);
    const failed = [one, two].find((result) => result.status === "rejected")!;
    expect(failed.reason).to.be.instanceOf(ChainRevertError);
    expect((failed.reason as ChainRevertError).shortMessage).to.match(/mined and failed/);
    expect(after.status).to.equal("fulfilled");
    const nonce = await nonceOf(provider, (after as PromiseFulfilledResult<TransactionReceipt>).value);
    expect(nonce).to.equal(before + 3);
  });

  it("names the custom error of a transaction the node mined and reverted as it was broadcast (automine)", async () => {
    const { wallet } = connect(DEV_PRIVATE_KEYS[2]);
    const registry = attach<ProviderRegistry>(
      "ProviderRegistry",
      await (await deployContract(wallet, "ProviderRegistry", [wallet.address, parseEther("1"), 3600])).getAddress(),
      wallet,
    );
    const sender = senderFor(wallet);
    await sender.send({ action: "stake", transaction: registry.stake.populateTransaction({ value: 10n }) });
    // Both simulations may pass before either is mined; Hardhat then answers the second
    // broadcast with its revert. Either way the caller sees the contract's error by name.
    const results = await Promise.allSettled(
      [1, 2].map((i) =>
        sender.send({ action: `unbond ${i}`, transaction: registry.requestUnbond.populateTransaction(10n) }),
      ),
    );
    expect(results.map((result) => result.status).sort()).to.deep.equal(["fulfilled", "rejected"]);
    const failed = results.find((result) => result.status === "rejected")!;
    expect(failed.reason).to.be.instanceOf(ChainRevertError);
    expect((failed.reason as ChainRevertError).errorName).to.equal("ProviderInsufficientFreeStake");
    await sender.send({ action: "transfer", transaction: transfer() });
  });

  it("re-sends a transaction dropped from the pool with the same nonce and higher fees", async () => {
    const { wallet, provider } = connect(DEV_PRIVATE_KEYS[3]);
    const sender = senderFor(wallet);
    await automine(false);
    const signed: { hash: string; nonce: number }[] = [];
    const sending = sender.send({
      action: "transfer",
      transaction: transfer(),
      onSigned: (transaction) => signed.push(transaction),
    });
    await waitForPending(provider, wallet.address, 1);
    const dropped = (await provider.getTransaction(signed[0]!.hash))!;
    expect(await rpc(devnet.url, "hardhat_dropTransaction", [signed[0]!.hash])).to.equal(true);
    const receipt = await mineUntil(sending);
    expect(receipt.status).to.equal(1);
    expect(signed.length).to.be.greaterThanOrEqual(2);
    expect(signed.map((s) => s.nonce)).to.deep.equal(signed.map(() => 0));
    expect(receipt.hash).to.equal(signed.at(-1)!.hash);
    // The dropped version is gone for good: only the replacement was mined.
    expect(await provider.getTransaction(signed[0]!.hash)).to.equal(null);
    const mined = (await provider.getTransaction(receipt.hash))!;
    expect(mined.maxPriorityFeePerGas! > dropped.maxPriorityFeePerGas!).to.equal(true);
    expect(mined.maxFeePerGas! > dropped.maxFeePerGas!).to.equal(true);
  });

  it("continues without a nonce gap after a restart with transactions pending", async () => {
    const { wallet, provider } = connect(DEV_PRIVATE_KEYS[4]);
    await automine(false);
    const first = senderFor(wallet);
    const before = Array.from({ length: 3 }, (_, i) => first.send({ action: `before ${i}`, transaction: transfer() }));
    await waitForPending(provider, wallet.address, 3);
    // A new process: a new sender (and provider) on the same key, while the three are in the pool.
    const again = connect(DEV_PRIVATE_KEYS[4]);
    const second = senderFor(again.wallet);
    const after = Array.from({ length: 2 }, (_, i) => second.send({ action: `after ${i}`, transaction: transfer() }));
    const receipts = await mineUntil(Promise.all([...before, ...after]));
    const nonces = await Promise.all(receipts.map((receipt) => nonceOf(provider, receipt)));
    // Concurrent sends take nonces in the order their simulations end: a set without a gap.
    expect(nonces.sort((a, b) => a - b)).to.deep.equal([0, 1, 2, 3, 4]);
  });

  it("reads fee data once per block, however many transactions it sends", async () => {
    const { wallet, provider } = connect(DEV_PRIVATE_KEYS[5]);
    const sender = senderFor(wallet);
    await automine(false);
    const startBlock = await provider.getBlockNumber();
    const sends = Array.from({ length: 20 }, (_, i) =>
      sender.send({ action: `transfer ${i}`, transaction: transfer() }),
    );
    await waitForPending(provider, wallet.address, 20);
    expect(provider.count("eth_maxPriorityFeePerGas")).to.equal(1);
    const receipts = await mineUntil(Promise.all(sends));
    expect(new Set(receipts.map((receipt) => receipt.blockNumber)).size).to.equal(1);
    const blocks = (await provider.getBlockNumber()) - startBlock;
    expect(provider.count("eth_maxPriorityFeePerGas")).to.be.at.most(blocks);
    // And the receipts: looked up when a block comes, not polled per transaction.
    expect(provider.count("eth_getTransactionReceipt")).to.be.at.most(20 * 2);
  });
});
