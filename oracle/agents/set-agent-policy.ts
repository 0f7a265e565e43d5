import { ZeroAddress, type TransactionReceipt } from "ethers";
import type { IAgentAccount } from "./agent-contracts.ts";
import { policyDifferences, policyFromChain, type AgentPolicy, type Policy } from "./policy.ts";
import { sendAgentTransaction } from "./send-agent-transaction.ts";

export type SetAgentPolicyParameters = AgentPolicy & {
  /** Leave the policy itself alone (it was just set by `createAgent`): actions and tip only. */
  skipPolicy?: boolean | undefined;
};

/** One transaction `setAgentPolicy` sent: what it set, and its receipt. */
export type PolicyTransaction = { what: string; receipt: TransactionReceipt };

export type SetAgentPolicyReturnType = {
  /** Policy fields that changed (empty: the chain already held this policy). */
  changed: (keyof Policy)[];
  transactions: PolicyTransaction[];
};

/**
 * Brings an agent's account to a policy file: `setPolicy` when a field differs (one
 * `PolicyUpdated` event, the trail of every change), `setAction` for each decision whose action
 * differs, and `setKeeperTip` when the file names a different tip. Only the owner may (the
 * account's signer must be it); nothing is sent for what is already so.
 */
export async function setAgentPolicy(
  account: IAgentAccount,
  { policy, actions, keeperTip, skipPolicy = false }: SetAgentPolicyParameters,
): Promise<SetAgentPolicyReturnType> {
  const transactions: PolicyTransaction[] = [];
  let changed: (keyof Policy)[] = [];
  if (!skipPolicy) {
    changed = policyDifferences(policyFromChain(await account.policy()), policy);
    if (changed.length > 0)
      transactions.push({
        what: `policy (${changed.join(", ")})`,
        receipt: await sendAgentTransaction("set the agent's policy", account.setPolicy(policy)),
      });
  }
  for (const { decision, action } of actions) {
    const current = await account.actionOf(decision);
    const same =
      current.target.toLowerCase() === action.target.toLowerCase() &&
      current.selector.toLowerCase() === action.selector.toLowerCase() &&
      Number(current.arg) === action.arg;
    if (same) continue;
    const what =
      action.target === ZeroAddress ? `no action for decision ${decision}` : `action of decision ${decision}`;
    transactions.push({
      what,
      receipt: await sendAgentTransaction(`set the ${what}`, account.setAction(decision, action)),
    });
  }
  if (keeperTip !== undefined && (await account.keeperTip()) !== keeperTip)
    transactions.push({
      what: "keeper tip",
      receipt: await sendAgentTransaction("set the keeper tip", account.setKeeperTip(keeperTip)),
    });
  return { changed, transactions };
}
