import { HardhatPluginError } from "hardhat/plugins";
import type { ConfigurationVariableHooks } from "hardhat/types/hooks";
import { loadSignerKey } from "../../oracle/chain/load-signer-key.ts";
import { BaseError } from "../../oracle/errors.ts";

/** The variable that names the signing key in hardhat.config.ts. */
export const SIGNER_KEY_VARIABLE = "VERITY_PRIVATE_KEY";

export default async (): Promise<Partial<ConfigurationVariableHooks>> => {
  let key: Promise<string> | undefined;
  return {
    async fetchValue(context, variable, next) {
      const env = process.env;
      if (variable.name !== SIGNER_KEY_VARIABLE || env[SIGNER_KEY_VARIABLE] || !env.VERITY_KEYSTORE)
        return next(context, variable);
      // Unlocked once per run, however many times the variable is read.
      key ??= loadSignerKey({
        keystore: env.VERITY_KEYSTORE,
        password: env.VERITY_KEYSTORE_PASSWORD || undefined,
      }).catch((error: unknown) => {
        // Hardhat prints a plugin error as one message, without a stack trace.
        if (error instanceof BaseError)
          throw new HardhatPluginError("verity-keystore", [error.shortMessage, ...error.details].join("\n"));
        throw error;
      });
      return key;
    },
  };
};
