/**
 * The keeper role: watches the configured agents and calls `wake` on a due one when the tip it
 * pays (from the agent's budget) covers the wake's gas at the current fee. Anyone may keep an
 * agent; keepers race, and the chain pays one wake (a second reverts with `AgentNotDue`). So a
 * keeper never sends a wake it can see would fail: it reads `isDue()` and simulates the wake
 * against the pending block first (another keeper's wake waiting in the node's pool counts),
 * keeps at most one wake in flight per agent, and records each wake's hash before broadcasting
 * it (`stateDir/keeper.json`), so that after a crash or a kill it waits for that wake instead of
 * sending a second one. A lost race is logged quietly, not retried.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { getAddress, isAddress, ZeroAddress, type JsonRpcProvider, type TransactionReceipt } from "ethers";
import {
  connectAgentAccount,
  connectAgentRegistry,
  type IAgentAccount,
  type IAgentRegistry,
} from "../agents/agent-contracts.ts";
import { agentHints } from "../agents/send-agent-transaction.ts";
import { DROP_REASONS, SCHEDULED_WAKE } from "../agents/wake-agent.ts";
import type { Deployment } from "../chain/deployment.ts";
import { ChainRevertError, decodeRevert } from "../chain/revert-error.ts";
import type { TxSender } from "../chain/tx-sender.ts";
import type { VerityConfig } from "../config/schema.ts";
import type { Logger } from "../log/logger.ts";
import { sleep } from "../util/retry.ts";

export type KeeperContext = {
  provider: JsonRpcProvider;
  sender: TxSender;
  deployment: Deployment;
  keeper: VerityConfig["keeper"];
  /** Used when `keeper.pollIntervalMs` is not set. */
  pollIntervalMs: number;
  stateDir: string;
  logger: Logger;
  signal: AbortSignal;
};

/** A wake this keeper sent and has not seen the end of, as recorded in `keeper.json`. */
type SentWake = { hash: string; nonce: number; sentAt: number };

type KeeperState = { chainId: number; wakes: Record<string, SentWake> };

type Agent = {
  /** As configured: an id or an address. */
  ref: string;
  agentId: bigint | undefined;
  account: IAgentAccount | undefined;
  address: string | undefined;
  /** The wake in flight, if any (its receipt is awaited apart from the loop). */
  inFlight: Promise<void> | undefined;
  /** The last thing logged about why it was not woken, so a reason is logged once, not every poll. */
  lastSkip: string | undefined;
};

/**
 * A recorded wake the node has not known of for this long never reached it (the process died
 * between signing and broadcasting) or was dropped: it is forgotten. The node knows a
 * transaction it accepted at once; this leaves room for a load-balanced RPC's replicas.
 */
const DROPPED_AFTER_MS = 5_000;

/**
 * Runs the keeper role until `signal` aborts: every `keeper.pollIntervalMs` (or `pollIntervalMs`)
 * it looks at each agent and wakes the due ones worth it. Returns once the wakes in flight are
 * settled or recorded.
 */
export async function runKeeper(context: KeeperContext): Promise<void> {
  const keeper = createKeeper(context);
  const { logger, signal } = context;
  const interval = context.keeper.pollIntervalMs ?? context.pollIntervalMs;
  logger.info("keeper started", {
    account: context.sender.address,
    agents: context.keeper.agents,
    pollIntervalMs: interval,
  });
  let failed = 0;
  try {
    while (!signal.aborted) {
      try {
        await keeper.tick();
        failed = 0;
      } catch (error) {
        failed++;
        logger.warn("keeper poll failed, retrying", { failedPolls: failed, error });
      }
      await sleep(Math.min(interval * 2 ** Math.min(failed, 5), 30_000), signal).catch(() => undefined);
    }
  } finally {
    await keeper.settle();
    logger.info("keeper stopped");
  }
}

export type Keeper = {
  /** One look at every agent: wakes those due and worth it. */
  tick(): Promise<void>;
  /** Waits for the wakes in flight (each ends logged, or stays recorded for the next start). */
  settle(): Promise<void>;
};

export function createKeeper({
  provider,
  sender,
  deployment,
  keeper,
  stateDir,
  logger,
  signal,
}: KeeperContext): Keeper {
  const stateFile = path.join(stateDir, "keeper.json");
  const state = readState(stateFile, deployment.chainId);
  const minTipOverGas = BigInt(keeper.minTipOverGas);
  let registry: IAgentRegistry | undefined;
  const agents: Agent[] = keeper.agents.map((ref) => ({
    ref,
    agentId: undefined,
    account: undefined,
    address: undefined,
    inFlight: undefined,
    lastSkip: undefined,
  }));
  const save = () => writeState(stateFile, state);

  /** The agent's account, resolved once (an id through the registry). */
  async function resolve(agent: Agent): Promise<boolean> {
    if (agent.account) return true;
    if (isAddress(agent.ref)) {
      agent.address = getAddress(agent.ref);
      agent.account = connectAgentAccount(agent.address, provider);
      agent.agentId = await agent.account.identity().then(
        ([, id]) => id,
        () => undefined,
      );
    } else {
      registry ??= connectAgentRegistry(deployment, provider);
      const address = await registry.accountOf(BigInt(agent.ref));
      if (address === ZeroAddress) {
        skip(agent, "unknown", `agent ${agent.ref} has no account in the registry (yet)`, "warn");
        return false;
      }
      agent.agentId = BigInt(agent.ref);
      agent.address = getAddress(address);
      agent.account = connectAgentAccount(agent.address, provider);
    }
    const recorded = state.wakes[agent.address.toLowerCase()];
    if (recorded) {
      logger.info("a wake sent before the restart is still to be seen: waiting for it, not sending another", {
        ...fields(agent),
        transactionHash: recorded.hash,
      });
      agent.inFlight = follow(agent, recorded).finally(() => (agent.inFlight = undefined));
    }
    return true;
  }

  /** Logs why an agent was not woken, once per reason in a row. */
  function skip(agent: Agent, key: string, msg: string, level: "debug" | "info" | "warn", extra = {}): void {
    if (agent.lastSkip === key) return logger.debug(msg, { ...fields(agent), ...extra });
    agent.lastSkip = key;
    logger[level](msg, { ...fields(agent), ...extra });
  }

  function fields(agent: Agent) {
    return { agent: agent.ref, agentId: agent.agentId, account: agent.address };
  }

  async function look(agent: Agent): Promise<void> {
    if (agent.inFlight || signal.aborted || !(await resolve(agent))) return;
    // A wake recorded before a restart is followed from here (resolve found it): not another.
    if (agent.inFlight) return;
    const account = agent.account!;
    // The pending block: a wake another keeper sent and the node holds counts already.
    const [due, nextWakeAt] = await account.isDue({ blockTag: "pending" });
    if (!due) return skip(agent, `not due ${nextWakeAt}`, "agent not due", "debug", { nextWakeAt });
    const [tip, feeData] = await Promise.all([account.keeperTip(), provider.getFeeData()]);
    let gas: bigint;
    try {
      // Against the pending block too (the wake lands in the next one): `provider.estimateGas`
      // would drop the block tag.
      const transaction = {
        to: agent.address,
        from: sender.address,
        data: account.interface.encodeFunctionData("wake"),
      };
      gas = BigInt(await provider.send("eth_estimateGas", [provider.getRpcTransaction(transaction), "pending"]));
    } catch (error) {
      const decoded = decodeRevert("wake", error, agentHints);
      if (decoded instanceof ChainRevertError && decoded.errorName === "AgentNotDue")
        return skip(agent, "lost", "wake lost the race: another keeper woke the agent first", "info");
      const name = decoded instanceof ChainRevertError ? (decoded.errorName ?? "revert") : "error";
      return skip(agent, `refused ${name}`, "wake would revert, not sent", "warn", { error: decoded });
    }
    // What the wake would pay a gas now (the node's price: base fee plus a priority fee), not the
    // most it may pay (maxFeePerGas, twice the base fee).
    const feePerGas = feeData.gasPrice ?? feeData.maxFeePerGas ?? 0n;
    const gasCost = gas * feePerGas;
    if (tip < gasCost + minTipOverGas)
      return skip(
        agent,
        `unpaid ${tip}`,
        "wake not worth its gas: tip below gas cost plus keeper.minTipOverGas",
        "info",
        {
          tip,
          gas,
          gasCost,
          minTipOverGas,
        },
      );
    if (signal.aborted) return;
    agent.lastSkip = undefined;
    let recorded: SentWake | undefined;
    const sending = sender.send({
      action: `wake agent ${agent.ref}`,
      transaction: account.wake.populateTransaction(),
      gasLimit: (gas * 13n) / 10n,
      simulateAt: "pending",
      onSigned: ({ hash, nonce }) => {
        recorded = { hash, nonce, sentAt: Date.now() };
        state.wakes[agent.address!.toLowerCase()] = recorded;
        save();
        logger.info("wake sent", { ...fields(agent), transactionHash: hash, tip, gasCost });
      },
    });
    agent.inFlight = sending
      .then(
        (receipt) => {
          report(agent, receipt);
          forget(agent, recorded);
        },
        async (error: unknown) => {
          const decoded = decodeRevert("wake", error, agentHints);
          if (recorded === undefined) {
            // Refused before it was signed: nothing was sent.
            if (decoded instanceof ChainRevertError && decoded.errorName === "AgentNotDue")
              logger.info("wake lost the race: another keeper woke the agent first", fields(agent));
            else logger.warn("wake failed before it was sent", { ...fields(agent), error: decoded });
            return;
          }
          // Sent: its end is read from the chain by its hash (a revert there is a lost race).
          await follow(agent, recorded);
        },
      )
      .finally(() => (agent.inFlight = undefined));
  }

  /**
   * The end of a wake sent earlier (before a restart, or whose wait failed), looked up by its
   * hash until it is mined, or forgotten once the node has dropped it. A stop leaves it recorded.
   */
  async function follow(agent: Agent, wake: SentWake): Promise<void> {
    const since = Date.now();
    while (!signal.aborted) {
      try {
        const receipt = await provider.getTransactionReceipt(wake.hash);
        if (receipt) {
          report(agent, receipt);
          return forget(agent, wake);
        }
        const known = await provider.getTransaction(wake.hash);
        // Unknown to the node: never broadcast (the process died between signing and sending),
        // dropped, or replaced (its nonce used by another transaction). It will not be mined.
        const nonceUsed = !known && (await provider.getTransactionCount(sender.address, "latest")) > wake.nonce;
        if (!known && (nonceUsed || Date.now() - since > DROPPED_AFTER_MS)) {
          logger.info("a wake sent earlier never reached the chain: forgotten, the agent is looked at again", {
            ...fields(agent),
            transactionHash: wake.hash,
          });
          return forget(agent, wake);
        }
      } catch (error) {
        logger.debug("could not read a wake in flight, will retry", { ...fields(agent), error });
      }
      await sleep(500, signal).catch(() => undefined);
    }
  }

  function forget(agent: Agent, wake: SentWake | undefined): void {
    const key = agent.address!.toLowerCase();
    if (wake && state.wakes[key]?.hash === wake.hash) {
      delete state.wakes[key];
      save();
    }
  }

  function report(agent: Agent, receipt: TransactionReceipt): void {
    const account = agent.account!;
    if (receipt.status !== 1) {
      // Mined and reverted: another keeper's wake got into the block first.
      logger.info("wake lost the race: another keeper woke the agent first", {
        ...fields(agent),
        transactionHash: receipt.hash,
        gasUsed: receipt.gasUsed,
      });
      return;
    }
    for (const log of receipt.logs) {
      if (log.address.toLowerCase() !== agent.address!.toLowerCase()) continue;
      const parsed = account.interface.parseLog(log);
      if (parsed?.name === "Woken") {
        const taskId = parsed.args.taskId as bigint;
        logger.info("agent woken", {
          ...fields(agent),
          requestId: parsed.args.requestId as bigint,
          taskId: taskId === SCHEDULED_WAKE ? "scheduled" : taskId,
          fee: parsed.args.fee as bigint,
          tip: parsed.args.tip as bigint,
          gasUsed: receipt.gasUsed,
          gasCost: receipt.gasUsed * receipt.gasPrice,
          transactionHash: receipt.hash,
        });
      } else if (parsed?.name === "TaskDropped") {
        const reason = Number(parsed.args.reason);
        logger.info("agent woken: it dropped its task without a request", {
          ...fields(agent),
          taskId: parsed.args.taskId as bigint,
          reason: DROP_REASONS[reason] ?? reason,
          tip: parsed.args.tip as bigint,
          gasUsed: receipt.gasUsed,
          gasCost: receipt.gasUsed * receipt.gasPrice,
          transactionHash: receipt.hash,
        });
      } else if (parsed?.name === "BudgetExhausted")
        logger.warn("agent's budget exhausted: it paused itself", {
          ...fields(agent),
          balance: parsed.args.balance as bigint,
          needed: parsed.args.needed as bigint,
        });
    }
  }

  return {
    async tick() {
      for (const agent of agents) {
        if (signal.aborted) return;
        try {
          await look(agent);
        } catch (error) {
          skip(agent, "error", "keeper could not look at the agent, will retry", "warn", { error });
        }
      }
    },
    async settle() {
      await Promise.allSettled(agents.map((agent) => agent.inFlight));
    },
  };
}

function readState(file: string, chainId: number): KeeperState {
  if (!existsSync(file)) return { chainId, wakes: {} };
  try {
    const parsed = JSON.parse(readFileSync(file, "utf8")) as KeeperState;
    // Another chain's (a devnet started again): its wakes mean nothing here.
    if (parsed.chainId === chainId && parsed.wakes && typeof parsed.wakes === "object") return parsed;
  } catch {
    // A file cut short by a crash: nothing sent is known; isDue at the pending block still guards.
  }
  return { chainId, wakes: {} };
}

/** Written beside and renamed, so a kill never leaves half a file. */
function writeState(file: string, state: KeeperState): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, JSON.stringify(state, null, 2));
  renameSync(temp, file);
}
