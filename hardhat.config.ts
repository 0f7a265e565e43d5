import { createRequire } from "node:module";
import hardhatToolboxMochaEthers from "@nomicfoundation/hardhat-toolbox-mocha-ethers";
import { defineConfig } from "hardhat/config";

// Hardhat must never download a compiler: use the wasm build shipped by the npm package `solc`,
// whose version must equal the one named here.
const require = createRequire(import.meta.url);
const solcPath = require.resolve("solc/soljson.js");
const solcVersion = (require("solc/package.json") as { version: string }).version;

export default defineConfig({
  plugins: [hardhatToolboxMochaEthers],
  solidity: {
    profiles: {
      default: {
        version: solcVersion,
        path: solcPath,
        settings: { optimizer: { enabled: true, runs: 200 }, evmVersion: "prague" },
      },
    },
  },
  // Ignition modules live in deploy/modules/, deployment journals in deploy/deployments/.
  paths: { tests: { mocha: "test", solidity: "test" }, ignition: "deploy" },
  test: { solidity: { fuzz: { runs: 256, seed: "0x5eed" } } },
});
