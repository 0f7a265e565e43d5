import { createRequire } from "node:module";
import hardhatToolboxMochaEthers from "@nomicfoundation/hardhat-toolbox-mocha-ethers";
import { configVariable, defineConfig } from "hardhat/config";
import type { NetworkUserConfig } from "hardhat/types/config";
import verityKeystorePlugin from "./deploy/hardhat/verity-keystore-plugin.ts";
import { KNOWN_NETWORKS } from "./oracle/chain/networks.ts";

// Hardhat must never download a compiler: use the wasm build shipped by the npm package `solc`,
// whose version must equal the one named here.
const require = createRequire(import.meta.url);
const solcPath = require.resolve("solc/soljson.js");
const solcVersion = (require("solc/package.json") as { version: string }).version;
const compiler = {
  version: solcVersion,
  path: solcPath,
  settings: { optimizer: { enabled: true, runs: 200 }, evmVersion: "prague" },
};

// Every public network signs with the account the Verity CLI uses: VERITY_PRIVATE_KEY if set,
// else the encrypted keystore VERITY_KEYSTORE (VERITY_KEYSTORE_PASSWORD, or typed at the prompt;
// deploy/hardhat/verity-keystore-plugin.ts). With neither, the node's own accounts ("remote"):
// enough to read and to verify sources, which sign nothing. Configuration variables are read
// only when a network is used, so builds and tests need none of them.
const accounts =
  process.env.VERITY_PRIVATE_KEY || process.env.VERITY_KEYSTORE
    ? [configVariable("VERITY_PRIVATE_KEY")]
    : ("remote" as const);

// sepolia, holesky and baseSepolia (URLs from SEPOLIA_RPC_URL, HOLESKY_RPC_URL,
// BASE_SEPOLIA_RPC_URL: oracle/chain/networks.ts, the table `verity --network` reads too), and
// `custom`: any chain at VERITY_RPC_URL.
const publicNetworks: Record<string, NetworkUserConfig> = Object.fromEntries(
  Object.entries(KNOWN_NETWORKS).map(([name, network]) => [
    name,
    { type: "http", chainType: "l1", url: configVariable(network.rpcUrlVariable), chainId: network.chainId, accounts },
  ]),
);

export default defineConfig({
  plugins: [hardhatToolboxMochaEthers, verityKeystorePlugin],
  solidity: {
    profiles: {
      default: compiler,
      // What Ignition and the verify plugin build with: the same build as every other command, so
      // the bytecode `verity deploy` sends is the bytecode an explorer is shown.
      production: { ...compiler, isolated: false },
    },
  },
  networks: {
    ...publicNetworks,
    custom: { type: "http", chainType: "l1", url: configVariable("VERITY_RPC_URL"), accounts },
  },
  // Holesky is not among Hardhat's built-in chains; Etherscan's v2 API serves it with the same key.
  chainDescriptors: {
    [KNOWN_NETWORKS.holesky.chainId]: {
      name: "Holesky",
      blockExplorers: {
        etherscan: {
          name: "Etherscan",
          url: KNOWN_NETWORKS.holesky.explorer,
          apiUrl: "https://api.etherscan.io/v2/api",
        },
      },
    },
  },
  // Source verification (`npx hardhat run deploy/verify-deployment.ts --network NAME`, or
  // `npx hardhat ignition verify`): Etherscan (one key for every chain it serves) and Sourcify.
  verify: {
    etherscan: { apiKey: configVariable("ETHERSCAN_API_KEY") },
  },
  // Ignition modules live in deploy/modules/, deployment journals in deploy/deployments/.
  paths: { tests: { mocha: "test", solidity: "test" }, ignition: "deploy" },
  test: { solidity: { fuzz: { runs: 256, seed: "0x5eed" } } },
});
