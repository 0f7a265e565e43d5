import type { TransactionReceipt } from "ethers";
import { BaseError } from "../errors.ts";
import type { IAgentAccount } from "./agent-contracts.ts";
import { sendAgentTransaction } from "./send-agent-transaction.ts";

/** A wake of an agent that is not due: nothing was sent. */
export class AgentNotDueError extends BaseError {
  override name = "AgentNotDueError";
  /** When the next scheduled wake is due (unix seconds); 0 without a schedule. */
  readonly nextWakeAt: bigint;
  constructor(account: string, nextWakeAt: bigint, reason: string) {
    super(`Agent ${account} is not due: ${reason}.`, {
      details:
        nextWakeAt === 0n
          ? ["It has no schedule (interval 0): it wakes when a task is posted."]
          : [`Its next scheduled wake is at ${new Date(Number(nextWakeAt) * 1000).toISOString()}.`],
    });
    this.nextWakeAt = nextWakeAt;
  }
}

export type WakeAgentReturnType = {
  /** The request it sent; undefined when the wake dropped its task (`dropped`). */
  requestId: bigint | undefined;
  /** The task it served, or undefined for a scheduled wake. */
  taskId: bigint | undefined;
  /** The task was consumed without a request (its input could not be had, or is not the model's), and why. */
  dropped: { reason: number; description: string } | undefined;
  fee: bigint;
  /** Paid to the caller (the keeper) from the budget, in ETH. */
  tip: bigint;
  /** The agent paused itself: its budget no longer covers the next wake. */
  budgetExhausted: boolean;
  receipt: TransactionReceipt;
};

/** Why a wake dropped its task (`TaskDropped.reason`). */
export const DROP_REASONS: Record<number, string> = {
  1: "its input could not be had (the view call reverted or returned nothing, or the task's data is not 32 bytes)",
  2: "its input is not one the model takes (not its canonical input tensor, or not a content id)",
};

/** `type(uint256).max`: the task id of a scheduled wake. */
export const SCHEDULED_WAKE = 2n ** 256n - 1n;

/**
 * Wakes a due agent (anyone may): its oldest waiting task, else its scheduled wake. It requests
 * its model with the input from its policy's source, pays the fee from its budget and the keeper
 * tip to the caller. Checks `isDue()` first, so a wake that is not due or not funded sends
 * nothing (and costs nothing): it throws {@link AgentNotDueError}, or the account's named error.
 */
export async function wakeAgent(account: IAgentAccount): Promise<WakeAgentReturnType> {
  const address = await account.getAddress();
  const [due, nextWakeAt] = await account.isDue();
  if (!due) {
    const paused = await account.paused();
    const [head, count] = await account.tasks();
    const reason = paused
      ? "it is paused"
      : head < count
        ? "a task waits but the agent cannot pay for it now (budget or this period's spend cap)"
        : nextWakeAt === 0n
          ? "no task waits"
          : "no task waits and its next scheduled wake is later";
    throw new AgentNotDueError(address, nextWakeAt, reason);
  }
  const receipt = await sendAgentTransaction(`wake agent ${address}`, account.wake());
  let woken: Omit<WakeAgentReturnType, "receipt" | "budgetExhausted"> | undefined;
  let budgetExhausted = false;
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== address.toLowerCase()) continue;
    const parsed = account.interface.parseLog(log);
    if (parsed?.name === "Woken") {
      const taskId = parsed.args.taskId as bigint;
      woken = {
        requestId: parsed.args.requestId as bigint,
        taskId: taskId === SCHEDULED_WAKE ? undefined : taskId,
        dropped: undefined,
        fee: parsed.args.fee as bigint,
        tip: parsed.args.tip as bigint,
      };
    } else if (parsed?.name === "TaskDropped") {
      const reason = Number(parsed.args.reason);
      woken = {
        requestId: undefined,
        taskId: parsed.args.taskId as bigint,
        dropped: { reason, description: DROP_REASONS[reason] ?? `reason ${reason}` },
        fee: 0n,
        tip: parsed.args.tip as bigint,
      };
    } else if (parsed?.name === "BudgetExhausted") budgetExhausted = true;
  }
  if (!woken) throw new BaseError(`wake: no Woken or TaskDropped event in the receipt of ${receipt.hash}.`);
  return { ...woken, budgetExhausted, receipt };
}
