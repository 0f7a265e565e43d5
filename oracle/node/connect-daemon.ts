import type { Wallet } from "ethers";
import { connectSuite, createRpcProvider, createWallet, type Suite } from "../chain/connect.ts";
import { readDeployment, type Deployment } from "../chain/deployment.ts";
import type { FailoverJsonRpcProvider } from "../chain/failover-provider.ts";
import { loadSignerKey } from "../chain/load-signer-key.ts";
import { redactUrl } from "../chain/redact-url.ts";
import { createTxSender } from "../chain/tx-sender.ts";
import type { VerityConfig } from "../config/schema.ts";
import { BaseError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import { trackSends, type TrackedTxSender } from "./track-sends.ts";

export type DaemonConnection = {
  provider: FailoverJsonRpcProvider;
  wallet: Wallet;
  /** Counts its sends under way, for `/health`. */
  sender: TrackedTxSender;
  deployment: Deployment;
  suite: Suite;
};

/**
 * What the provider daemon, the watchtower and the keeper start from: the account's key (env or
 * keystore), a reachable node (the first of `rpcUrls` that answers; the others take over when
 * it is down or hangs, every call bounded by `chain.rpcTimeoutMs`), the deployment (checked
 * against the node's chain id), a transaction sender and the contracts. Fails with a clear
 * error before anything runs.
 */
export async function connectDaemon(config: VerityConfig, logger?: Logger): Promise<DaemonConnection> {
  const privateKey = await loadSignerKey({
    privateKey: config.privateKey,
    keystore: config.keystore,
    password: process.env.VERITY_KEYSTORE_PASSWORD,
  });
  const provider = createRpcProvider(config.rpcUrls, config.chain.pollIntervalMs, {
    timeoutMs: config.chain.rpcTimeoutMs,
    recheckMs: config.chain.rpcRecheckMs,
    onSwitch: (switched) => logger?.warn("JSON-RPC calls moved to another URL", switched),
  });
  const network = await provider.getNetwork().catch((cause: unknown) => {
    provider.destroy();
    const urls = config.rpcUrls.map(redactUrl).join(", ");
    throw new BaseError(`Cannot reach the JSON-RPC node at ${urls}.`, {
      details: ["Is the node running? Check rpcUrl / rpcUrls / VERITY_RPC_URL."],
      cause,
    });
  });
  const deployment: Deployment = config.contracts
    ? { chainId: Number(network.chainId), startBlock: config.chain.startBlock, contracts: config.contracts }
    : readDeployment(config.deployment);
  if (deployment.chainId !== Number(network.chainId)) {
    provider.destroy();
    throw new BaseError(`The deployment is for chain ${deployment.chainId} but the node is chain ${network.chainId}.`);
  }
  const wallet = createWallet(privateKey, provider);
  return {
    provider,
    wallet,
    sender: trackSends(
      createTxSender(wallet, {
        kind: config.jobs.sender,
        pollIntervalMs: config.chain.pollIntervalMs,
        rpcTimeoutMs: config.chain.rpcTimeoutMs,
        confirmations: config.chain.confirmations,
      }),
    ),
    deployment,
    suite: connectSuite(deployment, wallet),
  };
}
