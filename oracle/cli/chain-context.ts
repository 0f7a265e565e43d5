import type { JsonRpcProvider, Wallet } from "ethers";
import { redactUrl } from "../chain/redact-url.ts";
import { connectSuite, createRpcProvider, createWallet, type Suite } from "../chain/connect.ts";
import { readDeployment, type Deployment } from "../chain/deployment.ts";
import { loadSignerKey } from "../chain/load-signer-key.ts";
import { networkNameOf, resolveNetwork, type ResolvedNetwork } from "../chain/networks.ts";
import { loadConfig } from "../config/load-config.ts";
import type { VerityConfig } from "../config/schema.ts";
import { BaseError } from "../errors.ts";

export type ChainContext = {
  provider: JsonRpcProvider;
  wallet: Wallet;
  deployment: Deployment;
  suite: Suite;
  network: ResolvedNetwork;
};

/** Options every chain-facing command takes (`--help` prints {@link chainUsage}). */
export const chainOptions = {
  network: { type: "string" },
  rpc: { type: "string" },
  deployment: { type: "string" },
  keystore: { type: "string" },
} as const;

/** The usage text of {@link chainOptions}, for a command's `usage` line. */
export const chainUsage = "[--network NAME] [--rpc URL] [--deployment FILE] [--keystore FILE]";

/** The flags of {@link chainOptions}, as a command's parsed values hold them. */
export type ChainFlags = Record<string, string | boolean | string[] | undefined>;

/**
 * The account's key the way every command takes it: `--keystore FILE` (or VERITY_KEYSTORE),
 * unlocked with VERITY_KEYSTORE_PASSWORD or a password typed on the terminal; or, for
 * development, VERITY_PRIVATE_KEY. A `--keystore` flag wins over VERITY_PRIVATE_KEY.
 */
export async function signerKey(values: ChainFlags, env = process.env): Promise<string> {
  const flag = values.keystore as string | undefined;
  const variable = (name: string) => (env[name] === "" ? undefined : env[name]);
  return loadSignerKey({
    privateKey: variable("VERITY_PRIVATE_KEY"),
    keystore: flag ?? variable("VERITY_KEYSTORE"),
    password: variable("VERITY_KEYSTORE_PASSWORD"),
    keystoreFirst: flag !== undefined,
  });
}

/**
 * The node a command talks to, checked: reachable, and on the chain the network's name fixes
 * (`--network sepolia` refuses a URL of another chain). Returns its chain id.
 */
export async function checkNode(provider: JsonRpcProvider, network: ResolvedNetwork): Promise<number> {
  let chainId: number;
  try {
    chainId = Number((await provider.getNetwork()).chainId);
  } catch (cause) {
    provider.destroy();
    throw new BaseError(`Cannot reach the JSON-RPC node of ${network.name} at ${redactUrl(network.rpcUrl)}.`, {
      details: ["Is the node running, and the URL right (--rpc, VERITY_RPC_URL or the network's variable)?"],
      cause,
    });
  }
  if (network.chainId !== undefined && chainId !== network.chainId) {
    provider.destroy();
    const actual = networkNameOf(chainId);
    throw new BaseError(
      `The node at ${redactUrl(network.rpcUrl)} is chain ${chainId}${actual ? ` (${actual})` : ""}, not ${network.name} (chain ${network.chainId}).`,
      { details: ["Point the network's URL variable (or --rpc) at a node of that chain."] },
    );
  }
  return chainId;
}

/**
 * The account and contracts a one-shot command acts with: the network (`--network NAME` or
 * VERITY_NETWORK; `--rpc` / VERITY_RPC_URL), its deployment (`--deployment`, else
 * `deployments/<network>.json`, else VERITY_DEPLOYMENT) checked against the node's chain id,
 * and the key ({@link signerKey}).
 */
export async function chainContext(values: ChainFlags): Promise<ChainContext> {
  const network = resolveNetwork({
    network: values.network as string | undefined,
    rpc: values.rpc as string | undefined,
    deployment: values.deployment as string | undefined,
  });
  // The cheap checks first (node, chain, file), the password prompt last.
  const provider = createRpcProvider(network.rpcUrl, 250);
  let key: string;
  let deployment: Deployment;
  try {
    const chainId = await checkNode(provider, network);
    deployment = readDeployment(network.deploymentFile);
    if (deployment.chainId !== chainId)
      throw new BaseError(
        `The deployment ${network.deploymentFile} is for chain ${deployment.chainId} but the node is chain ${chainId}.`,
        { details: ["Name the network the deployment was made on (--network NAME), or pass its --deployment FILE."] },
      );
    key = await signerKey(values);
  } catch (error) {
    provider.destroy();
    throw error;
  }
  const wallet = createWallet(key, provider);
  return { provider, wallet, deployment, suite: connectSuite(deployment, wallet), network };
}

/** What `provider start` and `watch` take besides `--config`: the network and the key, as every command. */
export const daemonOptions = {
  config: { type: "string" },
  network: { type: "string" },
  keystore: { type: "string" },
} as const;

/** The usage text of {@link daemonOptions}. */
export const daemonUsage = "[--config FILE] [--network NAME] [--keystore FILE]";

/**
 * The daemon's configuration (`--config FILE`, then the environment), with the flags every
 * command takes applied on top: `--network NAME` (or VERITY_NETWORK) sets `rpcUrl` and
 * `deployment` as for a one-shot command (`deployments/<name>.json`), `--keystore FILE`
 * replaces the configured key. The key is then loaded the same way (connectDaemon).
 */
export function loadDaemonConfig(
  values: ChainFlags,
  env: Record<string, string | undefined> = process.env,
): VerityConfig {
  const named = (values.network as string | undefined) ?? (env.VERITY_NETWORK || undefined);
  const overrides: Record<string, string> = {};
  if (named !== undefined) {
    const network = resolveNetwork({ network: named, env });
    overrides.VERITY_RPC_URL = network.rpcUrl;
    overrides.VERITY_DEPLOYMENT = network.deploymentFile;
  }
  const keystore = values.keystore as string | undefined;
  if (keystore !== undefined) {
    overrides.VERITY_KEYSTORE = keystore;
    overrides.VERITY_PRIVATE_KEY = "";
  }
  const config = loadConfig({ file: values.config as string | undefined, env: { ...env, ...overrides } });
  if (keystore !== undefined) delete config.privateKey;
  return config;
}
