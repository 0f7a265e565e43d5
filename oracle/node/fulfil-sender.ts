/**
 * Sends claim-free results of Attested requests (`InferenceMarket.fulfil` / `fulfilBatch`): one
 * transaction per request, or, with `maxItems > 1`, the results that are ready within
 * `windowMs` (or as soon as `maxItems` are) in one `fulfilBatch`. Each caller awaits its own
 * request's outcome: served, or skipped by the market (another provider served or claimed it
 * first, or its deadline passed), so a race costs gas and never a reverted transaction.
 */
import type { TransactionReceipt } from "ethers";
import type { InferenceMarket } from "../chain/connect.ts";
import { marketLogsOf } from "../chain/market-events.ts";
import { ChainRevertError } from "../chain/revert-error.ts";
import type { TxSender } from "../chain/tx-sender.ts";
import type { Logger } from "../log/logger.ts";
import type { RequestParams } from "../chain/request-params.ts";

export type FulfilItem = { requestId: bigint; params: RequestParams; output: Uint8Array };

/** What became of one request sent: served in `receipt` (with `batchSize` requests in all) or skipped. */
export type FulfilOutcome =
  | { served: true; receipt: TransactionReceipt; batchSize: number }
  | { served: false; reason: string; receipt: TransactionReceipt };

export type FulfilSender = { fulfil(item: FulfilItem): Promise<FulfilOutcome> };

export type CreateFulfilSenderParameters = {
  market: InferenceMarket;
  sender: TxSender;
  /** Requests per transaction (1: `fulfil`, else `fulfilBatch`; at most the market's MAX_BATCH). */
  maxItems: number;
  /** How long the first ready result waits for others before its batch is sent. */
  windowMs: number;
  logger: Logger;
};

/** The market's `FulfilSkipReason`, by value. */
const SKIP_REASONS = ["not open", "claimed by another provider", "deadline passed"] as const;
/** Gas a batch may ask for, well under any block's limit, so callbacks cannot make it unsendable. */
const MAX_BATCH_GAS = 12_000_000n;

/**
 * Gas for one request served without a claim: settlement, its stored output (a fresh slot per 32
 * bytes), calldata, and the consumer's whole callback allowance with the 1/64 the EVM keeps
 * back. Estimating instead would fail on a callback that burns all its gas.
 */
export function fulfilItemGas(outputBytes: number, callbackGasLimit: bigint): bigint {
  const words = BigInt(Math.ceil(outputBytes / 32));
  return 60_000n + 22_100n * words + 16n * BigInt(outputBytes) + (callbackGasLimit * 64n) / 63n + 10_000n;
}

/** Gas of a `fulfil` or `fulfilBatch` beside its items: the transaction, the registry call and the
 *  first credits of each party (fresh slots). */
const FULFIL_BASE_GAS = 250_000n;

/** Gas for a `fulfil` or `fulfilBatch` of `items`: the transaction's base and its items. */
export function fulfilGasLimit(items: readonly FulfilItem[]): bigint {
  return items.reduce((sum, i) => sum + fulfilItemGas(i.output.length, i.params.callbackGasLimit), FULFIL_BASE_GAS);
}

export function createFulfilSender({
  market,
  sender,
  maxItems,
  windowMs,
  logger,
}: CreateFulfilSenderParameters): FulfilSender {
  type Pending = { item: FulfilItem; resolve: (o: FulfilOutcome) => void; reject: (e: unknown) => void };
  let queue: Pending[] = [];
  let timer: NodeJS.Timeout | undefined;

  async function sendOne(item: FulfilItem): Promise<FulfilOutcome> {
    const receipt = await sender.send({
      action: `fulfil request ${item.requestId}`,
      transaction: market.fulfil.populateTransaction(item.requestId, item.params, item.output),
      gasLimit: fulfilGasLimit([item]),
    });
    return { served: true, receipt, batchSize: 1 };
  }

  /** Sends `batch` as one `fulfilBatch`; if the market refuses the whole batch (one malformed item),
   *  each item goes alone so the others are not held back by it. */
  async function sendBatch(batch: Pending[]): Promise<void> {
    if (batch.length === 1) {
      const [only] = batch as [Pending];
      return sendOne(only.item).then(only.resolve, only.reject);
    }
    let receipt: TransactionReceipt;
    try {
      receipt = await sender.send({
        action: `fulfil ${batch.length} requests`,
        transaction: market.fulfilBatch.populateTransaction(
          batch.map((p) => p.item.requestId),
          batch.map((p) => p.item.params),
          batch.map((p) => p.item.output),
        ),
        gasLimit: fulfilGasLimit(batch.map((p) => p.item)),
      });
    } catch (error) {
      if (!(error instanceof ChainRevertError)) {
        for (const p of batch) p.reject(error);
        return;
      }
      logger.warn("batch refused, sending its requests one by one", { reason: error.shortMessage });
      await Promise.all(batch.map((p) => sendOne(p.item).then(p.resolve, p.reject)));
      return;
    }
    const skipped = skippedIn(market, receipt);
    const served = batch.length - skipped.size;
    for (const p of batch) {
      const reason = skipped.get(p.item.requestId);
      p.resolve(
        reason === undefined ? { served: true, receipt, batchSize: served } : { served: false, reason, receipt },
      );
    }
  }

  function flush(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    // Take what fits one batch by count and gas; the rest waits for the next window.
    let gas = FULFIL_BASE_GAS;
    let n = 0;
    while (n < queue.length && n < maxItems) {
      const item = queue[n]!.item;
      gas += fulfilItemGas(item.output.length, item.params.callbackGasLimit);
      if (n > 0 && gas > MAX_BATCH_GAS) break;
      n++;
    }
    const batch = queue.slice(0, n);
    queue = queue.slice(n);
    if (queue.length > 0) timer = setTimeout(flush, 0);
    void sendBatch(batch);
  }

  return {
    fulfil(item) {
      if (maxItems <= 1) return sendOne(item);
      return new Promise<FulfilOutcome>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        if (queue.length >= maxItems) flush();
        else timer ??= setTimeout(flush, windowMs);
      });
    },
  };
}

/** The requests a `fulfilBatch` receipt reports skipped, with why. */
function skippedIn(market: InferenceMarket, receipt: TransactionReceipt): Map<bigint, string> {
  const skipped = new Map<bigint, string>();
  for (const event of marketLogsOf(market, receipt)) {
    if (event.name !== "FulfilSkipped") continue;
    const reason = Number(event.args.reason);
    skipped.set(event.args.requestId as bigint, SKIP_REASONS[reason] ?? `reason ${reason}`);
  }
  return skipped;
}
