import { readFileSync } from "node:fs";
import { Wallet } from "ethers";
import { BaseError } from "../errors.ts";

export type LoadSignerKeyParameters = {
  privateKey?: string | undefined;
  keystore?: string | undefined;
  /** The keystore's password (VERITY_KEYSTORE_PASSWORD). */
  password?: string | undefined;
};

/** The signing key from `privateKey`, or decrypted from an encrypted keystore file. */
export function loadSignerKey({ privateKey, keystore, password }: LoadSignerKeyParameters): string {
  if (privateKey) return privateKey;
  if (!keystore)
    throw new BaseError("No private key for the account.", {
      details: ["Set VERITY_PRIVATE_KEY, or a keystore (VERITY_KEYSTORE) and VERITY_KEYSTORE_PASSWORD."],
    });
  if (!password) throw new BaseError(`The keystore ${keystore} needs its password in VERITY_KEYSTORE_PASSWORD.`);
  let json: string;
  try {
    json = readFileSync(keystore, "utf8");
  } catch (cause) {
    throw new BaseError(`Cannot read the keystore ${keystore}.`, { cause });
  }
  try {
    return Wallet.fromEncryptedJsonSync(json, password).privateKey;
  } catch (cause) {
    throw new BaseError(`Cannot decrypt the keystore ${keystore}.`, {
      details: ["Wrong password, or not a Web3 secret storage (v3) file."],
      cause,
    });
  }
}
