import type { ContractTransactionResponse, TransactionReceipt } from "ethers";
import { decodeRevert } from "../chain/revert-error.ts";
import { BaseError } from "../errors.ts";

/** What to do about the agent contracts' refusals, as an extra line of the error. */
export const agentHints: Record<string, string> = {
  AgentNotOwner: "Only the agent's owner (the holder of its identity token) may do this: use the owner's key.",
  AgentNotOwnerOrOperator: "Only the agent's owner or one of its operators may do this.",
  AgentPaused: "The agent is paused: its owner or an operator unpauses it.",
  AgentNotDue:
    "Nothing is due: no task waits and the next scheduled wake is later (the error's argument, unix seconds; 0: no schedule).",
  AgentFeeTooHigh: "The model's price is above the policy's maxFeePerRequest: raise it (verity agent policy).",
  AgentSpendCapReached: "This period's spend would pass spendPerPeriod: wait for the next period or raise the cap.",
  AgentInsufficientBudget: "Fund the agent (verity agent fund) with at least the fee plus the keeper tip.",
  AgentModeNotAllowed: "The policy's modes do not accept this model's verification mode.",
  AgentTaskFeeTooLow: "A task from anyone but an operator pays at least the policy's minTaskFee.",
  AgentTipTooHigh: "The keeper tip must be at most the policy's maxKeeperTip.",
  AgentInputUnavailable: "The policy's input source (view call) reverted or returned nothing for this argument.",
  AgentPolicyInvalid:
    "The policy could never work: check modes (at least one), period (> 0) and actionGasLimit <= callbackGasLimit.",
  AgentRegistryNotOwner: "Only the agent's owner (or an approved address) may do this.",
  AgentRegistryUnknownAgent: "No agent has this id in the registry.",
};

/** Sends one agent transaction and waits for it; a revert is thrown decoded with its hint from `hints`. */
export async function sendAgentTransaction(
  action: string,
  sent: Promise<ContractTransactionResponse>,
  hints: Record<string, string> = agentHints,
): Promise<TransactionReceipt> {
  try {
    const receipt = await (await sent).wait();
    if (!receipt) throw new BaseError(`${action}: no receipt.`);
    return receipt;
  } catch (error) {
    throw decodeRevert(action, error, hints);
  }
}
