import { BaseError } from "../errors.ts";

/** A public network the CLI and `hardhat.config.ts` know by name. */
export type KnownNetwork = {
  /** The chain id the node must report: a URL pointing at another chain is refused. */
  chainId: number;
  /** The environment variable holding its JSON-RPC URL (often with an API key: keep it out of files). */
  rpcUrlVariable: string;
  /** Where a user sees transactions and verified sources. */
  explorer: string;
};

/**
 * The networks named in `hardhat.config.ts` and accepted by `--network` with their chain ids.
 * Any other name (`--network mychain`) is a network of your own: its URL comes from `--rpc` or
 * VERITY_RPC_URL and its chain id from the node.
 */
export const KNOWN_NETWORKS = {
  sepolia: { chainId: 11155111, rpcUrlVariable: "SEPOLIA_RPC_URL", explorer: "https://sepolia.etherscan.io" },
  holesky: { chainId: 17000, rpcUrlVariable: "HOLESKY_RPC_URL", explorer: "https://holesky.etherscan.io" },
  baseSepolia: { chainId: 84532, rpcUrlVariable: "BASE_SEPOLIA_RPC_URL", explorer: "https://sepolia.basescan.org" },
} as const satisfies Record<string, KnownNetwork>;

export type KnownNetworkName = keyof typeof KNOWN_NETWORKS;

/** The chain a command talks to when no network and no URL are given: `npx verity devnet`. */
export const LOCALHOST = { name: "localhost", rpcUrl: "http://127.0.0.1:8545", chainId: 31337 } as const;

export type ResolveNetworkParameters = {
  /** `--network NAME`; default VERITY_NETWORK. */
  network?: string | undefined;
  /** `--rpc URL`: wins over every variable. */
  rpc?: string | undefined;
  /** `--deployment FILE`: wins over the network's file. */
  deployment?: string | undefined;
  env?: Record<string, string | undefined> | undefined;
};

export type ResolvedNetwork = {
  /** The network's name: `localhost` when none was given. */
  name: string;
  rpcUrl: string;
  /** The chain id the node must report, when the name fixes it. */
  chainId?: number | undefined;
  /** The deployment file: `--deployment`, else `deployments/<name>.json` (VERITY_DEPLOYMENT when no network is named). */
  deploymentFile: string;
};

/**
 * Which node and which deployment file a command uses. A named network (`--network`, or
 * VERITY_NETWORK) fixes both: the URL from its variable (`sepolia` → SEPOLIA_RPC_URL; a name of
 * your own → VERITY_RPC_URL) and `deployments/<name>.json`. Without a name: VERITY_RPC_URL
 * (default http://127.0.0.1:8545) and VERITY_DEPLOYMENT (default deployments/localhost.json).
 * `--rpc` and `--deployment` win over all of these.
 */
export function resolveNetwork({
  network,
  rpc,
  deployment,
  env = process.env,
}: ResolveNetworkParameters = {}): ResolvedNetwork {
  const variable = (name: string) => (env[name] === "" ? undefined : env[name]);
  const name = network ?? variable("VERITY_NETWORK");
  if (name === undefined) {
    const rpcUrl = checkUrl(rpc ?? variable("VERITY_RPC_URL") ?? LOCALHOST.rpcUrl, rpc ? "--rpc" : "VERITY_RPC_URL");
    return {
      name: LOCALHOST.name,
      rpcUrl,
      deploymentFile: deployment ?? variable("VERITY_DEPLOYMENT") ?? "deployments/localhost.json",
    };
  }
  if (!/^[A-Za-z][A-Za-z0-9_-]{0,63}$/.test(name))
    throw new BaseError(`--network ${JSON.stringify(name)} is not a network name.`, {
      details: [
        `Use letters, digits, - and _ (it names deployments/<name>.json), e.g. ${Object.keys(KNOWN_NETWORKS).join(", ")}.`,
      ],
    });
  const known = knownNetwork(name);
  const deploymentFile = deployment ?? `deployments/${name}.json`;
  if (rpc !== undefined) return { name, rpcUrl: checkUrl(rpc, "--rpc"), chainId: known?.chainId, deploymentFile };
  if (known !== undefined) {
    const url = variable(known.rpcUrlVariable);
    if (url === undefined)
      throw new BaseError(`The network ${name} needs its JSON-RPC URL in ${known.rpcUrlVariable}.`, {
        details: [`export ${known.rpcUrlVariable}=https://… (your provider's endpoint), or pass --rpc URL.`],
      });
    return { name, rpcUrl: checkUrl(url, known.rpcUrlVariable), chainId: known.chainId, deploymentFile };
  }
  if (name === LOCALHOST.name)
    return {
      name,
      rpcUrl: checkUrl(variable("VERITY_RPC_URL") ?? LOCALHOST.rpcUrl, "VERITY_RPC_URL"),
      deploymentFile,
    };
  const url = variable("VERITY_RPC_URL");
  if (url === undefined)
    throw new BaseError(`The network ${name} needs its JSON-RPC URL: set VERITY_RPC_URL or pass --rpc URL.`, {
      details: [`Known by name (their URL in their own variable): ${knownNetworkList()}.`],
    });
  return { name, rpcUrl: checkUrl(url, "VERITY_RPC_URL"), deploymentFile };
}

/** The known network called `name`, if any. */
export function knownNetwork(name: string): KnownNetwork | undefined {
  return Object.hasOwn(KNOWN_NETWORKS, name) ? KNOWN_NETWORKS[name as KnownNetworkName] : undefined;
}

/** The name a known chain id goes by (`sepolia` for 11155111). */
export function networkNameOf(chainId: number): string | undefined {
  return Object.entries(KNOWN_NETWORKS).find(([, network]) => network.chainId === chainId)?.[0];
}

function knownNetworkList(): string {
  return Object.entries(KNOWN_NETWORKS)
    .map(([name, network]) => `${name} (${network.rpcUrlVariable})`)
    .join(", ");
}

/** An http(s) or ws(s) URL, or a one-line error naming where it came from. */
function checkUrl(url: string, source: string): string {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || !["http:", "https:", "ws:", "wss:"].includes(parsed.protocol))
    throw new BaseError(`${source} is not an http(s) or ws(s) URL.`, {
      details: ["Give the scheme too, e.g. http://127.0.0.1:8545 or https://sepolia.infura.io/v3/KEY."],
    });
  return url;
}
