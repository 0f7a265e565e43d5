import type { JsonRpcProvider, Wallet } from "ethers";
import { connectSuite, createRpcProvider, createWallet, type Suite } from "../chain/connect.ts";
import { readDeployment, type Deployment } from "../chain/deployment.ts";
import { loadSignerKey } from "../chain/load-signer-key.ts";
import { createTxSender, type TxSender } from "../chain/tx-sender.ts";
import type { VerityConfig } from "../config/schema.ts";
import { BaseError } from "../errors.ts";

export type DaemonConnection = {
  provider: JsonRpcProvider;
  wallet: Wallet;
  sender: TxSender;
  deployment: Deployment;
  suite: Suite;
};

/**
 * What the provider daemon and the watchtower both start from: the account's key (env or
 * keystore), a reachable node, the deployment (checked against the node's chain id), a
 * transaction sender and the contracts. Fails with a clear error before anything runs.
 */
export async function connectDaemon(config: VerityConfig): Promise<DaemonConnection> {
  const privateKey = await loadSignerKey({
    privateKey: config.privateKey,
    keystore: config.keystore,
    password: process.env.VERITY_KEYSTORE_PASSWORD,
  });
  const provider = createRpcProvider(config.rpcUrl, config.chain.pollIntervalMs);
  const network = await provider.getNetwork().catch((cause: unknown) => {
    provider.destroy();
    throw new BaseError(`Cannot reach the JSON-RPC node at ${config.rpcUrl}.`, {
      details: ["Is the node running? Check rpcUrl / VERITY_RPC_URL."],
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
    sender: createTxSender(wallet, {
      kind: config.jobs.sender,
      pollIntervalMs: config.chain.pollIntervalMs,
      confirmations: config.chain.confirmations,
    }),
    deployment,
    suite: connectSuite(deployment, wallet),
  };
}
