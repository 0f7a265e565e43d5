/**
 * `verity expire ID...`: ends requests whose deadline has passed (anyone may), refunding the fee
 * and, if a provider claimed one and did not deliver, its claim penalty to the requester. Prints
 * each id's outcome; exits non-zero if one could not be expired.
 */
import { chainContext, chainOptions, chainUsage, type ChainFlags } from "./chain-context.ts";
import type { Command } from "./command.ts";
import { formatAmount, formatTokenAmount } from "./money.ts";
import { parseId } from "./parse-options.ts";
import { BaseError } from "../errors.ts";
import { expireRequest, type ExpireRequestReturnType } from "../sdk/expire-request.ts";

export const expireCommand: Command = {
  summary: [
    "End requests past their deadline and refund them (anyone may call it, for any request).",
    "",
    "A Pending or Claimed request past its deadline is refunded to its requester, with the claim penalty of a",
    "provider that claimed it and did not deliver; a Challenged one once its games are overdue. The requester",
    "then runs `verity withdraw`. Each id's outcome is printed; the exit code is 1 if any could not be expired.",
  ].join("\n"),
  usage: `ID [ID ...] ${chainUsage}`,
  options: chainOptions,
  async run(values, ids) {
    if (ids.length === 0)
      throw new BaseError("expire needs at least one request id.", { details: [`Usage: verity expire ${this.usage}`] });
    const requestIds = ids.map((id) => parseId("", id, "request"));
    const { suite, provider, deployment } = await chainContext(values as ChainFlags);
    let refused = 0;
    try {
      for (const requestId of requestIds) {
        let result: ExpireRequestReturnType;
        try {
          // Its requester, fee and token come from its InferenceRequested event (the market
          // stores only their commitment), searched from the deployment's first block.
          result = await expireRequest(suite.inferenceMarket, { requestId, fromBlock: deployment.startBlock });
        } catch (error) {
          // One request's refusal does not stop the others.
          refused++;
          console.log(`request ${requestId}: ${error instanceof BaseError ? error.shortMessage : String(error)}`);
          continue;
        }
        if (result.outcome !== "expired") refused++;
        console.log(describeExpiry(result));
      }
    } finally {
      provider.destroy();
    }
    if (refused > 0)
      throw new BaseError(
        `${refused} of ${requestIds.length} request${requestIds.length === 1 ? "" : "s"} not expired.`,
      );
  },
};

function describeExpiry(result: ExpireRequestReturnType): string {
  const id = `request ${result.requestId}`;
  switch (result.outcome) {
    case "expired": {
      const penalty = result.penalty > 0n ? ` and a claim penalty of ${formatAmount(result.penalty)}` : "";
      return `${id}: expired, refunded (${formatTokenAmount(result.amount, result.feeToken)} fee${penalty} credited to ${result.requester}; it withdraws with \`npx verity withdraw\`; tx ${result.transactionHash})`;
    }
    case "not-yet": {
      const at = new Date(Number(result.until) * 1000).toISOString();
      if (result.status === "Submitted")
        return `${id}: Submitted, its result's challenge window ends ${at}; it is then finalized, not expired`;
      if (result.status === "Challenged") return `${id}: Challenged, its games may still end; refundable after ${at}`;
      return `${id}: ${result.status}, its deadline ${at} has not passed`;
    }
    case "final":
      return `${id}: already ${result.status}, nothing to expire`;
    case "unknown":
      return `${id}: no such request`;
  }
}
