import {
  isCallException,
  keccak256,
  makeError,
  type ContractTransaction,
  type JsonRpcProvider,
  type TransactionReceipt,
  type Wallet,
} from "ethers";
import { createFeeCache, type Fees } from "./fee-cache.ts";
import { createNonceManager, isNonceError } from "./nonce-manager.ts";
import { createReceiptWatcher, type WatchedTransaction } from "./receipt-watcher.ts";
import { decodeRevert } from "./revert-error.ts";
import { withRpcTimeout } from "./rpc-timeout.ts";
import type { SendTransactionParameters, TxSender } from "./tx-sender.ts";

export type PipelinedTxSenderOptions = {
  /** How often the receipt watcher reads the block number. Default: the provider's polling interval. */
  pollIntervalMs?: number | undefined;
  /** The longest any one node call may take. Default 30 000. */
  rpcTimeoutMs?: number | undefined;
  /** Blocks a transaction may stay unmined before it is replaced with higher fees. Default 3. */
  resendAfterBlocks?: number | undefined;
  /** Receipt lookups per new block at most. Default 256. */
  maxLookupsPerBlock?: number | undefined;
  onError?: ((error: unknown, context: string) => void) | undefined;
};

/**
 * The revert data of a broadcast the node refused because the transaction reverted. Hardhat with
 * automine mines a transaction as it receives it and answers a revert with an error (code 3, the
 * revert data) though the transaction is in a block and its nonce used: such a broadcast counts
 * as sent, and its receipt (status 0) is reported with this data decoded.
 */
function minedRevertOf(error: unknown): { data: string | null } | undefined {
  if (isCallException(error)) return { data: error.data };
  const inner = (error as { error?: { code?: unknown; data?: unknown; message?: unknown } }).error;
  if (!inner || typeof inner !== "object") return undefined;
  if (inner.code === 3 || (typeof inner.message === "string" && /revert/i.test(inner.message)))
    return { data: typeof inner.data === "string" && inner.data.startsWith("0x") ? inner.data : null };
  return undefined;
}

/** A replacement must pay at least 10 % more (geth's default price bump); 12.5 % clears it with rounding. */
const bump = (fee: bigint) => (fee * 1125n) / 1000n + 1n;
const max = (a: bigint, b: bigint) => (a > b ? a : b);
const bumpAll = (fees: Fees): Fees => ({
  maxFeePerGas: bump(fees.maxFeePerGas),
  maxPriorityFeePerGas: bump(fees.maxPriorityFeePerGas),
});

/**
 * Sends transactions from one account with several in flight at once. Per transaction it makes
 * one simulation call and one broadcast; everything else is shared:
 * - the simulation (estimateGas, or eth_call at a fixed limit) runs before a nonce is taken and
 *   concurrently with other sends, so a revert is reported with its custom error and uses no nonce;
 * - nonces come from a local counter ({@link createNonceManager}), read from the node's pending
 *   count at the start and again whenever the node refuses one, so a restart continues without a gap;
 * - fees are read once per block ({@link createFeeCache});
 * - receipts are looked up once per new block for all transactions in flight
 *   ({@link createReceiptWatcher}), which also replaces a transaction left unmined (same nonce,
 *   fees bumped) and reports a mined revert, whose nonce is then used like any other.
 * Only signing and the broadcast happen one at a time, so nonces reach the node in order.
 */
export function createPipelinedTxSender(wallet: Wallet, options: PipelinedTxSenderOptions = {}): TxSender {
  // JSON-RPC: fees, the chain id and the broadcast are read and sent as raw calls.
  const provider = wallet.provider as JsonRpcProvider;
  const {
    pollIntervalMs = provider.pollingInterval,
    rpcTimeoutMs = 30_000,
    resendAfterBlocks = 3,
    maxLookupsPerBlock = 256,
    onError,
  } = options;
  const call = <T>(promise: Promise<T>, what: string) => withRpcTimeout(promise, rpcTimeoutMs, what);

  const watcher = createReceiptWatcher({
    provider,
    address: wallet.address,
    pollIntervalMs,
    rpcTimeoutMs,
    resendAfterBlocks,
    maxLookupsPerBlock,
    // A transfer of nothing to ourselves takes a nonce a reorg left empty; the counter is read
    // again, since it counted the dropped transaction.
    fillNonceGap: async (nonce) => {
      const price = await fees.get();
      const transfer = { to: wallet.address, data: "0x", value: 0n } as ContractTransaction;
      await signAndBroadcast(transfer, nonce, 21_000n, { ...price, ...bumpAll(price) }, undefined);
      nonces.resync();
    },
    onError,
  });
  const fees = createFeeCache({ provider, head: watcher.head, freshMs: 2 * pollIntervalMs + 500, rpcTimeoutMs });
  const nonces = createNonceManager({
    pendingCount: () => call(provider.getTransactionCount(wallet.address, "pending"), "reading the pending nonce"),
  });
  let chainId: Promise<bigint> | undefined;
  const getChainId = () =>
    (chainId ??= call(provider.send("eth_chainId", []) as Promise<string>, "reading the chain id").then(
      BigInt,
      (error: unknown) => {
        chainId = undefined;
        throw error;
      },
    ));

  async function simulate(
    action: string,
    transaction: ContractTransaction,
    fixedGasLimit: bigint | undefined,
    blockTag: "latest" | "pending",
  ): Promise<bigint> {
    try {
      if (fixedGasLimit === undefined)
        // 20 % headroom: estimates are exact for the simulated state, which may move a little.
        return (
          ((await call(
            provider.estimateGas({ ...transaction, from: wallet.address }),
            `estimating gas for ${action}`,
          )) *
            12n) /
          10n
        );
      await call(
        provider.call({ ...transaction, from: wallet.address, gasLimit: fixedGasLimit, blockTag }),
        `simulating ${action}`,
      );
      return fixedGasLimit;
    } catch (error) {
      throw decodeRevert(action, error);
    }
  }

  async function signAndBroadcast(
    transaction: ContractTransaction,
    nonce: number,
    gasLimit: bigint,
    price: Fees,
    onSigned: SendTransactionParameters["onSigned"],
  ): Promise<{ hash: string; revertData?: string | null }> {
    const signed = await wallet.signTransaction({
      type: 2,
      chainId: await getChainId(),
      to: transaction.to,
      data: transaction.data,
      value: transaction.value ?? 0n,
      nonce,
      gasLimit,
      ...price,
    });
    const hash = keccak256(signed);
    onSigned?.({ hash, nonce });
    try {
      await call(provider.send("eth_sendRawTransaction", [signed]) as Promise<string>, `broadcasting ${hash}`);
    } catch (error) {
      const reverted = minedRevertOf(error);
      if (!reverted) throw error;
      return { hash, revertData: reverted.data };
    }
    return { hash };
  }

  return {
    address: wallet.address,
    async send({ action, transaction, gasLimit, onSigned, simulateAt = "latest", confirmations = 0, timeoutMs }) {
      const resolved = await transaction;
      const [limit, price] = await Promise.all([simulate(action, resolved, gasLimit, simulateAt), fees.get()]);
      let current = price;
      const { nonce, hash, revertData } = await nonces.withNext(async (nonce) => ({
        nonce,
        ...(await signAndBroadcast(resolved, nonce, limit, current, onSigned)),
      }));
      const watched: WatchedTransaction = {
        action,
        nonce,
        hashes: [hash],
        // Until its confirmations, a receipt that disappears (a reorg) is waited for again and resent.
        confirmations: confirmations + 1,
        async resend() {
          const now = await fees.get();
          current = {
            maxFeePerGas: max(bump(current.maxFeePerGas), now.maxFeePerGas),
            maxPriorityFeePerGas: max(bump(current.maxPriorityFeePerGas), now.maxPriorityFeePerGas),
          };
          try {
            watched.hashes.push((await signAndBroadcast(resolved, nonce, limit, current, onSigned)).hash);
          } catch (error) {
            // Too low: a version was mined meanwhile (the next lookup finds it). Anything else
            // (underpriced, a node error) is tried again, with fees bumped further, blocks later.
            if (!isNonceError(error)) throw error;
          }
        },
      };
      let receipt: TransactionReceipt;
      try {
        receipt = await watcher.wait(watched, timeoutMs);
      } catch (error) {
        throw decodeRevert(action, error);
      }
      if (receipt.status === 0)
        throw decodeRevert(
          action,
          makeError("transaction execution reverted", "CALL_EXCEPTION", {
            action: "sendTransaction",
            data: receipt.hash === hash ? (revertData ?? null) : null,
            reason: null,
            invocation: null,
            revert: null,
            transaction: { to: receipt.to, from: receipt.from, data: resolved.data },
            receipt,
          }),
        );
      return receipt;
    },
  };
}
