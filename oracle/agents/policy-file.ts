/**
 * An agent's policy as a JSON file (`verity agent create|policy --policy FILE`): every field of
 * `IAgentAccount.Policy` in words (modes by name, amounts in ETH, durations with units, the input
 * source and the decision as small objects, selectors as signatures), the action table and the
 * keeper tip. Validated like the daemon's config (oracle/config/schema.ts): every problem at once,
 * one line per key, and an unknown key (a typo) refused with the nearest known one.
 * docs/agents.md#policy-reference describes every field.
 */
import { getAddress, id, parseUnits } from "ethers";
import { z } from "zod/v4";
import { BaseError } from "../errors.ts";
import { closest } from "../util/closest.ts";
import { parseJsonText } from "../util/parse-json.ts";
import {
  ACTION_GAS_RESERVE,
  ANY_PROVIDER,
  ArgKind,
  CALLBACK_GAS_OVERHEAD,
  DecisionKind,
  InputKind,
  MAX_CALLBACK_GAS,
  MAX_DEADLINE_DELAY,
  minCallbackGas,
  modeNames,
  type AgentPolicy,
  type Policy,
} from "./policy.ts";

export class PolicyFileError extends BaseError {
  override name = "PolicyFileError";
}

const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000";

const UINT32_MAX = 2 ** 32 - 1;
const UINT96_MAX = 2n ** 96n - 1n;

const address = z.string().transform((text, context) => {
  if (/^0x[0-9a-fA-F]{40}$/.test(text)) return getAddress(text.toLowerCase());
  context.issues.push({ code: "custom", input: text, message: "expected a 0x-prefixed 20-byte hex address" });
  return z.NEVER;
});

/** `"featuresOf(uint256)"` (its selector is computed) or `"0x12345678"`. */
const selector = z.string().transform((text, context) => {
  if (/^0x[0-9a-fA-F]{8}$/.test(text)) return text.toLowerCase();
  if (/^[A-Za-z_$][\w$]*\([\w,[\] ]*\)$/.test(text)) return id(text.replace(/\s+/g, "")).slice(0, 10);
  context.issues.push({
    code: "custom",
    input: text,
    message: 'expected a function signature such as "hide(uint256)", or a 4-byte selector "0x…"',
  });
  return z.NEVER;
});

/** An amount of the fee token (ETH for tips): `"0.01"` in whole units of 18 decimals, or `"1000 wei"`. */
const amount = z.union([z.string(), z.literal(0)]).transform((text, context) => {
  const value = parseAmount(String(text));
  if (value === undefined || value > UINT96_MAX) {
    context.issues.push({
      code: "custom",
      input: text,
      message: 'expected an amount: "0.01" (18 decimals, e.g. ETH) or "1000 wei", at most 2^96 - 1 wei',
    });
    return z.NEVER;
  }
  return value;
});

const secondsPer: Record<string, number> = { "": 1, s: 1, m: 60, h: 3600, d: 86_400 };

/** Seconds: an integer, or a string with a unit (`"90s"`, `"10m"`, `"1h"`, `"7d"`). */
const duration = z.union([z.int(), z.string()]).transform((value, context) => {
  const match = typeof value === "string" ? /^(\d+)\s*(s|m|h|d|)$/.exec(value.trim()) : undefined;
  const seconds = typeof value === "number" ? value : match ? Number(match[1]) * secondsPer[match[2]!]! : NaN;
  if (!(Number.isInteger(seconds) && seconds >= 0 && seconds <= UINT32_MAX)) {
    context.issues.push({
      code: "custom",
      input: value,
      message: 'expected a duration: whole seconds, or a string such as "90s", "10m", "1h", "7d"',
    });
    return z.NEVER;
  }
  return seconds;
});

const gas = z.int().min(1).max(UINT32_MAX);

const inputSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("viewCall"), target: address, selector }),
  z.strictObject({ kind: z.literal("taskCalldata") }),
  z.strictObject({ kind: z.literal("taskContentId") }),
]);

const inputKinds = {
  viewCall: InputKind.ViewCall,
  taskCalldata: InputKind.TaskCalldata,
  taskContentId: InputKind.TaskContentId,
} as const;

const decisionSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("argmax") }),
  z.strictObject({
    kind: z.literal("threshold"),
    index: z.int().min(0).max(UINT32_MAX),
    threshold: z
      .int()
      .min(-(2 ** 31))
      .max(2 ** 31 - 1),
  }),
]);

const actionSchema = z.strictObject({
  target: address,
  selector,
  arg: z.enum(["none", "taskArg", "requestId"]).default("none"),
});

export const policyFileSchema = z.strictObject({
  model: z
    .union([z.int().positive(), z.string().regex(/^[1-9]\d*$/)], { error: "expected a model id (digits)" })
    .transform((value) => BigInt(value)),
  modes: z.array(z.enum(["attested", "zk", "optimistic"])).min(1, { error: "expected at least one mode" }),
  maxFeePerRequest: amount,
  spendPerPeriod: amount,
  period: duration,
  maxKeeperTip: amount.prefault(0),
  keeperTip: amount.optional(),
  interval: duration.default(0),
  requestTtl: duration.default(600).refine((seconds) => seconds >= 1 && seconds <= MAX_DEADLINE_DELAY, {
    error: `expected a duration from 1 s to 30 days (the market's longest deadline)`,
  }),
  callbackGasLimit: z.int().min(1).max(MAX_CALLBACK_GAS).default(300_000),
  actionGasLimit: gas.default(100_000),
  input: inputSchema,
  decision: decisionSchema.default({ kind: "argmax" }),
  minTaskFee: amount.prefault(0),
  maxProviderSlashes: z
    .union([z.int().min(0), z.literal("any")], { error: 'expected a number of slashes (0 or more) or "any"' })
    .default(0)
    .transform((value) => (value === "any" ? ANY_PROVIDER : BigInt(value))),
  actions: z
    .record(z.string().regex(/^\d+$/, { error: "expected a decision (digits) as the key" }), actionSchema)
    .default({}),
});

/** Known keys of each object of the file, for "did you mean". */
const knownKeys: Record<string, string[]> = {
  "": Object.keys(policyFileSchema.shape),
  input: ["kind", "target", "selector"],
  decision: ["kind", "index", "threshold"],
  action: Object.keys(actionSchema.shape),
};

/** Reads and checks a policy file's text; `source` names it in errors. */
export function parsePolicyFile(text: string, source: string): AgentPolicy {
  return parsePolicyObject(parseJsonText(text, source), source);
}

/** Checks a policy already parsed from JSON; every problem is one line of the error's details. */
export function parsePolicyObject(value: unknown, source: string): AgentPolicy {
  const result = policyFileSchema.safeParse(value, { reportInput: true });
  if (!result.success)
    throw new PolicyFileError(`${source} is not a valid agent policy.`, {
      details: result.error.issues.flatMap(describeIssue),
    });
  const file = result.data;
  const problems: string[] = [];
  if (file.period === 0) problems.push("period: expected a duration of at least 1 s");
  if (file.callbackGasLimit < minCallbackGas(file.actionGasLimit))
    problems.push(
      `callbackGasLimit: ${file.callbackGasLimit} leaves an action of ${file.actionGasLimit} gas too little: ` +
        `at least ${minCallbackGas(file.actionGasLimit)} (the action's limit, 1/63 of it, and ${CALLBACK_GAS_OVERHEAD + ACTION_GAS_RESERVE} for the decision)`,
    );
  if (file.input.kind !== "viewCall" && file.interval !== 0)
    problems.push(`interval: an agent whose input is ${file.input.kind} runs on tasks only: set interval to 0`);
  if (file.input.kind === "taskContentId" && file.modes.some((mode) => mode !== "attested"))
    problems.push(
      'modes: an agent whose input is taskContentId accepts ["attested"] only (Zk and Optimistic models take inline inputs)',
    );
  if (file.keeperTip !== undefined && file.keeperTip > file.maxKeeperTip)
    problems.push(`keeperTip: ${file.keeperTip} wei is above maxKeeperTip ${file.maxKeeperTip} wei`);
  if (problems.length > 0) throw new PolicyFileError(`${source} is not a valid agent policy.`, { details: problems });

  const policy: Policy = {
    modelId: file.model,
    modes: [...new Set(file.modes)].reduce((bits, mode) => bits | (1 << modeNames[mode]), 0),
    maxFeePerRequest: file.maxFeePerRequest,
    spendPerPeriod: file.spendPerPeriod,
    period: file.period,
    maxKeeperTip: file.maxKeeperTip,
    interval: file.interval,
    requestTtl: file.requestTtl,
    callbackGasLimit: file.callbackGasLimit,
    actionGasLimit: file.actionGasLimit,
    inputKind: inputKinds[file.input.kind],
    inputTarget: file.input.kind === "viewCall" ? file.input.target : ZERO_ADDRESS,
    inputSelector: file.input.kind === "viewCall" ? file.input.selector : "0x00000000",
    decisionKind: file.decision.kind === "argmax" ? DecisionKind.Argmax : DecisionKind.Threshold,
    decisionIndex: file.decision.kind === "threshold" ? file.decision.index : 0,
    decisionThreshold: file.decision.kind === "threshold" ? file.decision.threshold : 0,
    minTaskFee: file.minTaskFee,
    maxProviderSlashes: file.maxProviderSlashes,
  };
  const args = { none: ArgKind.None, taskArg: ArgKind.TaskArg, requestId: ArgKind.RequestId };
  const actions = Object.entries(file.actions)
    .map(([decision, action]) => ({
      decision: BigInt(decision),
      action: { target: action.target, selector: action.selector, arg: args[action.arg] },
    }))
    .sort((a, b) => (a.decision < b.decision ? -1 : 1));
  return { policy, actions, keeperTip: file.keeperTip };
}

function parseAmount(text: string): bigint | undefined {
  const trimmed = text.trim();
  const wei = /^(\d+)\s*wei$/.exec(trimmed);
  if (wei) return BigInt(wei[1]!);
  if (!/^\d+(\.\d{1,18})?$/.test(trimmed) && trimmed !== "0") return undefined;
  return parseUnits(trimmed, 18);
}

function formatPath(keys: readonly PropertyKey[]): string {
  return keys.map((k, i) => (typeof k === "number" ? `[${k}]` : `${i === 0 ? "" : "."}${String(k)}`)).join("");
}

function describeIssue(issue: z.core.$ZodIssue): string[] {
  if (issue.code === "unrecognized_keys") {
    const parent = issue.path.length === 0 ? "" : issue.path[0] === "actions" ? "action" : String(issue.path[0]);
    return issue.keys.map((key) => {
      const hint = closest(key, knownKeys[parent] ?? []);
      return `${formatPath([...issue.path, key])}: unknown key${hint === undefined ? "" : ` (did you mean "${hint}"?)`}`;
    });
  }
  const where = formatPath(issue.path) || "(the file)";
  if ((issue.code === "invalid_type" || issue.code === "invalid_union") && issue.input === undefined)
    return [`${where}: Required`];
  if (issue.code === "invalid_union" && issue.errors.length === 0) {
    const kinds =
      issue.path[0] === "input" ? '"viewCall" | "taskCalldata" | "taskContentId"' : '"argmax" | "threshold"';
    const kind = typeof issue.input === "object" ? (issue.input as { kind?: unknown } | null)?.kind : issue.input;
    return [
      `${formatPath([...issue.path.filter((key) => key !== "kind"), "kind"])}: expected ${kinds}, got ${shown(kind)}`,
    ];
  }
  if (issue.code === "invalid_key") return [`${where}: expected a decision (digits) as the key of an action`];
  let expected: string;
  if (issue.code === "invalid_value") expected = `expected ${issue.values.map((v) => JSON.stringify(v)).join(" | ")}`;
  else if (issue.message.startsWith("expected")) expected = issue.message;
  else if (issue.code === "too_small") expected = `expected at least ${issue.minimum}`;
  else if (issue.code === "too_big") expected = `expected at most ${issue.maximum}`;
  else if (issue.code === "invalid_type") expected = `expected ${issue.expected}`;
  else expected = issue.message;
  return [`${where}: ${expected}, got ${shown(issue.input)}`];
}

function shown(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "string") return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (Array.isArray(value)) return value.length === 0 ? "[]" : "an array";
  if (value === null) return "null";
  if (typeof value === "object") return "an object";
  return String(value);
}
