/** The lines `verity agent create|policy|status` print for a policy, an action table and a trail. */
import { ZeroAddress } from "ethers";
import type { TrailEntry } from "../agents/decision-trail.ts";
import { ArgKind, DecisionKind, InputKind, modeNamesOf, type Action, type Policy } from "../agents/policy.ts";
import { formatAmount, formatTokenAmount } from "./money.ts";

const argNames: Record<number, string> = {
  [ArgKind.None]: "no argument",
  [ArgKind.TaskArg]: "the task's argument",
  [ArgKind.RequestId]: "the request id",
};

export function describeAgentPolicy(
  policy: Policy,
  actions: { decision: bigint; action: Action }[],
  keeperTip: bigint | undefined,
  feeToken: string = ZeroAddress,
): string[] {
  const fee = (amount: bigint) => formatTokenAmount(amount, feeToken);
  const lines = [
    `policy     model ${policy.modelId} (${modeNamesOf(policy.modes).join(" or ")} results), at most ${fee(policy.maxFeePerRequest)} a request, ` +
      `${fee(policy.spendPerPeriod)} per ${policy.period} s with tips, tip at most ${formatAmount(policy.maxKeeperTip)}`,
    `           ${policy.interval === 0 ? "wakes on tasks only" : `wakes every ${policy.interval} s and on tasks`}, ` +
      `request ttl ${policy.requestTtl} s, callback gas ${policy.callbackGasLimit} (action ${policy.actionGasLimit}), ` +
      `task fee ${policy.minTaskFee === 0n ? "none" : fee(policy.minTaskFee)}, providers slashed at most ${policy.maxProviderSlashes} times`,
    policy.inputKind === InputKind.ViewCall
      ? `input      view call ${policy.inputTarget} selector ${policy.inputSelector} (argument: the task's, or the wake count)`
      : policy.inputKind === InputKind.TaskContentId
        ? "input      the task's content id (a CID of the canonical tensor in the content store)"
        : "input      the task's calldata (a canonical tensor)",
    policy.decisionKind === DecisionKind.Argmax
      ? "decision   argmax of the output"
      : `decision   1 if output element ${policy.decisionIndex} >= ${policy.decisionThreshold}, else 0`,
  ];
  if (actions.length === 0) lines.push("actions    none");
  for (const { decision, action } of actions)
    lines.push(
      action.target === ZeroAddress
        ? `action     decision ${decision}: none`
        : `action     decision ${decision}: ${action.target} selector ${action.selector} with ${argNames[action.arg] ?? `arg kind ${action.arg}`}`,
    );
  if (keeperTip !== undefined) lines.push(`keeper tip ${formatAmount(keeperTip)} a wake`);
  return lines;
}

/** One line per wake: request → result → decision → action, with gas and spend. */
export function describeTrail(trail: TrailEntry[], feeToken: string = ZeroAddress): string[] {
  return trail.map((entry) => {
    const source = entry.taskId === undefined ? "scheduled" : `task ${entry.taskId}`;
    const result = entry.result ? `${entry.result.status} (gas ${entry.result.gasUsed})` : "awaiting the result";
    const decision =
      entry.decision !== undefined
        ? `decision ${entry.decision}`
        : entry.skipped
          ? `skipped: ${entry.skipped.description}`
          : entry.result?.status === "Finalized"
            ? "no decision"
            : "-";
    const action = entry.action
      ? `action ${entry.action.selector} on ${entry.action.target} ${entry.action.success ? "done" : "FAILED"}`
      : entry.decision !== undefined
        ? "no action"
        : "";
    return (
      `request ${entry.requestId} (${source}, wake gas ${entry.wake.gasUsed}, fee ${formatTokenAmount(entry.fee, feeToken)}, tip ${formatAmount(entry.tip)}) → ` +
      `${result} → ${decision}${action ? ` → ${action}` : ""}`
    );
  });
}
