import { keccak256, type ContractTransaction, type TransactionReceipt, type Wallet } from "ethers";
import { BaseError } from "../errors.ts";
import { createPipelinedTxSender, type PipelinedTxSenderOptions } from "./pipelined-tx-sender.ts";
import { decodeRevert } from "./revert-error.ts";

export type SendTransactionParameters = {
  /** What the transaction does, for logs and errors ("claim request 7"). */
  action: string;
  transaction: ContractTransaction | Promise<ContractTransaction>;
  /**
   * A gas limit to use instead of an estimate. Needed where the transaction makes an inner call
   * that may run out of gas by design (a consumer callback): estimators then search for a
   * limit at which nothing runs out and fail. The transaction is still simulated with it.
   */
  gasLimit?: bigint | undefined;
  /**
   * Told the transaction's hash and nonce once it is signed and before it is broadcast, so a
   * caller can record it first (a keeper that restarts must know what it already sent).
   */
  onSigned?: ((transaction: { hash: string; nonce: number }) => void) | undefined;
  /**
   * The block the simulation runs against: "latest" (default), or "pending" for a transaction
   * whose success depends on the next block (a keeper's wake that comes due in it).
   */
  simulateAt?: "latest" | "pending" | undefined;
  /** Blocks to wait after inclusion (0 = included is enough). Default: the sender's `confirmations`. */
  confirmations?: number | undefined;
  timeoutMs?: number | undefined;
};

export type TxSender = {
  readonly address: string;
  send(parameters: SendTransactionParameters): Promise<TransactionReceipt>;
};

export type CreateTxSenderOptions = PipelinedTxSenderOptions & {
  /**
   * `pipelined` (default): several transactions in flight, local nonces, fees and receipts read
   * once per block ({@link createPipelinedTxSender}). `serial`: the sender before it, one
   * transaction at a time with every read made for each; kept to measure against.
   */
  kind?: "serial" | "pipelined" | undefined;
  /**
   * Blocks on top of a transaction's block before its receipt counts (`chain.confirmations`),
   * for sends that do not say. The pipelined sender re-sends a transaction whose receipt
   * disappears before then (a reorg); the serial one waits (ethers' `wait`). Default 0.
   */
  confirmations?: number | undefined;
};

/** The account's transaction sender, as `jobs.sender` chooses. */
export function createTxSender(
  wallet: Wallet,
  { kind = "pipelined", confirmations = 0, ...options }: CreateTxSenderOptions = {},
): TxSender {
  const sender = kind === "serial" ? createSerialTxSender(wallet) : createPipelinedTxSender(wallet, options);
  return confirmations === 0 ? sender : withConfirmations(sender, confirmations);
}

/** The sender, with `confirmations` for every send that does not ask for its own. */
function withConfirmations(sender: TxSender, confirmations: number): TxSender {
  return {
    address: sender.address,
    send: (parameters) => sender.send({ ...parameters, confirmations: parameters.confirmations ?? confirmations }),
  };
}

/**
 * Sends transactions from one account one after another. Each is simulated (estimateGas) first,
 * so a revert is reported with its custom error and never consumes a nonce; the nonce is read
 * from the node's pending count, so a restart or a dropped transaction cannot leave a gap.
 */
export function createSerialTxSender(wallet: Wallet): TxSender {
  let queue: Promise<unknown> = Promise.resolve();

  async function broadcast(
    action: string,
    transaction: ContractTransaction,
    fixedGasLimit: bigint | undefined,
    onSigned: SendTransactionParameters["onSigned"],
    blockTag: "latest" | "pending",
  ) {
    const provider = wallet.provider!;
    let gasLimit: bigint;
    try {
      if (fixedGasLimit === undefined)
        // 20 % headroom: estimates are exact for the simulated state, which may move a little.
        gasLimit = ((await provider.estimateGas({ ...transaction, from: wallet.address })) * 12n) / 10n;
      else {
        await provider.call({ ...transaction, from: wallet.address, gasLimit: fixedGasLimit, blockTag });
        gasLimit = fixedGasLimit;
      }
    } catch (error) {
      throw decodeRevert(action, error);
    }
    const nonce = await provider.getTransactionCount(wallet.address, "pending");
    if (!onSigned) return wallet.sendTransaction({ ...transaction, nonce, gasLimit });
    const signed = await wallet.signTransaction(await wallet.populateTransaction({ ...transaction, nonce, gasLimit }));
    onSigned({ hash: keccak256(signed), nonce });
    return provider.broadcastTransaction(signed);
  }

  return {
    address: wallet.address,
    async send({ action, transaction, gasLimit, onSigned, simulateAt = "latest", confirmations = 0, timeoutMs }) {
      const resolved = await transaction;
      const sent = queue.then(() => broadcast(action, resolved, gasLimit, onSigned, simulateAt));
      queue = sent.catch(() => undefined);
      const response = await sent;
      let receipt: TransactionReceipt | null;
      try {
        receipt = await response.wait(confirmations + 1, timeoutMs);
      } catch (error) {
        throw decodeRevert(action, error);
      }
      if (!receipt) throw new BaseError(`${action}: no receipt for ${response.hash}.`);
      return receipt;
    },
  };
}
