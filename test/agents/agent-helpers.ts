// Shared deployment for the agent contract tests (no side effects: mocha loads every .ts under test/).
import type { HardhatEthers, HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { ContractTransactionResponse } from "ethers";
import { AbiCoder, Interface } from "ethers";
import type * as Contracts from "../../types/ethers-contracts/index.ts";
import type { IAgentAccount } from "../../types/ethers-contracts/agents/IAgentAccount.ts";
import { findRequestParams } from "../../oracle/chain/request-params.ts";
import { deployAll, modelParams, tensorHex, TOKEN_PRICE, ZERO } from "../contracts/helpers.ts";

export type PolicyStruct = IAgentAccount.PolicyStruct;
export type AgentAccount = Contracts.AgentAccount;
export type AgentRegistry = Contracts.AgentRegistry;

export const InputKind = { ViewCall: 0, TaskCalldata: 1, TaskContentId: 2 } as const;
export const DecisionKind = { Argmax: 0, Threshold: 1 } as const;
export const ArgKind = { None: 0, TaskArg: 1, RequestId: 2 } as const;
/** Bits of `Policy.modes`: `1 << VerificationMode`. */
export const Modes = { Attested: 1, Zk: 2, Optimistic: 4, All: 7 } as const;
export const MAX_UINT64 = 2n ** 64n - 1n;
/** The task id of a scheduled wake in events and views. */
export const SCHEDULED = 2n ** 256n - 1n;
export const ETH = 10n ** 18n;
export const TIP = 10n ** 15n;
export const DAY = 86400n;

/** Models the agent tests add to `deployAll`'s (1: ETH float32 [1, 4] → [1, 3], 2: the same in the
 *  token), all int8 [1, 4] in, at ETH_PRICE (the token model at TOKEN_PRICE). */
export const Model = {
  /** Attested, ETH, output float32 [1, 3]: no decision can be read from it. */
  Float: 1n,
  /** Attested, ETH, output int8 [1, 3]. */
  Argmax: 3n,
  /** Zk (a stub verifier that accepts), ETH, output int8 [1, 3]. */
  Zk: 4n,
  /** Attested, the ERC-20, output int8 [1, 3]. */
  Token: 5n,
  /** Attested, ETH, output int32 [1] (an argmax layer's class). */
  Class: 6n,
  /** Attested, ETH, output int8 [1, 3000] (a decision too costly for a tight callback). */
  Big: 7n,
} as const;

/** The canonical int8 [1, 4] input of every agent-test model. */
export const INPUT_TENSOR = tensorHex("int8", [1, 4], [1, -2, 3, -4]);
/** An int8 [1, 3] output whose argmax is `winner`. */
export function argmaxOutput(winner: number): string {
  const values = [0, 0, 0];
  values[winner] = 100;
  return tensorHex("int8", [1, 3], values);
}

/** ABI `uint256` (a ViewCall task's data). */
export function uintArg(value: bigint | number): string {
  return AbiCoder.defaultAbiCoder().encode(["uint256"], [value]);
}

export const puppetInterface = new Interface([
  "function act(uint256)",
  "function ping(uint256)",
  "function actNoArg()",
  "function fail(uint256)",
  "function burn(uint256)",
  "function bomb(uint256)",
]);
export const selectorOf = (name: string) => puppetInterface.getFunction(name)!.selector;
export const FEATURES = new Interface(["function features(uint256) view returns (bytes)"]).getFunction(
  "features",
)!.selector;

/** A policy that works with model 3 on tasks: every mode, caps far above the fees, no schedule. */
export function basePolicy(overrides: Partial<PolicyStruct> = {}): PolicyStruct {
  return {
    modelId: Model.Argmax,
    modes: Modes.All,
    maxFeePerRequest: ETH,
    spendPerPeriod: 10n * ETH,
    period: DAY,
    maxKeeperTip: TIP,
    interval: 0,
    requestTtl: 3600,
    callbackGasLimit: 300_000,
    actionGasLimit: 100_000,
    inputKind: InputKind.TaskCalldata,
    inputTarget: ZERO,
    inputSelector: "0x00000000",
    decisionKind: DecisionKind.Argmax,
    decisionIndex: 0,
    decisionThreshold: 0,
    minTaskFee: 0,
    maxProviderSlashes: MAX_UINT64,
    ...overrides,
  };
}

type Signer = HardhatEthersSigner;

async function deployNamed<T>(ethers: HardhatEthers, name: string, args: unknown[] = []): Promise<T> {
  return (await ethers.deployContract(name, args)) as unknown as T;
}

/** `deployAll` (market, registries, token, models 1-2, `provider` staked) plus the agent-test
 *  models 3-7 served by `provider` and `provider2` (both staked), the agent registry over a
 *  fresh account implementation, an action target and an input source. */
export async function deployAgents(ethers: HardhatEthers) {
  const env = await deployAll(ethers);
  const { models, providers, modelOwner, provider, provider2, tokenAddress } = env;
  const verifier = await deployNamed<Contracts.ProofVerifierStub>(ethers, "ProofVerifierStub");
  await verifier.setAnswer(true);
  const int8 = { inputDtype: 1, outputDtype: 1, outputShape: [1, 3] };
  await models.connect(modelOwner).register(modelParams(int8));
  await models.connect(modelOwner).register(modelParams({ ...int8, mode: 1, verifier: await verifier.getAddress() }));
  await models.connect(modelOwner).register(modelParams({ ...int8, feeToken: tokenAddress, price: TOKEN_PRICE }));
  await models.connect(modelOwner).register(modelParams({ inputDtype: 1, outputDtype: 2, outputShape: [1] }));
  await models.connect(modelOwner).register(modelParams({ inputDtype: 1, outputDtype: 1, outputShape: [1, 3000] }));
  await providers.connect(provider2).stake({ value: 10n ** 18n });
  for (const p of [provider, provider2]) for (let id = 3; id <= 7; id++) await providers.connect(p).optIn(id);
  // Spare stake so that claims (each reserves the claim penalty) never run short.
  await providers.connect(provider).stake({ value: 5n * 10n ** 18n });
  await providers.connect(provider2).stake({ value: 5n * 10n ** 18n });

  const implementation = await deployNamed<AgentAccount>(ethers, "AgentAccount");
  const registry = await deployNamed<AgentRegistry>(ethers, "AgentRegistry", [
    env.marketAddress,
    await implementation.getAddress(),
  ]);
  const puppet = await deployNamed<Contracts.AgentPuppet>(ethers, "AgentPuppet");
  const source = await deployNamed<Contracts.AgentInputSource>(ethers, "AgentInputSource");
  await source.setDefault(INPUT_TENSOR);
  const signers = await ethers.getSigners();
  return {
    ...env,
    verifier,
    implementation,
    registry,
    registryAddress: await registry.getAddress(),
    puppet,
    puppetAddress: await puppet.getAddress(),
    source,
    sourceAddress: await source.getAddress(),
    owner: signers[7]!,
    operator: signers[8]!,
    keeper: signers[9]!,
    keeper2: signers[10]!,
    stranger: signers[11]!,
  };
}

export type AgentEnv = Awaited<ReturnType<typeof deployAgents>>;

/** Creates an agent owned by `owner` (default `env.owner`) and returns its id and account. */
export async function createAgent(
  ethers: HardhatEthers,
  env: AgentEnv,
  policy: PolicyStruct = basePolicy(),
  { owner = env.owner, uri = "ipfs://agent" }: { owner?: Signer; uri?: string } = {},
) {
  const registry = env.registry.connect(owner);
  const [agentId, address] = await registry.createAgent.staticCall(uri, policy);
  await (await registry.createAgent(uri, policy)).wait();
  const account = (await ethers.getContractAt("AgentAccount", address, owner)) as unknown as AgentAccount;
  return { agentId, account, address };
}

/** The request id a transaction's `Woken` event names. */
export async function wokenRequestId(account: AgentAccount, tx: ContractTransactionResponse): Promise<bigint> {
  const receipt = (await tx.wait())!;
  for (const log of receipt.logs) {
    const parsed = account.interface.parseLog(log);
    if (parsed?.name === "Woken") return parsed.args.requestId as bigint;
  }
  throw new Error("no Woken event");
}

/** A call frame of a traced transaction: the call's opcode, its depth, the callee and the gas it
 *  used (its own execution and everything it called, not the caller's cost of the call). */
export type Frame = { op: string; depth: number; to: string; gasUsed: bigint };

/** Every call frame of transaction `hash`, in order (`debug_traceTransaction` struct logs). */
export async function callFrames(ethers: HardhatEthers, hash: string): Promise<Frame[]> {
  type Log = { op: string; depth: number; gas: number; gasCost: number; stack?: string[] };
  const { structLogs } = (await ethers.provider.send("debug_traceTransaction", [
    hash,
    { disableMemory: true, disableStorage: true },
  ])) as { structLogs: Log[] };
  const frames: Frame[] = [];
  for (let i = 0; i + 1 < structLogs.length; i++) {
    const call = structLogs[i]!;
    if (structLogs[i + 1]!.depth <= call.depth) continue;
    let j = i + 1;
    while (j < structLogs.length && structLogs[j]!.depth > call.depth) j++;
    if (j === structLogs.length) continue;
    // Gas the caller lost over the call, less the call's own cost (what it charged beyond what it forwarded).
    const used = call.gas - structLogs[j]!.gas - (call.gasCost - structLogs[i + 1]!.gas);
    const to = "0x" + BigInt(call.stack!.at(-2)!).toString(16).padStart(40, "0");
    frames.push({ op: call.op, depth: call.depth, to, gasUsed: BigInt(used) });
  }
  return frames;
}

/** `provider` (default `env.provider`) claims `requestId` and submits `output` (Attested). */
export async function serve(env: AgentEnv, requestId: bigint, output: string, provider: Signer = env.provider) {
  await (await env.market.connect(provider).claim(requestId)).wait();
  const params = await findRequestParams(env.market, requestId);
  return (await env.market.connect(provider).submit(requestId, params, output)).wait();
}
