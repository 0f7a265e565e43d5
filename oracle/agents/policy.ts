/**
 * An agent's policy as plain values: `IAgentAccount.Policy` and `Action` field for field, the
 * enums and limits of `AgentAccount`, and reading a policy back from the chain. No file parsing
 * (that is `policy-file.ts`), so the SDK can carry it without a schema library.
 */
import { getAddress } from "ethers";
import { VerificationMode } from "../chain/enums.ts";

/** Mirrors `IAgentAccount.InputKind`, `DecisionKind` and `ArgKind`. */
export const InputKind = { ViewCall: 0, TaskCalldata: 1, TaskContentId: 2 } as const;
export const DecisionKind = { Argmax: 0, Threshold: 1 } as const;
export const ArgKind = { None: 0, TaskArg: 1, RequestId: 2 } as const;

/** `IAgentAccount.Policy`, field for field, as plain values. */
export type Policy = {
  modelId: bigint;
  /** Bit `1 << mode` of each accepted `VerificationMode`. */
  modes: number;
  maxFeePerRequest: bigint;
  spendPerPeriod: bigint;
  period: number;
  maxKeeperTip: bigint;
  interval: number;
  requestTtl: number;
  callbackGasLimit: number;
  actionGasLimit: number;
  inputKind: number;
  inputTarget: string;
  inputSelector: string;
  decisionKind: number;
  decisionIndex: number;
  decisionThreshold: number;
  minTaskFee: bigint;
  maxProviderSlashes: bigint;
};

/** `IAgentAccount.Action`: `target` zero means no action for the decision. */
export type Action = { target: string; selector: string; arg: number };

/** What a policy file holds: the policy, the action of each decision it names, and the keeper tip if given. */
export type AgentPolicy = {
  policy: Policy;
  actions: { decision: bigint; action: Action }[];
  keeperTip: bigint | undefined;
};

/**
 * What a result's handling takes besides the action, and the gas kept back for the action's
 * call: `AgentAccount.CALLBACK_GAS_OVERHEAD` and `ACTION_GAS_RESERVE` (the account refuses a
 * policy whose callbackGasLimit is below actionGasLimit + actionGasLimit / 63 + both;
 * test/agents/AgentAccount.test.ts ties them to the contract's).
 */
export const CALLBACK_GAS_OVERHEAD = 80_000;
export const ACTION_GAS_RESERVE = 5_000;
/** `InferenceMarket.MAX_DEADLINE_DELAY`: the longest requestTtl. */
export const MAX_DEADLINE_DELAY = 30 * 86_400;
/** `InferenceMarket.MAX_CALLBACK_GAS`. */
export const MAX_CALLBACK_GAS = 2_000_000;

/** The least callbackGasLimit that leaves an action of `actionGasLimit` its gas. */
export function minCallbackGas(actionGasLimit: number): number {
  return actionGasLimit + Math.floor(actionGasLimit / 63) + ACTION_GAS_RESERVE + CALLBACK_GAS_OVERHEAD;
}

/** `maxProviderSlashes: "any"`: results of any provider are acted on. */
export const ANY_PROVIDER = 2n ** 64n - 1n;

/** Mode names of a policy file, and their `VerificationMode`. */
export const modeNames = {
  attested: VerificationMode.Attested,
  zk: VerificationMode.Zk,
  optimistic: VerificationMode.Optimistic,
};

/** A policy as the chain returns it (`IAgentAccount.policy()`), as plain values. */
export function policyFromChain(output: {
  [K in keyof Policy]: bigint | string | number;
}): Policy {
  const n = (value: bigint | string | number) => Number(value);
  const b = (value: bigint | string | number) => BigInt(value);
  return {
    modelId: b(output.modelId),
    modes: n(output.modes),
    maxFeePerRequest: b(output.maxFeePerRequest),
    spendPerPeriod: b(output.spendPerPeriod),
    period: n(output.period),
    maxKeeperTip: b(output.maxKeeperTip),
    interval: n(output.interval),
    requestTtl: n(output.requestTtl),
    callbackGasLimit: n(output.callbackGasLimit),
    actionGasLimit: n(output.actionGasLimit),
    inputKind: n(output.inputKind),
    inputTarget: getAddress(String(output.inputTarget)),
    inputSelector: String(output.inputSelector).toLowerCase(),
    decisionKind: n(output.decisionKind),
    decisionIndex: n(output.decisionIndex),
    decisionThreshold: n(output.decisionThreshold),
    minTaskFee: b(output.minTaskFee),
    maxProviderSlashes: b(output.maxProviderSlashes),
  };
}

/** The fields in which two policies differ (none: the chain already holds this policy). */
export function policyDifferences(a: Policy, b: Policy): (keyof Policy)[] {
  return (Object.keys(a) as (keyof Policy)[]).filter(
    (key) => String(a[key]).toLowerCase() !== String(b[key]).toLowerCase(),
  );
}

/** The names of the modes in a `modes` bit set (`["zk", "optimistic"]`). */
export function modeNamesOf(modes: number): string[] {
  return Object.entries(modeNames)
    .filter(([, mode]) => (modes & (1 << mode)) !== 0)
    .map(([name]) => name);
}
