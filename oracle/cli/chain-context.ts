import { connectSuite, createRpcProvider, createWallet, type Suite } from "../chain/connect.ts";
import { readDeployment, type Deployment } from "../chain/deployment.ts";
import { loadSignerKey } from "../chain/load-signer-key.ts";
import type { JsonRpcProvider, Wallet } from "ethers";

export type ChainContext = { provider: JsonRpcProvider; wallet: Wallet; deployment: Deployment; suite: Suite };

/** Options every chain-facing command takes. */
export const chainOptions = {
  rpc: { type: "string" },
  deployment: { type: "string" },
} as const;

/**
 * The account and contracts a one-shot command acts with: `--rpc` (or VERITY_RPC_URL),
 * `--deployment` (or VERITY_DEPLOYMENT) and the key in VERITY_PRIVATE_KEY (or the keystore in
 * VERITY_KEYSTORE, unlocked with VERITY_KEYSTORE_PASSWORD).
 */
export function chainContext(values: Record<string, string | boolean | undefined>): ChainContext {
  const rpcUrl = (values.rpc as string | undefined) ?? process.env.VERITY_RPC_URL ?? "http://127.0.0.1:8545";
  const file =
    (values.deployment as string | undefined) ?? process.env.VERITY_DEPLOYMENT ?? "deployments/localhost.json";
  const key = loadSignerKey({
    privateKey: process.env.VERITY_PRIVATE_KEY,
    keystore: process.env.VERITY_KEYSTORE,
    password: process.env.VERITY_KEYSTORE_PASSWORD,
  });
  const provider = createRpcProvider(rpcUrl, 250);
  const wallet = createWallet(key, provider);
  const deployment = readDeployment(file);
  return { provider, wallet, deployment, suite: connectSuite(deployment, wallet) };
}
