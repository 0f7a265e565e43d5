import { makeError, type JsonRpcProvider, type TransactionReceipt } from "ethers";
import { BaseError } from "../errors.ts";
import { withRpcTimeout } from "./rpc-timeout.ts";

/** One nonce's transaction as sent, and every replacement of it since. */
export type WatchedTransaction = {
  action: string;
  nonce: number;
  /** Hashes of the versions signed for this nonce, oldest first; `resend` adds to it. */
  hashes: string[];
  /** Blocks from inclusion that make it final (1 = included). */
  confirmations: number;
  /** Signs and broadcasts it again with the same nonce and higher fees. */
  resend(): Promise<void>;
};

export type ReceiptWatcher = {
  /** The newest block seen and when, while watching (the fee cache keys on it). */
  head(): { number: number; seenAt: number } | undefined;
  /** The receipt of whichever version of `transaction` is mined, after its confirmations. */
  wait(transaction: WatchedTransaction, timeoutMs?: number): Promise<TransactionReceipt>;
};

export type CreateReceiptWatcherParameters = {
  provider: JsonRpcProvider;
  /** The sending account, whose mined count tells a nonce used by someone else. */
  address: string;
  pollIntervalMs: number;
  rpcTimeoutMs: number;
  /** Blocks a transaction may stay unmined before it is sent again with higher fees. */
  resendAfterBlocks: number;
  /** Receipt lookups per new block at most (oldest transactions first); the rest wait a block. */
  maxLookupsPerBlock: number;
  /**
   * Sends something (a transfer to self) with `nonce`: a reorg dropped a transaction whose
   * receipt was already handed out, and the transactions after it wait for its nonce forever.
   */
  fillNonceGap?: ((nonce: number) => Promise<void>) | undefined;
  /** Told of a failed poll or resend (both are tried again); for the daemon's log. */
  onError?: ((error: unknown, context: string) => void) | undefined;
};

/** The shortest time between two polls, so that a burst of sends makes one poll, not one each. */
const MIN_POLL_GAP_MS = 20;

type Entry = {
  transaction: WatchedTransaction;
  /** The head when it was (last) sent; -1 until the first head is read. */
  sentAtHead: number;
  receipt: TransactionReceipt | undefined;
  resolve(receipt: TransactionReceipt): void;
  reject(error: unknown): void;
  timer: NodeJS.Timeout | undefined;
};

/**
 * One polling loop for every transaction in flight, instead of one per transaction: each poll
 * reads the block number, and only when a new block came does it look up receipts (a bounded
 * number, batched by ethers into one HTTP request). A transaction left unmined for
 * `resendAfterBlocks` blocks (underpriced, or dropped from the pool) is replaced; a receipt with
 * several confirmations to wait is read again at the end, so a reorg that dropped it is noticed.
 */
export function createReceiptWatcher({
  provider,
  address,
  pollIntervalMs,
  rpcTimeoutMs,
  resendAfterBlocks,
  maxLookupsPerBlock,
  fillNonceGap,
  onError = () => undefined,
}: CreateReceiptWatcherParameters): ReceiptWatcher {
  const entries = new Set<Entry>();
  let head: { number: number; seenAt: number } | undefined;
  let running = false;
  /** Ends the loop's current wait early; set while it waits. */
  let wake: (() => void) | undefined;
  let sends = 0;
  let misses = 0;

  function settle(entry: Entry, outcome: { receipt: TransactionReceipt } | { error: unknown }) {
    if (!entries.delete(entry)) return;
    clearTimeout(entry.timer);
    if ("receipt" in outcome) entry.resolve(outcome.receipt);
    else entry.reject(outcome.error);
  }

  async function receiptOf(entry: Entry): Promise<TransactionReceipt | undefined> {
    const receipts = await Promise.all(
      entry.transaction.hashes.map((hash) =>
        withRpcTimeout(provider.getTransactionReceipt(hash), rpcTimeoutMs, `reading the receipt of ${hash}`),
      ),
    );
    return receipts.find((receipt) => receipt !== null) ?? undefined;
  }

  async function lookUp(entry: Entry, number: number) {
    const previous = entry.receipt;
    const receipt = await receiptOf(entry);
    entry.receipt = receipt;
    if (!receipt) {
      // Mined once and now gone (a reorg): counted as sent now, so it is replaced if it stays out.
      if (previous) entry.sentAtHead = number;
      return;
    }
    if (number - receipt.blockNumber + 1 >= entry.transaction.confirmations) settle(entry, { receipt });
  }

  /**
   * Looks a transaction up as soon as it is sent, while that finds it mined: a node that mines
   * as it receives (automine) then answers in one round trip, as ethers' `wait` does. After
   * three misses in a row (a chain with block times) only one in 20 sends is looked up so, until
   * one is found again.
   */
  function speculate(entry: Entry) {
    sends++;
    if (misses >= 3 && sends % 20 !== 0) return;
    receiptOf(entry).then(
      (receipt) => {
        if (!receipt) return void misses++;
        misses = 0;
        if (entry.transaction.confirmations <= 1) settle(entry, { receipt });
        else entry.receipt ??= receipt;
      },
      (error: unknown) => onError(error, "receipt lookup"),
    );
  }

  async function unstick(entry: Entry, number: number) {
    entry.sentAtHead = number;
    const { transaction } = entry;
    // Count first, then look: a version mined between the two reads is then found.
    const mined = await withRpcTimeout(
      provider.getTransactionCount(address, "latest"),
      rpcTimeoutMs,
      "reading the nonce",
    );
    if (mined > transaction.nonce) {
      await lookUp(entry, number);
      if (!entry.receipt)
        settle(entry, {
          error: new BaseError(`${transaction.action}: nonce ${transaction.nonce} was used by another transaction.`, {
            details: ["Another process may be sending from this account."],
          }),
        });
      return;
    }
    // A nonce below this one is neither mined nor ours in flight: it was dropped after its
    // receipt was handed out (a reorg), and nothing will fill it unless we do.
    const held = new Set([...entries].map((other) => other.transaction.nonce));
    if (mined < transaction.nonce && !held.has(mined) && fillNonceGap) {
      await fillNonceGap(mined);
      return;
    }
    await transaction.resend();
  }

  async function poll() {
    const number = Number(
      await withRpcTimeout(
        provider.send("eth_blockNumber", []) as Promise<string>,
        rpcTimeoutMs,
        "reading the block number",
      ),
    );
    const previous = head?.number ?? -1;
    head = { number, seenAt: Date.now() };
    if (number === previous) return;
    const pending = [...entries];
    for (const entry of pending) if (entry.sentAtHead < 0) entry.sentAtHead = number - 1;
    // Sent before this block was seen and not found yet, or found and now final enough to check again.
    const due = pending
      .filter((entry) =>
        entry.receipt
          ? number - entry.receipt.blockNumber + 1 >= entry.transaction.confirmations
          : entry.sentAtHead < number,
      )
      .slice(0, maxLookupsPerBlock);
    await Promise.all(
      due.map((entry) => lookUp(entry, number).catch((error: unknown) => onError(error, "receipt lookup"))),
    );
    const stuck = pending.filter(
      (entry) => entries.has(entry) && !entry.receipt && number - entry.sentAtHead >= resendAfterBlocks,
    );
    await Promise.all(stuck.map((entry) => unstick(entry, number).catch((error: unknown) => onError(error, "resend"))));
  }

  async function loop() {
    while (entries.size > 0) {
      try {
        await poll();
      } catch (error) {
        onError(error, "poll");
      }
      // Not unref'd: someone awaits each transaction, and a daemon blocked on its receipt (a
      // watchtower's challenge while no block comes) has nothing else keeping it alive; with
      // unref'd timers Node ended it silently, exit code 0, at the first quiet poll.
      // A new transaction cuts the wait short (after a short gap, so a burst is one poll): on a
      // node that mines as it receives (automine) its receipt is there at once.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          wake = undefined;
          resolve();
        }, pollIntervalMs);
        wake = () => {
          clearTimeout(timer);
          wake = undefined;
          setTimeout(resolve, MIN_POLL_GAP_MS);
        };
      });
    }
    running = false;
    head = undefined;
  }

  return {
    head: () => head,
    wait(transaction, timeoutMs) {
      return new Promise<TransactionReceipt>((resolve, reject) => {
        // An idle watcher's head is stale: such a transaction counts its blocks from the next read.
        const entry: Entry = {
          transaction,
          sentAtHead: running && head ? head.number : -1,
          receipt: undefined,
          resolve,
          reject,
          timer: undefined,
        };
        if (timeoutMs !== undefined)
          entry.timer = setTimeout(
            () =>
              settle(entry, {
                error: makeError("wait for transaction timeout", "TIMEOUT", { operation: "wait", reason: "timeout" }),
              }),
            timeoutMs,
          );
        entries.add(entry);
        speculate(entry);
        wake?.();
        if (!running) {
          running = true;
          void loop();
        }
      });
    },
  };
}
