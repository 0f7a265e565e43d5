import type { HardhatPlugin } from "hardhat/types/plugins";

/**
 * Lets Hardhat sign with the account the Verity CLI uses: the configuration variable
 * VERITY_PRIVATE_KEY (the `accounts` of every public network in hardhat.config.ts) is, when the
 * environment does not set it, the key in the encrypted keystore VERITY_KEYSTORE (Web3 secret
 * storage v3, `npx verity keystore create`), unlocked with VERITY_KEYSTORE_PASSWORD or a
 * password typed on the terminal. Resolved only when a network that needs it is used.
 */
const verityKeystorePlugin: HardhatPlugin = {
  id: "verity-keystore",
  hookHandlers: { configurationVariables: () => import("./verity-keystore-hook.ts") },
};

export default verityKeystorePlugin;
